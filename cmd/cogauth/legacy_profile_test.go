package main

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/session"
	"github.com/cogauth/cogauth/store"
)

// TestSessionOfAnEarlierReleaseIsKept: a session an earlier cogauth kept outside
// any profile namespace moves into its profile's namespace at the first command,
// so upgrading signs nobody out; it moves, so a second profile that shared it
// signs in again instead of spending the same refresh token.
func TestSessionOfAnEarlierReleaseIsKept(t *testing.T) {
	p := newTestPool(t, nil)
	c := newCLI(t, p)
	c.env["COGAUTH_STORE"] = "file"
	ctx := context.Background()

	// What the earlier release left: the session and the profile's record, in
	// the store's root.
	a := &app{env: c.environment(strings.NewReader(""), io.Discard, io.Discard)}
	cfg, err := a.config()
	if err != nil {
		t.Fatal(err)
	}
	base, err := a.openStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := cognito.New(cognito.Options{UserPoolID: p.pool, ClientID: p.client, Endpoint: p.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	m, err := session.New(session.Config{Cognito: cc, Store: base})
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: alicePW})
	if err != nil || res.Session == nil {
		t.Fatalf("sign-in: %v", err)
	}
	m.Close()
	if err := setProfileUser(ctx, base, cfg, "alice"); err != nil {
		t.Fatal(err)
	}
	other := *cfg
	other.Profile = "other"
	if err := setProfileUser(ctx, base, &other, "alice"); err != nil {
		t.Fatal(err)
	}

	if tok := strings.TrimSpace(c.ok("", "token").out); tok != res.Session.Tokens.Access.Raw() {
		t.Fatal("the earlier release's session was not served")
	}
	if _, err := base.Get(ctx, session.SessionKey(p.pool, p.client, "alice")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the old session is still in the store's root: %v", err)
	}
	c.ok("", "refresh", "--force")
	// The profile that shared it finds it gone: not signed in, nothing spent twice.
	c.ok("", "configure", "--profile", "other", "--endpoint", p.srv.URL, "--user-pool-id", p.pool, "--client-id", p.client, "--store", "file")
	if r := c.run("", "token", "--profile", "other"); r.code != 3 {
		t.Fatalf("token --profile other: exit %d (%s), want 3", r.code, r.err)
	}
	// (other, the only profile of config.toml, is now the default: name this one.)
	if r := c.run("", "token", "--profile", "default"); r.code != 0 {
		t.Fatalf("token after the other profile looked: exit %d (%s)", r.code, r.err)
	}
}
