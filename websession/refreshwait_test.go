package websession

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cogauth/cogauth/internal/faultproxy"
	"github.com/cogauth/cogauth/internal/peers"
	"github.com/cogauth/cogauth/session"
)

// viaProxy sends the replicas' hosted UI requests (the code exchange, the
// refreshes) through a fault proxy in front of the emulator.
type viaProxy struct {
	p *atomic.Pointer[faultproxy.Proxy]
}

func (v viaProxy) RoundTrip(r *http.Request) (*http.Response, error) {
	if p := v.p.Load(); p != nil {
		r = r.Clone(r.Context())
		r.URL.Host = strings.TrimPrefix(p.URL(), "http://")
		r.Host = ""
	}
	return http.DefaultTransport.RoundTrip(r)
}

// proxiedFixture is a fixture whose token endpoint is behind a fault proxy,
// with RefreshWait wait and breakers on the fixture's clock.
func proxiedFixture(t *testing.T, wait time.Duration) (*fixture, *faultproxy.Proxy) {
	t.Helper()
	var px atomic.Pointer[faultproxy.Proxy]
	f := newFixture(t, fixtureOptions{config: func(c *Config) {
		c.RefreshWait = wait
		c.HTTPClient = &http.Client{Transport: viaProxy{&px}}
		// Far longer than RefreshWait plus the tests' slack: a request that
		// waited for a hanging call would be seen.
		c.Session.Breakers = session.NewBreakers(session.BreakerOptions{Clock: c.Clock, CallTimeout: 20 * time.Second})
	}})
	p := faultproxy.Start(t, f.emu.URL)
	px.Store(p)
	return f, p
}

const tokenOp = "/oauth2/token"

// timed sends a request and returns the answer and how long it took.
func timed(fn func() (*http.Response, string)) (*http.Response, string, time.Duration) {
	start := time.Now()
	resp, body := fn()
	return resp, body, time.Since(start)
}

// TestRefreshWaitBoundsEveryRequest: the token endpoint hangs, answers 503 or
// resets connections. While the access token is valid, a request whose
// refresh is due is served within RefreshWait with that token; once it has
// expired, API requests get 503 JSON with Retry-After and navigations a short
// page, within RefreshWait, never a 401 and never a sign-out; the endpoint gets
// a handful of calls; once it answers again, the same cookie is served.
func TestRefreshWaitBoundsEveryRequest(t *testing.T) {
	const wait = 300 * time.Millisecond
	// RefreshWait plus scheduling on a loaded machine under -race; a request
	// that waited for the hanging call would take the test's 20 s CallTimeout.
	const slack = 3 * time.Second
	for _, tc := range []struct {
		name string
		// fault returns the fault and what ends it (nil: nothing to end).
		fault func() (faultproxy.Fault, func())
	}{
		{"hang", func() (faultproxy.Fault, func()) {
			// Hangs until the test lets the answer go (rather than until the
			// client gives up), so that no real time is waited for.
			block := make(chan struct{})
			return faultproxy.Rewrite("hang until released", func(status int, h http.Header, body []byte) (int, []byte) {
				<-block
				return status, body
			}), func() { close(block) }
		}},
		{"503", func() (faultproxy.Fault, func()) { return faultproxy.HTML(503), nil }},
		{"reset", func() (faultproxy.Fault, func()) { return faultproxy.Reset(), nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, p := proxiedFixture(t, wait)
			fault, release := tc.fault()
			br := f.browser()
			if resp, body := br.signIn("/", alice, password); resp.StatusCode != http.StatusOK || !strings.Contains(body, "hello alice") {
				t.Fatalf("sign-in: %d %s", resp.StatusCode, body)
			}
			p.Set(tokenOp, fault)
			p.ResetCounts()

			f.clk.Advance(57 * time.Minute) // due, still valid for 3 minutes
			resp, body, took := timed(func() (*http.Response, string) { return br.fetch(http.MethodGet, f.base+"/x") })
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, "hello alice") || took > wait+slack {
				t.Fatalf("valid token, refresh due: %d %q after %v", resp.StatusCode, body, took)
			}
			// A handler that calls an API with the user's token (User.Token,
			// through httpauth) is bound by RefreshWait too.
			resp, body, took = timed(func() (*http.Response, string) { return br.fetch(http.MethodGet, f.base+"/api/call") })
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, "api sees alice") || took > wait+slack {
				t.Fatalf("API call with the valid token, refresh due: %d %q after %v", resp.StatusCode, body, took)
			}

			f.clk.Advance(5 * time.Minute) // expired
			for i := range 10 {
				resp, body, took := timed(func() (*http.Response, string) { return br.fetch(http.MethodGet, f.base+"/x") })
				if resp.StatusCode != http.StatusServiceUnavailable || took > wait+slack {
					t.Fatalf("API request %d, token expired: %d %q after %v", i, resp.StatusCode, body, took)
				}
				var got unavailableBody
				if err := json.Unmarshal([]byte(body), &got); err != nil || !got.Temporary || got.Error != "temporarily_unavailable" {
					t.Fatalf("503 body %q: %v", body, err)
				}
				if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 30 || ra != got.RetryAfter {
					t.Fatalf("Retry-After %q, body says %d", resp.Header.Get("Retry-After"), got.RetryAfter)
				}
				if sc := resp.Header.Values("Set-Cookie"); len(sc) != 0 {
					t.Fatalf("a 503 touched the cookies: %v", sc)
				}
				resp, page, took := timed(func() (*http.Response, string) { return br.get(f.base + "/x") })
				if resp.StatusCode != http.StatusServiceUnavailable || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
					!strings.Contains(page, "Try again") || resp.Header.Get("Retry-After") == "" || took > wait+slack {
					t.Fatalf("navigation %d, token expired: %d %s %q after %v", i, resp.StatusCode, resp.Header.Get("Content-Type"), page, took)
				}
				f.clk.Advance(300 * time.Millisecond)
			}
			if calls := p.Count(tokenOp); calls > 5+6 {
				// The first try and its retry, then at most one probe per 0.5 s
				// of the 3 s the clock moved.
				t.Fatalf("%d calls to the token endpoint for 22 requests", calls)
			}
			for _, s := range f.answered(http.MethodGet, "/x") {
				if s == "401" {
					t.Fatal("a 401 during the outage")
				}
			}

			p.Clear()
			if release != nil {
				release()
			}
			f.clk.Advance(5 * time.Second) // past the longest hold
			if resp, body := br.fetch(http.MethodGet, f.base+"/x"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "hello alice") {
				t.Fatalf("once the endpoint is back: %d %q", resp.StatusCode, body)
			}
		})
	}
}

