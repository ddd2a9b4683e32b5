package session_test

import (
	"context"
	"testing"
	"time"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/identity"
	"github.com/cogauth/cogauth/session"
	"github.com/cogauth/cogauth/store"
)

// identityEnv is an emulator with a user pool and two identity pools on it ("ids"
// and "other"), and one store for the Managers a test makes.
type identityEnv struct {
	srv   *emulator.Server
	cc    *cognito.Client
	store store.Store
}

func newIdentityEnv(t *testing.T) *identityEnv {
	t.Helper()
	srv := emulator.NewServer(emulator.Options{
		Clock: clock.NewFake(time.Now().UTC().Truncate(time.Second)),
		Seed: &emulator.Seed{
			UserPools: []emulator.SeedUserPool{{
				Name: "users", Clients: []emulator.SeedClient{{Name: "app"}},
				Users: []emulator.SeedUser{{Username: "alice", Password: idpPassword}},
			}},
			IdentityPools: []emulator.SeedIdentityPool{
				{Name: "ids", UserPool: "users", Clients: []string{"app"}},
				{Name: "other", UserPool: "users", Clients: []string{"app"}},
			},
		},
	})
	t.Cleanup(srv.Close)
	cc, err := cognito.New(cognito.Options{UserPoolID: srv.PoolID("users"), ClientID: srv.AppClient("users", "app").ID, Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return &identityEnv{srv: srv, cc: cc, store: store.NewMemory()}
}

// manager returns a Manager on the env's store whose credentials come from the
// named identity pool.
func (e *identityEnv) manager(t *testing.T, pool string) *session.Manager {
	t.Helper()
	idc, err := identity.New(identity.Options{IdentityPoolID: e.srv.Seeded().IdentityPools[pool], Endpoint: e.srv.URL, Store: e.store})
	if err != nil {
		t.Fatal(err)
	}
	m, err := session.New(session.Config{
		Cognito: e.cc, Clock: e.srv.Clock(), Store: e.store, Credentials: identity.NewSessionCredentials(idc), Logger: quietLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func (e *identityEnv) tokenRefreshes() int {
	return e.srv.Requests("GetTokensFromRefreshToken") + e.srv.Requests("InitiateAuth")
}

// TestMissingCredentialsAreDue: the identity pool fails at sign-in. The session
// is served without credentials, which are asked for again after
// RetryAfterFailure (not on every call, and without refreshing the fresh tokens)
// until they come.
func TestMissingCredentialsAreDue(t *testing.T) {
	env := newIdentityEnv(t)
	m := env.manager(t, "ids")
	ctx := context.Background()
	events := make(chan session.Event, 16)
	defer m.Subscribe(func(e session.Event) { events <- e })()
	env.srv.InjectFault("GetCredentialsForIdentity", emulator.Fault{ErrName: "InternalErrorException", Status: 500})

	res, err := m.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: idpPassword})
	if err != nil {
		t.Fatal(err)
	}
	if res.Session.Credentials != nil {
		t.Fatal("credentials after the identity pool failed")
	}
	if e := <-events; e.Kind != session.SignedIn {
		t.Fatalf("event %+v, want signed-in", e)
	}
	if e := <-events; e.Kind != session.RefreshFailed || !e.Retryable {
		t.Fatalf("event %+v, want retryable refresh-failed", e)
	}
	env.srv.ResetCounters()
	env.srv.InjectFault("GetCredentialsForIdentity", emulator.Fault{ErrName: "InternalErrorException", Status: 500})

	fetch := func() *session.Session {
		t.Helper()
		s, err := m.Fetch(ctx, session.FetchOptions{})
		if err != nil {
			t.Fatalf("Fetch with fresh tokens and no credentials: %v", err)
		}
		return s
	}
	for range 5 {
		fetch()
	}
	// The first hold is drawn from [RetryAfterFailure/2, RetryAfterFailure]
	// (jitter, so that clients failing together do not retry together).
	env.srv.Advance(14 * time.Second)
	if s := fetch(); s.Credentials != nil {
		t.Fatal("credentials from nowhere")
	}
	if n := env.srv.Requests("GetCredentialsForIdentity"); n != 0 {
		t.Fatalf("%d GetCredentialsForIdentity within RetryAfterFailure/2 of the failure; want 0", n)
	}

	// Past RetryAfterFailure: one more try (still failing), then held off again.
	env.srv.Advance(17 * time.Second)
	for range 5 {
		if s := fetch(); s.Credentials != nil {
			t.Fatal("credentials while the identity pool fails")
		}
	}
	if n := env.srv.Requests("GetCredentialsForIdentity"); n != 1 {
		t.Fatalf("%d GetCredentialsForIdentity after RetryAfterFailure; want 1", n)
	}
	if e := <-events; e.Kind != session.RefreshFailed || !e.Retryable {
		t.Fatalf("event %+v, want retryable refresh-failed", e)
	}

	// The pool recovers: the next try, after the second failure's doubled hold
	// (at most 2×RetryAfterFailure), brings credentials, and they are kept.
	env.srv.ClearFaults()
	env.srv.Advance(61 * time.Second)
	s := fetch()
	if s.Credentials == nil || s.IdentityID == "" {
		t.Fatal("no credentials after the identity pool recovered")
	}
	if e := <-events; e.Kind != session.CredentialsRefreshed {
		t.Fatalf("event %+v, want credentials-refreshed", e)
	}
	for range 5 {
		if again := fetch(); again != s {
			t.Fatal("the session with credentials is not served from cache")
		}
	}
	if n := env.srv.Requests("GetCredentialsForIdentity"); n != 2 {
		t.Fatalf("%d GetCredentialsForIdentity in all; want 2", n)
	}
	if n := env.tokenRefreshes(); n != 0 {
		t.Fatalf("%d token refreshes for fresh tokens; want 0", n)
	}
	// Another Manager on the same store finds them stored.
	if s2, err := env.manager(t, "ids").Fetch(ctx, session.FetchOptions{}); err != nil || s2.Credentials == nil || s2.Credentials.AccessKeyID != s.Credentials.AccessKeyID {
		t.Fatalf("second Manager: %v, %v", s2, err)
	}
}

// TestCredentialsOfAnotherIdentityPoolNotServed: the stored session records the
// identity pool its credentials came from; a Manager configured with another pool
// (a profile whose identity pool changed) gets its own instead of handing those
// out, without refreshing the tokens.
func TestCredentialsOfAnotherIdentityPoolNotServed(t *testing.T) {
	env := newIdentityEnv(t)
	ctx := context.Background()
	res, err := env.manager(t, "ids").SignIn(ctx, cognito.SignInInput{Username: "alice", Password: idpPassword})
	if err != nil {
		t.Fatal(err)
	}
	first := res.Session
	if first.Credentials == nil {
		t.Fatal("no credentials at sign-in")
	}
	env.srv.ResetCounters()

	other := env.manager(t, "other")
	s, err := other.Fetch(ctx, session.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Credentials == nil || s.Credentials.AccessKeyID == first.Credentials.AccessKeyID || s.IdentityID == first.IdentityID || s.IdentityID == "" {
		t.Fatalf("Manager of pool other served identity %q (first pool's: %q)", s.IdentityID, first.IdentityID)
	}
	if a, b := env.srv.Requests("GetId"), env.srv.Requests("GetCredentialsForIdentity"); a != 1 || b != 1 {
		t.Fatalf("GetId %d, GetCredentialsForIdentity %d; want 1, 1 (a new identity in the new pool)", a, b)
	}
	if n := env.tokenRefreshes(); n != 0 {
		t.Fatalf("%d token refreshes; want 0", n)
	}
	// Now stored under the new pool, they are served from the store.
	again, err := env.manager(t, "other").Fetch(ctx, session.FetchOptions{})
	if err != nil || again.IdentityID != s.IdentityID || again.Credentials.AccessKeyID != s.Credentials.AccessKeyID {
		t.Fatalf("a fresh Manager of pool other: %v, %v", again, err)
	}
	if b := env.srv.Requests("GetCredentialsForIdentity"); b != 1 {
		t.Fatalf("GetCredentialsForIdentity %d; want still 1", b)
	}
}
