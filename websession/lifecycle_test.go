package websession

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestRefreshOnceAcrossReplicas: three replicas sharing a store, rotation on with
// no grace period; five tabs at expiry (fifteen requests) make exactly one
// refresh, and the API call carries the new token.
func TestRefreshOnceAcrossReplicas(t *testing.T) {
	f := newFixture(t, fixtureOptions{replicas: 3, rotation: true})
	b := f.browser()
	b.signIn("/", alice, password)
	// Every replica has the session cached.
	for range 3 {
		if resp, body := b.fetch(http.MethodGet, f.base+"/api/call"); resp.StatusCode != http.StatusOK || body != "api sees alice" {
			t.Fatalf("api call: %d %s", resp.StatusCode, body)
		}
	}
	tokens := f.emu.Requests("oauth2/token")
	f.clk.Advance(56 * time.Minute) // inside the 5-minute window
	fetchAll(t, b.c, f.base+"/api/call", 15, http.StatusOK, "at expiry")
	if n := f.emu.Requests("oauth2/token") - tokens; n != 1 {
		t.Fatalf("%d refreshes at expiry, want 1", n)
	}
	f.clk.Advance(10 * time.Minute) // past the old token's expiry
	for range 3 {
		if resp, body := b.fetch(http.MethodGet, f.base+"/api/call"); resp.StatusCode != http.StatusOK {
			t.Fatalf("api call after expiry: %d %s", resp.StatusCode, body)
		}
	}
	if n := f.emu.Requests("oauth2/token") - tokens; n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
}

// TestLogoutReachesReplicas: a session cached on every replica is refused on all
// of them as soon as one logs it out.
func TestLogoutReachesReplicas(t *testing.T) {
	f := newFixture(t, fixtureOptions{replicas: 3})
	b := f.browser()
	b.signIn("/", alice, password)
	old := b.cookie("cogauth").Value
	for range 3 {
		if resp, _ := b.fetch(http.MethodGet, f.base+"/auth/me"); resp.StatusCode != http.StatusOK {
			t.Fatalf("me: %d", resp.StatusCode)
		}
	}
	for i, w := range f.replicas {
		if w.cache.len() != 1 {
			t.Fatalf("replica %d caches %d sessions", i, w.cache.len())
		}
	}
	f.pin.Store(0)
	b.navigate(http.MethodPost, f.base+"/auth/logout")
	for i, w := range f.replicas {
		if w.cache.len() != 0 {
			t.Fatalf("replica %d still caches the session", i)
		}
	}
	f.pin.Store(-1)
	b.setCookie("cogauth", old)
	for i := range 3 {
		if resp, _ := b.fetch(http.MethodGet, f.base+"/auth/me"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("replica %d after logout: %d", i, resp.StatusCode)
		}
	}
}

// dropBus loses every message: what Strict is for.
type dropBus struct{}

func (dropBus) Publish(context.Context, string) error { return nil }
func (dropBus) Subscribe(func(string)) func()         { return func() {} }

// TestStrict: with the Bus losing messages, a strict replica still refuses a
// session ended elsewhere at its next request; a lenient one serves it from its
// cache (the documented trade).
func TestStrict(t *testing.T) {
	for _, strict := range []bool{true, false} {
		f := newFixture(t, fixtureOptions{replicas: 2, bus: func(int) Bus { return dropBus{} }, config: func(c *Config) { c.Strict = strict }})
		b := f.browser()
		b.signIn("/", alice, password)
		old := b.cookie("cogauth").Value
		f.pin.Store(1)
		b.fetch(http.MethodGet, f.base+"/auth/me")
		f.pin.Store(0)
		b.navigate(http.MethodPost, f.base+"/auth/logout")
		f.pin.Store(1)
		b.setCookie("cogauth", old)
		resp, _ := b.fetch(http.MethodGet, f.base+"/auth/me")
		if want := map[bool]int{true: 401, false: 200}[strict]; resp.StatusCode != want {
			t.Fatalf("strict=%t: %d, want %d", strict, resp.StatusCode, want)
		}
	}
}

// TestSignOutUser ends every session of a user, on every replica, and revokes
// their tokens for resource servers on the Bus.
func TestSignOutUser(t *testing.T) {
	f := newFixture(t, fixtureOptions{replicas: 2})
	var bs []*browser
	var tokens []string
	for range 3 {
		b := f.browser()
		b.signIn("/", alice, password)
		b.fetch(http.MethodGet, f.base+"/auth/me")
		b.fetch(http.MethodGet, f.base+"/api/call")
		bs = append(bs, b)
		tokens = append(tokens, f.api.lastToken())
	}
	revs := NewRevocations(f.bus, f.clk)
	defer revs.Close()
	for _, tok := range tokens {
		if revs.Revoked(originJTI(t, tok)) {
			t.Fatal("a live session's token is revoked")
		}
	}
	if err := f.replicas[1].SignOutUser(ctxT(t), f.emu.UserSub(f.pool, alice)); err != nil {
		t.Fatal(err)
	}
	for i, tok := range tokens {
		if !revs.Revoked(originJTI(t, tok)) {
			t.Fatalf("session %d's token is not revoked after SignOutUser", i)
		}
	}
	for i, b := range bs {
		for range 2 {
			if resp, _ := b.fetch(http.MethodGet, f.base+"/auth/me"); resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("browser %d after SignOutUser: %d", i, resp.StatusCode)
			}
		}
	}
}

