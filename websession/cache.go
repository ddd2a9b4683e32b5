package websession

import (
	"container/list"
	"sync"
)

// cache keeps the live sessions of this replica, most recently used first, up to
// a bound; the least recently used go first. A session that leaves the cache is
// not ended: its next request reads it from the store again.
type cache struct {
	mu    sync.Mutex
	max   int
	ll    *list.List
	items map[string]*list.Element
}

func newCache(max int) *cache {
	return &cache{max: max, ll: list.New(), items: map[string]*list.Element{}}
}

func (c *cache) get(name string) *live {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[name]
	if !ok {
		return nil
	}
	c.ll.MoveToFront(el)
	return el.Value.(*live)
}

// add caches l unless a session of that name is there already, which it returns
// instead (two requests that missed at once share one).
func (c *cache) add(l *live) (*live, []*live) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[l.name]; ok {
		c.ll.MoveToFront(el)
		return el.Value.(*live), nil
	}
	c.items[l.name] = c.ll.PushFront(l)
	var evicted []*live
	for c.ll.Len() > c.max {
		el := c.ll.Back()
		c.ll.Remove(el)
		old := el.Value.(*live)
		delete(c.items, old.name)
		evicted = append(evicted, old)
	}
	return l, evicted
}

// remove drops name if it is l (or any, when l is nil) and returns what it dropped.
func (c *cache) remove(name string, l *live) *live {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[name]
	if !ok || (l != nil && el.Value.(*live) != l) {
		return nil
	}
	c.ll.Remove(el)
	delete(c.items, name)
	return el.Value.(*live)
}

func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
