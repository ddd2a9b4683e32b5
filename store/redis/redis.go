package redisstore

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

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/store"
	"github.com/cogauth/cogauth/store/internal/migrate"
	"github.com/cogauth/cogauth/store/internal/migrate/migrateredis"
)

// Store is a store.Store and store.Locker kept in Redis, for services that run
// several replicas sharing the same users' sessions: every replica opens a Redis on the same server
// (or cluster) with the same Prefix, and a session refreshed by one replica is the
// session all of them serve. A single process, or processes on one machine, are
// better served by store.Memory or store.File. It needs Redis 5 or later (scripts that read
// TIME before writing), standalone, Sentinel or Cluster; nothing else should write
// under its Prefix.
//
// # Key layout
//
// A store.Key k is kept at Prefix + k, and its refresh lock at Prefix + "l" + k
// ("l:" + the rest for a key named "s", a session's). Keys are made of bytes no
// Redis Cluster hash tag can form, so they spread over the slots. Keys whose name
// is empty, starts with "l", or is "sx" are refused (store.ErrInvalidKey): they
// are the store's own.
//
// # Opening
//
// New checks that the records under Prefix are in today's layout, and moves the
// ones that are not once (MIGRATING.md says which): the first replica to open a
// Prefix takes the key Prefix + ":migrating" as a lock, moves them, and sets
// Prefix + ":migrated"; every later New costs that one GET. Replicas that open
// the store meanwhile wait for the mark, for at most Options.OpenTimeout, and New
// fails rather than open a store whose records are still to move; so it also
// fails when Redis cannot be reached within OpenTimeout.
//
// A record is one Redis string, "<version>:<data>" (the version in decimal, the
// data stored as given: the session record holds the tokens — protect the Redis
// server, its persistence files and its backups as you would the tokens
// themselves), or with Options.HashRecords a hash of fields "v" (the version) and
// "d" (the data). Both layouts are read whatever the option says, and a write
// rewrites a record in the configured one.
//
// # Versions
//
// Put and Delete compare and write inside one Lua script, so they are atomic on the
// server. A new version is the larger of the old version plus one and the server's
// TIME in microseconds, so versions keep growing even after a session is deleted
// or expires and is written again (unless the server's clock steps back further
// than the time between the two). Delete removes the key outright: nothing of a
// deleted record stays behind.
//
// # Expiry
//
// Put's expiry becomes the key's TTL (PEXPIRE, to the millisecond, counted from
// the writer's clock, Options.Clock, at the time of the write; rounded up); a write without one
// makes the key persistent (PERSIST). An expiry already past deletes the key.
// Redis removes an expired key itself, so an expired record is absent to every
// read at once.
//
// # Locks
//
// Lock takes the key's lock key with SET NX PX LockTTL and a random token, polling
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
type Store struct {
	c         redis.UniversalClient
	prefix    string
	lockTTL   time.Duration
	clk       clock.Clock
	strings   bool
	put       *redis.Script
	del       *redis.Script
	extend    *redis.Script
	unlockScr *redis.Script
}

// Options configure a Redis store.
type Options struct {
	// Prefix starts every key the store uses; default "cogauth:". Replicas sharing
	// sessions use the same prefix; different applications on one server use
	// different ones.
	Prefix string
	// LockTTL is how long a lock outlives a holder that died; default 10s. A live
	// holder's lock is extended for as long as it holds it.
	LockTTL time.Duration
	// HashRecords writes each record as a hash of "v" (the version) and "d" (the
	// data) instead of one Redis string, "<version>:<data>". The string costs
	// about 200 bytes less a key, since Redis keeps a hash whose data outgrows a
	// listpack (hash-max-listpack-value, 64 bytes) as a table of its own. Both
	// layouts are always read and either is rewritten in the configured one;
	// release 2 reads only hashes, so set HashRecords while replicas of release
	// 2 share the store (a rolling upgrade), and drop it once none is left.
	HashRecords bool
	// OpenTimeout bounds New's check (and, the first time a Prefix is opened,
	// move) of the records' layout, including the wait for another replica that
	// is moving them; default 1 minute.
	OpenTimeout time.Duration
	// Clock is the writers' clock that Put's expiries are on: a key's TTL is the
	// expiry less Clock.Now() at the write. The system clock when nil; tests that
	// move a fake clock give the store the same one.
	Clock clock.Clock
}

