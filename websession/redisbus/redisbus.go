// Package redisbus carries websession sign-outs between replicas over Redis
// pub/sub: websession.Config.Bus for apps with more than one replica, and for
// resource servers (websession.NewRevocations) behind the same Redis. It is a
// package of its own so that programs with one replica do not link go-redis.
//
// It is a websession.RetainingBus: a revocation (PublishFor) is also kept in a
// sorted set, Channel + ":kept", scored by when it lapses on the server's clock,
// and handed to every new subscriber, so that a replica started after a
// sign-out still refuses that session. The set holds at most MaxKept messages
// (those ending soonest go first) and expires with the last of them.
package redisbus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultChannel is the channel when New is given none.
const DefaultChannel = "cogauth:websession:signout"

// maxMessage bounds what a subscriber passes on: websession's messages are
// 64-character store names and revocations of at most 220 characters.
const maxMessage = 256

// MaxKept bounds the messages kept for later subscribers.
const MaxKept = 1 << 17

// keepScript: KEYS[1] the kept set; ARGV[1] message, ARGV[2] milliseconds to
// keep it. Drops lapsed and surplus messages, keeps this one until now + keep
// (the later end if it is there already), and expires the set with its last
// message.
var keepScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local ends = now + tonumber(ARGV[2])
local old = redis.call('ZSCORE', KEYS[1], ARGV[1])
if (not old) or tonumber(old) < ends then
  redis.call('ZADD', KEYS[1], ends, ARGV[1])
end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -` + strconv.Itoa(MaxKept+1) + `)
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], top[2])
return 1
`)

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

func (b *Bus) keptKey() string { return b.channel + ":kept" }

// PublishFor implements websession.RetainingBus: msg is kept for keep (at
// least a millisecond) on the server's clock, then published.
func (b *Bus) PublishFor(ctx context.Context, msg string, keep time.Duration) error {
	if len(msg) > maxMessage {
		return fmt.Errorf("redisbus: a message of %d bytes (at most %d)", len(msg), maxMessage)
	}
	if keep > 0 {
		ms := max(keep.Milliseconds(), 1)
		if err := keepScript.Run(ctx, b.c, []string{b.keptKey()}, msg, ms).Err(); err != nil {
			return fmt.Errorf("redisbus: keep: %w", err)
		}
	}
	return b.Publish(ctx, msg)
}

// kept returns the messages kept for later subscribers (lapsed ones may be
// among them: receivers check what a message says).
func (b *Bus) kept(ctx context.Context) []string {
	msgs, err := b.c.ZRange(ctx, b.keptKey(), -MaxKept, -1).Result()
	if err != nil {
		return nil // best effort, as the channel is
	}
	return msgs
}

// Subscribe implements websession.Bus. The first subscription opens the Redis
// subscription and waits (up to 5 seconds) for Redis to confirm it, so that a
// message published after Subscribe returns is not missed; go-redis resubscribes
// by itself after a lost connection. Then fn gets the kept messages (up to 5
// seconds to read them).
func (b *Bus) Subscribe(fn func(string)) func() {
	cancel := b.subscribe(fn)
	ctx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	for _, msg := range b.kept(ctx) {
		if len(msg) <= maxMessage {
			fn(msg)
		}
	}
	return cancel
}

func (b *Bus) subscribe(fn func(string)) func() {
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
