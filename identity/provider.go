package identity

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/internal/errkind"
	"github.com/cogauth/cogauth/internal/refresh"
	"github.com/cogauth/cogauth/jwt"
)

// LoginSource tells a Provider who is signed in.
type LoginSource interface {
	// IDToken returns the signed-in user's current Cognito id token, or an error
	// wrapping ErrNotSignedIn when nobody is signed in. It is called on every
	// Retrieve, so it must be cheap while the token is fresh (session.Manager's
	// cached path is).
	IDToken(ctx context.Context) (string, error)
}

// LoginFunc adapts a function to LoginSource.
type LoginFunc func(ctx context.Context) (string, error)

// IDToken calls f.
func (f LoginFunc) IDToken(ctx context.Context) (string, error) { return f(ctx) }

// ProviderOptions configure a Provider.
type ProviderOptions struct {
	// Logins tells who is signed in. Nil: the provider always hands out guest
	// credentials.
	Logins LoginSource
	// AllowGuest makes the provider hand out guest credentials while nobody is
	// signed in, instead of failing with ErrNotSignedIn. The identity pool must
	// allow unauthenticated identities.
	AllowGuest bool
	// Clock decides expiry; the system clock when nil.
	Clock clock.Clock
	// RefreshBefore is how long before Expiration credentials are renewed; default 5
	// minutes, never more than half their lifetime.
	RefreshBefore time.Duration
	// RetryAfterFailure is how long still-valid credentials are served after a
	// transient failure before the next attempt; default 30s, doubled after each
	// further failure up to MaxRetryAfterFailure, with jitter (the policy of every
	// cogauth cache).
	RetryAfterFailure time.Duration
	// MaxRetryAfterFailure caps those waits; default 5 minutes.
	MaxRetryAfterFailure time.Duration
	// FetchTimeout bounds one shared fetch (GetId and GetCredentialsForIdentity); it
	// does not depend on any caller's context. Default 30s.
	FetchTimeout time.Duration
	// OnRefresh, when set, is called with each new set of credentials (from the
	// goroutine that fetched them; it must not block).
	OnRefresh func(Credentials)
}

// Provider hands out an identity pool's credentials for whoever LoginSource says is
// signed in. It implements aws.CredentialsProvider and caches by itself:
//
//   - credentials are served without a network call until RefreshBefore ahead of
//     their real Expiration (not a fixed 50 minutes, as Amplify has it);
//   - concurrent callers share one fetch;
//   - a transient failure (throttling, 5xx, network) keeps still-valid credentials
//     in service, with backoff before the next attempt; a definitive one drops them;
//   - a new id token (refreshed, or another user's) means new credentials, and no
//     login means none (or a guest's, with AllowGuest).
//
// It also works inside aws.CredentialsCache (which then decides when to ask again,
// by its ExpiryWindow), though the cache keeps serving what it holds after the
// user changes until its own expiry: use the Provider alone, or Invalidate the
// cache on sign-out. Safe for concurrent use.
type Provider struct {
	c    *Client
	opts ProviderOptions
	cur  *refresh.Cache[ident]
}

// ident is what the cache holds: the credentials and the id token they answer.
type ident struct {
	creds Credentials
	aws   aws.Credentials // built once, so Retrieve copies a struct and allocates nothing
	token string          // the id token the credentials answer ("" for a guest)
	login Login
}

// NewProvider returns a Provider over c. It does no I/O.
func NewProvider(c *Client, opts ProviderOptions) *Provider {
	pol := refresh.Policy{
		RefreshBefore:        opts.RefreshBefore,
		RetryAfterFailure:    opts.RetryAfterFailure,
		MaxRetryAfterFailure: opts.MaxRetryAfterFailure,
		Timeout:              opts.FetchTimeout,
	}.WithDefaults()
	opts.RefreshBefore, opts.RetryAfterFailure, opts.MaxRetryAfterFailure, opts.FetchTimeout = pol.RefreshBefore, pol.RetryAfterFailure, pol.MaxRetryAfterFailure, pol.Timeout
	if opts.Clock == nil {
		opts.Clock = clock.System{}
	}
	return &Provider{c: c, opts: opts, cur: refresh.New[ident](opts.Clock, pol)}
}

// Client returns the client the provider fetches with.
func (p *Provider) Client() *Client { return p.c }

// Retrieve returns credentials for aws-sdk-go-v2 (aws.CredentialsProvider).
func (p *Provider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	e, err := p.get(ctx)
	if err != nil {
		return aws.Credentials{}, err
	}
	return e.Value.aws, nil
}

