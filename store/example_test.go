package store_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/cogauth/cogauth/store"
)

// A Store is key to bytes with a version and an expiry: Put names the version it
// replaces, so two writers never overwrite each other unseen, and when the record
// ends. Memory and File (and the
// backends in store/redis, store/keyring, store/dynamodb) keep the same contract.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "store-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	file, err := store.NewFile(filepath.Join(dir, "sessions.json")) // 0600, atomic rewrites, locked across processes
	if err != nil {
		log.Fatal(err)
	}

	for _, s := range []store.Store{store.NewMemory(), file} {
		k := store.Join("s", "us-east-1_AbC", "web", "alice")
		v1, err := s.Put(ctx, k, []byte("first"), 0, time.Time{}) // 0: only if absent; no expiry
		if err != nil {
			log.Fatal(err)
		}
		if _, err := s.Put(ctx, k, []byte("again"), 0, time.Time{}); errors.Is(err, store.ErrConflict) {
			fmt.Println("second create: conflict")
		}
		if _, err := s.Put(ctx, k, []byte("second"), v1, time.Now().Add(time.Hour)); err != nil { // replaces version v1, ends in an hour
			log.Fatal(err)
		}
		e, err := s.Get(ctx, k)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s, newer version: %v\n", e.Data, e.Version != v1)

		// Namespaces keep independent owners apart in one store.
		if _, err := store.Namespaced(s, "profile-b").Get(ctx, k); errors.Is(err, store.ErrNotFound) {
			fmt.Println("other namespace: not found")
		}
		if err := s.Delete(ctx, k, e.Version); err != nil {
			log.Fatal(err)
		}
	}
	// Output:
	// second create: conflict
	// second, newer version: true
	// other namespace: not found
	// second create: conflict
	// second, newer version: true
	// other namespace: not found
}
