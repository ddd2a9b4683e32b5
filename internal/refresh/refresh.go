// Package refresh is the one refresh cache under every cogauth component that
// serves something that expires: a user's session (session.Manager), identity-pool
// credentials (identity.Provider) and client-credentials tokens
// (hostedui.ClientCredentialsSource).
//
// Caching is kept apart from fetching, as in golang.org/x/oauth2's
// ReuseTokenSource and aws-sdk-go-v2's CredentialsCache: the Cache holds an atomic
// pointer to the current Entry, runs one shared flight per key detached from any
// caller's context, and applies one policy for when to go out again:
//
//   - the window: refresh RefreshBefore ahead of expiry, never more than half of
//     what was left of the value's life when it was obtained;
//   - hold on transient failure: a value that is still valid is served while the
//     next try waits, RetryAfterFailure after the first failure, doubled with each
//     consecutive one up to MaxRetryAfterFailure, with jitter, and never past the
//     value's expiry;
//   - retries inside one flight: Backoff.Delay, the same exponential formula.
//
// What a failure means (kept or ended) is the caller's business: the Cache only
// keeps what it is told to keep.
package refresh

import (
	"context"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/cogauth/cogauth/clock"
)

// Backoff is capped exponential backoff with jitter: the n-th wait (from 1) is
// drawn from [d/2, d] where d = Base·2^(n-1), at most Max.
type Backoff struct {
	Base time.Duration
	Max  time.Duration
}

// Delay returns the n-th wait (n ≥ 1).
func (b Backoff) Delay(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	d := b.Base
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	if d > b.Max || d <= 0 {
		d = b.Max
	}
	if d <= 0 {
		return 0
	}
	half := d / 2
	return half + rand.N(half+1)
}

// Sleep waits d or until ctx ends, whichever is first.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Policy is when a Cache goes out again.
type Policy struct {
	// RefreshBefore is how long before expiry a value is refreshed; default 5
	// minutes, never more than half of the value's remaining life.
	RefreshBefore time.Duration
	// RetryAfterFailure is the first hold after a transient failure; default 30s.
	RetryAfterFailure time.Duration
	// MaxRetryAfterFailure caps the doubling holds; default 5 minutes (never below
	// RetryAfterFailure).
	MaxRetryAfterFailure time.Duration
	// Timeout bounds one shared flight, whoever waits for it; default 30s.
	Timeout time.Duration
}

// Defaults of Policy.
const (
	DefaultRefreshBefore        = 5 * time.Minute
	DefaultRetryAfterFailure    = 30 * time.Second
	DefaultMaxRetryAfterFailure = 5 * time.Minute
	DefaultTimeout              = 30 * time.Second
)

// WithDefaults fills the zero fields of p.
func (p Policy) WithDefaults() Policy {
	if p.RefreshBefore <= 0 {
		p.RefreshBefore = DefaultRefreshBefore
	}
	if p.RetryAfterFailure <= 0 {
		p.RetryAfterFailure = DefaultRetryAfterFailure
	}
	if p.MaxRetryAfterFailure <= 0 {
		p.MaxRetryAfterFailure = DefaultMaxRetryAfterFailure
	}
	if p.MaxRetryAfterFailure < p.RetryAfterFailure {
		p.MaxRetryAfterFailure = p.RetryAfterFailure
	}
	if p.Timeout <= 0 {
		p.Timeout = DefaultTimeout
	}
	return p
}

// Window returns how long before expiresAt a value obtained at now is refreshed:
// RefreshBefore, capped at half of its remaining life (a 5-minute token would
// otherwise be refreshed on every call).
func (p Policy) Window(now, expiresAt time.Time) time.Duration {
	w := p.RefreshBefore
	if life := expiresAt.Sub(now); life > 0 && w > life/2 {
		w = life / 2
	}
	return w
}

// RefreshAt is expiresAt minus the Window.
func (p Policy) RefreshAt(now, expiresAt time.Time) time.Time {
	return expiresAt.Add(-p.Window(now, expiresAt))
}

