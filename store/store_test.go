package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

// stores returns one fresh instance of every implementation, so each contract test
// runs against all of them (Redis too, where a redis-server can be had). The
// keyring runs twice: on the size-limited fake with small chunks, so every entry
// above 40 bytes also crosses chunk boundaries, and on go-keyring's own mock
// through the OSKeyring adapter, as production code calls it. That mock is
// process-wide, so each test gets a service name of its own.
func stores(t *testing.T) map[string]Store {
	t.Helper()
	f, err := NewFile(filepath.Join(t.TempDir(), "cfg", "sessions.json"))
	if err != nil {
		t.Fatal(err)
	}
	keyring.MockInit()
	osk, err := NewKeyring(KeyringOptions{Backend: OSKeyring{}, Service: "cogauth-test " + t.Name(), LockDir: filepath.Join(t.TempDir(), "locks")})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]Store{
		"memory": NewMemory(), "file": f,
		"keyring": newTestKeyring(t, newFakeKeyring(80), 40), "go-keyring-mock": osk,
	}
	addRedisStores(t, m)
	return m
}

func TestStoreContract(t *testing.T) {
	ctx := context.Background()
	alice := Key{Pool: "us-east-1_A", Client: "c1", User: "alice"}
	bob := Key{Pool: "us-east-1_A", Client: "c1", User: "bob"}
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			if _, err := s.Get(ctx, alice); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Get missing: err = %v, want ErrNotFound", err)
			}
			if _, err := s.Put(ctx, alice, []byte("x"), 7); !errors.Is(err, ErrConflict) {
				t.Fatalf("Put absent with version 7: err = %v, want ErrConflict", err)
			}
			v1, err := s.Put(ctx, alice, []byte("one"), 0)
			if err != nil || v1 == 0 {
				t.Fatalf("Put new: v=%d err=%v", v1, err)
			}
			if _, err := s.Put(ctx, alice, []byte("again"), 0); !errors.Is(err, ErrConflict) {
				t.Fatalf("Put existing with 0: err = %v, want ErrConflict", err)
			}
			v2, err := s.Put(ctx, alice, []byte("two"), v1)
			if err != nil || v2 == v1 {
				t.Fatalf("CAS Put: v=%d err=%v", v2, err)
			}
			if _, err := s.Put(ctx, alice, []byte("stale"), v1); !errors.Is(err, ErrConflict) {
				t.Fatalf("stale CAS: err = %v, want ErrConflict", err)
			}
			e, err := s.Get(ctx, alice)
			if err != nil || string(e.Data) != "two" || e.Version != v2 {
				t.Fatalf("Get = %q v%d, %v; want two v%d", e.Data, e.Version, err, v2)
			}
			if _, err := s.Put(ctx, bob, []byte("b"), AnyVersion); err != nil {
				t.Fatal(err)
			}
			if err := s.Delete(ctx, alice, v1); !errors.Is(err, ErrConflict) {
				t.Fatalf("stale Delete: err = %v, want ErrConflict", err)
			}
			if err := s.Delete(ctx, alice, v2); err != nil {
				t.Fatal(err)
			}
			if err := s.Delete(ctx, alice, v2); err != nil {
				t.Fatalf("Delete missing: %v", err)
			}
			if _, err := s.Get(ctx, alice); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Get deleted: err = %v, want ErrNotFound", err)
			}
			// Versions are never reused: a writer holding v2 cannot overwrite a new alice.
			v3, err := s.Put(ctx, alice, []byte("three"), 0)
			if err != nil {
				t.Fatal(err)
			}
			if v3 == v1 || v3 == v2 {
				t.Fatalf("version %d reused", v3)
			}
			if _, err := s.Put(ctx, alice, []byte("x"), v2); !errors.Is(err, ErrConflict) {
				t.Fatalf("ABA write: err = %v, want ErrConflict", err)
			}
			if e, _ := s.Get(ctx, bob); string(e.Data) != "b" {
				t.Fatalf("bob = %q", e.Data)
			}
			if _, err := s.Get(ctx, Key{User: "x"}); !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("invalid key: err = %v", err)
			}
			if _, err := s.Put(ctx, Key{Pool: "p"}, []byte("x"), 0); !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("invalid key Put: err = %v", err)
			}
			if err := s.Delete(ctx, Key{Client: "c"}, AnyVersion); !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("invalid key Delete: err = %v", err)
			}
			for _, k := range []Key{
				{Pool: "p", Client: "c"}, // a session names its user
				{Kind: KindCurrentUser, Pool: "p", Client: "c", User: "u"},
				{Kind: KindIdentityID, Pool: "us-east-1:x", Client: "provider"},
				{Kind: KindDevice, Pool: "p", Client: "c"},
				{Kind: kindCount, Pool: "p", Client: "c", User: "u"},
			} {
				if _, err := s.Put(ctx, k, []byte("x"), AnyVersion); !errors.Is(err, ErrInvalidKey) {
					t.Fatalf("Put %s: err = %v, want ErrInvalidKey", k, err)
				}
			}
			// Empty and binary data survive as they are.
			for _, data := range [][]byte{{}, {0, 0xff, '\r', '\n', 0}} {
				v, err := s.Put(ctx, bob, data, AnyVersion)
				if err != nil {
					t.Fatal(err)
				}
				if e, err := s.Get(ctx, bob); err != nil || string(e.Data) != string(data) || e.Version != v {
					t.Fatalf("Get = %q v%d, %v; want %q v%d", e.Data, e.Version, err, data, v)
				}
			}
		})
	}
}

