package websession

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cogauth/cogauth/httpauth"
	"github.com/cogauth/cogauth/internal/peers"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/websession/redisbus"
)

// resourceServer is an API that verifies access tokens with httpauth.Middleware
// and a jwt.Verifier whose revocations come from rev.
func resourceServer(t *testing.T, f *fixture, rev jwt.RevocationSource) *httptest.Server {
	t.Helper()
	v, err := jwt.NewVerifier(jwt.VerifierOptions{Issuers: []string{f.emu.Issuer(f.pool)}, ClientIDs: []string{f.clientID},
		TokenUse: jwt.AccessToken, Clock: f.clk, Revocations: rev})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpauth.Middleware(v)(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		io.WriteString(rw, "ok")
	})))
	t.Cleanup(srv.Close)
	return srv
}

func callWith(t *testing.T, url, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// within polls check until it holds or d has passed on the real clock, and
// returns how long it took.
func within(t *testing.T, d time.Duration, what string, check func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !check() {
		if time.Since(start) > d {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(time.Millisecond) // polling a real server over HTTP, not waiting on time
	}
	return time.Since(start)
}

// TestLogoutEverywhereCookieMode: two cookie-mode replicas and a resource server
// on one redis-server (redisbus), all over real HTTP. A logout on one replica is
// refused on the other within 1 s for a copy of the cookies taken before it, and
// the session's access token is refused by the resource server within 1 s (no
// call to Cognito per request); a replica and a resource server started after
// the logout refuse them too (the revocation is kept in Redis until the cookie
// and the token expire, and not longer).
func TestLogoutEverywhereCookieMode(t *testing.T) {
	addr := peers.Redis(t)
	_, bus := redisReplicas(t, addr)
	f := newFixture(t, fixtureOptions{replicas: 2, tls: true, bus: bus, config: cookieOnly(randomKey())})
	rc := redis.NewClient(&redis.Options{Addr: addr, DisableIdentity: true})
	t.Cleanup(func() { rc.Close() })
	newBus := func() *redisbus.Bus {
		b := redisbus.New(redis.NewClient(&redis.Options{Addr: addr, DisableIdentity: true}), "")
		t.Cleanup(func() { b.Close() })
		return b
	}
	revs := NewRevocations(newBus(), f.clk)
	t.Cleanup(func() { revs.Close() })
	api := resourceServer(t, f, revs)

	f.pin.Store(0)
	b := f.browser()
	b.signIn("/", alice, password)
	if resp, body := b.fetch(http.MethodGet, f.base+"/api/call"); resp.StatusCode != http.StatusOK {
		t.Fatalf("api call: %d %s", resp.StatusCode, body)
	}
	token := f.api.lastToken()
	copied := b.chunks()
	f.pin.Store(1)
	if resp, _ := b.fetch(http.MethodGet, f.base+"/auth/me"); resp.StatusCode != http.StatusOK {
		t.Fatalf("the other replica before logout: %d", resp.StatusCode)
	}
	if code := callWith(t, api.URL, token); code != http.StatusOK {
		t.Fatalf("the resource server before logout: %d", code)
	}

	f.pin.Store(0)
	b.navigate(http.MethodPost, f.base+"/auth/logout")
	restore := func() {
		for _, c := range copied {
			b.setCookie(c.Name, c.Value)
		}
	}
	f.pin.Store(1)
	took := within(t, time.Second, "the other replica refuses the copied cookies", func() bool {
		restore()
		resp, _ := b.fetch(http.MethodGet, f.base+"/auth/me")
		return resp.StatusCode == http.StatusUnauthorized
	})
	t.Logf("the copied cookies were refused on the other replica %v after logout", took)
	took = within(t, time.Second, "the resource server refuses the access token", func() bool {
		return callWith(t, api.URL, token) == http.StatusUnauthorized
	})
	t.Logf("the resource server refused the access token %v after logout", took)
	if !revs.Revoked(originJTI(t, token)) {
		t.Fatal("refused, but not as revoked")
	}

	// Started after the logout: a replica and a resource server learn it from
	// the revocations kept in Redis.
	late := f.newSessions(nil, newBus(), cookieOnly(f.replicas[0].config().CookieKeys...))
	req := httptest.NewRequest(http.MethodGet, f.base+"/auth/me", nil)
	req.Header.Set("Sec-Fetch-Mode", "cors")
	for _, c := range copied {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	rec := httptest.NewRecorder()
	f.handler(late).ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("a replica started after the logout serves the copied cookies: %d", rec.Code)
	}
	lateRevs := NewRevocations(newBus(), f.clk)
	t.Cleanup(func() { lateRevs.Close() })
	if code := callWith(t, resourceServer(t, f, lateRevs).URL, token); code != http.StatusUnauthorized {
		t.Fatalf("a resource server started after the logout accepts the token: %d", code)
	}
	// What Redis keeps for it ends with the cookie: the kept set's TTL is at
	// most the absolute timeout plus the access token's life.
	ttl := rc.PTTL(context.Background(), redisbus.DefaultChannel+":kept").Val()
	if limit := f.replicas[0].cfg.Get().AbsoluteTimeout + time.Hour; ttl <= 0 || ttl > limit {
		t.Fatalf("the kept revocations live %v, want within %v", ttl, limit)
	}
	// Once the cookie and the token have expired, the revocation lapses.
	f.clk.Advance(f.replicas[0].cfg.Get().AbsoluteTimeout + time.Hour)
	if revs.Revoked(originJTI(t, token)) {
		t.Fatal("a revocation outlived the token it names")
	}
}

// TestLogoutWithoutBusIsLocal: without a Bus shared by the replicas (the
// default MemoryBus is this process's), a cookie-mode logout is refused on the
// replica that saw it, and nowhere else — what the documentation says.
func TestLogoutWithoutBusIsLocal(t *testing.T) {
	f := newFixture(t, fixtureOptions{replicas: 2, tls: true, config: cookieOnly(randomKey())})
	// Each replica its own MemoryBus: two processes.
	other := f.newSessions(nil, NewMemoryBus(), cookieOnly(f.replicas[0].config().CookieKeys...))
	f.pin.Store(0)
	b := f.browser()
	b.signIn("/", alice, password)
	copied := b.chunks()
	b.navigate(http.MethodPost, f.base+"/auth/logout")
	serve := func(w *Sessions) int {
		req := httptest.NewRequest(http.MethodGet, f.base+"/auth/me", nil)
		req.Header.Set("Sec-Fetch-Mode", "cors")
		for _, c := range copied {
			req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
		rec := httptest.NewRecorder()
		f.handler(w).ServeHTTP(rec, req)
		return rec.Code
	}
	if code := serve(f.replicas[0]); code != http.StatusUnauthorized {
		t.Fatalf("the replica that logged out serves a copy of the cookies: %d", code)
	}
	if code := serve(other); code != http.StatusOK {
		t.Fatalf("another process without a shared Bus: %d (expected to serve it: logout is local)", code)
	}
}

func originJTI(t *testing.T, token string) string {
	t.Helper()
	tok, err := jwt.Decode(token)
	if err != nil || tok.Claims().OriginJTI == "" {
		t.Fatalf("the access token has no origin_jti (%v)", err)
	}
	return tok.Claims().OriginJTI
}
