package session

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cogauth/cogauth/internal/redact"
)

// Every public value of this package that holds a token or a secret renders
// without it, whatever renders it: fmt's verbs (%v %+v %#v %s %q), json.Marshal,
// encoding.TextMarshaler and slog (text and JSON). jwt.Token and jwt.Secret
// redact themselves; the types here hold them next to AWS credentials (whose
// SDK type does not redact) and clients holding app client secrets, so they
// render summaries of their own.

// credsView is what may be shown of AWS credentials.
type credsView struct {
	AccessKeyID     string    `json:"access_key_id"`
	SecretAccessKey string    `json:"secret_access_key"`
	SessionToken    string    `json:"session_token,omitempty"`
	Expires         time.Time `json:"expires,omitzero"`
}

func viewCreds(c *aws.Credentials) *credsView {
	if c == nil {
		return nil
	}
	v := &credsView{AccessKeyID: c.AccessKeyID, SecretAccessKey: "[redacted]"}
	if c.SessionToken != "" {
		v.SessionToken = "[redacted]"
	}
	if c.CanExpire {
		v.Expires = c.Expires
	}
	return v
}

func (s Session) summary() string {
	creds := "none"
	if s.Credentials != nil {
		creds = "access_key_id=" + s.Credentials.AccessKeyID + " secret=[redacted]"
		if s.Credentials.CanExpire {
			creds += " expires=" + s.Credentials.Expires.UTC().Format(time.RFC3339)
		}
	}
	return fmt.Sprintf("session.Session{user=%s sub=%s source=%s access=%v id=%v refresh=%v identity=%s credentials={%s}}",
		s.Username, s.UserSub, s.Source, s.Tokens.Access, s.Tokens.ID, s.Tokens.Refresh, s.IdentityID, creds)
}

// String summarises the session without any secret.
func (s Session) String() string { return s.summary() }

// GoString is String: %#v shows no secret either.
func (s Session) GoString() string { return s.summary() }

// Format renders the summary for every verb.
func (s Session) Format(f fmt.State, verb rune) { redact.Format(f, verb, s.summary()) }

// sessionJSON is the redacted JSON shape of a Session.
type sessionJSON struct {
	Username    string     `json:"username"`
	UserSub     string     `json:"user_sub"`
	Source      Source     `json:"source"`
	Domain      string     `json:"domain,omitempty"`
	Tokens      Tokens     `json:"tokens"`
	IdentityID  string     `json:"identity_id,omitempty"`
	Credentials *credsView `json:"credentials,omitempty"`
}

// MarshalJSON renders the session with its tokens and secret keys redacted.
func (s Session) MarshalJSON() ([]byte, error) {
	return json.Marshal(sessionJSON{Username: s.Username, UserSub: s.UserSub, Source: s.Source, Domain: s.Domain, Tokens: s.Tokens, IdentityID: s.IdentityID, Credentials: viewCreds(s.Credentials)})
}

// MarshalText renders the summary.
func (s Session) MarshalText() ([]byte, error) { return []byte(s.summary()), nil }

// LogValue renders the session for slog without secrets.
func (s Session) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("username", s.Username), slog.String("sub", s.UserSub), slog.String("source", string(s.Source)),
		slog.Any("access", s.Tokens.Access),
	}
	if s.IdentityID != "" {
		attrs = append(attrs, slog.String("identity_id", s.IdentityID))
	}
	if s.Credentials != nil {
		attrs = append(attrs, slog.String("access_key_id", s.Credentials.AccessKeyID))
	}
	return slog.GroupValue(attrs...)
}

func (t Tokens) summary() string {
	return fmt.Sprintf("session.Tokens{access=%v id=%v refresh=%v device=%s}", t.Access, t.ID, t.Refresh, t.DeviceKey)
}

// String summarises the tokens without revealing them.
func (t Tokens) String() string { return t.summary() }

// GoString is String.
func (t Tokens) GoString() string { return t.summary() }

// Format renders the summary for every verb.
func (t Tokens) Format(f fmt.State, verb rune) { redact.Format(f, verb, t.summary()) }

// tokensJSON is the redacted JSON shape of Tokens.
type tokensJSON struct {
	Access    any    `json:"access"`
	ID        any    `json:"id,omitempty"`
	Refresh   string `json:"refresh,omitempty"`
	DeviceKey string `json:"device_key,omitempty"`
}

