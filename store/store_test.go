package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cogauth/cogauth/store/internal/lockfile"
)

func TestMemoryLocksDoNotLeak(t *testing.T) {
	m := NewMemory()
	for i := range 100 {
		u, err := m.Lock(context.Background(), Join("s", "p", "c", string(rune('a'+i%26))))
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
	if _, err := f.Put(context.Background(), Join("s", "p", "c", "u"), []byte("secret"), 0, time.Time{}); err != nil {
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
		{"invalid key", `{"format":"cogauth-sessions/3","seq":1,"entries":[{"key":"a b","version":1,"data":""}]}`, "no valid key"},
		{"duplicate key", `{"format":"cogauth-sessions/3","seq":2,"entries":[{"key":"s:p/c/u","version":1,"data":""},{"key":"s:p/c/u","version":2,"data":""}]}`, "repeats"},
		{"pool field in format 3", `{"format":"cogauth-sessions/3","seq":1,"entries":[{"key":"s:p/c/u","pool":"p","version":1,"data":""}]}`, "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sessions.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			f, _ := NewFile(path)
			k := Join("s", "p", "c", "u")
			_, err := f.Get(context.Background(), k)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Get: err = %v; want ErrCorrupt naming %s and saying %q", err, path, tt.want)
			}
			// A writer must not paper over the damage either.
			if _, err := f.Put(context.Background(), k, []byte("y"), AnyVersion, time.Time{}); !errors.Is(err, ErrCorrupt) {
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
		if e := s.entries[Join("s", "p", "c", "u")]; string(e.Data) != "x" || e.Version != 2 {
			t.Fatalf("entry = %+v", e)
		}
	})
}

func FuzzParseFile(f *testing.F) {
	f.Add([]byte(`{"format":"cogauth-sessions/1","seq":2,"entries":[{"pool":"p","client":"c","user":"u","version":2,"data":"eA=="}]}`))
	f.Add([]byte(`{"format":"cogauth-sessions/1","seq":0,"entries":[]}`))
	f.Add([]byte(`{"format":"cogauth-sessions/1","seq":5,"entries":[{"pool":"p","client":"c","user":"","version":5,"data":null}]}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"format":"cogauth-sessions/3","seq":4,"entries":[{"key":"s:p/c/u","version":4,"data":"eA==","expires":1}]}`))
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

// TestFileRemovesStaleTemps: temporary files of writers that died mid-write go when
// the store opens (if no writer is at work) and at every write, under the writers'
// lock; nothing else in the directory is touched.
func TestFileRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.json")
	stale := func(n int) []string {
		var names []string
		for i := range n {
			name := filepath.Join(dir, ".s.json.tmp-"+strings.Repeat("7", i+1))
			if err := os.WriteFile(name, []byte(`{"format":`), 0o600); err != nil {
				t.Fatal(err)
			}
			names = append(names, name)
		}
		return names
	}
	left := func() []string {
		m, _ := filepath.Glob(filepath.Join(dir, ".s.json.tmp-*"))
		return m
	}
	keep := []string{filepath.Join(dir, "other.json"), filepath.Join(dir, ".other.json.tmp-1"), filepath.Join(dir, ".s.json.tmp")}
	for _, k := range keep {
		if err := os.WriteFile(k, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, ".s.json.tmp-dir"), 0o700); err != nil {
		t.Fatal(err)
	}

	stale(3)
	// A writer at work (another process holding the lock) keeps its temporary
	// file: opening leaves them all.
	unlock, err := lockfile.Lock(context.Background(), path+".lock")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewFile(path); err != nil {
		t.Fatal(err)
	}
	if n := len(left()); n != 4 { // three files and the directory
		t.Fatalf("open while locked removed temporary files: %d left", n)
	}
	unlock()
	f, err := NewFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := left(); len(got) != 1 || !strings.HasSuffix(got[0], "tmp-dir") {
		t.Fatalf("after open: %v, want only the directory", got)
	}
	stale(2)
	if _, err := f.Put(context.Background(), Join("s", "p", "c", "u"), []byte("x"), 0, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got := left(); len(got) != 1 {
		t.Fatalf("after a write: %v, want only the directory", got)
	}
	for _, k := range keep {
		if _, err := os.Stat(k); err != nil {
			t.Errorf("%s removed: %v", k, err)
		}
	}
}