// TestStoreKeysAndSizes: records of every kind and namespace for the same pool,
// client and user are distinct records; users that hold "/", "#", ":" or start
// with a space are keys like any other; records of several kilobytes (a session
// with credentials) come back whole.
func TestStoreKeysAndSizes(t *testing.T) {
	ctx := context.Background()
	var keys []Key
	for _, ns := range []string{"", "profile:work", "a/b:c"} {
		for _, kind := range Kinds() {
			for _, u := range []string{"alice", " device alice", "a/b", "a#1#0", "x:y"} {
				k := Key{Kind: kind, Namespace: ns, Pool: "p", Client: "c", User: u}
				switch kind {
				case KindCurrentUser:
					if u != "alice" {
						continue
					}
					k.User = ""
				case KindIdentityID:
					k.Pool = "us-east-1:pool"
					if u == "alice" {
						k.Client, k.User = "", ""
					}
				}
				keys = append(keys, k)
			}
		}
	}
	big := []byte(strings.Repeat("0123456789abcdef", 300))
	want := func(i int) []byte { return append([]byte(keys[i].String()+"="), big[:(i*137)%len(big)]...) }
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			for i, k := range keys {
				if _, err := s.Put(ctx, k, want(i), AnyVersion); err != nil {
					t.Fatalf("Put %s: %v", k, err)
				}
			}
			for i, k := range keys {
				e, err := s.Get(ctx, k)
				if err != nil || string(e.Data) != string(want(i)) {
					t.Fatalf("Get %s = %d bytes, %v; want its own %d bytes", k, len(e.Data), err, len(want(i)))
				}
			}
			dev := Key{Kind: KindDevice, Pool: "p", Client: "c", User: "alice"}
			if err := s.Delete(ctx, dev, AnyVersion); err != nil {
				t.Fatal(err)
			}
			for _, k := range []Key{{Pool: "p", Client: "c", User: "alice"}, {Kind: KindDevice, Namespace: "profile:work", Pool: "p", Client: "c", User: "alice"}} {
				if _, err := s.Get(ctx, k); err != nil {
					t.Fatalf("deleting %s touched %s: %v", dev, k, err)
				}
			}
		})
	}
}

func TestCurrentUser(t *testing.T) {
	ctx := context.Background()
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			if _, err := CurrentUser(ctx, s, "p", "c"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("err = %v", err)
			}
			if err := SetCurrentUser(ctx, s, "p", "c", "alice"); err != nil {
				t.Fatal(err)
			}
			if err := SetCurrentUser(ctx, s, "p", "c2", "bob"); err != nil {
				t.Fatal(err)
			}
			if u, err := CurrentUser(ctx, s, "p", "c"); u != "alice" || err != nil {
				t.Fatalf("CurrentUser = %q, %v", u, err)
			}
			if err := SetCurrentUser(ctx, s, "p", "c", ""); err != nil {
				t.Fatal(err)
			}
			if _, err := CurrentUser(ctx, s, "p", "c"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("after clear: err = %v", err)
			}
			if u, _ := CurrentUser(ctx, s, "p", "c2"); u != "bob" {
				t.Fatalf("other client lost its user: %q", u)
			}
		})
	}
}

