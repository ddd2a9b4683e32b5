package keyring

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/store"
	"github.com/cogauth/cogauth/store/storetest"
	gokeyring "github.com/zalando/go-keyring"
)

// fakeKeyring is an in-memory keyring that refuses values longer than limit (as the
// Windows Credential Manager does at 2560 bytes) and can fail the n-th Set, to
// stand in for a crash half-way through a write.
type fakeKeyring struct {
	mu        sync.Mutex
	limit     int
	entries   map[string]string
	sets      int
	failSetAt int // 1-based; 0 never fails
	getErr    error
	block     chan struct{} // when non-nil, Get waits on it
}

func newFakeKeyring(limit int) *fakeKeyring {
	return &fakeKeyring{limit: limit, entries: map[string]string{}}
}

func (f *fakeKeyring) Get(service, user string) (string, error) {
	if f.block != nil {
		<-f.block
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.getErr != nil {
		return "", f.getErr
	}
	v, ok := f.entries[service+"\x00"+user]
	if !ok {
		return "", gokeyring.ErrNotFound
	}
	return v, nil
}

func (f *fakeKeyring) Set(service, user, password string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sets++
	if f.failSetAt != 0 && f.sets == f.failSetAt {
		return errors.New("keyring: simulated failure")
	}
	if f.limit > 0 && len(password) > f.limit {
		return gokeyring.ErrSetDataTooBig
	}
	f.entries[service+"\x00"+user] = password
	return nil
}

func (f *fakeKeyring) Delete(service, user string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := service + "\x00" + user
	if _, ok := f.entries[k]; !ok {
		return gokeyring.ErrNotFound
	}
	delete(f.entries, k)
	return nil
}

func (f *fakeKeyring) len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.entries)
}

func (f *fakeKeyring) set(user, value string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entries[DefaultService+"\x00"+user] = value
}

// TestContract runs the store contract on the size-limited fake with small chunks,
// so every entry above 40 bytes also crosses chunk boundaries, and on go-keyring's
// own mock through the OS adapter, as production code calls it. That mock is
// process-wide, so each run gets a service name of its own.
func TestContract(t *testing.T) {
	t.Run("fake", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store { return newTestKeyring(t, newFakeKeyring(80), 40) })
	})
	t.Run("go-keyring-mock", func(t *testing.T) {
		gokeyring.MockInit()
		storetest.Run(t, func(t *testing.T) store.Store {
			s, err := New(Options{Backend: OS{}, Service: "cogauth-test " + t.Name(), LockDir: filepath.Join(t.TempDir(), "locks")})
			if err != nil {
				t.Fatal(err)
			}
			return s
		})
	})
}

