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

// TestPasskeyAsMFA: with MFA required, passkey sign-in is offered once a passkey
// counts as MFA — the pool's FactorConfiguration MULTI_FACTOR_WITH_USER_VERIFICATION
// or the user's WebAuthnMfaSettings — and then only an assertion with user
// verification signs in; WebAuthnMfaSettings needs another MFA method first
// (aws-sdk-go-v2 and a software authenticator making real signatures).
func TestPasskeyAsMFA(t *testing.T) {
	seed := passkeySeed()
	seed.UserPools[0].WebAuthn = &emulator.SeedWebAuthn{RelyingPartyID: "localhost"}
	clk := clock.NewFake(t0)
	srv := emulator.NewServer(emulator.Options{Seed: seed, Clock: clk})
	t.Cleanup(srv.Close)
	ctx := context.Background()
	admin, api := adminSDK(srv), sdk(srv)
	pool, client := srv.PoolID("app"), srv.AppClient("app", "web").ID

	tok := signIn(t, api, client, "alice", password).AccessToken
	start, err := api.StartWebAuthnRegistration(ctx, &cip.StartWebAuthnRegistrationInput{AccessToken: tok})
	if err != nil {
		t.Fatal(err)
	}
	authn := webauthntest.New("http://localhost:8080")
	cred, err := authn.Register(docJSON(t, start.CredentialCreationOptions))
	if err != nil {
		t.Fatal(err)
	}
	var credDoc map[string]any
	_ = json.Unmarshal(cred, &credDoc)
	if _, err := api.CompleteWebAuthnRegistration(ctx, &cip.CompleteWebAuthnRegistrationInput{AccessToken: tok, Credential: document.NewLazyDocument(credDoc)}); err != nil {
		t.Fatal(err)
	}

	setPool := func(mode types.UserPoolMfaType, factor types.WebAuthnFactorConfigurationType) {
		t.Helper()
		in := &cip.SetUserPoolMfaConfigInput{UserPoolId: aws.String(pool), MfaConfiguration: mode,
			SoftwareTokenMfaConfiguration: &types.SoftwareTokenMfaConfigType{Enabled: true},
			WebAuthnConfiguration:         &types.WebAuthnConfigurationType{RelyingPartyId: aws.String("localhost")}}
		if factor != "" {
			in.WebAuthnConfiguration.FactorConfiguration = factor
		}
		if _, err := admin.SetUserPoolMfaConfig(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	// passkey starts a USER_AUTH sign-in with WEB_AUTHN and answers it; it
	// returns the options' userVerification and the answer's error.
	passkey := func(verified bool) (string, error) {
		t.Helper()
		init, err := api.InitiateAuth(ctx, &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeUserAuth, ClientId: aws.String(client),
			AuthParameters: map[string]string{"USERNAME": "alice", "PREFERRED_CHALLENGE": "WEB_AUTHN"}})
		if err != nil {
			t.Fatal(err)
		}
		if init.ChallengeName != types.ChallengeNameTypeWebAuthn {
			return "", errors.New("WEB_AUTHN not offered: " + string(init.ChallengeName))
		}
		var opts struct{ UserVerification string }
		_ = json.Unmarshal([]byte(init.ChallengeParameters["CREDENTIAL_REQUEST_OPTIONS"]), &opts)
		authn.NoUserVerification = !verified
		assertion, err := authn.Assert([]byte(init.ChallengeParameters["CREDENTIAL_REQUEST_OPTIONS"]))
		if err != nil {
			t.Fatal(err)
		}
		done, err := api.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{ChallengeName: types.ChallengeNameTypeWebAuthn,
			ClientId: aws.String(client), Session: init.Session, ChallengeResponses: map[string]string{"USERNAME": "alice", "CREDENTIAL": string(assertion)}})
		if err == nil && done.AuthenticationResult == nil {
			err = errors.New("no tokens")
		}
		return opts.UserVerification, err
	}
	var nae *types.NotAuthorizedException
	var ipe *types.InvalidParameterException

	// MFA off: a passkey without user verification is a single factor.
	if uv, err := passkey(false); err != nil || uv != "preferred" {
		t.Fatalf("MFA off, no user verification: %q %v", uv, err)
	}
	// MFA required and a single-factor passkey: not offered.
	setPool(types.UserPoolMfaTypeOn, "SINGLE_FACTOR")
	if _, err := passkey(true); err == nil {
		t.Fatal("MFA required, SINGLE_FACTOR: passkey sign-in offered")
	}
	// MULTI_FACTOR_WITH_USER_VERIFICATION: offered, user verification required.
	setPool(types.UserPoolMfaTypeOn, "MULTI_FACTOR_WITH_USER_VERIFICATION")
	if uv, err := passkey(false); !errors.As(err, &nae) || uv != "required" {
		t.Fatalf("MULTI_FACTOR, no user verification: %q %v", uv, err)
	}
	if _, err := passkey(true); err != nil {
		t.Fatalf("MULTI_FACTOR, user verified: %v", err)
	}
	cfg, err := admin.GetUserPoolMfaConfig(ctx, &cip.GetUserPoolMfaConfigInput{UserPoolId: aws.String(pool)})
	if err != nil || cfg.WebAuthnConfiguration.FactorConfiguration != "MULTI_FACTOR_WITH_USER_VERIFICATION" {
		t.Fatalf("GetUserPoolMfaConfig: %v %+v", err, cfg)
	}

	// The user's WebAuthnMfaSettings, in a SINGLE_FACTOR pool.
	setPool(types.UserPoolMfaTypeOptional, "SINGLE_FACTOR")
	webauthnMFA := &types.WebAuthnMfaSettingsType{Enabled: true}
	if _, err := admin.AdminSetUserMFAPreference(ctx, &cip.AdminSetUserMFAPreferenceInput{UserPoolId: aws.String(pool), Username: aws.String("alice"),
		WebAuthnMfaSettings: webauthnMFA}); !errors.As(err, &ipe) {
		t.Fatalf("passkey MFA as the only method: %v", err)
	}
	assoc, err := api.AssociateSoftwareToken(ctx, &cip.AssociateSoftwareTokenInput{AccessToken: tok})
	if err != nil {
		t.Fatal(err)
	}
	code, _ := emulator.TOTP(aws.ToString(assoc.SecretCode), clk.Now())
	if _, err := api.VerifySoftwareToken(ctx, &cip.VerifySoftwareTokenInput{AccessToken: tok, UserCode: aws.String(code)}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.SetUserMFAPreference(ctx, &cip.SetUserMFAPreferenceInput{AccessToken: tok,
		SoftwareTokenMfaSettings: &types.SoftwareTokenMfaSettingsType{Enabled: true, PreferredMfa: true},
		WebAuthnMfaSettings:      webauthnMFA}); err != nil {
		t.Fatalf("passkey MFA beside TOTP: %v", err)
	}
	// Passkey MFA on: user verification is required even with MFA optional.
	if uv, err := passkey(false); !errors.As(err, &nae) || uv != "required" {
		t.Fatalf("passkey MFA, no user verification: %q %v", uv, err)
	}
	setPool(types.UserPoolMfaTypeOn, "SINGLE_FACTOR")
	f, err := api.GetUserAuthFactors(ctx, &cip.GetUserAuthFactorsInput{AccessToken: tok})
	if err != nil || !slices.Contains(f.ConfiguredUserAuthFactors, types.AuthFactorTypeWebAuthn) {
		t.Fatalf("MFA required, passkey MFA on: factors %v, %v", f, err)
	}
	if _, err := passkey(true); err != nil {
		t.Fatalf("MFA required, passkey MFA, user verified: %v", err)
	}
	// Turning TOTP off leaves no other method: passkey MFA goes too.
	if _, err := api.SetUserMFAPreference(ctx, &cip.SetUserMFAPreferenceInput{AccessToken: tok,
		SoftwareTokenMfaSettings: &types.SoftwareTokenMfaSettingsType{Enabled: false}}); err != nil {
		t.Fatal(err)
	}
	if _, err := passkey(true); err == nil {
		t.Fatal("MFA required, no passkey MFA left: passkey sign-in offered")
	}
}
