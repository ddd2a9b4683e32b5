package bearer

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

// counting hands out "t0", then a new token per forced refresh.
type counting struct {
	mu     sync.Mutex
	cur    int
	forced atomic.Int64
	gate   chan struct{} // when set, forced refreshes wait for it
	err    error
}

func (c *counting) Token(_ context.Context, force bool) (string, error) {
	if force {
		c.forced.Add(1)
		if c.gate != nil {
			<-c.gate
		}
		if c.err != nil {
			return "", c.err
		}
		c.mu.Lock()
		c.cur++
		c.mu.Unlock()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return "t" + strconv.Itoa(c.cur), nil
}

func TestRefresherShares(t *testing.T) {
	src := &counting{gate: make(chan struct{})}
	r := &Refresher{Source: src}
	ctx := context.Background()
	var wg sync.WaitGroup
	got := make([]string, 50)
	for i := range got {
		wg.Go(func() {
			tok, err := r.Refresh(ctx, "t0")
			if err != nil {
				t.Error(err)
			}
			got[i] = tok
		})
	}
	close(src.gate)
	wg.Wait()
	// A late caller refused with the old token takes the new one without a refresh.
	late, err := r.Refresh(ctx, "t0")
	if err != nil || late != "t1" {
		t.Fatalf("late caller: %q %v", late, err)
	}
	for i, g := range got {
		if g != "t1" {
			t.Fatalf("caller %d got %q", i, g)
		}
	}
	if n := src.forced.Load(); n != 1 {
		t.Fatalf("%d forced refreshes, want 1", n)
	}
	// The new token refused in turn: a second refresh.
	if tok, _ := r.Refresh(ctx, "t1"); tok != "t2" || src.forced.Load() != 2 {
		t.Fatalf("second refresh: %q after %d", tok, src.forced.Load())
	}
}

func TestRefresherSourceMovedOn(t *testing.T) {
	src := &counting{}
	src.cur = 5
	r := &Refresher{Source: src}
	if tok, err := r.Refresh(context.Background(), "t4"); err != nil || tok != "t5" || src.forced.Load() != 0 {
		t.Fatalf("%q %v, forced %d: want the source's newer token, nothing forced", tok, err, src.forced.Load())
	}
}

func TestRefresherError(t *testing.T) {
	boom := errors.New("boom")
	r := &Refresher{Source: &counting{err: boom}}
	if _, err := r.Refresh(context.Background(), "t0"); !errors.Is(err, boom) {
		t.Fatalf("%v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	src := &counting{gate: make(chan struct{})}
	defer close(src.gate)
	if _, err := (&Refresher{Source: src}).Refresh(ctx, "t0"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: %v", err)
	}
}

func TestRules(t *testing.T) {
	var r Rules
	r.Set("/a.S/", Policy{Scopes: []string{"s"}})
	r.Set("/a.S/Open", Policy{Public: true})
	r.Set(HealthService, Policy{Public: true})
	r.Default = Policy{Groups: []string{"g"}}
	for m, want := range map[string]string{
		"/a.S/X": "scope", "/a.S/Open": "public", "/grpc.health.v1.Health/Check": "public",
		"/b.T/X": "group", "": "group", "/a.S": "group", "a.S/X": "group",
	} {
		p := r.For(m)
		got := map[bool]string{true: "public"}[p.Public]
		if got == "" && len(p.Scopes) > 0 {
			got = "scope"
		} else if got == "" && len(p.Groups) > 0 {
			got = "group"
		}
		if got != want {
			t.Errorf("For(%q) = %s, want %s", m, got, want)
		}
	}
}

func TestFromHeader(t *testing.T) {
	for in, want := range map[string]string{"Bearer a": "a", "bearer": "", "Basic a": "", " a ": "a", "Bearer  a ": "a"} {
		if got := FromHeader(in); got != want {
			t.Errorf("FromHeader(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRulesRefuseBadNames(t *testing.T) {
	for _, m := range []string{"", "/", "orders.v1.Orders/Create", "/orders.v1.Orders", "//Create", "/a/b/c", "/a b/c"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Set(%q) did not panic", m)
				}
			}()
			var r Rules
			r.Set(m, Policy{Public: true})
		}()
	}
	var r Rules
	r.Set("/orders.v1.Orders/Create", Policy{})
	r.Set("/orders.v1.Orders/", Policy{})
}
