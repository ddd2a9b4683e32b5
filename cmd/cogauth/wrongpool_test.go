package main

import (
	"strings"
	"testing"

	"github.com/cogauth/cogauth/emulator"
)

// TestTokensOfAnotherPoolRefused: with --flow password, a wrong pool ID still gets
// tokens (InitiateAuth names only the client); they are another pool's, and are
// refused rather than stored.
func TestTokensOfAnotherPoolRefused(t *testing.T) {
	p := newTestPool(t, nil)
	other, err := p.srv.CreateUserPool(emulator.SeedUserPool{Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	c := newCLI(t, p)
	c.env["COGAUTH_STORE"] = "file"
	c.env["COGAUTH_USER_POOL_ID"] = other.ID
	r := c.run(alicePW+"\n", "login", "-u", "alice", "--password-stdin", "--flow", "password")
	want := "cogauth: the sign-in answered with tokens of user pool " + p.pool + ", not of the configured " + other.ID + ": check --user-pool-id / COGAUTH_USER_POOL_ID"
	if r.code != exitError || !strings.HasPrefix(r.err, want) {
		t.Fatalf("tokens of another pool: exit %d %q", r.code, r.err)
	}
	if r := c.run("", "token"); r.code != exitSignedOut {
		t.Fatalf("token after the refused sign-in: exit %d %q", r.code, r.err)
	}
}
