package websession

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/hostedui"
	"github.com/cogauth/cogauth/internal/faultproxy"
	"github.com/cogauth/cogauth/session"
)

// outageRun is one run of BenchmarkOutage: n sessions on one replica, the
// token endpoint behind a fault proxy, breakers on the system clock.
type outageRun struct {
	f       *fixture
	p       *faultproxy.Proxy
	cookies []string
}

// newOutageRun signs alice in once (SRP at the user pool API) and makes n web
// sessions of her tokens through the callback's path, each its own session
// with its own Manager, as n users would have.
func newOutageRun(b *testing.B, n int, wait time.Duration, br *session.Breakers) *outageRun {
	var px atomic.Pointer[faultproxy.Proxy]
	f := newFixture(b, fixtureOptions{config: func(c *Config) {
		c.RefreshWait = wait
		c.HTTPClient = &http.Client{Transport: viaProxy{&px}}
		c.Session.Breakers = br
		c.CacheSize = 2 * n
	}})
	p := faultproxy.Start(b, f.emu.URL)
	px.Store(p)
	cc, err := cognito.New(cognito.Options{UserPoolID: f.pool, ClientID: f.clientID, Endpoint: f.emu.URL, Clock: f.clk})
	if err != nil {
		b.Fatal(err)
	}
	res, err := cc.SignIn(context.Background(), cognito.SignInInput{Username: alice, Password: password})
	if err != nil || res.Tokens == nil {
		b.Fatalf("SignIn: %v", err)
	}
	tok := &hostedui.Tokens{AccessToken: res.Tokens.AccessToken, IDToken: res.Tokens.IDToken, RefreshToken: res.Tokens.RefreshToken}
	sub := f.emu.UserSub(f.pool, alice)
	w := f.replicas[0]
	r := httptest.NewRequest(http.MethodGet, "/auth/callback", nil)
	run := &outageRun{f: f, p: p}
	for range n {
		id, err := newSessionID()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := w.create(r, id, tok, sub); err != nil {
			b.Fatal(err)
		}
		run.cookies = append(run.cookies, id.cookieValue())
	}
	return run
}

// load sends API requests over every session, workers at a time, for d, and
// returns each request's wait and status.
func (o *outageRun) load(d time.Duration, workers int) (waits []time.Duration, statuses map[int]int) {
	client := &http.Client{Timeout: d + 5*time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	defer client.CloseIdleConnections()
	var mu sync.Mutex
	statuses = map[int]int{}
	var next atomic.Int64
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				c := o.cookies[int(next.Add(1))%len(o.cookies)]
				req, _ := http.NewRequest(http.MethodGet, o.f.base+"/api/x", nil)
				req.Header.Set("Sec-Fetch-Mode", "cors")
				req.AddCookie(&http.Cookie{Name: "cogauth", Value: c})
				start := time.Now()
				resp, err := client.Do(req)
				took := time.Since(start)
				code := 0 // a client timeout
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					code = resp.StatusCode
				}
				mu.Lock()
				waits = append(waits, took)
				statuses[code]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return waits, statuses
}

// BenchmarkOutage: 1,000 sessions on one replica whose access tokens have
// expired, 64 clients sending API requests over them for 8 s while Cognito's
// token endpoint hangs or answers 503 (the fault proxy counts the calls);
// then it comes back, and recover-s is the time until every session has
// been served again. "breaker" is this package's defaults (RefreshWait 2 s,
// the breaker's 0.5 s–4 s holds, 3 s CallTimeout, 4 in flight); "none" is the
// release before: no breaker (holds of 1 ns, nothing bounded) and no
// RefreshWait (1 hour). Run with -benchtime=1x (each iteration is a whole
// outage); see BENCHMARKS.md.
func BenchmarkOutage(b *testing.B) {
	const n, workers, d = 1000, 64, 8 * time.Second
	for _, fault := range []struct {
		name string
		f    faultproxy.Fault
	}{{"hang", faultproxy.Hang()}, {"503", faultproxy.HTML(503)}} {
		for _, variant := range []struct {
			name string
			wait time.Duration
			br   func() *session.Breakers
		}{
			{"breaker", 0, func() *session.Breakers { return session.NewBreakers(session.BreakerOptions{}) }},
			{"none", time.Hour, func() *session.Breakers {
				return session.NewBreakers(session.BreakerOptions{BaseHold: time.Nanosecond, MaxHold: time.Nanosecond, CallTimeout: time.Hour, MaxInFlight: 1 << 20})
			}},
		} {
			b.Run(fault.name+"/"+variant.name, func(b *testing.B) {
				for range b.N {
					b.StopTimer()
					o := newOutageRun(b, n, variant.wait, variant.br())
					o.p.Set(tokenOp, fault.f)
					o.p.ResetCounts()
					o.f.clk.Advance(61 * time.Minute) // every access token has expired
					b.StartTimer()
					waits, statuses := o.load(d, workers)
					b.StopTimer()
					calls := o.p.Count(tokenOp)
					slices.Sort(waits)
					o.p.Clear()
					back := time.Now()
					served := o.recover(b, 30*time.Second)
					b.ReportMetric(waits[len(waits)-1].Seconds(), "max-wait-s")
					b.ReportMetric(waits[len(waits)*99/100].Seconds(), "p99-wait-s")
					b.ReportMetric(waits[len(waits)/2].Seconds(), "p50-wait-s")
					b.ReportMetric(float64(calls)/d.Seconds(), "calls/s")
					b.ReportMetric(float64(len(waits))/d.Seconds(), "req/s")
					b.ReportMetric(float64(statuses[http.StatusUnauthorized]), "401s")
					b.ReportMetric(float64(statuses[0]), "client-timeouts")
					if served {
						b.ReportMetric(time.Since(back).Seconds(), "recover-s")
					} else {
						b.ReportMetric(-1, "recover-s")
					}
				}
			})
		}
	}
}

// recover requests every session until each has been served once (200),
// within limit; it reports whether all were.
func (o *outageRun) recover(b *testing.B, limit time.Duration) bool {
	pending := slices.Clone(o.cookies)
	client := &http.Client{Timeout: limit}
	deadline := time.Now().Add(limit)
	for len(pending) > 0 && time.Now().Before(deadline) {
		var mu sync.Mutex
		var left []string
		var wg sync.WaitGroup
		sem := make(chan struct{}, 64)
		for _, c := range pending {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				req, _ := http.NewRequest(http.MethodGet, o.f.base+"/api/x", nil)
				req.Header.Set("Sec-Fetch-Mode", "cors")
				req.AddCookie(&http.Cookie{Name: "cogauth", Value: c})
				resp, err := client.Do(req)
				ok := err == nil && resp.StatusCode == http.StatusOK
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if !ok {
					mu.Lock()
					left = append(left, c)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		pending = left
		if len(pending) > 0 {
			// Each pass is a round of real requests; the holds run on the
			// system clock, so the next pass is when a probe may go.
			<-time.After(100 * time.Millisecond)
		}
	}
	return len(pending) == 0
}
