package websession

import (
	"context"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/store"
)

// Store names. Every record of web session N lives in Namespace "ws/N" (the
// caller's namespace, if any, is kept in front of it) of the app client's (Pool,
// Client), as a session-kind record: the Manager's own records (its session,
// its current-user record) under User "<kind>:<hash of user>", and the web layer's under
// User "web". On a server store they are parts of one record (bundle.go), written
// with the session's end as its expiry (lifetime), so a session abandoned in a
// browser leaves nothing behind. The user-to-sessions index (index.go) is
// sharded in buckets of Namespace "wsh" named by an HMAC of the sub; release 2
// kept a user's index under User S of Namespace "wsu" (legacyIndexNS), which is
// still read and moves at the user's next sign-in or sign-out.
const (
	sessionNS     = "ws/"
	metaUser      = "web"
	indexNS       = "wsh"
	legacyIndexNS = "wsu"
)

// lifetime says when a web session's records end: at its idle deadline (the
// last extension plus IdleTimeout) or its absolute one (sign-in plus
// AbsoluteTimeout, which New caps at the refresh token's validity), whichever
// comes first.
type lifetime struct {
	clk            clock.Clock
	idle, absolute time.Duration
}

// end returns when a session with web record m ends; with no readable web
// record (the Manager's first write comes before it), the end of a session
// signed in now, which no session's end is later than.
func (l lifetime) end(m *meta) time.Time {
	if m == nil {
		return l.clk.Now().Add(min(l.idle, l.absolute))
	}
	return earliest(m.seen().Add(l.idle), m.created().Add(l.absolute))
}

// earliest returns the earlier of two expiries, the zero time being none.
func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}

// sealedStore is the Store a web session's Manager sees: every key moved into
// the session's namespace, every value sealed under the session's key, with the
// key's name as additional data (a sealed value moved to another key does not
// open).
//
// On a server store the session's records (the web record, the Manager's
// session and current-user records) are parts of one store record, the web
// record's key (bundle.go): one key, one seal and binary-packed tokens per
// session rather than three keys of JSON, each part with a version of its own.
// Cookie mode keeps them apart (its memory store is packed by the cookie
// format).
type sealedStore struct {
	inner store.Store
	ns    string // "ws/N"
	aead  cipher.AEAD
	// writes counts puts and deletes (cookie mode: a change to write back).
	writes atomic.Int64
	// bundled: the records are parts of one store record; last is that
	// record as this replica last read or wrote it (a write tries it first).
	bundled bool
	life    lifetime
	mu      sync.Mutex
	last    *bundle
}

// lockingStore is a sealedStore over a store that can lock.
type lockingStore struct {
	*sealedStore
	locker store.Locker
}

func (s *lockingStore) Lock(ctx context.Context, k store.Key) (func(), error) {
	mk, err := s.key(k)
	if err != nil {
		return nil, err
	}
	return s.locker.Lock(ctx, mk.store())
}

// newSealedStore returns the sealed view of session name's records, and the
// Store to give its Manager (a Locker when inner is one).
func newSealedStore(inner store.Store, name string, aead cipher.AEAD, life lifetime) (*sealedStore, store.Store) {
	s := &sealedStore{inner: inner, ns: sessionNS + name, aead: aead, bundled: true, life: life}
	if l, ok := inner.(store.Locker); ok {
		return s, &lockingStore{sealedStore: s, locker: l}
	}
	return s, s
}

// recKey names a record of websession's in the store: a session record
// (store.Join("s", Pool, Client, User)) in Namespace, as release 2 named it.
// Its String, release 2's name of the same key, is what the record's seal
// binds, so a sealed value moved to another key does not open.
type recKey struct{ Namespace, Pool, Client, User string }

// store is the key in the store.
func (k recKey) store() store.Key { return store.Join("s", k.Pool, k.Client, k.User).In(k.Namespace) }

func (k recKey) String() string {
	s := k.Pool + "/" + k.Client + "/" + k.User
	if k.Namespace != "" {
		s = "[" + k.Namespace + "]" + s
	}
	return s
}

// validate refuses a key with no pool, client or user.
func (k recKey) validate() error {
	if k.Pool == "" || k.Client == "" || k.User == "" {
		return fmt.Errorf("%w: %q", store.ErrInvalidKey, k.String())
	}
	return nil
}

// managerRecords are the names of the records a Manager keeps (session's keys:
// store.Join(name, pool, client, user)) and the kind names their parts of a web
// session's record carry (release 2's, kept so that its records still open).
var managerRecords = map[string]string{
	"s": "session", "u": "current-user", "d": "device", "dl": "device-login", "i": "identity-id",
}

// key is where a record the web session's Manager names k lives in the session:
// a Manager's record (store.Join(name, pool, client, user), in a namespace or
// not) is a part named after its kind and user of the (pool, client) record, as
// release 2 kept it; any other key is a part of its own, named by its hash.
func (s *sealedStore) key(k store.Key) (recKey, error) {
	if err := k.Validate(); err != nil {
		return recKey{}, err
	}
	if mk, ok := s.managerKey(k); ok {
		return mk, nil
	}
	sum := sha256.Sum256([]byte(k))
	return recordKey("", s.ns, "~", "~", otherRecord+":"+hex.EncodeToString(sum[:16])), nil
}

// otherRecord names the parts of keys that are no Manager record's.
const otherRecord = "key"

