package session_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/internal/faultproxy"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/session"
	"github.com/cogauth/cogauth/store"
)

// outageFixture is many Managers of one user's tokens (each its own session,
// as a web tier's sessions are), sharing breakers, talking to the emulator
// through a fault proxy.
type outageFixture struct {
	srv  *emulator.Server
	p    *faultproxy.Proxy
	mgrs []*session.Manager
	logs *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newOutageFixture(t *testing.T, n int, callTimeout time.Duration) *outageFixture {
	t.Helper()
	srv, c0 := startEmulator()
	t.Cleanup(srv.Close)
	f := &outageFixture{srv: srv, p: faultproxy.Start(t, srv.URL), logs: &lockedBuffer{}}
	c, err := cognito.New(cognito.Options{UserPoolID: c0.UserPoolID(), ClientID: c0.ClientID(), Endpoint: f.p.URL()})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	br := session.NewBreakers(session.BreakerOptions{Clock: srv.Clock(), CallTimeout: callTimeout, Logger: log})
	ctx := context.Background()
	first, err := session.New(session.Config{Cognito: c, Clock: srv.Clock(), Breakers: br, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	res, err := first.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: "Corr3ct-Horse!"})
	if err != nil || res.Session == nil {
		t.Fatalf("SignIn: %v", err)
	}
	first.Close()
	tok := res.Session.Tokens
	for range n {
		m, err := session.New(session.Config{Cognito: c, Store: store.NewMemory(), Clock: srv.Clock(), Breakers: br, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		if _, err := m.Import(ctx, session.ImportInput{AccessToken: jwt.Secret(tok.Access.Raw()), IDToken: jwt.Secret(tok.ID.Raw()), RefreshToken: tok.Refresh}); err != nil {
			t.Fatal(err)
		}
		f.mgrs = append(f.mgrs, m)
	}
	f.p.ResetCounts()
	return f
}

// fetchAll fetches every Manager's session at once with MaxWait and returns
// the longest wait and the errors.
func (f *outageFixture) fetchAll(maxWait time.Duration) (time.Duration, []error) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var longest time.Duration
	errs := make([]error, len(f.mgrs))
	for i, m := range f.mgrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			_, err := m.Fetch(context.Background(), session.FetchOptions{MaxWait: maxWait})
			d := time.Since(start)
			mu.Lock()
			longest = max(longest, d)
			errs[i] = err
			mu.Unlock()
		}()
	}
	wg.Wait()
	return longest, errs
}

