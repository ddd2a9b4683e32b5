package websession

import (
	"context"
	"sync"
)

// Bus carries sign-outs between replicas: when one replica ends a session, every
// other drops it from its cache at once instead of serving it until its own
// next look at the store. Messages are store names (an HMAC of the session ID,
// never the ID), and a receiver checks them before acting.
//
// Delivery is best effort (Redis pub/sub is): a replica that misses a message
// serves the session from its cache until the cache entry goes. Config.Strict
// checks the store on every request for apps that cannot accept that.
type Bus interface {
	// Publish tells every subscriber, this process's included, that the session
	// named name has ended.
	Publish(ctx context.Context, name string) error
	// Subscribe calls fn for every message until cancel is called. fn must not
	// block for long.
	Subscribe(fn func(name string)) (cancel func())
}

// MemoryBus is a Bus within one process: for a single replica, and for tests.
type MemoryBus struct {
	mu   sync.RWMutex
	next int
	subs map[int]func(string)
}

// NewMemoryBus returns an empty MemoryBus.
func NewMemoryBus() *MemoryBus { return &MemoryBus{subs: map[int]func(string){}} }

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

// Subscribe implements Bus.
func (b *MemoryBus) Subscribe(fn func(string)) func() {
	b.mu.Lock()
	id := b.next
	b.next++
	b.subs[id] = fn
	b.mu.Unlock()
	return func() {
		b.mu.Lock()
		delete(b.subs, id)
		b.mu.Unlock()
	}
}
