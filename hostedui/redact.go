package hostedui

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/cogauth/cogauth/internal/redact"
)

// The types here that hold a secret where fmt cannot reach it through the
// secret's own redacting type (an unexported field) print, marshal and log as a
// summary instead, in every fmt verb, JSON, text and slog.

// String summarises the client: domain, app client, and whether it has a secret.
func (c *Client) String() string {
	if c == nil {
		return "hostedui.Client(nil)"
	}
	return c.options().String()
}

// Format prints the summary for every verb.
func (c *Client) Format(f fmt.State, verb rune) { redact.Format(f, verb, c.String()) }

// MarshalJSON writes the summary's fields.
func (c *Client) MarshalJSON() ([]byte, error) {
	if c == nil {
		return []byte("null"), nil
	}
	return c.options().MarshalJSON()
}

// MarshalText writes the summary.
func (c *Client) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// LogValue gives slog the summary's fields.
func (c *Client) LogValue() slog.Value {
	if c == nil {
		return slog.StringValue(c.String())
	}
	return c.options().LogValue()
}

// String summarises the options without the client secret.
func (o Options) String() string {
	return fmt.Sprintf("hostedui.Client{domain=%s client=%s secret=%s}", o.Domain, o.ClientID, redact.Mark(string(o.ClientSecret)))
}

// Format prints the summary for every verb.
func (o Options) Format(f fmt.State, verb rune) { redact.Format(f, verb, o.String()) }

// MarshalJSON writes the options without the client secret.
func (o Options) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Domain       string   `json:"domain"`
		ClientID     string   `json:"clientId"`
		ClientSecret string   `json:"clientSecret,omitempty"`
		RedirectURI  string   `json:"redirectUri,omitempty"`
		Scopes       []string `json:"scopes,omitempty"`
	}{o.Domain, o.ClientID, secretMark(o), o.RedirectURI, o.Scopes})
}

func secretMark(o Options) string {
	if o.ClientSecret == "" {
		return ""
	}
	return redact.Mark(string(o.ClientSecret))
}

// MarshalText writes the summary.
func (o Options) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// LogValue gives slog the options without the client secret.
func (o Options) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("domain", o.Domain),
		slog.String("client_id", o.ClientID),
		slog.String("client_secret", redact.Mark(string(o.ClientSecret))),
	)
}

// Format prints the summary (no PKCE verifier) for every verb. JSON keeps the
// default form: the exported fields, which go through the browser anyway; the
// verifier is unexported and never marshalled.
func (r *AuthRequest) Format(f fmt.State, verb rune) { redact.Format(f, verb, r.String()) }

// LogValue gives slog the redirect, never the verifier.
func (r *AuthRequest) LogValue() slog.Value { return slog.StringValue(r.String()) }

// String summarises the tokens: which are present and when the access token
// expires.
func (t Tokens) String() string {
	return fmt.Sprintf("hostedui.Tokens{access=%s id=%s refresh=%s type=%s expiry=%s}",
		redact.Mark(string(t.AccessToken)), redact.Mark(string(t.IDToken)), redact.Mark(string(t.RefreshToken)), t.TokenType, t.Expiry.UTC().Format(time.RFC3339))
}

// Format prints the summary for every verb. (Without it, fmt's own error path for
// a verb a pointer does not take prints the fields raw.)
func (t Tokens) Format(f fmt.State, verb rune) { redact.Format(f, verb, t.String()) }

// LogValue gives slog the summary.
func (t Tokens) LogValue() slog.Value { return slog.StringValue(t.String()) }

// options are the Client's options as given, the secret included, for its
// summaries (which show only whether there is one).
func (c *Client) options() Options {
	o := c.opts
	o.ClientSecret = c.secret.Get()
	return o
}
