package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os/exec"
	"runtime"
	"strings"
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
	Output           string // text or json, login's -o

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
	f.DurationVar(&o.Timeout, "browser-timeout", 5*time.Minute, "how long to wait for the browser sign-in (the global --timeout bounds each request)")
	return o
}

// runHostedUILogin signs in through the hosted UI and stores the session like any
// other sign-in, marked as the hosted UI's, with the domain it came from: its
// refreshes go to that domain's /oauth2/token, as Amplify's do.
func runHostedUILogin(ctx context.Context, a *app, o *hostedUIOptions) error {
	c, domain, err := o.resolve(a)
	if err != nil {
		return err
	}
	hc, err := a.hostedUIClient(c, domain, config.ScopeList(c.Scopes))
	if err != nil {
		return err
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	// The browser's opener runs under lctx until the sign-in is stored.
	lctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rcv, err := hostedui.Listen(hostedui.ReceiverOptions{Port: o.RedirectPort, Host: o.RedirectHost})
	if err != nil {
		return listenError(fmt.Sprintf("127.0.0.1:%d", o.RedirectPort), "--redirect-port", err)
	}
	defer rcv.Close()
	req, err := hc.AuthCodeURL(hostedui.AuthorizeOptions{IdentityProvider: o.IdentityProvider, RedirectURI: rcv.RedirectURI})
	if err != nil {
		return err
	}
	q, err := o.awaitRedirect(ctx, lctx, a.IO, rcv, req.URL, timeout)
	if err != nil {
		return err
	}
	// The answer is checked against this sign-in's state (a pasted URL from
	// another sign-in, or a forged one, is refused) and its code redeemed with
	// the PKCE verifier.
	sctx, done := a.netStep(ctx)
	defer done()
	tok, err := hc.Exchange(sctx, req, q)
	if err != nil {
		return err
	}
	return o.keep(sctx, a, domain, tok)
}

// resolve reads the configuration and checks what the hosted UI needs: the
// pool, the client, the domain (by default the endpoint's: the emulator serves
// the hosted UI there) and a port.
func (o *hostedUIOptions) resolve(a *app) (*config.Config, string, error) {
	c, err := a.config()
	if err != nil {
		return nil, "", err
	}
	if err := c.Require("user-pool-id", "client-id"); err != nil {
		return nil, "", err
	}
	// The domain used is recorded with the session either way.
	domain := firstNonEmpty(c.Domain, config.NormalizeDomain(c.Endpoint))
	if domain == "" {
		return nil, "", usagef("--hosted-ui needs the user pool domain: --domain https://PREFIX.auth.REGION.amazoncognito.com (or env COGAUTH_DOMAIN, or domain in the profile)")
	}
	if o.RedirectPort < 0 || o.RedirectPort > 65535 {
		return nil, "", usagef("--redirect-port %d is not a port", o.RedirectPort)
	}
	return c, domain, nil
}

// awaitRedirect opens the browser at the sign-in URL (or prints it) and waits,
// until lctx ends (timeout), for the redirect: at the loopback receiver, or
// pasted back in --no-browser mode. ctx is the command's: its end is an
// interruption.
func (o *hostedUIOptions) awaitRedirect(ctx, lctx context.Context, ios IOStreams, rcv *hostedui.Receiver, signInURL string, timeout time.Duration) (url.Values, error) {
	pasted := make(chan url.Values, 1)
	if o.browse(lctx, signInURL) {
		fmt.Fprintf(ios.ErrOut, "Opened a browser to sign in. If none appeared, open this URL:\n\n  %s\n\n", signInURL)
	} else {
		fmt.Fprintf(ios.ErrOut, "Open this URL in a browser to sign in:\n\n  %s\n\n"+
			"Waiting for the sign-in (until %s). If the browser runs on another machine, its last\n"+
			"page will not load: copy the URL from its address bar (it starts %s?) and paste it here.\n", signInURL, timeout, rcv.RedirectURI)
		// The paste-back reader only starts in --no-browser mode: with a browser
		// here, stdin is the user's and the loopback receiver gets the answer.
		go readPastedRedirect(ios.In, ios.ErrOut, rcv.RedirectURI, pasted)
	}
	var q url.Values
	select {
	case q = <-pasted:
	case q = <-waitReceiver(lctx, rcv):
	case <-lctx.Done():
	}
	if q != nil {
		return q, nil
	}
	if ctx.Err() != nil {
		return nil, errInterrupted
	}
	return nil, fmt.Errorf("no sign-in arrived within %s (allow more time with --browser-timeout)", timeout)
}

// browse opens the browser at u unless --no-browser, and says whether it did.
func (o *hostedUIOptions) browse(ctx context.Context, u string) bool {
	if o.NoBrowser {
		return false
	}
	opener := o.openBrowser
	if opener == nil {
		opener = openInBrowser
	}
	return opener(ctx, u) == nil
}

// keep stores the hosted UI's tokens as the profile's session, marked with the
// domain they came from, and says so.
func (o *hostedUIOptions) keep(ctx context.Context, a *app, domain string, tok *hostedui.Tokens) error {
	p, err := a.openForSignIn(ctx)
	if err != nil {
		return err
	}
	defer p.Close()
	sess, err := p.mgr.Import(ctx, session.ImportInput{
		AccessToken: tok.AccessToken, IDToken: tok.IDToken, RefreshToken: tok.RefreshToken,
		Source: session.SourceHostedUI, Domain: domain,
	})
	if err != nil {
		return err
	}
	if err := p.signedInAs(ctx, sess.Username); err != nil {
		return err
	}
	if o.Output == "json" {
		return writeJSON(a.IO.Out, signInOut(p.cfg.Profile, sess))
	}
	fmt.Fprintf(a.IO.ErrOut, "Signed in as %s through the hosted UI (profile %s).\n", sess.Username, p.cfg.Profile)
	return nil
}

// waitReceiver delivers the loopback receiver's callback, if one comes before ctx
// ends.
func waitReceiver(ctx context.Context, rcv *hostedui.Receiver) <-chan url.Values {
	got := make(chan url.Values, 1)
	go func() {
		if q, err := rcv.Wait(ctx); err == nil {
			got <- q
		}
	}()
	return got
}

// readPastedRedirect reads lines from in until one is the redirect URL of this
// sign-in (redirectURI with a code or an error), and sends its query. Anything
// else is answered on w with what is expected; the end of input ends the reading
// (the loopback receiver may still get the answer).
func readPastedRedirect(in io.Reader, w io.Writer, redirectURI string, got chan<- url.Values) {
	for {
		line, err := readLine(in)
		if err != nil {
			return
		}
		q, perr := parsePastedRedirect(line, redirectURI)
		if perr == nil {
			got <- q
			return
		}
		if strings.TrimSpace(line) != "" {
			fmt.Fprintf(w, "%v. Paste the whole URL the browser ended at (%s?code=…&state=…):\n", perr, redirectURI)
		}
	}
}

// parsePastedRedirect checks that s is redirectURI with a query carrying a code or
// an error, and returns the query. The state in it is checked by Exchange.
func parsePastedRedirect(s, redirectURI string) (url.Values, error) {
	s = strings.TrimSpace(s)
	if len(s) > 16<<10 {
		return nil, errors.New("that is too long for a redirect URL")
	}
	u, err := url.Parse(s)
	want, werr := url.Parse(redirectURI)
	if err != nil || werr != nil || u.Scheme != want.Scheme || u.Host != want.Host || u.Path != want.Path {
		return nil, errors.New("that is not the redirect URL of this sign-in")
	}
	q := u.Query()
	if q.Get("code") == "" && q.Get("error") == "" {
		return nil, errors.New("that URL has neither a code nor an error")
	}
	return q, nil
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
