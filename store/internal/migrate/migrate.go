// Package migrate holds every layout that releases 1 and 2 of cogauth wrote and
// turns each into today's, so that the store package and its backends know only
// today's: a record is a caller-chosen key (store.Key, a string) and bytes with an
// expiry.
//
// # Release 2 (b3a3179)
//
// Release 2's store.Key was typed, {Kind, Namespace, Pool, Client, User}, and
// every backend wrote the kind down. Today's callers name their records with
// exactly the string release 2's Redis store used after its prefix, Tag(kind) +
// ":" + [namespace + ":"] + pool + "/" + client + "/" + user, each part
// percent-escaped (Escape), so a Redis shared with release 2 replicas needs no
// move at all. Where another backend spelled the kind out (DynamoDB's partition
// key, the keyring's entry names, "session:" rather than "s:"), Name gives that
// backend release 2's name for today's key, so those stores need no move either.
// Release 2's file format ("cogauth-sessions/2", a kind, namespace, pool, client
// and user per entry) is converted by File. Release 2 kept a version-only
// tombstone for a day after a delete in Redis and DynamoDB, and release 2
// replicas still write them while they share a store with today's (a rolling
// upgrade), so the backends keep reading one as absent and as a floor for the
// next version until it expires.
//
// # Release 1 (2843cba)
//
// Release 1 had no kinds: every record was a (pool, client, user) triple, with
// the kind in conventions inside those fields (Classify), and no namespaces. Its
// file format ("cogauth-sessions/1") is converted by File; its Redis records of
// kinds other than sessions were all under "s:" and its keyring entries were all
// "session:" + the unescaped triple. The Redis store moves such records once,
// when it is opened (package migrateredis: Release1RedisMove tells a release 1
// name from today's, Release1RedisKey is its inverse), so its reads and writes
// know today's names only. An OS keyring cannot be listed, so the keyring store
// still looks a record up under Release1KeyringAccount when today's name holds
// none, and moves it at its first write. A session of release 1 whose username
// release 1 would read as another kind's record (one starting with " device ",
// which no Cognito username does) keeps a Redis key of its own (RedisName), so
// that moving the other kind's record does not take the session with it.
package migrate

import (
	"strings"
)

// Kind names, as release 2's store.Kind.String returned them.
const (
	Session     = "session"
	CurrentUser = "current-user"
	Device      = "device"
	DeviceLogin = "device-login"
	IdentityID  = "identity-id"
	Profile     = "profile"
	HostedUI    = "hosted-ui"
)

// kinds pairs release 2's kind names with the tags its Redis keys began with, the
// names today's callers give their records.
var kinds = [...]struct{ name, tag string }{
	{Session, "s"}, {CurrentUser, "u"}, {Device, "d"}, {DeviceLogin, "dl"},
	{IdentityID, "i"}, {Profile, "p"}, {HostedUI, "h"},
}

// Tag returns the record name release 2's Redis store gave kind, "" for a name
// that is no kind.
func Tag(kind string) string {
	for _, k := range kinds {
		if k.name == kind {
			return k.tag
		}
	}
	return ""
}

func kindOfTag(tag string) string {
	for _, k := range kinds {
		if k.tag == tag {
			return k.name
		}
	}
	return ""
}

// Key returns today's key of the record release 2 kept under the typed key (kind,
// ns, pool, client, user), and whether release 2 could have stored it (a known
// kind with the fields release 2's Key.Validate required).
func Key(kind, ns, pool, client, user string) (string, bool) {
	tag := Tag(kind)
	ok := tag != "" && pool != ""
	switch kind {
	case Session, Device, DeviceLogin, Profile, HostedUI:
		ok = ok && client != "" && user != ""
	case CurrentUser:
		ok = ok && client != "" && user == ""
	case IdentityID:
		ok = ok && (client == "") == (user == "")
	}
	if !ok {
		return "", false
	}
	return join(tag, ns, pool, client, user), true
}

// join writes a key of release 2's layout: tag, the escaped namespace when there
// is one, and the escaped pool, client and user.
func join(tag, ns, pool, client, user string) string {
	var b strings.Builder
	b.Grow(len(tag) + 4 + len(ns) + len(pool) + len(client) + len(user))
	b.WriteString(tag)
	b.WriteByte(':')
	if ns != "" {
		Escape(&b, ns)
		b.WriteByte(':')
	}
	Escape(&b, pool)
	b.WriteByte('/')
	Escape(&b, client)
	b.WriteByte('/')
	Escape(&b, user)
	return b.String()
}

// fields is a key of release 2's layout taken apart.
type fields struct{ kind, ns, pool, client, user string }

