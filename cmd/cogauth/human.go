package main

import (
	"fmt"
	"time"
)

// inWords says how far t is from now: "in 59 minutes", "3 hours ago".
func inWords(t, now time.Time) string {
	d := t.Sub(now)
	if d >= 0 {
		return "in " + span(d)
	}
	return span(-d) + " ago"
}

// span is a duration in the largest whole unit that fits, as people say it.
func span(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	// Round to the nearest unit: a token issued a second ago expires "in 1 hour",
	// not "in 59 minutes".
	round := func(unit time.Duration) int64 { return int64((d + unit/2) / unit) }
	switch {
	case d < time.Second:
		return "less than a second"
	case d < time.Minute-time.Second/2:
		return plural(round(time.Second), "second")
	case d < time.Hour-time.Minute/2:
		return plural(round(time.Minute), "minute")
	case d < 48*time.Hour-time.Hour/2:
		return plural(round(time.Hour), "hour")
	}
	return plural(round(24*time.Hour), "day")
}

// expiryLine is "2024-05-01T10:00:00Z (in 59 minutes)" or "… (expired 2 hours ago)".
func expiryLine(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	ts := t.UTC().Format(time.RFC3339)
	if t.After(now) {
		return ts + " (" + inWords(t, now) + ")"
	}
	return ts + " (expired " + inWords(t, now) + ")"
}
