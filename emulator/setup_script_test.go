package emulator_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/internal/peers"
	"github.com/cogauth/cogauth/jwt"
)

// awsCLIv2 is the AWS CLI v2 binary (Debian package awscli), named explicitly:
// a pyenv v1 shim may come first on PATH.
func awsCLIv2(t *testing.T) string {
	t.Helper()
	const bin = "/usr/bin/aws"
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "aws-cli/2.") {
		peers.Missing(t, "AWS CLI v2 (/usr/bin/aws)", "run scripts/peers.sh (Debian package awscli)")
		return ""
	}
	return bin
}

// TestSetupWithAWSCLIAndBoto3: a set-up script written for real Cognito (AWS CLI
// v2: pool, resource server, clients, domain, group with role, identity pool with
// role mapping) runs unchanged against the emulator; boto3 reads it all back and
// sees the role mapping applied (STS GetCallerIdentity with the identity pool's
// credentials); the machine client gets a client_credentials token with the
// custom scope.
func TestSetupWithAWSCLIAndBoto3(t *testing.T) {
	aws := awsCLIv2(t)
	py := peers.Python(t, "boto3")
	if aws == "" || py == "" {
		return
	}
	srv := emulator.NewServer(emulator.Options{})
	t.Cleanup(srv.Close)
	root := peers.RepoRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(root, "test", "setup", "cognito-setup.sh"), srv.URL, aws)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	made, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("set-up script: %v\n%s", err, stderr)
	}
	var ids struct{ PoolID, MachineClientID, WebClientID, IdentityPoolID string }
	if err := json.Unmarshal(made, &ids); err != nil {
		t.Fatalf("%v: %s", err, made)
	}
	if !strings.HasPrefix(ids.PoolID, "eu-west-1_") || !strings.HasPrefix(ids.IdentityPoolID, "eu-west-1:") {
		t.Errorf("IDs %+v: the CLI signed for eu-west-1", ids)
	}
	raw, err := exec.CommandContext(ctx, py, filepath.Join(root, "test", "python", "setup_check.py"), srv.URL, string(made)).Output()
	if err != nil {
		t.Fatalf("boto3 read-back: %v", err)
	}
	var got struct {
		PoolName          string            `json:"poolName"`
		MinimumLength     int               `json:"minimumLength"`
		Scopes            []string          `json:"scopes"`
		DomainPool        string            `json:"domainPool"`
		MachineScopes     []string          `json:"machineScopes"`
		MachineSecret     string            `json:"machineSecret"`
		GroupRole         string            `json:"groupRole"`
		Members           []string          `json:"members"`
		Tags              map[string]string `json:"tags"`
		AuthenticatedRole string            `json:"authenticatedRole"`
		RoleMappingType   string            `json:"roleMappingType"`
		TokenMapped       string            `json:"tokenMappedCaller"`
		RulesMapped       string            `json:"rulesMappedCaller"`
		Denied            string            `json:"deniedByRules"`
		DeveloperCaller   string            `json:"developerCaller"`
		DeveloperLookup   bool              `json:"developerLookup"`
		DeveloperProvider string            `json:"developerProvider"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	if got.PoolName != "infra" || got.MinimumLength != 10 || !slices.Equal(got.Scopes, []string{"read", "write"}) ||
		got.DomainPool != ids.PoolID || !slices.Equal(got.MachineScopes, []string{"orders/read"}) ||
		got.GroupRole != "arn:aws:iam::123456789012:role/admins" || !slices.Equal(got.Members, []string{"dana"}) ||
		got.Tags["team"] != "auth" || got.AuthenticatedRole != "arn:aws:iam::123456789012:role/signed-in" || got.RoleMappingType != "Token" {
		t.Errorf("read back: %+v", got)
	}
	// The role mapping is applied: dana's group role through the token-based
	// mapping, then the rules-based one, then Deny when no rule matches.
	if got.TokenMapped != "arn:aws:sts::123456789012:assumed-role/admins/CognitoIdentityCredentials" ||
		got.RulesMapped != "arn:aws:sts::123456789012:assumed-role/example-users/CognitoIdentityCredentials" ||
		got.Denied != "NotAuthorizedException" {
		t.Errorf("role mapping as boto3 sees it: token %s, rules %s, no rule %s", got.TokenMapped, got.RulesMapped, got.Denied)
	}
	if got.DeveloperCaller != "arn:aws:sts::123456789012:assumed-role/signed-in/CognitoIdentityCredentials" || !got.DeveloperLookup || got.DeveloperProvider != "login.infra.app" {
		t.Errorf("developer identity as boto3 sees it: caller %s, lookup %v, provider %q", got.DeveloperCaller, got.DeveloperLookup, got.DeveloperProvider)
	}

	// The machine client's token carries the resource server's scope.
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"orders/read"}}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(ids.MachineClientID, got.MachineSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != 200 {
		t.Fatalf("client_credentials: %d %v", resp.StatusCode, err)
	}
	at, err := jwt.Decode(tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if s := at.Claims().Scope; s != "orders/read" {
		t.Errorf("client_credentials scope %q", s)
	}
	// A scope no resource server defines is refused for a new client.
	_, ae := call(t, srv, "CreateUserPoolClient", map[string]any{"UserPoolId": ids.PoolID, "ClientName": "bad", "GenerateSecret": true,
		"AllowedOAuthFlows": []string{"client_credentials"}, "AllowedOAuthScopes": []string{"orders/delete"}, "AllowedOAuthFlowsUserPoolClient": true})
	wantErr(t, ae, "ScopeDoesNotExistException", "orders/delete")
}
