package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cogauth/cogauth/internal/peers"
	"github.com/cogauth/cogauth/store"
	"github.com/cogauth/cogauth/store/internal/migrate"
	"github.com/cogauth/cogauth/store/internal/migrate/migrateredis"
	"github.com/cogauth/cogauth/store/storetest"
)

// newRedisClient is one replica's connection to the server at addr.
func newRedisClient(t testing.TB, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, DisableIdentity: true})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func newRedisStore(t testing.TB, c redis.UniversalClient, opts Options) *Store {
	t.Helper()
	r, err := New(c, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestContract runs the store contract on Redis, each run under a prefix of its
// own, and the expiry contract read through PTTL.
func TestContract(t *testing.T) {
	c := newRedisClient(t, peers.Redis(t))
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) store.Store {
		return newRedisStore(t, c, Options{Prefix: fmt.Sprintf("contract-%d:", n.Add(1))})
	})
	t.Run("HashRecords", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store {
			return newRedisStore(t, c, Options{Prefix: fmt.Sprintf("contract-%d:", n.Add(1)), HashRecords: true})
		})
	})
	t.Run("Expiry", func(t *testing.T) {
		s := newRedisStore(t, c, Options{Prefix: fmt.Sprintf("contract-%d:", n.Add(1)), HashRecords: n.Load()%2 == 0})
		storetest.Expiry(t, func(*testing.T) store.Store { return s }, storetest.ExpiryOptions{
			Remaining: func(t *testing.T, k store.Key) time.Duration {
				d, err := c.PTTL(context.Background(), s.dataKey(k)).Result()
				if err != nil {
					t.Fatal(err)
				}
				return d // go-redis keeps PTTL's -1 and -2 as they are
			},
		})
	})
}

// TestRedisReplicasShareSessions: two clients are two replicas; each sees the
// other's writes and neither can overwrite what it has not read.
func TestRedisReplicasShareSessions(t *testing.T) {
	addr := peers.Redis(t)
	a := newRedisStore(t, newRedisClient(t, addr), Options{})
	b := newRedisStore(t, newRedisClient(t, addr), Options{})
	other := newRedisStore(t, newRedisClient(t, addr), Options{Prefix: "other-app:"})
	k := store.Join("s", "p", "c", "u")
	storetest.SharedInstances(t, a, b, k)
	if _, err := other.Get(context.Background(), k); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another prefix sees the session: %v", err)
	}
}

