// Package redact is the shared plumbing of types that hold a token or a secret
// and must print, marshal and log as a harmless summary (jwt.Secret's model):
// Format writes the summary for every fmt verb, so %v, %+v, %#v, %s, %q and %x
// never reach the fields.
package redact

import (
	"fmt"
	"io"
	"strconv"
)

// Format writes summary for verb: quoted for %q, as it is for every other verb.
func Format(f fmt.State, verb rune, summary string) {
	if verb == 'q' {
		summary = strconv.Quote(summary)
	}
	_, _ = io.WriteString(f, summary)
}

// Mark is how a secret shows: "[redacted]", or "[empty]" when there is none.
func Mark(secret string) string {
	if secret == "" {
		return "[empty]"
	}
	return "[redacted]"
}
