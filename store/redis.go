package store

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a Store and Locker kept in Redis, for services that run several replicas
// sharing the same users' sessions: every replica opens a Redis on the same server
// (or cluster) with the same Prefix, and a session refreshed by one replica is the
// session all of them serve. A single process, or processes on one machine, are
// better served by Memory or File. It needs Redis 5 or later (scripts that read
// TIME before writing), standalone, Sentinel or Cluster; nothing else should write
// under its Prefix.
//
// # Key layout
//
// A Key becomes Prefix + "s:" + pool + "/" + client + "/" + user for the session and
// Prefix + "l:" + the same for its refresh lock, each part percent-escaped (every
// byte outside [A-Za-z0-9._@+=-] becomes %XX), so no two Keys share a Redis key and
// no part can form a cluster hash tag. A session is a hash with fields "v" (the
// version, decimal) and "d" (the data, stored as given: the session record, which
// holds the tokens — protect the Redis server, its persistence files and its
// backups as you would the tokens themselves).
//
// # Versions
//
// Put and Delete compare and write inside one Lua script, so they are atomic on the
// server. A new version is the larger of the old version plus one and the server's
// TIME in microseconds, so versions keep growing even after a session is deleted
// or expires and is written again. Delete keeps the version field for a day (a
// tombstone) so that a server clock stepping back cannot bring an old version back
// either.
//
// # Expiry
//
// With RedisOptions.TTL set, a session disappears that long after its last write;
// set it to the app client's refresh-token validity, after which the session is
// dead anyway. Current-user records (a Key without User) never expire: one that
// outlives its session is harmless, one that expired first would sign a live
// session out.
//
// # Locks
//
// Lock takes Prefix + "l:" + key with SET NX PX LockTTL and a random token, polling
// with capped, jittered backoff while the lock is held elsewhere, for as long as ctx
// allows. While held, a watchdog extends it every LockTTL/3, so a refresh slower
// than LockTTL keeps it; if the holder dies, the lock is free LockTTL later at the
// latest. Unlock deletes the lock only if it still holds this holder's token, so a
// holder whose lock expired never frees somebody else's. The watchdog stops when
// the ctx given to Lock ends, so a holder that forgets to unlock loses the lock
// after LockTTL rather than keeping it forever.
//
// The lock is advisory and lives on one Redis primary: should a holder lose it (Redis
// unreachable for longer than LockTTL, or a failover to a replica that had not yet
// received the lock), Put's compare-and-swap still refuses the second of two
// writers, and the session package re-reads the store before treating a reused
// refresh token as the end of a session.
type Redis struct {
	c         redis.UniversalClient
	prefix    string
	ttl       time.Duration
	lockTTL   time.Duration
	put       *redis.Script
	del       *redis.Script
	extend    *redis.Script
	unlockScr *redis.Script
}

// RedisOptions configure a Redis store.
type RedisOptions struct {
	// Prefix starts every key the store uses; default "cogauth:". Replicas sharing
	// sessions use the same prefix; different applications on one server use
	// different ones.
	Prefix string
	// TTL is how long a session lives after its last write; zero keeps sessions
	// until they are deleted. The app client's refresh-token validity is a good
	// value.
	TTL time.Duration
	// LockTTL is how long a lock outlives a holder that died; default 10s. A live
	// holder's lock is extended for as long as it holds it.
	LockTTL time.Duration
}

const (
	defaultRedisPrefix = "cogauth:"
	defaultLockTTL     = 10 * time.Second
	// tombstoneTTL is how long a deleted session's version is remembered.
	tombstoneTTL = 24 * time.Hour
	// Waiting for a lock is polling (Redis has no blocking SET NX); the first waits are
	// short because a refresh is usually a single round trip to Cognito.
	lockWaitMin = 5 * time.Millisecond
	lockWaitMax = 100 * time.Millisecond
	// unlockTimeout bounds the unlock round trip, which has no caller context.
	unlockTimeout = 5 * time.Second
)