// HoldFor returns how long to wait before the next try after the n-th
// consecutive transient failure (n ≥ 1).
func (p Policy) HoldFor(n int) time.Duration {
	return Backoff{Base: p.RetryAfterFailure, Max: p.MaxRetryAfterFailure}.Delay(n)
}

// Entry is one cached value and when it is due.
type Entry[T any] struct {
	Value T
	// RefreshAt is the local time from which Fresh reports false.
	RefreshAt time.Time
	// ExpiresAt is the local time from which the value is dead; zero when it does
	// not expire.
	ExpiresAt time.Time
	// Failures counts the consecutive transient failures since the value was
	// obtained; zero for a fresh value.
	Failures int
	// Stale is the transient failure that holds this entry (nil when fresh).
	Stale error
}

// Valid reports whether the value is still usable at now.
func (e *Entry[T]) Valid(now time.Time) bool {
	return e != nil && (e.ExpiresAt.IsZero() || now.Before(e.ExpiresAt))
}

// Cache holds the current Entry and runs the shared flights. The zero value is not
// usable; call New.
type Cache[T any] struct {
	clock  clock.Clock
	policy Policy
	cur    atomic.Pointer[Entry[T]]
	sf     singleflight.Group
}

// New returns an empty Cache; a nil clock is the system clock.
func New[T any](c clock.Clock, p Policy) *Cache[T] {
	if c == nil {
		c = clock.System{}
	}
	return &Cache[T]{clock: c, policy: p.WithDefaults()}
}

// Policy returns the cache's policy, defaults filled.
func (c *Cache[T]) Policy() Policy { return c.policy }

// Clock returns the cache's clock.
func (c *Cache[T]) Clock() clock.Clock { return c.clock }

// Fresh returns the current entry when it is not due yet: one atomic load and one
// clock read, no allocation.
func (c *Cache[T]) Fresh() (*Entry[T], bool) {
	e := c.cur.Load()
	if e != nil && c.clock.Now().Before(e.RefreshAt) {
		return e, true
	}
	return e, false
}

// Load returns the current entry, due or not (nil when empty).
func (c *Cache[T]) Load() *Entry[T] { return c.cur.Load() }

// Store makes e the current entry (nil empties the cache).
func (c *Cache[T]) Store(e *Entry[T]) { c.cur.Store(e) }

// CompareAndSwap replaces old by e if old is still current.
func (c *Cache[T]) CompareAndSwap(old, e *Entry[T]) bool { return c.cur.CompareAndSwap(old, e) }

// Fill returns a fresh entry for v, valid until expiresAt (zero: never expires),
// due at the policy's window.
func (c *Cache[T]) Fill(v T, expiresAt time.Time) *Entry[T] {
	e := &Entry[T]{Value: v, ExpiresAt: expiresAt}
	if expiresAt.IsZero() {
		e.RefreshAt = time.Unix(1<<62, 0)
	} else {
		e.RefreshAt = c.policy.RefreshAt(c.clock.Now(), expiresAt)
	}
	return e
}

// Held returns a copy of e to serve while the next try waits after the transient
// failure err: one more failure counted, due again after the policy's hold for
// that count, never past e's expiry.
func (c *Cache[T]) Held(e *Entry[T], err error) *Entry[T] {
	h := *e
	h.Failures++
	h.Stale = err
	h.RefreshAt = c.clock.Now().Add(c.policy.HoldFor(h.Failures))
	if !h.ExpiresAt.IsZero() && h.RefreshAt.After(h.ExpiresAt) {
		h.RefreshAt = h.ExpiresAt
	}
	return &h
}

// Do runs fn as the one flight for key: concurrent callers with the same key
// share its result. fn's context is detached from every caller's (the first
// caller leaving must not fail the flight the others wait for) and bounded by the
// policy's Timeout. A caller whose ctx ends stops waiting and gets ctx.Err().
func (c *Cache[T]) Do(ctx context.Context, key string, fn func(ctx context.Context) (*Entry[T], error)) (*Entry[T], error) {
	ch := c.sf.DoChan(key, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.policy.Timeout)
		defer cancel()
		return fn(fctx)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		e, _ := r.Val.(*Entry[T])
		return e, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
