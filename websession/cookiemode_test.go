package websession

import (
	"bytes"
	"crypto/cipher"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cogauth/cogauth/secret"
	"github.com/cogauth/cogauth/session"
)

// setCookieLog records the Set-Cookie lines of every response.
type setCookieLog struct {
	next http.RoundTripper
	mu   sync.Mutex
	all  []string
}

func (s *setCookieLog) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := s.next.RoundTrip(r)
	if err == nil {
		s.mu.Lock()
		s.all = append(s.all, resp.Header.Values("Set-Cookie")...)
		s.mu.Unlock()
	}
	return resp, err
}

// chunkLines returns (and forgets) the recorded Set-Cookie lines of session chunks.
func (s *setCookieLog) chunkLines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, l := range s.all {
		if strings.HasPrefix(l, "__Host-cogauth.") {
			out = append(out, l)
		}
	}
	s.all = nil
	return out
}

func randomKey() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

func cookieOnly(keys ...secret.Bytes) func(*Config) {
	return func(c *Config) { c.Store, c.CookieKeys = nil, keys }
}

func (b *browser) logCookies() *setCookieLog {
	next := b.c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	l := &setCookieLog{next: next}
	b.c.Transport = l
	return l
}

// chunks returns the browser's session chunk cookies, in order.
func (b *browser) chunks() []*http.Cookie {
	var out []*http.Cookie
	for i := range maxChunks {
		if c := b.cookie("__Host-cogauth." + strconv.Itoa(i)); c != nil {
			out = append(out, c)
		}
	}
	return out
}

// TestCookieOnly: without a store, sign-in writes the sealed session in cookies
// under the per-cookie limit; an API call needs nothing else (a second replica
// serves it from the cookies alone); N concurrent requests at expiry share one
// refresh, whose result comes back as Set-Cookie of every chunk.
func TestCookieOnly(t *testing.T) {
	key := randomKey()
	f := newFixture(t, fixtureOptions{replicas: 2, tls: true, rotation: true, config: cookieOnly(key)})
	f.pin.Store(0)
	b := f.browser()
	log := b.logCookies()
	if resp, body := b.signIn("/", alice, password); resp.StatusCode != http.StatusOK || body != "hello alice at /" {
		t.Fatalf("sign-in: %d %s", resp.StatusCode, body)
	}
	lines := log.chunkLines()
	if len(lines) == 0 || len(b.chunks()) != len(lines) {
		t.Fatalf("sign-in set %d chunk cookies, jar has %d", len(lines), len(b.chunks()))
	}
	total := 0
	for _, l := range lines {
		if len(l) >= 4096 {
			t.Errorf("a cookie of %d bytes (name, value and attributes), over the 4096 limit", len(l))
		}
		if !strings.Contains(l, "Secure") || !strings.Contains(l, "HttpOnly") || !strings.Contains(l, "SameSite=Lax") || jwtRe.MatchString(l) {
			t.Errorf("chunk cookie attributes or content: %.80s…", l)
		}
		total += len(l)
	}
	t.Logf("sign-in: %d chunk cookie(s), %d bytes of Set-Cookie", len(lines), total)
	if n := len(f.answered(http.MethodGet, "/auth/callback")); n != 1 {
		t.Fatalf("%d callbacks", n)
	}

	f.pin.Store(1) // a replica that never saw the session
	if resp, body := b.fetch(http.MethodGet, f.base+"/api/call"); resp.StatusCode != http.StatusOK || body != "api sees alice" {
		t.Fatalf("api call: %d %s", resp.StatusCode, body)
	}
	if l := log.chunkLines(); len(l) != 0 {
		t.Fatalf("an unchanged session rewrote its cookies: %d", len(l))
	}

	tokens := f.emu.Requests("oauth2/token")
	before := b.chunks()[0].Value
	f.clk.Advance(56 * time.Minute) // inside the 5-minute window
	fetchAll(t, b.c, f.base+"/api/call", 15, http.StatusOK, "at expiry")
	if n := f.emu.Requests("oauth2/token") - tokens; n != 1 {
		t.Fatalf("%d refreshes at expiry for 15 concurrent requests, want 1", n)
	}
	lines = log.chunkLines()
	if len(lines) == 0 {
		t.Fatal("the refresh was not written back in cookies")
	}
	for _, l := range lines {
		if len(l) >= 4096 {
			t.Errorf("a refreshed cookie of %d bytes", len(l))
		}
	}
	if b.chunks()[0].Value == before {
		t.Fatal("the browser still holds the cookies of before the refresh")
	}

	// Past the old access token's expiry, the other replica serves the refreshed
	// session from the cookies alone: no second refresh (with rotation on, a
	// second one would spend the rotated token).
	f.clk.Advance(10 * time.Minute)
	f.pin.Store(0)
	for range 3 {
		if resp, body := b.fetch(http.MethodGet, f.base+"/api/call"); resp.StatusCode != http.StatusOK {
			t.Fatalf("api call after expiry: %d %s", resp.StatusCode, body)
		}
	}
	if n := f.emu.Requests("oauth2/token") - tokens; n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}

	// Logout clears every chunk.
	if resp, _ := b.navigate(http.MethodPost, f.base+"/auth/logout"); resp.StatusCode != http.StatusOK {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if c := b.chunks(); len(c) != 0 {
		t.Fatalf("%d chunk cookies left after logout", len(c))
	}
}

