package emulator_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/internal/peers"
)

// The comparison in README.md ("Compared with moto, cognito-local and
// LocalStack"): each row is a probe of test/python/peer_compare.py, and these
// are what the probes answer for each stand-in. TestPeerComparison runs them, so
// a row that stops being true fails here.
var comparison = []struct {
	probe, row    string
	moto, cogLoc  bool
	emulatorTests string // where the emulator's own behaviour is tested in depth
}{
	{"wrongPasswordRefused", "A wrong password is NotAuthorizedException", true, false, "auth_test.go"},
	{"idTokenVerifiesWithJWKS", "RS256 tokens verify with the pool's JWKS", true, true, "region_test.go, jsclient_test.go (aws-jwt-verify)"},
	{"revokedRefreshTokenRefused", "RevokeToken ends the refresh token", false, true, "rotate_test.go"},
	{"totpMFAChecked", "TOTP MFA codes are checked", false, true, "mfa_test.go"},
	{"resetRequiredWhateverPassword", "RESET_REQUIRED answers PasswordResetRequiredException whatever the password", false, false, "adminauth_test.go"},
	{"customAttributesPrefixed", "Schema lists standard attributes and custom:NAME", false, true, "schema_test.go"},
	{"csvImportImportsUsers", "A CSV import job imports users", false, false, "importjobs_test.go"},
	{"clientSecretRotation", "Two client secrets per app client", false, false, "clientsecrets_test.go"},
	{"termsDocuments", "Terms documents", false, false, "terms_test.go"},
	{"hostedUISignInPage", "Hosted UI sign-in page (/oauth2/authorize)", false, false, "oauth2_test.go, hostedui/chromium_test.go"},
	{"unknownTargetEchoBounded", "A 6 KB X-Amz-Target is not echoed whole", true, false, "echo_fuzz_test.go"},
}

func runCompare(t *testing.T, endpoint string) map[string]bool {
	t.Helper()
	py := peers.Python(t, "boto3", "cryptography")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, filepath.Join(peers.RepoRoot(t), "test", "python", "peer_compare.py"), endpoint).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("peer_compare.py against %s: %v\n%s", endpoint, err, stderr)
	}
	got := map[string]bool{}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("peer_compare.py printed %q: %v", out, err)
	}
	return got
}

// TestPeerComparison checks README.md's comparison table: every probe passes on
// the emulator; moto's server and cognito-local answer as the table says.
// cognito-local is run when COGAUTH_COGNITO_LOCAL names its executable (npm i
// cognito-local; node_modules/.bin/cognito-local), and skipped otherwise: it is
// not one of the project's installed peers.
func TestPeerComparison(t *testing.T) {
	srv := emulator.NewServer(emulator.Options{})
	t.Cleanup(srv.Close)
	got := runCompare(t, srv.URL)
	for _, row := range comparison {
		if !got[row.probe] {
			t.Errorf("emulator: %s (%s) is false", row.row, row.probe)
		}
	}
	check := func(t *testing.T, name string, got map[string]bool, want func(int) bool) {
		for i, row := range comparison {
			if got[row.probe] != want(i) {
				t.Errorf("%s: %s is %v; README's table says %v", name, row.row, got[row.probe], want(i))
			}
		}
	}
	t.Run("moto", func(t *testing.T) {
		check(t, "moto", runCompare(t, peers.Moto(t)), func(i int) bool { return comparison[i].moto })
	})
	t.Run("cognito-local", func(t *testing.T) {
		exe := os.Getenv("COGAUTH_COGNITO_LOCAL")
		if exe == "" {
			t.Skip("COGAUTH_COGNITO_LOCAL is not set (cognito-local is an optional peer)")
		}
		check(t, "cognito-local", runCompare(t, startCognitoLocal(t, exe)), func(i int) bool { return comparison[i].cogLoc })
	})
}

// startCognitoLocal runs cognito-local on a free port in a fresh directory (it
// keeps its state in ./.cognito) and returns its URL once it listens.
func startCognitoLocal(t *testing.T, exe string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, exe)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), fmt.Sprintf("PORT=%d", port), "HOST=127.0.0.1")
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "Cognito Local running") {
				close(ready)
				for sc.Scan() {
				}
				return
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		t.Fatal("cognito-local did not start")
	}
	return fmt.Sprintf("http://127.0.0.1:%d", port)
}
