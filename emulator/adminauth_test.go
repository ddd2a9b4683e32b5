package emulator_test

import (
	"context"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/srp"
)

// adminSDK is a SigV4-signing aws-sdk-go-v2 client, as a backend holds.
func adminSDK(srv *emulator.Server) *cip.Client {
	return cip.New(cip.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret-key-example", ""),
	})
}

func adminSeed() *emulator.Seed {
	return &emulator.Seed{UserPools: []emulator.SeedUserPool{{
		Name:           "app",
		DeviceTracking: &emulator.DeviceConfig{},
		Clients: []emulator.SeedClient{
			{Name: "backend", ExplicitAuthFlows: []string{"ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}},
			{Name: "web"},
		},
		Users: []emulator.SeedUser{{Username: "alice", Password: password, Attributes: map[string]string{"email": "alice@example.com"}}},
	}}}
}

// TestAdminInitiateAuth: ADMIN_USER_PASSWORD_AUTH where the client allows it,
// USER_SRP_AUTH and REFRESH_TOKEN_AUTH through the admin calls, the pool checked.
func TestAdminInitiateAuth(t *testing.T) {
	srv := emulator.NewServer(emulator.Options{Seed: adminSeed()})
	t.Cleanup(srv.Close)
	ctx := context.Background()
	api := adminSDK(srv)
	pool, backend, web := srv.PoolID("app"), srv.AppClient("app", "backend").ID, srv.AppClient("app", "web").ID
	out, err := api.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{
		UserPoolId: aws.String(pool), ClientId: aws.String(backend), AuthFlow: types.AuthFlowTypeAdminUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": "alice", "PASSWORD": password},
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.AuthenticationResult == nil || out.AuthenticationResult.AccessToken == nil || out.AuthenticationResult.NewDeviceMetadata == nil {
		t.Fatalf("AdminInitiateAuth: %+v", out)
	}
	if _, err := sdk(srv).GetUser(ctx, &cip.GetUserInput{AccessToken: out.AuthenticationResult.AccessToken}); err != nil {
		t.Errorf("GetUser with the admin sign-in's token: %v", err)
	}
	_, err = api.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{
		UserPoolId: aws.String(pool), ClientId: aws.String(backend), AuthFlow: types.AuthFlowTypeAdminUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": "alice", "PASSWORD": "Wrong-Horse-1"},
	})
	var na *types.NotAuthorizedException
	if !errors.As(err, &na) {
		t.Errorf("wrong password: %v", err)
	}
	var ipe *types.InvalidParameterException
	for name, in := range map[string]*cip.AdminInitiateAuthInput{
		"client without the flow": {UserPoolId: aws.String(pool), ClientId: aws.String(web), AuthFlow: types.AuthFlowTypeAdminUserPasswordAuth,
			AuthParameters: map[string]string{"USERNAME": "alice", "PASSWORD": password}},
		"USER_PASSWORD_AUTH": {UserPoolId: aws.String(pool), ClientId: aws.String(web), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
			AuthParameters: map[string]string{"USERNAME": "alice", "PASSWORD": password}},
	} {
		if _, err := api.AdminInitiateAuth(ctx, in); !errors.As(err, &ipe) {
			t.Errorf("%s: %v, want InvalidParameterException", name, err)
		}
	}
	other, err := api.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("other")})
	if err != nil {
		t.Fatal(err)
	}
	var rnf *types.ResourceNotFoundException
	if _, err := api.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: other.UserPool.Id, ClientId: aws.String(backend),
		AuthFlow: types.AuthFlowTypeAdminUserPasswordAuth, AuthParameters: map[string]string{"USERNAME": "alice", "PASSWORD": password}}); !errors.As(err, &rnf) {
		t.Errorf("client of another pool: %v, want ResourceNotFoundException", err)
	}

	// REFRESH_TOKEN_AUTH, with the device the sign-in was given.
	ref, err := api.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: aws.String(pool), ClientId: aws.String(backend),
		AuthFlow: types.AuthFlowTypeRefreshTokenAuth, AuthParameters: map[string]string{
			"REFRESH_TOKEN": aws.ToString(out.AuthenticationResult.RefreshToken),
			"DEVICE_KEY":    aws.ToString(out.AuthenticationResult.NewDeviceMetadata.DeviceKey),
		}})
	if err != nil || ref.AuthenticationResult.AccessToken == nil {
		t.Fatalf("admin refresh: %v", err)
	}

	// USER_SRP_AUTH through AdminInitiateAuth / AdminRespondToAuthChallenge.
	s, srpCh := adminSRPStart(t, api, pool, backend)
	resp := srpAnswer(t, srv, s, srpCh, password, srv.Now())
	done, err := api.AdminRespondToAuthChallenge(ctx, &cip.AdminRespondToAuthChallengeInput{
		UserPoolId: aws.String(pool), ClientId: aws.String(backend), ChallengeName: types.ChallengeNameTypePasswordVerifier,
		ChallengeResponses: resp, Session: aws.String(srpCh["Session"].(string)),
	})
	if err != nil || done.AuthenticationResult == nil {
		t.Fatalf("AdminRespondToAuthChallenge: %v", err)
	}
}

