package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cogauth/cogauth/internal/errkind"
	"github.com/cogauth/cogauth/store/internal/migrate"
)

// Key names one record. What a record is, and how its key is made, is the
// caller's: the store keeps key -> bytes and knows nothing of sessions, users or
// devices. Build keys with Join, so that keys made of untrusted parts never
// collide. A valid key (Validate) is 1 to MaxKeyLen bytes of [A-Za-z0-9._@+=-]
// and '%', ':' and '/', the bytes Join writes: no backend needs to escape it, and
// none can form a Redis Cluster hash tag.
type Key string

// MaxKeyLen is the longest valid key, in bytes.
const MaxKeyLen = 1024

// Join returns the key named name with the given parts: name, ':' and the parts
// joined with '/', each of name and the parts percent-escaped (every byte outside
// [A-Za-z0-9._@+=-] written as %XX), so that different names or parts never give
// the same key whatever bytes the parts hold. Join("s", "us-east-1_AbC", "web",
// "alice") is "s:us-east-1_AbC/web/alice".
func Join(name string, parts ...string) Key {
	var b strings.Builder
	n := len(name) + 1
	for _, p := range parts {
		n += len(p) + 1
	}
	b.Grow(n)
	migrate.Escape(&b, name)
	b.WriteByte(':')
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('/')
		}
		migrate.Escape(&b, p)
	}
	return Key(b.String())
}

// In returns k in namespace ns: ns, escaped as Join escapes a part, and ':'
// between k's name (up to its first ':') and the rest of it, or in front of a key
// with no ':'. Keys of different namespaces never meet. An empty ns returns k.
func (k Key) In(ns string) Key {
	if ns == "" {
		return k
	}
	var b strings.Builder
	b.Grow(len(k) + len(ns) + 1)
	name, rest, found := strings.Cut(string(k), ":")
	if found {
		b.WriteString(name)
		b.WriteByte(':')
	} else {
		rest = name
	}
	migrate.Escape(&b, ns)
	b.WriteByte(':')
	b.WriteString(rest)
	return Key(b.String())
}

// Validate reports whether k is a valid key: see Key.
func (k Key) Validate() error {
	if len(k) == 0 || len(k) > MaxKeyLen {
		return fmt.Errorf("%w: %d bytes (1 to %d)", ErrInvalidKey, len(k), MaxKeyLen)
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; !migrate.Safe(c) && c != '%' && c != ':' && c != '/' {
			return fmt.Errorf("%w: byte %d is %q", ErrInvalidKey, i, c)
		}
	}
	return nil
}

// Entry is one stored record as the store sees it: opaque bytes plus the version
// that a later Put or Delete must name to replace it.
type Entry struct {
	Data    []byte
	Version uint64
}

// AnyVersion, passed as ifVersion, makes Put and Delete unconditional.
const AnyVersion = ^uint64(0)

// Store keeps records between calls: key -> bytes with an expiry. Implementations
// are safe for concurrent use.
//
// Versions are opaque, never zero for a stored entry, and never reused for a key, so
// a writer holding an old version cannot overwrite a session that was deleted and
// written again in the meantime. (Backends that forget a deleted or expired key
// entirely, Redis and DynamoDB, start its next version from the clock in
// microseconds, so a version comes back only if that clock steps back further
// than the time between the delete and the new write.)
//
// Every write names when the record ends (expires; the zero time: never). From
// then on the record is absent to every read and condition, whenever the backend
// actually removes it (Redis at once, DynamoDB's Time to Live within days, memory
// and files at their next write); an expiry at or before now stores a record that
// is already absent. Each write sets the expiry anew: writing a record again
// without one makes it permanent. Backends keep expiries to the millisecond, or to
// the second where the service counts in seconds (DynamoDB).
type Store interface {
	// Get returns the entry for k, or an error wrapping ErrNotFound.
	Get(ctx context.Context, k Key) (Entry, error)
	// Put stores data for k until expires (zero: no expiry) if the stored version
	// equals ifVersion (0: k must not exist; AnyVersion: whatever is there) and
	// returns the new version. A mismatch is an error wrapping ErrConflict and
	// changes nothing.
	Put(ctx context.Context, k Key, data []byte, ifVersion uint64, expires time.Time) (uint64, error)
	// Delete removes k if its version equals ifVersion (or ifVersion is AnyVersion).
	// Deleting a missing key is not an error; a version mismatch wraps ErrConflict.
	// Nothing of the record stays behind.
	Delete(ctx context.Context, k Key, ifVersion uint64) error
}

// Expired reports whether a record that ends at expires is absent at now.
func Expired(expires, now time.Time) bool { return !expires.IsZero() && !now.Before(expires) }

// Locker is implemented by stores that can hold a session exclusively across a
// refresh, so that two holders (processes, replicas) never spend the same refresh
// token. The lock is advisory and separate from Put's compare-and-swap; a holder
// still writes with Put. unlock is safe to call more than once.
type Locker interface {
	Lock(ctx context.Context, k Key) (unlock func(), err error)
}

var (
	// ErrNotFound: no record for the key.
	ErrNotFound = errkind.New("store: record not found", false)
	// ErrConflict: the stored version is not the one the writer named.
	ErrConflict = errkind.New("store: version conflict", false)
	// ErrInvalidKey: the key is not valid (Key.Validate).
	ErrInvalidKey = errkind.New("store: invalid key", false)
	// ErrCorrupt: stored data cannot be read. Never treat it as "signed out".
	ErrCorrupt = errkind.New("store: corrupt data", false)
)

// conflict is the ErrConflict of a writer that named version want while the store
// holds have.
func conflict(k Key, have, want uint64) error {
	return fmt.Errorf("%w: %s is at version %d, writer expected %d", ErrConflict, k, have, want)
}

// Namespaced returns s seen through namespace ns: every key k it is given is
// k.In(ns) in s, so several owners sharing one backing store (CLI profiles, web
// sessions) each keep their own records under the same keys. The result
// implements Locker when s does. An empty ns returns s.
func Namespaced(s Store, ns string) Store {
	if ns == "" {
		return s
	}
	n := namespaced{s: s, ns: ns}
	if l, ok := s.(Locker); ok {
		return namespacedLocker{n, l}
	}
	return n
}

type namespaced struct {
	s  Store
	ns string
}

func (n namespaced) key(k Key) Key { return k.In(n.ns) }

func (n namespaced) Get(ctx context.Context, k Key) (Entry, error) { return n.s.Get(ctx, n.key(k)) }

func (n namespaced) Put(ctx context.Context, k Key, data []byte, ifVersion uint64, expires time.Time) (uint64, error) {
	return n.s.Put(ctx, n.key(k), data, ifVersion, expires)
}

func (n namespaced) Delete(ctx context.Context, k Key, ifVersion uint64) error {
	return n.s.Delete(ctx, n.key(k), ifVersion)
}

type namespacedLocker struct {
	namespaced
	l Locker
}

func (n namespacedLocker) Lock(ctx context.Context, k Key) (func(), error) {
	return n.l.Lock(ctx, n.key(k))
}
