package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cogauth/cogauth/clock"
)

// TestFileSetAsideCorrupt: with SetAsideCorrupt, a file that cannot be read goes
// aside (renamed next to itself with a timestamp, 0600, content kept), the caller
// is told once which file and why, and the store goes on as if empty — whether a
// reader or a writer finds it first.
func TestFileSetAsideCorrupt(t *testing.T) {
	ctx := context.Background()
	good := `{"format":"cogauth-sessions/2","seq":1,"entries":[{"kind":"session","pool":"p","client":"c","user":"u","version":1,"data":"eA=="}]}`
	k := Join("s", "p", "c", "u")
	at := time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC)
	for _, tt := range []struct{ name, content, why string }{
		{"empty", "", "empty file"},
		{"truncated", good[:len(good)-7], "unexpected EOF"},
		{"garbage", "\x00\x01binary garbage", "invalid character"},
		{"another format", strings.Replace(good, "sessions/2", "sessions/7", 1), "format"},
	} {
		for _, first := range []string{"Get", "Put"} {
			t.Run(tt.name+"/"+first, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "sessions.json")
				if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
					t.Fatal(err)
				}
				var warn bytes.Buffer
				f, err := OpenFile(path, FileOptions{SetAsideCorrupt: true, Warn: &warn, Clock: clock.NewFake(at)})
				if err != nil {
					t.Fatal(err)
				}
				warn.Reset() // the open's permission warning is another test's
				if first == "Get" {
					if _, err := f.Get(ctx, k); !errors.Is(err, ErrNotFound) {
						t.Fatalf("Get of a corrupt file: %v, want ErrNotFound", err)
					}
				}
				if _, err := f.Put(ctx, k, []byte("new"), 0, time.Time{}); err != nil {
					t.Fatalf("Put after setting aside: %v", err)
				}
				aside := path + ".corrupt-20261201T103000Z"
				b, err := os.ReadFile(aside)
				if err != nil || string(b) != tt.content {
					t.Fatalf("set-aside file: %q, %v", b, err)
				}
				if st, _ := os.Stat(aside); st.Mode().Perm() != 0o600 {
					t.Fatalf("set-aside file mode %v, want 0600", st.Mode())
				}
				w := warn.String()
				if strings.Count(w, "\n") != 1 || !strings.Contains(w, path) || !strings.Contains(w, aside) || !strings.Contains(w, tt.why) {
					t.Fatalf("warning = %q; want one line naming %s, %s and %q", w, path, aside, tt.why)
				}
				if e, err := f.Get(ctx, k); err != nil || string(e.Data) != "new" {
					t.Fatalf("Get after = %q, %v", e.Data, err)
				}
				if strings.Count(warn.String(), "\n") != 1 {
					t.Fatalf("warned again: %q", warn.String())
				}
			})
		}
	}
	t.Run("twice in one second", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "sessions.json")
		f, err := OpenFile(path, FileOptions{SetAsideCorrupt: true, Clock: clock.NewFake(at)})
		if err != nil {
			t.Fatal(err)
		}
		for i, junk := range []string{"junk one", "junk two"} {
			if err := os.WriteFile(path, []byte(junk), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := f.Get(ctx, k); !errors.Is(err, ErrNotFound) {
				t.Fatal(err)
			}
			name := path + ".corrupt-20261201T103000Z"
			if i > 0 {
				name += "-1"
			}
			if b, _ := os.ReadFile(name); string(b) != junk {
				t.Fatalf("%s holds %q, want %q", name, b, junk)
			}
		}
	})
	t.Run("good and unreadable files stay", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "sessions.json")
		if err := os.WriteFile(path, []byte(good), 0o600); err != nil {
			t.Fatal(err)
		}
		f, _ := OpenFile(path, FileOptions{SetAsideCorrupt: true})
		if e, err := f.Get(ctx, k); err != nil || string(e.Data) != "x" {
			t.Fatalf("Get = %q, %v", e.Data, err)
		}
		// A file the store cannot open (here a directory) is not "corrupt": it is
		// an error, and nothing is moved.
		odd := filepath.Join(dir, "odd.json")
		if err := os.Mkdir(odd, 0o700); err != nil {
			t.Fatal(err)
		}
		g, _ := OpenFile(odd, FileOptions{SetAsideCorrupt: true})
		if _, err := g.Get(ctx, k); err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrCorrupt) {
			t.Fatalf("Get of a directory: %v", err)
		}
		if m, _ := filepath.Glob(filepath.Join(dir, "*.corrupt-*")); len(m) != 0 {
			t.Fatalf("set aside: %v", m)
		}
	})
}

// TestFileWarnsLoosePermissions: a session file or directory open to others is a
// warning at open that names the chmod to run; a private one is not.
func TestFileWarnsLoosePermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "my sessions")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "sessions.json")
	if err := os.WriteFile(path, []byte(`{"format":"cogauth-sessions/2","seq":0,"entries":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	open := func() string {
		var warn bytes.Buffer
		if _, err := OpenFile(path, FileOptions{Warn: &warn}); err != nil {
			t.Fatal(err)
		}
		return warn.String()
	}
	if w := open(); w != "" {
		t.Fatalf("private file and directory: warning %q", w)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	w := open()
	for _, want := range []string{"chmod 600 '" + path + "'", "chmod 700 '" + dir + "'", "0644", "0777"} {
		if !strings.Contains(w, want) {
			t.Errorf("warning %q lacks %q", w, want)
		}
	}
	if strings.Count(w, "\n") != 2 {
		t.Errorf("warning %q: want two lines", w)
	}
}
