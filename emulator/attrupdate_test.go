package emulator_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/golang-jwt/jwt/v5"

	"github.com/cogauth/cogauth/emulator"
)

func attrValue(attrs []types.AttributeType, name string) string {
	for _, a := range attrs {
		if aws.ToString(a.Name) == name {
			return aws.ToString(a.Value)
		}
	}
	return ""
}

// attrPool makes, through the SDK, a pool that keeps e-mail changes waiting for
// verification (unless keep is false), e-mail as an alias, a required name and
// an immutable custom attribute, with one user "pat" (old@example.com, verified).
func attrPool(t *testing.T, c *cip.Client, keep bool) (pool, client string) {
	t.Helper()
	ctx := context.Background()
	in := &cip.CreateUserPoolInput{
		PoolName:               aws.String("attrs"),
		AutoVerifiedAttributes: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail},
		AliasAttributes:        []types.AliasAttributeType{types.AliasAttributeTypeEmail},
		Schema: []types.SchemaAttributeType{
			{Name: aws.String("name"), AttributeDataType: types.AttributeDataTypeString, Required: aws.Bool(true), Mutable: aws.Bool(true)},
			{Name: aws.String("badge"), AttributeDataType: types.AttributeDataTypeString, Mutable: aws.Bool(false)},
		},
	}
	if keep {
		in.UserAttributeUpdateSettings = &types.UserAttributeUpdateSettingsType{
			AttributesRequireVerificationBeforeUpdate: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail},
		}
	}
	p, err := c.CreateUserPool(ctx, in)
	if err != nil {
		t.Fatalf("CreateUserPool: %v", err)
	}
	pool = aws.ToString(p.UserPool.Id)
	cl, err := c.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: aws.String(pool), ClientName: aws.String("c"),
		ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserPasswordAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth}})
	if err != nil {
		t.Fatalf("CreateUserPoolClient: %v", err)
	}
	if _, err := c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(pool), Username: aws.String("pat"),
		MessageAction: types.MessageActionTypeSuppress, UserAttributes: []types.AttributeType{
			{Name: aws.String("email"), Value: aws.String("old@example.com")},
			{Name: aws.String("email_verified"), Value: aws.String("true")},
			{Name: aws.String("name"), Value: aws.String("Pat")},
			{Name: aws.String("custom:badge"), Value: aws.String("b1")},
			{Name: aws.String("nickname"), Value: aws.String("p")},
		}}); err != nil {
		t.Fatalf("AdminCreateUser: %v", err)
	}
	if _, err := c.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: aws.String(pool), Username: aws.String("pat"),
		Password: aws.String(password), Permanent: true}); err != nil {
		t.Fatalf("AdminSetUserPassword: %v", err)
	}
	return pool, aws.ToString(cl.UserPoolClient.ClientId)
}

func signInErr(c *cip.Client, clientID, user string) error {
	_, err := c.InitiateAuth(context.Background(), &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		ClientId: aws.String(clientID), AuthParameters: map[string]string{"USERNAME": user, "PASSWORD": password}})
	return err
}

func emailClaim(t *testing.T, idToken string) string {
	t.Helper()
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(idToken, claims); err != nil {
		t.Fatal(err)
	}
	s, _ := claims["email"].(string)
	return s
}