func TestRefreshWaitConfig(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	cfg := f.replicas[0].config()
	if cfg.RefreshWait != DefaultRefreshWait {
		t.Fatalf("default RefreshWait %v", cfg.RefreshWait)
	}
	cfg.RefreshWait = -time.Second
	cfg.Store, cfg.Bus = nil, nil
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "RefreshWait") {
		t.Fatalf("negative RefreshWait: %v", err)
	}
}

// TestOutageAcrossReplicasOnRedis: three replicas (each its own breakers, as
// three processes have) on one redis-server, the token endpoint answering 503.
// Every request on the expired session is a 503 within RefreshWait on every
// replica; each replica sends its first try and one retry, then at most one
// probe per hold; once the endpoint is back, one refresh serves all three.
func TestOutageAcrossReplicasOnRedis(t *testing.T) {
	addr := peers.Redis(t)
	st, bus := redisReplicas(t, addr)
	const wait = 300 * time.Millisecond
	var px atomic.Pointer[faultproxy.Proxy]
	f := newFixture(t, fixtureOptions{replicas: 3, store: st, bus: bus, config: func(c *Config) {
		c.RefreshWait = wait
		c.HTTPClient = &http.Client{Transport: viaProxy{&px}}
		c.Session.Breakers = session.NewBreakers(session.BreakerOptions{Clock: c.Clock, CallTimeout: 20 * time.Second})
	}})
	p := faultproxy.Start(t, f.emu.URL)
	px.Store(p)
	br := f.browser()
	if resp, body := br.signIn("/", alice, password); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d %s", resp.StatusCode, body)
	}
	p.Set(tokenOp, faultproxy.HTML(503))
	p.ResetCounts()
	f.clk.Advance(61 * time.Minute)
	const rounds, perRound = 8, 15 // five requests per replica per round (round robin)
	for r := range rounds {
		for i := range perRound {
			resp, body, took := timed(func() (*http.Response, string) { return br.fetch(http.MethodGet, f.base+"/x") })
			if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, `"temporary":true`) || took > wait+3*time.Second {
				t.Fatalf("round %d request %d: %d %q after %v", r, i, resp.StatusCode, body, took)
			}
		}
		f.clk.Advance(600 * time.Millisecond) // at most one probe per replica
	}
	if calls := p.Count(tokenOp); calls > 3*(2+rounds) {
		t.Fatalf("%d calls to the token endpoint for %d requests on 3 replicas; want at most %d", calls, rounds*perRound, 3*(2+rounds))
	} else {
		t.Logf("%d calls for %d requests on 3 replicas", calls, rounds*perRound)
	}
	p.Clear()
	p.ResetCounts()
	f.clk.Advance(5 * time.Second) // past the longest hold
	for i := range 6 {
		if resp, body := br.fetch(http.MethodGet, f.base+"/x"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "hello alice") {
			t.Fatalf("request %d once the endpoint is back: %d %q", i, resp.StatusCode, body)
		}
	}
	if calls := p.Count(tokenOp); calls != 1 {
		t.Fatalf("%d refreshes across 3 replicas once back, want 1", calls)
	}
}

