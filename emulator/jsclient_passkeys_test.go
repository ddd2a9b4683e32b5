package emulator_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/internal/peers"
	"github.com/cogauth/cogauth/internal/webauthntest"
)

// TestAmplifyPasskeys runs Amplify JS v6's listWebAuthnCredentials and
// deleteWebAuthnCredential against the emulator (test/js/amplify-passkeys.js),
// for passkeys registered here by software authenticators over the emulator's
// API (StartWebAuthnRegistration, CompleteWebAuthnRegistration).
func TestAmplifyPasskeys(t *testing.T) {
	peers.Node(t, "aws-amplify")
	const user, pw = "pia", "Pia-Passw0rd!1"
	srv := emulator.NewServer(emulator.Options{Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
		Name: "web", ID: "eu-west-1_Passkey1",
		AllowedFirstAuthFactors: []string{"PASSWORD", "WEB_AUTHN"},
		WebAuthn:                &emulator.SeedWebAuthn{RelyingPartyID: "localhost"},
		Clients: []emulator.SeedClient{{Name: "spa", ExplicitAuthFlows: []string{
			"ALLOW_USER_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH",
		}}},
		Users: []emulator.SeedUser{{Username: user, Password: pw, Attributes: map[string]string{"email": "pia@example.com", "email_verified": "true"}}},
	}}}})
	defer srv.Close()
	client := srv.AppClient("web", "spa").ID

	// Three passkeys, each from an authenticator of its own.
	auth := mustCall(t, srv, "InitiateAuth", map[string]any{"ClientId": client, "AuthFlow": "USER_PASSWORD_AUTH",
		"AuthParameters": map[string]string{"USERNAME": user, "PASSWORD": pw}})
	at := auth["AuthenticationResult"].(map[string]any)["AccessToken"].(string)
	var ids []string
	for range 3 {
		opts := mustCall(t, srv, "StartWebAuthnRegistration", map[string]any{"AccessToken": at})["CredentialCreationOptions"]
		raw, _ := json.Marshal(opts)
		cred, err := webauthntest.New("http://localhost:3000").Register(raw)
		if err != nil {
			t.Fatal(err)
		}
		mustCall(t, srv, "CompleteWebAuthnRegistration", map[string]any{"AccessToken": at, "Credential": cred})
		var c struct{ ID string }
		if err := json.Unmarshal(cred, &c); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}

	// The authenticator navigator.credentials reaches in Node.
	bridged := webauthntest.New("http://localhost:3000")
	mux := http.NewServeMux()
	for path, ceremony := range map[string]func([]byte) (json.RawMessage, error){"/create": bridged.Register, "/get": bridged.Assert} {
		mux.HandleFunc("POST "+path, func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
			var out json.RawMessage
			if err == nil {
				out, err = ceremony(body)
			}
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			w.Write(out)
		})
	}
	bridge := httptest.NewServer(mux)
	defer bridge.Close()

	in, _ := json.Marshal(map[string]string{"endpoint": srv.URL, "userPoolId": srv.PoolID("web"), "clientId": client, "username": user, "password": pw, "authenticator": bridge.URL})
	raw := peers.RunNode(t, "amplify-passkeys.js", in)
	var out struct {
		Error         map[string]string `json:"error"`
		ListSignedOut string
		SignIn        string
		All           []struct {
			ID         string   `json:"id"`
			Name       string   `json:"name"`
			RPID       string   `json:"rpId"`
			Attachment string   `json:"attachment"`
			Transports []string `json:"transports"`
			CreatedAt  string   `json:"createdAt"`
		}
		AllNextToken                       string
		Pages                              [][]string
		Deleted                            string
		AfterDelete                        []string
		DeleteAgain                        string
		Associated                         []string
		Preferred, PreferredUser           string
		SelectStep, Selected, SelectedUser string
		Available                          []string
		Ceremonies                         struct{ Create, Get int }
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	if out.Error != nil {
		t.Fatalf("Amplify failed: %v (so far: %s)", out.Error, raw)
	}
	if out.ListSignedOut != "UserUnAuthenticatedException" {
		t.Errorf("listWebAuthnCredentials signed out: %q", out.ListSignedOut)
	}
	if out.SignIn != "DONE" {
		t.Fatalf("signIn: %q", out.SignIn)
	}
	var listed []string
	for _, c := range out.All {
		listed = append(listed, c.ID)
		created, err := time.Parse(time.RFC3339, c.CreatedAt)
		if c.RPID != "localhost" || c.Attachment != "platform" || !slices.Equal(c.Transports, []string{"internal"}) || c.Name == "" ||
			err != nil || time.Since(created) > time.Minute || time.Since(created) < -time.Minute {
			t.Errorf("listed %+v", c)
		}
	}
	if !sameSet(listed, ids) || out.AllNextToken != "" {
		t.Errorf("listWebAuthnCredentials: %v (next %q), want %v", listed, out.AllNextToken, ids)
	}
	var paged []string
	for _, p := range out.Pages {
		if len(p) > 2 {
			t.Errorf("a page of %d with pageSize 2", len(p))
		}
		paged = append(paged, p...)
	}
	if len(out.Pages) != 2 || !sameSet(paged, ids) {
		t.Errorf("pages %v, want two pages of %v", out.Pages, ids)
	}
	left := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id == out.Deleted })
	if len(left) != 2 || !sameSet(out.AfterDelete, left) {
		t.Errorf("after deleting %s: %v, want %v", out.Deleted, out.AfterDelete, left)
	}
	if out.DeleteAgain != "ResourceNotFoundException" {
		t.Errorf("deleting it again: %q", out.DeleteAgain)
	}

	// Amplify's own passkey: registered, then signed in with twice.
	made := bridged.Credentials()
	if len(made) != 1 || len(out.Associated) != 1 || out.Associated[0] != base64.RawURLEncoding.EncodeToString(made[0].ID) {
		t.Errorf("associateWebAuthnCredential: %v listed, the authenticator made %d", out.Associated, len(made))
	}
	if out.Preferred != "DONE" || out.PreferredUser != user {
		t.Errorf("signIn USER_AUTH preferredChallenge WEB_AUTHN: %q as %q", out.Preferred, out.PreferredUser)
	}
	if out.SelectStep != "CONTINUE_SIGN_IN_WITH_FIRST_FACTOR_SELECTION" || !slices.Contains(out.Available, "WEB_AUTHN") {
		t.Errorf("signIn USER_AUTH: %q, available %v", out.SelectStep, out.Available)
	}
	if out.Selected != "DONE" || out.SelectedUser != user {
		t.Errorf("confirmSignIn WEB_AUTHN: %q as %q", out.Selected, out.SelectedUser)
	}
	if out.Ceremonies.Create != 1 || out.Ceremonies.Get != 2 {
		t.Errorf("ceremonies %+v, want 1 create and 2 gets", out.Ceremonies)
	}
	if len(made) == 1 && made[0].Counter != 2 {
		t.Errorf("sign counter %d after two sign-ins", made[0].Counter)
	}

	// The emulator agrees: two of Go's and Amplify's.
	got := mustCall(t, srv, "ListWebAuthnCredentials", map[string]any{"AccessToken": at})["Credentials"].([]any)
	if len(got) != 3 {
		t.Errorf("the emulator lists %d passkeys after Amplify's delete and registration, want 3", len(got))
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
