package session_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/internal/peers"
	"github.com/cogauth/cogauth/session"
	"github.com/cogauth/cogauth/store"
	redisstore "github.com/cogauth/cogauth/store/redis"
)

// storeOnly hides a store's Locker, as a store without cross-replica locks would.
type storeOnly struct{ store.Store }

// refreshRequests counts the refresh calls the emulator has seen, by either API.
func refreshRequests(srv *emulator.Server) int {
	return srv.Requests("GetTokensFromRefreshToken") + srv.Requests("InitiateAuth")
}

// TestReplicasShareSessionThroughRedis: two replicas (Managers with their own Redis
// connections) serve one user's session from one Redis. When the tokens are due,
// both Fetch at once; the Redis lock lets exactly one spend the (rotating) refresh
// token, and the other serves what it saved. Without the lock — the control case —
// both go to the service, which shows the test would catch a lock that does not
// hold across replicas.
func TestReplicasShareSessionThroughRedis(t *testing.T) {
	addr := peers.Redis(t)
	tests := []struct {
		name          string
		hideLock      bool
		wantRefreshes int
	}{
		{"redis lock", false, 1},
		{"without the lock (control)", true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const pw = "Corr3ct-Horse!"
			srv := emulator.NewServer(emulator.Options{
				Clock: clock.NewFake(t0),
				Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
					Name:    "app",
					Clients: []emulator.SeedClient{{Name: "web", RefreshTokenRotation: true}},
					Users:   []emulator.SeedUser{{Username: "alice", Password: pw}},
				}}},
			})
			defer srv.Close()
			replica := func() *session.Manager {
				c, err := cognito.New(cognito.Options{UserPoolID: srv.PoolID("app"), ClientID: srv.AppClient("app", "web").ID, Endpoint: srv.URL, Clock: srv.Clock()})
				if err != nil {
					t.Fatal(err)
				}
				rc := redis.NewClient(&redis.Options{Addr: addr, DisableIdentity: true})
				t.Cleanup(func() { _ = rc.Close() })
				var st store.Store
				st, err = redisstore.New(rc, redisstore.Options{Prefix: tt.name + ":"})
				if err != nil {
					t.Fatal(err)
				}
				if tt.hideLock {
					st = storeOnly{st}
				}
				m, err := session.New(session.Config{Cognito: c, Store: st, Clock: srv.Clock(), Logger: quietLogger()})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = m.Close() })
				return m
			}
			a, b := replica(), replica()
			ctx := context.Background()
			if _, err := a.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: pw}); err != nil {
				t.Fatal(err)
			}
			// Replica b has never seen the session: it finds the user and the tokens in
			// Redis.
			if s, err := b.Fetch(ctx, session.FetchOptions{}); err != nil || s.Username != "alice" {
				t.Fatalf("b before refresh: %v, %v", s, err)
			}

			// 56 minutes on, the one-hour tokens are in the refresh window. Each refresh
			// is held back so that the two replicas' attempts overlap for certain.
			srv.Advance(56 * time.Minute)
			srv.ResetCounters()
			slow := emulator.Fault{Latency: 300 * time.Millisecond}
			srv.InjectFault("GetTokensFromRefreshToken", slow)
			srv.InjectFault("InitiateAuth", slow)
			var sessions [2]*session.Session
			var errs [2]error
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i, m := range []*session.Manager{a, b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					sessions[i], errs[i] = m.Fetch(ctx, session.FetchOptions{})
				}()
			}
			close(start)
			wg.Wait()
			srv.ClearFaults()

			if n := refreshRequests(srv); n != tt.wantRefreshes {
				t.Fatalf("%d refresh requests at the service, want %d", n, tt.wantRefreshes)
			}
			if tt.hideLock {
				return
			}
			for i, err := range errs {
				if err != nil {
					t.Fatalf("replica %d: %v", i, err)
				}
			}
			sa, sb := sessions[0], sessions[1]
			if sa.Tokens.Access.Raw() != sb.Tokens.Access.Raw() || sa.Tokens.Refresh.Reveal() != sb.Tokens.Refresh.Reveal() {
				t.Fatal("replicas serve different tokens")
			}
			if left := sa.Tokens.Access.ExpiresAt().Sub(srv.Now()); left < 50*time.Minute {
				t.Fatalf("access token expires in %v: not refreshed", left)
			}

			// The stored, rotated refresh token is the service's live one: b can spend
			// it. Then a, whose memory still holds the token b just spent, refreshes
			// after re-reading Redis under the lock — one request, no reuse.
			srv.ResetCounters()
			fb, err := b.Fetch(ctx, session.FetchOptions{ForceRefresh: true})
			if err != nil {
				t.Fatalf("refresh with the stored token: %v", err)
			}
			srv.Advance(56 * time.Minute)
			fa, err := a.Fetch(ctx, session.FetchOptions{})
			if err != nil {
				t.Fatalf("a after b rotated the token: %v", err)
			}
			if n := refreshRequests(srv); n != 2 {
				t.Fatalf("%d refresh requests, want 2", n)
			}
			if fa.Tokens.Refresh.Reveal() == fb.Tokens.Refresh.Reveal() || fa.Tokens.Access.ExpiresAt().Sub(srv.Now()) < 50*time.Minute {
				t.Fatal("a did not refresh with b's rotated token")
			}
			// b's own tokens are due too; it finds a's in Redis instead of refreshing.
			if s, err := b.Fetch(ctx, session.FetchOptions{}); err != nil || s.Tokens.Access.Raw() != fa.Tokens.Access.Raw() {
				t.Fatalf("b does not serve a's refresh: %v", err)
			}
			if n := refreshRequests(srv); n != 2 {
				t.Fatalf("%d refresh requests after b read a's refresh, want 2", n)
			}
		})
	}
}

