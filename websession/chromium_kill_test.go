package websession

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cogauth/cogauth/hostedui/browsertest"
)

// TestChromiumReplicaKilledMidRefresh: real headless Chromium through three
// replica processes on real Redis (startKillCluster), rotation on with a retry
// grace period above the lock TTL. The browser signs in on the hosted UI through
// the round-robin origin and calls the API with the user's token; at expiry five
// tabs fetch at once while the first refresh's answer is held, the replica
// holding the refresh lock is killed with SIGKILL, and the answer is released.
// The origin is nginx-like (roundRobin with retry): the requests that were in
// flight on the dead replica are sent to a survivor, so every tab's call
// succeeds without a retry in the page. Exactly two refreshes reach Cognito (the
// one lost with the holder, and one survivor's with the old refresh token within
// the grace period), nobody is signed out, and the session goes on with the
// survivor's new token.
func TestChromiumReplicaKilledMidRefresh(t *testing.T) {
	br := browsertest.Start(t)
	kc := startKillCluster(t, 2*time.Second, true)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	p, err := br.Open(ctx, kc.base+"/api/call")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SignIn(ctx, alice, password); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(ctx, `document.body && document.body.innerText === "api sees alice"`); err != nil {
		text, _ := p.Text(ctx)
		t.Fatalf("the API call after sign-in: %v (page %q)", err, text)
	}
	var cookie string
	for _, c := range cookiesOf(ctx, t, p, kc.base+"/") {
		if c.Name == "cogauth" {
			cookie = c.Value
		}
	}
	if cookie == "" {
		t.Fatal("no session cookie after sign-in")
	}
	tabs := []*browsertest.Page{p}
	for i := range 4 {
		tab, err := br.Open(ctx, fmt.Sprintf("%s/tab/%d", kc.base, i+2))
		if err != nil {
			t.Fatal(err)
		}
		if err := tab.WaitFor(ctx, fmt.Sprintf(`document.body && document.body.innerText === "hello alice at /tab/%d"`, i+2)); err != nil {
			t.Fatal(err)
		}
		tabs = append(tabs, tab)
	}
	apiBefore := kc.api.seen()
	tokens := kc.emu.Requests("oauth2/token")

	// Expiry: every tab calls the API at once. (no-store: Chromium's HTTP cache
	// would otherwise hold identical GETs back while the first is in flight.)
	kc.front.arm()
	kc.advance(56*time.Minute, -1)
	const call = `fetch("/api/call", {cache: "no-store"}).then(async r => r.status + " " + await r.text())`
	results := make(chan string, len(tabs))
	for _, tab := range tabs {
		go func() {
			var s string
			if err := tab.Eval(ctx, call, &s); err != nil {
				s = err.Error()
			}
			results <- s
		}()
	}
	holder, lock, owner := kc.awaitHeldRefresh("/api/call", len(tabs))
	// The requests the dead replica takes with it: the one refreshing, and any
	// waiting on that refresh in the same process.
	onHolder := kc.rr.onReplica[holder].Load()
	killed := kc.killHolder(holder, lock, owner)
	for range tabs {
		select {
		case s := <-results:
			if s != "200 api sees alice" {
				t.Errorf("a tab's API call at expiry: %s", s)
			}
		case <-ctx.Done():
			t.Fatal("a tab's API call at expiry never finished")
		}
	}
	if onHolder < 1 || kc.rr.retried.Load() != onHolder {
		t.Fatalf("%d requests were in flight on the killed replica, %d sent again to a survivor", onHolder, kc.rr.retried.Load())
	}
	t.Logf("%d requests were in flight on the killed replica; the origin sent them to a survivor", onHolder)
	lost, survivor := kc.refreshesAfterKill(tokens, holder, killed)
	if survivor.status != 200 || survivor.accessJTI == "" || survivor.accessJTI == lost.accessJTI {
		t.Fatalf("the survivor's refresh with the old token: %d", survivor.status)
	}
	if n, all := kc.survivorCounters(holder); n != 0 || all["cogauth.session.refreshes{result=ok}"] != 1 {
		t.Fatalf("survivors' counters: %d sign-outs, want 0, and one refresh: %v", n, all)
	}
	// Every call at expiry reached the API with the survivor's new token.
	for _, jti := range kc.api.seen()[len(apiBefore):] {
		if jti != survivor.accessJTI {
			t.Fatalf("a call at expiry reached the API with another token than the survivor's")
		}
	}

	// The session goes on: the next API call carries the new token, and the
	// next expiry makes exactly one refresh, on the survivors.
	var s string
	if err := p.Eval(ctx, call, &s); err != nil || s != "200 api sees alice" {
		t.Fatalf("the API call after the kill: %q %v", s, err)
	}
	seen := kc.api.seen()
	if last := seen[len(seen)-1]; last != survivor.accessJTI || last == apiBefore[len(apiBefore)-1] {
		t.Fatal("the API call after the kill did not carry the survivor's new token")
	}
	tokens = kc.emu.Requests("oauth2/token")
	kc.advance(56*time.Minute, holder)
	for _, tab := range tabs {
		go func() {
			var s string
			if err := tab.Eval(ctx, call, &s); err != nil {
				s = err.Error()
			}
			results <- s
		}()
	}
	for range tabs {
		if s := <-results; s != "200 api sees alice" {
			t.Errorf("a tab's API call at the next expiry: %s", s)
		}
	}
	if n := kc.emu.Requests("oauth2/token") - tokens; n != 1 {
		t.Fatalf("%d refreshes at the next expiry on the two survivors, want 1", n)
	}
	if n, all := kc.survivorCounters(holder); n != 0 || all["cogauth.session.refreshes{result=ok}"] != 2 {
		t.Fatalf("survivors' counters after the next expiry: %d sign-outs, %v", n, all)
	}
	checkLogs(t, kc.reps, cookie)
}
