package httpauth

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/cogauth/cogauth/internal/bearer"
	"golang.org/x/oauth2"

	"github.com/cogauth/cogauth/jwt"
)

// TokenProvider supplies the token to put on a request. forceRefresh asks for a
// new token even if the current one looks valid: the Transport sets it after the
// server answered 401. Which token (id or access) is the provider's choice.
// session.Manager provides one; FromTokenSource adapts any oauth2.TokenSource.
type TokenProvider interface {
	Token(ctx context.Context, forceRefresh bool) (string, error)
}

// TokenProviderFunc adapts a function to TokenProvider.
type TokenProviderFunc func(ctx context.Context, forceRefresh bool) (string, error)

// Token calls f.
func (f TokenProviderFunc) Token(ctx context.Context, forceRefresh bool) (string, error) {
	return f(ctx, forceRefresh)
}

// FromTokenSource adapts an oauth2.TokenSource, sending its AccessToken. An
// oauth2.TokenSource cannot be told to refresh, so a forced refresh asks it once
// more; if it hands back the token the server just refused, Transport gives the
// 401 to the caller instead of retrying in vain.
func FromTokenSource(ts oauth2.TokenSource) TokenProvider {
	return TokenProviderFunc(func(context.Context, bool) (string, error) {
		t, err := ts.Token()
		if err != nil {
			return "", err
		}
		return t.AccessToken, nil
	})
}

// TokenSource adapts a TokenProvider (a *session.Manager, a websession.User) to an
// oauth2.TokenSource, the inverse of FromTokenSource: each Token call asks p, so
// the source is as fresh as p is, and needs no oauth2.ReuseTokenSource around it
// when p caches (the Manager does). The Expiry is the token's exp claim, read
// without verifying it (p vouches for the token); zero when it has none. Token
// calls have no context: p is asked under context.Background().
func TokenSource(p TokenProvider) oauth2.TokenSource { return providerSource{p} }

type providerSource struct{ p TokenProvider }

func (s providerSource) Token() (*oauth2.Token, error) {
	raw, err := s.p.Token(context.Background(), false)
	if err != nil {
		return nil, err
	}
	t := &oauth2.Token{AccessToken: raw, TokenType: "Bearer"}
	if tok, err := jwt.Decode(raw); err == nil {
		t.Expiry = tok.ExpiresAt()
	}
	return t, nil
}

// Scheme is how the token appears in the Authorization header.
type Scheme int

const (
	// Bearer sends "Authorization: Bearer <token>" (RFC 6750).
	Bearer Scheme = iota
	// Raw sends "Authorization: <token>", as API Gateway's Cognito authorizers
	// and Amplify's interceptors do.
	Raw
)

// ParseScheme reads "bearer" or "raw".
func ParseScheme(s string) (Scheme, error) {
	switch s {
	case "bearer", "Bearer", "":
		return Bearer, nil
	case "raw":
		return Raw, nil
	}
	return 0, fmt.Errorf("httpauth: unknown scheme %q (want bearer or raw)", s)
}

func (s Scheme) header(token string) string {
	if s == Raw {
		return token
	}
	return "Bearer " + token
}

// ErrToken matches failures to obtain a token for a request (the same value as
// grpcauth.ErrToken).
var ErrToken = bearer.ErrToken

// Transport is an http.RoundTripper that puts the provider's token on every
// request. On a 401 it forces one refresh and retries once, when the request body
// can be sent again (no body, or GetBody set, as http.NewRequest does for
// in-memory bodies); otherwise the 401 goes to the caller. Requests refused at
// the same time share one refresh (grpcauth's interceptors share the same
// code). The caller's request is never modified. Use a Transport by pointer.
type Transport struct {
	Source TokenProvider
	Scheme Scheme
	// Base does the work; http.DefaultTransport when nil.
	Base http.RoundTripper

	once      sync.Once
	refresher *bearer.Refresher
}

func (t *Transport) refresh() *bearer.Refresher {
	t.once.Do(func() { t.refresher = &bearer.Refresher{Source: t.Source} })
	return t.refresher
}

// NewClient returns an http.Client whose requests carry the provider's tokens.
func NewClient(src TokenProvider, scheme Scheme) *http.Client {
	return &http.Client{Transport: &Transport{Source: src, Scheme: scheme}}
}

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	tok, err := t.Source.Token(ctx, false)
	if err != nil {
		closeBody(req)
		return nil, fmt.Errorf("%w: %w", ErrToken, err)
	}
	out := req.Clone(ctx)
	out.Header.Set("Authorization", t.Scheme.header(tok))
	resp, err := t.base().RoundTrip(out)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || !replayable(req) {
		return resp, err
	}

	fresh, err := t.refresh().Refresh(ctx, tok)
	if err != nil {
		// The session could not be refreshed (revoked, signed out, network):
		// that is the clear answer, rather than the server's bare 401.
		discard(resp)
		return nil, fmt.Errorf("%w: refreshing after 401: %w", ErrToken, err)
	}
	if fresh == tok {
		return resp, nil // nothing new to try
	}
	retry := req.Clone(ctx)
	if req.Body != nil && req.Body != http.NoBody {
		body, err := req.GetBody()
		if err != nil {
			return resp, nil
		}
		retry.Body = body
	}
	discard(resp)
	retry.Header.Set("Authorization", t.Scheme.header(fresh))
	return t.base().RoundTrip(retry)
}

func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// discard drains a little of a response we drop, so its connection can be reused.
func discard(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}

// closeBody honours the RoundTripper contract of closing the body on every path.
func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}
