package emulator_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/jwt"
)

const preSignUpARN = "arn:aws:lambda:us-east-1:123456789012:function:pre-sign-up"

// TestLambdaConfigStoredAndEchoed: CreateUserPool keeps LambdaConfig and
// DescribeUserPool answers it, with PreTokenGenerationConfig derived as Cognito
// does; UpdateUserPool without it removes the triggers (reset to default); a
// malformed ARN is refused.
func TestLambdaConfigStoredAndEchoed(t *testing.T) {
	srv := emulator.NewServer(emulator.Options{})
	t.Cleanup(srv.Close)
	c := sdk(srv)
	ctx := context.Background()
	created, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{
		PoolName: aws.String("triggers"),
		LambdaConfig: &types.LambdaConfigType{
			PreSignUp:          aws.String(preSignUpARN),
			PreTokenGeneration: aws.String("arn:aws:lambda:us-east-1:123456789012:function:ptg"),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := created.UserPool.Id
	if got := aws.ToString(created.UserPool.LambdaConfig.PreSignUp); got != preSignUpARN {
		t.Errorf("CreateUserPool echoed PreSignUp %q", got)
	}
	d, err := c.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: id})
	if err != nil {
		t.Fatal(err)
	}
	lc := d.UserPool.LambdaConfig
	if aws.ToString(lc.PreSignUp) != preSignUpARN || lc.PreTokenGenerationConfig == nil ||
		lc.PreTokenGenerationConfig.LambdaVersion != types.PreTokenGenerationLambdaVersionTypeV10 ||
		aws.ToString(lc.PreTokenGenerationConfig.LambdaArn) != aws.ToString(lc.PreTokenGeneration) {
		t.Errorf("DescribeUserPool LambdaConfig %+v", lc)
	}

	// UpdateUserPool naming a V2 pre token generation function.
	v2 := "arn:aws:lambda:us-east-1:123456789012:function:ptg-v2"
	if _, err := c.UpdateUserPool(ctx, &cip.UpdateUserPoolInput{UserPoolId: id, LambdaConfig: &types.LambdaConfigType{
		PreTokenGenerationConfig: &types.PreTokenGenerationVersionConfigType{LambdaArn: aws.String(v2), LambdaVersion: types.PreTokenGenerationLambdaVersionTypeV20},
	}}); err != nil {
		t.Fatal(err)
	}
	d, _ = c.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: id})
	if lc := d.UserPool.LambdaConfig; lc.PreSignUp != nil || aws.ToString(lc.PreTokenGeneration) != v2 ||
		lc.PreTokenGenerationConfig.LambdaVersion != types.PreTokenGenerationLambdaVersionTypeV20 {
		t.Errorf("after UpdateUserPool: %+v", lc)
	}
	if aws.ToString(d.UserPool.Name) != "triggers" {
		t.Errorf("UpdateUserPool without PoolName renamed the pool to %q", aws.ToString(d.UserPool.Name))
	}

	// Left out: reset to no triggers.
	if _, err := c.UpdateUserPool(ctx, &cip.UpdateUserPoolInput{UserPoolId: id}); err != nil {
		t.Fatal(err)
	}
	d, _ = c.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: id})
	if lc := d.UserPool.LambdaConfig; lc == nil || lc.PreTokenGeneration != nil || lc.PreTokenGenerationConfig != nil {
		t.Errorf("UpdateUserPool without LambdaConfig kept %+v", lc)
	}

	for name, lc := range map[string]*types.LambdaConfigType{
		"not an ARN":        {PreSignUp: aws.String("pre-sign-up")},
		"bad version":       {PreTokenGenerationConfig: &types.PreTokenGenerationVersionConfigType{LambdaArn: aws.String(v2), LambdaVersion: "V9_0"}},
		"two different PTG": {PreTokenGeneration: aws.String(preSignUpARN), PreTokenGenerationConfig: &types.PreTokenGenerationVersionConfigType{LambdaArn: aws.String(v2), LambdaVersion: "V2_0"}},
	} {
		_, err := c.UpdateUserPool(ctx, &cip.UpdateUserPoolInput{UserPoolId: id, LambdaConfig: lc})
		var ipe *types.InvalidParameterException
		if !errors.As(err, &ipe) {
			t.Errorf("%s: %v, want InvalidParameterException", name, err)
		}
	}
}

