package identity

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cogauth/cogauth/internal/errkind"
	"github.com/cogauth/cogauth/jwt"
)

// CredentialsSource is the aws.Credentials Source of credentials from this package.
const CredentialsSource = "CognitoIdentityPool"

// Credentials are temporary AWS credentials of an identity-pool identity. The
// secret parts are jwt.Secret values, so a Credentials prints, logs and marshals
// without them; Reveal them (or call AWS, ProcessJSON, EnvLines) to use them.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey jwt.Secret
	SessionToken    jwt.Secret
	Expiration      time.Time
	IdentityID      string
	// Guest is set for an unauthenticated identity's credentials.
	Guest bool
}

// AWS returns the credentials in the SDK's type, with CanExpire and the real
// expiration.
func (c Credentials) AWS() aws.Credentials {
	return aws.Credentials{
		AccessKeyID:     c.AccessKeyID,
		SecretAccessKey: c.SecretAccessKey.Reveal(),
		SessionToken:    c.SessionToken.Reveal(),
		Source:          CredentialsSource,
		CanExpire:       true,
		Expires:         c.Expiration,
	}
}

// String summarises the credentials: key ID, identity, kind and expiry. (Their
// secret fields redact themselves; a String is what fmt calls for %s and %q of
// a *Credentials held in another value, where it would otherwise print the
// pointer's target in an error form that calls no method.)
func (c Credentials) String() string {
	kind := "authenticated"
	if c.Guest {
		kind = "guest"
	}
	return fmt.Sprintf("identity.Credentials{key=%s identity=%s %s expires=%s}",
		c.AccessKeyID, c.IdentityID, kind, c.Expiration.UTC().Format(time.RFC3339))
}

// Valid reports whether the credentials have keys and are unexpired at now.
func (c Credentials) Valid(now time.Time) bool {
	return c.AccessKeyID != "" && c.SecretAccessKey != "" && now.Before(c.Expiration)
}

var errNoKeys = errkind.New("identity: credentials have no keys", false)

// processCredentials is the AWS credential_process output, version 1.
type processCredentials struct {
	Version         int    `json:"Version"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	SessionToken    string `json:"SessionToken,omitempty"`
	Expiration      string `json:"Expiration,omitempty"`
}

// ProcessJSON renders c in the format AWS SDKs and the AWS CLI expect from a
// credential_process program: {"Version": 1, "AccessKeyId", "SecretAccessKey",
// "SessionToken", "Expiration" (RFC 3339, UTC)}.
func ProcessJSON(c Credentials) ([]byte, error) {
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return nil, errNoKeys
	}
	p := processCredentials{
		Version:         1,
		AccessKeyID:     c.AccessKeyID,
		SecretAccessKey: c.SecretAccessKey.Reveal(),
		SessionToken:    c.SessionToken.Reveal(),
	}
	if !c.Expiration.IsZero() {
		p.Expiration = c.Expiration.UTC().Format(time.RFC3339)
	}
	return json.Marshal(p)
}

// ParseProcessJSON reads credential_process output (what ProcessJSON writes, or any
// other program's). It is strict about what the AWS SDKs require: Version 1 and
// both keys.
func ParseProcessJSON(data []byte) (Credentials, error) {
	var p processCredentials
	if err := json.Unmarshal(data, &p); err != nil {
		return Credentials{}, fmt.Errorf("identity: credential_process output: %w", err)
	}
	if p.Version != 1 {
		return Credentials{}, fmt.Errorf("identity: credential_process output: Version %d, want 1", p.Version)
	}
	if p.AccessKeyID == "" || p.SecretAccessKey == "" {
		return Credentials{}, fmt.Errorf("identity: credential_process output: %w", errNoKeys)
	}
	c := Credentials{AccessKeyID: p.AccessKeyID, SecretAccessKey: jwt.Secret(p.SecretAccessKey), SessionToken: jwt.Secret(p.SessionToken)}
	if p.Expiration != "" {
		t, err := time.Parse(time.RFC3339, p.Expiration)
		if err != nil {
			return Credentials{}, fmt.Errorf("identity: credential_process output: Expiration: %w", err)
		}
		c.Expiration = t
	}
	return c, nil
}
