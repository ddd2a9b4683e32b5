package emulator_test

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/internal/peers"
)

// runFlow runs test/python/cognito_flow.py against endpoint and returns what it saw.
func runFlow(t *testing.T, endpoint string) map[string]any {
	t.Helper()
	py := peers.Python(t, "boto3")
	script := filepath.Join(peers.RepoRoot(t), "test", "python", "cognito_flow.py")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, script, endpoint)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("boto3 flow against %s: %v\n%s", endpoint, err, stderr)
	}
	got := map[string]any{}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("boto3 flow output %q: %v", out, err)
	}
	return got
}

// TestBoto3Flow runs the same boto3 set-up, sign-in, refresh and sign-out on the
// emulator and on moto's server: the emulator must answer as moto does (and as
// Cognito does) wherever moto is right.
func TestBoto3Flow(t *testing.T) {
	srv := emulator.NewServer(emulator.Options{})
	defer srv.Close()
	got := runFlow(t, srv.URL)
	want := map[string]any{
		"userStatus":                "CONFIRMED",
		"wrongPassword":             "NotAuthorizedException",
		"username":                  "bob",
		"email":                     "bob@example.com",
		"tokenType":                 "Bearer",
		"expiresIn":                 float64(3600),
		"refreshHasNewRefreshToken": false,
		"usernameAfterRefresh":      "bob",
		"getUserAfterSignOut":       "NotAuthorizedException",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("emulator: %s = %v, want %v", k, got[k], v)
		}
	}

	moto := peers.Moto(t)
	fromMoto := runFlow(t, moto)
	for k := range want {
		if fromMoto[k] != got[k] {
			t.Errorf("%s: moto says %v, emulator %v", k, fromMoto[k], got[k])
		}
	}
}
