package session

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cogauth/cogauth/identity"
	"github.com/cogauth/cogauth/internal/errkind"
)

// IdentityPoolCredentials is the CredentialsSource of a Cognito identity pool: it
// presents the session's id token (GetId, then GetCredentialsForIdentity) and
// returns the pool's temporary AWS credentials. The Manager decides when to ask
// (with the tokens, ahead of the credentials' real expiry, once for all callers)
// and keeps the credentials in the session; the identity.Client keeps the
// identity ID in its store, so a restart does not ask for it again.
type IdentityPoolCredentials struct {
	client *identity.Client
}

// IdentityPool returns a CredentialsSource over c, for Config.Credentials.
func IdentityPool(c *identity.Client) *IdentityPoolCredentials {
	return &IdentityPoolCredentials{client: c}
}

// errNoIDToken: the identity pool needs the id token, and the session has none
// (Import was given only an access token).
var errNoIDToken = errkind.New("session: the session has no id token to present to the identity pool", false)

// IdentityPoolID implements CredentialsPool: the Manager records it with the
// credentials, so that another pool's are never handed out.
func (p *IdentityPoolCredentials) IdentityPoolID() string { return p.client.IdentityPoolID() }

// Credentials implements CredentialsSource.
func (p *IdentityPoolCredentials) Credentials(ctx context.Context, s *Session) (*aws.Credentials, string, error) {
	if s == nil || s.Tokens.ID == nil {
		return nil, "", errNoIDToken
	}
	c, err := p.client.Credentials(ctx, s.Tokens.ID.Raw())
	if err != nil {
		return nil, "", fmt.Errorf("session: identity pool %s: %w", p.client.IdentityPoolID(), err)
	}
	a := c.AWS()
	return &a, c.IdentityID, nil
}

// Forget deletes the stored identity ID of the session's user, as Amplify does at
// sign-out.
func (p *IdentityPoolCredentials) Forget(ctx context.Context, s *Session) error {
	if s == nil || s.Tokens.ID == nil {
		return nil
	}
	return p.client.Forget(ctx, s.Tokens.ID.Raw())
}

// Logins returns m as an identity.LoginSource, for an identity.Provider that keeps
// its own credentials (an S3 client's Credentials, say) while m keeps the tokens:
// the provider sees every token refresh, user change and sign-out of m.
func Logins(m *Manager) identity.LoginSource {
	return identity.LoginFunc(func(ctx context.Context) (string, error) {
		s, err := m.Fetch(ctx, FetchOptions{})
		if errors.Is(err, ErrSignedOut) {
			return "", fmt.Errorf("%w: %w", identity.ErrNotSignedIn, err)
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