// TestHandlerWaitsWhatIsLeftOfRefreshWait: the token endpoint hangs while the
// access token is still valid. The middleware waits RefreshWait for the due
// refresh and serves the valid token; the handler's own User.Token (an API
// call through httpauth) must not wait a second RefreshWait, so the request
// as a whole stays within one.
func TestHandlerWaitsWhatIsLeftOfRefreshWait(t *testing.T) {
	const wait = time.Second
	f, p := proxiedFixture(t, wait)
	br := f.browser()
	if resp, body := br.signIn("/", alice, password); resp.StatusCode != http.StatusOK || !strings.Contains(body, "hello alice") {
		t.Fatalf("sign-in: %d %s", resp.StatusCode, body)
	}
	block := make(chan struct{})
	defer close(block)
	p.Set(tokenOp, faultproxy.Rewrite("hang until released", func(status int, h http.Header, body []byte) (int, []byte) {
		<-block
		return status, body
	}))
	f.clk.Advance(57 * time.Minute) // due, still valid for 3 minutes
	resp, body, took := timed(func() (*http.Response, string) { return br.fetch(http.MethodGet, f.base+"/api/call") })
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "api sees alice") {
		t.Fatalf("API call with the valid token, refresh due: %d %q", resp.StatusCode, body)
	}
	// Two RefreshWaits would be 2 s; one and the request's own work well under.
	if took >= wait+wait*3/4 {
		t.Fatalf("the request took %v: the handler waited again after the middleware's %v", took, wait)
	}
}

// TestLogoutDuringOutage: the token endpoint and RevokeToken hang, the access
// token has expired. A sign-out needs no refresh: it ends the session within
// RefreshWait (the revocation at Cognito bounded by it, logged as failed) and
// the cookie no longer signs anyone in.
func TestLogoutDuringOutage(t *testing.T) {
	const wait = 300 * time.Millisecond
	f, p := proxiedFixture(t, wait)
	br := f.browser()
	if resp, body := br.signIn("/", alice, password); resp.StatusCode != http.StatusOK || !strings.Contains(body, "hello alice") {
		t.Fatalf("sign-in: %d %s", resp.StatusCode, body)
	}
	block := make(chan struct{})
	defer close(block)
	p.Set(faultproxy.Any, faultproxy.Rewrite("hang until released", func(status int, h http.Header, body []byte) (int, []byte) {
		<-block
		return status, body
	}))
	f.clk.Advance(57 * time.Minute) // due, still valid: served, the idle timeout extended
	if resp, _ := br.fetch(http.MethodGet, f.base+"/x"); resp.StatusCode != http.StatusOK {
		t.Fatalf("valid token, token endpoint hanging: %d (want 200)", resp.StatusCode)
	}
	f.clk.Advance(5 * time.Minute) // expired
	if resp, _ := br.fetch(http.MethodGet, f.base+"/x"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("expired token, token endpoint hanging: %d (want 503)", resp.StatusCode)
	}
	resp, _, took := timed(func() (*http.Response, string) { return br.navigate(http.MethodPost, f.base+"/auth/logout") })
	if took > wait+3*time.Second {
		t.Fatalf("sign-out took %v with Cognito hanging (want about RefreshWait %v)", took, wait)
	}
	if got := f.answered(http.MethodPost, "/auth/logout"); len(got) != 1 || !strings.HasPrefix(got[0], "303") {
		t.Fatalf("sign-out answered %v (final %d), want one 303", got, resp.StatusCode)
	}
	if resp, _ := br.fetch(http.MethodGet, f.base+"/x"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("after the sign-out: %d (want 401)", resp.StatusCode)
	}
}
