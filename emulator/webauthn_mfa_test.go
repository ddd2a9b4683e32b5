package emulator_test

import (
	"context"
	"encoding/json"
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

// In a pool whose MFA is required (ON), passkey sign-in is not offered: Cognito
// makes it available then only to users with passkey MFA, which the emulator
// does not model. OPTIONAL offers it again.
func TestWebAuthnWithheldWhenMFARequired(t *testing.T) {
	seed := passkeySeed()
	seed.UserPools[0].WebAuthn = &emulator.SeedWebAuthn{RelyingPartyID: "localhost"}
	srv := emulator.NewServer(emulator.Options{Seed: seed, Clock: clock.NewFake(t0)})
	t.Cleanup(srv.Close)
	ctx := context.Background()
	admin, api := adminSDK(srv), sdk(srv)
	pool, client := srv.PoolID("app"), srv.AppClient("app", "web").ID

	tok := signIn(t, api, client, "alice", password).AccessToken
	start, err := api.StartWebAuthnRegistration(ctx, &cip.StartWebAuthnRegistrationInput{AccessToken: tok})
	if err != nil {
		t.Fatal(err)
	}
	cred, err := webauthntest.New("http://localhost:8080").Register(docJSON(t, start.CredentialCreationOptions))
	if err != nil {
		t.Fatal(err)
	}
	var credDoc map[string]any
	if err := json.Unmarshal(cred, &credDoc); err != nil {
		t.Fatal(err)
	}
	if _, err := api.CompleteWebAuthnRegistration(ctx, &cip.CompleteWebAuthnRegistrationInput{AccessToken: tok, Credential: document.NewLazyDocument(credDoc)}); err != nil {
		t.Fatal(err)
	}

	offered := func() (factors, challenges []string, preferred types.ChallengeNameType) {
		t.Helper()
		f, err := api.GetUserAuthFactors(ctx, &cip.GetUserAuthFactorsInput{AccessToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range f.ConfiguredUserAuthFactors {
			factors = append(factors, string(x))
		}
		sel, err := api.InitiateAuth(ctx, &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeUserAuth, ClientId: aws.String(client),
			AuthParameters: map[string]string{"USERNAME": "alice"}})
		if err != nil {
			t.Fatal(err)
		}
		if sel.ChallengeName != types.ChallengeNameTypeSelectChallenge {
			t.Fatalf("USER_AUTH without a preference: %s", sel.ChallengeName)
		}
		for _, c := range sel.AvailableChallenges {
			challenges = append(challenges, string(c))
		}
		pref, err := api.InitiateAuth(ctx, &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeUserAuth, ClientId: aws.String(client),
			AuthParameters: map[string]string{"USERNAME": "alice", "PREFERRED_CHALLENGE": "WEB_AUTHN"}})
		if err != nil {
			t.Fatal(err)
		}
		return factors, challenges, pref.ChallengeName
	}
	setMFA := func(mode types.UserPoolMfaType) {
		t.Helper()
		if _, err := admin.SetUserPoolMfaConfig(ctx, &cip.SetUserPoolMfaConfigInput{UserPoolId: aws.String(pool), MfaConfiguration: mode,
			SoftwareTokenMfaConfiguration: &types.SoftwareTokenMfaConfigType{Enabled: true}}); err != nil {
			t.Fatal(err)
		}
	}

	if f, c, p := offered(); !slices.Contains(f, "WEB_AUTHN") || !slices.Contains(c, "WEB_AUTHN") || p != types.ChallengeNameTypeWebAuthn {
		t.Fatalf("MFA off: factors %v, challenges %v, preferred → %s; want WEB_AUTHN offered", f, c, p)
	}
	setMFA(types.UserPoolMfaTypeOn)
	if f, c, p := offered(); slices.Contains(f, "WEB_AUTHN") || slices.Contains(c, "WEB_AUTHN") || p == types.ChallengeNameTypeWebAuthn {
		t.Fatalf("MFA required: factors %v, challenges %v, preferred → %s; want no WEB_AUTHN", f, c, p)
	}
	setMFA(types.UserPoolMfaTypeOptional)
	if f, c, p := offered(); !slices.Contains(f, "WEB_AUTHN") || !slices.Contains(c, "WEB_AUTHN") || p != types.ChallengeNameTypeWebAuthn {
		t.Fatalf("MFA optional: factors %v, challenges %v, preferred → %s; want WEB_AUTHN offered", f, c, p)
	}
}
