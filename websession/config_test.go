package websession

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cogauth/cogauth/secret"
	"github.com/cogauth/cogauth/store"
)

// TestCookieFlags: the session cookie as the callback sets it, in development
// (http on loopback: no Secure, so no __Host- prefix) and production (https).
func TestCookieFlags(t *testing.T) {
	for _, tls := range []bool{false, true} {
		f := newFixture(t, fixtureOptions{tls: tls})
		b := f.browser()
		var set []string
		b.c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if last := via[len(via)-1]; last.URL.Path == "/auth/callback" {
				set = req.Response.Header.Values("Set-Cookie")
			}
			return nil
		}
		b.signIn("/", alice, password)
		var session string
		for _, c := range set {
			if strings.HasPrefix(c, "cogauth=") || strings.HasPrefix(c, "__Host-cogauth=") {
				session = c
			}
		}
		want := []string{"Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=43200"}
		name := "cogauth="
		if tls {
			want, name = append(want, "Secure"), "__Host-cogauth="
		}
		if !strings.HasPrefix(session, name) || strings.Contains(session, "Domain=") || (!tls && strings.Contains(session, "Secure")) {
			t.Fatalf("tls=%t: session cookie %q", tls, session)
		}
		for _, w := range want {
			if !strings.Contains(session, w) {
				t.Errorf("tls=%t: cookie %q lacks %s", tls, session, w)
			}
		}
	}
}

// TestConfigRefusals: New refuses a Config it cannot serve, and a Session
// that sets what websession sets for every session's Manager.
func TestConfigRefusals(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	good := f.replicas[0].config()
	if w, err := New(good); err != nil {
		t.Fatalf("the fixture's own Config is refused: %v", err)
	} else {
		w.Close()
	}
	for name, adjust := range map[string]func(*Config){
		"no cognito client":              func(c *Config) { c.Session.Cognito = nil },
		"session store":                  func(c *Config) { c.Session.Store = store.NewMemory() },
		"session username":               func(c *Config) { c.Session.Username = alice },
		"session hosted ui":              func(c *Config) { c.Session.HostedUI = f.replicas[0].refresher },
		"session clock":                  func(c *Config) { c.Session.Clock = f.clk },
		"session logger":                 func(c *Config) { c.Session.Logger = slog.Default() },
		"session refresh token validity": func(c *Config) { c.Session.RefreshTokenValidity = time.Hour },
		"negative refresh wait":          func(c *Config) { c.RefreshWait = -time.Second },
		"http off loopback":              func(c *Config) { c.BaseURL = "http://app.example.com" },
		"base with a path":               func(c *Config) { c.BaseURL = "https://app.example.com/x" },
		"short secret":                   func(c *Config) { c.Secret = []byte("short") },
		"no verifier":                    func(c *Config) { c.Verifier = nil },
		"bad path":                       func(c *Config) { c.Paths.Login = "auth/login" },
		"cookie keys and a store":        func(c *Config) { c.CookieKeys = []secret.Bytes{randomKey()} },
		"cookie keys and strict": func(c *Config) {
			c.Store, c.Strict, c.CookieKeys = nil, true, []secret.Bytes{randomKey()}
		},
		"short cookie key": func(c *Config) { c.Store, c.CookieKeys = nil, []secret.Bytes{randomKey(), []byte("short")} },
	} {
		c := good
		adjust(&c)
		if _, err := New(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
