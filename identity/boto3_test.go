package identity_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cogauth/cogauth/identity"
	"github.com/cogauth/cogauth/internal/peers"
)

// Environment of the credential_process helper (this test binary run again).
const (
	helperEnv         = "COGAUTH_IDENTITY_CREDENTIAL_PROCESS"
	helperEndpointEnv = "COGAUTH_IDENTITY_HELPER_ENDPOINT"
	helperPoolEnv     = "COGAUTH_IDENTITY_HELPER_POOL"
	helperTokenEnv    = "COGAUTH_IDENTITY_HELPER_ID_TOKEN"
)

// TestHelperCredentialProcess is not a test: it is the credential_process program
// boto3 runs in TestBoto3CredentialProcess (the test binary started again with
// -test.run), doing what `cogauth credentials --format process` does with the
// library: credentials from the identity pool, printed by ProcessJSON.
func TestHelperCredentialProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		return
	}
	c, err := identity.New(identity.Options{IdentityPoolID: os.Getenv(helperPoolEnv), Endpoint: os.Getenv(helperEndpointEnv)})
	if err == nil {
		var creds identity.Credentials
		if creds, err = c.Credentials(context.Background(), os.Getenv(helperTokenEnv)); err == nil {
			var out []byte
			if out, err = identity.ProcessJSON(creds); err == nil {
				os.Stdout.Write(out)
				os.Exit(0)
			}
		}
	}
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

// boto3 uses a profile whose credential_process prints ProcessJSON, and lists a
// bucket on moto's S3 with those credentials. The same through the built
// `cogauth credentials --format process` belongs with the CLI command's tests.
func TestBoto3CredentialProcess(t *testing.T) {
	py := peers.Python(t, "boto3")
	motoURL := peers.Moto(t)
	v := newEnv(t)
	tok := v.idToken(t, "alice")

	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	config := fmt.Sprintf("[profile cognito]\nregion = us-east-1\ncredential_process = %s -test.run=^TestHelperCredentialProcess$\n", self)
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	script := `
import sys, boto3
s = boto3.Session(profile_name="cognito")
c = s.get_credentials().get_frozen_credentials()
s3 = s.client("s3", endpoint_url=sys.argv[1])
s3.create_bucket(Bucket="boto3-cognito")
s3.put_object(Bucket="boto3-cognito", Key="k.txt", Body=b"v")
keys = [o["Key"] for o in s3.list_objects_v2(Bucket="boto3-cognito")["Contents"]]
print(c.access_key[:4], bool(c.token), ",".join(keys))
`
	cmd := exec.Command(py, "-c", script, motoURL)
	cmd.Env = append(filterEnv(os.Environ()),
		"AWS_CONFIG_FILE="+filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "credentials"),
		helperEnv+"=1",
		helperEndpointEnv+"="+v.srv.URL,
		helperPoolEnv+"="+v.open,
		helperTokenEnv+"="+tok,
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "ASIA True k.txt" {
		t.Fatalf("boto3 printed %q", got)
	}
	// boto3 asked once: one GetCredentialsForIdentity.
	v.wantCounts(t, 1, 1)
}

// filterEnv drops the parent's AWS variables, so that boto3 can only use the
// profile's credential_process.
func filterEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, "AWS_") {
			out = append(out, kv)
		}
	}
	return out
}
