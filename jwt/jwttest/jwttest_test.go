package jwttest_test

import "testing"

// TestExampleNewIssuer runs the example's test.
func TestExampleNewIssuer(t *testing.T) { testMiddleware(t) }
