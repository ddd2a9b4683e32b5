package cognito

import (
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/cogauth/cogauth/internal/redact"
)

// The types here that hold a secret in a field fmt cannot reach through the
// secret's own redacting type (an unexported field, a plain string) print,
// marshal and log as a summary instead, in every fmt verb, JSON, text and slog.

// String summarises the client: pool, app client, region, and whether it has a
// secret.
func (c *Client) String() string {
	if c == nil {
		return "cognito.Client(nil)"
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

// options are the Client's options as given, the secret included, for its
// summaries (which show only whether there is one).
func (c *Client) options() Options {
	o := c.opts
	o.ClientSecret = c.secret.Get()
	return o
}

// String summarises the options without the client secret.
func (o Options) String() string {
	return fmt.Sprintf("cognito.Client{pool=%s client=%s region=%s secret=%s}", o.UserPoolID, o.ClientID, o.Region, redact.Mark(string(o.ClientSecret)))
}

// Format prints the summary for every verb.
func (o Options) Format(f fmt.State, verb rune) { redact.Format(f, verb, o.String()) }

type optionsJSON struct {
	UserPoolID       string `json:"userPoolId"`
	ClientID         string `json:"clientId"`
	ClientSecret     string `json:"clientSecret,omitempty"`
	Region           string `json:"region,omitempty"`
	Endpoint         string `json:"endpoint,omitempty"`
	RefreshOperation string `json:"refreshOperation"`
}

// MarshalJSON writes the options without the client secret.
func (o Options) MarshalJSON() ([]byte, error) {
	j := optionsJSON{UserPoolID: o.UserPoolID, ClientID: o.ClientID, Region: o.Region, Endpoint: o.Endpoint, RefreshOperation: o.RefreshOperation.String()}
	if o.ClientSecret != "" {
		j.ClientSecret = redact.Mark(string(o.ClientSecret))
	}
	return json.Marshal(j)
}

// MarshalText writes the summary.
func (o Options) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// LogValue gives slog the options without the client secret.
func (o Options) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("user_pool_id", o.UserPoolID),
		slog.String("client_id", o.ClientID),
		slog.String("region", o.Region),
		slog.String("client_secret", redact.Mark(string(o.ClientSecret))),
	)
}

// String summarises the admin client as its Client.
func (a *AdminClient) String() string {
	if a == nil {
		return "cognito.AdminClient(nil)"
	}
	return "cognito.AdminClient{" + a.c.String() + "}"
}

// Format prints the summary for every verb.
func (a *AdminClient) Format(f fmt.State, verb rune) { redact.Format(f, verb, a.String()) }

// MarshalJSON writes the summary as a JSON string.
func (a *AdminClient) MarshalJSON() ([]byte, error) { return json.Marshal(a.String()) }

// MarshalText writes the summary.
func (a *AdminClient) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// LogValue gives slog the summary.
func (a *AdminClient) LogValue() slog.Value { return slog.StringValue(a.String()) }

// String summarises the input without the password.
func (in SignInInput) String() string {
	dev := ""
	if in.Device != nil {
		dev = " device=" + in.Device.Key
	}
	return fmt.Sprintf("cognito.SignInInput{user=%s password=%s%s}", in.Username, redact.Mark(in.Password), dev)
}

// Format prints the summary for every verb.
func (in SignInInput) Format(f fmt.State, verb rune) { redact.Format(f, verb, in.String()) }

// MarshalJSON writes the summary as a JSON string.
func (in SignInInput) MarshalJSON() ([]byte, error) { return json.Marshal(in.String()) }

// MarshalText writes the summary.
func (in SignInInput) MarshalText() ([]byte, error) { return []byte(in.String()), nil }

// LogValue gives slog the user, never the password.
func (in SignInInput) LogValue() slog.Value {
	return slog.GroupValue(slog.String("user", in.Username), slog.String("password", redact.Mark(in.Password)))
}

// String summarises the answer without its codes and passwords.
func (a Answer) String() string {
	return fmt.Sprintf("cognito.Answer{code=%s new_password=%s mfa=%s responses=%d}", redact.Mark(a.Code), redact.Mark(a.NewPassword), a.MFAType, len(a.Responses))
}

// Format prints the summary for every verb.
func (a Answer) Format(f fmt.State, verb rune) { redact.Format(f, verb, a.String()) }

// MarshalJSON writes the summary as a JSON string.
func (a Answer) MarshalJSON() ([]byte, error) { return json.Marshal(a.String()) }

// MarshalText writes the summary.
func (a Answer) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// LogValue gives slog the summary.
func (a Answer) LogValue() slog.Value { return slog.StringValue(a.String()) }

// String summarises the input without the refresh token.
func (in RefreshInput) String() string {
	return fmt.Sprintf("cognito.RefreshInput{user=%s refresh_token=%s device=%s}", in.Username, redact.Mark(string(in.RefreshToken)), in.DeviceKey)
}

// Format prints the summary for every verb.
func (in RefreshInput) Format(f fmt.State, verb rune) { redact.Format(f, verb, in.String()) }

// MarshalJSON writes the summary as a JSON string.
func (in RefreshInput) MarshalJSON() ([]byte, error) { return json.Marshal(in.String()) }

// MarshalText writes the summary.
func (in RefreshInput) MarshalText() ([]byte, error) { return []byte(in.String()), nil }

// LogValue gives slog the summary.
func (in RefreshInput) LogValue() slog.Value { return slog.StringValue(in.String()) }

// GoString is the %#v form: the summary, not the session or the SRP parameters.
func (ch *Challenge) GoString() string { return ch.String() }

// Format prints the summary for every verb.
func (ch *Challenge) Format(f fmt.State, verb rune) { redact.Format(f, verb, ch.String()) }

// MarshalJSON writes the challenge's name and user, not its session.
func (ch *Challenge) MarshalJSON() ([]byte, error) {
	if ch == nil {
		return []byte("null"), nil
	}
	return json.Marshal(struct {
		Name     string `json:"name"`
		Username string `json:"username,omitempty"`
	}{ch.Name, ch.Username})
}

// MarshalText writes the summary.
func (ch *Challenge) MarshalText() ([]byte, error) { return []byte(ch.String()), nil }

// LogValue gives slog the challenge's name and user.
func (ch *Challenge) LogValue() slog.Value {
	if ch == nil {
		return slog.StringValue("cognito.Challenge(nil)")
	}
	return slog.GroupValue(slog.String("name", ch.Name), slog.String("user", ch.Username))
}

// String summarises the tokens: which are present and the lifetime.
func (t Tokens) String() string {
	return fmt.Sprintf("cognito.Tokens{access=%s id=%s refresh=%s expires_in=%v}",
		redact.Mark(string(t.AccessToken)), redact.Mark(string(t.IDToken)), redact.Mark(string(t.RefreshToken)), t.ExpiresIn)
}

// Format prints the summary for every verb. (Without it, fmt's own error path for
// a verb a pointer does not take, %s of a Result, prints the fields raw.)
func (t Tokens) Format(f fmt.State, verb rune) { redact.Format(f, verb, t.String()) }

// LogValue gives slog the summary.
func (t Tokens) LogValue() slog.Value { return slog.StringValue(t.String()) }
