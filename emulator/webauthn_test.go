package emulator_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/document"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/internal/webauthntest"
)

func passkeySeed() *emulator.Seed {
	return &emulator.Seed{UserPools: []emulator.SeedUserPool{{
		Name:                    "app",
		AllowedFirstAuthFactors: []string{"PASSWORD", "WEB_AUTHN"},
		Clients:                 []emulator.SeedClient{{Name: "web", ExplicitAuthFlows: []string{"ALLOW_USER_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}}},
		Users:                   []emulator.SeedUser{{Username: "alice", Password: password, Attributes: map[string]string{"email": "alice@example.com"}}},
	}}}
}

// docJSON is a document of an aws-sdk-go-v2 answer as JSON.
func docJSON(t *testing.T, d document.Interface) []byte {
	t.Helper()
	if d == nil {
		t.Fatal("no document in the answer")
	}
	b, err := d.MarshalSmithyDocument()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestWebAuthnWithAWSSDK drives the passkey operations with aws-sdk-go-v2's own
// client: the pool's WebAuthnConfiguration (set, read back; the domain as the
// default RP ID), registration, listing, a USER_AUTH sign-in with WEB_AUTHN,
// deletion.
func TestWebAuthnWithAWSSDK(t *testing.T) {
	srv := emulator.NewServer(emulator.Options{Seed: passkeySeed(), Clock: clock.NewFake(t0)})
	t.Cleanup(srv.Close)
	ctx := context.Background()
	admin, api := adminSDK(srv), sdk(srv)
	pool, client := srv.PoolID("app"), srv.AppClient("app", "web").ID

	tok := signIn(t, api, client, "alice", password).AccessToken
	// Neither a relying party ID nor a domain yet.
	var missing *types.WebAuthnConfigurationMissingException
	if _, err := api.StartWebAuthnRegistration(ctx, &cip.StartWebAuthnRegistrationInput{AccessToken: tok}); !errors.As(err, &missing) {
		t.Fatalf("no RP ID: %v", err)
	}
	// The domain is the relying party until one is configured.
	if _, err := admin.CreateUserPoolDomain(ctx, &cip.CreateUserPoolDomainInput{UserPoolId: aws.String(pool), Domain: aws.String("passkeys-app")}); err != nil {
		t.Fatal(err)
	}
	start, err := api.StartWebAuthnRegistration(ctx, &cip.StartWebAuthnRegistrationInput{AccessToken: tok})
	if err != nil {
		t.Fatal(err)
	}
	var o struct{ RP struct{ ID string } }
	if err := json.Unmarshal(docJSON(t, start.CredentialCreationOptions), &o); err != nil || o.RP.ID != "passkeys-app.auth.us-east-1.amazoncognito.com" {
		t.Fatalf("rp from the domain: %+v, %v", o, err)
	}

	if _, err := admin.SetUserPoolMfaConfig(ctx, &cip.SetUserPoolMfaConfigInput{
		UserPoolId:            aws.String(pool),
		WebAuthnConfiguration: &types.WebAuthnConfigurationType{RelyingPartyId: aws.String("localhost"), UserVerification: types.UserVerificationTypeRequired},
	}); err != nil {
		t.Fatal(err)
	}
	cfg, err := admin.GetUserPoolMfaConfig(ctx, &cip.GetUserPoolMfaConfigInput{UserPoolId: aws.String(pool)})
	if err != nil || cfg.WebAuthnConfiguration == nil || aws.ToString(cfg.WebAuthnConfiguration.RelyingPartyId) != "localhost" ||
		cfg.WebAuthnConfiguration.UserVerification != types.UserVerificationTypeRequired {
		t.Fatalf("GetUserPoolMfaConfig: %+v, %v", cfg, err)
	}
	var bad *types.InvalidParameterException
	if _, err := admin.SetUserPoolMfaConfig(ctx, &cip.SetUserPoolMfaConfigInput{
		UserPoolId: aws.String(pool), WebAuthnConfiguration: &types.WebAuthnConfigurationType{UserVerification: "sometimes"},
	}); !errors.As(err, &bad) {
		t.Fatalf("bad UserVerification: %v", err)
	}

	list, err := api.ListWebAuthnCredentials(ctx, &cip.ListWebAuthnCredentialsInput{AccessToken: tok})
	if err != nil || list.Credentials == nil || len(list.Credentials) != 0 {
		t.Fatalf("empty list: %+v, %v", list, err)
	}

	a := webauthntest.New("http://localhost:8080")
	a.Attestation = "packed"
	start, err = api.StartWebAuthnRegistration(ctx, &cip.StartWebAuthnRegistrationInput{AccessToken: tok})
	if err != nil {
		t.Fatal(err)
	}
	opts := docJSON(t, start.CredentialCreationOptions)
	var sel struct {
		AuthenticatorSelection struct{ UserVerification string }
	}
	if err := json.Unmarshal(opts, &sel); err != nil || sel.AuthenticatorSelection.UserVerification != "required" {
		t.Fatalf("userVerification: %s", opts)
	}
	cred, err := a.Register(opts)
	if err != nil {
		t.Fatal(err)
	}
	var credDoc map[string]any
	if err := json.Unmarshal(cred, &credDoc); err != nil {
		t.Fatal(err)
	}
	if _, err := api.CompleteWebAuthnRegistration(ctx, &cip.CompleteWebAuthnRegistrationInput{AccessToken: tok, Credential: document.NewLazyDocument(credDoc)}); err != nil {
		t.Fatalf("CompleteWebAuthnRegistration: %v", err)
	}
	var gone *types.WebAuthnChallengeNotFoundException
	if _, err := api.CompleteWebAuthnRegistration(ctx, &cip.CompleteWebAuthnRegistrationInput{AccessToken: tok, Credential: document.NewLazyDocument(credDoc)}); !errors.As(err, &gone) {
		t.Fatalf("the same registration twice: %v", err)
	}
	list, err = api.ListWebAuthnCredentials(ctx, &cip.ListWebAuthnCredentialsInput{AccessToken: tok, MaxResults: aws.Int32(5)})
	if err != nil || len(list.Credentials) != 1 {
		t.Fatalf("list: %+v, %v", list, err)
	}
	k := list.Credentials[0]
	if aws.ToString(k.RelyingPartyId) != "localhost" || aws.ToString(k.CredentialId) != credDoc["id"] || k.CreatedAt == nil || !k.CreatedAt.Equal(t0) ||
		!slices.Equal(k.AuthenticatorTransports, []string{"internal"}) || aws.ToString(k.AuthenticatorAttachment) != "platform" {
		t.Fatalf("listed %+v", k)
	}

	init, err := api.InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow: types.AuthFlowTypeUserAuth, ClientId: aws.String(client),
		AuthParameters: map[string]string{"USERNAME": "alice", "PREFERRED_CHALLENGE": "WEB_AUTHN"},
	})
	if err != nil || init.ChallengeName != types.ChallengeNameTypeWebAuthn {
		t.Fatalf("InitiateAuth WEB_AUTHN: %+v, %v", init, err)
	}
	assertion, err := a.Assert([]byte(init.ChallengeParameters["CREDENTIAL_REQUEST_OPTIONS"]))
	if err != nil {
		t.Fatal(err)
	}
	done, err := api.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{
		ChallengeName: types.ChallengeNameTypeWebAuthn, ClientId: aws.String(client), Session: init.Session,
		ChallengeResponses: map[string]string{"USERNAME": "alice", "CREDENTIAL": string(assertion)},
	})
	if err != nil || done.AuthenticationResult == nil {
		t.Fatalf("RespondToAuthChallenge: %+v, %v", done, err)
	}

	var notFound *types.ResourceNotFoundException
	if _, err := api.DeleteWebAuthnCredential(ctx, &cip.DeleteWebAuthnCredentialInput{AccessToken: tok, CredentialId: aws.String("nope")}); !errors.As(err, &notFound) {
		t.Fatalf("delete unknown: %v", err)
	}
	if _, err := api.DeleteWebAuthnCredential(ctx, &cip.DeleteWebAuthnCredentialInput{AccessToken: tok, CredentialId: k.CredentialId}); err != nil {
		t.Fatal(err)
	}
	list, err = api.ListWebAuthnCredentials(ctx, &cip.ListWebAuthnCredentialsInput{AccessToken: tok})
	if err != nil || len(list.Credentials) != 0 {
		t.Fatalf("after delete: %+v, %v", list, err)
	}
}
