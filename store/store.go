package store

import (
	"context"
	"fmt"
	"time"

	"github.com/cogauth/cogauth/internal/errkind"
	"github.com/cogauth/cogauth/store/internal/layout"
)

// Kind says what a record is. Every backend writes it down with the key, so records
// of different kinds never share an entry, whatever their other fields hold.
//
// The zero Kind is KindSession, so a Key{Pool, Client, User} names a session.
type Kind uint8

const (
	// KindSession: a user's session (tokens, credentials). User is the service's
	// username.
	KindSession Kind = iota
	// KindCurrentUser: the username of the session a (Pool, Client) uses when no user
	// is named. User is empty. Use CurrentUser and SetCurrentUser.
	KindCurrentUser
	// KindDevice: a user's remembered device. User is the username.
	KindDevice
	// KindDeviceLogin: which username a login name (an e-mail, a phone number, an
	// alias) signed in as, so its remembered device can be found. User is the
	// login name.
	KindDeviceLogin
	// KindIdentityID: an identity pool's identity ID for a login. Pool is the
	// identity pool ID, Client the login provider and User the subject; both are
	// empty for the pool's guest (unauthenticated) identity.
	KindIdentityID
	// KindProfile: which user a CLI profile is signed in as. User is the profile
	// name.
	KindProfile
	// KindHostedUI: the hosted UI domain a user's session came from, as the CLI
	// of releases before the session record kept it (session.ImportInput.Domain).
	// Nothing writes it any more; release 1's records still load under it, and a
	// user's next hosted UI sign-in records the domain in the session itself.
	// User is the username.
	KindHostedUI

	kindCount
)

var kindNames = [kindCount]string{
	KindSession:     layout.Session,
	KindCurrentUser: layout.CurrentUser,
	KindDevice:      layout.Device,
	KindDeviceLogin: layout.DeviceLogin,
	KindIdentityID:  layout.IdentityID,
	KindProfile:     layout.Profile,
	KindHostedUI:    layout.HostedUI,
}

// String returns the kind's name as backends write it ("session", "device", ...).
func (k Kind) String() string {
	if k < kindCount {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ParseKind returns the Kind named s (as Kind.String writes it).
func ParseKind(s string) (Kind, error) {
	for k, n := range kindNames {
		if n == s {
			return Kind(k), nil
		}
	}
	return 0, fmt.Errorf("%w: unknown record kind %q", ErrInvalidKey, s)
}

// Kinds returns every kind, in order.
func Kinds() []Kind {
	ks := make([]Kind, kindCount)
	for i := range ks {
		ks[i] = Kind(i)
	}
	return ks
}

// Key names one record: a Kind, a Namespace, and the user pool, app client and user
// it belongs to.
type Key struct {
	Kind Kind
	// Namespace keeps independent owners of records apart (a CLI profile, a web
	// session), so that each has its own session, current user and devices for the
	// same pool, client and user. Empty is the default namespace. See Namespaced.
	Namespace string
	Pool      string // user pool ID, e.g. "us-east-1_AbC" (KindIdentityID: the identity pool ID)
	Client    string // app client ID (KindIdentityID: the login provider)
	User      string // what the Kind says: a username, login name, profile name or subject
}

// String returns the key without anything secret (keys hold no secrets): the
// fields joined with "/", preceded by the kind unless it is a session and by the
// namespace in brackets when there is one.
func (k Key) String() string {
	s := k.Pool + "/" + k.Client + "/" + k.User
	if k.Kind != KindSession {
		s = k.Kind.String() + ":" + s
	}
	if k.Namespace != "" {
		s = "[" + k.Namespace + "]" + s
	}
	return s
}

// Validate reports whether the key is well formed for its kind: a known kind, a
// pool, and the client and user the kind needs.
func (k Key) Validate() error {
	ok := k.Pool != ""
	switch k.Kind {
	case KindSession, KindDevice, KindDeviceLogin, KindProfile, KindHostedUI:
		ok = ok && k.Client != "" && k.User != ""
	case KindCurrentUser:
		ok = ok && k.Client != "" && k.User == ""
	case KindIdentityID:
		ok = ok && (k.Client == "") == (k.User == "")
	default:
		ok = false
	}
	if !ok {
		return fmt.Errorf("%w: %q", ErrInvalidKey, k.String())
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
	// ErrNotFound: no entry for the key.
	ErrNotFound = errkind.New("store: session not found", false)
	// ErrConflict: the stored version is not the one the writer named.
	ErrConflict = errkind.New("store: version conflict", false)
	// ErrInvalidKey: the key is not well formed for its kind (Key.Validate).
	ErrInvalidKey = errkind.New("store: invalid key", false)
	// ErrCorrupt: stored data cannot be read. Never treat it as "signed out".
	ErrCorrupt = errkind.New("store: corrupt data", false)
)

// CurrentUser returns the username recorded by SetCurrentUser for (pool, client), or
// an error wrapping ErrNotFound.
func CurrentUser(ctx context.Context, s Store, pool, client string) (string, error) {
	e, err := s.Get(ctx, Key{Kind: KindCurrentUser, Pool: pool, Client: client})
	if err != nil {
		return "", err
	}
	if len(e.Data) == 0 {
		return "", fmt.Errorf("%w: empty current-user record for %s/%s", ErrCorrupt, pool, client)
	}
	return string(e.Data), nil
}

// SetCurrentUser records user as the current user of (pool, client); an empty user
// clears the record.
func SetCurrentUser(ctx context.Context, s Store, pool, client, user string) error {
	k := Key{Kind: KindCurrentUser, Pool: pool, Client: client}
	if err := k.Validate(); err != nil {
		return err
	}
	if user == "" {
		return s.Delete(ctx, k, AnyVersion)
	}
	_, err := s.Put(ctx, k, []byte(user), AnyVersion, time.Time{})
	return err
}

// conflict is the ErrConflict of a writer that named version want while the store
// holds have.
func conflict(k Key, have, want uint64) error {
	return fmt.Errorf("%w: %s is at version %d, writer expected %d", ErrConflict, k, have, want)
}

// Namespaced returns s seen through namespace ns: every key s is given has ns as
// its Namespace (ns + "/" + the key's own namespace when it has one), so several
// owners sharing one backing store each keep their own sessions, current user and
// devices. The result implements Locker when s does. An empty ns returns s.
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

func (n namespaced) key(k Key) Key {
	if k.Namespace == "" {
		k.Namespace = n.ns
	} else {
		k.Namespace = n.ns + "/" + k.Namespace
	}
	return k
}

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
