package websession

import (
	"context"
	"sync"
	"time"

	"github.com/cogauth/cogauth/clock"
)

// Bus carries sign-outs between replicas: when one replica ends a session, every
// other drops it from its cache at once instead of serving it until its own
// next look at the store, and refuses its cookies and tokens from then on.
// Messages are store names (an HMAC of the session ID, never the ID) and
// revocations (the store name, the sign-in's origin_jti and until when to keep
// it), and a receiver checks them before acting.
//
// Delivery is best effort (Redis pub/sub is): a replica that misses a message
// serves the session from its cache until the cache entry goes. Config.Strict
// checks the store on every request for apps that cannot accept that. A
// RetainingBus (redisbus) also hands revocations to replicas that start later.
type Bus interface {
	// Publish tells every subscriber, this process's included, that the session
	// named name has ended.
	Publish(ctx context.Context, name string) error
	// Subscribe calls fn for every message until cancel is called. fn must not
	// block for long.
	Subscribe(fn func(name string)) (cancel func())
}

// MemoryBus is a RetainingBus within one process: for a single replica, and for
// tests. Its zero value is not ready: use NewMemoryBus.
type MemoryBus struct {
	// Clock tells when kept messages lapse; the system clock when nil. Set it
	// before first use.
	Clock clock.Clock

	mu   sync.RWMutex
	next int
	subs map[int]func(string)
	kept map[string]time.Time
}

// NewMemoryBus returns an empty MemoryBus.
func NewMemoryBus() *MemoryBus {
	return &MemoryBus{subs: map[int]func(string){}, kept: map[string]time.Time{}}
}

// Publish implements Bus.
func (b *MemoryBus) Publish(ctx context.Context, name string) error {
	b.mu.RLock()
	fns := make([]func(string), 0, len(b.subs))
	for _, fn := range b.subs {
		fns = append(fns, fn)
	}
	b.mu.RUnlock()
	for _, fn := range fns {
		fn(name)
	}
	return nil
}

func (b *MemoryBus) now() time.Time {
	if b.Clock == nil {
		return time.Now()
	}
	return b.Clock.Now()
}

// PublishFor implements RetainingBus.
func (b *MemoryBus) PublishFor(ctx context.Context, msg string, keep time.Duration) error {
	now := b.now()
	b.mu.Lock()
	b.kept = sweepMap(b.kept, now, maxRevocations)
	if keep > 0 {
		b.kept[msg] = now.Add(keep)
	}
	b.mu.Unlock()
	return b.Publish(ctx, msg)
}

// Subscribe implements Bus; fn first gets the messages still kept.
func (b *MemoryBus) Subscribe(fn func(string)) func() {
	now := b.now()
	b.mu.Lock()
	id := b.next
	b.next++
	b.subs[id] = fn
	var kept []string
	for msg, until := range b.kept {
		if now.Before(until) {
			kept = append(kept, msg)
		}
	}
	b.mu.Unlock()
	for _, msg := range kept {
		fn(msg)
	}
	return func() {
		b.mu.Lock()
		delete(b.subs, id)
		b.mu.Unlock()
	}
}
