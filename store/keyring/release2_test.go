package keyring

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cogauth/cogauth/store"
	"github.com/cogauth/cogauth/store/internal/migrate/migratetest"
)

// TestKeyringReadsRelease2: the entries release 2's keyring store wrote
// (../testdata/release2-backends.json, by ../testdata/release2-fixture.go.txt
// run on b3a3179) are read where they are under today's keys, the records those
// of release 2's file store written by the same program; a write replaces one
// in place.
func TestKeyringReadsRelease2(t *testing.T) {
	ctx := context.Background()
	b, err := os.ReadFile("../testdata/release2-backends.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx struct {
		Keyring map[string]string `json:"keyring"`
	}
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	fk := newFakeKeyring(0)
	for k, v := range fx.Keyring {
		fk.entries[k] = v
	}
	before := fk.len()
	s, err := New(Options{Service: "cogauth-r2", Backend: fk, LockDir: filepath.Join(t.TempDir(), "locks")})
	if err != nil {
		t.Fatal(err)
	}
	want := migratetest.Release2Records(t)
	for k, data := range want {
		e, err := s.Get(ctx, k)
		if err != nil || string(e.Data) != data {
			t.Fatalf("Get %s = %q, %v; want %q", k, e.Data, err, data)
		}
	}
	if len(want) != before {
		t.Fatalf("%d entries, %d records", before, len(want))
	}
	k := store.Join("d", "us-east-1_Rel2", "rel2client", "alice")
	e, _ := s.Get(ctx, k)
	if _, err := s.Put(ctx, k, []byte("device, again"), e.Version, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if fk.len() != before {
		t.Fatalf("%d entries after a write, want %d: the record moved", fk.len(), before)
	}
	if _, err := fk.Get("cogauth-r2", "device:us-east-1_Rel2/rel2client/alice"); err != nil {
		t.Fatalf("release 2's entry: %v", err)
	}
}
