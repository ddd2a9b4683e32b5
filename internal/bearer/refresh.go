package bearer

import (
	"context"
	"sync"
	"time"
)

// TokenProvider supplies the token for a call; httpauth.TokenProvider is the same
// interface (session.Manager is one).
type TokenProvider interface {
	Token(ctx context.Context, forceRefresh bool) (string, error)
}

// RefreshTimeout bounds one shared refresh. It does not follow any one caller's
// context, since every caller waiting on it shares it; each caller still stops
// waiting when its own context ends.
const RefreshTimeout = 30 * time.Second

// Refresher coalesces the refreshes of calls the server refused: calls refused
// with the same token while a refresh is under way, or after it replaced that
// token, share one refresh instead of each forcing their own. The zero value is
// not usable; set Source.
type Refresher struct {
	Source TokenProvider

	mu      sync.Mutex
	flight  *flight
	refused string // the token the last completed refresh replaced
	fresh   string // what replaced it
}

type flight struct {
	done chan struct{}
	tok  string
	err  error
}

// Token returns the source's current token.
func (r *Refresher) Token(ctx context.Context) (string, error) {
	return r.Source.Token(ctx, false)
}

// Refresh returns the token to retry with after the server refused refused. It is
// refused itself when the source has nothing newer, in which case the caller
// should give the refusal to its caller rather than retry in vain.
func (r *Refresher) Refresh(ctx context.Context, refused string) (string, error) {
	r.mu.Lock()
	f := r.flight
	switch {
	case f != nil:
		// Join the refresh under way, whichever token it replaces: its result
		// is the newest token there will be.
	case r.fresh != "" && r.refused == refused:
		// Already replaced. The source may have moved on since (a background
		// refresh): its current token is then the better answer.
		tok := r.fresh
		r.mu.Unlock()
		if cur, err := r.Source.Token(ctx, false); err == nil && cur != refused {
			return cur, nil
		}
		return tok, nil
	default:
		f = &flight{done: make(chan struct{})}
		r.flight = f
		go r.run(context.WithoutCancel(ctx), f, refused)
	}
	r.mu.Unlock()
	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (r *Refresher) run(ctx context.Context, f *flight, refused string) {
	ctx, cancel := context.WithTimeout(ctx, RefreshTimeout)
	defer cancel()
	// The source may have moved on already (a background refresh, another
	// caller's): then the newer token is the answer and nothing is forced.
	tok, err := r.Source.Token(ctx, false)
	if err != nil || tok == refused {
		tok, err = r.Source.Token(ctx, true)
	}
	f.tok, f.err = tok, err
	r.mu.Lock()
	r.flight = nil
	if err == nil && tok != refused {
		r.refused, r.fresh = refused, tok
	}
	r.mu.Unlock()
	close(f.done)
}
