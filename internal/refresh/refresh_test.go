package refresh

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cogauth/cogauth/clock"
)

func TestBackoffDelayBounds(t *testing.T) {
	b := Backoff{Base: time.Second, Max: 10 * time.Second}
	for _, tc := range []struct {
		n        int
		min, max time.Duration
	}{
		{0, 500 * time.Millisecond, time.Second},
		{1, 500 * time.Millisecond, time.Second},
		{2, time.Second, 2 * time.Second},
		{3, 2 * time.Second, 4 * time.Second},
		{4, 4 * time.Second, 8 * time.Second},
		{5, 5 * time.Second, 10 * time.Second},
		{60, 5 * time.Second, 10 * time.Second}, // no overflow past the cap
	} {
		seen := map[time.Duration]bool{}
		for range 200 {
			d := b.Delay(tc.n)
			if d < tc.min || d > tc.max {
				t.Fatalf("Delay(%d) = %v, want in [%v, %v]", tc.n, d, tc.min, tc.max)
			}
			seen[d] = true
		}
		if len(seen) < 2 {
			t.Fatalf("Delay(%d) has no jitter: %v", tc.n, seen)
		}
	}
	if d := (Backoff{}).Delay(3); d != 0 {
		t.Fatalf("zero Backoff waits %v", d)
	}
}

func TestPolicyWindowCappedAtHalfLife(t *testing.T) {
	p := Policy{}.WithDefaults()
	now := time.Unix(1_000_000, 0)
	if w := p.Window(now, now.Add(time.Hour)); w != 5*time.Minute {
		t.Fatalf("1h value: window %v, want 5m", w)
	}
	if w := p.Window(now, now.Add(5*time.Minute)); w != 150*time.Second {
		t.Fatalf("5m value: window %v, want 2m30s", w)
	}
	if at := p.RefreshAt(now, now.Add(time.Hour)); !at.Equal(now.Add(55 * time.Minute)) {
		t.Fatalf("RefreshAt %v", at)
	}
	q := Policy{RetryAfterFailure: time.Minute, MaxRetryAfterFailure: time.Second}.WithDefaults()
	if q.MaxRetryAfterFailure != time.Minute {
		t.Fatalf("cap below the first hold: %v", q.MaxRetryAfterFailure)
	}
}

func TestHeldDoublesAndNeverPassesExpiry(t *testing.T) {
	fc := clock.NewFake(time.Unix(1_000_000, 0))
	c := New[string](fc, Policy{RetryAfterFailure: 10 * time.Second, MaxRetryAfterFailure: 40 * time.Second})
	e := c.Fill("v", fc.Now().Add(time.Hour))
	boom := errors.New("boom")
	prevMax := time.Duration(0)
	for n := 1; n <= 5; n++ {
		e = c.Held(e, boom)
		if e.Failures != n || e.Stale != boom || e.Value != "v" {
			t.Fatalf("held entry %+v", e)
		}
		d := e.RefreshAt.Sub(fc.Now())
		hi := min(10*time.Second<<(n-1), 40*time.Second)
		if d < hi/2 || d > hi {
			t.Fatalf("hold %d: %v, want in [%v, %v]", n, d, hi/2, hi)
		}
		prevMax = max(prevMax, d)
	}
	short := c.Fill("short", fc.Now().Add(3*time.Second))
	if h := c.Held(short, boom); !h.RefreshAt.Equal(short.ExpiresAt) {
		t.Fatalf("hold past expiry: %v > %v", h.RefreshAt, short.ExpiresAt)
	}
	if !short.Valid(fc.Now()) || short.Valid(fc.Now().Add(3*time.Second)) {
		t.Fatal("Valid does not follow ExpiresAt")
	}
}

func TestFreshIsOneLoadAndAllocatesNothing(t *testing.T) {
	fc := clock.NewFake(time.Unix(1_000_000, 0))
	c := New[int](fc, Policy{})
	if _, ok := c.Fresh(); ok {
		t.Fatal("empty cache is fresh")
	}
	c.Store(c.Fill(7, fc.Now().Add(time.Hour)))
	if allocs := testing.AllocsPerRun(1000, func() {
		if e, ok := c.Fresh(); !ok || e.Value != 7 {
			t.Fatal("not fresh")
		}
	}); allocs != 0 {
		t.Fatalf("Fresh allocates %v", allocs)
	}
	fc.Advance(56 * time.Minute)
	if _, ok := c.Fresh(); ok {
		t.Fatal("fresh inside the window")
	}
}

// One flight for all callers, detached from the first caller's context, and
// bounded by the policy's timeout.
func TestDoSharesOneDetachedFlight(t *testing.T) {
	c := New[int](nil, Policy{Timeout: 5 * time.Second})
	var calls, early atomic.Int32
	var released atomic.Bool
	release := make(chan struct{})
	started := make(chan struct{})
	fn := func(ctx context.Context) (*Entry[int], error) {
		if calls.Add(1) == 1 {
			close(started)
		} else if !released.Load() {
			early.Add(1) // a second flight while the first one runs
		}
		select {
		case <-release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if _, ok := ctx.Deadline(); !ok {
			return nil, errors.New("flight without a deadline")
		}
		return &Entry[int]{Value: 42}, nil
	}
	first, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := c.Do(first, "k", fn); errc <- err }()
	<-started
	var wg sync.WaitGroup
	results := make(chan int, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, err := c.Do(context.Background(), "k", fn)
			if err != nil {
				t.Error(err)
				return
			}
			results <- e.Value
		}()
	}
	cancel() // the first caller leaves: the others still get the flight's result
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("leaving caller got %v", err)
	}
	released.Store(true)
	close(release)
	wg.Wait()
	close(results)
	for v := range results {
		if v != 42 {
			t.Fatalf("got %d", v)
		}
	}
	// Callers that arrive after the flight ended start a new one, by design;
	// none may start one while the first runs.
	if n := early.Load(); n != 0 {
		t.Fatalf("%d flights started while one was running, want 0", n)
	}
}

func TestDoTimesOut(t *testing.T) {
	c := New[int](nil, Policy{Timeout: 20 * time.Millisecond})
	_, err := c.Do(context.Background(), "k", func(ctx context.Context) (*Entry[int], error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want deadline exceeded", err)
	}
}
