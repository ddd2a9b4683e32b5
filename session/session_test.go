package session_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/session"
	"github.com/cogauth/cogauth/store"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	clock *clock.Fake
	idp   *fakeIDP
	store store.Store
	m     *session.Manager
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newFixture(t *testing.T, mod func(*session.Config)) *fixture {
	t.Helper()
	f := &fixture{clock: clock.NewFake(t0), store: store.NewMemory()}
	f.idp = newFakeIDP(t, f.clock)
	f.m = f.manager(t, f.idp.client(t), mod)
	return f
}

func (f *fixture) manager(t *testing.T, c *cognito.Client, mod func(*session.Config)) *session.Manager {
	t.Helper()
	cfg := session.Config{
		Cognito: c, Store: f.store, Clock: f.clock, Logger: quietLogger(),
		Backoff: session.Backoff{Attempts: 3, Base: time.Millisecond, Max: 2 * time.Millisecond},
	}
	if mod != nil {
		mod(&cfg)
	}
	m, err := session.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func (f *fixture) signIn(t *testing.T) *session.Session {
	t.Helper()
	res, err := f.m.SignIn(context.Background(), cognito.SignInInput{Username: "alice", Password: "correct horse", Flow: cognito.FlowPassword})
	if err != nil {
		t.Fatal(err)
	}
	if res.Session == nil {
		t.Fatalf("sign-in result %+v", res)
	}
	return res.Session
}

func TestFetchCachesAndRefreshesInWindow(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	if _, err := f.m.Fetch(ctx, session.FetchOptions{}); !errors.Is(err, session.ErrSignedOut) {
		t.Fatalf("Fetch before sign-in: err = %v, want ErrSignedOut", err)
	}
	s0 := f.signIn(t)
	if s0.Username != "alice" || s0.UserSub != "sub-alice" || s0.Tokens.ID == nil || s0.Tokens.Refresh == "" {
		t.Fatalf("session = %+v", s0)
	}

	// Fresh: served from cache, no call.
	f.clock.Advance(54 * time.Minute)
	s, err := f.m.Fetch(ctx, session.FetchOptions{})
	if err != nil || s != s0 {
		t.Fatalf("fresh Fetch = %v, %v; want the same session", s, err)
	}
	if n := f.idp.refreshCalls(); n != 0 {
		t.Fatalf("%d refresh calls for a fresh session", n)
	}

	// Inside the 5-minute window: one refresh, then cached again.
	f.clock.Advance(2 * time.Minute)
	s1, err := f.m.Fetch(ctx, session.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s1 == s0 || !s1.Tokens.Access.ExpiresAt().After(s0.Tokens.Access.ExpiresAt()) {
		t.Fatal("no new tokens inside the refresh window")
	}
	if s1.Tokens.Refresh != s0.Tokens.Refresh {
		t.Fatal("refresh token changed without rotation")
	}
	if s2, _ := f.m.Fetch(ctx, session.FetchOptions{}); s2 != s1 {
		t.Fatal("refreshed session not cached")
	}
	if n := f.idp.refreshCalls(); n != 1 {
		t.Fatalf("%d refresh calls, want 1", n)
	}

	// ForceRefresh always goes out.
	if _, err := f.m.Fetch(ctx, session.FetchOptions{ForceRefresh: true}); err != nil {
		t.Fatal(err)
	}
	if n := f.idp.refreshCalls(); n != 2 {
		t.Fatalf("%d refresh calls after ForceRefresh, want 2", n)
	}
	tok, err := f.m.Token(ctx, false)
	if err != nil || tok == "" || strings.Count(tok, ".") != 2 {
		t.Fatalf("Token = %q, %v", tok, err)
	}
}

func TestFetchCachedPathAllocatesNothing(t *testing.T) {
	f := newFixture(t, nil)
	f.signIn(t)
	ctx := context.Background()
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := f.m.Fetch(ctx, session.FetchOptions{}); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("cached Fetch allocates %v times", allocs)
	}
}

func TestThousandCallersOneRefresh(t *testing.T) {
	f := newFixture(t, nil)
	f.idp.refreshDelay = 20 * time.Millisecond // keep the flight open while callers pile up
	f.signIn(t)
	f.clock.Advance(2 * time.Hour) // access and id tokens expired
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, 1000)
	sessions := make(chan *session.Session, 1000)
	for range 1000 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			s, err := f.m.Fetch(context.Background(), session.FetchOptions{})
			if err != nil {
				errs <- err
				return
			}
			sessions <- s
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	close(sessions)
	for err := range errs {
		t.Fatal(err)
	}
	var first *session.Session
	for s := range sessions {
		if first == nil {
			first = s
		}
		if s.Tokens.Access.Raw() != first.Tokens.Access.Raw() {
			t.Fatal("callers got different tokens")
		}
	}
	if n := f.idp.refreshCalls(); n != 1 {
		t.Fatalf("%d refresh requests at the server, want exactly 1", n)
	}
}

