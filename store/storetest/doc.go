// Package storetest is the contract every store.Store implementation keeps, as
// tests: each backend's package runs Run against fresh instances of itself, so
// memory, file, keyring and Redis are held to one definition of Get, Put's
// compare-and-swap, Delete, keys, namespaces and Locker; Expiry is the
// expiry contract, run with the backend's clock or its own view of a record's TTL.
package storetest