// TestRedisDownIsTransient reproduces the report behind the store failure policy:
// a replica holds a session with four minutes of validity left when its Redis
// client goes away ("redis: client is closed"). Fetch keeps serving the tokens,
// says so with a retryable refresh-failed event, and once they are dead reports a
// retryable error; the session is never signed out.
func TestRedisDownIsTransient(t *testing.T) {
	addr := peers.Redis(t)
	const pw = "Corr3ct-Horse!"
	srv := emulator.NewServer(emulator.Options{
		Clock: clock.NewFake(t0),
		Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
			Name: "app", Clients: []emulator.SeedClient{{Name: "web"}},
			Users: []emulator.SeedUser{{Username: "alice", Password: pw}},
		}}},
	})
	defer srv.Close()
	c, err := cognito.New(cognito.Options{UserPoolID: srv.PoolID("app"), ClientID: srv.AppClient("app", "web").ID, Endpoint: srv.URL, Clock: srv.Clock()})
	if err != nil {
		t.Fatal(err)
	}
	rc := redis.NewClient(&redis.Options{Addr: addr, DisableIdentity: true})
	st, err := redisstore.New(rc, redisstore.Options{Prefix: t.Name() + ":"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := session.New(session.Config{Cognito: c, Store: st, Clock: srv.Clock(), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	res, err := m.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan session.Event, 8)
	defer m.Subscribe(func(e session.Event) { events <- e })()

	srv.ResetCounters()
	_ = rc.Close()
	srv.Advance(56 * time.Minute)
	s, err := m.Fetch(ctx, session.FetchOptions{})
	if err != nil || s.Tokens.Access.Raw() != res.Session.Tokens.Access.Raw() {
		t.Fatalf("Fetch with Redis down and 4 minutes left: %v", err)
	}
	if e := <-events; e.Kind != session.RefreshFailed || !e.Retryable || !errors.Is(e.Err, session.ErrStoreUnavailable) {
		t.Fatalf("event %+v, want retryable refresh-failed (store unavailable)", e)
	}
	srv.Advance(5 * time.Minute)
	_, err = m.Fetch(ctx, session.FetchOptions{})
	if err == nil || errors.Is(err, session.ErrSignedOut) || !retryable(err) || !errors.Is(err, redis.ErrClosed) {
		t.Fatalf("Fetch with Redis down and the tokens dead: %v, want a retryable error (redis closed) that is not a sign-out", err)
	}
	if n := refreshRequests(srv); n != 0 {
		t.Fatalf("%d refresh requests without the store's lock", n)
	}
}