const (
	defaultRedisPrefix = "cogauth:"
	defaultLockTTL     = 10 * time.Second
	defaultOpenTimeout = time.Minute
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
// Both layouts are read: a string "<version>:<data>" or a hash of "v" and "d".
const checkEntryLua = `
local v, live = false, false
local typ = redis.call('TYPE', KEYS[1])['ok']
if typ == 'string' then
  local s = redis.call('GET', KEYS[1])
  local i = string.find(s, ':', 1, true)
  if not i then
    return redis.error_reply('` + corruptReply + ` stored record has no version')
  end
  v, live = string.sub(s, 1, i - 1), true
elseif typ == 'hash' then
  v = redis.call('HGET', KEYS[1], 'v')
  live = redis.call('HEXISTS', KEYS[1], 'd') == 1
elseif typ ~= 'none' then
  return redis.error_reply('WRONGTYPE the key holds a ' .. typ)
end
if (v and not string.match(v, '^[1-9][0-9]*$')) or (live and not v) then
  return redis.error_reply('` + corruptReply + ` stored version is missing or malformed')
end
`

// corruptReply starts the error a script returns for an entry it cannot read.
const corruptReply = "COGAUTH_CORRUPT"

// putScript: KEYS[1] record key; ARGV[1] expected version ("any" or decimal),
// ARGV[2] data, ARGV[3] TTL in ms ("-": none; not positive: gone at once),
// ARGV[4] the layout to write ("s" string, "h" hash).
// Returns {1, new version} or {0, current version}. A hash with "v" but no "d" is
// a tombstone: absent, with a version to stay above. Versions stay below 2^53
// (microseconds until the year 2255), so Lua's doubles hold them exactly and
// '%.0f' prints them exactly.
const putScript = checkEntryLua + `
local have = '0'
if live then have = v end
if ARGV[1] ~= 'any' and ARGV[1] ~= have then return {0, have} end
local t = redis.call('TIME')
local n = tonumber(t[1]) * 1000000 + tonumber(t[2])
if v and tonumber(v) + 1 > n then n = tonumber(v) + 1 end
local nv = string.format('%.0f', n)
if ARGV[4] == 's' then
  redis.call('SET', KEYS[1], nv .. ':' .. ARGV[2])
else
  if typ == 'string' then redis.call('DEL', KEYS[1]) end
  redis.call('HSET', KEYS[1], 'v', nv, 'd', ARGV[2])
end
if ARGV[3] == '-' then
  redis.call('PERSIST', KEYS[1])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return {1, nv}
`

// deleteScript: KEYS[1] record key; ARGV[1] expected version. Returns {1, ""}
// when deleted or absent, or {0, current version}. The key goes entirely (a
// tombstone with it).
const deleteScript = checkEntryLua + `
if live and ARGV[1] ~= 'any' and ARGV[1] ~= v then return {0, v} end
redis.call('DEL', KEYS[1])
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

// New returns a store on client, which the caller keeps and closes, once the
// records under the prefix are in today's layout (see Opening). A redis.Client,
// redis.ClusterClient, redis.Ring or failover client all work: every command and
// script touches a single key.
func New(client redis.UniversalClient, opts Options) (*Store, error) {
	if client == nil {
		return nil, errors.New("store: New: nil client")
	}
	if opts.LockTTL < 0 || (opts.LockTTL > 0 && opts.LockTTL < 3*time.Millisecond) {
		return nil, fmt.Errorf("store: New: LockTTL %v must be zero (default) or at least 3ms", opts.LockTTL)
	}
	if opts.OpenTimeout < 0 {
		return nil, fmt.Errorf("store: New: OpenTimeout %v must not be negative", opts.OpenTimeout)
	}
	if opts.OpenTimeout == 0 {
		opts.OpenTimeout = defaultOpenTimeout
	}
	if opts.Prefix == "" {
		opts.Prefix = defaultRedisPrefix
	}
	if opts.LockTTL == 0 {
		opts.LockTTL = defaultLockTTL
	}
	if opts.Clock == nil {
		opts.Clock = clock.System{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), opts.OpenTimeout)
	defer cancel()
	if _, err := migrateredis.Run(ctx, client, opts.Prefix, opts.HashRecords); err != nil {
		return nil, fmt.Errorf("store: New: %w", err)
	}
	return &Store{
		clk:       opts.Clock,
		strings:   !opts.HashRecords,
		c:         client,
		prefix:    opts.Prefix,
		lockTTL:   opts.LockTTL,
		put:       redis.NewScript(putScript),
		del:       redis.NewScript(deleteScript),
		extend:    redis.NewScript(extendScript),
		unlockScr: redis.NewScript(unlockScript),
	}, nil
}

// dataKey returns the Redis key of k's record.
func (r *Store) dataKey(k store.Key) string { return r.prefix + migrate.RedisName(string(k)) }

// lockKey returns the Redis key of k's refresh lock.
func (r *Store) lockKey(k store.Key) string { return r.prefix + migrate.RedisLockName(string(k)) }

// validate is k.Validate, and refuses the names the store keeps for itself.
func validate(k store.Key) error {
	if err := k.Validate(); err != nil {
		return err
	}
	if k[0] == 'l' || k[0] == ':' || strings.HasPrefix(string(k), "sx:") {
		return fmt.Errorf("%w: %q: empty names, names starting with \"l\" and \"sx\" are the Redis store's own", store.ErrInvalidKey, k)
	}
	return nil
}

// parseRedisVersion reads a version as the scripts write it: decimal, no sign, no
// leading zero, not zero.
func parseRedisVersion(s string) (uint64, error) {
	if s == "" || s[0] == '0' || s[0] == '+' {
		return 0, fmt.Errorf("%w: bad version %q", store.ErrCorrupt, s)
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v == store.AnyVersion {
		return 0, fmt.Errorf("%w: bad version %q", store.ErrCorrupt, s)
	}
	return v, nil
}

func (r *Store) layoutArg() string {
	if r.strings {
		return "s"
	}
	return "h"
}

func versionArg(v uint64) string {
	if v == store.AnyVersion {
		return "any"
	}
	return strconv.FormatUint(v, 10)
}

func ttlArg(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }

// expiryArg is the put script's TTL argument for an expiry: "-" for none, else
// the milliseconds left at now, rounded up (a record never ends early); zero
// when it has passed.
func expiryArg(expires, now time.Time) string {
	if expires.IsZero() {
		return "-"
	}
	d := expires.Sub(now)
	ms := d.Milliseconds()
	if d > 0 && d%time.Millisecond != 0 {
		ms++
	}
	return strconv.FormatInt(max(ms, 0), 10)
}

// redisErr wraps a Redis failure; a key of the wrong type (something else wrote
// under our prefix) is corruption, not absence.
func redisErr(op string, k store.Key, err error) error {
	if msg := err.Error(); strings.HasPrefix(msg, "WRONGTYPE") || strings.HasPrefix(msg, corruptReply) {
		return fmt.Errorf("store: redis %s %s: %w: %w", op, k, store.ErrCorrupt, err)
	}
	return fmt.Errorf("store: redis %s %s: %w", op, k, err)
}

// Get implements Store.
func (r *Store) Get(ctx context.Context, k store.Key) (store.Entry, error) {
	if err := validate(k); err != nil {
		return store.Entry{}, err
	}
	e, _, err := r.get(ctx, k, r.dataKey(k))
	return e, err
}

// get reads the record at key, in the layout the store writes first and the
// other one if the key holds that; exists reports whether the key exists at all
// (a release 2 tombstone does, without data).
func (r *Store) get(ctx context.Context, k store.Key, key string) (e store.Entry, exists bool, err error) {
	first, second := r.getHash, r.getString
	if r.strings {
		first, second = second, first
	}
	e, exists, err = first(ctx, k, key)
	if isWrongType(err) {
		e, exists, err = second(ctx, k, key)
	}
	if isWrongType(err) {
		return store.Entry{}, true, redisErr("get", k, err) // neither layout: corrupt
	}
	return e, exists, err
}

// isWrongType: the key holds the other layout (or something else altogether).
func isWrongType(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && strings.HasPrefix(re.Error(), "WRONGTYPE")
}

// getString reads a record of the string layout; its errors are Redis's own
// (a WRONGTYPE for a hash) or wrap store's.
func (r *Store) getString(ctx context.Context, k store.Key, key string) (store.Entry, bool, error) {
	s, err := r.c.Get(ctx, key).Result()
	if errors.Is(err, redis.Nil) {
		return store.Entry{}, false, fmt.Errorf("%w: %s", store.ErrNotFound, k)
	}
	if err != nil {
		if isWrongType(err) {
			return store.Entry{}, true, err
		}
		return store.Entry{}, false, redisErr("get", k, err)
	}
	vs, ds, ok := strings.Cut(s, ":")
	if !ok {
		return store.Entry{}, true, fmt.Errorf("store: redis get %s: %w: a record without a version", k, store.ErrCorrupt)
	}
	v, err := parseRedisVersion(vs)
	if err != nil {
		return store.Entry{}, true, fmt.Errorf("store: redis get %s: %w", k, err)
	}
	return store.Entry{Data: []byte(ds), Version: v}, true, nil
}

// getHash reads a record of the hash layout; its errors are Redis's own (a
// WRONGTYPE for a string) or wrap store's.
func (r *Store) getHash(ctx context.Context, k store.Key, key string) (e store.Entry, exists bool, err error) {
	vals, err := r.c.HMGet(ctx, key, "v", "d").Result()
	if isWrongType(err) {
		return store.Entry{}, true, err
	}
	if err != nil {
		return store.Entry{}, false, redisErr("get", k, err)
	}
	if len(vals) != 2 || vals[1] == nil {
		return store.Entry{}, len(vals) == 2 && vals[0] != nil, fmt.Errorf("%w: %s", store.ErrNotFound, k)
	}
	vs, ok1 := vals[0].(string)
	ds, ok2 := vals[1].(string)
	if !ok1 || !ok2 {
		return store.Entry{}, true, fmt.Errorf("store: redis get %s: %w: unexpected reply types", k, store.ErrCorrupt)
	}
	v, err := parseRedisVersion(vs)
	if err != nil {
		return store.Entry{}, true, fmt.Errorf("store: redis get %s: %w", k, err)
	}
	return store.Entry{Data: []byte(ds), Version: v}, true, nil
}

// scriptReply reads the {flag, version} pair the put and delete scripts return.
func scriptReply(res any) (flag int64, version string, err error) {
	pair, isSlice := res.([]any)
	if !isSlice || len(pair) != 2 {
		return 0, "", fmt.Errorf("%w: unexpected script reply", store.ErrCorrupt)
	}
	flag, ok1 := pair[0].(int64)
	version, ok2 := pair[1].(string)
	if !ok1 || !ok2 {
		return 0, "", fmt.Errorf("%w: unexpected script reply", store.ErrCorrupt)
	}
	return flag, version, nil
}

// conflictAt reports a CAS mismatch given the stored version as the script saw it.
func conflictAt(k store.Key, have string, want uint64) error {
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
func (r *Store) Put(ctx context.Context, k store.Key, data []byte, ifVersion uint64, expires time.Time) (uint64, error) {
	if err := validate(k); err != nil {
		return 0, err
	}
	ttl := expiryArg(expires, r.clk.Now())
	res, err := r.put.Run(ctx, r.c, []string{r.dataKey(k)}, versionArg(ifVersion), data, ttl, r.layoutArg()).Result()
	if err != nil {
		return 0, redisErr("put", k, err)
	}
	flag, vs, err := scriptReply(res)
	if err != nil {
		return 0, fmt.Errorf("store: redis put %s: %w", k, err)
	}
	switch flag {
	case 0:
		return 0, conflictAt(k, vs, ifVersion)
	case 1:
	default:
		return 0, fmt.Errorf("store: redis put %s: %w: unexpected script reply", k, store.ErrCorrupt)
	}
	v, err := parseRedisVersion(vs)
	if err != nil {
		return 0, fmt.Errorf("store: redis put %s: %w", k, err)
	}
	return v, nil
}

// Delete implements Store.
func (r *Store) Delete(ctx context.Context, k store.Key, ifVersion uint64) error {
	if err := validate(k); err != nil {
		return err
	}
	res, err := r.del.Run(ctx, r.c, []string{r.dataKey(k)}, versionArg(ifVersion)).Result()
	if err != nil {
		return redisErr("delete", k, err)
	}
	flag, vs, err := scriptReply(res)
	if err != nil {
		return fmt.Errorf("store: redis delete %s: %w", k, err)
	}
	switch flag {
	case 0:
		return conflictAt(k, vs, ifVersion)
	case 1:
		return nil
	}
	return fmt.Errorf("store: redis delete %s: %w: unexpected script reply", k, store.ErrCorrupt)
}

// newLockToken returns a random token naming one holding of a lock.
func newLockToken() string { return crand.Text() }

// lockWait returns a wait in [d/2, d]: spread so that waiters released together do
// not poll in lockstep.
func lockWait(d time.Duration) time.Duration {
	return d/2 + rand.N(d/2+1)
}

// Lock implements store.Locker; see the type's documentation for the semantics.
func (r *Store) Lock(ctx context.Context, k store.Key) (func(), error) {
	if err := validate(k); err != nil {
		return nil, err
	}
	key := r.lockKey(k)
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
func (r *Store) watchdog(ctx context.Context, key, token string, done chan<- struct{}) {
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

func conflict(k store.Key, have, want uint64) error {
	return fmt.Errorf("%w: %s is at version %d, writer expected %d", store.ErrConflict, k, have, want)
}
