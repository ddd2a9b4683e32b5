package session_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/session"
	"github.com/cogauth/cogauth/store"
)

// TestRefreshedTokensSurviveStoreOutage: the store goes away between the refresh
// call and the write. With rotation, the new refresh token is the only live one:
// the Manager serves the new tokens meanwhile and writes them once the store is
// back, so neither this Manager nor any other ever spends the rotated-away token.
func TestRefreshedTokensSurviveStoreOutage(t *testing.T) {
	f := newFixture(t, nil)
	f.idp.rotate = true
	fs := &faultyStore{Store: f.store}
	m := f.manager(t, f.idp.client(t), func(cfg *session.Config) { cfg.Store = fs })
	res, err := m.SignIn(context.Background(), cognito.SignInInput{Username: "alice", Password: "correct horse", Flow: cognito.FlowPassword})
	if err != nil {
		t.Fatal(err)
	}
	s0 := res.Session
	events := make(chan session.Event, 8)
	defer m.Subscribe(func(e session.Event) { events <- e })()
	k := session.SessionKey(testPool, testClient, "alice")
	stored := func() string {
		t.Helper()
		e, err := f.store.Get(context.Background(), k)
		if err != nil {
			t.Fatal(err)
		}
		s, err := session.DecodeRecord(e.Data)
		if err != nil {
			t.Fatal(err)
		}
		return s.Tokens.Refresh.Reveal()
	}

	fs.fail("put")
	f.clock.Advance(58 * time.Minute)
	s1, err := m.Fetch(context.Background(), session.FetchOptions{})
	if err != nil {
		t.Fatalf("refresh with the store down: %v", err)
	}
	if s1.Tokens.Refresh == s0.Tokens.Refresh || s1.Tokens.Access.Raw() == s0.Tokens.Access.Raw() {
		t.Fatal("the refreshed tokens are not served")
	}
	if e := <-events; e.Kind != session.RefreshFailed || !e.Retryable || !errors.Is(e.Err, session.ErrStoreUnavailable) {
		t.Fatalf("event %+v, want retryable refresh-failed (store unavailable)", e)
	}
	if stored() != s0.Tokens.Refresh.Reveal() {
		t.Fatal("the store changed while it was down")
	}
	// Held: neither the service nor the store is asked on every call.
	calls := fs.calls.Load()
	for range 5 {
		if s, err := m.Fetch(context.Background(), session.FetchOptions{}); err != nil || s.Tokens.Refresh != s1.Tokens.Refresh {
			t.Fatalf("held session: %v", err)
		}
	}
	if fs.calls.Load() != calls || f.idp.refreshCalls() != 1 {
		t.Fatal("retried on every call")
	}

	// The store is back: the next try writes the held tokens, with no new refresh.
	fs.fail("")
	f.clock.Advance(31 * time.Second)
	s2, err := m.Fetch(context.Background(), session.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s2.Tokens.Refresh != s1.Tokens.Refresh || f.idp.refreshCalls() != 1 {
		t.Fatalf("refresh calls %d; want the held tokens written, not a new refresh", f.idp.refreshCalls())
	}
	if stored() != s1.Tokens.Refresh.Reveal() {
		t.Fatal("the held tokens were not written once the store came back")
	}
	// Another Manager refreshes with the stored (rotated) token: no reuse.
	if _, err := f.manager(t, f.idp.client(t), nil).Fetch(context.Background(), session.FetchOptions{ForceRefresh: true}); err != nil {
		t.Fatalf("refresh with the written token: %v", err)
	}
}

// TestForceRefreshWithoutRefreshToken: ForceRefresh on an imported session that
// has no refresh token is an error, not an end of the session; the session ends
// (expired) only when its tokens do.
func TestForceRefreshWithoutRefreshToken(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.idp.issue("alice", false, time.Time{})
	if _, err := f.m.Import(context.Background(), session.ImportInput{AccessToken: jwt.Secret(tok["AccessToken"].(string)), IDToken: jwt.Secret(tok["IdToken"].(string))}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.Fetch(context.Background(), session.FetchOptions{ForceRefresh: true}); err == nil || errors.Is(err, session.ErrSignedOut) {
		t.Fatalf("ForceRefresh without a refresh token: %v, want an error that is not a sign-out", err)
	}
	f.clock.Advance(58 * time.Minute)
	for range 3 {
		if _, err := f.m.Fetch(context.Background(), session.FetchOptions{}); err != nil {
			t.Fatalf("still-valid tokens: %v", err)
		}
	}
	f.clock.Advance(2 * time.Minute)
	var so *session.SignedOutError
	if _, err := f.m.Fetch(context.Background(), session.FetchOptions{}); !errors.As(err, &so) || so.Reason != session.ReasonExpired {
		t.Fatalf("after expiry: %v, want signed out (expired)", err)
	}
}

// TestFileLockTimeoutIsTransient: another process holds the file store's refresh
// lock (stuck, or slow) past the refresh timeout. The Manager keeps serving the
// still-valid tokens and tries again later, rather than failing Fetch.
func TestFileLockTimeoutIsTransient(t *testing.T) {
	f := newFixture(t, nil)
	path := t.TempDir() + "/sessions.json"
	fileStore, err := store.NewFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := f.manager(t, f.idp.client(t), func(cfg *session.Config) {
		cfg.Store = fileStore
		cfg.RefreshTimeout = 200 * time.Millisecond
	})
	res, err := m.SignIn(context.Background(), cognito.SignInInput{Username: "alice", Password: "correct horse", Flow: cognito.FlowPassword})
	if err != nil {
		t.Fatal(err)
	}
	// The other process: its own handle on the same file, holding alice's lock.
	other, err := store.NewFile(path)
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := other.Lock(context.Background(), session.SessionKey(testPool, testClient, "alice"))
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()

	f.clock.Advance(56 * time.Minute)
	s, err := m.Fetch(context.Background(), session.FetchOptions{})
	if err != nil || s.Tokens.Access.Raw() != res.Session.Tokens.Access.Raw() {
		t.Fatalf("Fetch while another process holds the lock: %v", err)
	}
	if n := f.idp.refreshCalls(); n != 0 {
		t.Fatalf("%d refreshes without the lock", n)
	}
	// The other process lets go: the next try refreshes.
	unlock()
	f.clock.Advance(31 * time.Second)
	s, err = m.Fetch(context.Background(), session.FetchOptions{})
	if err != nil || s.Tokens.Access.Raw() == res.Session.Tokens.Access.Raw() {
		t.Fatalf("after the lock was released: %v", err)
	}
}