func TestCallerCancelDoesNotCancelSharedRefresh(t *testing.T) {
	f := newFixture(t, nil)
	f.idp.refreshDelay = 100 * time.Millisecond
	f.signIn(t)
	f.clock.Advance(2 * time.Hour)
	impatient, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	patient := make(chan error, 1)
	go func() {
		_, err := f.m.Fetch(context.Background(), session.FetchOptions{})
		patient <- err
	}()
	if _, err := f.m.Fetch(impatient, session.FetchOptions{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("impatient caller: err = %v", err)
	}
	if err := <-patient; err != nil {
		t.Fatalf("patient caller failed after another gave up: %v", err)
	}
	if n := f.idp.refreshCalls(); n != 1 {
		t.Fatalf("%d refresh calls, want 1", n)
	}
}

func TestRotationKeepsNewRefreshToken(t *testing.T) {
	f := newFixture(t, nil)
	f.idp.rotate = true
	s0 := f.signIn(t)
	f.clock.Advance(58 * time.Minute)
	s1, err := f.m.Fetch(context.Background(), session.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s1.Tokens.Refresh == s0.Tokens.Refresh || s1.Tokens.Refresh == "" {
		t.Fatal("rotated refresh token not kept")
	}
	// A second Manager reading the same store refreshes with the rotated token.
	m2 := f.manager(t, f.idp.client(t), nil)
	f.clock.Advance(58 * time.Minute)
	if _, err := m2.Fetch(context.Background(), session.FetchOptions{}); err != nil {
		t.Fatalf("refresh with the rotated token: %v", err)
	}
}

func TestRefreshTokenReuseAdoptsStoredSession(t *testing.T) {
	// Manager A refreshes (rotating) through the shared store while manager B still
	// caches the old refresh token and gets RefreshTokenReuse: B must pick up A's
	// session rather than sign the user out.
	f := newFixture(t, nil)
	f.idp.rotate = true
	f.signIn(t)
	b := f.manager(t, f.idp.client(t), nil)
	if _, err := b.Fetch(context.Background(), session.FetchOptions{}); err != nil {
		t.Fatal(err)
	}
	sA, err := f.m.Fetch(context.Background(), session.FetchOptions{ForceRefresh: true})
	if err != nil {
		t.Fatal(err)
	}
	sB, err := b.Fetch(context.Background(), session.FetchOptions{ForceRefresh: true})
	if err != nil {
		t.Fatalf("B after A rotated: %v", err)
	}
	if sB.Tokens.Refresh == "" || sB.Tokens.Refresh == sA.Tokens.Refresh && f.idp.count("GetTokensFromRefreshToken") != 3 {
		t.Fatal("B did not end with a live session")
	}
}

func TestClockDriftCorrected(t *testing.T) {
	// The server runs 20 minutes ahead of the local clock. Judged locally, the
	// tokens would look fresh for 20 minutes past their real expiry.
	f := newFixture(t, nil)
	f.idp.skew = 20 * time.Minute
	f.signIn(t)
	// Local +56m is server +76m: 4 minutes before expiry, inside the window.
	// Judged on the local clock alone the tokens would have 24 minutes left.
	f.clock.Advance(56 * time.Minute)
	if _, err := f.m.Fetch(context.Background(), session.FetchOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := f.idp.refreshCalls(); n != 1 {
		t.Fatalf("%d refresh calls with a drifting clock, want 1 (window judged on server time)", n)
	}
}

func TestShortLivedTokensNotRefreshedOnEveryCall(t *testing.T) {
	f := newFixture(t, nil)
	f.idp.lifetime = 5 * time.Minute // Cognito's minimum, equal to the default window
	f.signIn(t)
	for range 10 {
		if _, err := f.m.Fetch(context.Background(), session.FetchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.idp.refreshCalls(); n != 0 {
		t.Fatalf("%d refreshes of brand-new 5-minute tokens", n)
	}
	f.clock.Advance(3 * time.Minute)
	if _, err := f.m.Fetch(context.Background(), session.FetchOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := f.idp.refreshCalls(); n != 1 {
		t.Fatalf("%d refreshes past half the lifetime, want 1", n)
	}
}

// deadEndpoint returns a loopback URL nothing listens on.
func deadEndpoint(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func TestFailurePolicy(t *testing.T) {
	jsonErr := func(name, msg string) string { return fmt.Sprintf(`{"__type":%q,"message":%q}`, name, msg) }
	type fault struct {
		status int
		body   string
		drop   bool
		hang   bool
	}
	tests := []struct {
		name    string
		fault   fault
		refused bool
		// storeFault makes the store fail ("get", "lock") after the Manager cached
		// the session; bound binds the Manager to the user, so that the session's
		// own read fails rather than that of the current-user record.
		storeFault string
		bound      bool
		// expected outcome
		definitive bool
		reason     session.Reason
		// calls are the refresh requests at the server (retries included): a
		// transient failure holds the endpoint (session.Breakers), and the
		// first try's failing caller may make one more as the probe; its
		// third try meets the hold and sends nothing.
		calls int64
	}{
		{name: "connection refused", refused: true},
		{name: "connection dropped", fault: fault{drop: true}, calls: 2},
		{name: "timeout", fault: fault{hang: true}, calls: 1},
		{name: "500 InternalError", fault: fault{status: 500, body: jsonErr("InternalErrorException", "boom")}, calls: 2},
		{name: "503 throttled", fault: fault{status: 503, body: jsonErr("TooManyRequestsException", "Rate exceeded")}, calls: 2},
		{name: "400 TooManyRequests", fault: fault{status: 400, body: jsonErr("TooManyRequestsException", "Rate exceeded")}, calls: 2},
		{name: "NotAuthorized revoked", fault: fault{status: 400, body: jsonErr("NotAuthorizedException", "Refresh Token has been revoked")}, definitive: true, reason: session.ReasonRevoked, calls: 1},
		{name: "NotAuthorized expired", fault: fault{status: 400, body: jsonErr("NotAuthorizedException", "Refresh Token has expired")}, definitive: true, reason: session.ReasonExpired, calls: 1},
		{name: "UserNotFound", fault: fault{status: 400, body: jsonErr("UserNotFoundException", "User does not exist.")}, definitive: true, reason: session.ReasonUserGone, calls: 1},
		{name: "PasswordResetRequired", fault: fault{status: 400, body: jsonErr("PasswordResetRequiredException", "reset")}, definitive: true, reason: session.ReasonPasswordReset, calls: 1},
		{name: "RefreshTokenReuse", fault: fault{status: 400, body: jsonErr("RefreshTokenReuseException", "reused")}, definitive: true, reason: session.ReasonTokenReuse, calls: 1},
		// The store is part of the refresh too: unreachable, it is as transient
		// as the service (a Redis server down, a file lock that timed out).
		{name: "store Get fails (current user)", storeFault: "get"},
		{name: "store Get fails (session)", storeFault: "get", bound: true},
		{name: "store lock fails", storeFault: "lock", bound: true},
	}
	for _, tt := range tests {
		for _, stillValid := range []bool{true, false} {
			name := tt.name + "/tokens expired"
			if stillValid {
				name = tt.name + "/tokens still valid"
			}
			t.Run(name, func(t *testing.T) {
				f := newFixture(t, nil)
				f.signIn(t)
				c := f.idp.client(t)
				if tt.refused {
					var err error
					if c, err = cognito.New(cognito.Options{UserPoolID: testPool, ClientID: testClient, Endpoint: deadEndpoint(t)}); err != nil {
						t.Fatal(err)
					}
				}
				hang := make(chan struct{})
				defer close(hang)
				f.idp.setFault(func(op string) (int, string, bool) {
					if op != "GetTokensFromRefreshToken" {
						return 0, "", false
					}
					if tt.fault.hang {
						<-hang
					}
					return tt.fault.status, tt.fault.body, tt.fault.drop
				})
				fs := &faultyStore{Store: f.store}
				m := f.manager(t, c, func(cfg *session.Config) {
					cfg.RefreshTimeout = 300 * time.Millisecond
					cfg.Store = fs
					if tt.bound {
						cfg.Username = "alice"
					}
				})
				if tt.storeFault != "" {
					// The Manager has the session cached when the store goes away.
					if _, err := m.Fetch(context.Background(), session.FetchOptions{}); err != nil {
						t.Fatal(err)
					}
					fs.fail(tt.storeFault)
				}
				events := make(chan session.Event, 16)
				defer m.Subscribe(func(e session.Event) { events <- e })()
				if stillValid {
					f.clock.Advance(57 * time.Minute)
				} else {
					f.clock.Advance(61 * time.Minute)
				}
				s, err := m.Fetch(context.Background(), session.FetchOptions{})
				if got := f.idp.refreshCalls(); got != tt.calls {
					t.Errorf("refresh requests = %d, want %d", got, tt.calls)
				}
				_, storeErr := f.store.Get(context.Background(), session.SessionKey(testPool, testClient, "alice"))
				var ev session.Event
				select {
				case ev = <-events:
				case <-time.After(10 * time.Second):
					t.Fatalf("no event after Fetch = %v", err)
				}
				switch {
				case tt.definitive:
					var so *session.SignedOutError
					if !errors.As(err, &so) || so.Reason != tt.reason || !errors.Is(err, session.ErrSignedOut) {
						t.Fatalf("Fetch err = %v, want signed out (%v)", err, tt.reason)
					}
					if !errors.Is(storeErr, store.ErrNotFound) {
						t.Errorf("ended session still stored (%v)", storeErr)
					}
					if ev.Kind != session.SignedOut || ev.Reason != tt.reason {
						t.Errorf("event = %+v, want signed-out %v", ev, tt.reason)
					}
					if _, err := m.Fetch(context.Background(), session.FetchOptions{}); !errors.Is(err, session.ErrSignedOut) {
						t.Errorf("Fetch after the end: %v", err)
					}
				default:
					if storeErr != nil {
						t.Errorf("a transient failure touched the stored session: %v", storeErr)
					}
					if ev.Kind != session.RefreshFailed || !ev.Retryable {
						t.Errorf("event = %+v, want retryable refresh-failed", ev)
					}
					if tt.storeFault != "" && !errors.Is(ev.Err, session.ErrStoreUnavailable) {
						t.Errorf("event error %v, want ErrStoreUnavailable", ev.Err)
					}
					if stillValid {
						if err != nil || s == nil {
							t.Fatalf("Fetch = %v, want the still-valid session", err)
						}
						// Served from cache for a while, hammering neither the service
						// nor the store.
						before, storeBefore := f.idp.refreshCalls(), fs.calls.Load()
						for range 5 {
							if _, err := m.Fetch(context.Background(), session.FetchOptions{}); err != nil {
								t.Fatal(err)
							}
						}
						if f.idp.refreshCalls() != before || fs.calls.Load() != storeBefore {
							t.Error("Fetch retried on every call after a failure")
						}
					} else {
						if err == nil || errors.Is(err, session.ErrSignedOut) || !retryable(err) {
							t.Fatalf("Fetch err = %v, want a retryable error that is not a sign-out", err)
						}
						if tt.storeFault != "" && !errors.Is(err, session.ErrStoreUnavailable) {
							t.Errorf("Fetch err = %v, want ErrStoreUnavailable", err)
						}
					}
					if tt.storeFault != "" {
						// Once the store is back, the same Manager carries on at its
						// next try.
						fs.fail("")
						f.clock.Advance(30 * time.Second)
						s2, err := m.Fetch(context.Background(), session.FetchOptions{})
						if err != nil {
							t.Fatalf("after the store came back: %v", err)
						}
						if s2.Tokens.Access.ExpiresAt().Before(f.clock.Now().Add(50 * time.Minute)) {
							t.Fatal("the tokens were not refreshed once the store came back")
						}
						return
					}
					// Once the service recovers, the same session carries on.
					f.idp.setFault(nil)
					good := f.manager(t, f.idp.client(t), nil)
					if _, err := good.Fetch(context.Background(), session.FetchOptions{ForceRefresh: true}); err != nil {
						t.Fatalf("after recovery: %v", err)
					}
				}
			})
		}
	}
}

func TestCorruptStoreIsNotASignOut(t *testing.T) {
	f := newFixture(t, nil)
	f.signIn(t)
	k := session.SessionKey(testPool, testClient, "alice")
	if _, err := f.store.Put(context.Background(), k, []byte("{not json"), store.AnyVersion, time.Time{}); err != nil {
		t.Fatal(err)
	}
	m := f.manager(t, f.idp.client(t), nil)
	_, err := m.Fetch(context.Background(), session.FetchOptions{})
	if err == nil || errors.Is(err, session.ErrSignedOut) {
		t.Fatalf("Fetch over corrupt data: err = %v, want an error that is not a sign-out", err)
	}
	if e, _ := f.store.Get(context.Background(), k); string(e.Data) != "{not json" {
		t.Fatal("corrupt data was replaced or deleted")
	}
}

func TestSignOut(t *testing.T) {
	tests := []struct {
		name       string
		global     bool
		fault      bool
		wantOp     string
		wantErrSub string
	}{
		{name: "local revokes", wantOp: "RevokeToken"},
		{name: "global", global: true, wantOp: "GlobalSignOut"},
		{name: "revoke fails", fault: true, wantOp: "RevokeToken", wantErrSub: "did not revoke"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			s := f.signIn(t)
			events := make(chan session.Event, 8)
			defer f.m.Subscribe(func(e session.Event) { events <- e })()
			if tt.fault {
				f.idp.setFault(func(op string) (int, string, bool) {
					return 500, `{"__type":"InternalErrorException","message":"down"}`, false
				})
			}
			err := f.m.SignOut(context.Background(), session.SignOutOptions{Global: tt.global})
			if tt.wantErrSub == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErrSub != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErrSub)) {
				t.Fatalf("SignOut err = %v, want %q", err, tt.wantErrSub)
			}
			if f.idp.count(tt.wantOp) != 1 {
				t.Errorf("%s not called", tt.wantOp)
			}
			if _, err := f.m.Fetch(context.Background(), session.FetchOptions{}); !errors.Is(err, session.ErrSignedOut) {
				t.Fatalf("Fetch after SignOut: %v", err)
			}
			if _, err := f.store.Get(context.Background(), store.Join("u", testPool, testClient, "")); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("current user kept after sign-out: %v", err)
			}
			if ev := <-events; ev.Kind != session.SignedOut || ev.Reason != session.ReasonUser {
				t.Errorf("event = %+v", ev)
			}
			if !tt.fault {
				f.idp.mu.Lock()
				_, live := f.idp.refresh[s.Tokens.Refresh.Reveal()]
				f.idp.mu.Unlock()
				if live {
					t.Error("refresh token still live at the service")
				}
			}
			// Signing out twice is fine.
			if err := f.m.SignOut(context.Background(), session.SignOutOptions{}); err != nil {
				t.Fatalf("second SignOut: %v", err)
			}
		})
	}
}

func TestImport(t *testing.T) {
	f := newFixture(t, nil)
	res := f.idp.issue("bob", true, time.Time{})
	access, id, refresh := res["AccessToken"].(string), res["IdToken"].(string), res["RefreshToken"].(string)
	other := func(mod func(map[string]any)) jwt.Secret {
		c := map[string]any{"token_use": "access", "client_id": testClient, "username": "bob", "sub": "sub-bob", "iss": testIssuer, "exp": t0.Add(time.Hour).Unix(), "iat": t0.Unix()}
		mod(c)
		return jwt.Secret(fakeJWT(c))
	}
	tests := []struct {
		name    string
		in      session.ImportInput
		wantErr string
	}{
		{name: "garbage", in: session.ImportInput{AccessToken: "not.a.jwt"}, wantErr: "access token"},
		{name: "id token as access", in: session.ImportInput{AccessToken: jwt.Secret(id)}, wantErr: "token_use"},
		{name: "other pool", in: session.ImportInput{AccessToken: other(func(c map[string]any) { c["iss"] = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other" })}, wantErr: "issuer"},
		{name: "other client", in: session.ImportInput{AccessToken: other(func(c map[string]any) { c["client_id"] = "someone-else" })}, wantErr: "client_id"},
		{name: "no username", in: session.ImportInput{AccessToken: other(func(c map[string]any) { delete(c, "username") })}, wantErr: "lacks"},
		{name: "mismatched users", in: session.ImportInput{AccessToken: other(func(c map[string]any) { c["sub"] = "sub-eve" }), IDToken: jwt.Secret(id)}, wantErr: "different users"},
		{name: "access as id", in: session.ImportInput{AccessToken: jwt.Secret(access), IDToken: jwt.Secret(access)}, wantErr: "id token has token_use"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.m.Import(context.Background(), tt.in)
			if !errors.Is(err, session.ErrInvalidTokens) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want ErrInvalidTokens mentioning %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), access) || strings.Contains(err.Error(), id) {
				t.Fatal("error message contains a token")
			}
		})
	}
	s, err := f.m.Import(context.Background(), session.ImportInput{AccessToken: jwt.Secret(access), IDToken: jwt.Secret(id), RefreshToken: jwt.Secret(refresh)})
	if err != nil {
		t.Fatal(err)
	}
	if s.Username != "bob" || s.UserSub != "sub-bob" {
		t.Fatalf("imported session = %v", s)
	}
	f.clock.Advance(58 * time.Minute)
	if _, err := f.m.Fetch(context.Background(), session.FetchOptions{}); err != nil {
		t.Fatalf("refresh after import: %v", err)
	}
	if n := f.idp.refreshCalls(); n != 1 {
		t.Fatalf("%d refresh calls after import, want 1", n)
	}
}

func TestSubscribers(t *testing.T) {
	f := newFixture(t, nil)
	block := make(chan struct{})
	defer close(block)
	slowGot := make(chan session.Event, 8)
	// A subscriber stuck forever, and one that panics: neither may hold up a
	// refresh or the others' events.
	f.m.Subscribe(func(e session.Event) { slowGot <- e; <-block })
	f.m.Subscribe(func(session.Event) { panic("subscriber bug") })
	got := make(chan session.Event, 8)
	unsub := f.m.Subscribe(func(e session.Event) { got <- e })

	f.signIn(t)
	f.clock.Advance(58 * time.Minute)
	done := make(chan error)
	go func() {
		_, err := f.m.Fetch(context.Background(), session.FetchOptions{})
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("refresh blocked by a subscriber")
	}
	for _, want := range []session.EventKind{session.SignedIn, session.TokenRefreshed} {
		if e := <-got; e.Kind != want || e.Username != "alice" {
			t.Fatalf("event = %+v, want %v", e, want)
		}
	}
	if e := <-slowGot; e.Kind != session.SignedIn {
		t.Fatalf("slow subscriber's first event = %+v", e)
	}
	unsub()
	unsub()
	if err := f.m.SignOut(context.Background(), session.SignOutOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-got:
		t.Fatalf("event %+v after unsubscribe", e)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestBackgroundRefresh(t *testing.T) {
	type timer struct {
		d time.Duration
		f func()
	}
	timers := make(chan timer, 8)
	f := newFixture(t, func(cfg *session.Config) {
		cfg.BackgroundRefresh = true
		session.SetAfterFunc(cfg, func(d time.Duration, fn func()) func() bool {
			timers <- timer{d, fn}
			return func() bool { return true }
		})
	})
	f.signIn(t)
	tm := <-timers
	// Due 55 minutes after sign-in, up to a tenth of the 5-minute window early.
	if tm.d > 55*time.Minute || tm.d < 55*time.Minute-30*time.Second {
		t.Fatalf("background refresh scheduled in %v", tm.d)
	}
	f.clock.Advance(tm.d)
	tm.f() // the timer fires
	if n := f.idp.refreshCalls(); n != 1 {
		t.Fatalf("%d refresh calls after the timer fired, want 1", n)
	}
	if next := <-timers; next.d < 50*time.Minute {
		t.Fatalf("next background refresh in %v", next.d)
	}
	// The caller then finds fresh tokens without waiting.
	if _, err := f.m.Fetch(context.Background(), session.FetchOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := f.idp.refreshCalls(); n != 1 {
		t.Fatalf("%d refresh calls, want 1", n)
	}
}

func TestSecretsDoNotLeak(t *testing.T) {
	f := newFixture(t, nil)
	s := f.signIn(t)
	secrets := []string{s.Tokens.Access.Raw(), s.Tokens.ID.Raw(), s.Tokens.Refresh.Reveal()}
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v", s, *s, s.Tokens), s.String()} {
		for _, sec := range secrets {
			if strings.Contains(out, sec) {
				t.Fatalf("secret printed: %s", out)
			}
		}
	}
}

func TestRevokedElsewhereSignsOut(t *testing.T) {
	f := newFixture(t, nil)
	f.signIn(t)
	events := make(chan session.Event, 4)
	defer f.m.Subscribe(func(e session.Event) { events <- e })()
	f.idp.revokeAll() // an administrator, or a sign-out on another device
	_, err := f.m.Fetch(context.Background(), session.FetchOptions{ForceRefresh: true})
	var so *session.SignedOutError
	if !errors.As(err, &so) || so.Reason != session.ReasonRevoked || !errors.Is(err, cognito.ErrNotAuthorized) {
		t.Fatalf("err = %v, want signed out (revoked) wrapping NotAuthorized", err)
	}
	if e := <-events; e.Kind != session.SignedOut || e.Reason != session.ReasonRevoked {
		t.Fatalf("event = %+v", e)
	}
}
