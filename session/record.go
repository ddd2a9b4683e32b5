package session

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cogauth/cogauth/internal/errkind"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/store"
)

// The stored session layout. Releases 1 and 2 wrote JSON with "format": 1
// (jsonFormat); this release writes binaryFormat (codec.go), and reads both.
const (
	jsonFormat   = 1
	recordFormat = binaryFormat
)

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
var errBadRecord = errkind.New("session: stored session is unreadable", false)

// encode is the record as every store writer stores it: the binary layout.
func (r *record) encode() ([]byte, error) {
	r.Format = recordFormat
	return encodeBinary(r)
}

// decodeRecord reads a stored session in any layout a release wrote: binary,
// or the JSON of releases 1 and 2.
func decodeRecord(b []byte) (*record, error) {
	var r *record
	if len(b) > 0 && b[0] == binaryMagic {
		var err error
		if r, err = decodeBinary(b); err != nil {
			return nil, err
		}
	} else {
		r = &record{}
		if err := json.Unmarshal(b, r); err != nil {
			return nil, fmt.Errorf("%w: %v", errBadRecord, err)
		}
		if r.Format != jsonFormat {
			return nil, fmt.Errorf("%w: format %d, want %d", errBadRecord, r.Format, jsonFormat)
		}
	}
	if r.AccessToken == "" || r.Username == "" {
		return nil, fmt.Errorf("%w: no access token or username", errBadRecord)
	}
	return r, nil
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

// DecodeRecord reads a session record as the Manager stores it (today's binary
// layout, or the JSON of releases 1 and 2) without a Manager: for tools that
// inspect or migrate a store. Data that cannot be a session is an error
// matching store.ErrCorrupt.
func DecodeRecord(data []byte) (*Session, error) {
	r, err := decodeRecord(data)
	if err == nil {
		var s *Session
		if s, err = r.session(); err == nil {
			return s, nil
		}
	}
	return nil, fmt.Errorf("%w: %w", store.ErrCorrupt, err)
}
