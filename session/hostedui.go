package session

import (
	"context"
	"errors"
	"net/http"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/hostedui"
)

// HostedUIRefresher refreshes sessions that came from the hosted UI at the user
// pool domain's /oauth2/token (grant_type=refresh_token), the way they were
// obtained. Its errors speak the user pool API's language, so the Manager's
// failure policy applies unchanged: a refused refresh token (invalid_grant) is a
// definitive NotAuthorizedException that ends the session, and network failures,
// 5xx and 429 are retryable.
type HostedUIRefresher struct {
	client *hostedui.Client
}

// HostedUI returns a Refresher over c, for Config.HostedUI. c must be the hosted UI
// client of the same app client as Config.Cognito.
func HostedUI(c *hostedui.Client) *HostedUIRefresher { return &HostedUIRefresher{client: c} }

// tokenEndpoint is the Op of the errors the refresher returns.
const tokenEndpoint = "oauth2/token"

// Refresh implements Refresher. The token endpoint takes neither a username (the
// client authenticates itself, with HTTP Basic when it has a secret) nor a device
// key, so in.Username and in.DeviceKey go unused.
func (r *HostedUIRefresher) Refresh(ctx context.Context, in cognito.RefreshInput) (*cognito.Result, error) {
	t, err := r.client.Refresh(ctx, in.RefreshToken)
	if err != nil {
		return nil, hostedUIError(err)
	}
	return &cognito.Result{
		Tokens: &cognito.Tokens{
			AccessToken: t.AccessToken, IDToken: t.IDToken, RefreshToken: t.RefreshToken, ExpiresIn: t.ExpiresIn,
		},
		ServerTime: t.ServerTime,
	}, nil
}

// hostedUIError maps an error of the token endpoint onto the failure policy.
// invalid_grant is the endpoint's only word for a refresh token it will not take
// (revoked, expired, signed out globally, the user disabled or gone); it says
// which only in a description, when it gives one, and notAuthorizedReason reads
// that as it reads the API's messages. Other OAuth errors (invalid_client,
// unauthorized_client, a malformed answer) are left as they are: they say the
// configuration is wrong, not that the session is over, so the Manager keeps the
// session and reports them without retrying in a loop.
func hostedUIError(err error) error {
	var he *hostedui.Error
	switch {
	case errors.Is(err, hostedui.ErrInvalidGrant):
		msg := "Refresh token refused by the token endpoint (invalid_grant)"
		if errors.As(err, &he) && he.Description != "" {
			msg = he.Description
		}
		return &cognito.Error{Op: tokenEndpoint, Name: "NotAuthorizedException", Message: msg, StatusCode: http.StatusBadRequest, Cause: err}
	case hostedui.IsRetryable(err):
		ce := &cognito.Error{Op: tokenEndpoint, Name: cognito.NetworkError, Retryable: true, Cause: err}
		if errors.As(err, &he) && he.StatusCode != 0 {
			ce.StatusCode, ce.Message = he.StatusCode, he.Error()
			ce.Name = "InternalErrorException"
			if he.StatusCode == http.StatusTooManyRequests {
				ce.Name = "TooManyRequestsException"
			}
		}
		return ce
	}
	return err
}
