// Package migrateredis moves, once, the Redis records that release 1 kept under
// names today's Redis store no longer reads (see package migrate: every kind was
// under "s:"), to their names of today. The Redis store calls Run when it is
// opened; it is a package of its own so that package migrate, which the file
// store imports, links no go-redis.
//
// Run is done once per prefix: the last thing it does is set the marker key
// (prefix + MarkerName), and an opener that finds the marker returns after that
// one GET. Otherwise one opener takes the lock key (prefix + LockName, SET NX PX
// with a random token, extended after every SCAN batch) and migrates; the others
// poll for the marker, and take the lock themselves should its holder die, until
// their context ends, when Run fails (the store is not opened rather than opened
// without records that are still to move). The migrator SCANs prefix + "s:*" with
// COUNT 1000 on every primary (ForEachMaster of a cluster client, ForEachShard of
// a ring) and moves each release 1 record of another kind than a session
// (migrate.Release1RedisMove) in three single-key steps, each pipelined over the
// batch and each on its key's own cluster slot: read the old hash (version,
// data, PTTL) in one script; write the new key with the same version and data, and the TTL that was left,
// only if the new key does not exist (a newer record there wins); delete the old
// key only if it still holds the version read. A crash between any two steps
// loses nothing: the marker is not set, the next opener scans again, finds the
// old key, skips the write the new key already has, and deletes it. The steps are
// idempotent, so a migrator that lost its lock (or two at once) still moves each
// record once.
//
// Release 1 replicas must be stopped before a release 3 replica opens the store:
// a record they write under an old name after the move is not read again.
// Release 2 replicas may keep running (a rolling upgrade): they read and write
// today's names, and the version-only tombstones they leave after a delete are
// read by the store as absent and as the floor for the next version.
//
// An old hash without a valid version, or a key of another type under an old
// name, is left where it is (nothing reads it; it was corrupt before).
package migrateredis

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cogauth/cogauth/store/internal/migrate"
)

const (
	// MarkerName and LockName follow the prefix. The Redis store refuses keys
	// starting with ':', so no record or lock of it has either name.
	MarkerName = ":migrated"
	LockName   = ":migrating"
	// MarkerValue names the layout the store holds once Run is done. Any value
	// counts as done: a later release that sets its own has migrated further.
	MarkerValue = "cogauth-redis/3"

	// LockTTL is how long a dead migrator's lock holds off the others.
	LockTTL = 30 * time.Second
	// scanCount is SCAN's COUNT; maxScanReply bounds what one reply may hold.
	scanCount    = 1000
	maxScanReply = 100 * scanCount
	waitMin      = 10 * time.Millisecond
	waitMax      = 500 * time.Millisecond
	unlockTime   = 5 * time.Second
)

// readScript: KEYS[1] a release 1 record. Returns {version, PTTL} for a
// version-only hash (a tombstone), {version, PTTL, data} for a record, or nil
// when the key is not a hash with a valid version.
var readScript = redis.NewScript(`
if redis.call('TYPE', KEYS[1])['ok'] ~= 'hash' then return nil end
local v = redis.call('HGET', KEYS[1], 'v')
if not v or not string.match(v, '^[1-9][0-9]*$') then return nil end
local d = redis.call('HGET', KEYS[1], 'd')
local ttl = redis.call('PTTL', KEYS[1])
if d then return {v, ttl, d} end
return {v, ttl}
`)

// writeScript: KEYS[1] the new key; ARGV[1] version, ARGV[2] TTL in ms ("-":
// none), ARGV[3] layout ("s" string, "h" hash, "t" tombstone: a hash with a
// version only), ARGV[4] data. Writes only if the key does not exist; 1 if it
// wrote.
var writeScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if ARGV[3] == 's' then
  redis.call('SET', KEYS[1], ARGV[1] .. ':' .. ARGV[4])
elseif ARGV[3] == 'h' then
  redis.call('HSET', KEYS[1], 'v', ARGV[1], 'd', ARGV[4])
else
  redis.call('HSET', KEYS[1], 'v', ARGV[1])
