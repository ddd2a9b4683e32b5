package storetest_test

import (
	"testing"

	"github.com/cogauth/cogauth/store"
	"github.com/cogauth/cogauth/store/storetest"
)

// testContract is the test a store backend of yours runs: open returns a fresh,
// empty instance for each subtest (a new file, a new key prefix, a flushed
// database). Here the memory store is the backend. (go test runs this one as
// TestExampleRun.)
func testContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return store.NewMemory() })
}

// A backend is held to the one contract every store keeps (Get, Put's
// compare-and-swap, Delete, versions, namespaces, Locker) in one call; the whole
// file is the example.
func ExampleRun() {
	// In your backend's _test.go file:
	//
	//	func TestContract(t *testing.T) { testContract(t) }
}