// TestTimeouts: the idle deadline moves with use, written at most once per
// IdleTimeout/8; a session idle for IdleTimeout ends, and so does one past
// AbsoluteTimeout however busy.
func TestTimeouts(t *testing.T) {
	f := newFixture(t, fixtureOptions{replicas: 2}) // idle 2h, absolute 12h
	b := f.browser()
	b.signIn("/", alice, password)
	touches := func() int64 { return f.replicas[0].counts.touches.Load() + f.replicas[1].counts.touches.Load() }
	// Busy for 3 hours: a request a minute.
	for range 180 {
		f.clk.Advance(time.Minute)
		if resp, body := b.fetch(http.MethodGet, f.base+"/auth/me"); resp.StatusCode != http.StatusOK {
			t.Fatalf("busy session: %d %s", resp.StatusCode, body)
		}
	}
	// 3h / (2h/8) = 12 extensions at most.
	if n := touches(); n < 10 || n > 12 {
		t.Fatalf("%d idle extensions in 3 hours, want about 12", n)
	}
	// Idle for just under 2 hours: still there; then idle for 2 hours: gone.
	f.clk.Advance(2*time.Hour - 2*time.Minute)
	if resp, _ := b.fetch(http.MethodGet, f.base+"/auth/me"); resp.StatusCode != http.StatusOK {
		t.Fatalf("under the idle timeout: %d", resp.StatusCode)
	}
	f.clk.Advance(2 * time.Hour)
	if resp, _ := b.fetch(http.MethodGet, f.base+"/auth/me"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("past the idle timeout: %d", resp.StatusCode)
	}

	// Absolute: busy all the time, ends at 12 hours.
	b = f.browser()
	b.signIn("/", alice, password)
	for i := 0; ; i++ {
		f.clk.Advance(30 * time.Minute)
		resp, _ := b.fetch(http.MethodGet, f.base+"/auth/me")
		elapsed := time.Duration(i+1) * 30 * time.Minute
		if elapsed < 12*time.Hour && resp.StatusCode != http.StatusOK {
			t.Fatalf("at %v: %d", elapsed, resp.StatusCode)
		}
		if elapsed >= 12*time.Hour {
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("past the absolute timeout: %d", resp.StatusCode)
			}
			break
		}
	}
}

// TestServiceOutageKeepsSession: while Cognito is down and the tokens are still
// valid, requests are served; once dead, they get 503 and the session is kept;
// when Cognito is back, the session refreshes.
func TestServiceOutageKeepsSession(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	b := f.browser()
	b.signIn("/", alice, password)
	f.down.Store(true)
	f.clk.Advance(56 * time.Minute)
	if resp, _ := b.fetch(http.MethodGet, f.base+"/auth/me"); resp.StatusCode != http.StatusOK {
		t.Fatalf("valid tokens during an outage: %d", resp.StatusCode)
	}
	f.clk.Advance(10 * time.Minute)
	resp, body := b.fetch(http.MethodGet, f.base+"/auth/me")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "unavailable") || b.cookie("cogauth") == nil {
		t.Fatalf("dead tokens during an outage: %d %s", resp.StatusCode, body)
	}
	f.down.Store(false)
	f.clk.Advance(time.Minute) // past RetryAfterFailure
	if resp, body := b.fetch(http.MethodGet, f.base+"/auth/me"); resp.StatusCode != http.StatusOK {
		t.Fatalf("after the outage: %d %s", resp.StatusCode, body)
	}
}

// TestSignOutEverywhere: User.SignOut with Global ends the user's sessions at
// Cognito (GlobalSignOut) and every web session of the user here, on every
// replica.
func TestSignOutEverywhere(t *testing.T) {
	f := newFixture(t, fixtureOptions{replicas: 2})
	laptop, phone := f.browser(), f.browser()
	laptop.signIn("/", alice, password)
	phone.signIn("/", alice, password)
	for _, b := range []*browser{laptop, phone, laptop, phone} {
		if resp, _ := b.fetch(http.MethodGet, f.base+"/auth/me"); resp.StatusCode != http.StatusOK {
			t.Fatalf("me: %d", resp.StatusCode)
		}
	}
	if resp, body := laptop.fetch(http.MethodPost, f.base+"/signout-everywhere"); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign out everywhere: %d %s", resp.StatusCode, body)
	}
	if n := f.emu.Requests("GlobalSignOut"); n != 1 {
		t.Fatalf("%d GlobalSignOut calls", n)
	}
	for i, b := range []*browser{laptop, phone, laptop, phone} {
		if resp, _ := b.fetch(http.MethodGet, f.base+"/auth/me"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("browser %d after sign-out everywhere: %d", i%2, resp.StatusCode)
		}
	}
}