// MarshalJSON renders the tokens redacted (their summaries).
func (t Tokens) MarshalJSON() ([]byte, error) {
	v := tokensJSON{DeviceKey: t.DeviceKey}
	if t.Access != nil {
		v.Access = t.Access
	}
	if t.ID != nil {
		v.ID = t.ID
	}
	if t.Refresh != "" {
		v.Refresh = t.Refresh.String()
	}
	return json.Marshal(v)
}

// MarshalText renders the summary.
func (t Tokens) MarshalText() ([]byte, error) { return []byte(t.summary()), nil }

// LogValue renders the tokens for slog without revealing them.
func (t Tokens) LogValue() slog.Value { return slog.StringValue(t.summary()) }

func (r SignInResult) summary() string {
	switch {
	case r.Session != nil && r.NewDevice != nil:
		return "session.SignInResult{signed in, new device " + r.NewDevice.Key + ": " + r.Session.summary() + "}"
	case r.Session != nil:
		return "session.SignInResult{signed in: " + r.Session.summary() + "}"
	case r.Next != nil:
		return "session.SignInResult{next challenge: " + string(r.Next.Name) + "}"
	}
	return "session.SignInResult{}"
}

// String summarises the result without secrets (the challenge's session and
// parameters, the new device's secrets and the session's tokens stay hidden).
func (r SignInResult) String() string { return r.summary() }

// GoString is String.
func (r SignInResult) GoString() string { return r.summary() }

// Format renders the summary for every verb.
func (r SignInResult) Format(f fmt.State, verb rune) { redact.Format(f, verb, r.summary()) }

// MarshalJSON renders the result without secrets.
func (r SignInResult) MarshalJSON() ([]byte, error) {
	v := struct {
		Session   *Session `json:"session,omitempty"`
		Challenge string   `json:"challenge,omitempty"`
		NewDevice string   `json:"new_device,omitempty"`
	}{Session: r.Session}
	if r.Next != nil {
		v.Challenge = string(r.Next.Name)
	}
	if r.NewDevice != nil {
		v.NewDevice = r.NewDevice.Key
	}
	return json.Marshal(v)
}

// MarshalText renders the summary.
func (r SignInResult) MarshalText() ([]byte, error) { return []byte(r.summary()), nil }

// LogValue renders the summary for slog.
func (r SignInResult) LogValue() slog.Value { return slog.StringValue(r.summary()) }

func (c Config) summary() string {
	pool, client := "", ""
	if c.Cognito != nil {
		pool, client = c.Cognito.UserPoolID(), c.Cognito.ClientID()
	}
	return fmt.Sprintf("session.Config{pool=%s client=%s user=%s store=%T credentials=%T}", pool, client, c.Username, c.Store, c.Credentials)
}

// String summarises the configuration without the clients' secrets.
func (c Config) String() string { return c.summary() }

// GoString is String.
func (c Config) GoString() string { return c.summary() }

// Format renders the summary for every verb.
func (c Config) Format(f fmt.State, verb rune) { redact.Format(f, verb, c.summary()) }

// MarshalJSON renders the summary as a JSON string.
func (c Config) MarshalJSON() ([]byte, error) { return json.Marshal(c.summary()) }

// MarshalText renders the summary.
func (c Config) MarshalText() ([]byte, error) { return []byte(c.summary()), nil }

// LogValue renders the summary for slog.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.summary()) }

func (m *Manager) summary() string {
	if m == nil {
		return "session.Manager(nil)"
	}
	user := ""
	if u := m.user.Load(); u != nil {
		user = *u
	}
	return "session.Manager{" + m.cfg.summary() + " bound=" + user + "}"
}

// String summarises the Manager without secrets.
func (m *Manager) String() string { return m.summary() }

// GoString is String.
func (m *Manager) GoString() string { return m.summary() }

// Format renders the summary for every verb.
func (m *Manager) Format(f fmt.State, verb rune) { redact.Format(f, verb, m.summary()) }

// MarshalJSON renders the summary as a JSON string.
func (m *Manager) MarshalJSON() ([]byte, error) { return json.Marshal(m.summary()) }

// MarshalText renders the summary.
func (m *Manager) MarshalText() ([]byte, error) { return []byte(m.summary()), nil }

// LogValue renders the summary for slog.
func (m *Manager) LogValue() slog.Value { return slog.StringValue(m.summary()) }
