package identity

import (
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/cogauth/cogauth/internal/redact"
)

// String names the login's provider and user, never its id token.
func (l Login) String() string {
	if l.guest() {
		return "identity.Login{guest}"
	}
	return "identity.Login{provider=" + l.Provider + " sub=" + l.Sub + " token=[redacted]}"
}

// Format prints the summary for every verb (the id token sits in an unexported
// field, which fmt would otherwise print raw).
func (l Login) Format(f fmt.State, verb rune) { redact.Format(f, verb, l.String()) }

// MarshalJSON writes the provider and user, never the token.
func (l Login) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Provider string `json:"provider,omitempty"`
		Sub      string `json:"sub,omitempty"`
	}{l.Provider, l.Sub})
}

// LogValue gives slog the provider and user.
func (l Login) LogValue() slog.Value {
	return slog.GroupValue(slog.String("provider", l.Provider), slog.String("sub", l.Sub))
}

// Format prints the credentials' summary (String) for every verb, so that no
// verb, fmt's error path included, reaches the secret fields.
func (c Credentials) Format(f fmt.State, verb rune) { redact.Format(f, verb, c.String()) }

// String summarises the client: pool and region.
func (c *Client) String() string {
	if c == nil {
		return "identity.Client(nil)"
	}
	return "identity.Client{pool=" + c.opts.IdentityPoolID + " region=" + c.opts.Region + "}"
}

// Format prints the summary for every verb.
func (c *Client) Format(f fmt.State, verb rune) { redact.Format(f, verb, c.String()) }

// LogValue gives slog the summary.
func (c *Client) LogValue() slog.Value { return slog.StringValue(c.String()) }