// adminSRPStart sends USER_SRP_AUTH through AdminInitiateAuth and returns the SRP
// client and the challenge in the shape srpAnswer reads.
func adminSRPStart(t *testing.T, api *cip.Client, pool, client string) (*srp.Client, map[string]any) {
	t.Helper()
	s, err := srp.NewClient(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	out, err := api.AdminInitiateAuth(context.Background(), &cip.AdminInitiateAuthInput{
		UserPoolId: aws.String(pool), ClientId: aws.String(client), AuthFlow: types.AuthFlowTypeUserSrpAuth,
		AuthParameters: map[string]string{"USERNAME": "alice", "SRP_A": s.SRPA()},
	})
	if err != nil || out.ChallengeName != types.ChallengeNameTypePasswordVerifier {
		t.Fatalf("admin USER_SRP_AUTH: %v %v", out, err)
	}
	params := map[string]any{}
	for k, v := range out.ChallengeParameters {
		params[k] = v
	}
	return s, map[string]any{"ChallengeParameters": params, "Session": aws.ToString(out.Session)}
}

// TestAdminResetUserPassword: the user must reset (PasswordResetRequiredException)
// and can, with the code sent to the verified address.
func TestAdminResetUserPassword(t *testing.T) {
	srv := emulator.NewServer(emulator.Options{Seed: adminSeed()})
	t.Cleanup(srv.Close)
	ctx := context.Background()
	pool, web := srv.PoolID("app"), srv.AppClient("app", "web").ID
	if _, err := adminSDK(srv).AdminResetUserPassword(ctx, &cip.AdminResetUserPasswordInput{UserPoolId: aws.String(pool), Username: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	_, err := sdk(srv).InitiateAuth(ctx, &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeUserPasswordAuth, ClientId: aws.String(web),
		AuthParameters: map[string]string{"USERNAME": "alice", "PASSWORD": password}})
	var prr *types.PasswordResetRequiredException
	if !errors.As(err, &prr) {
		t.Fatalf("sign-in after AdminResetUserPassword: %v", err)
	}
	// Whatever the password, as Cognito answers (the import guide relies on it).
	_, err = sdk(srv).InitiateAuth(ctx, &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeUserPasswordAuth, ClientId: aws.String(web),
		AuthParameters: map[string]string{"USERNAME": "alice", "PASSWORD": "not-the-password"}})
	if !errors.As(err, &prr) {
		t.Fatalf("sign-in with a wrong password after AdminResetUserPassword: %v", err)
	}
	code, ok := srv.LastCode(pool, "alice")
	if !ok {
		t.Fatal("no code sent")
	}
	if _, err := sdk(srv).ConfirmForgotPassword(ctx, &cip.ConfirmForgotPasswordInput{ClientId: aws.String(web), Username: aws.String("alice"),
		ConfirmationCode: aws.String(code), Password: aws.String("Brand-New-Horse-2")}); err != nil {
		t.Fatal(err)
	}
	signIn(t, sdk(srv), web, "alice", "Brand-New-Horse-2")
}

// TestAdminDevices: the admin device calls see, update and forget the devices a
// user's sign-ins made.
func TestAdminDevices(t *testing.T) {
	srv := emulator.NewServer(emulator.Options{Seed: adminSeed()})
	t.Cleanup(srv.Close)
	ctx := context.Background()
	api := adminSDK(srv)
	pool, backend := srv.PoolID("app"), srv.AppClient("app", "backend").ID
	out, err := api.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{
		UserPoolId: aws.String(pool), ClientId: aws.String(backend), AuthFlow: types.AuthFlowTypeAdminUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": "alice", "PASSWORD": password},
	})
	if err != nil {
		t.Fatal(err)
	}
	key := out.AuthenticationResult.NewDeviceMetadata.DeviceKey
	ds, err := srp.NewDeviceSecret(rand.Reader, aws.ToString(out.AuthenticationResult.NewDeviceMetadata.DeviceGroupKey), aws.ToString(key))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sdk(srv).ConfirmDevice(ctx, &cip.ConfirmDeviceInput{AccessToken: out.AuthenticationResult.AccessToken, DeviceKey: key,
		DeviceName: aws.String("laptop"), DeviceSecretVerifierConfig: &types.DeviceSecretVerifierConfigType{
			PasswordVerifier: aws.String(ds.PasswordVerifier.Reveal()), Salt: aws.String(ds.Salt)}}); err != nil {
		t.Fatal(err)
	}
	user := aws.String("alice")
	list, err := api.AdminListDevices(ctx, &cip.AdminListDevicesInput{UserPoolId: aws.String(pool), Username: user})
	if err != nil || len(list.Devices) != 1 || aws.ToString(list.Devices[0].DeviceKey) != aws.ToString(key) {
		t.Fatalf("AdminListDevices: %v %v", list, err)
	}
	if _, err := api.AdminUpdateDeviceStatus(ctx, &cip.AdminUpdateDeviceStatusInput{UserPoolId: aws.String(pool), Username: user, DeviceKey: key,
		DeviceRememberedStatus: types.DeviceRememberedStatusTypeNotRemembered}); err != nil {
		t.Fatal(err)
	}
	got, err := api.AdminGetDevice(ctx, &cip.AdminGetDeviceInput{UserPoolId: aws.String(pool), Username: user, DeviceKey: key})
	if err != nil {
		t.Fatal(err)
	}
	status := ""
	for _, a := range got.Device.DeviceAttributes {
		if aws.ToString(a.Name) == "dev:device_remembered_status" {
			status = aws.ToString(a.Value)
		}
	}
	if status != "not_remembered" {
		t.Errorf("remembered status %q after AdminUpdateDeviceStatus", status)
	}
	if _, err := api.AdminForgetDevice(ctx, &cip.AdminForgetDeviceInput{UserPoolId: aws.String(pool), Username: user, DeviceKey: key}); err != nil {
		t.Fatal(err)
	}
	var rnf *types.ResourceNotFoundException
	if _, err := api.AdminGetDevice(ctx, &cip.AdminGetDeviceInput{UserPoolId: aws.String(pool), Username: user, DeviceKey: key}); !errors.As(err, &rnf) {
		t.Errorf("AdminGetDevice of a forgotten device: %v", err)
	}
}
