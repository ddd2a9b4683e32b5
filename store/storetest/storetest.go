package storetest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/store"
)

// Run runs the contract, each part as a subtest on a fresh, empty store from open.
// The Locker parts are skipped for a store that does not implement Locker.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name   string
		fn     func(*testing.T, store.Store)
		locker bool
	}{
		{"Contract", contract, false},
		{"KeysAndSizes", keysAndSizes, false},
		{"ConcurrentCAS", concurrentCAS, false},
		{"LockerExcludes", lockerExcludes, true},
		{"Namespaced", namespaced, false},
		{"ExpiryBasics", expiryBasics, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			if _, ok := s.(store.Locker); tt.locker && !ok {
				t.Skip("not a store.Locker")
			}
			tt.fn(t, s)
		})
	}
}

// plainStore hides a store's Locker.
type plainStore struct{ store.Store }

// contract: versions (create, compare-and-swap, delete, never reused), invalid
// keys, and data kept byte for byte.
func contract(t *testing.T, s store.Store) {
	alice := store.Join("s", "us-east-1_A", "c1", "alice")
	bob := store.Join("s", "us-east-1_A", "c1", "bob")
	v1, v2 := contractWrites(t, s, alice)
	contractDeletes(t, s, alice, bob, v1, v2)
	contractInvalidKeys(t, s)
	contractData(t, s, bob)
}

// contractWrites: a new record needs version 0, a rewrite the current version;
// it returns the two versions written.
func contractWrites(t *testing.T, s store.Store, alice store.Key) (v1, v2 uint64) {
	ctx := context.Background()
	if _, err := s.Get(ctx, alice); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get missing: err = %v, want store.ErrNotFound", err)
	}
	if _, err := s.Put(ctx, alice, []byte("x"), 7, time.Time{}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Put absent with version 7: err = %v, want store.ErrConflict", err)
	}
	v1, err := s.Put(ctx, alice, []byte("one"), 0, time.Time{})
	if err != nil || v1 == 0 {
		t.Fatalf("Put new: v=%d err=%v", v1, err)
	}
	if _, err := s.Put(ctx, alice, []byte("again"), 0, time.Time{}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Put existing with 0: err = %v, want store.ErrConflict", err)
	}
	v2, err = s.Put(ctx, alice, []byte("two"), v1, time.Time{})
	if err != nil || v2 == v1 {
		t.Fatalf("CAS Put: v=%d err=%v", v2, err)
	}
	if _, err := s.Put(ctx, alice, []byte("stale"), v1, time.Time{}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale CAS: err = %v, want store.ErrConflict", err)
	}
	e, err := s.Get(ctx, alice)
	if err != nil || string(e.Data) != "two" || e.Version != v2 {
		t.Fatalf("Get = %q v%d, %v; want two v%d", e.Data, e.Version, err, v2)
	}
	return v1, v2
}

// contractDeletes: Delete is by version and idempotent, touches no other key,
// and versions are never reused.
func contractDeletes(t *testing.T, s store.Store, alice, bob store.Key, v1, v2 uint64) {
	ctx := context.Background()
	if _, err := s.Put(ctx, bob, []byte("b"), store.AnyVersion, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, alice, v1); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale Delete: err = %v, want store.ErrConflict", err)
	}
	if err := s.Delete(ctx, alice, v2); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, alice, v2); err != nil {
		t.Fatalf("Delete missing: %v", err)
	}
	if _, err := s.Get(ctx, alice); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get deleted: err = %v, want store.ErrNotFound", err)
	}
	// Versions are never reused: a writer holding v2 cannot overwrite a new alice.
	v3, err := s.Put(ctx, alice, []byte("three"), 0, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if v3 == v1 || v3 == v2 {
		t.Fatalf("version %d reused", v3)
	}
	if _, err := s.Put(ctx, alice, []byte("x"), v2, time.Time{}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("ABA write: err = %v, want store.ErrConflict", err)
	}
	if e, _ := s.Get(ctx, bob); string(e.Data) != "b" {
		t.Fatalf("bob = %q", e.Data)
	}
}

