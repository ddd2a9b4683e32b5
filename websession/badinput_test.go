package websession

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestBadCookies: forged, truncated and oversized cookies open nothing, are
// cleared, and leave the real session alone.
func TestBadCookies(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	b := f.browser()
	b.signIn("/", alice, password)
	real := b.cookie("cogauth").Value

	for name, v := range map[string]string{
		"forged":     strings.Repeat("A", 43),
		"truncated":  real[:42],
		"extended":   real + "A",
		"not base64": strings.Repeat("*", 43),
		"huge":       strings.Repeat("A", 5000),
	} {
		t.Run(name, func(t *testing.T) {
			x := f.browser()
			x.setCookie("cogauth", v)
			resp, body := x.fetch(http.MethodGet, f.base+"/auth/me")
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "unauthenticated") {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			if c := x.cookie("cogauth"); c != nil {
				t.Fatalf("the bad cookie was kept: %q", c.Value)
			}
		})
	}
	resp, _ := b.fetch(http.MethodGet, f.base+"/auth/me")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the real session after the bad cookies: %d", resp.StatusCode)
	}
}

// TestOpenRedirect: return_to is a path on this site or the login is refused.
func TestOpenRedirect(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	b := f.browser()
	for _, rt := range []string{"//evil.example", "https://evil.example/", "/\\evil.example", "\\\\evil.example", "evil", "/a\r\nSet-Cookie: x=y", "javascript:alert(1)", "/" + strings.Repeat("a", 3000)} {
		resp, body := b.get(f.base + "/auth/login?return_to=" + url.QueryEscape(rt))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "invalid_return_to") {
			t.Errorf("return_to %q: %d %s", rt, resp.StatusCode, body)
		}
	}
	for _, rt := range []string{"/", "/a/b?c=d#e", "/%2F%2Fevil"} {
		if !safeReturnTo(rt) {
			t.Errorf("%q refused", rt)
		}
	}
}

// TestCallbackRefusals: a wrong state, a callback without its sign-in cookie, a
// reused code and a tampered sign-in cookie are each refused with a clear error,
// and no session is made.
func TestCallbackRefusals(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	b := f.browser()
	// Stop at the callback, to play with it.
	var callback *url.URL
	b.c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == "/auth/callback" {
			callback = req.URL
			return http.ErrUseLastResponse
		}
		return nil
	}
	resp, page := b.get(f.base + "/auth/login?return_to=/x")
	b.submit(resp, page, alice, password)
	if callback == nil {
		t.Fatal("no callback")
	}
	var login *http.Cookie
	u, _ := url.Parse(f.base)
	for _, c := range b.jar.Cookies(u) {
		if strings.HasPrefix(c.Name, "cogauth-login-") {
			login = c
		}
	}
	if login == nil {
		t.Fatal("no sign-in cookie")
	}
	b.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	wrong := *callback
	q := wrong.Query()
	q.Set("state", strings.Repeat("x", 32))
	wrong.RawQuery = q.Encode()
	resp, body := b.get(wrong.String())
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "not started in this browser") {
		t.Fatalf("wrong state: %d %s", resp.StatusCode, body)
	}
	// Same cookie name (the first 16 characters), different state.
	wrong = *callback
	q = wrong.Query()
	q.Set("state", q.Get("state")[:16]+strings.Repeat("x", 16))
	wrong.RawQuery = q.Encode()
	resp, body = b.get(wrong.String())
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "state does not match") {
		t.Fatalf("near state: %d %s", resp.StatusCode, body)
	}
	// That spent the sign-in cookie: the real callback now fails too.
	resp, body = b.get(callback.String())
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "not started in this browser") {
		t.Fatalf("callback after its cookie was spent: %d %s", resp.StatusCode, body)
	}
	// With the cookie put back, the code is redeemed once...
	b.jar.SetCookies(u, []*http.Cookie{login})
	resp, body = b.get(callback.String())
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/x" {
		t.Fatalf("callback: %d %s", resp.StatusCode, body)
	}
	// ...and refused the second time.
	b2 := f.browser()
	b2.c.CheckRedirect = b.c.CheckRedirect
	b2.jar.SetCookies(u, []*http.Cookie{login})
	resp, body = b2.get(callback.String())
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "refused (used already") {
		t.Fatalf("reused code: %d %s", resp.StatusCode, body)
	}
	if b2.cookie("cogauth") != nil {
		t.Fatal("a reused code made a session")
	}
	// A tampered sign-in cookie.
	b3 := f.browser()
	b3.c.CheckRedirect = b.c.CheckRedirect
	bad := *login
	bad.Value = login.Value[:len(login.Value)-2] + "AA"
	b3.jar.SetCookies(u, []*http.Cookie{&bad})
	resp, body = b3.get(callback.String())
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "cookie is not valid") {
		t.Fatalf("tampered sign-in cookie: %d %s", resp.StatusCode, body)
	}
	// An expired sign-in.
	b4 := f.browser()
	b4.c.CheckRedirect = b.c.CheckRedirect
	b4.jar.SetCookies(u, []*http.Cookie{login})
	f.clk.Advance(11 * 60e9)
	resp, body = b4.get(callback.String())
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "too long") {
		t.Fatalf("expired sign-in: %d %s", resp.StatusCode, body)
	}
}

// TestPlantedCookieReplaced: a session cookie planted before sign-in (session
// fixation) is not the one after it, and the planted session ends.
func TestPlantedCookieReplaced(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	attacker := f.browser()
	attacker.signIn("/", alice, password)
	planted := attacker.cookie("cogauth").Value

	victim := f.browser()
	victim.setCookie("cogauth", planted)
	victim.signIn("/", alice, password)
	if c := victim.cookie("cogauth"); c == nil || c.Value == planted {
		t.Fatalf("the planted cookie survived the callback")
	}
	if resp, _ := attacker.fetch(http.MethodGet, f.base+"/auth/me"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the planted session lives on: %d", resp.StatusCode)
	}
	if resp, _ := victim.fetch(http.MethodGet, f.base+"/auth/me"); resp.StatusCode != http.StatusOK {
		t.Fatalf("the new session: %d", resp.StatusCode)
	}
}

// TestCrossOrigin: state-changing requests from another origin are refused with
// 403 before any session work; same-origin ones go through.
func TestCrossOrigin(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	b := f.browser()
	b.signIn("/", alice, password)
	for name, h := range map[string]map[string]string{
		"sec-fetch-site cross-site": {"Sec-Fetch-Site": "cross-site"},
		"sec-fetch-site same-site":  {"Sec-Fetch-Site": "same-site"},
		"origin mismatch":           {"Origin": "http://127.0.0.2:1234"},
	} {
		req, _ := http.NewRequest(http.MethodPost, f.base+"/auth/logout", nil)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, body := b.do(req)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "cross_origin") {
			t.Errorf("%s: %d %s", name, resp.StatusCode, body)
		}
	}
	if resp, _ := b.fetch(http.MethodGet, f.base+"/auth/me"); resp.StatusCode != http.StatusOK {
		t.Fatalf("the session after refused logouts: %d", resp.StatusCode)
	}
}
