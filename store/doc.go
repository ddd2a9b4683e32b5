// Package store keeps records between calls: a Store is key -> bytes with an
// expiry, with versioned, compare-and-swap writes (versions are never reused, so
// a writer holding an old version cannot overwrite a record deleted and created
// again), and an optional Locker that a holder takes across a change that must
// not run twice at once (a session's refresh, so that a rotated refresh token is
// written before anyone else may refresh).
//
// Keys are the callers' (Key, built with Join): the store knows nothing of what
// its records are. Every Put names when the record ends (the zero time: never),
// and from then on every backend treats it as absent (storetest.Expiry is the
// contract). Namespaced keeps independent owners of one backing store apart.
//
// Implementations here: Memory (one process) and File (JSON, atomic rename, 0600 in
// a 0700 directory, flock between processes). Backends with dependencies of their
// own live in packages of their own, so that a program links only what it uses:
// store/keyring (the OS keyring, split across entries where the backend limits
// their size, with a file fallback where no keyring answers), store/redis (many
// replicas sharing records: Lua compare-and-swap, a lock with a watchdog) and
// store/dynamodb. store/storetest is the contract every implementation runs.
// Stores written by earlier releases open as they are (MIGRATING.md).
package store
