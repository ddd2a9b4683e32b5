package hostedui_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cogauth/cogauth/hostedui"
	"github.com/cogauth/cogauth/hostedui/browsertest"
	"github.com/cogauth/cogauth/jwt"
)

// api calls the emulator's user-pool API and fails t on an error answer.
func (f *fixture) api(t testing.TB, op string, in any) map[string]any {
	t.Helper()
	body, _ := json.Marshal(in)
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService."+op)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %v %v", op, resp.StatusCode, err, out)
	}
	return out
}

// federated makes a second pool, "app", federated with the fixture's pool
// through an OIDC identity provider "Corp" (the fixture's hosted UI, token
// endpoint and JWKS, discovered from its issuer), and returns a hosted UI
// client of the app pool that offers it.
func (f *fixture) federated(t testing.TB) *hostedui.Client {
	t.Helper()
	upID, upSecret := f.client(t, "federation", true, []string{"code"}, []string{"openid", "email"})
	// The upstream client's callback is the emulator's /oauth2/idpresponse.
	f.api(t, "UpdateUserPoolClient", map[string]any{"UserPoolId": f.pool, "ClientId": upID, "ClientName": "federation",
		"AllowedOAuthFlowsUserPoolClient": true, "AllowedOAuthFlows": []string{"code"}, "AllowedOAuthScopes": []string{"openid", "email"},
		"CallbackURLs": []string{f.srv.URL + "/oauth2/idpresponse"}, "SupportedIdentityProviders": []string{"COGNITO"}})
	app := f.api(t, "CreateUserPool", map[string]any{"PoolName": "app"})["UserPool"].(map[string]any)["Id"].(string)
	f.api(t, "CreateIdentityProvider", map[string]any{"UserPoolId": app, "ProviderName": "Corp", "ProviderType": "OIDC",
		"ProviderDetails": map[string]string{"client_id": upID, "client_secret": upSecret.Reveal(), "authorize_scopes": "openid email",
			"oidc_issuer": f.srv.Issuer(f.pool), "attributes_request_method": "GET"},
		"AttributeMapping": map[string]string{"email": "email"}})
	web := f.api(t, "CreateUserPoolClient", map[string]any{"UserPoolId": app, "ClientName": "web", "AllowedOAuthFlowsUserPoolClient": true,
		"AllowedOAuthFlows": []string{"code"}, "AllowedOAuthScopes": []string{"openid", "email"},
		"CallbackURLs": []string{f.cb}, "SupportedIdentityProviders": []string{"Corp"}})["UserPoolClient"].(map[string]any)["ClientId"].(string)
	return f.hosted(t, web, "")
}

// checkFederatedTokens: the tokens are the app pool's, for the external user
// Corp_<sub of dana upstream>, with the identities claim and the mapped e-mail.
func checkFederatedTokens(t *testing.T, f *fixture, tok *hostedui.Tokens) {
	t.Helper()
	id, err := jwt.Decode(tok.IDToken.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Username   string `json:"cognito:username"`
		Email      string `json:"email"`
		Identities []map[string]any
		Groups     []string `json:"cognito:groups"`
	}
	raw, _ := json.Marshal(id.Claims().Raw())
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	sub := f.srv.UserSub(f.pool, user)
	if c.Username != "Corp_"+sub || c.Email != "dana@example.com" || len(c.Identities) != 1 ||
		c.Identities[0]["userId"] != sub || c.Identities[0]["providerName"] != "Corp" || c.Identities[0]["providerType"] != "OIDC" ||
		len(c.Groups) != 1 || !strings.HasSuffix(c.Groups[0], "_Corp") {
		t.Fatalf("federated id token claims %+v", c)
	}
}

// TestFederatedLogin: the library's Login with IdentityProvider signs in to a pool
// federated with another pool of the emulator, through a browser that follows
// redirects and fills in the upstream's sign-in page.
func TestFederatedLogin(t *testing.T) {
	f := newFixture(t)
	c := f.federated(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := c.Login(ctx, hostedui.LoginOptions{
		AuthorizeOptions: hostedui.AuthorizeOptions{IdentityProvider: "Corp"},
		ReceiverOptions:  hostedui.ReceiverOptions{Port: f.port},
		Open: func(ctx context.Context, u string) error {
			_, _, err := goBrowser(ctx, u, user, password)
			return err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	checkFederatedTokens(t, f, tok)
}

// TestFederatedLoginInChromium: the same federated sign-in in a real headless
// Chromium, which is sent from the app pool's authorize URL to the upstream pool's
// sign-in page, signs in there, and comes back through /oauth2/idpresponse to the
// loopback receiver.
func TestFederatedLoginInChromium(t *testing.T) {
	b := browsertest.Start(t)
	f := newFixture(t)
	c := f.federated(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tok, _ := chromiumLogin(ctx, t, b, c, hostedui.LoginOptions{
		AuthorizeOptions: hostedui.AuthorizeOptions{IdentityProvider: "Corp"},
		ReceiverOptions:  hostedui.ReceiverOptions{Port: f.port},
	})
	checkFederatedTokens(t, f, tok)
}
