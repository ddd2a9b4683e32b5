package websession

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cogauth/cogauth/hostedui/browsertest"
)

type devtoolsCookie struct {
	Name     string  `json:"name"`
	Value    string  `json:"value"`
	Path     string  `json:"path"`
	Domain   string  `json:"domain"`
	Expires  float64 `json:"expires"`
	HTTPOnly bool    `json:"httpOnly"`
	Secure   bool    `json:"secure"`
	SameSite string  `json:"sameSite"`
}

func cookiesOf(ctx context.Context, t *testing.T, p *browsertest.Page, u string) []devtoolsCookie {
	t.Helper()
	var r struct {
		Cookies []devtoolsCookie `json:"cookies"`
	}
	if err := p.Call(ctx, "Network.getCookies", map[string]any{"urls": []string{u}}, &r); err != nil {
		t.Fatal(err)
	}
	return r.Cookies
}

// TestChromium signs in with a real headless Chromium on the emulator's hosted
// UI, against an https app (the production cookie: __Host-, Secure), and checks
// what a browser sees: the cookie's flags through DevTools, no token in
// document.cookie, localStorage or any page, an API call with the user's token,
// cross-origin POSTs and credentialed fetches from 127.0.0.2 refused with 403,
// and logout.
func TestChromium(t *testing.T) {
	br := browsertest.Start(t)
	f := newFixture(t, fixtureOptions{tls: true})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	p, err := br.Open(ctx, "about:blank")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Call(ctx, "Security.setIgnoreCertificateErrors", map[string]any{"ignore": true}, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.Call(ctx, "Network.enable", nil, nil); err != nil {
		t.Fatal(err)
	}
	// A cookie planted before sign-in (fixation) must not survive it.
	if err := p.Call(ctx, "Network.setCookie", map[string]any{
		"name": "__Host-cogauth", "value": strings.Repeat("P", 43), "url": f.base + "/", "secure": true, "path": "/",
	}, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.Navigate(ctx, f.base+"/private?tab=1"); err != nil {
		t.Fatal(err)
	}
	if err := p.SignIn(ctx, alice, password); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(ctx, `document.body && document.body.innerText.startsWith("hello alice at /private")`); err != nil {
		text, _ := p.Text(ctx)
		t.Fatalf("after sign-in: %v (page %q)", err, text)
	}
	if u, _ := p.URL(ctx); u != f.base+"/private?tab=1" {
		t.Fatalf("ended at %s", u)
	}

	var session *devtoolsCookie
	for _, c := range cookiesOf(ctx, t, p, f.base+"/") {
		if c.Name == "__Host-cogauth" {
			session = &c
		}
		if strings.HasPrefix(c.Name, "__Host-cogauth-login-") {
			t.Errorf("the sign-in cookie outlived the callback")
		}
	}
	switch {
	case session == nil:
		t.Fatal("no session cookie")
	case session.Value == strings.Repeat("P", 43) || len(session.Value) != 43:
		t.Fatalf("session cookie value is the planted one or malformed (%d chars)", len(session.Value))
	case !session.HTTPOnly || !session.Secure || session.SameSite != "Lax" || session.Path != "/" || session.Domain != "127.0.0.1":
		t.Fatalf("cookie flags: %+v", *session)
	}

	var seen struct {
		Cookie  string `json:"cookie"`
		Storage string `json:"storage"`
		Me      string `json:"me"`
		API     string `json:"api"`
		Status  int    `json:"status"`
	}
	js := `(async () => {
  const me = await fetch("/auth/me").then(r => r.text());
  const r = await fetch("/api/call");
  return {cookie: document.cookie, storage: JSON.stringify(Object.entries(localStorage)) + JSON.stringify(Object.entries(sessionStorage)), me, api: await r.text(), status: r.status};
})()`
	if err := p.Eval(ctx, js, &seen); err != nil {
		t.Fatal(err)
	}
	if seen.API != "api sees alice" || seen.Status != 200 {
		t.Fatalf("API call: %d %q", seen.Status, seen.API)
	}
	if !strings.Contains(seen.Me, `"username":"alice"`) {
		t.Fatalf("me: %s", seen.Me)
	}
	for what, s := range map[string]string{"document.cookie": seen.Cookie, "storage": seen.Storage, "me": seen.Me, "api": seen.API} {
		if jwtRe.MatchString(s) || strings.Contains(s, session.Value) {
			t.Errorf("%s holds a token or the session ID: %q", what, s)
		}
	}

	// Another origin: a page on 127.0.0.2 that posts a form to the logout route
	// and sends a credentialed fetch.
	l, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no 127.0.0.2 on this machine: %v", err)
	}
	evil := &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(rw, `<form id=f method=POST action="%s/auth/logout"></form>
<script>fetch("%s/auth/logout", {method: "POST", credentials: "include", mode: "no-cors"}).finally(() => document.getElementById("f").submit())</script>`, f.base, f.base)
	})}
	go evil.Serve(l)
	defer evil.Close()
	before := len(f.answered("POST", "/auth/logout"))
	evilPage, err := br.Open(ctx, "about:blank")
	if err != nil {
		t.Fatal(err)
	}
	if err := evilPage.Call(ctx, "Security.setIgnoreCertificateErrors", map[string]any{"ignore": true}, nil); err != nil {
		t.Fatal(err)
	}
	if err := evilPage.Navigate(ctx, "http://"+l.Addr().String()+"/"); err != nil {
		t.Fatal(err)
	}
	if err := evilPage.WaitFor(ctx, `location.href.endsWith("/auth/logout") && document.body && document.body.innerText.includes("cross_origin")`); err != nil {
		text, _ := evilPage.Text(ctx)
		t.Fatalf("cross-origin form: %v (page %q)", err, text)
	}
	got := f.answered("POST", "/auth/logout")[before:]
	if len(got) != 2 || got[0] != "403" || got[1] != "403" {
		t.Fatalf("cross-origin logout requests answered %v, want two 403", got)
	}
	var still string
	if err := p.Eval(ctx, `fetch("/auth/me").then(r => String(r.status))`, &still); err != nil || still != "200" {
		t.Fatalf("the session after cross-origin attempts: %q %v", still, err)
	}

	// Logout from the app's own page: POST form, Cognito's /logout, back to "/",
	// which asks for a sign-in again.
	if err := p.Eval(ctx, `(() => { const f = document.createElement("form"); f.method = "POST"; f.action = "/auth/logout"; document.body.appendChild(f); f.submit(); return true })()`, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(ctx, `document.readyState === "complete" && document.getElementById("signInSubmitButton")`); err != nil {
		t.Fatal(err)
	}
	for _, c := range cookiesOf(ctx, t, p, f.base+"/") {
		if c.Name == "__Host-cogauth" {
			t.Fatalf("session cookie after logout")
		}
	}
}