// TestCookieRefusals: tampered, truncated, mixed-write and old-key cookies are
// refused as signed out (401, cookies cleared); a rotated key list opens the
// old key's cookies until that key is removed.
func TestCookieRefusals(t *testing.T) {
	k1, k2 := randomKey(), randomKey()
	f := newFixture(t, fixtureOptions{tls: true, config: cookieOnly(k1)})
	f.replicas[0].chunkSize = 700 // several chunks per session
	signedIn := func() (*browser, []*http.Cookie) {
		b := f.browser()
		if resp, body := b.signIn("/", alice, password); resp.StatusCode != http.StatusOK {
			t.Fatalf("sign-in: %d %s", resp.StatusCode, body)
		}
		c := b.chunks()
		if len(c) < 2 {
			t.Fatalf("%d chunks, want several", len(c))
		}
		return b, c
	}
	me := func(b *browser) int {
		resp, _ := b.fetch(http.MethodGet, f.base+"/auth/me")
		return resp.StatusCode
	}
	refused := func(name string, b *browser) {
		t.Helper()
		if got := me(b); got != http.StatusUnauthorized {
			t.Errorf("%s: /auth/me answered %d, want 401", name, got)
		}
		if c := b.chunks(); len(c) != 0 {
			t.Errorf("%s: %d chunk cookies left, want all cleared", name, len(c))
		}
	}

	b, c := signedIn()
	if got := me(b); got != http.StatusOK {
		t.Fatalf("signed in: %d", got)
	}
	// Tampered: one character of a chunk's sealed data.
	v := []byte(c[1].Value)
	i := chunkHdrLen + 5
	v[i] = map[bool]byte{true: 'B', false: 'A'}[v[i] == 'A']
	b.setCookie(c[1].Name, string(v))
	refused("tampered", b)

	// Truncated: the last chunk missing, or a chunk cut short.
	b, c = signedIn()
	b.setCookie(c[len(c)-1].Name, "")
	refused("missing chunk", b)
	b, c = signedIn()
	b.setCookie(c[0].Name, c[0].Value[:len(c[0].Value)-3])
	refused("cut chunk", b)

	// Mixed: chunk 1 of another write of the same browser's session.
	b, c = signedIn()
	_, c2 := signedIn()
	b.setCookie(c[1].Name, c2[1].Value)
	refused("mixed chunk sets", b)

	// A header that lies about the count.
	b, c = signedIn()
	b.setCookie(c[0].Name, c[0].Value[:1]+"9"+c[0].Value[2:])
	refused("chunk count", b)

	// Rotation: k2 first, k1 still opens.
	b, _ = signedIn()
	old, _ := signedIn()
	f.replicas[0] = f.newSessions(nil, f.bus, cookieOnly(k2, k1))
	f.replicas[0].chunkSize = 700
	if got := me(b); got != http.StatusOK {
		t.Fatalf("old key's cookies with the key still listed: %d", got)
	}
	// The next write seals under k2 (here: the idle deadline's extension).
	f.clk.Advance(20 * time.Minute)
	if got := me(b); got != http.StatusOK {
		t.Fatalf("after the idle extension: %d", got)
	}
	f.replicas[0] = f.newSessions(nil, f.bus, cookieOnly(k2))
	f.replicas[0].chunkSize = 700
	if got := me(b); got != http.StatusOK {
		t.Fatalf("cookies rewritten under the new key: %d", got)
	}
	refused("old key removed", old)
}

