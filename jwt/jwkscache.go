package jwt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/internal/errkind"
	"golang.org/x/sync/singleflight"
)

// DefaultMinRefetchInterval is how long the cache waits between two fetches of one
// JWKS URL. A token with an unknown kid would otherwise let anyone make us fetch
// the JWKS on every request.
const DefaultMinRefetchInterval = 10 * time.Second

// maxJWKSBody bounds a JWKS response.
const maxJWKSBody = 1 << 20

// ErrJWKSFetch matches failures to download a JWKS; they are retryable.
var ErrJWKSFetch = errkind.New("jwt: JWKS fetch failed", true)

// errRefetchTooSoon is what a caller gets when the rate limit held back a fetch.
var errRefetchTooSoon = errors.New("JWKS was fetched less than the minimum interval ago")

// JWKSCacheOptions configure a JWKSCache. The zero value works.
type JWKSCacheOptions struct {
	// HTTPClient fetches the documents; http.DefaultClient when nil.
	HTTPClient *http.Client
	// Clock decides when a refetch is allowed; the system clock when nil.
	Clock clock.Clock
	// MinRefetchInterval is the least time between fetches of one URL, whoever
	// asks (DefaultMinRefetchInterval when zero).
	MinRefetchInterval time.Duration
	// FetchTimeout bounds one download (10 s when zero). The download does not
	// follow any one caller's context, because every waiting caller shares it.
	FetchTimeout time.Duration
}

// JWKSCache holds parsed key sets by JWKS URL. It fetches a URL the first time a
// key is asked for and again when a kid is unknown (key rotation), at most once
// per MinRefetchInterval per URL; concurrent callers share one download. It is
// safe for concurrent use, and verifiers for several pools may share one.
type JWKSCache struct {
	client      *http.Client
	clock       clock.Clock
	minInterval time.Duration
	timeout     time.Duration
	fetches     atomic.Int64

	mu      sync.Mutex
	entries map[string]*jwksEntry
	group   singleflight.Group
}

type jwksEntry struct {
	set atomic.Pointer[KeySet] // lock-free on the verify path
	// guarded by JWKSCache.mu
	lastAttempt time.Time
	lastErr     error
}

// NewJWKSCache returns an empty cache.
func NewJWKSCache(opts JWKSCacheOptions) *JWKSCache {
	c := &JWKSCache{
		client:      opts.HTTPClient,
		clock:       opts.Clock,
		minInterval: opts.MinRefetchInterval,
		timeout:     opts.FetchTimeout,
		entries:     map[string]*jwksEntry{},
	}
	if c.client == nil {
		c.client = http.DefaultClient
	}
	if c.clock == nil {
		c.clock = clock.System{}
	}
	if c.minInterval <= 0 {
		c.minInterval = DefaultMinRefetchInterval
	}
	if c.timeout <= 0 {
		c.timeout = 10 * time.Second
	}
	return c
}

// Fetches reports how many downloads the cache has started, for tests and metrics.
func (c *JWKSCache) Fetches() int64 { return c.fetches.Load() }

func (c *JWKSCache) entry(url string) *jwksEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[url]
	if e == nil {
		e = &jwksEntry{}
		c.entries[url] = e
	}
	return e
}

// KeySet returns the cached set for url, fetching it if there is none yet.
func (c *JWKSCache) KeySet(ctx context.Context, url string) (*KeySet, error) {
	e := c.entry(url)
	if s := e.set.Load(); s != nil {
		return s, nil
	}
	return c.fetch(ctx, url, e, false)
}

// Refresh downloads url now, ignoring the rate limit; for start-up and scheduled
// refreshes, never for request-driven ones.
func (c *JWKSCache) Refresh(ctx context.Context, url string) (*KeySet, error) {
	return c.fetch(ctx, url, c.entry(url), true)
}

// RunBackgroundRefresh refreshes every URL the cache knows each interval until ctx
// is done, so that rotated keys are in place before the first token signed with
// them arrives. Run it in its own goroutine. Failures keep the previous keys.
func (c *JWKSCache) RunBackgroundRefresh(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		c.mu.Lock()
		urls := make([]string, 0, len(c.entries))
		for u := range c.entries {
			urls = append(urls, u)
		}
		c.mu.Unlock()
		for _, u := range urls {
			_, _ = c.Refresh(ctx, u)
		}
	}
}

// lookup finds kid under url, fetching when the kid is unknown and the rate limit
// allows. It returns the entry too, so cached verifications can check later that
// the key is still published.
func (c *JWKSCache) lookup(ctx context.Context, url, kid string) (*publicKey, *jwksEntry, error) {
	e := c.entry(url)
	if s := e.set.Load(); s != nil {
		if k := s.keys[kid]; k != nil {
			return k, e, nil
		}
	}
	s, err := c.fetch(ctx, url, e, false)
	if s != nil {
		if k := s.keys[kid]; k != nil {
			return k, e, nil
		}
	}
	if err != nil && !errors.Is(err, errRefetchTooSoon) {
		return nil, e, err
	}
	if s == nil {
		return nil, e, err
	}
	return nil, e, errUnknownKid
}

var errUnknownKid = errors.New("kid not in the issuer's JWKS")

func (c *JWKSCache) fetch(ctx context.Context, url string, e *jwksEntry, force bool) (*KeySet, error) {
	key := url
	if force {
		key = "force " + url
	}
	ch := c.group.DoChan(key, func() (any, error) {
		c.mu.Lock()
		now := c.clock.Now()
		if !force && !e.lastAttempt.IsZero() && now.Sub(e.lastAttempt) < c.minInterval {
			lastErr := e.lastErr
			c.mu.Unlock()
			if lastErr != nil {
				return e.set.Load(), fmt.Errorf("%w (last attempt: %w)", errRefetchTooSoon, lastErr)
			}
			return e.set.Load(), errRefetchTooSoon
		}
		e.lastAttempt = now
		c.mu.Unlock()

		c.fetches.Add(1)
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
		defer cancel()
		set, err := c.download(fctx, url)
		c.mu.Lock()
		e.lastErr = err
		c.mu.Unlock()
		if err != nil {
			return e.set.Load(), err
		}
		e.set.Store(set)
		return set, nil
	})
	select {
	case r := <-ch:
		s, _ := r.Val.(*KeySet)
		return s, r.Err
	case <-ctx.Done():
		return e.set.Load(), ctx.Err()
	}
}

func (c *JWKSCache) download(ctx context.Context, url string) (*KeySet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrJWKSFetch, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrJWKSFetch, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("%w: %s answered %s", ErrJWKSFetch, url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBody+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading %s: %w", ErrJWKSFetch, url, err)
	}
	if len(body) > maxJWKSBody {
		return nil, fmt.Errorf("%w: %s: document larger than %d bytes", ErrJWKSFetch, url, maxJWKSBody)
	}
	set, err := ParseJWKS(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrJWKSFetch, url, err)
	}
	return set, nil
}
