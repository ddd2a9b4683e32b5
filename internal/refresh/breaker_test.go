package refresh

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/internal/errkind"
)

var errDown = &cognito.Error{Op: "test", Name: cognito.NetworkError, Retryable: true}

func transient(err error) bool { return errkind.Retryable(err) }

type breakerFixture struct {
	clk    *clock.Fake
	reg    *Breakers
	b      *Breaker
	logs   *syncBuffer
	reader *sdkmetric.ManualReader
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newBreakerFixture(t *testing.T, p BreakerPolicy) *breakerFixture {
	t.Helper()
	f := &breakerFixture{clk: clock.NewFake(time.Unix(1_700_000_000, 0)), logs: &syncBuffer{}, reader: sdkmetric.NewManualReader()}
	f.reg = NewBreakers(BreakerOptions{
		Policy: p, Clock: f.clk,
		Logger:        slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
		MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(f.reader)),
	})
	f.b = f.reg.For("https://auth.example.com/oauth2/token")
	return f
}

// call runs one call through the breaker, counting calls that were sent.
func (f *breakerFixture) call(sent *atomic.Int64, retry bool, result error) (bool, error) {
	return f.b.Do(context.Background(), retry, func(context.Context) error {
		sent.Add(1)
		return result
	}, transient)
}

// counts returns the breaker's metrics: transitions by state, and rejected.
func (f *breakerFixture) counts(t *testing.T) (map[string]int64, int64) {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := f.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	states := map[string]int64{}
	var rejected int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			sum, ok := m.Data.(metricdata.Sum[int64])
			if !ok {
				continue
			}
			for _, dp := range sum.DataPoints {
				if ep, _ := dp.Attributes.Value("endpoint"); ep.AsString() != f.b.endpoint {
					t.Fatalf("%s without the endpoint attribute: %v", m.Name, dp.Attributes)
				}
				switch m.Name {
				case "cogauth.refresh.breaker.transitions":
					st, _ := dp.Attributes.Value("state")
					states[st.AsString()] += dp.Value
				case "cogauth.refresh.breaker.rejected":
					rejected += dp.Value
				}
			}
		}
	}
	return states, rejected
}

func TestBreakerHoldsProbesAndReleases(t *testing.T) {
	f := newBreakerFixture(t, BreakerPolicy{})
	var sent atomic.Int64
	if _, err := f.call(&sent, false, nil); err != nil {
		t.Fatal(err)
	}
	again, err := f.call(&sent, false, errDown)
	if !errors.Is(err, errDown) || !again {
		t.Fatalf("first failure: again=%v err=%v", again, err)
	}
	// Held: 0.5 s exactly after the first failure (floor = cap = Base).
	for range 5 {
		_, err := f.call(&sent, false, nil)
		var held *HeldError
		if !errors.As(err, &held) || held.RetryAfter != 500*time.Millisecond || held.Endpoint != f.b.endpoint {
			t.Fatalf("held call: %v", err)
		}
		if !held.RetryableError() || !errkind.Retryable(err) || !errors.Is(err, errDown) {
			t.Fatalf("held error is not retryable or lost its cause: %v", err)
		}
	}
	if sent.Load() != 2 {
		t.Fatalf("%d calls sent, want 2 (nothing while held)", sent.Load())
	}
	if err := f.b.Check(); err == nil {
		t.Fatal("Check while held: nil")
	}
	f.clk.Advance(499 * time.Millisecond)
	if _, err := f.call(&sent, false, nil); err == nil {
		t.Fatal("a call 1 ms before the hold ends went through")
	}
	f.clk.Advance(time.Millisecond)
	if err := f.b.Check(); err != nil {
		t.Fatalf("Check after the hold: %v", err)
	}
	// One probe at a time: while it is out, everyone else fails at once.
	tk, err := f.b.Acquire(context.Background(), false)
	if err != nil || !tk.Probe() {
		t.Fatalf("probe: %+v %v", tk, err)
	}
	for _, retry := range []bool{false, true} {
		if _, err := f.b.Acquire(context.Background(), retry); err == nil {
			t.Fatalf("second probe (retry=%v) while one is out", retry)
		}
	}
	f.b.Done(tk, false, nil)
	for range 3 {
		if _, err := f.call(&sent, false, nil); err != nil {
			t.Fatalf("after release: %v", err)
		}
	}
	states, rejected := f.counts(t)
	if states["held"] != 1 || states["probe"] != 1 || states["released"] != 1 || rejected != 9 {
		t.Fatalf("metrics: %v, rejected %d", states, rejected)
	}
	logs := f.logs.String()
	for _, want := range []string{"token endpoint held", "probing a held token endpoint", "token endpoint released", "endpoint=https://auth.example.com/oauth2/token"} {
		if !strings.Contains(logs, want) {
			t.Fatalf("log lacks %q:\n%s", want, logs)
		}
	}
}

