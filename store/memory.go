package store

import (
	"context"
	"fmt"
	"sync"
)

// Memory is a Store held in process memory; the zero value is ready to use. It also
// implements Locker, so several Managers in one process sharing it refresh a session
// one at a time.
type Memory struct {
	mu      sync.RWMutex
	seq     uint64
	entries map[Key]Entry

	lmu   sync.Mutex
	locks map[Key]*keyLock
}

// keyLock is a per-key mutex that can be waited on with a context; it is dropped
// from the map when nobody holds or waits for it, so idle users cost nothing.
type keyLock struct {
	ch   chan struct{} // holds one token while locked
	refs int
}

// NewMemory returns an empty memory store.
func NewMemory() *Memory { return &Memory{} }

// Get implements Store.
func (m *Memory) Get(ctx context.Context, k Key) (Entry, error) {
	if err := k.Validate(); err != nil {
		return Entry{}, err
	}
	m.mu.RLock()
	e, ok := m.entries[k]
	m.mu.RUnlock()
	if !ok {
		return Entry{}, fmt.Errorf("%w: %s", ErrNotFound, k)
	}
	// Callers own what they get: a copy keeps them from editing the stored bytes.
	e.Data = append([]byte(nil), e.Data...)
	return e, nil
}

// Put implements Store.
func (m *Memory) Put(ctx context.Context, k Key, data []byte, ifVersion uint64) (uint64, error) {
	if err := k.Validate(); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := m.entries[k].Version
	if ifVersion != AnyVersion && cur != ifVersion {
		return 0, conflict(k, cur, ifVersion)
	}
	if m.entries == nil {
		m.entries = make(map[Key]Entry)
	}
	m.seq++
	m.entries[k] = Entry{Data: append([]byte(nil), data...), Version: m.seq}
	return m.seq, nil
}

// Delete implements Store.
func (m *Memory) Delete(ctx context.Context, k Key, ifVersion uint64) error {
	if err := k.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[k]
	if !ok {
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