// checkEntryLua starts the write scripts: it reads the entry's version v and whether
// it is live (has data), and refuses to write over an entry it cannot read, as Get
// would report it corrupt — a writer must not paper over the damage.
const checkEntryLua = `
local v = redis.call('HGET', KEYS[1], 'v')
local live = redis.call('HEXISTS', KEYS[1], 'd') == 1
if (v and not string.match(v, '^[1-9][0-9]*$')) or (live and not v) then
  return redis.error_reply('` + corruptReply + ` stored version is missing or malformed')
end
`

// corruptReply starts the error a script returns for an entry it cannot read.
const corruptReply = "COGAUTH_CORRUPT"

// putScript: KEYS[1] session hash; ARGV[1] expected version ("any" or decimal),
// ARGV[2] data, ARGV[3] TTL in ms ("0": none). Returns {1, new version} or
// {0, current version}. A hash with "v" but no "d" is a tombstone: absent, with a
// version to stay above. Versions stay below 2^53 (microseconds until the year
// 2255), so Lua's doubles hold them exactly and '%.0f' prints them exactly.
const putScript = checkEntryLua + `
local have = '0'
if live then have = v end
if ARGV[1] ~= 'any' and ARGV[1] ~= have then return {0, have} end
local t = redis.call('TIME')
local n = tonumber(t[1]) * 1000000 + tonumber(t[2])
if v then
  local c = tonumber(v)
  if c and c + 1 > n then n = c + 1 end
end
local nv = string.format('%.0f', n)
redis.call('HSET', KEYS[1], 'v', nv, 'd', ARGV[2])
if ARGV[3] == '0' then
  redis.call('PERSIST', KEYS[1])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return {1, nv}
`

// deleteScript: KEYS[1] session hash; ARGV[1] expected version, ARGV[2] tombstone
// TTL in ms. Returns {1, ""} when deleted or absent, {0, current version}.
const deleteScript = checkEntryLua + `
if not live then return {1, ''} end
if ARGV[1] ~= 'any' and ARGV[1] ~= v then return {0, v} end
redis.call('HDEL', KEYS[1], 'd')
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, ''}
`

// extendScript: KEYS[1] lock; ARGV[1] token, ARGV[2] TTL in ms. 1 if extended, 0
// if the lock is no longer this holder's.
const extendScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`

// unlockScript: KEYS[1] lock; ARGV[1] token. Deletes the lock only if it is still
// this holder's.
const unlockScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`

// NewRedis returns a store on client, which the caller keeps and closes. A
// redis.Client, redis.ClusterClient, redis.Ring or failover client all work: every
// command and script touches a single key.
func NewRedis(client redis.UniversalClient, opts RedisOptions) (*Redis, error) {
	if client == nil {
		return nil, errors.New("store: NewRedis: nil client")
	}
	if opts.TTL < 0 || (opts.TTL > 0 && opts.TTL < time.Millisecond) {
		return nil, fmt.Errorf("store: NewRedis: TTL %v must be zero or at least 1ms", opts.TTL)
	}
	if opts.LockTTL < 0 || (opts.LockTTL > 0 && opts.LockTTL < 3*time.Millisecond) {
		return nil, fmt.Errorf("store: NewRedis: LockTTL %v must be zero (default) or at least 3ms", opts.LockTTL)
	}
	if opts.Prefix == "" {
		opts.Prefix = defaultRedisPrefix
	}
	if opts.LockTTL == 0 {
		opts.LockTTL = defaultLockTTL
	}
	return &Redis{
		c:         client,
		prefix:    opts.Prefix,
		ttl:       opts.TTL,
		lockTTL:   opts.LockTTL,
		put:       redis.NewScript(putScript),
		del:       redis.NewScript(deleteScript),
		extend:    redis.NewScript(extendScript),
		unlockScr: redis.NewScript(unlockScript),
	}, nil
}

