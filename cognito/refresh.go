package cognito

import (
	"context"
	"errors"
	"strings"

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

// Refresh trades a refresh token for new tokens. It uses GetTokensFromRefreshToken,
// which can rotate the refresh token (Tokens.RefreshToken is then set, and the old
// one soon stops working), and falls back to InitiateAuth REFRESH_TOKEN_AUTH on a
// service that does not implement it.
func (c *Client) Refresh(ctx context.Context, in RefreshInput) (*Result, error) {
	if in.RefreshToken == "" {
		return nil, errors.New("cognito: refresh needs a refresh token")
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
	if c.opts.ClientSecret != "" {
		req.ClientSecret = aws.String(c.opts.ClientSecret.Reveal())
	}
	if in.DeviceKey != "" {
		req.DeviceKey = aws.String(in.DeviceKey)
	}
	out, err := c.api.GetTokensFromRefreshToken(ctx, req)
	if err != nil {
		return nil, MapError("GetTokensFromRefreshToken", err)
	}
	ar := out.AuthenticationResult
	if ar == nil || ar.AccessToken == nil {
		return nil, &Error{Op: "GetTokensFromRefreshToken", Name: "InvalidResponse", Message: "no tokens in the answer"}
	}
	return &Result{Tokens: tokensFrom(ar.AccessToken, ar.IdToken, ar.RefreshToken, ar.ExpiresIn), ServerTime: serverTime(out.ResultMetadata)}, nil
}

func (c *Client) refreshTokenAuth(ctx context.Context, in RefreshInput) (*Result, error) {
	params := map[string]string{"REFRESH_TOKEN": in.RefreshToken.Reveal()}
	if c.opts.ClientSecret != "" {
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
	if ar == nil || ar.AccessToken == nil {
		return nil, &Error{Op: "InitiateAuth", Name: "InvalidResponse", Message: "REFRESH_TOKEN_AUTH answered without tokens"}
	}
	res := &Result{Tokens: tokensFrom(ar.AccessToken, ar.IdToken, ar.RefreshToken, ar.ExpiresIn), ServerTime: serverTime(out.ResultMetadata)}
	// REFRESH_TOKEN_AUTH never rotates; some services echo the token back anyway.
	if res.Tokens.RefreshToken == in.RefreshToken {
		res.Tokens.RefreshToken = ""
	}
	return res, nil
}

// unknownOperation reports whether err says the service does not implement the
// operation: AWS's UnknownOperationException / InvalidAction, or an answer that is
// not a Cognito error at all with a 400, 404, 500 or 501 status (moto answers an
// unknown operation with a 500 HTML page). A 500 carrying a real Cognito error
// (InternalErrorException) or a 502/503/504 from a proxy is a fault, not this.
func unknownOperation(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Name {
	case "UnknownOperationException", "InvalidAction", "UnsupportedOperation":
		return true
	}
	if !strings.HasPrefix(e.Name, "HTTP") {
		return false
	}
	switch e.StatusCode {
	case 400, 404, 500, 501:
		return true
	}
	return false
}
