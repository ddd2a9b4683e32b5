package emulator_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cogauth/cogauth/hostedui/browsertest"
)

// TestSAMLAndSocialSignInInChromium: a real headless Chromium signs in through
// the hosted UI twice: through the SAML IdP (crewjam/saml, whose page posts the
// response to /saml2/idpresponse by script), then through the Google stand-in
// (typing an e-mail and pressing Continue); each time the app's callback gets
// a code that redeems for the federated user's tokens.
func TestSAMLAndSocialSignInInChromium(t *testing.T) {
	b := browsertest.Start(t)
	f := newSAMLFixture(t, nil)
	codes := make(chan url.Values, 4)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/cb" {
			http.NotFound(w, r) // the browser's /favicon.ico
			return
		}
		codes <- r.URL.Query()
		_, _ = io.WriteString(w, "<!DOCTYPE html><html><body>signed in to the app</body></html>")
	}))
	t.Cleanup(app.Close)
	cb := app.URL + "/cb"
	mustCall(t, f.srv, "CreateIdentityProvider", map[string]any{"UserPoolId": f.pool, "ProviderName": "Google", "ProviderType": "Google",
		"ProviderDetails":  map[string]string{"client_id": "g-client", "client_secret": "g-secret", "authorize_scopes": "openid email profile"},
		"AttributeMapping": map[string]string{"email": "email"}})
	mustCall(t, f.srv, "UpdateUserPoolClient", map[string]any{"UserPoolId": f.pool, "ClientId": f.web, "ClientName": "web",
		"AllowedOAuthFlowsUserPoolClient": true, "AllowedOAuthFlows": []string{"code"}, "AllowedOAuthScopes": []string{"openid", "email"},
		"CallbackURLs": []string{cb}, "SupportedIdentityProviders": []string{"COGNITO", samlProvider, "Google"}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	redeem := func(t *testing.T) map[string]any {
		t.Helper()
		var q url.Values
		select {
		case q = <-codes:
		case <-ctx.Done():
			t.Fatal("the app's callback was not reached")
		}
		status, out := postToken(t, f.oauthFixture, "/oauth2/token", codeForm(q.Get("code"), cb, verifier), f.web, "")
		if status != http.StatusOK || q.Get("state") != "st-123" {
			t.Fatalf("callback %v; token: %d %v", q, status, out)
		}
		return claimsOf(t, out["id_token"].(string))
	}
	wait := func(page *browsertest.Page) {
		if err := page.WaitFor(ctx, `document.body && document.body.innerText.includes("signed in to the app")`); err != nil {
			text, _ := page.Text(ctx)
			u, _ := page.URL(ctx)
			t.Fatalf("the browser's last page %s: %v (text %.300q)", u, err, text)
		}
	}

	page, err := b.Open(ctx, authorizeURL(f.oauthFixture, f.web, url.Values{"identity_provider": {samlProvider}, "redirect_uri": {cb}}))
	if err != nil {
		t.Fatal(err)
	}
	wait(page)
	if id := redeem(t); id["cognito:username"] != samlProvider+"_erin@corp.example" || id["email"] != "erin@corp.example" {
		t.Fatalf("SAML id token %v", id)
	}

	if err := page.Navigate(ctx, authorizeURL(f.oauthFixture, f.web, url.Values{"identity_provider": {"Google"}, "redirect_uri": {cb}})); err != nil {
		t.Fatal(err)
	}
	if err := page.WaitFor(ctx, `document.readyState === "complete" && document.getElementById("standInSubmit")`); err != nil {
		t.Fatal(err)
	}
	if err := page.Eval(ctx, `(() => { const e = document.getElementById("email"); e.focus(); e.value = "gina@example.com";
  document.getElementById("name").value = "Gina G"; document.getElementById("standInSubmit").click(); return true; })()`, nil); err != nil {
		t.Fatal(err)
	}
	wait(page)
	id := redeem(t)
	if u, _ := id["cognito:username"].(string); !strings.HasPrefix(u, "Google_1") || id["email"] != "gina@example.com" {
		t.Fatalf("Google id token %v", id)
	}
}
