package browsertest_test

import "testing"

// TestExampleStart runs the example's test.
func TestExampleStart(t *testing.T) { testPage(t) }