func TestStoreConcurrentCAS(t *testing.T) {
	// Many writers race from the same version: exactly one may win each round.
	ctx := context.Background()
	k := Key{Pool: "p", Client: "c", User: "u"}
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			v, err := s.Put(ctx, k, []byte("0"), 0)
			if err != nil {
				t.Fatal(err)
			}
			var wins atomic.Int32
			var wg sync.WaitGroup
			for range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := s.Put(ctx, k, []byte("w"), v)
					switch {
					case err == nil:
						wins.Add(1)
					case !errors.Is(err, ErrConflict):
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			if wins.Load() != 1 {
				t.Fatalf("%d writers won the same CAS, want 1", wins.Load())
			}
		})
	}
}

func TestLockerExcludes(t *testing.T) {
	k := Key{Pool: "p", Client: "c", User: "u"}
	other := Key{Pool: "p", Client: "c", User: "v"}
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			l := s.(Locker)
			ctx := context.Background()
			unlock, err := l.Lock(ctx, k)
			if err != nil {
				t.Fatal(err)
			}
			// Another user's lock is independent.
			u2, err := l.Lock(ctx, other)
			if err != nil {
				t.Fatalf("other key blocked: %v", err)
			}
			u2()
			// The same key waits until the context gives up.
			short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			defer cancel()
			if _, err := l.Lock(short, k); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("second Lock of a held key: err = %v, want deadline", err)
			}
			got := make(chan error, 1)
			go func() {
				u, err := l.Lock(ctx, k)
				if err == nil {
					u()
				}
				got <- err
			}()
			unlock()
			unlock() // idempotent
			if err := <-got; err != nil {
				t.Fatalf("Lock after unlock: %v", err)
			}
		})
	}
}

func TestMemoryLocksDoNotLeak(t *testing.T) {
	m := NewMemory()
	for i := range 100 {
		u, err := m.Lock(context.Background(), Key{Pool: "p", Client: "c", User: string(rune('a' + i%26))})
		if err != nil {
			t.Fatal(err)
		}
		u()
	}
	if n := len(m.locks); n != 0 {
		t.Fatalf("%d idle key locks kept", n)
	}
}

func TestFilePermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new")
	f, err := NewFile(filepath.Join(dir, "s.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Put(context.Background(), Key{Pool: "p", Client: "c", User: "u"}, []byte("secret"), 0); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700 | os.ModeDir, f.Path(): 0o600} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode() != want {
			t.Errorf("%s: mode %v, want %v", path, st.Mode(), want)
		}
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".s.json.tmp-*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestFileSharedBetweenInstances(t *testing.T) {
	// Two File values on one path behave like two processes.
	path := filepath.Join(t.TempDir(), "s.json")
	a, _ := NewFile(path)
	b, _ := NewFile(path)
	checkSharedInstances(t, a, b, Key{Pool: "p", Client: "c", User: "u"})
}

// checkSharedInstances checks that two Stores over one backing store (two
// processes on a file, two replicas on a Redis) each see the other's writes at k,
// and that neither can overwrite what it has not read.
func checkSharedInstances(t *testing.T, a, b Store, k Key) {
	t.Helper()
	ctx := context.Background()
	v, err := a.Put(ctx, k, []byte("from a"), 0)
	if err != nil {
		t.Fatal(err)
	}
	e, err := b.Get(ctx, k)
	if err != nil || string(e.Data) != "from a" || e.Version != v {
		t.Fatalf("b sees %q v%d, %v", e.Data, e.Version, err)
	}
	if _, err := b.Put(ctx, k, []byte("from b"), v); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Put(ctx, k, []byte("stale a"), v); !errors.Is(err, ErrConflict) {
		t.Fatalf("a's stale write: %v", err)
	}
}