// contractInvalidKeys: every operation refuses a key Validate refuses.
func contractInvalidKeys(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, k := range []store.Key{"", "a b", "a{b}", "\x00", store.Key(strings.Repeat("k", store.MaxKeyLen+1))} {
		if _, err := s.Get(ctx, k); !errors.Is(err, store.ErrInvalidKey) {
			t.Fatalf("Get %q: err = %v, want store.ErrInvalidKey", k, err)
		}
		if _, err := s.Put(ctx, k, []byte("x"), store.AnyVersion, time.Time{}); !errors.Is(err, store.ErrInvalidKey) {
			t.Fatalf("Put %q: err = %v, want store.ErrInvalidKey", k, err)
		}
		if err := s.Delete(ctx, k, store.AnyVersion); !errors.Is(err, store.ErrInvalidKey) {
			t.Fatalf("Delete %q: err = %v, want store.ErrInvalidKey", k, err)
		}
	}
}

// contractData: empty and binary data survive as they are.
func contractData(t *testing.T, s store.Store, bob store.Key) {
	ctx := context.Background()
	for _, data := range [][]byte{{}, {0, 0xff, '\r', '\n', 0}} {
		v, err := s.Put(ctx, bob, data, store.AnyVersion, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if e, err := s.Get(ctx, bob); err != nil || string(e.Data) != string(data) || e.Version != v {
			t.Fatalf("Get = %q v%d, %v; want %q v%d", e.Data, e.Version, err, data, v)
		}
	}
}

// keysAndSizes: keys of different names, namespaces and parts are distinct
// records, whatever bytes the parts hold ("/", "#", ":", a leading space); the
// longest valid key is a key like any other; records of several kilobytes (a
// session with credentials) come back whole.
func keysAndSizes(t *testing.T, s store.Store) {
	ctx := context.Background()
	var keys []store.Key
	for _, ns := range []string{"", "profile:work", "a/b:c"} {
		for _, name := range []string{"s", "u", "d", "dl", "i", "p", "x"} {
			for _, u := range []string{"alice", " device alice", "a/b", "a#1#0", "x:y", ""} {
				keys = append(keys, store.Join(name, "p", "c", u).In(ns))
			}
		}
	}
	keys = append(keys, store.Join("s", "us-east-1:pool", "", ""), store.Join("s", "p/c", "alice"), store.Join("s", "p", "c/alice"),
		store.Key(strings.Repeat("k", store.MaxKeyLen)))
	big := []byte(strings.Repeat("0123456789abcdef", 300))
	want := func(i int) []byte { return append([]byte(string(keys[i])+"="), big[:(i*137)%len(big)]...) }
	for i, k := range keys {
		if _, err := s.Put(ctx, k, want(i), store.AnyVersion, time.Time{}); err != nil {
			t.Fatalf("Put %s: %v", k, err)
		}
	}
	for i, k := range keys {
		e, err := s.Get(ctx, k)
		if err != nil || string(e.Data) != string(want(i)) {
			t.Fatalf("Get %s = %d bytes, %v; want its own %d bytes", k, len(e.Data), err, len(want(i)))
		}
	}
	dev := store.Join("d", "p", "c", "alice")
	if err := s.Delete(ctx, dev, store.AnyVersion); err != nil {
		t.Fatal(err)
	}
	for _, k := range []store.Key{store.Join("s", "p", "c", "alice"), store.Join("d", "p", "c", "alice").In("profile:work")} {
		if _, err := s.Get(ctx, k); err != nil {
			t.Fatalf("deleting %s touched %s: %v", dev, k, err)
		}
	}
}

func concurrentCAS(t *testing.T, s store.Store) {
	// Many writers race from the same version: exactly one may win each round.
	ctx := context.Background()
	k := store.Join("s", "p", "c", "u")
	v, err := s.Put(ctx, k, []byte("0"), 0, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Put(ctx, k, []byte("w"), v, time.Time{})
			switch {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, store.ErrConflict):
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d writers won the same CAS, want 1", wins.Load())
	}
}

func lockerExcludes(t *testing.T, s store.Store) {
	k := store.Join("s", "p", "c", "u")
	other := store.Join("s", "p", "c", "v")
	l := s.(store.Locker)
	ctx := context.Background()
	unlock, err := l.Lock(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	// Another user's lock is independent.
	u2, err := l.Lock(ctx, other)
	if err != nil {
		t.Fatalf("other key blocked: %v", err)
	}
	u2()
	// The same key waits until the context gives up.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := l.Lock(short, k); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second Lock of a held key: err = %v, want deadline", err)
	}
	got := make(chan error, 1)
	go func() {
		u, err := l.Lock(ctx, k)
		if err == nil {
			u()
		}
		got <- err
	}()
	unlock()
	unlock() // idempotent
	if err := <-got; err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
}

// namespaced: owners sharing one backing store through Namespaced keep their
// own records under the same keys, and locks stay per namespace.
func namespaced(t *testing.T, base store.Store) {
	ctx := context.Background()
	k := store.Join("s", "p", "c", "alice")
	work, home := store.Namespaced(base, "profile:work"), store.Namespaced(base, "profile:home")
	if store.Namespaced(base, "") != base {
		t.Fatal("the empty namespace is not the store itself")
	}
	namespacedOwners(t, []store.Store{base, work, home}, k)
	// The namespace is the key's, as the backing store sees it.
	if e, err := base.Get(ctx, k.In("profile:work")); err != nil || string(e.Data) != "1" {
		t.Fatalf("work's record in the base store: %q, %v", e.Data, err)
	}
	// Nested namespaces nest.
	if _, err := store.Namespaced(work, "x").Put(ctx, k, []byte("nested"), 0, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if e, err := base.Get(ctx, k.In("x").In("profile:work")); err != nil || string(e.Data) != "nested" {
		t.Fatalf("nested record: %q, %v", e.Data, err)
	}
	if err := work.Delete(ctx, k, store.AnyVersion); err != nil {
		t.Fatal(err)
	}
	if _, err := home.Get(ctx, k); err != nil {
		t.Fatalf("deleting work's session touched home's: %v", err)
	}
	namespacedLocks(t, base, work, home, k)
}

// namespacedOwners: each of stores keeps its own records under the same keys.
func namespacedOwners(t *testing.T, stores []store.Store, k store.Key) {
	ctx := context.Background()
	for i, s := range stores {
		if _, err := s.Put(ctx, k, []byte{byte('0' + i)}, 0, time.Time{}); err != nil {
			t.Fatalf("store %d: %v", i, err)
		}
		if _, err := s.Put(ctx, store.Join("u", "p", "c"), []byte{byte('a' + i)}, store.AnyVersion, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range stores {
		if e, err := s.Get(ctx, k); err != nil || string(e.Data) != string(rune('0'+i)) {
			t.Fatalf("store %d: Get = %q, %v", i, e.Data, err)
		}
		if e, err := s.Get(ctx, store.Join("u", "p", "c")); err != nil || string(e.Data) != string(rune('a'+i)) {
			t.Fatalf("store %d: second record = %q, %v", i, e.Data, err)
		}
	}
}

// namespacedLocks: store.Locker survives the wrapper, per namespace, and only
// for a store that has it.
func namespacedLocks(t *testing.T, base, work, home store.Store, k store.Key) {
	ctx := context.Background()
	wl, ok := work.(store.Locker)
	if !ok {
		t.Fatal("store.Namespaced dropped store.Locker")
	}
	unlock, err := wl.Lock(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	u2, err := home.(store.Locker).Lock(ctx, k)
	if err != nil {
		t.Fatalf("home's lock waits on work's: %v", err)
	}
	u2()
	if _, ok := store.Namespaced(plainStore{base}, "n").(store.Locker); ok {
		t.Fatal("Namespaced of a store without Locker is a Locker")
	}
}

// SharedInstances checks that two Stores over one backing store (two
// processes on a file, two replicas on a Redis) each see the other's writes at k,
// and that neither can overwrite what it has not read.
func SharedInstances(t *testing.T, a, b store.Store, k store.Key) {
	t.Helper()
	ctx := context.Background()
	v, err := a.Put(ctx, k, []byte("from a"), 0, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := b.Get(ctx, k)
	if err != nil || string(e.Data) != "from a" || e.Version != v {
		t.Fatalf("b sees %q v%d, %v", e.Data, e.Version, err)
	}
	if _, err := b.Put(ctx, k, []byte("from b"), v, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Put(ctx, k, []byte("stale a"), v, time.Time{}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a's stale write: %v", err)
	}
}

// expiryBasics: what holds of expiry on any clock near the system's: a record
// written with an expiry already past is absent at once (to Get, to a write that
// needs the key absent, to a write that names its version, to Delete), one with a
// far expiry lives, and each write sets the expiry anew.
func expiryBasics(t *testing.T, s store.Store) {
	ctx := context.Background()
	k := store.Join("s", "p", "c", "expiring")
	past, far := time.Now().Add(-time.Hour), time.Now().Add(10*365*24*time.Hour)
	v1, err := s.Put(ctx, k, []byte("born dead"), 0, past)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, k); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get of a record whose expiry has passed: err = %v, want store.ErrNotFound", err)
	}
	if _, err := s.Put(ctx, k, []byte("x"), v1, time.Time{}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Put naming an expired record's version: err = %v, want store.ErrConflict", err)
	}
	if err := s.Delete(ctx, k, v1); err != nil {
		t.Fatalf("Delete of an expired record: %v", err)
	}
	v2, err := s.Put(ctx, k, []byte("far"), 0, far)
	if err != nil {
		t.Fatalf("Put over an expired record with version 0: %v", err)
	}
	if v2 == v1 {
		t.Fatalf("version %d reused after expiry", v2)
	}
	if e, err := s.Get(ctx, k); err != nil || string(e.Data) != "far" || e.Version != v2 {
		t.Fatalf("Get = %q v%d, %v; want far v%d", e.Data, e.Version, err, v2)
	}
	// A write with an expiry past ends a live record at once.
	if _, err := s.Put(ctx, k, []byte("end"), v2, past); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, k); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get after a write that expired the record: err = %v", err)
	}
	// The namespaced view passes the expiry on.
	ns := store.Namespaced(s, "n")
	if _, err := ns.Put(ctx, k, []byte("x"), 0, past); err != nil {
		t.Fatal(err)
	}
	if _, err := ns.Get(ctx, k); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Namespaced dropped the expiry: err = %v", err)
	}
}

// ExpiryOptions tell Expiry how to watch a backend's expiries.
type ExpiryOptions struct {
	// Clock, when set, is the clock every store from open reads: Expiry moves it
	// past expiries and checks that records end exactly then. Nil for backends
	// whose records expire on a clock of their own (Redis: the server's).
	Clock *clock.Fake
	// Remaining, when set, reads what the backend holds for k's lifetime the way
	// Redis's PTTL answers: the time left, -1 for a record without an expiry, -2
	// for none at all (not even an expired record awaiting removal). Redis reads
	// PTTL, DynamoDB the TTL attribute.
	Remaining func(t *testing.T, k store.Key) time.Duration
	// Granularity is how much later than asked a backend may end a record
	// (DynamoDB counts in seconds: 1s); zero is 1ms.
	Granularity time.Duration
}

// Expiry is the expiry contract on a fresh store from open: a record ends at its
// expiry and not before, a rewrite sets the expiry anew (none: permanent), a
// version is not reused after its record expired, and Delete leaves nothing of the
// record behind.
func Expiry(t *testing.T, open func(t *testing.T) store.Store, opts ExpiryOptions) {
	if opts.Clock == nil && opts.Remaining == nil {
		t.Fatal("storetest.Expiry needs a Clock or Remaining")
	}
	x := &expiry{t: t, s: open(t), opts: opts, k: store.Join("s", "p", "c", "ttl"), gran: opts.Granularity, now: time.Now}
	if x.gran <= 0 {
		x.gran = time.Millisecond
	}
	if opts.Clock != nil {
		x.now = opts.Clock.Now
	}
	v := x.endsAtExpiry()
	v = x.rewrites(v)
	x.deletes(v)
}

// expiry is one run of Expiry on one record, k.
type expiry struct {
	t    *testing.T
	s    store.Store
	opts ExpiryOptions
	k    store.Key
	gran time.Duration
	now  func() time.Time
}

// remaining checks the backend's lifetime of k (when it can be read) is within
// [lo, hi]; want says what was done to k.
func (x *expiry) remaining(want string, lo, hi time.Duration) {
	x.t.Helper()
	if x.opts.Remaining == nil {
		return
	}
	got := x.opts.Remaining(x.t, x.k)
	if got < lo || got > hi {
		x.t.Fatalf("%s: remaining lifetime %v, want within [%v, %v]", want, got, lo, hi)
	}
}

// expiryLife is how long endsAtExpiry's record lives.
const expiryLife = 10 * time.Second

// endsAtExpiry writes k to live expiryLife; on a clock, it lives until then and
// not after, its version is not reused, and it is written anew. It returns k's
// version.
func (x *expiry) endsAtExpiry() uint64 {
	t, s, ctx, k := x.t, x.s, context.Background(), x.k
	v1, err := s.Put(ctx, k, []byte("ten seconds"), 0, x.now().Add(expiryLife))
	if err != nil {
		t.Fatal(err)
	}
	x.remaining("written to live 10s", expiryLife-2*time.Second, expiryLife+x.gran)
	if x.opts.Clock == nil {
		return v1
	}
	x.opts.Clock.Advance(expiryLife - time.Second)
	if e, err := s.Get(ctx, k); err != nil || e.Version != v1 {
		t.Fatalf("a second before its expiry: Get = v%d, %v", e.Version, err)
	}
	x.opts.Clock.Advance(time.Second + x.gran)
	if _, err := s.Get(ctx, k); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("past its expiry: Get err = %v, want store.ErrNotFound", err)
	}
	if _, err := s.Put(ctx, k, []byte("x"), v1, time.Time{}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("writing at an expired record's version: err = %v, want store.ErrConflict", err)
	}
	v2, err := s.Put(ctx, k, []byte("again"), 0, x.now().Add(expiryLife))
	if err != nil || v2 == v1 {
		t.Fatalf("writing over an expired record: v%d (expired v%d), %v", v2, v1, err)
	}
	return v2
}

// rewrites: a rewrite without an expiry is permanent, one with a shorter
// expiry shortens it. It returns k's version.
func (x *expiry) rewrites(v1 uint64) uint64 {
	t, s, ctx, k := x.t, x.s, context.Background(), x.k
	v3, err := s.Put(ctx, k, []byte("forever"), v1, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	x.remaining("rewritten without an expiry", -1, -1)
	if x.opts.Clock != nil {
		x.opts.Clock.Advance(1000 * time.Hour)
		if e, err := s.Get(ctx, k); err != nil || e.Version != v3 {
			t.Fatalf("a permanent record after 1000h: Get = v%d, %v", e.Version, err)
		}
	}
	v4, err := s.Put(ctx, k, []byte("short"), v3, x.now().Add(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	x.remaining("rewritten to live 3s", time.Second, 3*time.Second+x.gran)
	if e, err := s.Get(ctx, k); err != nil || string(e.Data) != "short" || e.Version != v4 {
		t.Fatalf("Get = %q v%d, %v", e.Data, e.Version, err)
	}
	return v4
}

// deletes: Delete leaves nothing behind, of a live record or (on a clock) of
// an expired one awaiting removal.
func (x *expiry) deletes(v4 uint64) {
	t, s, ctx, k := x.t, x.s, context.Background(), x.k
	if err := s.Delete(ctx, k, v4); err != nil {
		t.Fatal(err)
	}
	x.remaining("deleted", -2, -2)
	if x.opts.Clock == nil {
		return
	}
	if _, err := s.Put(ctx, k, []byte("x"), 0, x.now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	x.opts.Clock.Advance(time.Second + x.gran)
	if err := s.Delete(ctx, k, store.AnyVersion); err != nil {
		t.Fatal(err)
	}
	x.remaining("an expired record deleted", -2, -2)
}