end
if ARGV[2] ~= '-' then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1
`)

// deleteScript: KEYS[1] the old key; ARGV[1] the version read. Deletes the key
// only if it still holds that version.
var deleteScript = redis.NewScript(`
if redis.call('TYPE', KEYS[1])['ok'] == 'hash' and redis.call('HGET', KEYS[1], 'v') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

var extendScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`)

var unlockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// Stats reports what one Run did.
type Stats struct {
	Migrated bool // this call scanned and set the marker
	Moved    int  // records written under their new names
	Skipped  int  // old names left as they were (not a valid release 1 hash)
}

// Run makes sure the records under prefix are in today's layout: at once if the
// marker is set, else by migrating them or waiting for the replica that does,
// for as long as ctx allows. hashes writes moved records as hashes of "v" and
// "d" instead of "<version>:<data>" strings.
func Run(ctx context.Context, c redis.UniversalClient, prefix string, hashes bool) (Stats, error) {
	marker, lock := prefix+MarkerName, prefix+LockName
	token := crand.Text()
	wait := waitMin
	for {
		done, err := markerSet(ctx, c, marker)
		if err != nil || done {
			return Stats{}, err
		}
		got, err := c.SetNX(ctx, lock, token, LockTTL).Result()
		if err != nil {
			return Stats{}, fmt.Errorf("store: redis migrate: lock: %w", err)
		}
		if got {
			break
		}
		t := time.NewTimer(wait/2 + rand.N(wait/2+1))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return Stats{}, fmt.Errorf("store: redis migrate: another replica is migrating %q: %w", prefix, ctx.Err())
		}
		wait = min(2*wait, waitMax)
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unlockTime)
		defer cancel()
		_ = unlockScript.Run(uctx, c, []string{lock}, token).Err()
	}()
	// The marker may have been set between the GET and the SET NX.
	if done, err := markerSet(ctx, c, marker); err != nil || done {
		return Stats{}, err
	}
	m := &migrator{c: c, prefix: prefix, hashes: hashes, lock: lock, token: token}
	if err := m.scanAll(ctx); err != nil {
		return m.stats, err
	}
	if err := c.Set(ctx, marker, MarkerValue, 0).Err(); err != nil {
		return m.stats, fmt.Errorf("store: redis migrate: marker: %w", err)
	}
	m.stats.Migrated = true
	return m.stats, nil
}

func markerSet(ctx context.Context, c redis.UniversalClient, marker string) (bool, error) {
	err := c.Get(ctx, marker).Err()
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, redis.Nil):
		return false, nil
	}
	return false, fmt.Errorf("store: redis migrate: marker: %w", err)
}

type migrator struct {
	c           redis.UniversalClient
	prefix      string
	hashes      bool
	lock, token string
	stats       Stats
}

// scanAll scans every primary: a cluster's or a ring's shards, else the client's
// one server.
func (m *migrator) scanAll(ctx context.Context) error {
	var (
		mu    sync.Mutex
		nodes []*redis.Client
	)
	collect := func(_ context.Context, n *redis.Client) error { // called concurrently
		mu.Lock()
		defer mu.Unlock()
		nodes = append(nodes, n)
		return nil
	}
	var err error
	switch c := m.c.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, collect)
	case *redis.Ring:
		err = c.ForEachShard(ctx, collect)
	default:
		return m.scan(ctx, m.c)
	}
	if err != nil {
		return fmt.Errorf("store: redis migrate: %w", err)
	}
	return m.scanNodes(ctx, nodes)
}

func (m *migrator) scanNodes(ctx context.Context, nodes []*redis.Client) error {
	for _, n := range nodes {
		if err := m.scan(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

// scan walks one server's names under prefix + "s:" and moves the release 1
// records among them.
func (m *migrator) scan(ctx context.Context, node redis.Cmdable) error {
	match := matchEscape(m.prefix) + "s:*"
	var cursor uint64
	for {
		keys, next, err := node.Scan(ctx, cursor, match, scanCount).Result()
		if err != nil {
			return fmt.Errorf("store: redis migrate: scan: %w", err)
		}
		if len(keys) > maxScanReply {
			return fmt.Errorf("store: redis migrate: scan: a reply of %d keys (COUNT %d)", len(keys), scanCount)
		}
		var moves []move
		for _, k := range keys {
			name, ok := strings.CutPrefix(k, m.prefix)
			if !ok {
				continue
			}
			if to, ok := migrate.Release1RedisMove(name); ok {
				moves = append(moves, move{from: k, to: m.prefix + migrate.RedisName(to)})
			}
		}
		if err := m.moveBatch(ctx, moves); err != nil {
			return err
		}
		// Keep the lock for the next batch; a lost lock only means another
		// replica may move the same records, which the steps allow.
		_ = extendScript.Run(ctx, m.c, []string{m.lock}, m.token, strconv.FormatInt(LockTTL.Milliseconds(), 10)).Err()
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// move is one record to move, and what its old key held.
type move struct {
	from, to string
	v, data  string
	ttl      int64
	layout   layoutArg
}

// moveBatch moves a SCAN batch's release 1 records (see the package doc) in
// three pipelined round trips: the reads, the conditional writes, the
// conditional deletes. Each command touches one key, so a cluster pipeline
// sends each to its key's primary.
func (m *migrator) moveBatch(ctx context.Context, moves []move) error {
	if len(moves) == 0 {
		return nil
	}
	pipe := m.c.Pipeline()
	reads := make([]*redis.Cmd, len(moves))
	for i, mv := range moves {
		reads[i] = readScript.Eval(ctx, pipe, []string{mv.from})
	}
	_, _ = pipe.Exec(ctx) // each command's error is read below
	read := time.Now()
	todo := moves[:0]
	for i, mv := range moves {
		res, err := reads[i].Slice()
		if errors.Is(err, redis.Nil) {
			m.stats.Skipped++
			continue
		}
		if err != nil {
			return fmt.Errorf("store: redis migrate: read %s: %w", mv.from, err)
		}
		var ok bool
		if mv.v, mv.ttl, mv.data, mv.layout, ok = parseRead(res); !ok {
			return fmt.Errorf("store: redis migrate: read %s: unexpected reply", mv.from)
		}
		if mv.layout.live() && m.hashes {
			mv.layout = hash
		}
		todo = append(todo, mv)
	}
	writes := make([]*redis.Cmd, len(todo))
	for i, mv := range todo {
		ttlArg := "-"
		if mv.ttl >= 0 {
			// The TTL left at the read, less the time since: never shorter.
			left := mv.ttl - time.Since(read).Milliseconds()
			if left <= 0 {
				continue // expired meanwhile: only the delete is left
			}
			ttlArg = strconv.FormatInt(left, 10)
		}
		writes[i] = writeScript.Eval(ctx, pipe, []string{mv.to}, mv.v, ttlArg, string(mv.layout), mv.data)
	}
	_, _ = pipe.Exec(ctx)
	for i, w := range writes {
		if w == nil {
			continue
		}
		n, err := w.Int()
		if err != nil {
			return fmt.Errorf("store: redis migrate: write %s: %w", todo[i].to, err)
		}
		m.stats.Moved += n
	}
	// Only after every write of the batch: a failed write above left its old key.
	dels := make([]*redis.Cmd, len(todo))
	for i, mv := range todo {
		dels[i] = deleteScript.Eval(ctx, pipe, []string{mv.from}, mv.v)
	}
	_, _ = pipe.Exec(ctx)
	for i, d := range dels {
		if err := d.Err(); err != nil {
			return fmt.Errorf("store: redis migrate: delete %s: %w", todo[i].from, err)
		}
	}
	return nil
}

type layoutArg string

const (
	str       layoutArg = "s"
	hash      layoutArg = "h"
	tombstone layoutArg = "t"
)

func (l layoutArg) live() bool { return l == str || l == hash }

// parseRead reads readScript's reply; layout is str for a record, tombstone for
// a version only.
func parseRead(res []any) (v string, ttl int64, data string, layout layoutArg, ok bool) {
	if len(res) != 2 && len(res) != 3 {
		return "", 0, "", "", false
	}
	v, ok1 := res[0].(string)
	ttl, ok2 := res[1].(int64)
	if !ok1 || !ok2 {
		return "", 0, "", "", false
	}
	if len(res) == 2 {
		return v, ttl, "", tombstone, true
	}
	data, ok = res[2].(string)
	return v, ttl, data, str, ok
}

// matchEscape escapes the glob characters of SCAN MATCH in s.
func matchEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
