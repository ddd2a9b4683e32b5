package identity_test

import (
	"bytes"
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/cogauth/cogauth/identity"
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
	got := identity.ExecEnv(parent, testCreds(), "eu-central-1")
	want := []string{
		"PATH=/usr/bin",
		"HOME=/home/u",
		"AWS_ENDPOINT_URL=http://127.0.0.1:5000",
		"AWS_CONFIG_FILE=/etc/aws/config",
		"MY_AWS_ACCESS_KEY_ID=unrelated",
		"AWS_ACCESS_KEY_ID=ASIAEXAMPLE123456789",
		"AWS_SECRET_ACCESS_KEY=" + testSecret,
		"AWS_SESSION_TOKEN=" + testToken,
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
			code, err := identity.Exec(context.Background(), testCreds(), "us-west-2", []string{sh, "-c", tc.script},
				identity.ExecOptions{Env: parent, Stdout: &out, Stderr: &out, Stdin: strings.NewReader("hello")})
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
	if _, err := identity.Exec(ctx, testCreds(), "", nil, identity.ExecOptions{}); err == nil {
		t.Error("no command: no error")
	}
	if _, err := identity.Exec(ctx, identity.Credentials{}, "", []string{"true"}, identity.ExecOptions{}); err == nil {
		t.Error("no credentials: no error")
	}
	_, err := identity.Exec(ctx, testCreds(), "", []string{"/nonexistent/cogauth-test-program"}, identity.ExecOptions{Env: []string{}})
	if err == nil {
		t.Fatal("missing program: no error")
	}
	if strings.Contains(err.Error(), testSecret) || strings.Contains(err.Error(), testToken) {
		t.Fatal("the error holds a secret")
	}
}
