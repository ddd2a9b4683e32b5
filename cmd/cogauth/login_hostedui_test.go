package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cogauth/cogauth/hostedui/browsertest"
)

var authorizeRE = regexp.MustCompile(`http://\S+/oauth2/authorize\?\S+`)

// startHostedLogin runs `cogauth login --hosted-ui --no-browser` in the background
// and returns the sign-in URL it prints and a channel with its exit code.
func startHostedLogin(ctx context.Context, t *testing.T, c *cli, args ...string) (string, *safeBuffer, <-chan int) {
	t.Helper()
	var out, errOut safeBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, c.environment(strings.NewReader(""), &out, &errOut), append([]string{"login", "--hosted-ui", "--no-browser"}, args...))
	}()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if u := authorizeRE.FindString(errOut.String()); u != "" {
			return u, &errOut, done
		}
		select {
		case code := <-done:
			t.Fatalf("login exited %d before printing a URL: %q", code, errOut.String())
		case <-ctx.Done():
			t.Fatalf("no sign-in URL printed: %q", errOut.String())
		case <-tick.C:
		}
	}
}

// TestLoginHostedUIInChromium is the issue's acceptance test: `cogauth login
// --hosted-ui --no-browser` prints a URL, a real headless Chromium signs in on the
// emulator's page, and the CLI then holds a session that refreshes.
func TestLoginHostedUIInChromium(t *testing.T) {
	b := browsertest.Start(t)
	p := newTestPool(t, nil)
	c := newCLI(t, p)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	u, errOut, done := startHostedLogin(ctx, t, c, "--scopes", "openid,email,aws.cognito.signin.user.admin")
	if !strings.Contains(u, "code_challenge_method=S256") || !strings.Contains(u, "client_id="+p.client) {
		t.Fatalf("sign-in URL %s", u)
	}
	page, err := b.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if err := page.SignIn(ctx, "alice", alicePW); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("login exit %d: %q", code, errOut.String())
		}
	case <-ctx.Done():
		t.Fatalf("login did not finish: %q", errOut.String())
	}
	if !strings.Contains(errOut.String(), "Signed in as alice through the hosted UI") {
		t.Fatalf("login said %q", errOut.String())
	}
	if err := page.WaitFor(ctx, `document.body && document.body.innerText.includes("You may close this window")`); err != nil {
		t.Fatal(err)
	}

	before := strings.TrimSpace(c.ok("", "token").out)
	if r := c.ok("", "whoami"); !strings.Contains(r.out, "alice") {
		t.Fatalf("whoami: %q", r.out)
	}
	p.srv.ResetCounters()
	if r := c.ok("", "refresh", "--force"); !strings.Contains(r.err, "Refreshed") {
		t.Fatalf("refresh said %q", r.err)
	}
	// Where it came from: the token endpoint, not the user pool API.
	wantRefreshedAt(t, p, 1)
	if after := strings.TrimSpace(c.ok("", "token").out); after == before || !jwtRE.MatchString(after) {
		t.Fatal("the hosted UI session did not refresh to a new access token")
	}
}

func TestLoginHostedUIUsage(t *testing.T) {
	p := newTestPool(t, nil)
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no domain", map[string]string{"COGAUTH_ENDPOINT": ""}, nil, "needs the user pool domain"},
		{"clear-text domain", nil, []string{"--domain", "http://auth.example.com"}, "https"},
		{"bad port", nil, []string{"--redirect-port", "70000"}, "not a port"},
		{"bad redirect host", nil, []string{"--redirect-host", "example.com", "--browser-timeout", "1s"}, "127.0.0.1 or localhost"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t, p)
			for k, v := range tc.env {
				c.env[k] = v
			}
			r := c.run("", append([]string{"login", "--hosted-ui", "--no-browser"}, tc.args...)...)
			if r.code == 0 || !strings.Contains(r.err, tc.want) {
				t.Fatalf("exit %d stderr %q, want an error with %q", r.code, r.err, tc.want)
			}
		})
	}
	t.Run("timeout", func(t *testing.T) {
		c := newCLI(t, p)
		r := c.run("", "login", "--hosted-ui", "--no-browser", "--browser-timeout", "200ms")
		if r.code != exitError || !strings.Contains(r.err, "no sign-in arrived") {
			t.Fatalf("exit %d stderr %q", r.code, r.err)
		}
	})
}

var hiddenInputRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// signInOverHTTP is a browser without JavaScript: it opens the sign-in URL, fills
// in the emulator's form and follows the redirect to the CLI's loopback
// receiver, and returns that page's text.
func signInOverHTTP(ctx context.Context, signInURL, user, password string) (string, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return "", err
	}
	browser := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	get, err := http.NewRequestWithContext(ctx, http.MethodGet, signInURL, nil)
	if err != nil {
		return "", err
	}
	resp, err := browser.Do(get)
	if err != nil {
		return "", err
	}
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("sign-in page: %s", resp.Status)
	}
	form := url.Values{"username": {user}, "password": {password}}
	for _, m := range hiddenInputRE.FindAllStringSubmatch(string(page), -1) {
		form.Add(m[1], html.UnescapeString(m[2]))
	}
	action := *resp.Request.URL
	action.RawQuery = ""
	post, err := http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err = browser.Do(post); err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(resp.Request.URL.String(), "http://127.0.0.1:") || !strings.Contains(resp.Request.URL.Path, "/callback") {
		return "", fmt.Errorf("the sign-in ended at %s (%s), not at the CLI's receiver", resp.Request.URL.Redacted(), resp.Status)
	}
	return string(body), nil
}

// hostedLoginOverHTTP runs `cogauth login --hosted-ui --no-browser` and completes
// it with signInOverHTTP; it returns the sign-in URL the CLI printed.
func hostedLoginOverHTTP(t *testing.T, c *cli, user, password string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	u, errOut, done := startHostedLogin(ctx, t, c, args...)
	page, err := signInOverHTTP(ctx, u, user, password)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page, "You may close this window") {
		t.Fatalf("the receiver's page says %q", page)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("login exit %d: %q", code, errOut.String())
		}
	case <-ctx.Done():
		t.Fatalf("login did not finish: %q", errOut.String())
	}
	return u
}

// recordedDomain is the hosted UI domain user's session record keeps.
func (c *cli) recordedDomain(user string) string {
	c.t.Helper()
	var sj sessionJSON
	if err := json.Unmarshal([]byte(c.ok("", "session", "-o", "json").out), &sj); err != nil {
		c.t.Fatal(err)
	}
	if sj.Username != user {
		c.t.Fatalf("the profile is signed in as %q, not %q", sj.Username, user)
	}
	return sj.Domain
}

// deadURL is an http URL nothing listens on.
func deadURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + l.Addr().String()
	l.Close()
	return u
}

// wantRefreshedAt checks where the emulator saw the refreshes since its counters
// were reset: n at /oauth2/token and none through the user pool API, or (n < 0)
// the other way round.
func wantRefreshedAt(t *testing.T, p *testPool, tokenEndpoint int) {
	t.Helper()
	got := p.srv.RequestCounts()
	api := got["GetTokensFromRefreshToken"] + got["InitiateAuth"]
	if tokenEndpoint >= 0 && (got["oauth2/token"] != tokenEndpoint || api != 0) {
		t.Fatalf("want %d refreshes at /oauth2/token and none through the API; calls %v", tokenEndpoint, got)
	}
	if tokenEndpoint < 0 && (got["oauth2/token"] != 0 || api == 0) {
		t.Fatalf("want refreshes through the API and none at /oauth2/token; calls %v", got)
	}
}

