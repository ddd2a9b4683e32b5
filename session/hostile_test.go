package session_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/identity"
	"github.com/cogauth/cogauth/internal/faultproxy"
	"github.com/cogauth/cogauth/session"
	"github.com/cogauth/cogauth/store"
)

const hostilePassword = "Hostile-Answer-1"

// hostileWorld is an emulator behind a fault proxy (a real loopback server
// between the client and the emulator), with a client that rotates refresh
// tokens and one that does not, and tokens of another user and of another pool
// to plant in answers.
type hostileWorld struct {
	srv                 *emulator.Server
	proxy               *faultproxy.Proxy
	otherSub, otherPool string // access tokens to plant
}

func newHostileWorld(t *testing.T) *hostileWorld {
	t.Helper()
	srv := emulator.NewServer(emulator.Options{
		Clock: clock.NewFake(time.Now().UTC().Truncate(time.Second)),
		Seed: &emulator.Seed{
			UserPools: []emulator.SeedUserPool{
				{
					Name: "users",
					Clients: []emulator.SeedClient{
						// Cognito allows a grace period of up to 60 s, in which a retry
						// with the old token still works: what saves a rotation whose
						// answer was lost on the way back.
						{Name: "rotating", RefreshTokenRotation: true, RetryGracePeriod: emulator.Duration(60 * time.Second)},
						{Name: "plain"},
					},
					Users: []emulator.SeedUser{{Username: "alice", Password: hostilePassword}, {Username: "bob", Password: hostilePassword}},
				},
				{
					Name: "elsewhere", Clients: []emulator.SeedClient{{Name: "rotating"}},
					Users: []emulator.SeedUser{{Username: "alice", Password: hostilePassword}},
				},
			},
			IdentityPools: []emulator.SeedIdentityPool{{Name: "ids", UserPool: "users", Clients: []string{"rotating", "plain"}}},
		},
	})
	t.Cleanup(srv.Close)
	w := &hostileWorld{srv: srv, proxy: faultproxy.Start(t, srv.URL)}
	direct := func(pool, client, user string) string {
		c, err := cognito.New(cognito.Options{UserPoolID: srv.PoolID(pool), ClientID: srv.AppClient(pool, client).ID, Endpoint: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.SignIn(context.Background(), cognito.SignInInput{Username: user, Password: hostilePassword})
		if err != nil || res.Tokens == nil {
			t.Fatalf("direct sign-in of %s: %v", user, err)
		}
		return res.Tokens.AccessToken.Reveal()
	}
	w.otherSub = direct("users", "rotating", "bob")
	w.otherPool = direct("elsewhere", "rotating", "alice")
	return w
}

// manager signs alice in through the proxy on the named client, with identity
// pool credentials, on a store of its own.
func (w *hostileWorld) manager(t *testing.T, client string) (*session.Manager, store.Store) {
	t.Helper()
	c, err := cognito.New(cognito.Options{UserPoolID: w.srv.PoolID("users"), ClientID: w.srv.AppClient("users", client).ID, Endpoint: w.proxy.URL()})
	if err != nil {
		t.Fatal(err)
	}
	st := store.NewMemory()
	idc, err := identity.New(identity.Options{IdentityPoolID: w.srv.Seeded().IdentityPools["ids"], Endpoint: w.proxy.URL(), Store: st})
	if err != nil {
		t.Fatal(err)
	}
	m, err := session.New(session.Config{
		Cognito: c, Clock: w.srv.Clock(), Store: st, Credentials: identity.NewSessionCredentials(idc), Logger: quietLogger(),
		RefreshTimeout: 2 * time.Second,
		Backoff:        session.Backoff{Attempts: 2, Base: time.Millisecond, Max: 2 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	if _, err := m.SignIn(context.Background(), cognito.SignInInput{Username: "alice", Password: hostilePassword}); err != nil {
		t.Fatal(err)
	}
	return m, st
}

// storedAccess returns the access token the store holds for alice, failing the
// test when the stored session cannot be read (a poisoned store).
func storedAccess(t *testing.T, m *session.Manager, st store.Store) (string, bool) {
	t.Helper()
	// A Manager of its own reads the store afresh, as another process would.
	s, err := session.StoredSession(context.Background(), m)
	if errors.Is(err, session.ErrSignedOut) {
		return "", false
	}
	if err != nil {
		t.Fatalf("the store is poisoned: %v", err)
	}
	return s.Tokens.Access.Raw(), true
}

// TestHostileRefreshAnswers drives refresh through every kind of answer a real
// network produces, on a client with rotation and one without. Only Cognito's
// own JSON saying NotAuthorized ends the session; everything else keeps it: valid
// tokens are still served, the forced refresh and the dead-token Fetch report
// retryable errors, the store is never poisoned, and the session refreshes once
// the fault is gone.
func TestHostileRefreshAnswers(t *testing.T) {
	w := newHostileWorld(t)
	type row struct {
		name  string
		fault faultproxy.Fault
		ends  bool
		// lost: the service handled the call and its answer was lost on the way
		// back. With rotation, only a retry within the grace period saves the
		// session (nothing on the client can): the row retries at once.
		lost bool
	}
	rows := []row{
		{"connection refused", faultproxy.Refuse(), false, false},
		{"connection reset", faultproxy.Reset(), false, false},
		{"hang", faultproxy.Hang(), false, false},
		{"500 JSON", faultproxy.CognitoError(500, "InternalErrorException", "Internal server error"), false, false},
		{"502 JSON", faultproxy.CognitoError(502, "InternalErrorException", "Bad gateway"), false, false},
		{"503 JSON", faultproxy.CognitoError(503, "ServiceUnavailableException", "Unavailable"), false, false},
		{"504 JSON", faultproxy.CognitoError(504, "InternalErrorException", "Timeout"), false, false},
		{"500 HTML", faultproxy.HTML(500), false, false},
		{"502 HTML", faultproxy.HTML(502), false, false},
		{"503 HTML", faultproxy.HTML(503), false, false},
		{"504 HTML", faultproxy.HTML(504), false, false},
		{"400 HTML", faultproxy.HTML(400), false, false},
		{"404 HTML", faultproxy.HTML(404), false, false},
		{"throttled 400", faultproxy.Throttle(), false, false},
		{"throttled 429", faultproxy.TooManyRequests(), false, false},
		{"malformed 200", faultproxy.MalformedOK(), false, false},
		{"empty 200", faultproxy.EmptyOK(), false, false},
		{"HTML 200", faultproxy.HTMLOK(), false, false},
		{"truncated 200", faultproxy.Truncate(200), false, true},
		{"non-JWT access token", faultproxy.SetJSON("AuthenticationResult.AccessToken", "not-a-jwt"), false, false},
		{"non-JWT id token", faultproxy.SetJSON("AuthenticationResult.IdToken", "eyJhbGciOi.broken"), false, false},
		{"another user's token", faultproxy.SetJSON("AuthenticationResult.AccessToken", w.otherSub), false, false},
		{"another pool's token", faultproxy.SetJSON("AuthenticationResult.AccessToken", w.otherPool), false, false},
		{"huge answer", faultproxy.Huge(64), false, false},
		{"slow-loris", faultproxy.SlowLoris(100 * time.Millisecond), false, true},
		{"NotAuthorized", faultproxy.CognitoError(400, "NotAuthorizedException", "Refresh Token has been revoked"), true, false},
	}
	for _, client := range []string{"rotating", "plain"} {
		for _, r := range rows {
			t.Run(client+"/"+r.name, func(t *testing.T) {
				ctx := context.Background()
				w.proxy.Clear()
				m, st := w.manager(t, client)
				before, err := m.Fetch(ctx, session.FetchOptions{})
				if err != nil {
					t.Fatal(err)
				}
				// Into the refresh window, tokens still valid.
				w.srv.Advance(56 * time.Minute)
				for _, op := range []string{"GetTokensFromRefreshToken", "InitiateAuth"} {
					w.proxy.Set(op, r.fault)
				}
				s, err := m.Fetch(ctx, session.FetchOptions{})
				if r.ends {
					if !errors.Is(err, session.ErrSignedOut) {
						t.Fatalf("Fetch = %v, %v; want signed out", s, err)
					}
					if _, ok := storedAccess(t, m, st); ok {
						t.Fatal("ended session still stored")
					}
					return
				}
				if err != nil || s.Tokens.Access.Raw() != before.Tokens.Access.Raw() {
					t.Fatalf("Fetch with valid tokens during the fault = %v, %v; want the valid tokens", s, err)
				}
				if _, err := m.Fetch(ctx, session.FetchOptions{ForceRefresh: true}); err == nil || !retryable(err) || errors.Is(err, session.ErrSignedOut) {
					t.Fatalf("forced refresh during the fault: %v; want a retryable error", err)
				}
				if a, ok := storedAccess(t, m, st); !ok || a != before.Tokens.Access.Raw() {
					t.Fatalf("store changed during the fault (kept: %v)", ok)
				}
				if r.lost && client == "rotating" {
					w.proxy.Clear()
					w.srv.Advance(10 * time.Second)
					after, err := m.Fetch(ctx, session.FetchOptions{ForceRefresh: true})
					if err != nil || after.Tokens.Access.Raw() == before.Tokens.Access.Raw() {
						t.Fatalf("forced refresh within the grace period after a lost answer: %v", err)
					}
					return
				}
				// Past expiry, fault still on: a retryable error, the session kept.
				w.srv.Advance(5 * time.Minute)
				if _, err := m.Fetch(ctx, session.FetchOptions{}); err == nil || !retryable(err) || errors.Is(err, session.ErrSignedOut) {
					t.Fatalf("Fetch with dead tokens during the fault: %v; want a retryable error", err)
				}
				if _, ok := storedAccess(t, m, st); !ok {
					t.Fatal("session deleted by a transient fault")
				}
				// The fault goes: the session refreshes (past any hold).
				w.proxy.Clear()
				w.srv.Advance(10 * time.Minute)
				after, err := m.Fetch(ctx, session.FetchOptions{})
				if err != nil {
					t.Fatalf("Fetch once the fault is gone: %v", err)
				}
				if after.Tokens.Access.Raw() == before.Tokens.Access.Raw() || after.UserSub != before.UserSub {
					t.Fatal("no new tokens for the same user once the fault is gone")
				}
				if a, _ := storedAccess(t, m, st); a != after.Tokens.Access.Raw() {
					t.Fatal("refreshed tokens not stored")
				}
			})
		}
	}
}

// TestHostileCredentialsAnswers: the identity pool's answers never fail the
// user's tokens and never poison the store; still-valid credentials are served
// through every fault, and new ones come once the fault is gone.
func TestHostileCredentialsAnswers(t *testing.T) {
	w := newHostileWorld(t)
	faults := []faultproxy.Fault{
		faultproxy.Refuse(), faultproxy.Reset(), faultproxy.Hang(),
		faultproxy.CognitoError(500, "InternalErrorException", "x"), faultproxy.CognitoError(503, "ServiceUnavailable", "x"),
		faultproxy.HTML(500), faultproxy.HTML(502), faultproxy.HTML(400), faultproxy.HTML(404),
		faultproxy.Throttle(), faultproxy.TooManyRequests(),
		faultproxy.MalformedOK(), faultproxy.EmptyOK(), faultproxy.HTMLOK(), faultproxy.Truncate(100),
		faultproxy.SetJSON("Credentials.SecretKey", 42), faultproxy.DeleteJSON("Credentials"),
		faultproxy.Huge(64), faultproxy.SlowLoris(100 * time.Millisecond),
		faultproxy.CognitoError(400, "NotAuthorizedException", "Invalid login token."),
	}
	for _, f := range faults {
		t.Run(f.String(), func(t *testing.T) {
			ctx := context.Background()
			w.proxy.Clear()
			m, st := w.manager(t, "plain")
			before, err := m.Fetch(ctx, session.FetchOptions{})
			if err != nil || before.Credentials == nil {
				t.Fatalf("no credentials to start with: %v", err)
			}
			// Credentials (1 h) into their window; tokens refreshed meanwhile.
			w.srv.Advance(56 * time.Minute)
			w.proxy.Set("GetCredentialsForIdentity", f)
			w.proxy.Set("GetId", f)
			s, err := m.Fetch(ctx, session.FetchOptions{})
			if err != nil {
				t.Fatalf("Fetch during a credentials fault: %v", err)
			}
			if s.Credentials == nil || s.Credentials.AccessKeyID != before.Credentials.AccessKeyID {
				t.Fatal("still-valid credentials not served during the fault")
			}
			if _, ok := storedAccess(t, m, st); !ok {
				t.Fatal("a credentials fault ended the session")
			}
			w.proxy.Clear()
			w.srv.Advance(10 * time.Minute)
			after, err := m.Fetch(ctx, session.FetchOptions{})
			if err != nil || after.Credentials == nil || after.Credentials.AccessKeyID == before.Credentials.AccessKeyID {
				t.Fatalf("no new credentials once the fault is gone: %v", err)
			}
		})
	}
}
