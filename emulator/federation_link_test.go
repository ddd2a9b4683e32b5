package emulator_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
)

func providerUser(provider, name, value string) *types.ProviderUserIdentifierType {
	return &types.ProviderUserIdentifierType{ProviderName: aws.String(provider), ProviderAttributeName: aws.String(name), ProviderAttributeValue: aws.String(value)}
}

func wantSDKErr(t *testing.T, err error, code, msgPart string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), msgPart) {
		t.Fatalf("error %v, want %s containing %q", err, code, msgPart)
	}
}

func attrOf(t *testing.T, c *cip.Client, pool, username, name string) (string, bool) {
	t.Helper()
	u, err := c.AdminGetUser(context.Background(), &cip.AdminGetUserInput{UserPoolId: aws.String(pool), Username: aws.String(username)})
	if err != nil {
		t.Fatalf("AdminGetUser %s: %v", username, err)
	}
	for _, a := range u.UserAttributes {
		if aws.ToString(a.Name) == name {
			return aws.ToString(a.Value), true
		}
	}
	return "", false
}

// TestAdminLinkAndDisableProvider, through aws-sdk-go-v2: an upstream identity
// linked to a native user signs in as that user (no external user, no PreSignUp,
// the identities claim listing the link); disabling the link makes the next
// sign-in a new external user, and disabling that user's identity deletes it.
func TestAdminLinkAndDisableProvider(t *testing.T) {
	f := newFedFixture(t)
	ctx := context.Background()
	c := sdk(f.srv)
	link := func(dst, src *types.ProviderUserIdentifierType) error {
		_, err := c.AdminLinkProviderForUser(ctx, &cip.AdminLinkProviderForUserInput{UserPoolId: aws.String(f.app), DestinationUser: dst, SourceUser: src})
		return err
	}
	native := providerUser("Cognito", "", "native")
	bySub := providerUser(fedProvider, "Cognito_Subject", f.upstreamSb)

	// Refusals, as Cognito words them where it is known.
	wantSDKErr(t, link(native, providerUser("Cognito", "Cognito_Subject", "native")), "InvalidParameterException", "Cognito users with a username/password may not be passed in as a SourceUser")
	wantSDKErr(t, link(providerUser("Cognito", "", "nobody"), bySub), "UserNotFoundException", "User does not exist.")
	wantSDKErr(t, link(native, providerUser("Nope", "Cognito_Subject", "x")), "InvalidParameterException", "does not exist")
	wantSDKErr(t, link(native, providerUser(fedProvider, "zoneinfo", "x")), "InvalidParameterException", "not an attribute mapped")

	if err := link(native, bySub); err != nil {
		t.Fatal(err)
	}
	if err := link(native, bySub); err != nil {
		t.Fatalf("the same link again: %v", err)
	}
	if got, _ := attrOf(t, c, f.app, "native", "identities"); got != fmt.Sprintf(`[{"userId":"%s","providerName":"Upstream","providerType":"OIDC","issuer":null,"primary":false,"dateCreated":%d}]`, f.upstreamSb, t0.UnixMilli()) {
		t.Fatalf("identities after the link: %s", got)
	}

	// The federated sign-in is the native user's, with the mapped attributes
	// written to it.
	f.clk.Advance(time.Minute)
	b := browser(t)
	id := claimsOf(t, fedTokens(t, f, b, nil)["id_token"].(string))
	if id["cognito:username"] != "native" || id["sub"] != f.srv.UserSub(f.app, "native") || id["email"] != "dora@upstream.example" {
		t.Fatalf("linked sign-in: %v", id)
	}
	if got := string(mustJSON(t, id["identities"])); got != fmt.Sprintf(`[{"dateCreated":"%d","issuer":null,"primary":"false","providerName":"Upstream","providerType":"OIDC","userId":"%s"}]`, t0.UnixMilli(), f.upstreamSb) {
		t.Errorf("identities claim of the linked user: %s", got)
	}
	if len(f.lambda.events) != 0 {
		t.Errorf("PreSignUp ran for a linked sign-in: %v", f.lambda.events)
	}
	out, err := c.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(f.app)})
	if err != nil || len(out.Users) != 1 {
		t.Fatalf("users after the linked sign-in: %v %d", err, len(out.Users))
	}
	// The identity is taken now: linking it to another user is merging.
	if _, err := c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(f.app), Username: aws.String("other"), MessageAction: types.MessageActionTypeSuppress}); err != nil {
		t.Fatal(err)
	}
	wantSDKErr(t, link(providerUser("Cognito", "", "other"), bySub), "InvalidParameterException", "Merging is not currently supported")

	// Disabling the link: the next sign-in is a new external user.
	disable := func(u *types.ProviderUserIdentifierType) error {
		_, err := c.AdminDisableProviderForUser(ctx, &cip.AdminDisableProviderForUserInput{UserPoolId: aws.String(f.app), User: u})
		return err
	}
	wantSDKErr(t, disable(providerUser("Nope", "Cognito_Subject", "x")), "InvalidParameterException", "does not exist")
	if err := disable(bySub); err != nil {
		t.Fatal(err)
	}
	if _, has := attrOf(t, c, f.app, "native", "identities"); has {
		t.Fatal("the native user keeps the identities attribute after the link was disabled")
	}
	wantSDKErr(t, disable(bySub), "UserNotFoundException", "")
	external := fedProvider + "_" + f.upstreamSb
	id = claimsOf(t, fedTokens(t, f, b, nil)["id_token"].(string))
	external0 := 0
	for _, ev := range f.lambda.events {
		if ev["triggerSource"] == "PreSignUp_ExternalProvider" {
			external0++
		}
	}
	if id["cognito:username"] != external || external0 != 1 {
		t.Fatalf("sign-in after the link was disabled: %v (PreSignUp_ExternalProvider %d times)", id, external0)
	}
	// An external user cannot be linked (merging), and disabling its identity
	// deletes it.
	wantSDKErr(t, link(native, bySub), "InvalidParameterException", "Merging is not currently supported")
	if err := disable(bySub); err != nil {
		t.Fatal(err)
	}
	_, err = c.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(f.app), Username: aws.String(external)})
	wantSDKErr(t, err, "UserNotFoundException", "")

	// A link by a mapped attribute, not yet signed in with, matches the e-mail the
	// provider sends, and becomes the provider's subject once used.
	if err := link(providerUser("Cognito", "", "other"), providerUser(fedProvider, "email", "dora@upstream.example")); err != nil {
		t.Fatal(err)
	}
	id = claimsOf(t, fedTokens(t, f, b, nil)["id_token"].(string))
	if id["cognito:username"] != "other" {
		t.Fatalf("sign-in with an e-mail link: %v", id)
	}
	if got, _ := attrOf(t, c, f.app, "other", "identities"); !strings.Contains(got, `"userId":"`+f.upstreamSb+`"`) {
		t.Fatalf("the e-mail link did not become the subject: %s", got)
	}
	// A local user disabled through the Cognito provider cannot use its password.
	admin, err := c.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: aws.String(f.app), ClientName: aws.String("admin"),
		ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth}})
	if err != nil {
		t.Fatal(err)
	}
	signIn := func() error {
		_, err := c.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: aws.String(f.app), ClientId: admin.UserPoolClient.ClientId,
			AuthFlow: types.AuthFlowTypeAdminUserPasswordAuth, AuthParameters: map[string]string{"USERNAME": "native", "PASSWORD": password}})
		return err
	}
	if err := signIn(); err != nil {
		t.Fatalf("the local user before: %v", err)
	}
	if err := disable(providerUser("Cognito", "Cognito_Subject", "native")); err != nil {
		t.Fatal(err)
	}
	wantSDKErr(t, signIn(), "NotAuthorizedException", "Incorrect username or password.")
}
