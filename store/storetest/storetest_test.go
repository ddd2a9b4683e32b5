package storetest_test

import "testing"

// TestExampleRun runs the example's test.
func TestExampleRun(t *testing.T) { testContract(t) }
