package main

import (
	"bytes"
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cogauth/cogauth/identity"
	"github.com/cogauth/cogauth/jwt"
)

func TestExecEnvDropsStaleVariables(t *testing.T) {
	parent := []string{
		"PATH=/usr/bin",
		"HOME=/home/u",
		"AWS_ACCESS_KEY_ID=AKIASTALE",
		"AWS_SECRET_ACCESS_KEY=stale",
		"AWS_SESSION_TOKEN=stale",
		"AWS_SECURITY_TOKEN=stale",
		"AWS_PROFILE=prod",
		"AWS_DEFAULT_PROFILE=prod",
		"AWS_REGION=ap-south-1",
		"AWS_DEFAULT_REGION=ap-south-1",
		"AWS_ROLE_ARN=arn:aws:iam::1:role/x",
		"AWS_WEB_IDENTITY_TOKEN_FILE=/tmp/t",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI=http://169.254.170.2/creds",
		"AWS_ENDPOINT_URL=http://127.0.0.1:5000", // where to talk: kept
		"AWS_CONFIG_FILE=/etc/aws/config",        // kept
		"MY_AWS_ACCESS_KEY_ID=unrelated",         // not an AWS variable
	}
	got := awsExecEnv(parent, execTestCreds(), "eu-central-1")
	want := []string{
		"PATH=/usr/bin",
		"HOME=/home/u",
		"AWS_ENDPOINT_URL=http://127.0.0.1:5000",
		"AWS_CONFIG_FILE=/etc/aws/config",
		"MY_AWS_ACCESS_KEY_ID=unrelated",
		"AWS_ACCESS_KEY_ID=ASIAEXAMPLE123456789",
		"AWS_SECRET_ACCESS_KEY=" + execTestSecret,
		"AWS_SESSION_TOKEN=" + execTestToken,
		"AWS_CREDENTIAL_EXPIRATION=2025-07-01T10:30:00Z",
		"AWS_REGION=eu-central-1",
		"AWS_DEFAULT_REGION=eu-central-1",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("ExecEnv =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestExecPassesExitCodeAndEnvironment(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	parent := []string{"PATH=/usr/bin:/bin", "AWS_PROFILE=prod", "AWS_ACCESS_KEY_ID=AKIASTALE"}
	for _, tc := range []struct {
		name   string
		script string
		code   int
		out    string
	}{
		{"success", `printf '%s %s %s' "$AWS_ACCESS_KEY_ID" "${AWS_PROFILE-unset}" "$AWS_REGION"`, 0, "ASIAEXAMPLE123456789 unset us-west-2"},
		{"exit code", `exit 7`, 7, ""},
		{"killed by a signal", `kill -TERM $$`, 128 + 15, ""},
		{"stdin reaches the child", `cat`, 0, "hello"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			code, err := runWithCredentials(context.Background(), execTestCreds(), "us-west-2", []string{sh, "-c", tc.script},
				childOptions{Env: parent, Stdout: &out, Stderr: &out, Stdin: strings.NewReader("hello")})
			if err != nil {
				t.Fatal(err)
			}
			if code != tc.code || out.String() != tc.out {
				t.Fatalf("exit %d, output %q; want %d, %q", code, out.String(), tc.code, tc.out)
			}
		})
	}
}

func TestExecErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := runWithCredentials(ctx, execTestCreds(), "", nil, childOptions{}); err == nil {
		t.Error("no command: no error")
	}
	if _, err := runWithCredentials(ctx, identity.Credentials{}, "", []string{"true"}, childOptions{}); err == nil {
		t.Error("no credentials: no error")
	}
	_, err := runWithCredentials(ctx, execTestCreds(), "", []string{"/nonexistent/cogauth-test-program"}, childOptions{Env: []string{}})
	if err == nil {
		t.Fatal("missing program: no error")
	}
	if strings.Contains(err.Error(), execTestSecret) || strings.Contains(err.Error(), execTestToken) {
		t.Fatal("the error holds a secret")
	}
}

// execTestCreds are credentials that look real, for the child's environment.
func execTestCreds() identity.Credentials {
	return identity.Credentials{
		AccessKeyID:     "ASIAEXAMPLE123456789",
		SecretAccessKey: jwt.Secret(execTestSecret),
		SessionToken:    jwt.Secret(execTestToken),
		Expiration:      time.Date(2025, 7, 1, 12, 30, 0, 0, time.FixedZone("CEST", 2*3600)),
		IdentityID:      "us-east-1:11111111-2222-4333-8444-555555555555",
	}
}

const (
	execTestSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	execTestToken  = "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN+/="
)

func TestEnvLinesInAShell(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	c := execTestCreds()
	lines := awsEnvLines(c, "eu-west-1'; echo pwned '")
	script := lines + `printf '%s|%s|%s|%s|%s|%s' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN" "$AWS_CREDENTIAL_EXPIRATION" "$AWS_REGION" "$AWS_DEFAULT_REGION"`
	out, err := exec.Command(sh, "-c", script).Output()
	if err != nil {
		t.Fatal(err)
	}
	region := "eu-west-1'; echo pwned '"
	want := strings.Join([]string{c.AccessKeyID, execTestSecret, execTestToken, "2025-07-01T10:30:00Z", region, region}, "|")
	if string(out) != want {
		t.Fatalf("the shell read\n%s\nwant\n%s", out, want)
	}
}
