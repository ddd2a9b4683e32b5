package identity

import (
	"errors"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/internal/errkind"
)

// ErrNotSignedIn is what a LoginSource returns (wrapped or not) when nobody is
// signed in; a Provider then hands out guest credentials if it may, and none
// otherwise.
var ErrNotSignedIn = errkind.New("identity: not signed in", false)

// mapError turns what the SDK returned into a *cognito.Error, the error type of the
// user-pool side too, so callers switch on one Name whatever the service. The
// mapping is cognito's: the two services share the error protocol, and
// ExternalServiceException (a login provider the identity service could not reach)
// is retryable there.
func mapError(op string, err error) error { return cognito.MapError(op, err) }

// errorName returns the Cognito exception name of err ("" when it is not one).
func errorName(err error) string {
	var ce *cognito.Error
	if errors.As(err, &ce) {
		return ce.Name
	}
	return ""
}
