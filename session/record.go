package session

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cogauth/cogauth/jwt"
)

// recordFormat versions the stored session layout.
const recordFormat = 1

// record is a session as it lives in the Store. Secrets are plain strings here on
// purpose: jwt.Secret marshals as "[redacted]", and the store is where they must
// survive. Nothing else ever marshals a record.
type record struct {
	Format         int    `json:"format"`
	Username       string `json:"username"`
	AccessToken    string `json:"access_token"`
	IDToken        string `json:"id_token,omitempty"`
	RefreshToken   string `json:"refresh_token,omitempty"`
	DeviceKey      string `json:"device_key,omitempty"`
	DeviceGroupKey string `json:"device_group_key,omitempty"`
	DevicePassword string `json:"device_password,omitempty"`
	// Login is the name the user signed in with when it is not Username (an alias,
	// an e-mail address): the remembered device is found by it at the next sign-in.
	Login string `json:"login,omitempty"`
	// ClockOffset is server time minus local time, learnt at the last sign-in or
	// refresh, in nanoseconds.
	ClockOffset int64 `json:"clock_offset_ns,omitempty"`
	// Source is how the session was obtained, and so where it is refreshed; empty
	// for the user pool API (records written before sources existed included).
	Source Source `json:"source,omitempty"`
	// Domain is the hosted UI domain a SourceHostedUI session came from, where it
	// is refreshed; empty for other sources and for records written before.
	Domain string `json:"domain,omitempty"`

	IdentityID string `json:"identity_id,omitempty"`
	// IdentityPool is the identity pool IdentityID and Credentials belong to, so
	// that a Manager configured with another pool never hands them out. Empty in
	// records written before it was kept, and for sources that name no pool.
	IdentityPool string     `json:"identity_pool,omitempty"`
	Credentials  *credsJSON `json:"aws_credentials,omitempty"`
}

type credsJSON struct {
	AccessKeyID     string    `json:"access_key_id"`
	SecretAccessKey string    `json:"secret_access_key"`
	SessionToken    string    `json:"session_token,omitempty"`
	Expires         time.Time `json:"expires,omitzero"`
	CanExpire       bool      `json:"can_expire,omitempty"`
}

// errBadRecord marks stored data that cannot be a session. Such data is reported,
// never taken for "signed out".
var errBadRecord = errors.New("session: stored session is unreadable")

func (r *record) encode() ([]byte, error) {
	r.Format = recordFormat
	return json.Marshal(r)
}

func decodeRecord(b []byte) (*record, error) {
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%w: %v", errBadRecord, err)
	}
	if r.Format != recordFormat {
		return nil, fmt.Errorf("%w: format %d, want %d", errBadRecord, r.Format, recordFormat)
	}
	if r.AccessToken == "" || r.Username == "" {
		return nil, fmt.Errorf("%w: no access token or username", errBadRecord)
	}
	return &r, nil
}

// session decodes the record's tokens into a Session.
func (r *record) session() (*Session, error) {
	at, err := jwt.Decode(r.AccessToken)
	if err != nil {
		return nil, fmt.Errorf("%w: access token: %w", errBadRecord, err)
	}
	s := &Session{
		Tokens: Tokens{
			Access:    at,
			Refresh:   jwt.Secret(r.RefreshToken),
			DeviceKey: r.DeviceKey,
		},
		UserSub:    at.Claims().Sub,
		Username:   r.Username,
		IdentityID: r.IdentityID,
		Source:     r.Source.orDefault(),
		Domain:     r.Domain,
	}
	if r.IDToken != "" {
		if s.Tokens.ID, err = jwt.Decode(r.IDToken); err != nil {
			return nil, fmt.Errorf("%w: id token: %w", errBadRecord, err)
		}
	}
	if c := r.Credentials; c != nil {
		s.Credentials = &aws.Credentials{
			AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken,
			Expires: c.Expires, CanExpire: c.CanExpire, Source: "cogauth",
		}
	}
	return s, nil
}

func (r *record) setCredentials(c *aws.Credentials, identityID, identityPool string) {
	r.IdentityID, r.IdentityPool = identityID, identityPool
	if c == nil {
		r.Credentials = nil
		return
	}
	r.Credentials = &credsJSON{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken, Expires: c.Expires, CanExpire: c.CanExpire}
}
