// Package redisbus carries websession sign-outs between replicas over Redis
// pub/sub: websession.Config.Bus for apps with more than one replica. It is a
// package of its own so that programs with one replica do not link go-redis.
package redisbus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultChannel is the channel when New is given none.
const DefaultChannel = "cogauth:websession:signout"

// maxMessage bounds what a subscriber passes on: websession's messages are
// 64-character store names.
const maxMessage = 256

// Bus is a websession.Bus on a Redis channel. Every replica of an app uses the
// same client setup and channel. Safe for concurrent use; Close it when done.
type Bus struct {
	c       redis.UniversalClient
	channel string

	mu     sync.Mutex
	next   int
	subs   map[int]func(string)
	ps     *redis.PubSub
	done   chan struct{}
	closed bool
}

// New returns a Bus on client (which the caller keeps and closes) and channel
// (DefaultChannel when empty).
func New(client redis.UniversalClient, channel string) *Bus {
	if channel == "" {
		channel = DefaultChannel
	}
	return &Bus{c: client, channel: channel, subs: map[int]func(string){}}
}

// Publish implements websession.Bus.
func (b *Bus) Publish(ctx context.Context, name string) error {
	if err := b.c.Publish(ctx, b.channel, name).Err(); err != nil {
		return fmt.Errorf("redisbus: publish: %w", err)
	}
	return nil
}

// Subscribe implements websession.Bus. The first subscription opens the Redis
// subscription and waits (up to 5 seconds) for Redis to confirm it, so that a
// message published after Subscribe returns is not missed; go-redis resubscribes
// by itself after a lost connection.
func (b *Bus) Subscribe(fn func(string)) func() {
	b.mu.Lock()
	defer b.mu.Unlock()
	id := b.next
	b.next++
	b.subs[id] = fn
	if b.ps == nil && !b.closed {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ps := b.c.Subscribe(ctx, b.channel)
		_, _ = ps.Receive(ctx) // the confirmation; on error, go-redis keeps trying
		cancel()
		b.ps, b.done = ps, make(chan struct{})
		go b.run(ps, b.done)
	}
	return func() {
		b.mu.Lock()
		delete(b.subs, id)
		b.mu.Unlock()
	}
}

func (b *Bus) run(ps *redis.PubSub, done chan struct{}) {
	defer close(done)
	for msg := range ps.Channel() {
		if len(msg.Payload) > maxMessage {
			continue
		}
		b.mu.Lock()
		fns := make([]func(string), 0, len(b.subs))
		for _, fn := range b.subs {
			fns = append(fns, fn)
		}
		b.mu.Unlock()
		for _, fn := range fns {
			fn(msg.Payload)
		}
	}
}

// Close ends the subscription.
func (b *Bus) Close() error {
	b.mu.Lock()
	ps, done := b.ps, b.done
	b.ps, b.closed = nil, true
	b.mu.Unlock()
	if ps == nil {
		return nil
	}
	err := ps.Close()
	<-done
	if err != nil && !errors.Is(err, redis.ErrClosed) {
		return fmt.Errorf("redisbus: %w", err)
	}
	return nil
}