func TestFileCorrupt(t *testing.T) {
	good := `{"format":"cogauth-sessions/1","seq":2,"entries":[{"pool":"p","client":"c","user":"u","version":2,"data":"eA=="}]}`
	tests := []struct {
		name, content, want string
	}{
		{"empty", "", "empty file"},
		{"truncated", good[:len(good)-10], "unexpected EOF"},
		{"not json", "hello", "invalid character"},
		{"wrong format", strings.Replace(good, "sessions/1", "sessions/9", 1), "format"},
		{"trailing data", good + "{}", "after the JSON"},
		{"unknown field", strings.Replace(good, `"seq"`, `"extra":1,"seq"`, 1), "unknown field"},
		{"version zero", strings.Replace(good, `"version":2`, `"version":0`, 1), "version 0"},
		{"version past seq", strings.Replace(good, `"seq":2`, `"seq":1`, 1), "outside"},
		{"no pool", strings.Replace(good, `"pool":"p"`, `"pool":""`, 1), "no pool"},
		{"bad base64", strings.Replace(good, `"eA=="`, `"!!"`, 1), "illegal base64"},
		{"kind in a release 1 file", strings.Replace(good, `"pool"`, `"kind":"session","pool"`, 1), "kind or namespace"},
		{"unknown kind", strings.Replace(strings.Replace(good, "sessions/1", "sessions/2", 1), `"pool"`, `"kind":"sessoin","pool"`, 1), "unknown kind"},
		{"no kind", strings.Replace(good, "sessions/1", "sessions/2", 1), "unknown kind"},
		{"current user with a user", strings.Replace(strings.Replace(good, "sessions/1", "sessions/2", 1), `"pool"`, `"kind":"current-user","pool"`, 1), "well-formed current-user"},
		{"duplicate", strings.Replace(good, `]}`, `,{"pool":"p","client":"c","user":"u","version":1,"data":""}]}`, 1), "repeats"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sessions.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			f, _ := NewFile(path)
			k := Key{Pool: "p", Client: "c", User: "u"}
			_, err := f.Get(context.Background(), k)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Get: err = %v; want ErrCorrupt naming %s and saying %q", err, path, tt.want)
			}
			// A writer must not paper over the damage either.
			if _, err := f.Put(context.Background(), k, []byte("y"), AnyVersion); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Put over corrupt file: err = %v", err)
			}
			if b, _ := os.ReadFile(path); string(b) != tt.content {
				t.Fatal("corrupt file was overwritten")
			}
		})
	}
	t.Run("good", func(t *testing.T) {
		s, err := parseFile([]byte(good))
		if err != nil {
			t.Fatal(err)
		}
		if e := s.entries[Key{Pool: "p", Client: "c", User: "u"}]; string(e.Data) != "x" || e.Version != 2 {
			t.Fatalf("entry = %+v", e)
		}
	})
}

func FuzzParseFile(f *testing.F) {
	f.Add([]byte(`{"format":"cogauth-sessions/1","seq":2,"entries":[{"pool":"p","client":"c","user":"u","version":2,"data":"eA=="}]}`))
	f.Add([]byte(`{"format":"cogauth-sessions/1","seq":0,"entries":[]}`))
	f.Add([]byte(`{"format":"cogauth-sessions/1","seq":5,"entries":[{"pool":"p","client":"c","user":"","version":5,"data":null}]}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"format":"cogauth-sessions/2","seq":3,"entries":[{"kind":"device","namespace":"n","pool":"p","client":"c","user":"u","version":3,"data":"eA=="}]}`))
	if b, err := os.ReadFile("testdata/release1-sessions.json"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := parseFile(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error not ErrCorrupt: %v", err)
			}
			return
		}
		// Whatever parses must survive a write and read back unchanged.
		out, err := s.encode()
		if err != nil {
			t.Fatal(err)
		}
		s2, err := parseFile(out)
		if err != nil {
			t.Fatalf("re-parse of encoded file: %v", err)
		}
		if s2.seq != s.seq || len(s2.entries) != len(s.entries) {
			t.Fatalf("round trip changed the file")
		}
		for k, e := range s.entries {
			if e2 := s2.entries[k]; e2.Version != e.Version || string(e2.Data) != string(e.Data) {
				t.Fatalf("round trip changed %s", k)
			}
		}
	})
}