// Credentials returns the current credentials with their identity ID.
func (p *Provider) Credentials(ctx context.Context) (Credentials, error) {
	e, err := p.get(ctx)
	if err != nil {
		return Credentials{}, err
	}
	return e.Value.creds, nil
}

// Invalidate drops the cached credentials: the next call fetches new ones.
func (p *Provider) Invalidate() { p.cur.Store(nil) }

// SignOut drops the cached credentials and forgets the stored identity ID of the
// user they were for, as Amplify does at sign-out. Call it when the user signs
// out; LoginSource reporting ErrNotSignedIn already stops the credentials being
// served.
func (p *Provider) SignOut(ctx context.Context) error {
	e := p.cur.Load()
	p.cur.Store(nil)
	if e == nil || e.Value.token == "" {
		return nil
	}
	return p.c.Forget(ctx, jwt.Secret(e.Value.token))
}

func (p *Provider) get(ctx context.Context) (*refresh.Entry[ident], error) {
	tok, err := p.idToken(ctx)
	now := p.opts.Clock.Now()
	if err != nil {
		// The session cannot tell who is signed in right now (a network blip
		// while its tokens are refreshed): the signed-in user's credentials stay
		// good while they are valid.
		if e := p.cur.Load(); e != nil && e.Value.token != "" && errkind.Retryable(err) && e.Value.creds.Valid(now) {
			return e, nil
		}
		return nil, err
	}
	if e := p.cur.Load(); e != nil && e.Value.token == tok && now.Before(e.RefreshAt) {
		// Fresh, or held after a transient failure while still valid.
		return e, nil
	}
	e, err := p.cur.Do(ctx, tok, func(fctx context.Context) (*refresh.Entry[ident], error) { return p.fetch(fctx, tok) })
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return nil, &cognito.Error{Op: "GetCredentialsForIdentity", Name: cognito.RequestCanceled, Cause: ctx.Err()}
	}
	return e, err
}

// idToken asks the LoginSource; "" means a guest.
func (p *Provider) idToken(ctx context.Context) (string, error) {
	if p.opts.Logins == nil {
		return "", nil
	}
	tok, err := p.opts.Logins.IDToken(ctx)
	if err == nil && tok == "" {
		err = ErrNotSignedIn
	}
	if err == nil {
		return tok, nil
	}
	if errors.Is(err, ErrNotSignedIn) {
		// A signed-in user's credentials must not outlive their session.
		if e := p.cur.Load(); e != nil && e.Value.token != "" {
			p.cur.CompareAndSwap(e, nil)
		}
		if p.opts.AllowGuest {
			return "", nil
		}
	}
	return "", err
}

// fetch runs once per flight. Its context keeps the first caller's values but not
// its cancellation: the other callers wait on the same fetch.
func (p *Provider) fetch(ctx context.Context, tok string) (*refresh.Entry[ident], error) {
	old := p.cur.Load()
	now := p.opts.Clock.Now()
	if old != nil && old.Value.token == tok && now.Before(old.RefreshAt) {
		return old, nil // a flight that just ended already renewed them
	}
	login, err := p.c.login(jwt.Secret(tok))
	if err != nil {
		return nil, err
	}
	creds, err := p.c.Credentials(ctx, jwt.Secret(tok))
	now = p.opts.Clock.Now()
	if err != nil {
		if old != nil && old.Value.login.Provider == login.Provider && old.Value.login.Sub == login.Sub &&
			errkind.Retryable(err) && old.Value.creds.Valid(now) {
			// Same user, still-valid credentials: keep serving them and hold the
			// next try off (the id token may have been refreshed meanwhile).
			next := p.cur.Held(old, err)
			next.Value.token, next.Value.login = tok, login
			if !next.Value.creds.Expiration.IsZero() && next.RefreshAt.After(next.Value.creds.Expiration) {
				next.RefreshAt = next.Value.creds.Expiration
			}
			p.cur.CompareAndSwap(old, next)
			return next, nil
		}
		if old != nil {
			p.cur.CompareAndSwap(old, nil)
		}
		return nil, err
	}
	next := &refresh.Entry[ident]{
		Value:     ident{creds: creds, aws: creds.AWS(), token: tok, login: login},
		RefreshAt: p.cur.Policy().RefreshAt(now, creds.Expiration),
		ExpiresAt: creds.Expiration,
	}
	p.cur.Store(next)
	if p.opts.OnRefresh != nil {
		p.opts.OnRefresh(creds)
	}
	return next, nil
}
