package hostedui

import (
	"context"
	"time"

	"golang.org/x/oauth2"

	"github.com/cogauth/cogauth/internal/errkind"
	"github.com/cogauth/cogauth/internal/refresh"
)

// CredentialsOptions adjust a ClientCredentialsSource.
type CredentialsOptions struct {
	// Scopes to ask for; all the client's when empty.
	Scopes []string
	// RefreshBefore is how long before expiry a new token is fetched; default 5
	// minutes, never more than half the token's lifetime.
	RefreshBefore time.Duration
	// RetryAfterFailure is how long a still-valid token keeps being served after a
	// transient failure before the next try; default 30 seconds, doubled (with
	// jitter) after each further failure up to MaxRetryAfterFailure, never past
	// the token's expiry.
	RetryAfterFailure time.Duration
	// MaxRetryAfterFailure caps those waits; default 5 minutes.
	MaxRetryAfterFailure time.Duration
	// FetchTimeout bounds one fetch, which no caller's context cancels; default 30s.
	FetchTimeout time.Duration
}

// ClientCredentialsSource hands out a machine-to-machine access token
// (client_credentials grant), fetching a new one before the current one expires.
// While the token is fresh, Fetch is one atomic load; concurrent callers share a
// single fetch. Transient failures (network, 5xx, 429) never take away a token
// that is still valid. Safe for concurrent use.
type ClientCredentialsSource struct {
	c    *Client
	opts CredentialsOptions
	cur  *refresh.Cache[*Tokens]
}

// ClientCredentialsSource returns a caching source of client_credentials tokens.
// It does no I/O until the first Fetch.
func (c *Client) ClientCredentialsSource(o CredentialsOptions) *ClientCredentialsSource {
	pol := refresh.Policy{
		RefreshBefore:        o.RefreshBefore,
		RetryAfterFailure:    o.RetryAfterFailure,
		MaxRetryAfterFailure: o.MaxRetryAfterFailure,
		Timeout:              o.FetchTimeout,
	}.WithDefaults()
	o.RefreshBefore, o.RetryAfterFailure, o.MaxRetryAfterFailure, o.FetchTimeout = pol.RefreshBefore, pol.RetryAfterFailure, pol.MaxRetryAfterFailure, pol.Timeout
	return &ClientCredentialsSource{c: c, opts: o, cur: refresh.New[*Tokens](c.opts.Clock, pol)}
}

// Fetch returns a fresh token, fetching one when the cached token is within the
// refresh window (or when force is set).
func (s *ClientCredentialsSource) Fetch(ctx context.Context, force bool) (*Tokens, error) {
	if !force {
		if e, ok := s.cur.Fresh(); ok {
			return e.Value, nil
		}
	}
	key := "fetch"
	if force {
		key = "force"
	}
	e, err := s.cur.Do(ctx, key, func(fctx context.Context) (*refresh.Entry[*Tokens], error) { return s.fetch(fctx, force) })
	if err != nil {
		return nil, err
	}
	return e.Value, nil
}

func (s *ClientCredentialsSource) fetch(ctx context.Context, force bool) (*refresh.Entry[*Tokens], error) {
	old := s.cur.Load()
	if e, ok := s.cur.Fresh(); ok && !force {
		return e, nil // a fetch that just finished did the work
	}
	tok, err := s.c.ClientCredentials(ctx, s.opts.Scopes...)
	now := s.c.opts.Clock.Now()
	if err != nil {
		if old != nil && errkind.Retryable(err) && old.Valid(now) {
			held := s.cur.Held(old, err)
			s.cur.Store(held)
			return held, nil
		}
		return nil, err
	}
	s.cur.Store(&refresh.Entry[*Tokens]{Value: tok, RefreshAt: s.cur.Policy().RefreshAt(now, tok.Expiry), ExpiresAt: tok.Expiry})
	return s.cur.Load(), nil
}

// Token returns the access token: the `Token(ctx, forceRefresh) (string, error)`
// shape httpauth's Transport takes.
func (s *ClientCredentialsSource) Token(ctx context.Context, forceRefresh bool) (string, error) {
	t, err := s.Fetch(ctx, forceRefresh)
	if err != nil {
		return "", err
	}
	return t.AccessToken.Reveal(), nil
}

// TokenSource adapts the source to golang.org/x/oauth2. It is always as fresh as
// the source; there is no need for oauth2.ReuseTokenSource.
func (s *ClientCredentialsSource) TokenSource() oauth2.TokenSource { return ccTokenSource{s} }

type ccTokenSource struct{ s *ClientCredentialsSource }

func (ts ccTokenSource) Token() (*oauth2.Token, error) {
	t, err := ts.s.Fetch(context.Background(), false)
	if err != nil {
		return nil, err
	}
	return &oauth2.Token{AccessToken: t.AccessToken.Reveal(), TokenType: "Bearer", Expiry: t.Expiry}, nil
}
