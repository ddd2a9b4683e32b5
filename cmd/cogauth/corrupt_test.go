package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cogauth/cogauth/internal/config"
)

// TestCorruptSessionsFile: a sessions.json that cannot be read (garbage, cut
// short, empty) is set aside next to itself (0600) with one warning naming it, and
// login, token and logout work as on an empty store.
func TestCorruptSessionsFile(t *testing.T) {
	p := newTestPool(t, nil)
	// A real file, to cut short.
	good := newCLI(t, p)
	good.env["COGAUTH_STORE"] = "file"
	good.ok(alicePW+"\n", "login", "-u", "alice", "--password-stdin")
	whole, err := os.ReadFile(config.SessionsPath(good.env["COGAUTH_HOME"]))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"garbage", []byte("{this is not JSON\x00\xff")},
		{"truncated", whole[:len(whole)/2]},
		{"empty", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t, p)
			c.env["COGAUTH_STORE"] = "file"
			path := config.SessionsPath(c.env["COGAUTH_HOME"])
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			r := c.ok(alicePW+"\n", "login", "-u", "alice", "--password-stdin")
			if strings.Count(r.err, "could not be read") != 1 || !strings.Contains(r.err, path+" could not be read") {
				t.Errorf("login's warning does not name %s once: %q", path, r.err)
			}
			tr := c.ok("", "token")
			if tok := strings.TrimSpace(tr.out); !jwtRE.MatchString(tok) {
				t.Fatalf("token: %q", tok)
			}
			lr := c.ok("", "logout")
			if strings.Contains(tr.err+lr.err, "could not be read") {
				t.Errorf("warned again: %q %q", tr.err, lr.err)
			}
			kept, _ := filepath.Glob(path + ".corrupt-*")
			if len(kept) != 1 {
				t.Fatalf("set-aside files %q, want one", kept)
			}
			fi, err := os.Stat(kept[0])
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("set-aside file mode: %v %v", fi, err)
			}
			if b, _ := os.ReadFile(kept[0]); string(b) != string(tc.data) {
				t.Fatal("the set-aside file is not the old one")
			}
		})
	}
}

// TestLooseSessionsFilePermissions: a sessions file others may read, or a
// directory others may write, is a warning that names the chmod to run; the
// command works.
func TestLooseSessionsFilePermissions(t *testing.T) {
	p := newTestPool(t, nil)
	c := newCLI(t, p)
	c.env["COGAUTH_STORE"] = "file"
	c.ok(alicePW+"\n", "login", "-u", "alice", "--password-stdin")
	path := config.SessionsPath(c.env["COGAUTH_HOME"])
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Dir(path), 0o777); err != nil {
		t.Fatal(err)
	}
	r := c.ok("", "token")
	for _, want := range []string{"chmod 600 " + path, "chmod 700 " + filepath.Dir(path)} {
		if !strings.Contains(r.err, want) {
			t.Errorf("no %q in the warning: %q", want, r.err)
		}
	}
}
