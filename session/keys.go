package session

import (
	"context"
	"fmt"
	"time"

	"github.com/cogauth/cogauth/store"
)

// The records a Manager keeps in its Store, by name: each key is
// store.Join(name, pool ID, app client ID, user), the names and layout release 2
// gave the same records, so stores shared with release 2 keep working.
//
//	"s"   a user's session (the record codec's bytes); user: the username
//	"u"   the username of the session a (pool, client) uses when none is bound; user: empty
//	"d"   a user's remembered device (device.go); user: the username
//	"dl"  the username a login (alias, e-mail) signed in as; user: the login
const (
	recSession     = "s"
	recCurrentUser = "u"
	recDevice      = "d"
	recDeviceLogin = "dl"
)

// sessionKey names one user's session record: where a Manager bound to that user
// reads and writes.
type sessionKey struct{ Pool, Client, User string }

// store is the record's key in the Store.
func (k sessionKey) store() store.Key { return SessionKey(k.Pool, k.Client, k.User) }

func (k sessionKey) String() string { return string(k.store()) }

// SessionKey returns the key under which a Manager of (pool, client) keeps
// user's session in its Store: for tools and for programs that move sessions
// between stores.
func SessionKey(pool, client, user string) store.Key {
	return store.Join(recSession, pool, client, user)
}

// DeviceKey returns the key under which a Manager of (pool, client) keeps user's
// remembered device.
func DeviceKey(pool, client, user string) store.Key {
	return store.Join(recDevice, pool, client, user)
}

func currentUserKey(pool, client string) store.Key {
	return store.Join(recCurrentUser, pool, client, "")
}

func deviceLoginKey(pool, client, login string) store.Key {
	return store.Join(recDeviceLogin, pool, client, login)
}

// currentUser returns the username recorded by setCurrentUser for (pool,
// client), or an error wrapping store.ErrNotFound.
func currentUser(ctx context.Context, s store.Store, pool, client string) (string, error) {
	e, err := s.Get(ctx, currentUserKey(pool, client))
	if err != nil {
		return "", err
	}
	if len(e.Data) == 0 {
		return "", fmt.Errorf("%w: empty current-user record for %s/%s", store.ErrCorrupt, pool, client)
	}
	return string(e.Data), nil
}

// setCurrentUser records user as the current user of (pool, client); an empty
// user clears the record.
func setCurrentUser(ctx context.Context, s store.Store, pool, client, user string) error {
	k := currentUserKey(pool, client)
	if user == "" {
		return s.Delete(ctx, k, store.AnyVersion)
	}
	_, err := s.Put(ctx, k, []byte(user), store.AnyVersion, time.Time{})
	return err
}