// With UserAttributeUpdateSettings requiring verification of e-mail, a new
// address waits: GetUser, the ID token and sign-in by alias keep the original
// (still verified) until VerifyUserAttribute redeems the code sent to the new one.
func TestUpdateEmailWaitsForVerification(t *testing.T) {
	ctx := context.Background()
	srv := emulator.NewServer(emulator.Options{Clock: newFake()})
	defer srv.Close()
	c := sdk(srv)
	pool, client := attrPool(t, c, true)

	d, err := c.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(pool)})
	if err != nil {
		t.Fatal(err)
	}
	if s := d.UserPool.UserAttributeUpdateSettings; s == nil || len(s.AttributesRequireVerificationBeforeUpdate) != 1 ||
		s.AttributesRequireVerificationBeforeUpdate[0] != types.VerifiedAttributeTypeEmail {
		t.Fatalf("DescribeUserPool UserAttributeUpdateSettings = %+v", s)
	}

	tok := signIn(t, c, client, "pat", password)
	up, err := c.UpdateUserAttributes(ctx, &cip.UpdateUserAttributesInput{AccessToken: tok.AccessToken,
		UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String("new@example.com")},
			{Name: aws.String("nickname"), Value: aws.String("pp")}}})
	if err != nil {
		t.Fatalf("UpdateUserAttributes: %v", err)
	}
	if len(up.CodeDeliveryDetailsList) != 1 || aws.ToString(up.CodeDeliveryDetailsList[0].AttributeName) != "email" ||
		!strings.HasPrefix(aws.ToString(up.CodeDeliveryDetailsList[0].Destination), "n") {
		t.Fatalf("CodeDeliveryDetailsList = %+v, want one to the new address", up.CodeDeliveryDetailsList)
	}
	msgs := srv.Messages(pool, "pat")
	last := msgs[len(msgs)-1]
	if last.Kind != "VERIFY_ATTRIBUTE" || last.Destination != "new@example.com" {
		t.Fatalf("last message %s to %s, want VERIFY_ATTRIBUTE to the new address", last.Kind, last.Destination)
	}

	u, err := c.GetUser(ctx, &cip.GetUserInput{AccessToken: tok.AccessToken})
	if err != nil {
		t.Fatal(err)
	}
	if attrValue(u.UserAttributes, "email") != "old@example.com" || attrValue(u.UserAttributes, "email_verified") != "true" ||
		attrValue(u.UserAttributes, "nickname") != "pp" {
		t.Fatalf("GetUser while pending = %v; want the original e-mail, verified, and the other change applied", u.UserAttributes)
	}
	if err := signInErr(c, client, "new@example.com"); err == nil {
		t.Fatal("signed in with the unverified new address")
	}
	if got := emailClaim(t, aws.ToString(signIn(t, c, client, "old@example.com", password).IdToken)); got != "old@example.com" {
		t.Fatalf("ID token email while pending = %q", got)
	}

	// A wrong code changes nothing.
	_, err = c.VerifyUserAttribute(ctx, &cip.VerifyUserAttributeInput{AccessToken: tok.AccessToken, AttributeName: aws.String("email"), Code: aws.String("000000x")})
	wantAPIError(t, err, "CodeMismatchException", "")
	// GetUserAttributeVerificationCode sends a new code to the waiting address.
	g, err := c.GetUserAttributeVerificationCode(ctx, &cip.GetUserAttributeVerificationCodeInput{AccessToken: tok.AccessToken, AttributeName: aws.String("email")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(aws.ToString(g.CodeDeliveryDetails.Destination), "n") {
		t.Fatalf("code sent to %s, want the new address", aws.ToString(g.CodeDeliveryDetails.Destination))
	}
	code, _ := srv.LastCode(pool, "pat")
	if _, err := c.VerifyUserAttribute(ctx, &cip.VerifyUserAttributeInput{AccessToken: tok.AccessToken, AttributeName: aws.String("email"), Code: aws.String(code)}); err != nil {
		t.Fatalf("VerifyUserAttribute: %v", err)
	}
	u, err = c.GetUser(ctx, &cip.GetUserInput{AccessToken: tok.AccessToken})
	if err != nil {
		t.Fatal(err)
	}
	if attrValue(u.UserAttributes, "email") != "new@example.com" || attrValue(u.UserAttributes, "email_verified") != "true" {
		t.Fatalf("GetUser after verification = %v", u.UserAttributes)
	}
	if err := signInErr(c, client, "old@example.com"); err == nil {
		t.Fatal("signed in with the replaced address")
	}
	if got := emailClaim(t, aws.ToString(signIn(t, c, client, "new@example.com", password).IdToken)); got != "new@example.com" {
		t.Fatalf("ID token email after verification = %q", got)
	}

	// AdminUpdateUserAttributes: a new address waits too (and gets a code);
	// email_verified true on its own then verifies it, and with a new address
	// applies it at once.
	admin := func(attrs ...string) {
		t.Helper()
		var list []types.AttributeType
		for i := 0; i < len(attrs); i += 2 {
			list = append(list, types.AttributeType{Name: aws.String(attrs[i]), Value: aws.String(attrs[i+1])})
		}
		if _, err := c.AdminUpdateUserAttributes(ctx, &cip.AdminUpdateUserAttributesInput{UserPoolId: aws.String(pool),
			Username: aws.String("pat"), UserAttributes: list}); err != nil {
			t.Fatalf("AdminUpdateUserAttributes: %v", err)
		}
	}
	adminEmail := func() (string, string) {
		t.Helper()
		g, err := c.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(pool), Username: aws.String("pat")})
		if err != nil {
			t.Fatal(err)
		}
		return attrValue(g.UserAttributes, "email"), attrValue(g.UserAttributes, "email_verified")
	}
	sent := len(srv.Messages(pool, "pat"))
	admin("email", "third@example.com")
	if e, v := adminEmail(); e != "new@example.com" || v != "true" {
		t.Fatalf("AdminGetUser while pending = %s %s", e, v)
	}
	if msgs := srv.Messages(pool, "pat"); len(msgs) != sent+1 || msgs[len(msgs)-1].Destination != "third@example.com" {
		t.Fatal("AdminUpdateUserAttributes sent no code to the waiting address")
	}
	admin("email_verified", "true")
	if e, v := adminEmail(); e != "third@example.com" || v != "true" {
		t.Fatalf("after email_verified=true: %s %s", e, v)
	}
	sent = len(srv.Messages(pool, "pat"))
	admin("email", "fourth@example.com", "email_verified", "true")
	if e, v := adminEmail(); e != "fourth@example.com" || v != "true" {
		t.Fatalf("email with email_verified=true: %s %s", e, v)
	}
	if len(srv.Messages(pool, "pat")) != sent {
		t.Fatal("a code was sent for an address given as verified")
	}
}

