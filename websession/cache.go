package websession

import (
	"container/list"
	"encoding/binary"
	"sync"
)

// cache keeps the live sessions of this replica, up to a bound. It is split in
// shards by the session's name (an HMAC, so uniformly spread), each with its own
// lock held only for a map lookup, so that requests of different sessions do not
// wait on each other. A hit writes nothing shared but the session's own "used"
// flag; eviction is second chance (CLOCK): the oldest entry goes unless it was
// used since it was last looked at, in which case it goes round again. A session
// that leaves the cache is not ended: its next request reads it from the store
// again.
type cache struct {
	shards []cacheShard
	mask   uint64
}

type cacheShard struct {
	mu    sync.Mutex
	max   int
	ll    *list.List // newest first; the clock hand is at the back
	items map[sessionName]*list.Element
	_     [64]byte // keeps shards' locks on separate cache lines
}

// maxShards bounds the shards; a shard holds at least minShard sessions, so a
// small cache keeps close to an exact order.
const (
	maxShards = 16
	minShard  = 64
)

func newCache(max int) *cache {
	n := 1
	for n < maxShards && max/(n*2) >= minShard {
		n *= 2
	}
	c := &cache{shards: make([]cacheShard, n), mask: uint64(n - 1)}
	for i := range c.shards {
		s := &c.shards[i]
		// The bound split exactly: the first max%n shards take one more.
		s.max = max / n
		if i < max%n {
			s.max++
		}
		s.ll = list.New()
		s.items = map[sessionName]*list.Element{}
	}
	return c
}

func (c *cache) shard(n sessionName) *cacheShard {
	return &c.shards[binary.LittleEndian.Uint64(n[:8])&c.mask]
}

func (c *cache) get(n sessionName) *live {
	s := c.shard(n)
	s.mu.Lock()
	el, ok := s.items[n]
	s.mu.Unlock()
	if !ok {
		return nil
	}
	l := el.Value.(*live)
	if !l.used.Load() {
		l.used.Store(true)
	}
	return l
}

// add caches l unless a session of that name is there already, which it returns
// instead (two requests that missed at once share one), and returns what it
// evicted to make room.
func (c *cache) add(l *live) (*live, []*live) {
	s := c.shard(l.key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.items[l.key]; ok {
		got := el.Value.(*live)
		got.used.Store(true)
		return got, nil
	}
	s.items[l.key] = s.ll.PushFront(l)
	var evicted []*live
	// Each pass clears a used flag, passes over l (new, so not yet used) or
	// evicts, so this ends within two rounds.
	for s.ll.Len() > s.max {
		el := s.ll.Back()
		old := el.Value.(*live)
		if old == l || old.used.Swap(false) {
			s.ll.MoveToFront(el)
			continue
		}
		s.ll.Remove(el)
		delete(s.items, old.key)
		evicted = append(evicted, old)
	}
	return l, evicted
}

// remove drops n if it is l (or any, when l is nil) and returns what it dropped.
func (c *cache) remove(n sessionName, l *live) *live {
	s := c.shard(n)
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.items[n]
	if !ok || (l != nil && el.Value.(*live) != l) {
		return nil
	}
	s.ll.Remove(el)
	delete(s.items, n)
	return el.Value.(*live)
}

// drain empties the cache and returns what it held.
func (c *cache) drain() []*live {
	var out []*live
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		for el := s.ll.Front(); el != nil; el = el.Next() {
			out = append(out, el.Value.(*live))
		}
		s.ll.Init()
		clear(s.items)
		s.mu.Unlock()
	}
	return out
}

func (c *cache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n += s.ll.Len()
		s.mu.Unlock()
	}
	return n
}
