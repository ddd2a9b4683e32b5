package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/internal/webauthntest"
	"github.com/cogauth/cogauth/secret"
	"github.com/cogauth/cogauth/session"
)

// passkeyPool is the test pool with passkeys for pages on loopback.
func passkeyPool(t *testing.T) *testPool {
	return newTestPool(t, func(sp *emulator.SeedUserPool) {
		sp.AllowedFirstAuthFactors = []string{"PASSWORD", "WEB_AUTHN"}
		sp.WebAuthn = &emulator.SeedWebAuthn{RelyingPartyID: "localhost"}
		sp.Clients[0].ExplicitAuthFlows = []string{"ALLOW_USER_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
	})
}

// registerPasskeys signs user in through the library (another device of the
// user's, as far as the CLI knows) and registers n passkeys, each made by a
// software authenticator of its own.
func registerPasskeys(t *testing.T, p *testPool, user, password string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cc, err := cognito.New(cognito.Options{UserPoolID: p.pool, ClientID: p.client, Endpoint: p.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	m, err := session.New(session.Config{Cognito: cc})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.SignIn(ctx, cognito.SignInInput{Username: user, Password: secret.String(password)}); err != nil {
		t.Fatal(err)
	}
	for range n {
		// One passkey per authenticator: an authenticator refuses a second for
		// the same user (excludeCredentials).
		a := webauthntest.New("http://localhost:8080")
		if err := m.Passkeys().Register(ctx, func(_ context.Context, opts json.RawMessage) (json.RawMessage, error) {
			return a.Register(opts)
		}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPasskeysCommands(t *testing.T) {
	p := passkeyPool(t)
	c := newCLI(t, p)
	c.ok(alicePW+"\n", "login", "-u", "alice", "--password-stdin")

	// None yet: an empty JSON list, and a word on stderr for people.
	if r := c.ok("", "passkeys", "list", "-o", "json"); strings.TrimSpace(r.out) != "[]" {
		t.Fatalf("passkeys list -o json with none: %q", r.out)
	}
	if r := c.ok("", "passkeys", "list"); r.out != "" || !strings.Contains(r.err, "No passkeys") {
		t.Fatalf("passkeys list with none: out %q err %q", r.out, r.err)
	}

	registerPasskeys(t, p, "alice", alicePW, 2)
	list := func() []passkeyJSON {
		t.Helper()
		var out []passkeyJSON
		if err := json.Unmarshal([]byte(c.ok("", "passkeys", "list", "-o", "json").out), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	keys := list()
	if len(keys) != 2 || keys[0].ID == "" || keys[0].ID == keys[1].ID {
		t.Fatalf("passkeys: %+v", keys)
	}
	for _, k := range keys {
		if k.RelyingPartyID != "localhost" || k.CreatedAt.IsZero() {
			t.Fatalf("passkey %+v", k)
		}
	}
	text := c.ok("", "passkeys", "list").out
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(text, keys[0].ID) || !strings.Contains(text, keys[1].ID) || !strings.Contains(text, "localhost") {
		t.Fatalf("passkeys list:\n%s", text)
	}

	// Delete: without a terminal it needs --yes (exit 2, nothing deleted).
	if r := c.run("", "passkeys", "delete", "--", keys[0].ID); r.code != exitUsage || !strings.Contains(r.err, "--yes") {
		t.Fatalf("delete without --yes: exit %d %q", r.code, r.err)
	}
	if n := len(list()); n != 2 {
		t.Fatalf("%d passkeys after a refused delete", n)
	}
	if r := c.ok("", "passkeys", "delete", "--yes", "--", keys[0].ID); !strings.Contains(r.err, "Deleted passkey "+keys[0].ID) {
		t.Fatalf("delete: %q", r.err)
	}
	if left := list(); len(left) != 1 || left[0].ID != keys[1].ID {
		t.Fatalf("after deleting %s: %+v", keys[0].ID, left)
	}
	// Deleting it again: the service's error, exit 1.
	if r := c.run("", "passkeys", "delete", "--yes", "--", keys[0].ID); r.code != exitError || !strings.Contains(r.err, "the user has no passkey with that ID") {
		t.Fatalf("deleting it twice: exit %d %q", r.code, r.err)
	}

	// Another user's passkey is not this user's to delete.
	c2 := newCLI(t, p)
	c2.ok(bobPW+"\n", "login", "-u", "bob", "--password-stdin")
	if r := c2.run("", "passkeys", "delete", "--yes", "--", keys[1].ID); r.code != exitError {
		t.Fatalf("bob deleting alice's passkey: exit %d %q", r.code, r.err)
	}
	if left := list(); len(left) != 1 {
		t.Fatalf("alice's passkeys after bob's try: %+v", left)
	}
}

func TestPasskeysErrors(t *testing.T) {
	p := passkeyPool(t)
	c := newCLI(t, p)
	for _, args := range [][]string{{"passkeys", "list"}, {"passkeys", "delete", "abc", "--yes"}} {
		if r := c.run("", args...); r.code != exitSignedOut || !strings.Contains(r.err, "login") {
			t.Errorf("%v signed out: exit %d %q", args, r.code, r.err)
		}
	}
	for _, args := range [][]string{{"passkeys", "delete"}, {"passkeys", "delete", "a", "b"}, {"passkeys", "list", "-o", "yaml"}, {"passkeys", "add"}, {"passkeys", "nosuch"}} {
		if r := c.run("", args...); r.code != exitUsage {
			t.Errorf("%v: exit %d, want %d (%q)", args, r.code, exitUsage, r.err)
		}
	}
	if r := c.ok("", "passkeys", "--help"); !strings.Contains(r.out, "no \"passkeys add\"") {
		t.Errorf("passkeys --help does not say why there is no add:\n%s", r.out)
	}
	// Signed out again: exit 3.
	c.ok(alicePW+"\n", "login", "-u", "alice", "--password-stdin")
	c.ok("", "logout")
	if r := c.run("", "passkeys", "list"); r.code != exitSignedOut {
		t.Errorf("passkeys list after logout: exit %d %q", r.code, r.err)
	}
}

// login --flow user-auth never offers a passkey (the CLI is no authenticator):
// the user with one is offered the password factors only.
func TestLoginUserAuthWithPasskey(t *testing.T) {
	p := passkeyPool(t)
	registerPasskeys(t, p, "alice", alicePW, 1)
	c := newCLI(t, p)
	c.env["COGAUTH_STORE"] = "file"
	rc, text := interactive(t, c, []string{"login", "--flow", "user-auth", "-u", "alice"}, func(answer func(string, string), errOut *safeBuffer) {
		waitFor(t, errOut, "Sign in with: password, password-srp\n")
		answer("Choice: ", "password")
		answer("Password: ", alicePW)
	})
	if rc != 0 || strings.Contains(text, "web-authn") {
		t.Fatalf("login with a passkey registered: exit %d\n%s", rc, text)
	}
	if r := c.ok("", "whoami"); !strings.Contains(r.out, "alice") {
		t.Fatalf("whoami: %q", r.out)
	}
	if r := c.run("", "login", "--flow", "user-auth", "--challenge", "web-authn", "-u", "alice"); r.code != exitUsage {
		t.Fatalf("--challenge web-authn: exit %d %q", r.code, r.err)
	}
}
