package identity

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"golang.org/x/sync/singleflight"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/cognito"
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
	// further failure up to 5 minutes, with jitter.
	RetryAfterFailure time.Duration
	// FetchTimeout bounds one shared fetch (GetId and GetCredentialsForIdentity); it
	// does not depend on any caller's context. Default 30s.
	FetchTimeout time.Duration
	// OnRefresh, when set, is called with each new set of credentials (from the
	// goroutine that fetched them; it must not block).
	OnRefresh func(Credentials)
}

const (
	defaultRefreshBefore     = 5 * time.Minute
	defaultRetryAfterFailure = 30 * time.Second
	maxRetryAfterFailure     = 5 * time.Minute
	defaultFetchTimeout      = 30 * time.Second
)

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
	cur  atomic.Pointer[entry]
	sf   singleflight.Group
}

// entry is what the cached path reads with one atomic load.
type entry struct {
	creds Credentials
	aws   aws.Credentials // built once, so Retrieve copies a struct and allocates nothing
	token string          // the id token the credentials answer ("" for a guest)
	login Login
	// refreshAt is when the credentials are due for renewal; retryAt, after a
	// transient failure, when the next attempt may be made.
	refreshAt time.Time
	retryAt   time.Time
	failures  int
}

// NewProvider returns a Provider over c. It does no I/O.
func NewProvider(c *Client, opts ProviderOptions) *Provider {
	if opts.Clock == nil {
		opts.Clock = clock.System{}
	}
	if opts.RefreshBefore <= 0 {
		opts.RefreshBefore = defaultRefreshBefore
	}
	if opts.RetryAfterFailure <= 0 {
		opts.RetryAfterFailure = defaultRetryAfterFailure
	}
	if opts.FetchTimeout <= 0 {
		opts.FetchTimeout = defaultFetchTimeout
	}
	return &Provider{c: c, opts: opts}
}

// Client returns the client the provider fetches with.
func (p *Provider) Client() *Client { return p.c }

// Retrieve returns credentials for aws-sdk-go-v2 (aws.CredentialsProvider).
func (p *Provider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	e, err := p.get(ctx)
	if err != nil {
		return aws.Credentials{}, err
	}
	return e.aws, nil
}

// Credentials returns the current credentials with their identity ID.
func (p *Provider) Credentials(ctx context.Context) (Credentials, error) {
	e, err := p.get(ctx)
	if err != nil {
		return Credentials{}, err
	}
	return e.creds, nil
}

// Invalidate drops the cached credentials: the next call fetches new ones.
func (p *Provider) Invalidate() { p.cur.Store(nil) }

// SignOut drops the cached credentials and forgets the stored identity ID of the
// user they were for, as Amplify does at sign-out. Call it when the user signs
// out; LoginSource reporting ErrNotSignedIn already stops the credentials being
// served.
func (p *Provider) SignOut(ctx context.Context) error {
	e := p.cur.Swap(nil)
	if e == nil || e.token == "" {
		return nil
	}
	return p.c.Forget(ctx, e.token)
}

func (p *Provider) get(ctx context.Context) (*entry, error) {
	tok, err := p.idToken(ctx)
	now := p.opts.Clock.Now()
	if err != nil {
		// The login could not be renewed for a transient reason: credentials
		// already issued to the same user stay good until they expire.
		if e := p.cur.Load(); e != nil && e.token != "" && cognito.IsRetryable(err) && e.creds.Valid(now) {
			return e, nil
		}
		return nil, err
	}
	if e := p.cur.Load(); e != nil && e.token == tok {
		if now.Before(e.refreshAt) || (now.Before(e.retryAt) && e.creds.Valid(now)) {
			return e, nil
		}
	}
	ch := p.sf.DoChan(tok, func() (any, error) { return p.fetch(ctx, tok) })
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*entry), nil
	case <-ctx.Done():
		return nil, &cognito.Error{Op: "GetCredentialsForIdentity", Name: cognito.RequestCanceled, Cause: ctx.Err()}
	}
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
		if e := p.cur.Load(); e != nil && e.token != "" {
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
func (p *Provider) fetch(ctx context.Context, tok string) (*entry, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.opts.FetchTimeout)
	defer cancel()
	old := p.cur.Load()
	now := p.opts.Clock.Now()
	if old != nil && old.token == tok && now.Before(old.refreshAt) {
		return old, nil // a flight that just ended already renewed them
	}
	login, err := p.c.login(tok)
	if err != nil {
		return nil, err
	}
	creds, err := p.c.Credentials(ctx, tok)
	now = p.opts.Clock.Now()
	if err != nil {
		if old != nil && old.login.Provider == login.Provider && old.login.Sub == login.Sub &&
			cognito.IsRetryable(err) && old.creds.Valid(now) {
			// Keep serving what is still valid, to this token from now on, and
			// back off before trying again.
			next := *old
			next.token, next.login = tok, login
			next.failures++
			next.retryAt = now.Add(p.backoff(next.failures))
			p.cur.CompareAndSwap(old, &next)
			return &next, nil
		}
		if old != nil {
			p.cur.CompareAndSwap(old, nil)
		}
		return nil, err
	}
	next := &entry{
		creds:     creds,
		aws:       creds.AWS(),
		token:     tok,
		login:     login,
		refreshAt: refreshAt(creds.Expiration, now, p.opts.RefreshBefore),
	}
	p.cur.Store(next)
	if p.opts.OnRefresh != nil {
		p.opts.OnRefresh(creds)
	}
	return next, nil
}

// refreshAt is window ahead of exp, the window shrunk to half the remaining
// lifetime so that short-lived credentials are not renewed on every call.
func refreshAt(exp, now time.Time, window time.Duration) time.Time {
	if life := exp.Sub(now); window > life/2 {
		window = life / 2
	}
	return exp.Add(-window)
}

// backoff is the pause after the n-th consecutive failure: RetryAfterFailure
// doubled per failure, capped, with jitter in [d/2, d) so that many processes do
// not retry in step.
func (p *Provider) backoff(n int) time.Duration {
	d := p.opts.RetryAfterFailure
	for i := 1; i < n && d < maxRetryAfterFailure; i++ {
		d *= 2
	}
	d = min(d, maxRetryAfterFailure)
	return d/2 + rand.N(d/2+1)
}
