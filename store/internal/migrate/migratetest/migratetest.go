// Package migratetest gives the backends' tests the release 2 fixtures in
// store/testdata, read the way the migration reads them.
package migratetest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/cogauth/cogauth/store"
	"github.com/cogauth/cogauth/store/internal/migrate"
)

// Release2Records are the records of store/testdata/release2-sessions.json,
// which release 2's own file store wrote, under today's keys.
func Release2Records(t testing.TB) map[store.Key]string {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(here), "..", "..", "..", "testdata", "release2-sessions.json"))
	if err != nil {
		t.Fatal(err)
	}
	_, entries, err := migrate.File(b)
	if err != nil {
		t.Fatal(err)
	}
	out := map[store.Key]string{}
	for _, e := range entries {
		out[store.Key(e.Key)] = string(e.Data)
	}
	return out
}
