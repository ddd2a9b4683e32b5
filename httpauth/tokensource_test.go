package httpauth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/httpauth"
	"github.com/cogauth/cogauth/session"
)

// TestTokenSourceOfManager: httpauth.TokenSource over a Manager signed in to the
// emulator hands out the session's access token with its expiry, follows the
// session through a refresh, and reports the Manager's error once signed out.
func TestTokenSourceOfManager(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))
	srv := emulator.NewServer(emulator.Options{
		Clock: clk,
		Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
			Name:    "app",
			Clients: []emulator.SeedClient{{Name: "web"}},
			Users:   []emulator.SeedUser{{Username: "alice", Password: "Correct-Horse-1"}},
		}}},
	})
	defer srv.Close()
	cc, err := cognito.New(cognito.Options{UserPoolID: srv.PoolID("app"), ClientID: srv.AppClient("app", "web").ID, Endpoint: srv.URL, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	m, err := session.New(session.Config{Cognito: cc, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: "Correct-Horse-1"}); err != nil {
		t.Fatal(err)
	}
	var ts oauth2.TokenSource = httpauth.TokenSource(m)
	check := func(when string) *oauth2.Token {
		t.Helper()
		s, err := m.Fetch(ctx, session.FetchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := ts.Token()
		if err != nil {
			t.Fatalf("%s: Token: %v", when, err)
		}
		if tok.AccessToken != s.Tokens.Access.Raw() || tok.TokenType != "Bearer" || !tok.Expiry.Equal(s.Tokens.Access.ExpiresAt()) || tok.Expiry.IsZero() {
			t.Fatalf("%s: token %q (%s, expiry %v); want the session's access token, expiring %v", when, tok.AccessToken, tok.TokenType, tok.Expiry, s.Tokens.Access.ExpiresAt())
		}
		return tok
	}
	first := check("signed in")
	clk.Advance(58 * time.Minute) // inside the refresh window
	if second := check("after the refresh window"); second.AccessToken == first.AccessToken {
		t.Fatal("the token source did not follow the refresh")
	}
	if err := m.SignOut(ctx, session.SignOutOptions{}); err != nil {
		t.Fatal(err)
	}
	if tok, err := ts.Token(); !errors.Is(err, session.ErrSignedOut) || tok != nil {
		t.Fatalf("signed out: Token = %v, %v; want ErrSignedOut", tok, err)
	}
}

// TestTokenSourceOfOpaqueToken: a provider whose token is not a JWT gives a token
// without expiry, and its errors pass through untouched.
func TestTokenSourceOfOpaqueToken(t *testing.T) {
	tok, err := httpauth.TokenSource(httpauth.TokenProviderFunc(func(context.Context, bool) (string, error) { return "opaque", nil })).Token()
	if err != nil || tok.AccessToken != "opaque" || !tok.Expiry.IsZero() {
		t.Fatalf("Token = %+v, %v", tok, err)
	}
	boom := errors.New("boom")
	if _, err := httpauth.TokenSource(httpauth.TokenProviderFunc(func(context.Context, bool) (string, error) { return "", boom })).Token(); err != boom {
		t.Fatalf("err = %v, want the provider's", err)
	}
}