// TestRedisConcurrentCASCounter: writers on two replicas increment one counter by
// read, compute, compare-and-swap, retry. Any lost update shows as a short count.
func TestRedisConcurrentCASCounter(t *testing.T) {
	addr := peers.Redis(t)
	replicas := []*Store{
		newRedisStore(t, newRedisClient(t, addr), Options{}),
		newRedisStore(t, newRedisClient(t, addr), Options{}),
	}
	ctx := context.Background()
	k := store.Join("s", "p", "c", "counter")
	if _, err := replicas[0].Put(ctx, k, []byte("0"), 0, time.Time{}); err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 25
	var conflicts atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		s := replicas[w%len(replicas)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				for {
					e, err := s.Get(ctx, k)
					if err != nil {
						t.Error(err)
						return
					}
					n, _ := strconv.Atoi(string(e.Data))
					_, err = s.Put(ctx, k, []byte(strconv.Itoa(n+1)), e.Version, time.Time{})
					if err == nil {
						break
					}
					if !errors.Is(err, store.ErrConflict) {
						t.Error(err)
						return
					}
					conflicts.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	e, err := replicas[1].Get(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(e.Data); got != strconv.Itoa(workers*each) {
		t.Fatalf("counter = %s, want %d (lost updates)", got, workers*each)
	}
	t.Logf("%d conflicts retried", conflicts.Load())
}

// TestRedisLockExcludesAcrossReplicas: holders on two replicas do a deliberately
// unsafe read-modify-write (no CAS) of a plain Redis key under the lock; the count
// is exact only if no two ever held the lock at once.
func TestRedisLockExcludesAcrossReplicas(t *testing.T) {
	addr := peers.Redis(t)
	ca, cb := newRedisClient(t, addr), newRedisClient(t, addr)
	replicas := []struct {
		c *redis.Client
		s *Store
	}{{ca, newRedisStore(t, ca, Options{})}, {cb, newRedisStore(t, cb, Options{})}}
	ctx := context.Background()
	k := store.Join("s", "p", "c", "u")
	const workers, each = 6, 10
	var inside atomic.Int32
	var wg sync.WaitGroup
	for w := range workers {
		r := replicas[w%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				unlock, err := r.s.Lock(ctx, k)
				if err != nil {
					t.Error(err)
					return
				}
				if n := inside.Add(1); n != 1 {
					t.Errorf("%d holders at once", n)
				}
				n, err := r.c.Get(ctx, "plain-counter").Int()
				if err != nil && !errors.Is(err, redis.Nil) {
					t.Error(err)
				}
				if err := r.c.Set(ctx, "plain-counter", n+1, 0).Err(); err != nil {
					t.Error(err)
				}
				inside.Add(-1)
				unlock()
			}
		}()
	}
	wg.Wait()
	if n, err := ca.Get(ctx, "plain-counter").Int(); err != nil || n != workers*each {
		t.Fatalf("counter = %d, %v; want %d", n, err, workers*each)
	}
	if n, _ := ca.Exists(ctx, replicas[0].s.lockKey(k)).Result(); n != 0 {
		t.Fatal("lock key left behind after every holder unlocked")
	}
}

// TestRedisLockExpiresWhenHolderDies uses real time: the lock's TTL runs on the
// Redis server. A holder that dies (its connection closes, or its context ends so
// its watchdog stops) never unlocks; another replica gets the lock after LockTTL.
func TestRedisLockExpiresWhenHolderDies(t *testing.T) {
	const ttl = 150 * time.Millisecond
	addr := peers.Redis(t)
	k := store.Join("s", "p", "c", "u")
	tests := []struct {
		name string
		die  func(c *redis.Client, cancel context.CancelFunc)
	}{
		{"connection closed", func(c *redis.Client, _ context.CancelFunc) { _ = c.Close() }},
		{"context ended", func(_ *redis.Client, cancel context.CancelFunc) { cancel() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{Prefix: tt.name + ":", LockTTL: ttl}
			holderClient := newRedisClient(t, addr)
			holder := newRedisStore(t, holderClient, opts)
			other := newRedisStore(t, newRedisClient(t, addr), opts)
			hctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			unlock, err := holder.Lock(hctx, k)
			if err != nil {
				t.Fatal(err)
			}
			defer unlock()
			start := time.Now()
			tt.die(holderClient, cancel)
			ctx, cancelWait := context.WithTimeout(context.Background(), 10*ttl)
			defer cancelWait()
			u, err := other.Lock(ctx, k)
			if err != nil {
				t.Fatalf("lock of a dead holder never freed: %v", err)
			}
			defer u()
			// Freed by expiry, not early: the other replica had to wait out most of the TTL.
			if waited := time.Since(start); waited < ttl/2 {
				t.Fatalf("got the lock after %v, before the holder's TTL (%v) could run out", waited, ttl)
			}
		})
	}
}

// TestRedisWatchdogKeepsLock: a holder that keeps the lock for several TTLs keeps
// it; the other replica waits the whole time, then gets it at unlock.
func TestRedisWatchdogKeepsLock(t *testing.T) {
	const ttl = 120 * time.Millisecond
	addr := peers.Redis(t)
	k := store.Join("s", "p", "c", "u")
	raw := newRedisClient(t, addr)
	holder := newRedisStore(t, newRedisClient(t, addr), Options{LockTTL: ttl})
	other := newRedisStore(t, newRedisClient(t, addr), Options{LockTTL: ttl})
	ctx := context.Background()
	unlock, err := holder.Lock(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	// The other replica's attempt is the wait: four TTLs, in which an unextended lock
	// would have expired three times over.
	wctx, cancel := context.WithTimeout(ctx, 4*ttl)
	defer cancel()
	if _, err := other.Lock(wctx, k); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("lock taken from a live holder: err = %v", err)
	}
	if pttl, err := raw.PTTL(ctx, holder.lockKey(k)).Result(); err != nil || pttl <= 0 || pttl > ttl {
		t.Fatalf("lock PTTL = %v, %v; want in (0, %v]", pttl, err, ttl)
	}
	got := make(chan error, 1)
	go func() {
		u, err := other.Lock(ctx, k)
		if err == nil {
			u()
		}
		got <- err
	}()
	unlock()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
}

// TestRedisUnlockNeverFreesAnothersLock: holder A's lock is lost (deleted here, as
// expiry would); B takes it; A's late unlock and A's watchdog must leave B's lock
// alone.
func TestRedisUnlockNeverFreesAnothersLock(t *testing.T) {
	const ttl = 30 * time.Millisecond // A's watchdog ticks every 10ms while B holds
	addr := peers.Redis(t)
	k := store.Join("s", "p", "c", "u")
	raw := newRedisClient(t, addr)
	a := newRedisStore(t, newRedisClient(t, addr), Options{LockTTL: ttl})
	b := newRedisStore(t, newRedisClient(t, addr), Options{LockTTL: time.Minute})
	ctx := context.Background()
	unlockA, err := a.Lock(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	lockKey := a.lockKey(k)
	if err := raw.Del(ctx, lockKey).Err(); err != nil {
		t.Fatal(err)
	}
	unlockB, err := b.Lock(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	defer unlockB()
	tokenB, err := raw.Get(ctx, lockKey).Result()
	if err != nil {
		t.Fatal(err)
	}
	unlockA()
	if tok, err := raw.Get(ctx, lockKey).Result(); err != nil || tok != tokenB {
		t.Fatalf("after A's unlock the lock is %q, %v; want B's", tok, err)
	}
	// A's watchdog never shortened B's TTL to A's.
	if pttl, err := raw.PTTL(ctx, lockKey).Result(); err != nil || pttl <= ttl {
		t.Fatalf("B's lock PTTL = %v, %v; want B's own minute", pttl, err)
	}
	short, cancel := context.WithTimeout(ctx, 3*ttl)
	defer cancel()
	if _, err := a.Lock(short, k); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("A relocked while B holds: err = %v", err)
	}
}

// TestRedisLayout checks the key names, TTLs and tombstones on the server.
func TestRedisLayout(t *testing.T) {
	addr := peers.Redis(t)
	raw := newRedisClient(t, addr)
	ctx := context.Background()
	s := newRedisStore(t, newRedisClient(t, addr), Options{Prefix: "app:"})
	k := store.Join("s", "us-east-1_X", "c/1", "a b%")
	const want = "app:s:us-east-1_X/c%2F1/a%20b%25"
	if got := s.dataKey(k); got != want {
		t.Fatalf("key = %q, want %q", got, want)
	}
	v1, err := s.Put(ctx, k, []byte("data"), 0, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if pttl, _ := raw.PTTL(ctx, want).Result(); pttl <= 59*time.Minute || pttl > time.Hour {
		t.Fatalf("session PTTL = %v, want the hour it was written for", pttl)
	}
	// Every record takes the expiry its writer names, and none without one.
	for _, rk := range []store.Key{store.Join("s", "us-east-1_X", "c", "u"), store.Join("u", "us-east-1_X", "c", ""), store.Join("d", "us-east-1_X", "c", "u"), store.Join("i", "us-east-1:x", "c", "u"), store.Join("other", "x")} {
		kind := rk
		if _, err := s.Put(ctx, rk, []byte("x"), store.AnyVersion, time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if pttl, _ := raw.PTTL(ctx, s.dataKey(rk)).Result(); pttl <= 0 || pttl > time.Minute {
			t.Errorf("%s PTTL = %v, want the minute it was written for", kind, pttl)
		}
		if _, err := s.Put(ctx, rk, []byte("x"), store.AnyVersion, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if pttl, _ := raw.PTTL(ctx, s.dataKey(rk)).Result(); pttl != -1 {
			t.Errorf("%s PTTL without an expiry = %v, want none (-1)", kind, pttl)
		}
	}
	// Delete leaves nothing behind.
	if err := s.Delete(ctx, k, v1); err != nil {
		t.Fatal(err)
	}
	if n, _ := raw.Exists(ctx, want).Result(); n != 0 {
		t.Fatalf("a deleted record's key is still there")
	}
	// A release 2 tombstone (a version, no data) is absent, its version a floor
	// for the next one even if it is ahead of the server clock; Delete removes it.
	const ahead = uint64(1) << 52
	if err := raw.HSet(ctx, want, "v", strconv.FormatUint(ahead, 10)).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, k); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get of a release 2 tombstone: %v", err)
	}
	if err := s.Delete(ctx, k, store.AnyVersion); err != nil {
		t.Fatal(err)
	}
	if n, _ := raw.Exists(ctx, want).Result(); n != 0 {
		t.Fatalf("Delete left a release 2 tombstone behind")
	}
	if err := raw.HSet(ctx, want, "v", strconv.FormatUint(ahead, 10)).Err(); err != nil {
		t.Fatal(err)
	}
	v2, err := s.Put(ctx, k, []byte("again"), 0, time.Time{})
	if err != nil || v2 != ahead+1 {
		t.Fatalf("Put over tombstone: v=%d, %v; want %d", v2, err, ahead+1)
	}
	// An entry that expired (gone entirely) comes back with a newer version.
	if err := raw.Del(ctx, want).Err(); err != nil {
		t.Fatal(err)
	}
	v3, err := s.Put(ctx, k, []byte("new"), 0, time.Time{})
	if err != nil || v3 == 0 || v3 == v2 {
		t.Fatalf("Put after expiry: v=%d, %v", v3, err)
	}
	// A write without an expiry persists, even over an entry that had one.
	if _, err := s.Put(ctx, k, []byte("short"), store.AnyVersion, time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, k, []byte("kept"), store.AnyVersion, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if pttl, _ := raw.PTTL(ctx, want).Result(); pttl != -1 {
		t.Fatalf("PTTL without an expiry = %v, want -1", pttl)
	}
}

// TestRedisRecordLayouts: a store of the default (string) layout reads what a
// store with HashRecords wrote (release 2's layout) and rewrites it as a string,
// with the same TTL rules and versions that keep growing; a store with
// HashRecords reads the strings too, and either rewrites the other's layout in
// its own.
func TestRedisRecordLayouts(t *testing.T) {
	addr := peers.Redis(t)
	raw := newRedisClient(t, addr)
	ctx := context.Background()
	hashes := newRedisStore(t, newRedisClient(t, addr), Options{Prefix: "lay:", HashRecords: true})
	strs := newRedisStore(t, newRedisClient(t, addr), Options{Prefix: "lay:"})
	k := store.Join("s", "us-east-1_X", "c", "alice")
	key := strs.dataKey(k)
	v1, err := hashes.Put(ctx, k, []byte("as a hash"), 0, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if typ := raw.Type(ctx, key).Val(); typ != "hash" {
		t.Fatalf("written with HashRecords as a %s", typ)
	}
	if e, err := strs.Get(ctx, k); err != nil || string(e.Data) != "as a hash" || e.Version != v1 {
		t.Fatalf("the string store reads the hash as %q v%d, %v", e.Data, e.Version, err)
	}
	if _, err := strs.Put(ctx, k, []byte("x"), v1-1, time.Time{}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a stale write over a hash: %v", err)
	}
	data := []byte("as a string: with \x00 and : inside")
	v2, err := strs.Put(ctx, k, data, v1, time.Now().Add(time.Minute))
	if err != nil || v2 <= v1 {
		t.Fatalf("rewritten as a string: v%d after v%d, %v", v2, v1, err)
	}
	if typ := raw.Type(ctx, key).Val(); typ != "string" {
		t.Fatalf("rewritten as a %s", typ)
	}
	if pttl := raw.PTTL(ctx, key).Val(); pttl <= 0 || pttl > time.Minute {
		t.Fatalf("string record PTTL %v, want the minute it was written for", pttl)
	}
	for _, s := range []*Store{strs, hashes} {
		if e, err := s.Get(ctx, k); err != nil || string(e.Data) != string(data) || e.Version != v2 {
			t.Fatalf("the string record reads as %q v%d, %v", e.Data, e.Version, err)
		}
	}
	v3, err := hashes.Put(ctx, k, []byte("a hash again"), v2, time.Time{})
	if err != nil || v3 <= v2 || raw.Type(ctx, key).Val() != "hash" || raw.PTTL(ctx, key).Val() != -1 {
		t.Fatalf("rewritten with HashRecords: v%d, %v, %s", v3, err, raw.Type(ctx, key).Val())
	}
	if _, err := strs.Put(ctx, k, []byte("s"), v3, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := hashes.Delete(ctx, k, store.AnyVersion); err != nil || raw.Exists(ctx, key).Val() != 0 {
		t.Fatalf("Delete of a string record: %v", err)
	}
	// A key of neither layout is corrupt, not absent.
	raw.RPush(ctx, key, "x")
	for _, s := range []*Store{strs, hashes} {
		if _, err := s.Get(ctx, k); !errors.Is(err, store.ErrCorrupt) {
			t.Fatalf("a list read as %v, want store.ErrCorrupt", err)
		}
		if _, err := s.Put(ctx, k, []byte("x"), store.AnyVersion, time.Time{}); !errors.Is(err, store.ErrCorrupt) {
			t.Fatalf("a write over a list: %v, want store.ErrCorrupt", err)
		}
	}
	raw.Set(ctx, key, "no version", 0)
	if _, err := strs.Get(ctx, k); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("a string without a version read as %v", err)
	}
}

// TestRedisKeysDoNotCollide: keys that a naive join would merge stay apart.
func TestRedisKeysDoNotCollide(t *testing.T) {
	addr := peers.Redis(t)
	s := newRedisStore(t, newRedisClient(t, addr), Options{})
	ctx := context.Background()
	keys := []store.Key{
		store.Join("s", "a/b", "c", "d"),
		store.Join("s", "a", "b/c", "d"),
		store.Join("s", "a", "b", "c/d"),
		store.Join("s", "a%2Fb", "c", "d"),
		store.Join("u", "a", "b", ""),
		store.Join("s", "a", "b", " device x"),
		store.Join("d", "a", "b", "x"),
		store.Join("d", "b", "b", "x").In("a"),
		store.Join("d", "b", "b", "x").In("a:b"),
		store.Join("s", "a", "b", "{x}"),
		store.Join("s", "a", "b", "\x00"),
	}
	for i, k := range keys {
		if _, err := s.Put(ctx, k, []byte(strconv.Itoa(i)), 0, time.Time{}); err != nil {
			t.Fatalf("Put %v: %v (collision?)", k, err)
		}
	}
	for i, k := range keys {
		if e, err := s.Get(ctx, k); err != nil || string(e.Data) != strconv.Itoa(i) {
			t.Fatalf("Get %v = %q, %v", k, e.Data, err)
		}
	}
}

// TestRedisCorruptAndFailing: bad data under our keys is store.ErrCorrupt, an unreachable
// server is an error of its own; neither ever reads as "not found" (signed out),
// and no error carries session data.
func TestRedisCorruptAndFailing(t *testing.T) {
	addr := peers.Redis(t)
	raw := newRedisClient(t, addr)
	s := newRedisStore(t, raw, Options{})
	ctx := context.Background()
	k := store.Join("s", "p", "c", "u")
	key := s.dataKey(k)
	tests := []struct {
		name  string
		setup func() error
	}{
		{"string, not hash", func() error { return raw.Set(ctx, key, "secret-token", 0).Err() }},
		{"version not a number", func() error { return raw.HSet(ctx, key, "v", "abc", "d", "secret-token").Err() }},
		{"version zero", func() error { return raw.HSet(ctx, key, "v", "0", "d", "secret-token").Err() }},
		{"no version", func() error { return raw.HSet(ctx, key, "d", "secret-token").Err() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw.Del(ctx, key)
			if err := tt.setup(); err != nil {
				t.Fatal(err)
			}
			_, err := s.Get(ctx, k)
			if !errors.Is(err, store.ErrCorrupt) || strings.Contains(err.Error(), "secret") {
				t.Fatalf("Get: err = %v; want store.ErrCorrupt without the data", err)
			}
			before, _ := raw.Dump(ctx, key).Result()
			// Writers must not paper over the damage either.
			if _, err := s.Put(ctx, k, []byte("y"), store.AnyVersion, time.Time{}); !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("Put over corrupt entry: err = %v", err)
			}
			if err := s.Delete(ctx, k, store.AnyVersion); !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("Delete of corrupt entry: err = %v", err)
			}
			if after, _ := raw.Dump(ctx, key).Result(); after != before {
				t.Fatal("corrupt entry was changed")
			}
		})
	}
	raw.Del(ctx, key)
	if _, err := s.Put(ctx, k, []byte("secret-token"), 0, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, k, []byte("secret-token-2"), 0, time.Time{}); !errors.Is(err, store.ErrConflict) || strings.Contains(err.Error(), "secret") {
		t.Fatalf("conflict: %v", err)
	}

	down := redis.NewClient(&redis.Options{Addr: addr, DisableIdentity: true})
	ds := newRedisStore(t, down, Options{}) // New needs the server; the client closes after
	_ = down.Close()
	if _, err := ds.Get(ctx, k); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get on a closed client: err = %v; want a failure, not store.ErrNotFound", err)
	}
	if _, err := ds.Put(ctx, k, []byte("secret-token"), store.AnyVersion, time.Time{}); err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("Put on a closed client: err = %v", err)
	}
	if _, err := ds.Lock(ctx, k); !errors.Is(err, redis.ErrClosed) {
		t.Fatalf("Lock on a closed client: err = %v", err)
	}
}

func TestNewRedisOptions(t *testing.T) {
	c := newRedisClient(t, peers.Redis(t))
	tests := []struct {
		name string
		c    redis.UniversalClient
		opts Options
		ok   bool
	}{
		{"defaults", c, Options{}, true},
		{"nil client", nil, Options{}, false},
		{"negative LockTTL", c, Options{LockTTL: -1}, false},
		{"tiny LockTTL", c, Options{LockTTL: time.Millisecond}, false},
		{"negative OpenTimeout", c, Options{OpenTimeout: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New(tt.c, tt.opts)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && (r.prefix != defaultRedisPrefix || r.lockTTL != defaultLockTTL) {
				t.Fatalf("defaults not applied: %+v", r)
			}
		})
	}
}

// FuzzRedisKey: two keys the store takes (validate) have the same Redis key only
// if they are the same key, the same lock key only if they are the same key, and
// no record's Redis key is any key's lock; none holds a byte that could form a
// cluster hash tag.
func FuzzRedisKey(f *testing.F) {
	f.Add("s", "us-east-1_A", "alice", "", "u", "us-east-1_A", "", "x")
	f.Add("s", "p", " device x", "", "d", "p", "x", "")
	f.Add("s", "a/b", "c", "ns", "s", "a", "b/c", "")
	f.Add("u", "p", "", "", "lu", "p", "", "")
	f.Add("x", "%3A", "{tag}", "a:b", "x", "é\x00", "\n", "a")
	r := &Store{prefix: "p:"}
	f.Fuzz(func(t *testing.T, n1, a1, b1, ns1, n2, a2, b2, ns2 string) {
		k1, k2 := store.Join(n1, "pool", a1, b1).In(ns1), store.Join(n2, "pool", a2, b2).In(ns2)
		if validate(k1) != nil || validate(k2) != nil {
			return
		}
		for _, k := range []string{r.dataKey(k1), r.lockKey(k1)} {
			if strings.ContainsAny(k, "{}") {
				t.Fatalf("Redis key %q may form a hash tag", k)
			}
		}
		if (r.dataKey(k1) == r.dataKey(k2)) != (k1 == k2) || (r.lockKey(k1) == r.lockKey(k2)) != (k1 == k2) {
			t.Fatalf("%q and %q: Redis keys %q, %q; locks %q, %q", k1, k2, r.dataKey(k1), r.dataKey(k2), r.lockKey(k1), r.lockKey(k2))
		}
		if r.dataKey(k1) == r.lockKey(k2) || r.dataKey(k2) == r.lockKey(k1) {
			t.Fatalf("a record and a lock share a Redis key: %q, %q", k1, k2)
		}
		for _, k := range []string{r.dataKey(k1), r.lockKey(k1)} {
			if k == r.prefix+migrateredis.MarkerName || k == r.prefix+migrateredis.LockName {
				t.Fatalf("%q's Redis key %q is the migration's", k1, k)
			}
		}
		// Open's migration never moves a record the store writes.
		if to, ok := migrate.Release1RedisMove(strings.TrimPrefix(r.dataKey(k1), r.prefix)); ok {
			t.Fatalf("%q at %q would move to %q", k1, r.dataKey(k1), to)
		}
	})
}

// FuzzParseRedisVersion: whatever the server hands back, parsing either yields a
// version that prints back the same, or store.ErrCorrupt; never zero, never a panic.
func FuzzParseRedisVersion(f *testing.F) {
	for _, s := range []string{"1", "1712345678901234", "0", "", "-1", "+1", "01", "18446744073709551615", "18446744073709551616", "1e15", " 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseRedisVersion(s)
		if err != nil {
			if !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("error %v is not store.ErrCorrupt", err)
			}
			return
		}
		if v == 0 || v == store.AnyVersion || strconv.FormatUint(v, 10) != s {
			t.Fatalf("%q parsed as %d", s, v)
		}
	})
}

