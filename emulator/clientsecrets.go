package emulator

import (
	"crypto/subtle"
	"fmt"
	"regexp"
	"time"
)

// Several client secrets per app client, for rotation (AddUserPoolClientSecret,
// ListUserPoolClientSecrets, DeleteUserPoolClientSecret). A confidential client
// has at most two at once; each one works for SECRET_HASH, for the ClientSecret
// of GetTokensFromRefreshToken and RevokeToken, and at the token endpoint. The
// client's Secret is its first (DescribeUserPoolClient's ClientSecret); the
// others are in MoreSecrets, oldest first. Deleting the first promotes the next.

// maxClientSecrets is Cognito's limit: "Supports up to 2 active secrets per app
// client".
const maxClientSecrets = 2

// clientSecret is one secret of an app client beyond its first.
type clientSecret struct {
	ID      string    `json:"id"`
	Value   string    `json:"value"`
	Created time.Time `json:"created"`
}

var clientSecretPattern = regexp.MustCompile(`^[\w+]{24,64}$`)

// secretID names a secret as Cognito does: <client-id>--<epoch-create-time>
// (milliseconds here).
func secretID(clientID string, t time.Time) string {
	return fmt.Sprintf("%s--%d", clientID, t.UnixMilli())
}

// secrets lists every secret of the client, its first one first.
func (c *appClient) secrets() []clientSecret {
	if c.Secret == "" {
		return nil
	}
	created := c.SecretCreated
	if created.IsZero() {
		created = c.Created
	}
	id := c.SecretID
	if id == "" {
		id = secretID(c.ID, created)
	}
	return append([]clientSecret{{ID: id, Value: c.Secret, Created: created}}, c.MoreSecrets...)
}

// secretMatches tells whether given is one of the client's secrets (constant
// time for each).
func (c *appClient) secretMatches(given string) bool {
	ok := false
	for _, s := range c.secrets() {
		if subtle.ConstantTimeCompare([]byte(given), []byte(s.Value)) == 1 {
			ok = true
		}
	}
	return ok
}

type clientSecretInput struct {
	UserPoolID     string `json:"UserPoolId"`
	ClientID       string `json:"ClientId"`
	ClientSecret   string `json:"ClientSecret"`
	ClientSecretID string `json:"ClientSecretId"`
	NextToken      string `json:"NextToken"`
}

func (e *Emulator) secretClient(in *clientSecretInput) (*userPool, *appClient, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, nil, err
	}
	if in.ClientID == "" {
		return nil, nil, errInvalidParameter("1 validation error detected: Value null at 'clientId' failed to satisfy constraint: Member must not be null")
	}
	cl, err := p.client(in.ClientID)
	if err != nil {
		return nil, nil, err
	}
	return p, cl, nil
}

func (e *Emulator) opAddUserPoolClientSecret(c *call, in *clientSecretInput) (any, error) {
	p, cl, err := e.secretClient(in)
	if err != nil {
		return nil, err
	}
	if cl.Secret == "" {
		return nil, errInvalidParameter("App client %s has no client secret: client secrets can be added to confidential clients only.", cl.ID)
	}
	if in.ClientSecret != "" && !clientSecretPattern.MatchString(in.ClientSecret) {
		// The value is a secret: never echoed.
		return nil, errInvalidParameter("1 validation error detected: Value at 'clientSecret' failed to satisfy constraint: Member must have length between 24 and 64 and match pattern [\\w+]+")
	}
	have := cl.secrets()
	if len(have) >= maxClientSecrets {
		return nil, newErr("LimitExceededException", "App client %s already has %d client secrets, the most it can have.", cl.ID, maxClientSecrets)
	}
	value, generated := in.ClientSecret, in.ClientSecret == ""
	if generated {
		value = e.randomAlnum(51, true)
	}
	created := c.now
	id := secretID(cl.ID, created)
	for _, s := range have {
		if s.ID == id { // two secrets in the same millisecond
			created = created.Add(time.Millisecond)
			id = secretID(cl.ID, created)
		}
	}
	cl.MoreSecrets = append(cl.MoreSecrets, clientSecret{ID: id, Value: value, Created: created})
	cl.Modified = c.now
	p.Clients[cl.ID] = cl
	e.dirty = true
	d := map[string]any{"ClientSecretId": id, "ClientSecretCreateDate": epoch(created)}
	if generated {
		d["ClientSecretValue"] = value
	}
	return map[string]any{"ClientSecretDescriptor": d}, nil
}

// opListUserPoolClientSecrets answers every secret's ID and date, never its
// value; there is no next page (two secrets at most).
func (e *Emulator) opListUserPoolClientSecrets(c *call, in *clientSecretInput) (any, error) {
	_, cl, err := e.secretClient(in)
	if err != nil {
		return nil, err
	}
	list := []map[string]any{}
	for _, s := range cl.secrets() {
		list = append(list, map[string]any{"ClientSecretId": s.ID, "ClientSecretCreateDate": epoch(s.Created)})
	}
	return map[string]any{"ClientSecrets": list}, nil
}

func (e *Emulator) opDeleteUserPoolClientSecret(c *call, in *clientSecretInput) (any, error) {
	p, cl, err := e.secretClient(in)
	if err != nil {
		return nil, err
	}
	if in.ClientSecretID == "" || len(in.ClientSecretID) > 128 {
		return nil, errInvalidParameter("1 validation error detected: Value at 'clientSecretId' failed to satisfy constraint: Member must have length between 1 and 128")
	}
	have := cl.secrets()
	at := -1
	for i, s := range have {
		if s.ID == in.ClientSecretID {
			at = i
		}
	}
	if at < 0 {
		return nil, errResourceNotFound("Client secret %s does not exist for app client %s.", clip(in.ClientSecretID), cl.ID)
	}
	if len(have) == 1 {
		return nil, errInvalidParameter("Cannot delete the last client secret of app client %s.", cl.ID)
	}
	rest := append(have[:at:at], have[at+1:]...)
	cl.Secret, cl.SecretID, cl.SecretCreated = rest[0].Value, rest[0].ID, rest[0].Created
	cl.MoreSecrets = append([]clientSecret(nil), rest[1:]...)
	cl.Modified = c.now
	p.Clients[cl.ID] = cl
	e.dirty = true
	return map[string]any{}, nil
}
