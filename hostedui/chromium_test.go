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

	var page *browsertest.Page
	tok, err := c.Login(ctx, hostedui.LoginOptions{
		ReceiverOptions: hostedui.ReceiverOptions{Port: f.port},
		Open: func(ctx context.Context, u string) error {
			var err error
			if page, err = b.Open(ctx, u); err != nil {
				return err
			}
			return page.SignIn(ctx, user, password)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := page.WaitFor(ctx, `document.body && document.body.innerText.includes("You may close this window")`); err != nil {
		text, _ := page.Text(ctx)
		t.Fatalf("the browser's last page: %v (text %q)", err, text)
	}
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
	s, err := m.Import(ctx, session.ImportInput{AccessToken: tok.AccessToken.Reveal(), IDToken: tok.IDToken.Reveal(), RefreshToken: tok.RefreshToken})
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
