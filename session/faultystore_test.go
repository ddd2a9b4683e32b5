package session_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/cogauth/cogauth/store"
)

// errStoreDown is what a store that cannot be reached says (go-redis's words).
var errStoreDown = errors.New("redis: client is closed")

// faultyStore wraps a store (a Locker) and fails its operations on demand, as a
// Redis server that went away or a file lock that timed out would. It counts
// every call, so tests can tell the store is not hammered either.
type faultyStore struct {
	store.Store
	failGet, failLock, failPut atomic.Bool
	calls                      atomic.Int64
}

func (s *faultyStore) Get(ctx context.Context, k store.Key) (store.Entry, error) {
	s.calls.Add(1)
	if s.failGet.Load() {
		return store.Entry{}, fmt.Errorf("store: reading %s: %w", k, errStoreDown)
	}
	return s.Store.Get(ctx, k)
}

func (s *faultyStore) Put(ctx context.Context, k store.Key, data []byte, ifVersion uint64, expires time.Time) (uint64, error) {
	s.calls.Add(1)
	if s.failPut.Load() {
		return 0, fmt.Errorf("store: writing %s: %w", k, errStoreDown)
	}
	return s.Store.Put(ctx, k, data, ifVersion, expires)
}

func (s *faultyStore) Lock(ctx context.Context, k store.Key) (func(), error) {
	s.calls.Add(1)
	if s.failLock.Load() {
		return nil, fmt.Errorf("store: lock for %s: %w", k, context.DeadlineExceeded)
	}
	return s.Store.(store.Locker).Lock(ctx, k)
}

// fail turns on the named fault ("get", "lock", "put"); "" clears them all.
func (s *faultyStore) fail(op string) {
	s.failGet.Store(op == "get")
	s.failLock.Store(op == "lock")
	s.failPut.Store(op == "put")
}
