package redisstore

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cogauth/cogauth/internal/peers"
	"github.com/cogauth/cogauth/store"
	"github.com/cogauth/cogauth/store/internal/migrate/migrateredis"
)

// release1Rec is a record as release 1 (commit 2843cba) wrote it: every kind
// under "s:" with its kind in the (pool, client, user) fields, a hash of "v" and
// "d" (no "d": a tombstone), and the session TTL on all but the current user.
type release1Rec struct {
	key     store.Key
	raw     string // release 1's Redis name, after the prefix
	version string
	ttl     bool
	dead    bool // a tombstone
}

const ipool1 = "us-east-1:11111111-2222-4333-8444-555555555555"

var release1Recs = []release1Rec{
	{store.Join("s", "us-east-1_Old", "oldclient", "alice"), "s:us-east-1_Old/oldclient/alice", "1700000000000001", true, false},
	{"u:us-east-1_Old/oldclient/", "s:us-east-1_Old/oldclient/", "1700000000000002", false, false},
	{"d:us-east-1_Old/oldclient/alice", "s:us-east-1_Old/oldclient/%20device%20alice", "1700000000000003", true, false},
	{"dl:us-east-1_Old/oldclient/alice@example.com", "s:us-east-1_Old/oldclient/%20device-login%20alice@example.com", "1700000000000004", true, false},
	{store.Join("i", ipool1, "cognito-idp.us-east-1.amazonaws.com/us-east-1_Old", "3f1e-sub"), "s:us-east-1%3A11111111-2222-4333-8444-555555555555/cognito-idp.us-east-1.amazonaws.com%2Fus-east-1_Old/3f1e-sub", "1700000000000005", true, false},
	{store.Join("i", ipool1, "", ""), "s:us-east-1%3A11111111-2222-4333-8444-555555555555/cogauth-identity%3Aunauthenticated/guest", "1700000000000006", true, false},
	{"d:us-east-1_Old/oldclient/bob", "s:us-east-1_Old/oldclient/%20device%20bob", "1700000000000007", true, true},
}

// writeRelease1 writes release1Recs raw under prefix.
func writeRelease1(t *testing.T, raw redis.Cmdable, prefix string) {
	t.Helper()
	ctx := context.Background()
	for _, r := range release1Recs {
		fields := []any{"v", r.version}
		if !r.dead {
			fields = append(fields, "d", "data of "+string(r.key))
		}
		if err := raw.HSet(ctx, prefix+r.raw, fields...).Err(); err != nil {
			t.Fatal(err)
		}
		if r.ttl {
			raw.PExpire(ctx, prefix+r.raw, time.Hour)
		}
	}
}

// checkRelease1Moved: after New, every release 1 record is read under today's
// key with its version, data and TTL; the old names are gone but the session's,
// which is today's too.
func checkRelease1Moved(t *testing.T, s *Store, raw redis.Cmdable) {
	t.Helper()
	ctx := context.Background()
	for _, r := range release1Recs {
		e, err := s.Get(ctx, r.key)
		if r.dead {
			if !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("Get of a release 1 tombstone %s: %v", r.key, err)
			}
			if got := raw.HGet(ctx, s.dataKey(r.key), "v").Val(); got != r.version {
				t.Fatalf("moved tombstone %s holds version %q, want %s", r.key, got, r.version)
			}
		} else if err != nil || string(e.Data) != "data of "+string(r.key) || strconv.FormatUint(e.Version, 10) != r.version {
			t.Fatalf("Get %s = %q v%d, %v", r.key, e.Data, e.Version, err)
		}
		pttl := raw.PTTL(ctx, s.dataKey(r.key)).Val()
		if r.ttl && (pttl <= 59*time.Minute || pttl > time.Hour) || !r.ttl && pttl != -1 {
			t.Fatalf("%s PTTL after the move = %v (release 1's TTL: %v)", r.key, pttl, r.ttl)
		}
		if s.dataKey(r.key) != s.prefix+r.raw && raw.Exists(ctx, s.prefix+r.raw).Val() != 0 {
			t.Fatalf("release 1's %s stayed after the move", r.raw)
		}
	}
	if v := raw.Get(ctx, s.prefix+migrateredis.MarkerName).Val(); v != migrateredis.MarkerValue {
		t.Fatalf("marker = %q", v)
	}
	if raw.Exists(ctx, s.prefix+migrateredis.LockName).Val() != 0 {
		t.Fatal("the migration's lock stayed")
	}
}

