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

func TestKinds(t *testing.T) {
	names := map[string]bool{}
	for _, k := range Kinds() {
		n := k.String()
		if names[n] || strings.HasPrefix(n, "kind(") {
			t.Fatalf("kind %d has name %q (repeated or unnamed)", k, n)
		}
		names[n] = true
		if got, err := ParseKind(n); err != nil || got != k {
			t.Fatalf("ParseKind(%q) = %v, %v", n, got, err)
		}
	}
	if _, err := ParseKind("sessions"); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("ParseKind of an unknown name: %v", err)
	}
	if (Key{}).Kind != KindSession {
		t.Fatal("the zero Kind is not KindSession")
	}
	for k, want := range map[Key]string{
		{Pool: "p", Client: "c", User: "u"}:                                "p/c/u",
		{Kind: KindDevice, Pool: "p", Client: "c", User: "u"}:              "device:p/c/u",
		{Kind: KindCurrentUser, Namespace: "work", Pool: "p", Client: "c"}: "[work]current-user:p/c/",
	} {
		if got := k.String(); got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	}
}

// release1Records are the records in testdata/release1-sessions.json, which the
// file store of release 1 (commit 2843cba) wrote, each under the key its caller
// used then (session/, identity/ and cmd/cogauth's conventions inside the Key
// fields). Here is each as a typed key.
func release1Records() map[Key]string {
	const pool, client, ipool = "us-east-1_Old", "oldclient", "us-east-1:11111111-2222-4333-8444-555555555555"
	return map[Key]string{
		{Pool: pool, Client: client, User: "alice"}:                                                                        "session of alice",
		{Pool: pool, Client: client, User: "bob@example.com"}:                                                              "session of bob",
		{Kind: KindCurrentUser, Pool: pool, Client: client}:                                                                "alice",
		{Kind: KindDevice, Pool: pool, Client: client, User: "alice"}:                                                      "device of alice",
		{Kind: KindDeviceLogin, Pool: pool, Client: client, User: "alice@example.com"}:                                     "login alice@example.com",
		{Kind: KindProfile, Pool: pool, Client: client, User: "default"}:                                                   "alice",
		{Kind: KindProfile, Pool: pool, Client: client, User: "work"}:                                                      "bob@example.com",
		{Kind: KindHostedUI, Pool: pool, Client: client, User: "bob@example.com"}:                                          "https://auth.example.com",
		{Kind: KindIdentityID, Pool: ipool, Client: "cognito-idp.us-east-1.amazonaws.com/us-east-1_Old", User: "3f1e-sub"}: `{"identityId":"us-east-1:aaaa"}`,
		{Kind: KindIdentityID, Pool: ipool}:                                                                                `{"identityId":"us-east-1:guest"}`,
	}
}

// TestFileReadsRelease1: a file written by release 1 loads as typed records, and
// the first write rewrites it in today's format without losing any of them or
// reusing a version.
func TestFileReadsRelease1(t *testing.T) {
	ctx := context.Background()
	old, err := os.ReadFile("testdata/release1-sessions.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(old, []byte(`"format": "cogauth-sessions/1"`)) {
		t.Fatal("testdata is not a release 1 file")
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
	for k, want := range release1Records() {
		e, err := f.Get(ctx, k)
		if err != nil || string(e.Data) != want {
			t.Fatalf("Get %s = %q, %v; want %q", k, e.Data, err, want)
		}
		versions[k] = e.Version
		maxV = max(maxV, e.Version)
	}
	if u, err := CurrentUser(ctx, f, "us-east-1_Old", "oldclient"); err != nil || u != "alice" {
		t.Fatalf("CurrentUser = %q, %v", u, err)
	}
	// Reading changed nothing on disk.
	if b, _ := os.ReadFile(path); !bytes.Equal(b, old) {
		t.Fatal("a read rewrote the file")
	}
	// A compare-and-swap on a version read from the old file works, and migrates.
	dev := Key{Kind: KindDevice, Pool: "us-east-1_Old", Client: "oldclient", User: "alice"}
	v, err := f.Put(ctx, dev, []byte("device of alice, again"), versions[dev], time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if v <= maxV {
		t.Fatalf("new version %d not above release 1's %d", v, maxV)
	}
	b, _ := os.ReadFile(path)
	if !bytes.Contains(b, []byte(`"format": "cogauth-sessions/2"`)) || bytes.Contains(b, []byte(" device ")) {
		t.Fatalf("file not rewritten in today's layout:\n%s", b)
	}
	for k, want := range release1Records() {
		if k == dev {
			want = "device of alice, again"
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
