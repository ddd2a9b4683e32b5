package emulator_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// TestClientSecretRotation: a confidential client gets a second secret, both
// work for SECRET_HASH and at the token endpoint, the list never shows values,
// a third is over Cognito's limit of two, and deleting the first leaves the
// second as the client's secret (aws-sdk-go-v2 over HTTP).
func TestClientSecretRotation(t *testing.T) {
	f := newOAuthFixture(t)
	ctx := context.Background()
	api := adminSDK(f.srv)
	pool := aws.String(f.pool)

	list := func(client string) []types.ClientSecretDescriptorType {
		t.Helper()
		out, err := api.ListUserPoolClientSecrets(ctx, &cip.ListUserPoolClientSecretsInput{UserPoolId: pool, ClientId: aws.String(client)})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range out.ClientSecrets {
			if s.ClientSecretValue != nil {
				t.Fatalf("ListUserPoolClientSecrets revealed a value")
			}
		}
		if out.NextToken != nil {
			t.Errorf("a next page of at most two secrets")
		}
		return out.ClientSecrets
	}
	first := list(f.confidential)
	if len(first) != 1 || first[0].ClientSecretCreateDate == nil || len(aws.ToString(first[0].ClientSecretId)) < len(f.confidential)+3 ||
		aws.ToString(first[0].ClientSecretId)[:len(f.confidential)+2] != f.confidential+"--" {
		t.Fatalf("a new client's secrets: %+v", first)
	}

	added, err := api.AddUserPoolClientSecret(ctx, &cip.AddUserPoolClientSecretInput{UserPoolId: pool, ClientId: aws.String(f.confidential)})
	if err != nil {
		t.Fatal(err)
	}
	second := aws.ToString(added.ClientSecretDescriptor.ClientSecretValue)
	if len(second) < 24 || second == f.confSecret || added.ClientSecretDescriptor.ClientSecretId == nil {
		t.Fatalf("generated secret %+v", added.ClientSecretDescriptor)
	}
	if got := list(f.confidential); len(got) != 2 {
		t.Fatalf("after AddUserPoolClientSecret: %d secrets", len(got))
	}
	_, err = api.AddUserPoolClientSecret(ctx, &cip.AddUserPoolClientSecretInput{UserPoolId: pool, ClientId: aws.String(f.confidential)})
	var lee *types.LimitExceededException
	if !errors.As(err, &lee) {
		t.Fatalf("a third secret: %v", err)
	}

	signInWith := func(secret string) error {
		_, err := sdk(f.srv).InitiateAuth(ctx, &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeUserPasswordAuth, ClientId: aws.String(f.confidential),
			AuthParameters: map[string]string{"USERNAME": oauthUser, "PASSWORD": oauthPassword, "SECRET_HASH": secretHash(oauthUser, f.confidential, secret)}})
		return err
	}
	for name, s := range map[string]string{"first": f.confSecret, "second": second} {
		if err := signInWith(s); err != nil {
			t.Errorf("SECRET_HASH of the %s secret: %v", name, err)
		}
	}
	var nae *types.NotAuthorizedException
	if err := signInWith("not-a-secret-of-this-client-at-all"); !errors.As(err, &nae) {
		t.Errorf("SECRET_HASH of another secret: %v", err)
	}

	// A secret of the caller's choosing, at the token endpoint.
	custom := "ChosenSecretValue0123456789abcdef"
	added, err = api.AddUserPoolClientSecret(ctx, &cip.AddUserPoolClientSecretInput{UserPoolId: pool, ClientId: aws.String(f.m2m), ClientSecret: aws.String(custom)})
	if err != nil {
		t.Fatal(err)
	}
	if added.ClientSecretDescriptor.ClientSecretValue != nil {
		t.Errorf("a chosen secret was echoed")
	}
	cc := url.Values{"grant_type": {"client_credentials"}}
	for name, s := range map[string]string{"first": f.m2mSecret, "chosen": custom} {
		if status, out := postToken(t, f, "/oauth2/token", cc, f.m2m, s); status != http.StatusOK {
			t.Errorf("token endpoint with the %s secret: %d %v", name, status, out)
		}
	}
	_, err = api.AddUserPoolClientSecret(ctx, &cip.AddUserPoolClientSecretInput{UserPoolId: pool, ClientId: aws.String(f.public)})
	var ipe *types.InvalidParameterException
	if !errors.As(err, &ipe) {
		t.Errorf("a secret for a public client: %v", err)
	}
	_, err = api.AddUserPoolClientSecret(ctx, &cip.AddUserPoolClientSecretInput{UserPoolId: pool, ClientId: aws.String(f.apiOnly), ClientSecret: aws.String("short")})
	if !errors.As(err, &ipe) {
		t.Errorf("a short chosen secret: %v", err)
	}

	// Rotation: delete the first; the second is the client's secret now.
	if _, err := api.DeleteUserPoolClientSecret(ctx, &cip.DeleteUserPoolClientSecretInput{UserPoolId: pool, ClientId: aws.String(f.confidential), ClientSecretId: first[0].ClientSecretId}); err != nil {
		t.Fatal(err)
	}
	if err := signInWith(f.confSecret); !errors.As(err, &nae) {
		t.Errorf("the deleted secret still signs in: %v", err)
	}
	if err := signInWith(second); err != nil {
		t.Errorf("the remaining secret: %v", err)
	}
	d, err := api.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: pool, ClientId: aws.String(f.confidential)})
	if err != nil || aws.ToString(d.UserPoolClient.ClientSecret) != second {
		t.Errorf("DescribeUserPoolClient after rotation: %v", err)
	}
	rest := list(f.confidential)
	if len(rest) != 1 {
		t.Fatalf("after the deletion: %d secrets", len(rest))
	}
	_, err = api.DeleteUserPoolClientSecret(ctx, &cip.DeleteUserPoolClientSecretInput{UserPoolId: pool, ClientId: aws.String(f.confidential), ClientSecretId: rest[0].ClientSecretId})
	if !errors.As(err, &ipe) {
		t.Errorf("deleting the last secret: %v", err)
	}
	_, err = api.DeleteUserPoolClientSecret(ctx, &cip.DeleteUserPoolClientSecretInput{UserPoolId: pool, ClientId: aws.String(f.confidential), ClientSecretId: first[0].ClientSecretId})
	var rnf *types.ResourceNotFoundException
	if !errors.As(err, &rnf) {
		t.Errorf("deleting a deleted secret: %v", err)
	}
	// UpdateUserPoolClient keeps the secrets.
	if _, err := api.UpdateUserPoolClient(ctx, &cip.UpdateUserPoolClientInput{UserPoolId: pool, ClientId: aws.String(f.m2m), ClientName: aws.String("m2m"),
		AllowedOAuthFlowsUserPoolClient: true, AllowedOAuthFlows: []types.OAuthFlowType{types.OAuthFlowTypeClientCredentials},
		AllowedOAuthScopes: []string{"orders/read"}}); err != nil {
		t.Fatal(err)
	}
	if got := list(f.m2m); len(got) != 2 {
		t.Errorf("after UpdateUserPoolClient: %d secrets", len(got))
	}
}
