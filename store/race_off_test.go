//go:build !race

package store_test

// raceEnabled: this test binary runs under the race detector.
const raceEnabled = false
