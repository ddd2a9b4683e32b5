package store_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/store"
	"github.com/cogauth/cogauth/store/storetest"
)

func TestMemoryContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return store.NewMemory() })
}

func TestFileContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		f, err := store.NewFile(filepath.Join(t.TempDir(), "cfg", "sessions.json"))
		if err != nil {
			t.Fatal(err)
		}
		return f
	})
}

func TestMemoryExpiry(t *testing.T) {
	clk := clock.NewFake(time.Unix(1_900_000_000, 0))
	storetest.Expiry(t, func(*testing.T) store.Store { return &store.Memory{Clock: clk} }, storetest.ExpiryOptions{Clock: clk})
}

func TestFileExpiry(t *testing.T) {
	clk := clock.NewFake(time.Unix(1_900_000_000, 0))
	storetest.Expiry(t, func(t *testing.T) store.Store {
		f, err := store.OpenFile(filepath.Join(t.TempDir(), "sessions.json"), store.FileOptions{Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}, storetest.ExpiryOptions{Clock: clk})
}

func TestFileSharedBetweenInstances(t *testing.T) {
	// Two File values on one path behave like two processes.
	path := filepath.Join(t.TempDir(), "s.json")
	a, _ := store.NewFile(path)
	b, _ := store.NewFile(path)
	storetest.SharedInstances(t, a, b, store.Join("s", "p", "c", "u"))
}
