package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"time"

	"github.com/spf13/pflag"

	"github.com/cogauth/cogauth/hostedui"
	"github.com/cogauth/cogauth/internal/config"
	"github.com/cogauth/cogauth/session"
)

// hostedUIOptions are the flags of `cogauth login --hosted-ui`.
type hostedUIOptions struct {
	Enabled          bool
	IdentityProvider string
	NoBrowser        bool
	RedirectPort     int
	RedirectHost     string
	Timeout          time.Duration

	// openBrowser opens a URL in the user's browser; tests replace it.
	openBrowser func(ctx context.Context, url string) error
}

// addHostedUIFlags adds the hosted UI flags to login's flag set. --domain and
// --scopes are global settings (a profile keeps them; refreshes need the domain).
func addHostedUIFlags(f *pflag.FlagSet) *hostedUIOptions {
	o := &hostedUIOptions{}
	f.BoolVar(&o.Enabled, "hosted-ui", false, "sign in through the Cognito hosted UI in a browser (OAuth 2.0 code flow with PKCE); see --domain and --scopes")
	f.StringVar(&o.IdentityProvider, "identity-provider", "", "go straight to this identity provider (Google, SignInWithApple, a SAML or OIDC provider's name, or COGNITO)")
	f.BoolVar(&o.NoBrowser, "no-browser", false, "print the sign-in URL instead of opening a browser")
	f.IntVar(&o.RedirectPort, "redirect-port", 0, "loopback port that receives the redirect: http://127.0.0.1:PORT/callback must be a callback URL of the app client (default: a free port)")
	f.StringVar(&o.RedirectHost, "redirect-host", "127.0.0.1", "host in the redirect URI: 127.0.0.1 or localhost, as registered with the app client")
	f.DurationVar(&o.Timeout, "timeout", 5*time.Minute, "how long to wait for the browser sign-in")
	return o
}

// runHostedUILogin signs in through the hosted UI and stores the session like any
// other sign-in, marked as the hosted UI's, with the domain it came from: its
// refreshes go to that domain's /oauth2/token, as Amplify's do.
func runHostedUILogin(ctx context.Context, a *app, o *hostedUIOptions) error {
	c, err := a.config()
	if err != nil {
		return err
	}
	if err := c.Require("user-pool-id", "client-id"); err != nil {
		return err
	}
	// The emulator serves the hosted UI at its API endpoint; so, by default, does
	// this, and the domain used is recorded with the session either way.
	domain := firstNonEmpty(c.Domain, config.NormalizeDomain(c.Endpoint))
	if domain == "" {
		return usagef("--hosted-ui needs the user pool domain: --domain https://PREFIX.auth.REGION.amazoncognito.com (or env COGAUTH_DOMAIN, or domain in the profile)")
	}
	if o.RedirectPort < 0 || o.RedirectPort > 65535 {
		return usagef("--redirect-port %d is not a port", o.RedirectPort)
	}
	hc, err := a.hostedUIClient(c, domain, config.ScopeList(c.Scopes))
	if err != nil {
		return err
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	lctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	open := func(ctx context.Context, u string) error {
		if !o.NoBrowser {
			opener := o.openBrowser
			if opener == nil {
				opener = openInBrowser
			}
			if err := opener(ctx, u); err == nil {
				fmt.Fprintf(a.IO.ErrOut, "Opened a browser to sign in. If none appeared, open this URL:\n\n  %s\n\n", u)
				return nil
			}
		}
		fmt.Fprintf(a.IO.ErrOut, "Open this URL in a browser to sign in:\n\n  %s\n\nWaiting for the sign-in (until %s)…\n", u, timeout)
		return nil
	}
	tok, err := hc.Login(lctx, hostedui.LoginOptions{
		AuthorizeOptions: hostedui.AuthorizeOptions{IdentityProvider: o.IdentityProvider},
		ReceiverOptions:  hostedui.ReceiverOptions{Port: o.RedirectPort, Host: o.RedirectHost},
		Open:             open,
	})
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return fmt.Errorf("no sign-in arrived within %s: %w", timeout, err)
		}
		return err
	}

	p, err := a.openForSignIn(ctx)
	if err != nil {
		return err
	}
	defer p.Close()
	sess, err := p.mgr.Import(ctx, session.ImportInput{
		AccessToken: tok.AccessToken.Reveal(), IDToken: tok.IDToken.Reveal(), RefreshToken: tok.RefreshToken,
		Source: session.SourceHostedUI,
	})
	if err != nil {
		return err
	}
	if err := p.signedInAs(ctx, sess.Username, domain); err != nil {
		return err
	}
	fmt.Fprintf(a.IO.ErrOut, "Signed in as %s through the hosted UI (profile %s).\n", sess.Username, p.cfg.Profile)
	return nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// openInBrowser asks the desktop to open u. It returns an error when no opener is
// available (a server, a container), and the URL is then printed instead.
func openInBrowser(ctx context.Context, u string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.CommandContext(ctx, "open", u)
	case "windows":
		cmd = exec.CommandContext(ctx, "rundll32", "url.dll,FileProtocolHandler", u)
	default:
		cmd = exec.CommandContext(ctx, "xdg-open", u)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	// The opener hands over to the browser and exits; do not keep it as a zombie.
	go func() { _ = cmd.Wait() }()
	return nil
}