// TestUpdateUserPoolResetsToDefaults: what an UpdateUserPool call leaves out
// goes back to Cognito's default (MFA off, default password policy, no
// auto-verification, no device tracking); deletion protection blocks
// DeleteUserPool until lifted.
func TestUpdateUserPoolResetsToDefaults(t *testing.T) {
	srv := emulator.NewServer(emulator.Options{})
	t.Cleanup(srv.Close)
	c := sdk(srv)
	ctx := context.Background()
	created, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{
		PoolName:                 aws.String("p"),
		MfaConfiguration:         types.UserPoolMfaTypeOptional,
		AutoVerifiedAttributes:   []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail},
		DeviceConfiguration:      &types.DeviceConfigurationType{ChallengeRequiredOnNewDevice: true},
		Policies:                 &types.UserPoolPolicyType{PasswordPolicy: &types.PasswordPolicyType{MinimumLength: aws.Int32(12)}},
		EmailVerificationSubject: aws.String("Your code"),
		DeletionProtection:       types.DeletionProtectionTypeActive,
	})
	if err != nil {
		t.Fatal(err)
	}
	id := created.UserPool.Id
	if aws.ToString(created.UserPool.EmailVerificationSubject) != "Your code" || created.UserPool.DeletionProtection != types.DeletionProtectionTypeActive {
		t.Errorf("CreateUserPool echo: subject %q, deletion protection %q", aws.ToString(created.UserPool.EmailVerificationSubject), created.UserPool.DeletionProtection)
	}
	if _, err := c.DeleteUserPool(ctx, &cip.DeleteUserPoolInput{UserPoolId: id}); err == nil {
		t.Fatal("DeleteUserPool of a protected pool succeeded")
	}
	if _, err := c.UpdateUserPool(ctx, &cip.UpdateUserPoolInput{UserPoolId: id, PoolName: aws.String("renamed")}); err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: id})
	if err != nil {
		t.Fatal(err)
	}
	p := d.UserPool
	if aws.ToString(p.Name) != "renamed" || p.MfaConfiguration != types.UserPoolMfaTypeOff || len(p.AutoVerifiedAttributes) != 0 ||
		p.DeviceConfiguration != nil || aws.ToInt32(p.Policies.PasswordPolicy.MinimumLength) != 8 ||
		p.EmailVerificationSubject != nil || p.DeletionProtection != types.DeletionProtectionTypeInactive {
		t.Errorf("after an UpdateUserPool naming only the name: %+v", p)
	}
	if _, err := c.DeleteUserPool(ctx, &cip.DeleteUserPoolInput{UserPoolId: id}); err != nil {
		t.Fatalf("DeleteUserPool after protection was lifted: %v", err)
	}
}

// TestCognitoMessages: the wording Cognito uses for a wrong sign-up code and an
// existing name, which differs from the admin operations'.
func TestCognitoMessages(t *testing.T) {
	srv, _ := newTestServer(t)
	web := srv.AppClient("app", "web").ID
	pool := srv.PoolID("app")
	signUp := map[string]any{"ClientId": web, "Username": "zoe", "Password": password,
		"UserAttributes": []map[string]string{{"Name": "email", "Value": "zoe@example.com"}}}
	mustCall(t, srv, "SignUp", signUp)
	_, ae := call(t, srv, "SignUp", signUp)
	wantErr(t, ae, "UsernameExistsException", "User already exists")
	if ae.Message != "User already exists" {
		t.Errorf("SignUp of an existing name: %q", ae.Message)
	}
	_, ae = call(t, srv, "AdminCreateUser", map[string]any{"UserPoolId": pool, "Username": "zoe"})
	wantErr(t, ae, "UsernameExistsException", "User account already exists")
	_, ae = call(t, srv, "ConfirmSignUp", map[string]any{"ClientId": web, "Username": "zoe", "ConfirmationCode": "000000x"})
	wantErr(t, ae, "CodeMismatchException", "")
	if ae.Message != "Invalid verification code provided, please try again." {
		t.Errorf("ConfirmSignUp with a wrong code: %q", ae.Message)
	}
}

