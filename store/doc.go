// Package store keeps sessions between calls: a Store interface with versioned,
// compare-and-swap writes (versions are never reused, so a writer holding an old
// version cannot overwrite a session deleted and created again) and an optional
// Locker that a session holds across a refresh, so that a rotated refresh token is
// written before anyone else may refresh.
//
// A Store is key -> bytes with an expiry: every Put names when the record ends
// (the zero time: never), and from then on every backend treats it as absent
// (storetest.Expiry is the contract). Records are typed: a Key names a Kind
// (session, current user, device, device login, identity ID, profile, hosted UI),
// a Namespace (independent owners sharing one backing store; see Namespaced) and
// the pool, client and user. Every backend writes the kind down. Stores written by
// release 1, which kept the kind in conventions inside the Key fields, still load
// and move to the typed layout at their first write.
//
// Implementations here: Memory (one process) and File (JSON, atomic rename, 0600 in
// a 0700 directory, flock between processes). Backends with dependencies of their
// own live in packages of their own, so that a program links only what it uses:
// store/keyring (the OS keyring, split across entries where the backend limits
// their size, with a file fallback where no keyring answers) and store/redis
// (many replicas sharing sessions: Lua compare-and-swap, a token lock with a
// watchdog). store/storetest is the contract every implementation runs.
package store
