package cognito

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/srp"
)

// RevokeToken revokes a refresh token and the access tokens issued from it.
func (c *Client) RevokeToken(ctx context.Context, refreshToken jwt.Secret) error {
	if refreshToken == "" {
		return errors.New("cognito: RevokeToken needs a refresh token")
	}
	in := &cip.RevokeTokenInput{ClientId: aws.String(c.opts.ClientID), Token: aws.String(refreshToken.Reveal())}
	if c.secret.Get() != "" {
		in.ClientSecret = aws.String(c.secret.Get().Reveal())
	}
	_, err := c.api.RevokeToken(ctx, in)
	return MapError("RevokeToken", err)
}

// GlobalSignOut ends every session of the user the access token belongs to.
func (c *Client) GlobalSignOut(ctx context.Context, accessToken jwt.Secret) error {
	if accessToken == "" {
		return errors.New("cognito: GlobalSignOut needs an access token")
	}
	_, err := c.api.GlobalSignOut(ctx, &cip.GlobalSignOutInput{AccessToken: aws.String(accessToken.Reveal())})
	return MapError("GlobalSignOut", err)
}

// User is GetUser's answer.
type User struct {
	Username     string
	Attributes   map[string]string
	PreferredMFA string
	MFAs         []string // MFA methods the user has enabled
}

// GetUser returns the user the access token belongs to.
func (c *Client) GetUser(ctx context.Context, accessToken jwt.Secret) (*User, error) {
	if accessToken == "" {
		return nil, errors.New("cognito: GetUser needs an access token")
	}
	out, err := c.api.GetUser(ctx, &cip.GetUserInput{AccessToken: aws.String(accessToken.Reveal())})
	if err != nil {
		return nil, MapError("GetUser", err)
	}
	if aws.ToString(out.Username) == "" {
		return nil, invalidAnswer("GetUser", out.ResultMetadata, "no Username")
	}
	u := &User{
		Username:     aws.ToString(out.Username),
		Attributes:   make(map[string]string, len(out.UserAttributes)),
		PreferredMFA: aws.ToString(out.PreferredMfaSetting),
		MFAs:         out.UserMFASettingList,
	}
	for _, a := range out.UserAttributes {
		u.Attributes[aws.ToString(a.Name)] = aws.ToString(a.Value)
	}
	return u, nil
}

// ConfirmDevice remembers the device a sign-in created (Result.NewDevice): it makes
// a device password and sends its SRP verifier. Keep the returned Device and pass it
// to later sign-ins and refreshes. userConfirmationNecessary reports whether the pool
// waits for the user to opt in to remembering it.
func (c *Client) ConfirmDevice(ctx context.Context, accessToken jwt.Secret, nd NewDevice, name string) (dev *Device, userConfirmationNecessary bool, err error) {
	if accessToken == "" || nd.Key == "" || nd.GroupKey == "" {
		return nil, false, errors.New("cognito: ConfirmDevice needs an access token and the new device's key and group key")
	}
	sec, err := srp.NewDeviceSecret(c.opts.Random, nd.GroupKey, nd.Key)
	if err != nil {
		return nil, false, err
	}
	in := &cip.ConfirmDeviceInput{
		AccessToken: aws.String(accessToken.Reveal()),
		DeviceKey:   aws.String(nd.Key),
		DeviceSecretVerifierConfig: &types.DeviceSecretVerifierConfigType{
			PasswordVerifier: aws.String(sec.PasswordVerifier.Reveal()),
			Salt:             aws.String(sec.Salt),
		},
	}
	if name != "" {
		in.DeviceName = aws.String(name)
	}
	out, err := c.api.ConfirmDevice(ctx, in)
	if err != nil {
		return nil, false, MapError("ConfirmDevice", err)
	}
	return &Device{Key: nd.Key, GroupKey: nd.GroupKey, Password: sec.Password}, out.UserConfirmationNecessary, nil
}