// cmdLog records the commands a client sends.
type cmdLog struct {
	mu   sync.Mutex
	cmds []string
}

func (l *cmdLog) DialHook(next redis.DialHook) redis.DialHook { return next }
func (l *cmdLog) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		l.mu.Lock()
		l.cmds = append(l.cmds, cmd.Name())
		l.mu.Unlock()
		return next(ctx, cmd)
	}
}
func (l *cmdLog) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, c := range cmds {
			l.mu.Lock()
			l.cmds = append(l.cmds, c.Name())
			l.mu.Unlock()
		}
		return next(ctx, cmds)
	}
}

func (l *cmdLog) count(name string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, c := range l.cmds {
		if c == name {
			n++
		}
	}
	return n
}

func loggedClient(t *testing.T, addr string) (*redis.Client, *cmdLog) {
	c := newRedisClient(t, addr)
	l := &cmdLog{}
	c.AddHook(l)
	return c, l
}

// TestRedisOpenMovesRelease1: records release 1 wrote are found after New under
// today's keys, with their versions, data and TTLs, and are written on from there;
// a session and a namespaced record (today's names) are left where they are; a
// second New sends one GET.
func TestRedisOpenMovesRelease1(t *testing.T) {
	addr := peers.Redis(t)
	raw := newRedisClient(t, addr)
	ctx := context.Background()
	const prefix = "r1:"
	writeRelease1(t, raw, prefix)
	ns := store.Join("d", "us-east-1_Old", "oldclient", "carol").In("work")
	raw.Set(ctx, prefix+string(ns), "1700000000000009:namespaced", 0)
	s := newRedisStore(t, newRedisClient(t, addr), Options{Prefix: prefix})
	checkRelease1Moved(t, s, raw)
	if e, err := s.Get(ctx, ns); err != nil || string(e.Data) != "namespaced" {
		t.Fatalf("today's namespaced record: %q, %v", e.Data, err)
	}
	if typ := raw.Type(ctx, s.dataKey(release1Recs[2].key)).Val(); typ != "string" {
		t.Fatalf("a moved record is a %s, want the store's string layout", typ)
	}

	dev := release1Recs[2]
	oldV, _ := strconv.ParseUint(dev.version, 10, 64)
	if _, err := s.Put(ctx, dev.key, []byte("stale"), oldV-1, time.Time{}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Put on a wrong version of a moved record: %v", err)
	}
	if v, err := s.Put(ctx, dev.key, []byte("device, again"), oldV, time.Time{}); err != nil || v <= oldV {
		t.Fatalf("CAS Put on a moved record: v%d, %v", v, err)
	}
	tomb := release1Recs[6]
	tv, _ := strconv.ParseUint(tomb.version, 10, 64)
	if v, err := s.Put(ctx, tomb.key, []byte("bob's"), 0, time.Time{}); err != nil || v <= tv {
		t.Fatalf("Put over a moved tombstone: v%d, %v", v, err)
	}

	// Once marked, New costs one GET, and a release 1 name written now (by a
	// release 1 replica that should have been stopped) is not moved.
	raw.HSet(ctx, prefix+"s:us-east-1_Old/oldclient/%20device%20late", "v", "1700000000000010", "d", "late")
	c, log := loggedClient(t, addr)
	c.Ping(ctx) // the connection's handshake (HELLO, CLIENT) and a PING, not New's
	log.cmds = nil
	newRedisStore(t, c, Options{Prefix: prefix})
	if log.count("get") != 1 || len(log.cmds) != 1 {
		t.Fatalf("the second New sent %v, want one GET", log.cmds)
	}
	if raw.Exists(ctx, prefix+"s:us-east-1_Old/oldclient/%20device%20late").Val() != 1 {
		t.Fatal("a marked store moved records")
	}
}

