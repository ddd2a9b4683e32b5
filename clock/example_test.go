package clock_test

import (
	"fmt"
	"time"

	"github.com/cogauth/cogauth/clock"
)

// tokenExpired is code under test: it takes the time from a clock.Clock, so a
// test moves the time instead of sleeping.
func tokenExpired(c clock.Clock, expiresAt time.Time) bool {
	return !c.Now().Before(expiresAt)
}

func ExampleFake() {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c := clock.NewFake(start)
	expiresAt := start.Add(time.Hour)

	fmt.Println("expired at start:", tokenExpired(c, expiresAt))
	c.Advance(time.Hour)
	fmt.Println("expired an hour on:", tokenExpired(c, expiresAt))
	c.Set(start.Add(30 * time.Minute))
	fmt.Println("back to", c.Now().Format(time.Kitchen), "expired:", tokenExpired(c, expiresAt))

	// A program passes the real clock.
	fmt.Println("system clock expired:", tokenExpired(clock.System{}, time.Now().Add(time.Hour)))
	// Output:
	// expired at start: false
	// expired an hour on: true
	// back to 12:30PM expired: false
	// system clock expired: false
}
