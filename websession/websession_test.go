package websession

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestSignInMeLogout(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	b := f.browser()

	// A navigation without a session goes to the login route, and back after.
	resp, page := b.get(f.base + "/private/page?x=1")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "signInSubmitButton") {
		t.Fatalf("unauthenticated navigation: %d %q", resp.StatusCode, page)
	}
	resp, page = b.submit(resp, page, alice, password)
	if resp.StatusCode != http.StatusOK || page != "hello alice at /private/page" || resp.Request.URL.RawQuery != "x=1" {
		t.Fatalf("after sign-in: %d %q at %s", resp.StatusCode, page, resp.Request.URL)
	}
	c := b.cookie("cogauth")
	if c == nil || len(c.Value) != 43 {
		t.Fatalf("session cookie %v", c)
	}

	resp, page = b.fetch(http.MethodGet, f.base+"/auth/me")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("me: %d %s", resp.StatusCode, page)
	}
	var me meView
	if err := json.Unmarshal([]byte(page), &me); err != nil {
		t.Fatal(err)
	}
	if me.Username != alice || me.Email != "alice@example.com" || me.Sub != f.emu.UserSub(f.pool, alice) || me.Claims["email"] != "alice@example.com" {
		t.Fatalf("me: %+v", me)
	}
	if jwtRe.MatchString(page) {
		t.Fatalf("me answered a token: %s", page)
	}

	// A fetch without the cookie is 401 JSON, not a redirect.
	anon := f.browser()
	resp, page = anon.fetch(http.MethodGet, f.base+"/api/thing")
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(page, `"unauthenticated"`) {
		t.Fatalf("anonymous fetch: %d %s", resp.StatusCode, page)
	}

	// Logout is POST only, revokes, and ends at Cognito's /logout and back.
	resp, _ = b.fetch(http.MethodGet, f.base+"/auth/logout")
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusSeeOther {
		t.Fatalf("GET logout: %d", resp.StatusCode)
	}
	old := c.Value
	resp, page = b.navigate(http.MethodPost, f.base+"/auth/logout")
	// Cognito's /logout sends the browser back to "/", which asks for a sign-in.
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "signInSubmitButton") {
		t.Fatalf("logout: %d %s at %s", resp.StatusCode, page, resp.Request.URL)
	}
	if b.cookie("cogauth") != nil {
		t.Fatal("the cookie survived logout")
	}
	if n := f.emu.Requests("oauth2/revoke") + f.emu.Requests("RevokeToken"); n != 1 {
		t.Fatalf("%d revocations", n)
	}
	// The old cookie, replayed, opens nothing.
	b.setCookie("cogauth", old)
	resp, _ = b.fetch(http.MethodGet, f.base+"/auth/me")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("replayed cookie: %d", resp.StatusCode)
	}
}
