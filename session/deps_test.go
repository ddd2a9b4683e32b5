package session_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestSessionDependsOnInterfaces: session needs a credentials source and a hosted
// UI refresher only through its own interfaces (CredentialsSource,
// HostedUIRefresher), so it links none of identity/, hostedui/, the identity-pool
// SDK or x/oauth2 — while identity/ and hostedui/, which implement them, do link
// what they stand for, so the test can tell.
func TestSessionDependsOnInterfaces(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	banned := []string{
		"github.com/cogauth/cogauth/identity",
		"github.com/cogauth/cogauth/hostedui",
		"github.com/aws/aws-sdk-go-v2/service/cognitoidentity",
		"golang.org/x/oauth2",
	}
	deps := func(t *testing.T, pkg string) map[string]bool {
		t.Helper()
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		m := map[string]bool{}
		for _, d := range strings.Fields(string(out)) {
			m[d] = true
		}
		return m
	}
	got := deps(t, ".")
	if !got["github.com/cogauth/cogauth/session"] || !got["github.com/cogauth/cogauth/cognito"] {
		t.Fatal("go list -deps . does not list session and cognito: the check below proves nothing")
	}
	for _, b := range banned {
		if got[b] {
			t.Errorf("session links %s", b)
		}
	}
	if d := deps(t, "../identity"); !d["github.com/aws/aws-sdk-go-v2/service/cognitoidentity"] || !d["github.com/cogauth/cogauth/session"] {
		t.Error("identity/ links no identity-pool SDK or no session: is it still the credentials source?")
	}
	if d := deps(t, "../hostedui"); !d["golang.org/x/oauth2"] || !d["github.com/cogauth/cogauth/session"] {
		t.Error("hostedui/ links no x/oauth2 or no session: is it still the hosted UI refresher?")
	}
}