func TestCookieStateRoundTrip(t *testing.T) {
	w := &Sessions{cookieAEADs: mustAEADs(t, randomKey()), cookieName: "__Host-cogauth", chunkSize: chunkData}
	s := &cookieState{gen: 7, records: map[string][]byte{
		metaUser:                                []byte(`{"v":1,"u":"alice","s":"sub","c":1,"l":2}`),
		innerUser(managerRecords["s"], "alice"): []byte(`{"access_token":"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln","format":1,"refresh_token":"eyJjdHkiOiJKV1QifQ.a2V5.aXY.Y2lwaGVy.dGFn","username":"alice"}`),
	}}
	rand.Read(s.id[:])
	chunks, err := w.sealChunks(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := w.openValues(chunks)
	if err != nil {
		t.Fatal(err)
	}
	if got.id != s.id || got.gen != 7 || len(got.records) != 2 {
		t.Fatalf("round trip: %+v", got)
	}
	// Records come back byte for byte: the cookie carries what the Manager
	// stored (its binary layout), knowing none of its fields.
	for u, d := range s.records {
		if !bytes.Equal(got.records[u], d) {
			t.Errorf("record %s: %q, want %q", u, got.records[u], d)
		}
	}
}

func mustAEADs(t testing.TB, keys ...secret.Bytes) []cipher.AEAD {
	a, err := cookieAEADs(keys)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestCookieSizeCognitoTokens: a session of Cognito-sized tokens (access 1.1 KB,
// id 1.7 KB, refresh 1.9 KB JWE), made through the callback's path, fits in
// two chunks under 4096 bytes each, name and attributes included, and the
// cookies' values take fewer characters than the tokens' own base64.
func TestCookieSizeCognitoTokens(t *testing.T) {
	f := newFixture(t, fixtureOptions{tls: true, config: cookieOnly(randomKey())})
	w := f.replicas[0]
	f.browser().signIn("/", alice, password)
	lives := w.cache.drain()
	if len(lives) != 1 {
		t.Fatalf("%d sessions after one sign-in", len(lives))
	}
	s, err := lives[0].mgr.Fetch(ctxT(t), session.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lives[0].mgr.Close()
	tok, sub := newTokenFactory(t, s.Tokens.Access.Raw(), s.Tokens.ID.Raw(), s.Tokens.Refresh.Reveal()).tokens(7)
	chars := len(tok.AccessToken) + len(tok.IDToken) + len(tok.RefreshToken)
	id, _ := newSessionID()
	r := httptest.NewRequest(http.MethodGet, f.base+"/auth/callback", nil)
	l, err := w.create(r, id, tok, sub)
	if err != nil {
		t.Fatal(err)
	}
	rr := httptest.NewRecorder()
	if err := w.syncCookies(ctxT(t), rr, r, l, 0); err != nil {
		t.Fatal(err)
	}
	total, values := 0, 0
	lines := rr.Header().Values("Set-Cookie")
	for _, line := range lines {
		if len(line) >= 4096 {
			t.Errorf("a Set-Cookie of %d bytes", len(line))
		}
		total += len(line)
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatal(err)
		}
		values += len(c.Value)
	}
	t.Logf("tokens %d chars; %d cookie(s), values %d chars, %d bytes of Set-Cookie", chars, len(lines), values, total)
	if len(lines) > 2 {
		t.Errorf("%d chunks, want at most 2", len(lines))
	}
	if values >= chars {
		t.Errorf("the cookies' values take %d characters, the tokens alone %d", values, chars)
	}
}

// TestCookieFewerChunks: a write-back in fewer chunks than the browser holds
// clears the higher ones, and the session goes on.
func TestCookieFewerChunks(t *testing.T) {
	key := randomKey()
	f := newFixture(t, fixtureOptions{tls: true, config: cookieOnly(key)})
	f.replicas[0].chunkSize = 700
	b := f.browser()
	if resp, body := b.signIn("/", alice, password); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d %s", resp.StatusCode, body)
	}
	if n := len(b.chunks()); n < 3 {
		t.Fatalf("%d chunks, want at least 3", n)
	}
	f.replicas[0] = f.newSessions(nil, f.bus, cookieOnly(key)) // 3800 characters a chunk
	f.clk.Advance(20 * time.Minute)                            // past IdleTimeout/8: the idle extension is written back
	log := b.logCookies()
	if resp, body := b.fetch(http.MethodGet, f.base+"/auth/me"); resp.StatusCode != http.StatusOK {
		t.Fatalf("me: %d %s", resp.StatusCode, body)
	}
	cleared := 0
	for _, l := range log.chunkLines() {
		if strings.Contains(l, "Max-Age=0") {
			cleared++
		}
	}
	if c := b.chunks(); len(c) != 1 || cleared < 2 {
		t.Fatalf("after the write-back: %d chunks in the jar, %d cleared", len(c), cleared)
	}
	if resp, _ := b.fetch(http.MethodGet, f.base+"/auth/me"); resp.StatusCode != http.StatusOK {
		t.Fatalf("me after the write-back: %d", resp.StatusCode)
	}
}
