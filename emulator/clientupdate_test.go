package emulator_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// TestUpdateUserPoolClientResetsWhatItLeavesOut: UpdateUserPoolClient through
// aws-sdk-go-v2 with only a name and one field resets every other field to the
// default CreateUserPoolClient gives ("If you don't provide a value for an
// attribute, Amazon Cognito sets it to its default value"), field by field as the
// API reference states each default; the secret, ID and creation date stay.
func TestUpdateUserPoolClientResetsWhatItLeavesOut(t *testing.T) {
	f := newOAuthFixture(t)
	ctx := context.Background()
	c := sdk(f.srv)
	created, err := c.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(f.pool), ClientName: aws.String("full"), GenerateSecret: true,
		ExplicitAuthFlows:               []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserPasswordAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
		AccessTokenValidity:             aws.Int32(30),
		IdTokenValidity:                 aws.Int32(45),
		RefreshTokenValidity:            12,
		TokenValidityUnits:              &types.TokenValidityUnitsType{AccessToken: types.TimeUnitsTypeMinutes, IdToken: types.TimeUnitsTypeMinutes, RefreshToken: types.TimeUnitsTypeHours},
		ReadAttributes:                  []string{"email"},
		WriteAttributes:                 []string{"email"},
		EnableTokenRevocation:           aws.Bool(false),
		PreventUserExistenceErrors:      types.PreventUserExistenceErrorTypesEnabled,
		RefreshTokenRotation:            &types.RefreshTokenRotationType{Feature: types.FeatureTypeEnabled, RetryGracePeriodSeconds: aws.Int32(10)},
		AllowedOAuthFlowsUserPoolClient: true,
		AllowedOAuthFlows:               []types.OAuthFlowType{types.OAuthFlowTypeCode},
		AllowedOAuthScopes:              []string{"openid", "email"},
		CallbackURLs:                    []string{callback},
		LogoutURLs:                      []string{"https://app.example.com/bye"},
		DefaultRedirectURI:              aws.String(callback),
		SupportedIdentityProviders:      []string{"COGNITO"},
		AuthSessionValidity:             aws.Int32(10),
	})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(created.UserPoolClient.ClientId)
	secret := aws.ToString(created.UserPoolClient.ClientSecret)

	// A partial update, as the AWS CLI's `update-user-pool-client --client-name`.
	up, err := c.UpdateUserPoolClient(ctx, &cip.UpdateUserPoolClientInput{
		UserPoolId: aws.String(f.pool), ClientId: aws.String(id), ClientName: aws.String("renamed"),
	})
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(f.pool), ClientId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range []*types.UserPoolClientType{up.UserPoolClient, d.UserPoolClient} {
		check := func(what string, ok bool, v any) {
			t.Helper()
			if !ok {
				t.Errorf("%s after a partial update = %v", what, v)
			}
		}
		check("ClientName", aws.ToString(got.ClientName) == "renamed", aws.ToString(got.ClientName))
		check("ClientSecret (kept)", aws.ToString(got.ClientSecret) == secret && secret != "", "changed")
		check("CreationDate (kept)", got.CreationDate.Equal(aws.ToTime(created.UserPoolClient.CreationDate)), got.CreationDate)
		flows := slices.Clone(got.ExplicitAuthFlows)
		slices.Sort(flows)
		check("ExplicitAuthFlows (ALLOW_REFRESH_TOKEN_AUTH, ALLOW_USER_SRP_AUTH, ALLOW_CUSTOM_AUTH)",
			slices.Equal(flows, []types.ExplicitAuthFlowsType{"ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"}), flows)
		check("AccessTokenValidity (1 hour)", aws.ToInt32(got.AccessTokenValidity) == 1, aws.ToInt32(got.AccessTokenValidity))
		check("IdTokenValidity (1 hour)", aws.ToInt32(got.IdTokenValidity) == 1, aws.ToInt32(got.IdTokenValidity))
		check("RefreshTokenValidity (30 days)", got.RefreshTokenValidity == 30, got.RefreshTokenValidity)
		check("TokenValidityUnits (hours, hours, days)", got.TokenValidityUnits != nil &&
			*got.TokenValidityUnits == types.TokenValidityUnitsType{AccessToken: "hours", IdToken: "hours", RefreshToken: "days"}, got.TokenValidityUnits)
		check("ReadAttributes (all: not returned)", got.ReadAttributes == nil, got.ReadAttributes)
		check("WriteAttributes (all: not returned)", got.WriteAttributes == nil, got.WriteAttributes)
		check("EnableTokenRevocation (on)", aws.ToBool(got.EnableTokenRevocation), aws.ToBool(got.EnableTokenRevocation))
		check("PreventUserExistenceErrors (LEGACY)", got.PreventUserExistenceErrors == types.PreventUserExistenceErrorTypesLegacy, got.PreventUserExistenceErrors)
		check("RefreshTokenRotation (DISABLED)", got.RefreshTokenRotation != nil && got.RefreshTokenRotation.Feature == types.FeatureTypeDisabled, got.RefreshTokenRotation)
		check("AllowedOAuthFlowsUserPoolClient (false)", got.AllowedOAuthFlowsUserPoolClient != nil && !*got.AllowedOAuthFlowsUserPoolClient, got.AllowedOAuthFlowsUserPoolClient)
		check("AllowedOAuthFlows (none)", len(got.AllowedOAuthFlows) == 0, got.AllowedOAuthFlows)
		check("AllowedOAuthScopes (none)", len(got.AllowedOAuthScopes) == 0, got.AllowedOAuthScopes)
		check("CallbackURLs (none)", len(got.CallbackURLs) == 0, got.CallbackURLs)
		check("LogoutURLs (none)", len(got.LogoutURLs) == 0, got.LogoutURLs)
		check("DefaultRedirectURI (none)", got.DefaultRedirectURI == nil, aws.ToString(got.DefaultRedirectURI))
		check("SupportedIdentityProviders (none)", len(got.SupportedIdentityProviders) == 0, got.SupportedIdentityProviders)
		check("AuthSessionValidity (none given)", got.AuthSessionValidity == nil, aws.ToInt32(got.AuthSessionValidity))
	}

	// The reset client is not permissive: the hosted UI refuses it (no callback
	// URL matches, so the error page, never a redirect), and the password flow
	// it no longer allows is refused.
	resp, _ := get(t, browser(t), authorizeURL(f, id, nil))
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
		t.Fatalf("authorize on a reset client: %d to %q, want the error page", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, err = c.InitiateAuth(ctx, &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeUserPasswordAuth, ClientId: aws.String(id),
		AuthParameters: map[string]string{"USERNAME": oauthUser, "PASSWORD": oauthPassword, "SECRET_HASH": secretHash(oauthUser, id, secret)}})
	var na *types.InvalidParameterException
	if !errors.As(err, &na) || !strings.Contains(na.ErrorMessage(), "not enabled") {
		t.Fatalf("USER_PASSWORD_AUTH after the reset: %v, want InvalidParameterException (flow not enabled)", err)
	}

	// Sending the whole configuration again, as an AWS user must, restores it.
	_, err = c.UpdateUserPoolClient(ctx, &cip.UpdateUserPoolClientInput{
		UserPoolId: aws.String(f.pool), ClientId: aws.String(id), ClientName: aws.String("renamed"),
		ExplicitAuthFlows:               []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserPasswordAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
		AllowedOAuthFlowsUserPoolClient: true,
		AllowedOAuthFlows:               []types.OAuthFlowType{types.OAuthFlowTypeCode},
		AllowedOAuthScopes:              []string{"openid", "email"},
		CallbackURLs:                    []string{callback},
		SupportedIdentityProviders:      []string{"COGNITO"},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, _ = get(t, browser(t), authorizeURL(f, id, nil))
	if resp.StatusCode != http.StatusFound || !strings.Contains(resp.Header.Get("Location"), "/login?") {
		t.Fatalf("authorize after a full update: %d to %q, want the sign-in page", resp.StatusCode, resp.Header.Get("Location"))
	}

	// Without ClientName the name is kept (it has no default); a refused update
	// changes nothing.
	_, err = c.UpdateUserPoolClient(ctx, &cip.UpdateUserPoolClientInput{
		UserPoolId: aws.String(f.pool), ClientId: aws.String(id), AllowedOAuthFlows: []types.OAuthFlowType{"password"},
	})
	var ip *types.InvalidParameterException
	if !errors.As(err, &ip) {
		t.Fatalf("update with an unknown flow: %v", err)
	}
	d, err = c.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(f.pool), ClientId: aws.String(id)})
	if err != nil || aws.ToString(d.UserPoolClient.ClientName) != "renamed" || len(d.UserPoolClient.CallbackURLs) != 1 {
		t.Fatalf("after a refused update: %v %+v", err, d)
	}
}

// secretHash is Cognito's SECRET_HASH: Base64(HMAC-SHA256(secret, username + client ID)).
func secretHash(user, clientID, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(user + clientID))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
