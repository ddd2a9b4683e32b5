package identity

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cogauth/cogauth/internal/errkind"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/session"
)

// SessionCredentials is the session.CredentialsSource of an identity pool, for
// session.Config.Credentials: it presents the session's id token (GetId, then
// GetCredentialsForIdentity) and returns the pool's temporary AWS credentials.
// The Manager decides when to ask (with the tokens, ahead of the credentials' real
// expiry, once for all callers) and keeps the credentials in the session; the
// Client keeps the identity ID in its store, so a restart does not ask for it
// again. It also implements session.CredentialsPool and
// session.CredentialsForgetter.
type SessionCredentials struct {
	client *Client
}

var (
	_ session.CredentialsSource    = (*SessionCredentials)(nil)
	_ session.CredentialsPool      = (*SessionCredentials)(nil)
	_ session.CredentialsForgetter = (*SessionCredentials)(nil)
)

// NewSessionCredentials returns the session.CredentialsSource of c.
func NewSessionCredentials(c *Client) *SessionCredentials {
	return &SessionCredentials{client: c}
}

// errNoIDToken: the identity pool needs the id token, and the session has none
// (Import was given only an access token).
var errNoIDToken = errkind.New("identity: the session has no id token to present to the identity pool", false)

// IdentityPoolID implements session.CredentialsPool: the Manager records it with
// the credentials, so that another pool's are never handed out.
func (p *SessionCredentials) IdentityPoolID() string { return p.client.IdentityPoolID() }

// Credentials implements session.CredentialsSource.
func (p *SessionCredentials) Credentials(ctx context.Context, s *session.Session) (*aws.Credentials, string, error) {
	if s == nil || s.Tokens.ID == nil {
		return nil, "", errNoIDToken
	}
	c, err := p.client.Credentials(ctx, jwt.Secret(s.Tokens.ID.Raw()))
	if err != nil {
		return nil, "", fmt.Errorf("identity: identity pool %s: %w", p.client.IdentityPoolID(), err)
	}
	a := c.AWS()
	return &a, c.IdentityID, nil
}

// Forget implements session.CredentialsForgetter: it deletes the stored identity
// ID of the session's user, as Amplify does at sign-out.
func (p *SessionCredentials) Forget(ctx context.Context, s *session.Session) error {
	if s == nil || s.Tokens.ID == nil {
		return nil
	}
	return p.client.Forget(ctx, jwt.Secret(s.Tokens.ID.Raw()))
}

// SessionLogins returns m as a LoginSource, for a Provider that keeps its own
// credentials (an S3 client's Credentials, say) while m keeps the tokens: the
// provider sees every token refresh, user change and sign-out of m.
func SessionLogins(m *session.Manager) LoginSource {
	return LoginFunc(func(ctx context.Context) (string, error) {
		s, err := m.Fetch(ctx, session.FetchOptions{})
		if errors.Is(err, session.ErrSignedOut) {
			return "", fmt.Errorf("%w: %w", ErrNotSignedIn, err)
		}
		if err != nil {
			return "", err
		}
		if s.Tokens.ID == nil {
			return "", errNoIDToken
		}
		return s.Tokens.ID.Raw(), nil
	})
}
