package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/cogauth/cogauth/internal/peers"
	"github.com/cogauth/cogauth/store"
	"github.com/cogauth/cogauth/store/internal/migrate/migratetest"
)

// TestRedisReadsRelease2: the keys release 2's Redis store wrote
// (../testdata/release2-backends.json, by ../testdata/release2-fixture.go.txt
// run on b3a3179 against redis-server: hashes, and the version-only tombstone of
// a deleted session) are read where they are under today's keys — a rolling
// upgrade moves nothing — the records those of release 2's file store written by
// the same program. A write replaces a record in place, and a session written
// again after its delete gets a version above its tombstone's.
func TestRedisReadsRelease2(t *testing.T) {
	addr := peers.Redis(t)
	raw := newRedisClient(t, addr)
	ctx := context.Background()
	b, err := os.ReadFile("../testdata/release2-backends.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx struct {
		Redis []struct {
			Key    string            `json:"key"`
			Type   string            `json:"type"`
			Fields map[string]string `json:"fields"`
		} `json:"redis"`
	}
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	raw.Del(ctx, "r2:s:us-east-1_Rel2/rel2client/deleted")
	for _, k := range fx.Redis {
		if k.Type != "hash" {
			t.Fatalf("release 2 wrote %s as a %s", k.Key, k.Type)
		}
		for f, v := range k.Fields {
			raw.HSet(ctx, k.Key, f, v)
		}
	}
	s := newRedisStore(t, newRedisClient(t, addr), Options{Prefix: "r2:"})
	want := migratetest.Release2Records(t)
	for k, data := range want {
		e, err := s.Get(ctx, k)
		if err != nil || string(e.Data) != data {
			t.Fatalf("Get %s = %q, %v; want %q", k, e.Data, err, data)
		}
	}
	if len(fx.Redis) != len(want)+1 {
		t.Fatalf("%d Redis keys, %d records and a tombstone", len(fx.Redis), len(want))
	}
	k := store.Join("s", "us-east-1_Rel2", "rel2client", "alice")
	e, _ := s.Get(ctx, k)
	if _, err := s.Put(ctx, k, []byte("session, again"), e.Version, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if n := raw.Exists(ctx, "r2:s:us-east-1_Rel2/rel2client/alice").Val(); n != 1 || raw.DBSize(ctx).Val() != int64(len(fx.Redis))+1 /* the migration's marker */ {
		t.Fatal("the write moved the record")
	}
	gone := store.Join("s", "us-east-1_Rel2", "rel2client", "deleted")
	if _, err := s.Get(ctx, gone); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("release 2's tombstone reads as %v", err)
	}
	tomb, _ := strconv.ParseUint(raw.HGet(ctx, "r2:s:us-east-1_Rel2/rel2client/deleted", "v").Val(), 10, 64)
	if v, err := s.Put(ctx, gone, []byte("again"), 0, time.Time{}); err != nil || v <= tomb || tomb == 0 {
		t.Fatalf("Put over release 2's tombstone (v%d): v%d, %v", tomb, v, err)
	}
}
