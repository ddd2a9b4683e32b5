package jwt

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/cogauth/cogauth/secret"
)

// Tokens end up in log lines, error messages, panics and JSON dumps by accident
// far more often than on purpose, so every way Go prints or serialises a Token is
// overridden to show a harmless summary instead. The token itself comes out only
// through Token.Raw.

// String summarises the token without its content: kind, subject and expiry.
func (t *Token) String() string {
	if t == nil {
		return "jwt.Token(nil)"
	}
	b := make([]byte, 0, 96)
	b = append(b, "jwt.Token{use="...)
	if t.claims.TokenUse != "" {
		b = append(b, t.claims.TokenUse...)
	} else {
		b = append(b, '?')
	}
	if t.claims.Sub != "" {
		b = append(b, " sub="...)
		b = append(b, t.claims.Sub...)
	}
	if !t.claims.Exp.IsZero() {
		b = append(b, " exp="...)
		b = t.claims.Exp.UTC().AppendFormat(b, time.RFC3339)
	}
	b = append(b, '}')
	return string(b)
}

// GoString is the %#v form, redacted like String.
func (t *Token) GoString() string { return t.String() }

// Format prints the redacted summary for every verb, so that %x or %+v cannot
// reach the fields.
func (t *Token) Format(f fmt.State, verb rune) { formatRedacted(f, verb, t.String()) }

// MarshalJSON writes the redacted summary as a JSON string.
func (t *Token) MarshalJSON() ([]byte, error) { return json.Marshal(t.String()) }

// MarshalText writes the redacted summary.
func (t *Token) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// LogValue gives slog the token's kind, subject and expiry, never the token.
func (t *Token) LogValue() slog.Value {
	if t == nil {
		return slog.StringValue("jwt.Token(nil)")
	}
	return slog.GroupValue(
		slog.String("use", string(t.claims.TokenUse)),
		slog.String("sub", t.claims.Sub),
		slog.Time("exp", t.claims.Exp),
	)
}

func formatRedacted(f fmt.State, verb rune, s string) {
	if verb == 'q' {
		s = strconv.Quote(s)
	}
	_, _ = io.WriteString(f, s)
}

// Secret is an opaque credential (a refresh token, a device password, a client
// secret) that redacts itself wherever it may be printed or serialised: it is
// secret.String, under the name it had before that package existed. Reveal is
// the only way to read it. Unmarshalling into a Secret works as for a string.
type Secret = secret.String
