package session_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/session"
)

// TestForceRefreshReportsTransientFailure: a forced refresh that cannot go out
// says so (retryable) instead of quietly handing back the old tokens, and keeps
// the session: a plain Fetch still serves it, and the next forced refresh, once
// the service answers, goes through.
func TestForceRefreshReportsTransientFailure(t *testing.T) {
	srv, c := startEmulator()
	defer srv.Close()
	m, err := session.New(session.Config{Cognito: c, Clock: srv.Clock()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	res, err := m.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: "Corr3ct-Horse!"})
	if err != nil || res.Session == nil {
		t.Fatalf("SignIn: %v", err)
	}
	before := res.Session.Tokens.Access.Raw()

	for _, op := range []string{"GetTokensFromRefreshToken", "InitiateAuth"} {
		srv.InjectFault(op, emulator.Fault{ErrName: "InternalErrorException", Status: 500})
	}
	_, err = m.Fetch(ctx, session.FetchOptions{ForceRefresh: true})
	if err == nil {
		t.Fatal("forced refresh against a failing service reported success")
	}
	if !retryable(err) || errors.Is(err, session.ErrSignedOut) {
		t.Fatalf("forced refresh error = %v; want retryable, not signed out", err)
	}
	s, err := m.Fetch(ctx, session.FetchOptions{})
	if err != nil || s.Tokens.Access.Raw() != before {
		t.Fatalf("plain Fetch after the failed forced refresh: %v (same tokens: %v)", err, err == nil && s.Tokens.Access.Raw() == before)
	}

	srv.ClearFaults()
	// The failures held the endpoint (session.Breakers): until the hold ends, a
	// refresh sends nothing.
	if _, err := m.Fetch(ctx, session.FetchOptions{ForceRefresh: true}); !retryable(err) {
		t.Fatalf("forced refresh while the endpoint is held: %v", err)
	}
	srv.Advance(5 * time.Second) // the breaker's longest hold
	s, err = m.Fetch(ctx, session.FetchOptions{ForceRefresh: true})
	if err != nil {
		t.Fatalf("forced refresh once the service is back: %v", err)
	}
	if s.Tokens.Access.Raw() == before {
		t.Error("forced refresh returned the old access token")
	}
}