// parse takes today's key apart into the typed key release 2 kept the same record
// under; ok is false for a key release 2 could not have written.
func parse(key string) (f fields, ok bool) {
	tag, rest, found := strings.Cut(key, ":")
	if f.kind = kindOfTag(tag); !found || f.kind == "" {
		return fields{}, false
	}
	if ns, path, found := strings.Cut(rest, ":"); found {
		if f.ns, ok = unescape(ns); !ok || f.ns == "" {
			return fields{}, false
		}
		rest = path
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 {
		return fields{}, false
	}
	var ok1, ok2, ok3 bool
	f.pool, ok1 = unescape(parts[0])
	f.client, ok2 = unescape(parts[1])
	f.user, ok3 = unescape(parts[2])
	if !ok1 || !ok2 || !ok3 {
		return fields{}, false
	}
	// Only the one spelling Key writes is release 2's.
	if k, valid := Key(f.kind, f.ns, f.pool, f.client, f.user); !valid || k != key {
		return fields{}, false
	}
	return f, true
}

// Name returns the name under which release 2's DynamoDB and keyring stores kept
// the record of today's key: the kind spelled out ("session:" where Redis had
// "s:"). A key that release 2 could not have written is named "~" + key, which no
// release 2 name starts with, so no two keys share a name.
func Name(key string) string {
	f, ok := parse(key)
	if !ok {
		return "~" + key
	}
	_, rest, _ := strings.Cut(key, ":")
	return f.kind + ":" + rest
}

// RedisName returns the name under which the Redis store keeps the record of
// today's key: the key itself, but for a key named "s" that release 1's names
// could mean another record by (see the package doc: a user release 1 would read
// as another kind's record, or a key release 2 could not have written), which is
// under "sx:".
func RedisName(key string) string {
	rest, ok := strings.CutPrefix(key, "s:")
	if !ok || strings.Contains(rest, ":") {
		return key // release 1's names never hold a second ':'
	}
	if f, ok := parse(key); ok {
		if k, _, _, _ := Classify(f.pool, f.client, f.user); k == Session {
			return key
		}
	}
	return "sx:" + rest
}

// RedisLockName returns the name of the Redis lock of today's key: "l" + the
// key, but "l:" for a session's "s:" (release 1 and 2's name), so replicas of
// every release take the same lock.
func RedisLockName(key string) string {
	if f, ok := parse(key); ok && f.kind == Session {
		return "l" + key[1:]
	}
	return "l" + key
}

// LockID returns what the file and keyring stores hash to name the flock of
// today's key, as release 2 did: pool, client and user (after service, when the
// store has one), preceded by the kind and namespace unless the key is a session
// of the default namespace (release 1's lock names). A key release 2 could not
// have written gets an ID of its own.
func LockID(service, key string) string {
	f, ok := parse(key)
	if !ok {
		return "key\x00" + service + "\x00" + key
	}
	id := f.pool + "\x00" + f.client + "\x00" + f.user
	if service != "" {
		id = service + "\x00" + id
	}
	if f.kind != Session || f.ns != "" {
		id = f.kind + "\x00" + f.ns + "\x00" + id
	}
	return id
}

// Release1Key returns today's key of the record release 1 kept as (pool,
// client, user).
func Release1Key(pool, client, user string) (string, bool) {
	kind, p, c, u := Classify(pool, client, user)
	return Key(kind, "", p, c, u)
}

// Release1RedisKey returns the Redis name (after the prefix) under which
// release 1 may have kept the record of today's key, "" when it could not have
// or kept it under today's name.
func Release1RedisKey(key string) string {
	f, ok := parse(key)
	if !ok || f.ns != "" || f.kind == Session {
		return ""
	}
	p, c, u, ok := Legacy(f.kind, f.pool, f.client, f.user)
	if !ok {
		return ""
	}
	return join("s", "", p, c, u)
}

// Release1KeyringAccount returns the keyring entry under which release 1 may
// have kept the record of today's key, "" when it could not have or kept it
// under today's name. Release 1 wrote "session:" + pool/client/user unescaped;
// pool and client IDs never contain "/" (Cognito restricts them to [\w-]), so
// the name was unambiguous whatever the username held.
func Release1KeyringAccount(key string) string {
	f, ok := parse(key)
	if !ok || f.ns != "" {
		return ""
	}
	p, c, u, ok := Legacy(f.kind, f.pool, f.client, f.user)
	if !ok {
		return ""
	}
	if a := Session + ":" + p + "/" + c + "/" + u; a != Name(key) {
		return a
	}
	return ""
}

// The conventions of release 1: session/ prefixed device and device-login
// records' usernames, cmd/cogauth prefixed profile and hosted-UI records', the
// current user had an empty username, identity/ kept identity IDs under the
// identity pool's ID (which, unlike a user pool's, holds a ':') and the guest
// identity under a client and user of its own.
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
		if Safe(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexdigits[c>>4])
		b.WriteByte(hexdigits[c&0xF])
	}
}

// Safe reports whether Escape keeps c as it is.
func Safe(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '.' || c == '_' || c == '-' || c == '@' || c == '+' || c == '='
}

// unescape undoes Escape; ok is false for anything Escape does not write.
func unescape(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case Safe(c):
			b.WriteByte(c)
		case c == '%' && i+2 < len(s):
			v, ok := unhex(s[i+1], s[i+2])
			if !ok || Safe(v) {
				return "", false
			}
			b.WriteByte(v)
			i += 2
		default:
			return "", false
		}
	}
	return b.String(), true
}

func unhex(a, b byte) (byte, bool) {
	h := func(c byte) (byte, bool) {
		switch {
		case '0' <= c && c <= '9':
			return c - '0', true
		case 'A' <= c && c <= 'F':
			return c - 'A' + 10, true
		}
		return 0, false
	}
	x, ok1 := h(a)
	y, ok2 := h(b)
	return x<<4 | y, ok1 && ok2
}

// Release1RedisMove reads name, a Redis name after the prefix, as release 1's: if
// release 1 kept a record of another kind than a session there (every kind was
// under "s:", Classify tells them apart), it returns today's key of that record
// (its Redis name too, RedisName), the inverse of Release1RedisKey. Sessions,
// namespaced keys and names release 1 could not have written give ok false.
func Release1RedisMove(name string) (key string, ok bool) {
	rest, found := strings.CutPrefix(name, "s:")
	if !found || strings.Contains(rest, ":") {
		return "", false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 {
		return "", false
	}
	var raw [3]string
	for i, p := range parts {
		if raw[i], ok = unescape(p); !ok {
			return "", false
		}
	}
	kind, p, c, u := Classify(raw[0], raw[1], raw[2])
	if kind == Session {
		return "", false
	}
	key, ok = Key(kind, "", p, c, u)
	if !ok || Release1RedisKey(key) != name {
		return "", false
	}
	return key, true
}
