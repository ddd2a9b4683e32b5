package websession

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cogauth/cogauth/hostedui/browsertest"
	"github.com/cogauth/cogauth/internal/peers"
)

// TestChromiumReplicas: real Chromium through three replicas (round robin, one
// origin) sharing Redis, rotation on with no grace period: sign-in on the hosted
// UI, five tabs at expiry make exactly one refresh, and a logout in one tab is
// refused in the others, whichever replica answers.
func TestChromiumReplicas(t *testing.T) {
	br := browsertest.Start(t)
	st, bus := redisReplicas(t, peers.Redis(t))
	f := newFixture(t, fixtureOptions{replicas: 3, rotation: true, store: st, bus: bus})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	p, err := br.Open(ctx, f.base+"/private")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SignIn(ctx, alice, password); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(ctx, `document.body && document.body.innerText.startsWith("hello alice")`); err != nil {
		text, _ := p.Text(ctx)
		t.Fatalf("after sign-in: %v (page %q)", err, text)
	}
	tabs := []*browsertest.Page{p}
	for range 4 {
		tab, err := br.Open(ctx, f.base+"/private")
		if err != nil {
			t.Fatal(err)
		}
		if err := tab.WaitFor(ctx, `document.body && document.body.innerText.startsWith("hello alice")`); err != nil {
			t.Fatal(err)
		}
		tabs = append(tabs, tab)
	}

	tokens := f.emu.Requests("oauth2/token")
	f.clk.Advance(56 * time.Minute)
	// Every tab fires three API calls at once.
	const burst = `Promise.all([1,2,3].map(() => fetch("/api/call").then(r => r.status))).then(s => s.join(","))`
	results := make(chan string, len(tabs))
	for _, tab := range tabs {
		go func() {
			var s string
			if err := tab.Eval(ctx, burst, &s); err != nil {
				s = err.Error()
			}
			results <- s
		}()
	}
	for range tabs {
		if s := <-results; s != "200,200,200" {
			t.Errorf("a tab's calls at expiry: %s", s)
		}
	}
	if n := f.emu.Requests("oauth2/token") - tokens; n != 1 {
		t.Fatalf("%d refreshes for five tabs at expiry through 3 replicas, want 1", n)
	}

	// Logout in the first tab; every other tab's next calls (on every replica)
	// are refused.
	if err := p.Eval(ctx, `fetch("/auth/logout", {method: "POST", redirect: "manual"}).then(r => r.type)`, nil); err != nil {
		t.Fatal(err)
	}
	for i, tab := range tabs[1:] {
		var s string
		if err := tab.Eval(ctx, `Promise.all([1,2,3].map(() => fetch("/auth/me").then(r => r.status))).then(s => s.join(","))`, &s); err != nil {
			t.Fatal(err)
		}
		if s != "401,401,401" {
			t.Fatalf("tab %d after logout: %s", i+2, s)
		}
	}
	if got := f.answered("POST", "/auth/logout"); len(got) != 1 || !strings.HasPrefix(got[0], "303") {
		t.Fatalf("logout answered %v", got)
	}
}