// managerKey is key for a key of the Manager's layout.
func (s *sealedStore) managerKey(k store.Key) (recKey, bool) {
	name, rest, _ := strings.Cut(string(k), ":")
	kind, ok := managerRecords[name]
	var outer string
	if ns, path, found := strings.Cut(rest, ":"); found {
		outer, rest = ns, path
	}
	parts := strings.Split(rest, "/")
	if !ok || len(parts) != 3 {
		return recKey{}, false
	}
	var fields [4]string
	for i, p := range append(parts, outer) {
		f, err := url.PathUnescape(p)
		if err != nil {
			return recKey{}, false
		}
		fields[i] = f
	}
	pool, client, user := fields[0], fields[1], fields[2]
	if pool == "" {
		return recKey{}, false
	}
	if client == "" || client[0] == '~' {
		// A session's key names a client; records that need none (an identity
		// ID's) get one that no client ID is.
		client = "~" + client
	}
	return recordKey(fields[3], s.ns, pool, client, innerUser(kind, user)), true
}

// innerUser is the User of a Manager's record inside a web session: its kind and
// a hash of its user, so that key names do not list usernames.
func innerUser(kind, user string) string {
	sum := sha256.Sum256([]byte(user))
	return kind + ":" + hex.EncodeToString(sum[:16])
}

// recordKey names a record of a web session's namespace ns.
func recordKey(outer, ns, pool, client, user string) recKey {
	if outer != "" {
		ns = outer + "/" + ns
	}
	return recKey{Namespace: ns, Pool: pool, Client: client, User: user}
}

func (s *sealedStore) Get(ctx context.Context, k store.Key) (store.Entry, error) {
	mk, err := s.key(k)
	if err != nil {
		return store.Entry{}, err
	}
	return s.get(ctx, mk)
}

// Put stores a record of the session. On a server store the record's expiry is
// the session's (lifetime), or expires when that is earlier; in cookie mode the
// records live in this replica's memory as long as the session is cached, and the
// cookies carry the timeouts.
func (s *sealedStore) Put(ctx context.Context, k store.Key, data []byte, ifVersion uint64, expires time.Time) (uint64, error) {
	mk, err := s.key(k)
	if err != nil {
		return 0, err
	}
	return s.putUntil(ctx, mk, data, ifVersion, expires)
}

func (s *sealedStore) Delete(ctx context.Context, k store.Key, ifVersion uint64) error {
	mk, err := s.key(k)
	if err != nil {
		return err
	}
	s.writes.Add(1)
	if s.bundled {
		_, err := s.update(ctx, mk, nil, ifVersion, true, time.Time{})
		return err
	}
	return s.inner.Delete(ctx, mk.store(), ifVersion)
}

// get and put work on keys already in the namespace.
func (s *sealedStore) get(ctx context.Context, mk recKey) (store.Entry, error) {
	if s.bundled {
		return s.getPart(ctx, mk)
	}
	e, err := s.inner.Get(ctx, mk.store())
	if err != nil {
		return e, err
	}
	plain, err := unseal(s.aead, e.Data, []byte(mk.String()))
	if err != nil {
		return store.Entry{}, fmt.Errorf("%w: %w", store.ErrCorrupt, err)
	}
	e.Data = plain
	return e, nil
}

func (s *sealedStore) put(ctx context.Context, mk recKey, data []byte, ifVersion uint64) (uint64, error) {
	return s.putUntil(ctx, mk, data, ifVersion, time.Time{})
}

func (s *sealedStore) putUntil(ctx context.Context, mk recKey, data []byte, ifVersion uint64, expires time.Time) (uint64, error) {
	if s.bundled {
		s.writes.Add(1)
		return s.update(ctx, mk, data, ifVersion, false, expires)
	}
	sealed, err := seal(s.aead, data, []byte(mk.String()))
	if err != nil {
		return 0, err
	}
	s.writes.Add(1)
	return s.inner.Put(ctx, mk.store(), sealed, ifVersion, time.Time{})
}

// metaKey is the web record's key. Its User names no kind, so no record of the
// Manager's can be it.
func (s *sealedStore) metaKey(pool, client string) recKey {
	return recordKey("", s.ns, pool, client, metaUser)
}

// meta is the web layer's record of a session: who, since when, last seen.
type meta struct {
	V       int    `json:"v"`
	User    string `json:"u"` // the service's username (the Manager's key)
	Sub     string `json:"s"` // the user's sub (the index's key)
	Created int64  `json:"c"` // unix nanoseconds, local clock: the absolute timeout counts from here
	Seen    int64  `json:"l"` // unix nanoseconds: the idle timeout counts from here
	// OriginJTI is the sign-in's origin_jti, which every token of the session
	// carries, and AccessLife its access tokens' lifetime in seconds: what a
	// sign-out's revocation names and how long it is kept. Absent in records of
	// release 2.
	OriginJTI  string `json:"o,omitempty"`
	AccessLife int64  `json:"t,omitempty"`
}

func (m *meta) created() time.Time { return time.Unix(0, m.Created) }
func (m *meta) seen() time.Time    { return time.Unix(0, m.Seen) }

func decodeMeta(b []byte) (*meta, error) {
	var m meta
	if err := json.Unmarshal(b, &m); err != nil || m.V != 1 || m.User == "" || m.Created == 0 || m.Seen == 0 {
		return nil, fmt.Errorf("%w: unreadable web session record", store.ErrCorrupt)
	}
	return &m, nil
}

// validSub bounds what goes into a store key from a token's sub.
func validSub(s string) bool {
	return s != "" && len(s) <= 128 && !strings.ContainsFunc(s, func(r rune) bool { return r < 0x21 || r == 0x7f })
}
