package hostedui_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/hostedui"
	"github.com/cogauth/cogauth/hostedui/browsertest"
	"github.com/cogauth/cogauth/session"
)

// TestLoginInChromium: a real headless Chromium opens the authorize URL, is sent
// to the emulator's sign-in page, types the username and password and submits;
// the redirect reaches the loopback receiver, whose page says the window may be
// closed; the code is exchanged, and the tokens become a session.Manager session
// that refreshes.
func TestLoginInChromium(t *testing.T) {
	b := browsertest.Start(t)
	f := newFixture(t)
	id, _ := f.client(t, "cli", false, []string{"code"}, []string{"openid", "email", "aws.cognito.signin.user.admin"})
	c := f.hosted(t, id, "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	tok, page := chromiumLogin(ctx, t, b, c, hostedui.LoginOptions{ReceiverOptions: hostedui.ReceiverOptions{Port: f.port}})
	if u, _ := page.URL(ctx); !strings.HasPrefix(u, f.cb+"?") {
		t.Fatalf("the browser ended at %s, want the callback", u)
	}

	cc, err := cognito.New(cognito.Options{UserPoolID: f.pool, ClientID: id, Endpoint: f.srv.URL, Clock: f.clk})
	if err != nil {
		t.Fatal(err)
	}
	m, err := session.New(session.Config{Cognito: cc, Clock: f.clk})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s, err := m.Import(ctx, session.ImportInput{AccessToken: tok.AccessToken, IDToken: tok.IDToken, RefreshToken: tok.RefreshToken})
	if err != nil {
		t.Fatal(err)
	}
	if s.Username != user {
		t.Fatalf("session user %q", s.Username)
	}
	f.clk.Advance(57 * time.Minute) // inside the refresh window
	r, err := m.Fetch(ctx, session.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Tokens.Access.Raw() == tok.AccessToken.Reveal() || !r.Tokens.Access.ExpiresAt().Equal(t0.Add(117*time.Minute)) {
		t.Fatalf("the session did not refresh: expires %v", r.Tokens.Access.ExpiresAt())
	}
}

// chromiumLogin runs c.Login with o, the browser b signing in as user on the
// page it is sent to, and waits for the loopback receiver's closing page.
func chromiumLogin(ctx context.Context, t *testing.T, b *browsertest.Browser, c *hostedui.Client, o hostedui.LoginOptions) (*hostedui.Tokens, *browsertest.Page) {
	t.Helper()
	var page *browsertest.Page
	o.Open = func(ctx context.Context, u string) error {
		var err error
		if page, err = b.Open(ctx, u); err != nil {
			return err
		}
		return page.SignIn(ctx, user, password)
	}
	tok, err := c.Login(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := page.WaitFor(ctx, `document.body && document.body.innerText.includes("You may close this window")`); err != nil {
		text, _ := page.Text(ctx)
		t.Fatalf("the browser's last page: %v (text %q)", err, text)
	}
	return tok, page
}