// TestPreventUserExistenceSRP: with PreventUserExistenceErrors ENABLED an
// unknown user's USER_SRP_AUTH gets a PASSWORD_VERIFIER challenge like a real
// user's, with the same salt each time for the same name, and fails only at
// RespondToAuthChallenge with a wrong-password answer; a LEGACY client (the
// default Describe shows) says UserNotFoundException at once.
func TestPreventUserExistenceSRP(t *testing.T) {
	srv, _ := newTestServer(t)
	pool := srv.PoolID("app")
	web := srv.AppClient("app", "web").ID
	d := mustCall(t, srv, "DescribeUserPoolClient", map[string]string{"UserPoolId": pool, "ClientId": web})
	if got := d["UserPoolClient"].(map[string]any)["PreventUserExistenceErrors"]; got != "LEGACY" {
		t.Errorf("default PreventUserExistenceErrors %v, want LEGACY", got)
	}
	_, ae := call(t, srv, "InitiateAuth", map[string]any{"AuthFlow": "USER_SRP_AUTH", "ClientId": web,
		"AuthParameters": map[string]string{"USERNAME": "nobody", "SRP_A": "abcdef"}})
	wantErr(t, ae, "UserNotFoundException", "")

	// The whole configuration, as an AWS user must send it (what an update leaves
	// out is reset).
	full := mustCall(t, srv, "DescribeUserPoolClient", map[string]string{"UserPoolId": pool, "ClientId": web})["UserPoolClient"].(map[string]any)
	mustCall(t, srv, "UpdateUserPoolClient", map[string]any{"UserPoolId": pool, "ClientId": web,
		"ExplicitAuthFlows": full["ExplicitAuthFlows"], "PreventUserExistenceErrors": "ENABLED"})
	salt := func(name string) string {
		_, ch := srpStart(t, srv, web, name, nil)
		return strMap(ch["ChallengeParameters"])["SALT"]
	}
	a1, a2, b := salt("nobody"), salt("nobody"), salt("someone-else")
	if a1 == "" || a1 != a2 || a1 == b {
		t.Errorf("simulated salts: %q, %q for the same name, %q for another", a1, a2, b)
	}
	real1, real2 := salt("alice"), salt("alice")
	if real1 != real2 {
		t.Errorf("a real user's salt %q vs simulated %q", real1, a1)
	}
	cl, ch := srpStart(t, srv, web, "nobody", nil)
	_, ae = respond(t, srv, web, "PASSWORD_VERIFIER", ch["Session"].(string), srpAnswer(t, srv, cl, ch, password, srv.Now()))
	wantErr(t, ae, "NotAuthorizedException", "Incorrect username or password.")
	// The real user still signs in.
	cl, ch = srpStart(t, srv, web, "alice", nil)
	if out, ae := respond(t, srv, web, "PASSWORD_VERIFIER", ch["Session"].(string), srpAnswer(t, srv, cl, ch, password, srv.Now())); ae != nil || out["AuthenticationResult"] == nil {
		t.Fatalf("real user with ENABLED: %v %v", out, ae)
	}
}

// TestGroupRolesInIDToken: groups with IAM roles put cognito:roles and, for the
// group of best precedence, cognito:preferred_role in the id token (what identity
// pools' token-based role mapping reads).
func TestGroupRolesInIDToken(t *testing.T) {
	one, two := int32(1), int32(2)
	srv := emulator.NewServer(emulator.Options{Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
		Name: "app",
		Groups: []emulator.SeedGroup{
			{Name: "admins", Precedence: &one, RoleArn: "arn:aws:iam::123456789012:role/admins"},
			{Name: "staff", Precedence: &two, RoleArn: "arn:aws:iam::123456789012:role/staff"},
			{Name: "plain"},
		},
		Clients: []emulator.SeedClient{{Name: "web"}},
		Users:   []emulator.SeedUser{{Username: "alice", Password: password, Groups: []string{"staff", "admins", "plain"}}},
	}}}})
	t.Cleanup(srv.Close)
	res := signIn(t, sdk(srv), srv.AppClient("app", "web").ID, "alice", password)
	tok, err := jwt.Decode(aws.ToString(res.IdToken))
	if err != nil {
		t.Fatal(err)
	}
	raw := tok.Claims().Raw()
	if got := fmt.Sprint(raw["cognito:roles"]); got != "[arn:aws:iam::123456789012:role/admins arn:aws:iam::123456789012:role/staff]" ||
		raw["cognito:preferred_role"] != "arn:aws:iam::123456789012:role/admins" {
		t.Errorf("roles %v, preferred %v", raw["cognito:roles"], raw["cognito:preferred_role"])
	}
}
