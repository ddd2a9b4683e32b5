package identity_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/cogauth/cogauth/identity"
	"github.com/cogauth/cogauth/internal/peers"
	"github.com/cogauth/cogauth/secret"
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
		if creds, err = c.Credentials(context.Background(), secret.String(os.Getenv(helperTokenEnv))); err == nil {
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
	motoURL := peers.Moto(t)
	v := newEnv(t)
	tok := v.idToken(t, "alice")

	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	got := peers.Boto3S3ViaCredentialProcess(t, motoURL, self+" -test.run=^TestHelperCredentialProcess$", "boto3-cognito", "k.txt",
		append(os.Environ(),
			helperEnv+"=1",
			helperEndpointEnv+"="+v.srv.URL,
			helperPoolEnv+"="+v.open,
			helperTokenEnv+"="+tok,
		))
	if !strings.HasPrefix(got.AccessKeyID, "ASIA") || !got.HasToken || strings.Join(got.Keys, ",") != "k.txt" {
		t.Fatalf("boto3 saw %+v; want temporary (ASIA) credentials with a session token and the object", got)
	}
	// boto3 asked once: one GetCredentialsForIdentity.
	v.wantCounts(t, 1, 1)
}
