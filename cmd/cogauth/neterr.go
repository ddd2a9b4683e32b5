package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/hostedui"
	"github.com/cogauth/cogauth/internal/config"
	"github.com/cogauth/cogauth/session"
)

// timeout is the bound on each network step of this invocation: --timeout,
// COGAUTH_TIMEOUT or the profile's timeout, else config.DefaultTimeout. A
// configuration that cannot be resolved yet gets the default.
func (a *app) timeout() time.Duration {
	if a.cfg != nil {
		return a.cfg.RequestTimeout()
	}
	if d, err := config.ParseTimeout(firstNonEmpty(a.flags.Timeout, a.Getenv("COGAUTH_TIMEOUT"))); err == nil {
		return d
	}
	return config.DefaultTimeout
}

// httpClient is what every client of this invocation sends its requests with: each
// request, answer body included, is bounded by the timeout, so a server that
// accepts and never answers cannot hang a command.
func (a *app) httpClient() *http.Client {
	if a.http == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		d := a.timeout()
		tr.ResponseHeaderTimeout = d
		tr.TLSHandshakeTimeout = min(d, 10*time.Second)
		a.http = &http.Client{Transport: tr, Timeout: d}
	}
	return a.http
}

// stepGrace is what a step has beyond the timeout: each request gives up at the
// timeout itself (httpClient), and what follows a request that did (removing the
// local session after a sign-out the service did not answer, reporting the
// failure) still gets to run.
const stepGrace = 500 * time.Millisecond

// step bounds one network step of a command (a sign-in call, a refresh with its
// retries, a sign-out) by the timeout. Time spent at a prompt is never in a step.
func (a *app) step(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, a.timeout()+stepGrace)
}

// endpointSetting names the setting that chose the URL a failed request went to, so
// that the message says what to check.
func endpointSetting(c *config.Config, u *url.URL) string {
	if c == nil || u == nil {
		return "--endpoint / COGAUTH_ENDPOINT"
	}
	origin := u.Scheme + "://" + u.Host
	same := func(s string) bool {
		if s == "" {
			return false
		}
		v, err := url.Parse(s)
		return err == nil && v.Scheme+"://"+v.Host == origin
	}
	switch {
	case same(c.IdentityEndpoint):
		return "--identity-endpoint / COGAUTH_IDENTITY_ENDPOINT"
	case same(c.Endpoint):
		return "--endpoint / COGAUTH_ENDPOINT"
	case same(c.Domain):
		return "--domain / COGAUTH_DOMAIN"
	case strings.HasPrefix(u.Host, "cognito-identity."):
		return "--identity-endpoint / COGAUTH_IDENTITY_ENDPOINT, or your network connection"
	case strings.HasSuffix(u.Host, ".amazonaws.com"):
		return "--region and the pool ID, --endpoint / COGAUTH_ENDPOINT, or your network connection"
	}
	return "--endpoint / COGAUTH_ENDPOINT"
}

// defaultEndpoint is where user-pool calls go when no error names the URL.
func defaultEndpoint(c *config.Config) string {
	if c == nil {
		return "the service"
	}
	if c.Endpoint != "" {
		return strings.TrimRight(c.Endpoint, "/")
	}
	if c.Region != "" {
		return "https://cognito-idp." + c.Region + ".amazonaws.com"
	}
	return "the service"
}

// humanError rewrites an error of the network or of a known misconfiguration into
// one sentence that says what happened and what to check; other errors come back
// as they are.
func humanError(err error, c *config.Config, timeout time.Duration) error {
	if err == nil {
		return nil
	}
	var h *humanized
	if errors.As(err, &h) {
		return err // already in words (logout and refresh wrap their cause so)
	}
	if msg, ok := networkMessage(err, c, timeout); ok {
		return &humanized{msg: msg, err: err}
	}
	if errors.Is(err, session.ErrInvalidAnswer) && c != nil && c.UserPoolID != "" {
		if m := issuerPoolRE.FindStringSubmatch(err.Error()); m != nil && m[1] != c.UserPoolID {
			return &humanized{msg: fmt.Sprintf("the sign-in answered with tokens of user pool %s, not of the configured %s: check --user-pool-id / COGAUTH_USER_POOL_ID (the app client %s belongs to %s); nothing was stored", m[1], c.UserPoolID, c.ClientID, m[1]), err: err}
		}
	}
	if errors.Is(err, hostedui.ErrInvalidClient) {
		return &humanized{msg: "the hosted UI refused the app client: check --client-id / COGAUTH_CLIENT_ID and --client-secret / COGAUTH_CLIENT_SECRET (" + err.Error() + ")", err: err}
	}
	if signedOut(err) {
		return &humanized{msg: signedOutWords(c, err), err: err}
	}
	var ce *cognito.Error
	if errors.As(err, &ce) {
		if w, ok := cognitoWords(c, ce); ok {
			// A wrapper's words stay ("remembering the device: …"); the
			// libraries' package names and the SDK's do not.
			if i := strings.Index(err.Error(), ce.Error()); i > 0 {
				w = pkgPrefixRE.ReplaceAllString(err.Error()[:i], "$1") + w
			}
			return &humanized{msg: w, err: err}
		}
	}
	return err
}

