package hostedui

import (
	"context"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"
)

// CredentialsOptions adjust a ClientCredentialsSource.
type CredentialsOptions struct {
	// Scopes to ask for; all the client's when empty.
	Scopes []string
	// RefreshBefore is how long before expiry a new token is fetched; default 5
	// minutes, never more than half the token's lifetime.
	RefreshBefore time.Duration
	// RetryAfterFailure is how long a still-valid token keeps being served after a
	// transient failure before the next try; default 30 seconds.
	RetryAfterFailure time.Duration
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
	cur  atomic.Pointer[ccState]
	sf   singleflight.Group
}

type ccState struct {
	tok       *Tokens
	refreshAt time.Time // local clock: from here on Fetch goes out
	expiresAt time.Time // local clock: the token is dead from here on
}

// ClientCredentialsSource returns a caching source of client_credentials tokens.
// It does no I/O until the first Fetch.
func (c *Client) ClientCredentialsSource(o CredentialsOptions) *ClientCredentialsSource {
	if o.RefreshBefore <= 0 {
		o.RefreshBefore = 5 * time.Minute
	}
	if o.RetryAfterFailure <= 0 {
		o.RetryAfterFailure = 30 * time.Second
	}
	if o.FetchTimeout <= 0 {
		o.FetchTimeout = 30 * time.Second
	}
	return &ClientCredentialsSource{c: c, opts: o}
}

// Fetch returns a fresh token, fetching one when the cached token is within the
// refresh window (or when force is set).
func (s *ClientCredentialsSource) Fetch(ctx context.Context, force bool) (*Tokens, error) {
	if !force {
		if st := s.cur.Load(); st != nil && s.c.opts.Clock.Now().Before(st.refreshAt) {
			return st.tok, nil
		}
	}
	key := "fetch"
	if force {
		key = "force"
	}
	ch := s.sf.DoChan(key, func() (any, error) {
		// Detached: the first caller giving up must not fail the others' fetch.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.FetchTimeout)
		defer cancel()
		return s.fetch(fctx, force)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*Tokens), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *ClientCredentialsSource) fetch(ctx context.Context, force bool) (*Tokens, error) {
	old := s.cur.Load()
	if !force && old != nil && s.c.opts.Clock.Now().Before(old.refreshAt) {
		return old.tok, nil // a fetch that just finished did the work
	}
	tok, err := s.c.ClientCredentials(ctx, s.opts.Scopes...)
	now := s.c.opts.Clock.Now()
	if err != nil {
		if old != nil && IsRetryable(err) && now.Before(old.expiresAt) {
			held := *old
			held.refreshAt = now.Add(s.opts.RetryAfterFailure)
			if held.refreshAt.After(old.expiresAt) {
				held.refreshAt = old.expiresAt
			}
			s.cur.Store(&held)
			return old.tok, nil
		}
		return nil, err
	}
	window := s.opts.RefreshBefore
	if half := tok.ExpiresIn / 2; window > half {
		window = half
	}
	s.cur.Store(&ccState{tok: tok, refreshAt: tok.Expiry.Add(-window), expiresAt: tok.Expiry})
	return tok, nil
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
