package store

import (
	"context"
	"errors"
	"fmt"
)

// Key names one session: a user of an app client of a user pool.
//
// A Key whose User is empty names the (Pool, Client)'s current-user record: its data
// is the username of the session a CLI profile uses when no user is named. Use
// CurrentUser and SetCurrentUser rather than reading it directly.
type Key struct {
	Pool   string // user pool ID, e.g. "us-east-1_AbC"
	Client string // app client ID
	User   string // the service's username (the token's username claim)
}

// String returns the key without anything secret (keys hold no secrets).
func (k Key) String() string { return k.Pool + "/" + k.Client + "/" + k.User }

// Validate reports whether the key names a pool and a client.
func (k Key) Validate() error {
	if k.Pool == "" || k.Client == "" {
		return fmt.Errorf("%w: %q", ErrInvalidKey, k.String())
	}
	return nil
}

// Entry is one stored session as the store sees it: opaque bytes plus the version
// that a later Put or Delete must name to replace it.
type Entry struct {
	Data    []byte
	Version uint64
}

// AnyVersion, passed as ifVersion, makes Put and Delete unconditional.
const AnyVersion = ^uint64(0)

// Store keeps sessions between calls. Implementations are safe for concurrent use.
//
// Versions are opaque, never zero for a stored entry, and never reused for a key, so
// a writer holding an old version cannot overwrite a session that was deleted and
// written again in the meantime.
type Store interface {
	// Get returns the entry for k, or an error wrapping ErrNotFound.
	Get(ctx context.Context, k Key) (Entry, error)
	// Put stores data for k if the stored version equals ifVersion (0: k must not
	// exist; AnyVersion: whatever is there) and returns the new version. A mismatch
	// is an error wrapping ErrConflict and changes nothing.
	Put(ctx context.Context, k Key, data []byte, ifVersion uint64) (uint64, error)
	// Delete removes k if its version equals ifVersion (or ifVersion is AnyVersion).
	// Deleting a missing key is not an error; a version mismatch wraps ErrConflict.
	Delete(ctx context.Context, k Key, ifVersion uint64) error
}

// Locker is implemented by stores that can hold a session exclusively across a
// refresh, so that two holders (processes, replicas) never spend the same refresh
// token. The lock is advisory and separate from Put's compare-and-swap; a holder
// still writes with Put. unlock is safe to call more than once.
type Locker interface {
	Lock(ctx context.Context, k Key) (unlock func(), err error)
}

var (
	// ErrNotFound: no entry for the key.
	ErrNotFound = errors.New("store: session not found")
	// ErrConflict: the stored version is not the one the writer named.
	ErrConflict = errors.New("store: version conflict")
	// ErrInvalidKey: the key lacks a pool or client ID.
	ErrInvalidKey = errors.New("store: invalid key")
	// ErrCorrupt: stored data cannot be read. Never treat it as "signed out".
	ErrCorrupt = errors.New("store: corrupt data")
)

// CurrentUser returns the username recorded by SetCurrentUser for (pool, client), or
// an error wrapping ErrNotFound.
func CurrentUser(ctx context.Context, s Store, pool, client string) (string, error) {
	e, err := s.Get(ctx, Key{Pool: pool, Client: client})
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
	k := Key{Pool: pool, Client: client}
	if err := k.Validate(); err != nil {
		return err
	}
	if user == "" {
		return s.Delete(ctx, k, AnyVersion)
	}
	_, err := s.Put(ctx, k, []byte(user), AnyVersion)
	return err
}

func conflict(k Key, have, want uint64) error {
	return fmt.Errorf("%w: %s is at version %d, writer expected %d", ErrConflict, k, have, want)
}
