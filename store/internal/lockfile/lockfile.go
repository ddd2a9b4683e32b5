// Package lockfile takes exclusive flock(2) locks on lock files, waiting as long as
// a context allows: the file and keyring stores serialize writers and refresh
// holders across processes with it.
package lockfile

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gofrs/flock"
)

// retry is how often a waiting locker polls flock: the OS gives no way to wait on a
// flock with a deadline, so waiting is polling.
const retry = 10 * time.Millisecond

// Lock takes an exclusive flock on path (created 0600 if missing), waiting as long
// as ctx allows. unlock is safe to call more than once.
func Lock(ctx context.Context, path string) (unlock func(), err error) {
	l := flock.New(path, flock.SetPermissions(0o600))
	ok, err := l.TryLockContext(ctx, retry)
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("store: lock %s: %w", path, err)
	}
	if !ok {
		l.Close()
		return nil, fmt.Errorf("store: lock %s: not acquired", path)
	}
	var once sync.Once
	return func() { once.Do(func() { l.Unlock(); l.Close() }) }, nil
}

// TryLock takes the flock on path if nobody holds it, without waiting; ok is false
// when somebody does.
func TryLock(path string) (unlock func(), ok bool, err error) {
	l := flock.New(path, flock.SetPermissions(0o600))
	ok, err = l.TryLock()
	if err != nil || !ok {
		l.Close()
		if err != nil {
			return nil, false, fmt.Errorf("store: lock %s: %w", path, err)
		}
		return nil, false, nil
	}
	var once sync.Once
	return func() { once.Do(func() { l.Unlock(); l.Close() }) }, true, nil
}
