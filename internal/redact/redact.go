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

// Box keeps a value (a secret, in a type's unexported fields) behind a pointer.
// fmt prints a pointer met inside a value as its address, and encoding/json
// skips unexported fields, so a boxed secret cannot be printed by reflection
// from the value that holds it: unprintable by construction, with no printing
// method on the holder. T must not be an array, slice, struct or map: for %s
// and %q, fmt's bad-verb form follows one pointer to those and prints the
// target; box a pointer to them instead (Box[*Config], Box[*[32]byte]), which
// it never follows. Box itself prints as "[redacted]" (or "[empty]").
type Box[T comparable] struct{ p *T }

// NewBox boxes v.
func NewBox[T comparable](v T) Box[T] { return Box[T]{&v} }

// Get returns the boxed value (T's zero value for an empty Box).
func (b Box[T]) Get() T {
	if b.p == nil {
		var zero T
		return zero
	}
	return *b.p
}

// String is "[redacted]", or "[empty]" when the Box holds T's zero value.
func (b Box[T]) String() string {
	var zero T
	if b.p == nil || *b.p == zero {
		return Mark("")
	}
	return Mark("x")
}

// Format prints String for every verb.
func (b Box[T]) Format(f fmt.State, verb rune) { Format(f, verb, b.String()) }