// TestOutageOneProbePerEndpoint: with the token endpoint hanging, answering
// 503 or resetting connections, 200 sessions whose tokens have expired each
// fail within MaxWait with a retryable error (never signed out); the endpoint
// sees the calls of the first seconds (MaxInFlight) and then one probe per
// hold; once it is back, the probe releases it and every session refreshes.
func TestOutageOneProbePerEndpoint(t *testing.T) {
	const n, maxWait = 200, 400 * time.Millisecond
	for _, tc := range []struct {
		name  string
		fault faultproxy.Fault
	}{
		{"hang", faultproxy.Hang()},
		{"503", faultproxy.HTML(503)},
		{"reset", faultproxy.Reset()},
		{"throttled", faultproxy.Throttle()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newOutageFixture(t, n, 200*time.Millisecond)
			f.p.Set(faultproxy.Any, tc.fault)
			f.srv.Advance(61 * time.Minute) // every access token has expired
			rounds := 8
			for r := range rounds {
				longest, errs := f.fetchAll(maxWait)
				for _, err := range errs {
					if err == nil || !retryable(err) || errors.Is(err, session.ErrSignedOut) {
						t.Fatalf("round %d: %v; want a retryable error, the session kept", r, err)
					}
				}
				// MaxWait, plus scheduling of 200 goroutines on a loaded machine
				// under -race (load 15 on 2 cores has delayed one by 2.5 s); an
				// unbounded Fetch would wait for the flight's 30 s timeout.
				if longest > maxWait+5*time.Second {
					t.Fatalf("round %d: a Fetch waited %v (MaxWait %v)", r, longest, maxWait)
				}
				// Every hold is at least 0.5 s: a 0.6 s step allows one probe.
				f.srv.Advance(600 * time.Millisecond)
			}
			// The first wave: at most MaxInFlight (4) sent before the first
			// failure came back, and one retry among them as the probe; then
			// at most one probe per round.
			if calls := f.p.Count(faultproxy.Any); calls > 5+rounds {
				t.Fatalf("%d calls to the token endpoint for %d sessions over %d rounds; want at most %d", calls, n, rounds, 5+rounds)
			} else {
				t.Logf("%s: %d calls for %d sessions × %d rounds", tc.name, calls, n, rounds)
			}
			logs := f.logs.String()
			if !strings.Contains(logs, "token endpoint held") || !strings.Contains(logs, "probing a held token endpoint") {
				t.Fatalf("the hold is not in the log:\n%s", logs)
			}

			f.p.Clear()
			// A probe of the last round may still hang until its CallTimeout
			// (200 ms, real time), its flight then waiting out one backoff
			// (at most 200 ms): let that run out before moving the clock.
			<-time.After(500 * time.Millisecond)
			f.p.ResetCounts()
			f.srv.Advance(5 * time.Second) // past the longest hold
			reheld := 0
			for i, m := range f.mgrs {
				_, err := m.Fetch(context.Background(), session.FetchOptions{})
				// A loaded machine (-race, 200 sessions, 2 cores) can slow a real
				// refresh past the fixture's 200 ms CallTimeout: that timeout
				// holds the endpoint again, and the next Fetch fails at once
				// with nothing sent (or the slow call itself fails, retryably).
				// A caller waits the hold out; so does this, a few times at most.
				for err != nil && retryable(err) && !errors.Is(err, session.ErrSignedOut) && reheld < 3 {
					reheld++
					t.Logf("session %d: held again once back (%v); waiting the hold out", i, err)
					f.srv.Advance(5 * time.Second)
					_, err = m.Fetch(context.Background(), session.FetchOptions{})
				}
				if err != nil {
					t.Fatalf("session %d once the endpoint is back: %v", i, err)
				}
			}
			// One refresh per session, give or take a few flights of the last
			// round that a loaded machine (load 19 on 2 cores has done it) ran
			// later than the wait above, and the calls a re-hold cost.
			if calls := f.p.Count(faultproxy.Any); calls < n || calls > n+5+4*reheld {
				t.Fatalf("%d calls to refresh %d sessions once back", calls, n)
			} else if calls != n {
				t.Logf("%d calls to refresh %d sessions once back", calls, n)
			}
			if !strings.Contains(f.logs.String(), "token endpoint released") {
				t.Fatal("the release is not in the log")
			}
		})
	}
}

// TestDefinitiveAnswerDoesNotHoldTheEndpoint: a refresh token the service
// refuses ends that session only; the next session's refresh goes out at once.
func TestDefinitiveAnswerDoesNotHoldTheEndpoint(t *testing.T) {
	f := newOutageFixture(t, 2, time.Second)
	f.p.Set(faultproxy.Any, faultproxy.CognitoError(400, "NotAuthorizedException", "Refresh Token has been revoked").Times(1))
	f.srv.Advance(61 * time.Minute)
	ctx := context.Background()
	if _, err := f.mgrs[0].Fetch(ctx, session.FetchOptions{}); !errors.Is(err, session.ErrSignedOut) {
		t.Fatalf("revoked: %v", err)
	}
	if _, err := f.mgrs[1].Fetch(ctx, session.FetchOptions{}); err != nil {
		t.Fatalf("the next session after a definitive answer: %v", err)
	}
	if strings.Contains(f.logs.String(), "token endpoint held") {
		t.Fatalf("a definitive answer held the endpoint:\n%s", f.logs.String())
	}
}