// TestHostedUISessionRefreshesAtTheTokenEndpoint: a session from `login
// --hosted-ui` refreshes at the /oauth2/token of the domain it came from, however
// that domain was named at login, and whatever names a domain later.
func TestHostedUISessionRefreshesAtTheTokenEndpoint(t *testing.T) {
	p := newTestPool(t, nil)
	poolDomain := p.srv.URL + "/" + p.pool // the emulator's per-pool hosted UI
	tests := []struct {
		name string
		// setup runs before login, on the CLI's environment.
		setup      func(c *cli)
		loginArgs  []string
		wantURL    string // the sign-in URL's prefix
		wantDomain string // recorded
		// later runs after login and before the refresh.
		later func(c *cli)
	}{
		{name: "endpoint default", wantURL: p.srv.URL + "/oauth2/authorize?", wantDomain: p.srv.URL},
		{name: "--domain at login only; another domain configured later",
			loginArgs: []string{"--domain", poolDomain + "/"}, wantURL: poolDomain + "/oauth2/authorize?", wantDomain: poolDomain,
			later: func(c *cli) { c.env["COGAUTH_DOMAIN"] = deadURL(t) }},
		{name: "COGAUTH_DOMAIN; the endpoint gone later",
			setup:   func(c *cli) { c.env["COGAUTH_DOMAIN"] = poolDomain },
			wantURL: poolDomain + "/oauth2/authorize?", wantDomain: poolDomain,
			later: func(c *cli) { delete(c.env, "COGAUTH_DOMAIN") }},
		{name: "profile's domain and scopes",
			setup: func(c *cli) {
				c.ok("", "configure", "--domain", poolDomain, "--scopes", "openid,aws.cognito.signin.user.admin")
			},
			wantURL: poolDomain + "/oauth2/authorize?", wantDomain: poolDomain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI(t, p)
			if tt.setup != nil {
				tt.setup(c)
			}
			u := hostedLoginOverHTTP(t, c, "alice", alicePW, tt.loginArgs...)
			if !strings.HasPrefix(u, tt.wantURL) {
				t.Fatalf("sign-in URL %s, want it under %s", u, tt.wantURL)
			}
			if d := c.recordedDomain("alice"); d != tt.wantDomain {
				t.Fatalf("recorded domain %q, want %q", d, tt.wantDomain)
			}
			if tt.later != nil {
				tt.later(c)
			}
			before := strings.TrimSpace(c.ok("", "token").out)
			p.srv.ResetCounters()
			c.ok("", "refresh", "--force")
			wantRefreshedAt(t, p, 1)
			after := strings.TrimSpace(c.ok("", "token").out)
			if after == before || !jwtRE.MatchString(after) {
				t.Fatal("the hosted UI session did not refresh to a new access token")
			}
			var sj sessionJSON
			if err := json.Unmarshal([]byte(c.ok("", "session", "-o", "json").out), &sj); err != nil || sj.Username != "alice" || sj.Source != "hosted-ui" {
				t.Fatalf("session after the refresh: %+v (%v)", sj, err)
			}
			c.ok("", "logout")
			if r := c.run("", "session"); r.code != 3 {
				t.Fatalf("session after logout: exit %d, want 3 (not signed in)", r.code)
			}
		})
	}
}

// TestUserPoolSessionIgnoresTheDomain: a session signed in through the user pool
// API refreshes there even with a hosted UI domain configured, and a sign-in that
// replaces a hosted UI session drops its domain.
func TestUserPoolSessionIgnoresTheDomain(t *testing.T) {
	p := newTestPool(t, nil)
	c := newCLI(t, p)
	hostedLoginOverHTTP(t, c, "alice", alicePW)
	if c.recordedDomain("alice") == "" {
		t.Fatal("no domain recorded for the hosted UI session")
	}
	c.env["COGAUTH_DOMAIN"] = p.srv.URL
	c.ok(alicePW+"\n", "login", "-u", "alice", "--password-stdin")
	if d := c.recordedDomain("alice"); d != "" {
		t.Fatalf("password sign-in kept the hosted UI domain %q", d)
	}
	p.srv.ResetCounters()
	c.ok("", "refresh", "--force")
	wantRefreshedAt(t, p, -1)

	var sj sessionJSON
	if err := json.Unmarshal([]byte(c.ok("", "session", "-o", "json").out), &sj); err != nil || sj.Source != "user-pool" {
		t.Fatalf("session: %+v (%v)", sj, err)
	}
}

// TestStatusOfAHostedUISessionWithoutTheAPIScope: GetUser would refuse an access
// token with only OpenID scopes, which is no verdict on the session: status asks
// the hosted UI's userInfo instead.
func TestStatusOfAHostedUISessionWithoutTheAPIScope(t *testing.T) {
	p := newTestPool(t, nil)
	c := newCLI(t, p)
	hostedLoginOverHTTP(t, c, "alice", alicePW, "--scopes", "openid,email")
	p.srv.ResetCounters()
	var sj struct{ Profiles []statusJSON }
	if err := json.Unmarshal([]byte(c.ok("", "status", "-o", "json").out), &sj); err != nil {
		t.Fatal(err)
	}
	if len(sj.Profiles) != 1 || sj.Profiles[0].State != stateSignedIn || sj.Profiles[0].ServerCheck != checkAccepted || sj.Profiles[0].Source != "hosted-ui" {
		t.Fatalf("status: %+v", sj.Profiles)
	}
	if got := p.srv.RequestCounts(); got["GetUser"] != 0 || got["oauth2/userInfo"] != 1 {
		t.Fatalf("calls %v, want one userInfo and no GetUser", got)
	}
}