// TestExpiry: the expiry contract on the size-limited fake (records cross chunk
// boundaries), read from the head entry; a deleted or expired record leaves no
// entry, chunk or head, behind.
func TestExpiry(t *testing.T) {
	clk := clock.NewFake(time.Unix(1_900_000_000, 0))
	fk := newFakeKeyring(80)
	storetest.Expiry(t, func(t *testing.T) store.Store {
		k, err := New(Options{Backend: fk, LockDir: filepath.Join(t.TempDir(), "locks"), Chunk: 4, Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		return k
	}, storetest.ExpiryOptions{Clock: clk, Remaining: func(t *testing.T, k store.Key) time.Duration {
		fk.mu.Lock()
		defer fk.mu.Unlock()
		head := DefaultService + "\x00" + account(k)
		n, hv := 0, ""
		for name, v := range fk.entries {
			if name == head {
				hv = v
			}
			if name == head || strings.HasPrefix(name, head+"#") {
				n++
			}
		}
		if n == 0 {
			return -2
		}
		h, err := parseKeyringHead(hv)
		if err != nil {
			t.Fatalf("%d entries of %s, head %v", n, head, err)
		}
		if h.expires.IsZero() {
			return -1
		}
		return h.expires.Sub(clk.Now())
	}})
}

func newTestKeyring(t *testing.T, b Backend, chunk int) *Store {
	t.Helper()
	k, err := New(Options{Backend: b, LockDir: filepath.Join(t.TempDir(), "locks"), Chunk: chunk})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestKeyringSplitsWithinBackendLimit(t *testing.T) {
	ctx := context.Background()
	const windowsLimit = 2560
	fk := newFakeKeyring(windowsLimit)
	s := newTestKeyring(t, fk, 0)
	k := store.Join("s", "eu-west-1_P", "cl", "u")

	big := bytes.Repeat([]byte{0xC0, 0xFF, 0xEE, 'x'}, 12_000) // 48 KB, a token-heavy session
	v, err := s.Put(ctx, k, big, 0, time.Time{})
	if err != nil {
		t.Fatalf("Put 48 KB with a %d-byte backend: %v", windowsLimit, err)
	}
	if n := fk.len(); n < 2 {
		t.Fatalf("expected the session split across entries, got %d", n)
	}
	e, err := s.Get(ctx, k)
	if err != nil || !bytes.Equal(e.Data, big) || e.Version != v {
		t.Fatalf("round trip: %d bytes, v%d, %v", len(e.Data), e.Version, err)
	}

	// A shorter session replaces the long one without leaving chunks behind.
	if _, err := s.Put(ctx, k, []byte("short"), v, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if n := fk.len(); n != 1 {
		t.Fatalf("after a short Put, %d entries remain; want 1", n)
	}
	if err := s.Delete(ctx, k, store.AnyVersion); err != nil {
		t.Fatal(err)
	}
	if n := fk.len(); n != 0 {
		t.Fatalf("after Delete, %d entries remain", n)
	}
}

func TestKeyringFailedWriteKeepsOldSession(t *testing.T) {
	ctx := context.Background()
	k := store.Join("s", "p", "c", "u")
	old := bytes.Repeat([]byte("old "), 100)
	next := bytes.Repeat([]byte("new "), 100)
	// Fail each Set of the second write in turn: the chunks, then the head.
	for failAt := 1; failAt <= 12; failAt++ {
		t.Run(fmt.Sprint(failAt), func(t *testing.T) {
			fk := newFakeKeyring(0)
			s := newTestKeyring(t, fk, 64)
			v, err := s.Put(ctx, k, old, 0, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			before := fk.len()
			fk.mu.Lock()
			fk.failSetAt = fk.sets + failAt
			fk.mu.Unlock()
			if _, err := s.Put(ctx, k, next, v, time.Time{}); err == nil {
				return // failAt is past the last Set of this write
			}
			e, err := s.Get(ctx, k)
			if err != nil || !bytes.Equal(e.Data, old) || e.Version != v {
				t.Fatalf("after a failed write: %q v%d, %v; want the old session", e.Data, e.Version, err)
			}
			if n := fk.len(); n != before {
				t.Fatalf("failed write left %d entries, want %d", n, before)
			}
		})
	}
}

func TestKeyringCorrupt(t *testing.T) {
	ctx := context.Background()
	k := store.Join("s", "p", "c", "u")
	head := "session:p/c/u"
	for name, value := range map[string]string{
		"foreign":        "hunter2",
		"zero version":   keyringFormat + ":0:1:eA==",
		"any version":    keyringFormat + ":ffffffffffffffff:1:eA==",
		"bad count":      keyringFormat + ":1f:0:eA==",
		"huge count":     keyringFormat + ":1f:100000:eA==",
		"missing chunk":  keyringFormat + ":1f:3:eA==",
		"not base64":     keyringFormat + ":1f:1:***",
		"no data field":  keyringFormat + ":1f:1",
		"other version":  keyringFormat + ":zz:1:eA==",
		"padded garbage": keyringFormat + ":1f:1:eA",
	} {
		t.Run(name, func(t *testing.T) {
			fk := newFakeKeyring(0)
			s := newTestKeyring(t, fk, 0)
			fk.set(head, value)
			if _, err := s.Get(ctx, k); !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("Get: err = %v, want store.ErrCorrupt", err)
			}
			if _, err := s.Put(ctx, k, []byte("x"), 5, time.Time{}); !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("conditional Put over corrupt: err = %v, want store.ErrCorrupt", err)
			}
			if err := s.Delete(ctx, k, store.AnyVersion); err != nil {
				t.Fatalf("Delete corrupt: %v", err)
			}
			if _, err := s.Get(ctx, k); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("after Delete: %v", err)
			}
			fk.set(head, value)
			if _, err := s.Put(ctx, k, []byte("fresh"), store.AnyVersion, time.Time{}); err != nil {
				t.Fatalf("unconditional Put over corrupt: %v", err)
			}
			if e, err := s.Get(ctx, k); err != nil || string(e.Data) != "fresh" {
				t.Fatalf("Get = %q, %v", e.Data, err)
			}
		})
	}
}

// Two stores on the same keyring (two processes) race compare-and-swap updates:
// every update must land exactly once.
func TestKeyringConcurrentCAS(t *testing.T) {
	ctx := context.Background()
	fk := newFakeKeyring(0)
	dir := filepath.Join(t.TempDir(), "locks")
	var stores []*Store
	for range 2 {
		s, err := New(Options{Backend: fk, LockDir: dir, Chunk: 16})
		if err != nil {
			t.Fatal(err)
		}
		stores = append(stores, s)
	}
	k := store.Join("s", "p", "c", "counter")
	if _, err := stores[0].Put(ctx, k, []byte("0"), 0, time.Time{}); err != nil {
		t.Fatal(err)
	}
	const perWorker = 25
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := stores[w%2]
			for done := 0; done < perWorker; {
				e, err := s.Get(ctx, k)
				if err != nil {
					t.Error(err)
					return
				}
				var n int
				fmt.Sscan(string(e.Data), &n)
				_, err = s.Put(ctx, k, []byte(fmt.Sprint(n+1)+strings.Repeat(" ", 40)), e.Version, time.Time{})
				if errors.Is(err, store.ErrConflict) {
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				done++
			}
		}()
	}
	wg.Wait()
	e, err := stores[1].Get(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	fmt.Sscan(string(e.Data), &n)
	if n != 4*perWorker {
		t.Fatalf("counter = %d, want %d", n, 4*perWorker)
	}
}

func TestKeyringLockExcludes(t *testing.T) {
	ctx := context.Background()
	s := newTestKeyring(t, newFakeKeyring(0), 0)
	k := store.Join("s", "p", "c", "u")
	unlock, err := s.Lock(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	// The lock is not the writers' lock: a holder refreshing can still Put.
	if _, err := s.Put(ctx, k, []byte("x"), store.AnyVersion, time.Time{}); err != nil {
		t.Fatalf("Put while holding the refresh lock: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := s.Lock(short, k); err == nil {
		t.Fatal("second Lock succeeded while the first is held")
	}
	// Another user's lock is independent.
	u2, err := s.Lock(ctx, store.Join("s", "p", "c", "other"))
	if err != nil {
		t.Fatal(err)
	}
	u2()
	unlock()
	unlock() // safe twice
	again, err := s.Lock(ctx, k)
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	again()
}

func TestProbeKeyring(t *testing.T) {
	ctx := context.Background()
	if err := Probe(ctx, newFakeKeyring(0), ""); err != nil {
		t.Fatalf("working keyring: %v", err)
	}
	broken := newFakeKeyring(0)
	broken.getErr = errors.New("org.freedesktop.DBus.Error.ServiceUnknown")
	if err := Probe(ctx, broken, ""); err == nil {
		t.Fatal("broken keyring reported as working")
	}
	hung := newFakeKeyring(0)
	hung.block = make(chan struct{})
	defer close(hung.block)
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := Probe(short, hung, ""); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hung keyring: err = %v, want a deadline error", err)
	}
}

func TestOpenKeyringOrFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "sessions", "sessions.json")
	k := store.Join("s", "p", "c", "u")

	t.Run("keyring answers", func(t *testing.T) {
		var warn bytes.Buffer
		s, err := OpenOrFile(ctx, OrFileOptions{
			Keyring:  Options{Backend: newFakeKeyring(0), LockDir: filepath.Join(dir, "locks")},
			FilePath: filepath.Join(dir, "unused", "sessions.json"), Warn: &warn,
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := s.(*Store); !ok || warn.Len() != 0 {
			t.Fatalf("got %T, warning %q; want *Store and no warning", s, warn.String())
		}
	})

	broken := newFakeKeyring(0)
	broken.getErr = errors.New("no dbus")
	open := func() (store.Store, string) {
		var warn bytes.Buffer
		s, err := OpenOrFile(ctx, OrFileOptions{
			Keyring:  Options{Backend: broken, LockDir: filepath.Join(dir, "locks")},
			FilePath: path, Warn: &warn,
		})
		if err != nil {
			t.Fatal(err)
		}
		return s, warn.String()
	}
	s, warn := open()
	if _, ok := s.(*store.File); !ok {
		t.Fatalf("fallback store is %T, want *store.File", s)
	}
	if !strings.Contains(warn, "no OS keyring") || !strings.Contains(warn, path) {
		t.Fatalf("first fallback warning = %q", warn)
	}
	if _, err := s.Put(ctx, k, []byte("x"), 0, time.Time{}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("session file mode = %v, %v; want 0600", fi.Mode(), err)
	}
	s2, warn := open()
	if warn != "" {
		t.Fatalf("second fallback warned again: %q", warn)
	}
	if e, err := s2.Get(ctx, k); err != nil || string(e.Data) != "x" {
		t.Fatalf("second open sees %q, %v", e.Data, err)
	}
}

func FuzzKeyringHead(f *testing.F) {
	f.Add(keyringFormat + ":1f:1:eA==")
	f.Add(keyringFormat + ":1f:2:eA")
	f.Add("cogauth-kr/1:::")
	f.Add("")
	f.Fuzz(func(t *testing.T, head string) {
		fk := newFakeKeyring(0)
		fk.set("session:p/c/u", head)
		fk.set("session:p/c/u#1f#1", "==")
		s := newTestKeyring(t, fk, 0)
		e, err := s.Get(context.Background(), store.Join("s", "p", "c", "u"))
		if err != nil {
			if !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("non-corrupt error for a bad head: %v", err)
			}
			return
		}
		if e.Version == 0 || e.Version == store.AnyVersion {
			t.Fatalf("accepted version %d", e.Version)
		}
	})
}

// TestKeyringReadsRelease1: entries that release 1 (commit 2843cba) wrote, set here
// raw the way it wrote them — every kind under "session:" + pool/client/user with
// its kind in the fields, long values split into "#<version>#<n>" chunks — load
// under today's keys; the first write moves a record to its own entry and removes the
// old one with its chunks, and a delete removes a record where it is.
func TestKeyringReadsRelease1(t *testing.T) {
	ctx := context.Background()
	fk := newFakeKeyring(0)
	long := strings.Repeat("x", 100) // 136 bytes of base64: four entries of 40
	type rec struct {
		key     store.Key
		account string
		version uint64
		data    string
	}
	recs := []rec{
		{store.Join("s", "us-east-1_Old", "oldclient", "alice"), "session:us-east-1_Old/oldclient/alice", 0x1a, "session of alice"},
		{"u:us-east-1_Old/oldclient/", "session:us-east-1_Old/oldclient/", 0x2b, "alice"},
		{"d:us-east-1_Old/oldclient/alice", "session:us-east-1_Old/oldclient/ device alice", 0x3c, long},
		{"p:us-east-1_Old/oldclient/work", "session:us-east-1_Old/oldclient/ profile work", 0x4d, "bob"},
		{"i:us-east-1%3A1111//", "session:us-east-1:1111/cogauth-identity:unauthenticated/guest", 0x5e, `{"identityId":"g"}`},
	}
	for _, r := range recs {
		enc := base64.StdEncoding.EncodeToString([]byte(r.data))
		var parts []string
		for len(enc) > 40 {
			parts, enc = append(parts, enc[:40]), enc[40:]
		}
		parts = append(parts, enc)
		fk.set(r.account, fmt.Sprintf("cogauth-kr/1:%x:%d:%s", r.version, len(parts), parts[0]))
		for i := 1; i < len(parts); i++ {
			fk.set(fmt.Sprintf("%s#%x#%d", r.account, r.version, i), parts[i])
		}
	}
	before := fk.len()
	s := newTestKeyring(t, fk, 40)
	for _, r := range recs {
		e, err := s.Get(ctx, r.key)
		if err != nil || string(e.Data) != r.data || e.Version != r.version {
			t.Fatalf("Get %s = %q v%x, %v; want %q v%x", r.key, e.Data, e.Version, err, r.data, r.version)
		}
	}
	dev := recs[2]
	if _, err := s.Put(ctx, dev.key, []byte("x"), dev.version+1, time.Time{}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Put on a wrong version: %v", err)
	}
	v, err := s.Put(ctx, dev.key, []byte("device, again"), dev.version, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fk.Get(DefaultService, dev.account); !errors.Is(err, gokeyring.ErrNotFound) {
		t.Fatal("release 1's entry stayed after the move")
	}
	// Four entries (head and three chunks) became one.
	if n := fk.len(); n != before-3 {
		t.Fatalf("%d entries after the move, want %d (chunks left behind?)", n, before-3)
	}
	if e, err := s.Get(ctx, dev.key); err != nil || string(e.Data) != "device, again" || e.Version != v {
		t.Fatalf("Get moved device = %q v%x, %v", e.Data, e.Version, err)
	}
	guest := recs[4]
	if err := s.Delete(ctx, guest.key, guest.version); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, guest.key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get deleted release 1 record: %v", err)
	}
	// A session whose name needs no escaping is where release 1 keeps it.
	if _, err := s.Put(ctx, recs[0].key, []byte("session, again"), recs[0].version, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := fk.Get(DefaultService, recs[0].account); err != nil {
		t.Fatalf("session entry moved: %v", err)
	}
}

// TestOpenOrFileSetsAsideCorrupt: the file fallback takes store.FileOptions, and
// its warnings go to Warn unless they name a writer of their own.
func TestOpenOrFileSetsAsideCorrupt(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sessions.json")
	if err := os.WriteFile(path, []byte("{trunc"), 0o600); err != nil {
		t.Fatal(err)
	}
	broken := newFakeKeyring(0)
	broken.getErr = errors.New("no dbus")
	var warn bytes.Buffer
	s, err := OpenOrFile(context.Background(), OrFileOptions{
		Keyring: Options{Backend: broken, LockDir: filepath.Join(dir, "locks")}, FilePath: path, Warn: &warn,
		File: store.FileOptions{SetAsideCorrupt: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(context.Background(), store.Join("s", "p", "c", "u")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get over a corrupt fallback file: %v", err)
	}
	if !strings.Contains(warn.String(), "could not be read") || !strings.Contains(warn.String(), path+".corrupt-") {
		t.Fatalf("warning = %q", warn.String())
	}
}