// redisKeyPart escapes one part of a Key: '/', '%' and everything else outside a
// small safe set become %XX, so the parts joined with '/' name exactly one Key.
func redisKeyPart(b *strings.Builder, s string) {
	const hexdigits = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '.', c == '_', c == '-', c == '@', c == '+', c == '=':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexdigits[c>>4])
			b.WriteByte(hexdigits[c&0xF])
		}
	}
}

// redisKey returns the Redis key of k's kind ("s" session, "l" lock).
func (r *Redis) redisKey(kind string, k Key) string {
	var b strings.Builder
	b.Grow(len(r.prefix) + len(kind) + 3 + len(k.Pool) + len(k.Client) + len(k.User))
	b.WriteString(r.prefix)
	b.WriteString(kind)
	b.WriteByte(':')
	redisKeyPart(&b, k.Pool)
	b.WriteByte('/')
	redisKeyPart(&b, k.Client)
	b.WriteByte('/')
	redisKeyPart(&b, k.User)
	return b.String()
}

// parseRedisVersion reads a version as the scripts write it: decimal, no sign, no
// leading zero, not zero.
func parseRedisVersion(s string) (uint64, error) {
	if s == "" || s[0] == '0' || s[0] == '+' {
		return 0, fmt.Errorf("%w: bad version %q", ErrCorrupt, s)
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v == AnyVersion {
		return 0, fmt.Errorf("%w: bad version %q", ErrCorrupt, s)
	}
	return v, nil
}

func versionArg(v uint64) string {
	if v == AnyVersion {
		return "any"
	}
	return strconv.FormatUint(v, 10)
}

func ttlArg(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }

// redisErr wraps a Redis failure; a key of the wrong type (something else wrote
// under our prefix) is corruption, not absence.
func redisErr(op string, k Key, err error) error {
	if msg := err.Error(); strings.HasPrefix(msg, "WRONGTYPE") || strings.HasPrefix(msg, corruptReply) {
		return fmt.Errorf("store: redis %s %s: %w: %w", op, k, ErrCorrupt, err)
	}
	return fmt.Errorf("store: redis %s %s: %w", op, k, err)
}

// Get implements Store.
func (r *Redis) Get(ctx context.Context, k Key) (Entry, error) {
	if err := k.Validate(); err != nil {
		return Entry{}, err
	}
	vals, err := r.c.HMGet(ctx, r.redisKey("s", k), "v", "d").Result()
	if err != nil {
		return Entry{}, redisErr("get", k, err)
	}
	if len(vals) != 2 || vals[1] == nil {
		return Entry{}, fmt.Errorf("%w: %s", ErrNotFound, k)
	}
	vs, ok1 := vals[0].(string)
	ds, ok2 := vals[1].(string)
	if !ok1 || !ok2 {
		return Entry{}, fmt.Errorf("store: redis get %s: %w: unexpected reply types", k, ErrCorrupt)
	}
	v, err := parseRedisVersion(vs)
	if err != nil {
		return Entry{}, fmt.Errorf("store: redis get %s: %w", k, err)
	}
	return Entry{Data: []byte(ds), Version: v}, nil
}

// scriptReply reads the {ok, version} pair the put and delete scripts return.
func scriptReply(res any) (ok bool, version string, err error) {
	pair, isSlice := res.([]any)
	if !isSlice || len(pair) != 2 {
		return false, "", fmt.Errorf("%w: unexpected script reply", ErrCorrupt)
	}
	flag, ok1 := pair[0].(int64)
	version, ok2 := pair[1].(string)
	if !ok1 || !ok2 {
		return false, "", fmt.Errorf("%w: unexpected script reply", ErrCorrupt)
	}
	return flag == 1, version, nil
}

// conflictAt reports a CAS mismatch given the stored version as the script saw it.
func conflictAt(k Key, have string, want uint64) error {
	if have == "0" || have == "" {
		return conflict(k, 0, want)
	}
	v, err := parseRedisVersion(have)
	if err != nil {
		return fmt.Errorf("store: redis %s: %w", k, err)
	}
	return conflict(k, v, want)
}

// Put implements Store.
func (r *Redis) Put(ctx context.Context, k Key, data []byte, ifVersion uint64) (uint64, error) {
	if err := k.Validate(); err != nil {
		return 0, err
	}
	ttl := time.Duration(0)
	if k.User != "" {
		ttl = r.ttl
	}
	res, err := r.put.Run(ctx, r.c, []string{r.redisKey("s", k)}, versionArg(ifVersion), data, ttlArg(ttl)).Result()
	if err != nil {
		return 0, redisErr("put", k, err)
	}
	ok, vs, err := scriptReply(res)
	if err != nil {
		return 0, fmt.Errorf("store: redis put %s: %w", k, err)
	}
	if !ok {
		return 0, conflictAt(k, vs, ifVersion)
	}
	v, err := parseRedisVersion(vs)
	if err != nil {
		return 0, fmt.Errorf("store: redis put %s: %w", k, err)
	}
	return v, nil
}

// Delete implements Store.
func (r *Redis) Delete(ctx context.Context, k Key, ifVersion uint64) error {
	if err := k.Validate(); err != nil {
		return err
	}
	res, err := r.del.Run(ctx, r.c, []string{r.redisKey("s", k)}, versionArg(ifVersion), ttlArg(tombstoneTTL)).Result()
	if err != nil {
		return redisErr("delete", k, err)
	}
	ok, vs, err := scriptReply(res)
	if err != nil {
		return fmt.Errorf("store: redis delete %s: %w", k, err)
	}
	if !ok {
		return conflictAt(k, vs, ifVersion)
	}
	return nil
}

// newLockToken returns a random token naming one holding of a lock.
func newLockToken() string { return crand.Text() }

// lockWait returns a wait in [d/2, d]: spread so that waiters released together do
// not poll in lockstep.
func lockWait(d time.Duration) time.Duration {
	return d/2 + rand.N(d/2+1)
}

// Lock implements Locker; see the type's documentation for the semantics.
func (r *Redis) Lock(ctx context.Context, k Key) (func(), error) {
	if err := k.Validate(); err != nil {
		return nil, err
	}
	key := r.redisKey("l", k)
	token := newLockToken()
	wait := lockWaitMin
	for {
		got, err := r.c.SetNX(ctx, key, token, r.lockTTL).Result()
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return nil, fmt.Errorf("store: lock %s: %w", k, cerr)
			}
			return nil, redisErr("lock", k, err)
		}
		if got {
			break
		}
		t := time.NewTimer(lockWait(wait))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("store: lock %s: %w", k, ctx.Err())
		}
		wait = min(2*wait, lockWaitMax)
	}

	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go r.watchdog(wctx, key, token, done)
	var once sync.Once
	return func() {
		once.Do(func() {
			stop()
			<-done
			// Detached from ctx (it may have ended) but keeping its values.
			uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unlockTimeout)
			defer cancel()
			// A failure leaves the lock to expire after LockTTL: nothing better to do,
			// and the caller has nowhere to put the error.
			_ = r.unlockScr.Run(uctx, r.c, []string{key}, token).Err()
		})
	}, nil
}

// watchdog extends a held lock every lockTTL/3 until ctx ends, the lock turns out
// to be somebody else's, or the client is closed.
func (r *Redis) watchdog(ctx context.Context, key, token string, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(r.lockTTL / 3)
	defer tick.Stop()
	ttl := ttlArg(r.lockTTL)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		n, err := r.extend.Run(ctx, r.c, []string{key}, token, ttl).Int()
		if (err == nil && n == 0) || errors.Is(err, redis.ErrClosed) {
			return
		}
		// Other errors are transient as far as we can tell: try again next tick,
		// while the lock's remaining TTL lasts.
	}
}
