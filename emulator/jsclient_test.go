package emulator_test

import (
	"encoding/json"
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
	clientID := srv.Client("web", "spa").ID
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