// TestMaxWaitServesValidTokens: while the access token is valid, a due refresh
// against a hanging endpoint delays Fetch by MaxWait at most, and the refresh
// goes on in the background: once the endpoint answers, the next Fetch after
// it has the new tokens without waiting.
func TestMaxWaitServesValidTokens(t *testing.T) {
	f := newOutageFixture(t, 1, 5*time.Second)
	m := f.mgrs[0]
	ctx := context.Background()
	before, err := m.Fetch(ctx, session.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	f.p.Set(faultproxy.Any, faultproxy.Rewrite("held", func(status int, h http.Header, body []byte) (int, []byte) {
		<-release
		return status, body
	}))
	f.srv.Advance(57 * time.Minute) // due, still valid
	start := time.Now()
	s, err := m.Fetch(ctx, session.FetchOptions{MaxWait: 300 * time.Millisecond})
	waited := time.Since(start)
	if err != nil || s.Tokens.Access.Raw() != before.Tokens.Access.Raw() {
		t.Fatalf("due and valid: %v", err)
	}
	if waited > 300*time.Millisecond+time.Second {
		t.Fatalf("waited %v for a MaxWait of 300ms", waited)
	}
	// ctx still bounds it: a caller whose ctx ends first gets ctx's error.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := m.Fetch(short, session.FetchOptions{MaxWait: time.Minute}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ctx ended before MaxWait: %v", err)
	}
	refreshed := make(chan struct{}, 1)
	defer m.Subscribe(func(e session.Event) {
		if e.Kind == session.TokenRefreshed {
			refreshed <- struct{}{}
		}
	})()
	close(release)
	// The background refresh lands, with no Fetch waiting for it; then Fetch
	// serves the new tokens from the cache.
	select {
	case <-refreshed:
	case <-time.After(10 * time.Second):
		t.Fatal("the background refresh never landed")
	}
	s, err = m.Fetch(ctx, session.FetchOptions{MaxWait: 300 * time.Millisecond})
	if err != nil || s.Tokens.Access.Raw() == before.Tokens.Access.Raw() {
		t.Fatalf("after the background refresh: %v (old tokens: %v)", err, err == nil)
	}
	if calls := f.p.Count(faultproxy.Any); calls != 1 {
		t.Fatalf("%d refresh calls, want 1", calls)
	}
}

// noEndpoint hides a Refresher's endpoint: the Manager holds nothing, as
// before Breakers.
type noEndpoint struct{ r session.Refresher }

func (n noEndpoint) Refresh(ctx context.Context, req session.RefreshRequest) (*session.RefreshResult, error) {
	return n.r.Refresh(ctx, req)
}

// BenchmarkHeldRefresh: what a Fetch of an expired session costs while the
// token endpoint answers 503. "held": the endpoint is held, the refresh fails
// at once and sends nothing; "sent": no breaker (the release before, one try
// per Fetch, no backoff waits): each Fetch sends its refresh through the fault
// proxy and gets the 503.
func BenchmarkHeldRefresh(b *testing.B) {
	for _, held := range []bool{true, false} {
		name := "sent"
		if held {
			name = "held"
		}
		b.Run(name, func(b *testing.B) {
			srv, c0 := startEmulator()
			defer srv.Close()
			p := faultproxy.Start(b, srv.URL)
			c, err := cognito.New(cognito.Options{UserPoolID: c0.UserPoolID(), ClientID: c0.ClientID(), Endpoint: p.URL()})
			if err != nil {
				b.Fatal(err)
			}
			quiet := slog.New(slog.DiscardHandler)
			cfg := session.Config{Cognito: c, Clock: srv.Clock(), Logger: quiet, Backoff: session.Backoff{Attempts: 1},
				Breakers: session.NewBreakers(session.BreakerOptions{Clock: srv.Clock(), Logger: quiet})}
			if !held {
				cfg.Refresher = noEndpoint{session.UserPool(c)}
			}
			m, err := session.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			ctx := context.Background()
			if _, err := m.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: "Corr3ct-Horse!"}); err != nil {
				b.Fatal(err)
			}
			p.Set(faultproxy.Any, faultproxy.HTML(503))
			srv.Advance(61 * time.Minute)
			if _, err := m.Fetch(ctx, session.FetchOptions{}); !retryable(err) {
				b.Fatalf("first Fetch in the outage: %v", err)
			}
			p.ResetCounts()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := m.Fetch(ctx, session.FetchOptions{}); !retryable(err) {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(p.Count(faultproxy.Any))/float64(b.N), "calls/op")
		})
	}
}
