package session

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cogauth/cogauth/internal/errkind"
)

// ErrNoCredentials: the session has no AWS credentials (no Config.Credentials,
// or the identity pool has not answered yet). Its RetryableError is true when
// the source failed, so an SDK retries later, and false when there is none.
var ErrNoCredentials = errkind.New("session: the session has no AWS credentials", true)

// Retrieve makes a Manager an aws.CredentialsProvider: the identity pool
// credentials of the signed-in user, from the same cache as Fetch (no second
// cache, no extra call while they are fresh). Pass the Manager itself as an SDK
// client's Credentials; aws.NewCredentialsCache around it is not needed, though
// harmless.
//
// Signed out, it fails with an error matching ErrSignedOut; while the
// credentials source fails and the stored credentials have expired, with one
// matching ErrNoCredentials.
func (m *Manager) Retrieve(ctx context.Context) (aws.Credentials, error) {
	s, err := m.Fetch(ctx, FetchOptions{})
	if err != nil {
		return aws.Credentials{}, err
	}
	if s.Credentials == nil && m.cfg.Credentials == nil {
		return aws.Credentials{}, errkind.Permanent(ErrNoCredentials)
	}
	if s.Credentials == nil {
		return aws.Credentials{}, ErrNoCredentials
	}
	return *s.Credentials, nil
}

var _ aws.CredentialsProvider = (*Manager)(nil)
