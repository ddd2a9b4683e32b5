// Package layout holds what the store backends share about how keys are written
// down: the percent-escaping of key parts, and the mapping between typed keys and
// the untyped layout of release 1, in which every record was a (pool, client, user)
// triple and its kind lived in conventions inside those fields.
//
// It speaks kind names (store.Kind.String) rather than store.Kind, so that the store
// package itself can use it without an import cycle.
package layout

import "strings"

// Kind names, as store.Kind.String returns them.
const (
	Session     = "session"
	CurrentUser = "current-user"
	Device      = "device"
	DeviceLogin = "device-login"
	IdentityID  = "identity-id"
	Profile     = "profile"
	HostedUI    = "hosted-ui"
)

// The conventions of release 1 (commit 2843cba): session/ prefixed device and
// device-login records' usernames, cmd/cogauth prefixed profile and hosted-UI
// records', the current user had an empty username, identity/ kept identity IDs
// under the identity pool's ID (which, unlike a user pool's, holds a ':') and the
// guest identity under a client and user of its own.
const (
	legacyDevice      = " device "
	legacyDeviceLogin = " device-login "
	legacyProfile     = " profile "
	legacyHostedUI    = " hosted-ui "
	legacyGuestClient = "cogauth-identity:unauthenticated"
	legacyGuestUser   = "guest"
)

// Classify returns the kind and typed fields of a record that release 1 stored as
// (pool, client, user).
func Classify(pool, client, user string) (kind, p, c, u string) {
	switch {
	case client == legacyGuestClient && user == legacyGuestUser:
		return IdentityID, pool, "", ""
	case strings.Contains(pool, ":"):
		return IdentityID, pool, client, user
	case user == "":
		return CurrentUser, pool, client, ""
	case strings.HasPrefix(user, legacyDeviceLogin):
		return DeviceLogin, pool, client, user[len(legacyDeviceLogin):]
	case strings.HasPrefix(user, legacyDevice):
		return Device, pool, client, user[len(legacyDevice):]
	case strings.HasPrefix(user, legacyProfile):
		return Profile, pool, client, user[len(legacyProfile):]
	case strings.HasPrefix(user, legacyHostedUI):
		return HostedUI, pool, client, user[len(legacyHostedUI):]
	}
	return Session, pool, client, user
}

// Legacy returns the (pool, client, user) under which release 1 stored a record of
// kind with the given typed fields, and whether release 1 could have stored it at
// all (it had no namespaces; callers check that themselves). Legacy and Classify
// are inverses on every triple Legacy returns.
func Legacy(kind, pool, client, user string) (p, c, u string, ok bool) {
	p, c, u = pool, client, user
	switch kind {
	case Session, CurrentUser:
	case Device:
		u = legacyDevice + user
	case DeviceLogin:
		u = legacyDeviceLogin + user
	case Profile:
		u = legacyProfile + user
	case HostedUI:
		u = legacyHostedUI + user
	case IdentityID:
		if client == "" && user == "" {
			c, u = legacyGuestClient, legacyGuestUser
		}
	default:
		return "", "", "", false
	}
	// Only what Classify reads back as the same record was expressible.
	if k2, p2, c2, u2 := Classify(p, c, u); k2 != kind || p2 != pool || c2 != client || u2 != user {
		return "", "", "", false
	}
	return p, c, u, true
}

// Escape appends s to b with '%', '/', ':' and every other byte outside
// [A-Za-z0-9._@+=-] written as %XX, so that parts joined with '/' or ':' name exactly
// one key and no part can form a Redis Cluster hash tag ('{' is escaped).
func Escape(b *strings.Builder, s string) {
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