// Without the setting, a new address applies at once, unverified.
func TestUpdateEmailWithoutSetting(t *testing.T) {
	ctx := context.Background()
	srv := emulator.NewServer(emulator.Options{Clock: newFake()})
	defer srv.Close()
	c := sdk(srv)
	_, client := attrPool(t, c, false)
	tok := signIn(t, c, client, "pat", password)
	if _, err := c.UpdateUserAttributes(ctx, &cip.UpdateUserAttributesInput{AccessToken: tok.AccessToken,
		UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String("new@example.com")}}}); err != nil {
		t.Fatal(err)
	}
	u, err := c.GetUser(ctx, &cip.GetUserInput{AccessToken: tok.AccessToken})
	if err != nil {
		t.Fatal(err)
	}
	if attrValue(u.UserAttributes, "email") != "new@example.com" || attrValue(u.UserAttributes, "email_verified") != "false" {
		t.Fatalf("GetUser = %v", u.UserAttributes)
	}
}

// Cognito's checks of UserAttributeUpdateSettings at CreateUserPool and UpdateUserPool.
func TestUserAttributeUpdateSettingsChecked(t *testing.T) {
	ctx := context.Background()
	srv := emulator.NewServer(emulator.Options{Clock: newFake()})
	defer srv.Close()
	c := sdk(srv)
	_, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("x"),
		AutoVerifiedAttributes: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail},
		UserAttributeUpdateSettings: &types.UserAttributeUpdateSettingsType{
			AttributesRequireVerificationBeforeUpdate: []types.VerifiedAttributeType{types.VerifiedAttributeTypePhoneNumber}}})
	wantAPIError(t, err, "InvalidParameterException", "All attributes in AttributesRequireVerificationBeforeUpdate must exist in AutoVerifiedAttributes")
	_, err = c.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("x"),
		AutoVerifiedAttributes: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail},
		UserAttributeUpdateSettings: &types.UserAttributeUpdateSettingsType{
			AttributesRequireVerificationBeforeUpdate: []types.VerifiedAttributeType{"name"}}})
	wantAPIError(t, err, "InvalidParameterException", "enum value set: [phone_number, email]")
	pool, _ := attrPool(t, c, false)
	_, err = c.UpdateUserPool(ctx, &cip.UpdateUserPoolInput{UserPoolId: aws.String(pool),
		UserAttributeUpdateSettings: &types.UserAttributeUpdateSettingsType{
			AttributesRequireVerificationBeforeUpdate: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail}}})
	wantAPIError(t, err, "InvalidParameterException", "must exist in AutoVerifiedAttributes")
}

// DeleteUserAttributes and AdminDeleteUserAttributes refuse a Required schema
// attribute, an immutable one and sub, deleting nothing; others go.
func TestDeleteAttributesRefusals(t *testing.T) {
	ctx := context.Background()
	srv := emulator.NewServer(emulator.Options{Clock: newFake()})
	defer srv.Close()
	c := sdk(srv)
	pool, client := attrPool(t, c, false)
	tok := signIn(t, c, client, "pat", password)
	for _, tc := range []struct{ name, code, msg string }{
		{"name", "InvalidParameterException", "Attributes did not conform to the schema: name: The attribute is required"},
		{"custom:badge", "InvalidParameterException", "Cannot modify the non-mutable attribute custom:badge"},
		{"sub", "InvalidParameterException", "Cannot modify the non-mutable attribute sub"},
	} {
		_, err := c.DeleteUserAttributes(ctx, &cip.DeleteUserAttributesInput{AccessToken: tok.AccessToken, UserAttributeNames: []string{"nickname", tc.name}})
		wantAPIError(t, err, tc.code, tc.msg)
		_, err = c.AdminDeleteUserAttributes(ctx, &cip.AdminDeleteUserAttributesInput{UserPoolId: aws.String(pool), Username: aws.String("pat"),
			UserAttributeNames: []string{"nickname", tc.name}})
		wantAPIError(t, err, tc.code, tc.msg)
	}
	u, err := c.GetUser(ctx, &cip.GetUserInput{AccessToken: tok.AccessToken})
	if err != nil {
		t.Fatal(err)
	}
	if attrValue(u.UserAttributes, "nickname") != "p" || attrValue(u.UserAttributes, "name") != "Pat" {
		t.Fatalf("a refused deletion changed the user: %v", u.UserAttributes)
	}
	if _, err := c.DeleteUserAttributes(ctx, &cip.DeleteUserAttributesInput{AccessToken: tok.AccessToken, UserAttributeNames: []string{"nickname"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AdminDeleteUserAttributes(ctx, &cip.AdminDeleteUserAttributesInput{UserPoolId: aws.String(pool), Username: aws.String("pat"),
		UserAttributeNames: []string{"email"}}); err != nil {
		t.Fatal(err)
	}
	u, err = c.GetUser(ctx, &cip.GetUserInput{AccessToken: tok.AccessToken})
	if err != nil {
		t.Fatal(err)
	}
	if attrValue(u.UserAttributes, "nickname") != "" || attrValue(u.UserAttributes, "email") != "" || attrValue(u.UserAttributes, "email_verified") != "" {
		t.Fatalf("after deletions: %v", u.UserAttributes)
	}
}
