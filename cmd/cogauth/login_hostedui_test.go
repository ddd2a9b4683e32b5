package main

import (
	"context"
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
	if r := c.ok("", "refresh", "--force"); !strings.Contains(r.err, "Refreshed") {
		t.Fatalf("refresh said %q", r.err)
	}
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
		{"bad redirect host", nil, []string{"--redirect-host", "example.com", "--timeout", "1s"}, "127.0.0.1 or localhost"},
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
		r := c.run("", "login", "--hosted-ui", "--no-browser", "--timeout", "200ms")
		if r.code != exitError || !strings.Contains(r.err, "no sign-in arrived") {
			t.Fatalf("exit %d stderr %q", r.code, r.err)
		}
	})
}