// ExampleNew shares sessions between the replicas of a service: each replica
// opens the same Redis with the same prefix and gives the store to its Managers.
// Every record's TTL is the expiry its writer gives Put (websession: the end of
// the web session).
func ExampleNew() {
	client := redis.NewClient(&redis.Options{Addr: "redis.internal:6379"})
	defer client.Close()
	sessions, err := New(client, Options{Prefix: "myapp:cogauth:"})
	if err != nil {
		log.Fatal(err)
	}
	// session.New(session.Config{Cognito: c, Store: sessions, Username: user})
	_ = sessions
}

// BenchmarkStoreGet compares one Get of a session-sized record from Redis (a
// loopback round trip) with the file store (read and parse the file) and memory.
func BenchmarkStoreGet(b *testing.B) {
	ctx := context.Background()
	k := store.Join("s", "us-east-1_A", "c1", "alice")
	data := []byte(strings.Repeat("x", 3000)) // about a session record: three JWTs and a refresh token
	f, err := store.NewFile(filepath.Join(b.TempDir(), "sessions.json"))
	if err != nil {
		b.Fatal(err)
	}
	addr := peers.Redis(b)
	stores := []struct {
		name string
		s    store.Store
	}{
		{"redis", newRedisStore(b, newRedisClient(b, addr), Options{})},
		{"file", f},
		{"memory", store.NewMemory()},
	}
	for _, st := range stores {
		// A file holding one session is the best case for the file store; ten is a
		// small CLI's worth.
		for i := range 10 {
			other := store.Join("s", "us-east-1_X", "c", fmt.Sprint("user", i))
			if _, err := st.s.Put(ctx, other, data, store.AnyVersion, time.Time{}); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := st.s.Put(ctx, k, data, store.AnyVersion, time.Time{}); err != nil {
			b.Fatal(err)
		}
		b.Run(st.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := st.s.Get(ctx, k); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(st.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := st.s.Get(ctx, k); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkStoreLock is the cost a refresh pays for cross-holder exclusion: one
// uncontended Lock and unlock (Redis: SET NX, a watchdog goroutine, a Lua unlock;
// file: flock on a lock file; memory: a channel).
func BenchmarkStoreLock(b *testing.B) {
	ctx := context.Background()
	k := store.Join("s", "us-east-1_A", "c1", "alice")
	f, err := store.NewFile(filepath.Join(b.TempDir(), "sessions.json"))
	if err != nil {
		b.Fatal(err)
	}
	addr := peers.Redis(b)
	lockers := []struct {
		name string
		l    store.Locker
	}{
		{"redis", newRedisStore(b, newRedisClient(b, addr), Options{})},
		{"file", f},
		{"memory", store.NewMemory()},
	}
	for _, l := range lockers {
		b.Run(l.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				unlock, err := l.l.Lock(ctx, k)
				if err != nil {
					b.Fatal(err)
				}
				unlock()
			}
		})
	}
}
