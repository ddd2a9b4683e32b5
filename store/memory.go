package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/cogauth/cogauth/clock"
)

// Memory is a Store held in process memory; the zero value is ready to use. It also
// implements Locker, so several Managers in one process sharing it refresh a session
// one at a time. Expired records are absent at once and their memory is reclaimed
// by later writes (a sweep each time the store has doubled since the last one).
type Memory struct {
	// Clock tells when records expire; the system clock when nil. Set it before
	// first use.
	Clock clock.Clock

	mu      sync.RWMutex
	seq     uint64
	entries map[Key]memEntry
	swept   int // len(entries) after the last sweep

	lmu   sync.Mutex
	locks map[Key]*keyLock
}

// keyLock is a per-key mutex that can be waited on with a context; it is dropped
// from the map when nobody holds or waits for it, so idle users cost nothing.
type keyLock struct {
	ch   chan struct{} // holds one token while locked
	refs int
}

type memEntry struct {
	Entry
	expires time.Time
}

// NewMemory returns an empty memory store.
func NewMemory() *Memory { return &Memory{} }

func (m *Memory) now() time.Time {
	if m.Clock == nil {
		return time.Now()
	}
	return m.Clock.Now()
}

// sweep drops expired entries when the map has doubled since the last sweep, so
// that the cost is amortised over the writes. The caller holds mu.
func (m *Memory) sweep(now time.Time) {
	if len(m.entries) < 2*max(m.swept, 64) {
		return
	}
	for k, e := range m.entries {
		if Expired(e.expires, now) {
			delete(m.entries, k)
		}
	}
	m.swept = len(m.entries)
}

// Get implements Store.
func (m *Memory) Get(ctx context.Context, k Key) (Entry, error) {
	if err := k.Validate(); err != nil {
		return Entry{}, err
	}
	now := m.now()
	m.mu.RLock()
	e, ok := m.entries[k]
	m.mu.RUnlock()
	if !ok || Expired(e.expires, now) {
		return Entry{}, fmt.Errorf("%w: %s", ErrNotFound, k)
	}
	// Callers own what they get: a copy keeps them from editing the stored bytes.
	e.Data = append([]byte(nil), e.Data...)
	return e.Entry, nil
}

// live returns k's entry if it has not expired at now. The caller holds mu.
func (m *Memory) live(k Key, now time.Time) (memEntry, bool) {
	e, ok := m.entries[k]
	if !ok || Expired(e.expires, now) {
		return memEntry{}, false
	}
	return e, true
}

// Put implements Store.
func (m *Memory) Put(ctx context.Context, k Key, data []byte, ifVersion uint64, expires time.Time) (uint64, error) {
	if err := k.Validate(); err != nil {
		return 0, err
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	e, _ := m.live(k, now)
	if ifVersion != AnyVersion && e.Version != ifVersion {
		return 0, conflict(k, e.Version, ifVersion)
	}
	if m.entries == nil {
		m.entries = make(map[Key]memEntry)
	}
	m.seq++
	m.entries[k] = memEntry{Entry: Entry{Data: append([]byte(nil), data...), Version: m.seq}, expires: expires}
	m.sweep(now)
	return m.seq, nil
}

// Delete implements Store.
func (m *Memory) Delete(ctx context.Context, k Key, ifVersion uint64) error {
	if err := k.Validate(); err != nil {
		return err
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.live(k, now)
	if !ok {
		delete(m.entries, k)
		return nil
	}
	if ifVersion != AnyVersion && e.Version != ifVersion {
		return conflict(k, e.Version, ifVersion)
	}
	delete(m.entries, k)
	return nil
}

// Lock implements Locker.
func (m *Memory) Lock(ctx context.Context, k Key) (func(), error) {
	if err := k.Validate(); err != nil {
		return nil, err
	}
	m.lmu.Lock()
	if m.locks == nil {
		m.locks = make(map[Key]*keyLock)
	}
	l := m.locks[k]
	if l == nil {
		l = &keyLock{ch: make(chan struct{}, 1)}
		m.locks[k] = l
	}
	l.refs++
	m.lmu.Unlock()

	release := func() {
		m.lmu.Lock()
		l.refs--
		if l.refs == 0 {
			delete(m.locks, k)
		}
		m.lmu.Unlock()
	}
	select {
	case l.ch <- struct{}{}:
	case <-ctx.Done():
		release()
		return nil, fmt.Errorf("store: lock %s: %w", k, ctx.Err())
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			<-l.ch
			release()
		})
	}, nil
}
