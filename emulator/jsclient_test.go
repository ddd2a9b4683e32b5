package emulator_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/internal/peers"
	"github.com/cogauth/cogauth/jwt"
)

// TestAmazonCognitoIdentityJS runs the JavaScript client most Cognito web apps
// were built on (npm amazon-cognito-identity-js, real SRP) against the emulator:
// sign-in, refresh, and a wrong password refused.
func TestAmazonCognitoIdentityJS(t *testing.T) {
	peers.Node(t, "amazon-cognito-identity-js")
	srv := emulator.NewServer(emulator.Options{Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
		Name:    "web",
		Clients: []emulator.SeedClient{{Name: "spa"}},
		Users: []emulator.SeedUser{{
			Username: "carol", Password: "Correct-Horse-9",
			Attributes: map[string]string{"email": "carol@example.com"},
		}},
	}}}})
	defer srv.Close()
	poolID := srv.PoolID("web")
	clientID := srv.AppClient("web", "spa").ID
	in, _ := json.Marshal(map[string]string{
		"endpoint": srv.URL + "/", "userPoolId": poolID, "clientId": clientID,
		"username": "carol", "password": "Correct-Horse-9",
	})
	var out struct {
		SignInError          map[string]string `json:"signInError"`
		RefreshError         map[string]string `json:"refreshError"`
		WrongPasswordError   map[string]string `json:"wrongPasswordError"`
		AccessToken          string            `json:"accessToken"`
		IDToken              string            `json:"idToken"`
		RefreshedAccessToken string            `json:"refreshedAccessToken"`
		AuthTime             int64             `json:"authTime"`
		RefreshedAuthTime    int64             `json:"refreshedAuthTime"`
		Sub                  string            `json:"sub"`
	}
	if err := json.Unmarshal(peers.RunNode(t, "emulator-client.js", in), &out); err != nil {
		t.Fatal(err)
	}
	if out.SignInError != nil {
		t.Fatalf("SRP sign-in refused: %v", out.SignInError)
	}
	if out.RefreshError != nil {
		t.Fatalf("refresh refused: %v", out.RefreshError)
	}
	if out.WrongPasswordError["code"] != "NotAuthorizedException" {
		t.Errorf("wrong password: got %v, want NotAuthorizedException", out.WrongPasswordError)
	}
	if out.RefreshedAccessToken == out.AccessToken || out.RefreshedAccessToken == "" {
		t.Error("refresh returned no new access token")
	}
	if out.AuthTime == 0 || out.RefreshedAuthTime != out.AuthTime {
		t.Errorf("auth_time %d after refresh, want %d", out.RefreshedAuthTime, out.AuthTime)
	}
	if want := srv.UserSub(poolID, "carol"); out.Sub != want {
		t.Errorf("sub %q, want %q", out.Sub, want)
	}
	for _, raw := range []string{out.AccessToken, out.IDToken, out.RefreshedAccessToken} {
		tok, err := jwt.Decode(raw)
		if err != nil {
			t.Fatalf("token from the JS client does not decode: %v", err)
		}
		if got := tok.Claims().Iss; got != "https://cognito-idp.us-east-1.amazonaws.com/"+poolID {
			t.Errorf("iss %q", got)
		}
	}
}

// TestAmplifyRememberedDevice drives Amplify JS v6, which sends DEVICE_KEY only in
// its RespondToAuthChallenge answers: a remembered device skips MFA through
// DEVICE_SRP_AUTH and gets no new device metadata; a forgotten one asks for MFA
// again.
func TestAmplifyRememberedDevice(t *testing.T) {
	peers.Node(t, "aws-amplify")
	srv := emulator.NewServer(emulator.Options{Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
		Name: "web", ID: "eu-west-1_Amplify1", MFA: "ON", SMSMFA: true,
		DeviceTracking: &emulator.DeviceConfig{ChallengeRequiredOnNewDevice: true, DeviceOnlyRememberedOnUserPrompt: true},
		Clients:        []emulator.SeedClient{{Name: "spa"}},
		Users: []emulator.SeedUser{{
			Username: "dana", Password: "Correct-Horse-9",
			Attributes: map[string]string{"email": "dana@example.com", "phone_number": "+15555550100"},
		}},
	}}}})
	defer srv.Close()
	in, _ := json.Marshal(map[string]string{
		"endpoint": srv.URL, "userPoolId": srv.PoolID("web"), "clientId": srv.AppClient("web", "spa").ID,
		"username": "dana", "password": "Correct-Horse-9",
	})
	var out struct {
		Error                map[string]string `json:"error"`
		First, Second, Third []string
		DevicesAfterRemember int            `json:"devicesAfterRemember"`
		DevicesAfterSecond   int            `json:"devicesAfterSecond"`
		CountsAfterFirst     map[string]int `json:"countsAfterFirst"`
		CountsAfterSecond    map[string]int `json:"countsAfterSecond"`
		CountsAfterThird     map[string]int `json:"countsAfterThird"`
	}
	raw := peers.RunNode(t, "amplify-devices.js", in)
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	if out.Error != nil {
		t.Fatalf("Amplify failed: %v", out.Error)
	}
	mfa := []string{"CONFIRM_SIGN_IN_WITH_SMS_CODE", "DONE"}
	if !slices.Equal(out.First, mfa) {
		t.Errorf("first sign-in steps %v, want %v", out.First, mfa)
	}
	if out.CountsAfterFirst["ConfirmDevice"] != 1 || out.CountsAfterFirst["UpdateDeviceStatus"] != 1 || out.DevicesAfterRemember != 1 {
		t.Errorf("after the first sign-in and rememberDevice: %v, %d devices", out.CountsAfterFirst, out.DevicesAfterRemember)
	}
	if !slices.Equal(out.Second, []string{"DONE"}) {
		t.Errorf("sign-in on the remembered device: steps %v, want MFA skipped", out.Second)
	}
	if got := out.CountsAfterSecond["ConfirmDevice"]; got != 1 {
		t.Errorf("sign-in on the remembered device confirmed a new device (ConfirmDevice %d times)", got)
	}
	// InitiateAuth, PASSWORD_VERIFIER, DEVICE_SRP_AUTH, DEVICE_PASSWORD_VERIFIER.
	if got := out.CountsAfterSecond["RespondToAuthChallenge"] - out.CountsAfterFirst["RespondToAuthChallenge"]; got != 3 {
		t.Errorf("second sign-in answered %d challenges, want 3 (password and device SRP)", got)
	}
	if out.DevicesAfterSecond != 1 {
		t.Errorf("%d devices after the second sign-in, want 1", out.DevicesAfterSecond)
	}
	if !slices.Equal(out.Third, mfa) {
		t.Errorf("sign-in after forgetDevice: steps %v, want %v", out.Third, mfa)
	}
	if got := out.CountsAfterThird["ConfirmDevice"]; got != 2 {
		t.Errorf("sign-in after forgetDevice: ConfirmDevice %d times in all, want 2 (a new device)", got)
	}
}
