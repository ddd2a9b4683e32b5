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
)

func TestKeys(t *testing.T) {
	for k, want := range map[Key]string{
		Join("s", "us-east-1_A", "web", "alice"):        "s:us-east-1_A/web/alice",
		Join("u", "p", "c", ""):                         "u:p/c/",
		Join("d", "p", "c", "a/b:c{d} %"):               "d:p/c/a%2Fb%3Ac%7Bd%7D%20%25",
		Join("a:b", "x"):                                "a%3Ab:x",
		Join("n"):                                       "n:",
		Join("s", "p", "c", "u").In("profile:work"):     "s:profile%3Awork:p/c/u",
		Join("s", "p", "c", "u").In(""):                 "s:p/c/u",
		Join("s", "p", "c", "u").In("ws/1").In("outer"): "s:outer:ws%2F1:p/c/u",
		Key("plain").In("ns"):                           "ns:plain",
	} {
		if string(k) != want {
			t.Errorf("key %q, want %q", k, want)
		}
		if err := k.Validate(); err != nil {
			t.Errorf("Validate(%q): %v", k, err)
		}
	}
	// Parts that a naive join would merge stay apart.
	if Join("s", "a/b", "c") == Join("s", "a", "b/c") || Join("s", "a", "") == Join("s", "a") || Join("a", "b") == Join("a:b") {
		t.Fatal("Join merged different parts")
	}
	for _, k := range []Key{"", "a b", "a{b}", "é", Key(strings.Repeat("a", MaxKeyLen+1)), "a\x00"} {
		if err := k.Validate(); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Validate(%q) = %v, want ErrInvalidKey", k, err)
		}
	}
	if err := Key(strings.Repeat("a", MaxKeyLen)).Validate(); err != nil {
		t.Errorf("a key of MaxKeyLen: %v", err)
	}
}

// FuzzJoin: keys joined from any parts are valid, and different parts give
// different keys.
func FuzzJoin(f *testing.F) {
	f.Add("s", "a/b", "c", "s", "a", "b/c")
	f.Add("u", "p", "", "u", "p%2F", "")
	f.Fuzz(func(t *testing.T, n1, a1, b1, n2, a2, b2 string) {
		k1, k2 := Join(n1, a1, b1), Join(n2, a2, b2)
		if len(k1) <= MaxKeyLen {
			if err := k1.Validate(); err != nil {
				t.Fatalf("Join(%q, %q, %q) = %q: %v", n1, a1, b1, k1, err)
			}
		}
		if (k1 == k2) != (n1 == n2 && a1 == a2 && b1 == b2) {
			t.Fatalf("Join(%q, %q, %q) = %q and Join(%q, %q, %q) = %q", n1, a1, b1, k1, n2, a2, b2, k2)
		}
	})
}

// release1Records are the records in testdata/release1-sessions.json, which the
// file store of release 1 (commit 2843cba) wrote, each under the key its caller
// uses today (session/, identity/ and cmd/cogauth's names, written out).
func release1Records() map[Key]string {
	return map[Key]string{
		"s:us-east-1_Old/oldclient/alice":              "session of alice",
		"s:us-east-1_Old/oldclient/bob@example.com":    "session of bob",
		"u:us-east-1_Old/oldclient/":                   "alice",
		"d:us-east-1_Old/oldclient/alice":              "device of alice",
		"dl:us-east-1_Old/oldclient/alice@example.com": "login alice@example.com",
		"p:us-east-1_Old/oldclient/default":            "alice",
		"p:us-east-1_Old/oldclient/work":               "bob@example.com",
		"h:us-east-1_Old/oldclient/bob@example.com":    "https://auth.example.com",
		"i:us-east-1%3A11111111-2222-4333-8444-555555555555/cognito-idp.us-east-1.amazonaws.com%2Fus-east-1_Old/3f1e-sub": `{"identityId":"us-east-1:aaaa"}`,
		"i:us-east-1%3A11111111-2222-4333-8444-555555555555//":                                                            `{"identityId":"us-east-1:guest"}`,
	}
}