// TestRedisOpenMigratesOnce: replicas opening the same store together migrate it
// once; both find every record.
func TestRedisOpenMigratesOnce(t *testing.T) {
	addr := peers.Redis(t)
	raw := newRedisClient(t, addr)
	const prefix = "r1once:"
	writeRelease1(t, raw, prefix)
	var (
		wg     sync.WaitGroup
		logs   [2]*cmdLog
		stores [2]*Store
		errs   [2]error
	)
	for i := range 2 {
		var c *redis.Client
		c, logs[i] = loggedClient(t, addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = New(c, Options{Prefix: prefix})
		}()
	}
	wg.Wait()
	for i := range 2 {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		checkRelease1Moved(t, stores[i], raw)
	}
	if a, b := logs[0].count("scan"), logs[1].count("scan"); (a == 0) == (b == 0) {
		t.Fatalf("SCANs sent by the two replicas: %d and %d; want one of them", a, b)
	}
}

// TestRedisOpenResumes: a migration that died midway (its lock still held, one
// record written under its new name but not yet deleted under its old, the
// others not moved) is finished by the next New once the dead migrator's lock
// expires; until then a New with a short OpenTimeout fails and leaves it all.
func TestRedisOpenResumes(t *testing.T) {
	addr := peers.Redis(t)
	raw := newRedisClient(t, addr)
	ctx := context.Background()
	const prefix = "r1half:"
	writeRelease1(t, raw, prefix)
	// The dead migrator copied the device, then a replica wrote it again.
	dev := release1Recs[2]
	raw.Set(ctx, prefix+string(dev.key), "1800000000000000:newer", 0)
	raw.Set(ctx, prefix+migrateredis.LockName, "dead migrator", 2*time.Second)

	_, err := New(newRedisClient(t, addr), Options{Prefix: prefix, OpenTimeout: 50 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("New while another replica migrates: %v", err)
	}
	if raw.Exists(ctx, prefix+migrateredis.MarkerName).Val() != 0 || raw.Exists(ctx, prefix+release1Recs[3].raw).Val() != 1 {
		t.Fatal("a New that timed out marked or moved")
	}
	raw.PExpire(ctx, prefix+migrateredis.LockName, 100*time.Millisecond) // it dies sooner
	s := newRedisStore(t, newRedisClient(t, addr), Options{Prefix: prefix, OpenTimeout: 10 * time.Second})
	if e, err := s.Get(ctx, dev.key); err != nil || string(e.Data) != "newer" || e.Version != 1800000000000000 {
		t.Fatalf("the record written after the copy: %q v%d, %v", e.Data, e.Version, err)
	}
	if raw.Exists(ctx, prefix+dev.raw).Val() != 0 {
		t.Fatal("the copied record's old name stayed")
	}
	for _, r := range release1Recs {
		if r.key == dev.key {
			continue
		}
		if e, err := s.Get(ctx, r.key); !r.dead && (err != nil || strconv.FormatUint(e.Version, 10) != r.version) {
			t.Fatalf("Get %s after the resumed migration: v%d, %v", r.key, e.Version, err)
		}
	}
}

// TestRedisOpenUnreachable: New fails within OpenTimeout when Redis does not
// answer, rather than open a store that may not have moved its records.
func TestRedisOpenUnreachable(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	if _, err := New(c, Options{OpenTimeout: time.Second}); err == nil {
		t.Fatal("New on an unreachable server succeeded")
	}
}

// TestRedisOpenGlobPrefix: a prefix holding SCAN MATCH's glob characters is
// matched as written, and another prefix the glob would match is left alone.
func TestRedisOpenGlobPrefix(t *testing.T) {
	addr := peers.Redis(t)
	raw := newRedisClient(t, addr)
	const prefix, other = `g*[x]?\:`, `gg[x]!\:`
	writeRelease1(t, raw, prefix)
	writeRelease1(t, raw, other)
	checkRelease1Moved(t, newRedisStore(t, newRedisClient(t, addr), Options{Prefix: prefix}), raw)
	if raw.Exists(context.Background(), other+release1Recs[2].raw).Val() != 1 {
		t.Fatal("the migration of one prefix moved another's records")
	}
}
