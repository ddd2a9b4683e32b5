package cognito

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cogauth/cogauth/jwt"
)

// RefreshInput is what a refresh needs from the stored session.
type RefreshInput struct {
	RefreshToken jwt.Secret
	// Username is the service's name for the user (the access token's username
	// claim); SECRET_HASH is computed over it when the client has a secret.
	Username string
	// DeviceKey is the remembered device's key, if any: a refresh token issued to a
	// device is refused without it.
	DeviceKey string
}

// Refresh trades a refresh token for new tokens, with the operation
// Options.RefreshOperation chooses. GetTokensFromRefreshToken can rotate the
// refresh token (Tokens.RefreshToken is then set, and the old one soon stops
// working); RefreshAuto falls back to InitiateAuth REFRESH_TOKEN_AUTH only on a
// service that says, in Cognito's own JSON, that it does not implement it.
func (c *Client) Refresh(ctx context.Context, in RefreshInput) (*Result, error) {
	if in.RefreshToken == "" {
		return nil, errors.New("cognito: refresh needs a refresh token")
	}
	switch c.opts.RefreshOperation {
	case RefreshGetTokens:
		return c.getTokens(ctx, in)
	case RefreshInitiateAuth:
		return c.refreshTokenAuth(ctx, in)
	}
	if !c.noGetTokens.Load() {
		res, err := c.getTokens(ctx, in)
		if err == nil || !unknownOperation(err) {
			return res, err
		}
		res, ferr := c.refreshTokenAuth(ctx, in)
		if ferr == nil {
			// Only now is it clear the first answer meant "no such operation" and not
			// a passing fault: remember, and spare the service the doomed call.
			c.noGetTokens.Store(true)
		}
		return res, ferr
	}
	return c.refreshTokenAuth(ctx, in)
}

func (c *Client) getTokens(ctx context.Context, in RefreshInput) (*Result, error) {
	req := &cip.GetTokensFromRefreshTokenInput{
		ClientId:     aws.String(c.opts.ClientID),
		RefreshToken: aws.String(in.RefreshToken.Reveal()),
	}
	// This operation takes the client secret itself rather than a SECRET_HASH.
	if c.secret.Get() != "" {
		req.ClientSecret = aws.String(c.secret.Get().Reveal())
	}
	if in.DeviceKey != "" {
		req.DeviceKey = aws.String(in.DeviceKey)
	}
	out, err := c.api.GetTokensFromRefreshToken(ctx, req)
	if err != nil {
		return nil, MapError("GetTokensFromRefreshToken", err)
	}
	ar := out.AuthenticationResult
	if ar == nil || aws.ToString(ar.AccessToken) == "" {
		return nil, invalidAnswer("GetTokensFromRefreshToken", out.ResultMetadata, "no tokens")
	}
	return &Result{Tokens: tokensFrom(ar.AccessToken, ar.IdToken, ar.RefreshToken, ar.ExpiresIn), ServerTime: serverTime(out.ResultMetadata)}, nil
}

func (c *Client) refreshTokenAuth(ctx context.Context, in RefreshInput) (*Result, error) {
	params := map[string]string{"REFRESH_TOKEN": in.RefreshToken.Reveal()}
	if c.secret.Get() != "" {
		if in.Username == "" {
			return nil, errors.New("cognito: refresh with a client secret needs the username for SECRET_HASH")
		}
		c.addSecretHash(params, in.Username)
	}
	if in.DeviceKey != "" {
		params["DEVICE_KEY"] = in.DeviceKey
	}
	out, err := c.api.InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow:       types.AuthFlowTypeRefreshTokenAuth,
		ClientId:       aws.String(c.opts.ClientID),
		AuthParameters: params,
	})
	if err != nil {
		return nil, MapError("InitiateAuth", err)
	}
	ar := out.AuthenticationResult
	if ar == nil || aws.ToString(ar.AccessToken) == "" {
		return nil, invalidAnswer("InitiateAuth", out.ResultMetadata, "no tokens")
	}
	res := &Result{Tokens: tokensFrom(ar.AccessToken, ar.IdToken, ar.RefreshToken, ar.ExpiresIn), ServerTime: serverTime(out.ResultMetadata)}
	// REFRESH_TOKEN_AUTH never rotates; some services echo the token back anyway.
	if res.Tokens.RefreshToken == in.RefreshToken {
		res.Tokens.RefreshToken = ""
	}
	return res, nil
}

// unknownOperation reports whether err is Cognito's own answer (its JSON error
// shape, not an HTML page nor a bare status) saying that the service does not
// implement the operation. Nothing else may send a refresh down REFRESH_TOKEN_AUTH:
// a load balancer's 404 or 500 page in front of real Cognito would otherwise
// make a client with rotation refuse the refresh and end the session.
func unknownOperation(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Name {
	case "UnknownOperationException", "InvalidAction", "UnsupportedOperation":
		return true
	}
	return false
}