// release2Records are the records in testdata/release2-sessions.json, which
// release 2's own file store (b3a3179) wrote (testdata/release2-fixture.go.txt
// is the program, run in a checkout of that commit), each under the key its
// caller uses today.
func release2Records() map[Key]string {
	return map[Key]string{
		"s:us-east-1_Rel2/rel2client/alice":              "session of alice",
		"s:us-east-1_Rel2/rel2client/bob@example.com":    "session of bob",
		"u:us-east-1_Rel2/rel2client/":                   "alice",
		"d:us-east-1_Rel2/rel2client/alice":              "device of alice",
		"dl:us-east-1_Rel2/rel2client/alice@example.com": "alice",
		"i:us-east-1%3A22222222-3333-4444-8555-666666666666/cognito-idp.us-east-1.amazonaws.com%2Fus-east-1_Rel2/4a2f-sub": `{"identityId":"us-east-1:bbbb"}`,
		"i:us-east-1%3A22222222-3333-4444-8555-666666666666//":                                                             `{"identityId":"us-east-1:guest2"}`,
		"p:profile%3Awork:us-east-1_Rel2/rel2client/work":                                                                  "bob@example.com",
		"s:profile%3Awork:us-east-1_Rel2/rel2client/bob@example.com":                                                       "session of bob at work",
		"u:profile%3Awork:us-east-1_Rel2/rel2client/":                                                                      "bob@example.com",
		"d:profile%3Awork:us-east-1_Rel2/rel2client/bob@example.com":                                                       "device of bob at work",
		"p:profile%3Awork:us-east-1_Rel2/rel2client/pending%3Alogin":                                                       `{"name":"SMS_MFA"}`,
		"s:ws%2F0123abcd:us-east-1_Rel2/rel2client/web":                                                                    "sealed web bundle",
		"s:wsh:us-east-1_Rel2/rel2client/3fa0":                                                                             "sealed index bucket",
		"s:us-east-1_Rel2/rel2client/carol%2Fwith%3Aodd%7Bchars%7D%20%25":                                                  "session of an odd name",
	}
}

// TestFileReadsOldReleases: a file written by release 1 or 2 loads under
// today's keys, and the first write rewrites it in today's format without losing
// any record or reusing a version.
func TestFileReadsOldReleases(t *testing.T) {
	t.Run("release1", func(t *testing.T) {
		testFileReadsOld(t, "testdata/release1-sessions.json", "cogauth-sessions/1", release1Records(), "d:us-east-1_Old/oldclient/alice")
	})
	t.Run("release2", func(t *testing.T) {
		testFileReadsOld(t, "testdata/release2-sessions.json", "cogauth-sessions/2", release2Records(), "d:profile%3Awork:us-east-1_Rel2/rel2client/bob@example.com")
	})
}

func testFileReadsOld(t *testing.T, fixture, format string, records map[Key]string, dev Key) {
	ctx := context.Background()
	old, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(old, []byte(`"format": "`+format+`"`)) {
		t.Fatalf("%s is not a %s file", fixture, format)
	}
	path := filepath.Join(t.TempDir(), "sessions.json")
	if err := os.WriteFile(path, old, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := NewFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var maxV uint64
	versions := map[Key]uint64{}
	for k, want := range records {
		e, err := f.Get(ctx, k)
		if err != nil || string(e.Data) != want {
			t.Fatalf("Get %s = %q, %v; want %q", k, e.Data, err, want)
		}
		versions[k] = e.Version
		maxV = max(maxV, e.Version)
	}
	if n := bytes.Count(old, []byte(`"version"`)); n != len(records) {
		t.Fatalf("the fixture holds %d records, the test names %d", n, len(records))
	}
	// Reading changed nothing on disk.
	if b, _ := os.ReadFile(path); !bytes.Equal(b, old) {
		t.Fatal("a read rewrote the file")
	}
	// A compare-and-swap on a version read from the old file works, and migrates.
	v, err := f.Put(ctx, dev, []byte("device, again"), versions[dev], time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if v <= maxV {
		t.Fatalf("new version %d not above the old file's %d", v, maxV)
	}
	b, _ := os.ReadFile(path)
	if !bytes.Contains(b, []byte(`"format": "cogauth-sessions/3"`)) || bytes.Contains(b, []byte(" device ")) || bytes.Contains(b, []byte(`"kind"`)) {
		t.Fatalf("file not rewritten in today's layout:\n%s", b)
	}
	for k, want := range records {
		if k == dev {
			want = "device, again"
		}
		e, err := f.Get(ctx, k)
		if err != nil || string(e.Data) != want {
			t.Fatalf("after the rewrite, Get %s = %q, %v; want %q", k, e.Data, err, want)
		}
		if k != dev && e.Version != versions[k] {
			t.Fatalf("after the rewrite, %s has version %d, was %d", k, e.Version, versions[k])
		}
	}
}
