// Package secret holds the types of values that must never be printed: tokens,
// passwords, codes, client secrets, SRP values, device passwords, session and
// cookie keys. A String or a Bytes prints, marshals and logs as "[redacted]" (or
// "[empty]" when it holds nothing) in every fmt verb, encoding/json,
// encoding.TextMarshaler and log/slog, so a struct that holds its secrets in
// these types needs no printing method of its own to keep them out of output.
// Reveal is the only way to read the value.
//
// Unmarshalling into a String works as for a string, and into a Bytes as for a
// []byte, so values read from configuration or storage keep working; marshalling
// never writes the value. Code that must persist a secret encodes Reveal's
// result itself.
//
// The package imports nothing of the module (srp, the lowest package, uses it).
package secret

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
)

const (
	redacted = "[redacted]"
	empty    = "[empty]"
)

// String is a secret text value.
type String string

// Reveal returns the secret value.
func (s String) Reveal() string { return string(s) }

// String returns "[redacted]" ("[empty]" for the empty secret, which helps
// debugging without revealing anything).
func (s String) String() string { return mark(len(s)) }

// GoString is the %#v form.
func (s String) GoString() string { return "secret.String(" + s.String() + ")" }

// Format prints the redacted form for every verb.
func (s String) Format(f fmt.State, verb rune) { format(f, verb, s.String(), s.GoString()) }

// MarshalJSON writes "[redacted]".
func (s String) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText writes "[redacted]".
func (s String) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogValue gives slog "[redacted]".
func (s String) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Bytes is a secret binary value (a key).
type Bytes []byte

// Reveal returns the secret value (not a copy).
func (b Bytes) Reveal() []byte { return b }

// String returns "[redacted]" ("[empty]" for an empty secret).
func (b Bytes) String() string { return mark(len(b)) }

// GoString is the %#v form.
func (b Bytes) GoString() string { return "secret.Bytes(" + b.String() + ")" }

// Format prints the redacted form for every verb.
func (b Bytes) Format(f fmt.State, verb rune) { format(f, verb, b.String(), b.GoString()) }

// MarshalJSON writes "[redacted]".
func (b Bytes) MarshalJSON() ([]byte, error) { return json.Marshal(b.String()) }

// MarshalText writes "[redacted]".
func (b Bytes) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// LogValue gives slog "[redacted]".
func (b Bytes) LogValue() slog.Value { return slog.StringValue(b.String()) }

func mark(n int) string {
	if n == 0 {
		return empty
	}
	return redacted
}

// format writes s for verb (quoted for %q), or goString for %#v.
func format(f fmt.State, verb rune, s, goString string) {
	switch {
	case verb == 'v' && f.Flag('#'):
		s = goString
	case verb == 'q':
		s = strconv.Quote(s)
	}
	_, _ = io.WriteString(f, s)
}