func TestBreakerBackoffDoublesWithJitterToMax(t *testing.T) {
	f := newBreakerFixture(t, BreakerPolicy{Base: 500 * time.Millisecond, Max: 4 * time.Second})
	var sent atomic.Int64
	f.call(&sent, false, errDown)
	caps := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second, 4 * time.Second}
	for i, max := range caps {
		// The hold in force is the one drawn at the last failure.
		err := f.b.Check()
		var held *HeldError
		if !errors.As(err, &held) {
			t.Fatalf("failure %d: not held: %v", i+1, err)
		}
		f.clk.Advance(held.RetryAfter)
		if _, err := f.call(&sent, false, errDown); !errors.Is(err, errDown) {
			t.Fatalf("probe %d: %v", i+1, err)
		}
		err = f.b.Check()
		if !errors.As(err, &held) || held.RetryAfter < 500*time.Millisecond || held.RetryAfter > max {
			t.Fatalf("hold after failure %d: %v, want in [0.5s, %v]", i+2, err, max)
		}
	}
	if got := sent.Load(); got != int64(len(caps)+1) {
		t.Fatalf("%d calls, want %d", got, len(caps)+1)
	}
	// Jitter: many draws of the capped hold differ.
	p := f.reg.Policy()
	seen := map[time.Duration]bool{}
	for range 100 {
		d := p.HoldFor(10)
		if d < p.Base || d > p.Max {
			t.Fatalf("HoldFor(10) = %v", d)
		}
		seen[d] = true
	}
	if len(seen) < 10 {
		t.Fatalf("HoldFor has no jitter: %d values", len(seen))
	}
	if d := p.HoldFor(1); d != p.Base {
		t.Fatalf("HoldFor(1) = %v", d)
	}
}

func TestBreakerDefinitiveAnswerIsNotAFailure(t *testing.T) {
	f := newBreakerFixture(t, BreakerPolicy{})
	var sent atomic.Int64
	revoked := &cognito.Error{Op: "test", Name: "NotAuthorizedException", Message: "Refresh Token has been revoked"}
	for range 5 {
		if again, err := f.call(&sent, false, revoked); !errors.Is(err, revoked) || again {
			t.Fatalf("definitive answer: again=%v %v", again, err)
		}
	}
	if err := f.b.Check(); err != nil {
		t.Fatalf("held after definitive answers: %v", err)
	}
	// And the answer of a probe releases the hold: the endpoint answered.
	f.call(&sent, false, errDown)
	f.clk.Advance(time.Second)
	f.call(&sent, false, revoked)
	if err := f.b.Check(); err != nil {
		t.Fatalf("held after the probe got an answer: %v", err)
	}
}

func TestBreakerRetryIsTheProbeAtOnce(t *testing.T) {
	f := newBreakerFixture(t, BreakerPolicy{})
	var sent atomic.Int64
	again, _ := f.call(&sent, false, errDown)
	// The failing caller's own next try goes at once (no wait on the clock)...
	if again, err := f.call(&sent, again, nil); err != nil || again {
		t.Fatalf("retry as the probe: %v", err)
	}
	if err := f.b.Check(); err != nil {
		t.Fatalf("not released by the retry: %v", err)
	}
	// ...but a probe's failure gives no such right.
	again, _ = f.call(&sent, false, errDown)
	again, _ = f.call(&sent, again, errDown)
	if again {
		t.Fatal("a failed probe grants another retry")
	}
	if _, err := f.call(&sent, again, nil); err == nil {
		t.Fatal("the caller whose probe failed went again before the hold ended")
	}
}