// pkgPrefixRE finds the package names libraries start their errors with.
var pkgPrefixRE = regexp.MustCompile(`(^|: )(?:session|cognito|identity|hostedui|store|keyring|srp|config|emulator|httpauth): `)

// issuerPoolRE finds the pool of a token's issuer in session's validation error.
var issuerPoolRE = regexp.MustCompile(`issuer "https?://[^"]*/([\w-]+_[0-9A-Za-z]+)" is not pool`)

// humanized is an error with a message for people; errors.Is and As still see the
// original, so exit codes do not change.
type humanized struct {
	msg string
	err error
}

func (h *humanized) Error() string { return h.msg }
func (h *humanized) Unwrap() error { return h.err }

// failedEndpoint is the url.Error in err (nil when none), the endpoint it
// (else the configuration) names, and that endpoint as shown.
func failedEndpoint(err error, c *config.Config) (*url.Error, *url.URL, string) {
	var ue *url.Error
	var u *url.URL
	where := defaultEndpoint(c)
	if errors.As(err, &ue) {
		if p, perr := url.Parse(ue.URL); perr == nil {
			u = &url.URL{Scheme: p.Scheme, Host: p.Host}
			where = u.String()
		}
	} else if c != nil && c.Endpoint != "" {
		u, _ = url.Parse(c.Endpoint)
	}
	return ue, u, where
}

// networkMessage describes an error that is the network's: "cannot reach URL
// (connection refused): check --endpoint / COGAUTH_ENDPOINT".
func networkMessage(err error, c *config.Config, timeout time.Duration) (string, bool) {
	ue, u, where := failedEndpoint(err, c)
	setting := endpointSetting(c, u)
	var dns *net.DNSError
	var op *net.OpError
	var cert x509.UnknownAuthorityError
	var host x509.HostnameError
	var rec tls.RecordHeaderError
	var timeoutErr interface{ Timeout() bool }
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("cannot reach %s (connection refused): check %s", where, setting), true
	case errors.As(err, &dns):
		return fmt.Sprintf("cannot reach %s (host %s not found): check %s", where, dns.Name, setting), true
	case errors.As(err, &cert), errors.As(err, &host):
		return fmt.Sprintf("cannot reach %s (its TLS certificate is not trusted: %v): check %s", where, err, setting), true
	case errors.As(err, &rec), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return fmt.Sprintf("cannot reach %s (it does not speak TLS; http:// instead of https://?): check %s", where, setting), true
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &timeoutErr) && timeoutErr.Timeout():
		return fmt.Sprintf("no answer from %s within %s: check %s, or allow more time with --timeout / COGAUTH_TIMEOUT", where, timeout, setting), true
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return fmt.Sprintf("cannot reach %s (the connection was reset): check %s", where, setting), true
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return fmt.Sprintf("cannot reach %s (no route to the host): check %s and your network connection", where, setting), true
	case ue != nil && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)):
		return fmt.Sprintf("cannot reach %s (the connection closed before an answer): check %s", where, setting), true
	case errors.As(err, &op):
		return fmt.Sprintf("cannot reach %s (%v): check %s", where, op.Err, setting), true
	}
	return "", false
}

// progressDelay is how long a step runs before progress is shown.
const progressDelay = time.Second

// progress tells a person at a terminal that a step is waiting on the network,
// once it has taken more than progressDelay: one plain line on stderr (no escape
// sequences, so nothing to undo and nothing NO_COLOR or a dumb terminal minds).
// Nothing is shown on a pipe or with --quiet. stop is safe to call more than once.
func (a *app) progress() (stop func()) {
	tty := a.isTTY
	if tty == nil {
		tty = isTerminal
	}
	if a.flags.Quiet || !tty(a.IO.ErrOut) {
		return func() {}
	}
	where, d := defaultEndpoint(a.cfg), a.timeout()
	t := time.AfterFunc(progressDelay, func() {
		fmt.Fprintf(a.IO.ErrOut, "Waiting for %s (up to %s)…\n", where, d)
	})
	return func() { t.Stop() }
}

// netStep is one network step: bounded by the timeout, with progress shown when
// it is slow. done must be called when the step is over.
func (a *app) netStep(ctx context.Context) (context.Context, func()) {
	ctx, cancel := a.step(ctx)
	stop := a.progress()
	return ctx, func() { stop(); cancel() }
}