func TestBreakerIgnoresFailuresOfCallsSentBeforeTheHold(t *testing.T) {
	f := newBreakerFixture(t, BreakerPolicy{})
	a, _ := f.b.Acquire(context.Background(), false)
	b, _ := f.b.Acquire(context.Background(), false)
	c, _ := f.b.Acquire(context.Background(), false)
	f.b.Done(a, true, errDown)
	f.b.Done(b, true, errDown) // the same outage, not a second failure
	var held *HeldError
	if err := f.b.Check(); !errors.As(err, &held) || held.RetryAfter != 500*time.Millisecond {
		t.Fatalf("after two old failures: %v", err)
	}
	if f.b.failures != 1 {
		t.Fatalf("failures %d, want 1", f.b.failures)
	}
	f.b.Done(c, false, nil) // an answer: the endpoint is back
	if err := f.b.Check(); err != nil {
		t.Fatalf("an answer did not release: %v", err)
	}
}

func TestBreakerBoundsCallsInFlightAndWakesWaitersOnHold(t *testing.T) {
	f := newBreakerFixture(t, BreakerPolicy{MaxInFlight: 2})
	ctx := context.Background()
	a, _ := f.b.Acquire(ctx, false)
	b, _ := f.b.Acquire(ctx, false)
	got := make(chan error, 3)
	for range 3 {
		go func() {
			tk, err := f.b.Acquire(ctx, false)
			if err == nil {
				f.b.Done(tk, false, nil)
			}
			got <- err
		}()
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := f.b.Acquire(short, false); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a third call in flight: %v", err)
	}
	select {
	case err := <-got:
		t.Fatalf("a waiter got through with both slots taken: %v", err)
	default:
	}
	f.b.Done(a, true, errDown) // the endpoint fails: waiters fail at once
	for range 3 {
		var held *HeldError
		if err := <-got; !errors.As(err, &held) {
			t.Fatalf("waiter: %v", err)
		}
	}
	f.b.Done(b, true, errDown)
	if len(f.b.slots) != 0 {
		t.Fatalf("%d slots still taken", len(f.b.slots))
	}
}

func TestBreakerCallTimeoutHoldsAHangingEndpoint(t *testing.T) {
	f := newBreakerFixture(t, BreakerPolicy{CallTimeout: 20 * time.Millisecond})
	hang := func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err() // not retryable by itself
	}
	again, err := f.b.Do(context.Background(), false, hang, transient)
	var te *TimeoutError
	if !errors.As(err, &te) || !errkind.Retryable(err) || !te.RetryableError() || !again {
		t.Fatalf("hanging call: again=%v %v", again, err)
	}
	if err := f.b.Check(); err == nil {
		t.Fatal("a hanging endpoint is not held")
	}
	// A caller that gives up says nothing of the endpoint.
	g := newBreakerFixture(t, BreakerPolicy{CallTimeout: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.b.Do(ctx, false, hang, transient); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: %v", err)
	}
	if err := g.b.Check(); err != nil {
		t.Fatalf("held by a caller that gave up: %v", err)
	}
}

func TestBreakersOnePerEndpoint(t *testing.T) {
	f := newBreakerFixture(t, BreakerPolicy{})
	a1, a2, b := f.reg.For("a"), f.reg.For("a"), f.reg.For("b")
	if a1 != a2 || a1 == b {
		t.Fatal("For does not keep one breaker per endpoint")
	}
	var sent atomic.Int64
	f.call(&sent, false, errDown)
	if err := f.reg.For("other").Check(); err != nil {
		t.Fatalf("another endpoint is held: %v", err)
	}
	if d1, d2 := Default(), Default(); d1 != d2 {
		t.Fatal("Default is not one set")
	}
}

// BenchmarkBreakerHeld is the cost of a refresh refused by a held endpoint.
func BenchmarkBreakerHeld(b *testing.B) {
	reg := NewBreakers(BreakerOptions{Logger: slog.New(slog.DiscardHandler)})
	br := reg.For("bench")
	br.Done(Ticket{gen: br.gen}, true, errDown)
	b.ReportAllocs()
	for b.Loop() {
		if err := br.Check(); err == nil {
			b.Fatal("not held")
		}
	}
}
