package emulator_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func applePrivateKey(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

var standInFormRe = regexp.MustCompile(`(?s)<form method="post" action="([^"]+)" id="standInForm">(.*?)</form>`)

// standInSignIn walks authorize → the stand-in's page → its form → the app's
// callback, typing email and name, and returns the app's id token claims.
func standInSignIn(t *testing.T, f *oauthFixture, c *http.Client, client, provider, email, name string, extra url.Values) map[string]any {
	t.Helper()
	q := url.Values{"identity_provider": {provider}}
	for k, v := range extra {
		q[k] = v
	}
	page := follow(t, c, authorizeURL(f, client, q))
	if !strings.HasPrefix(page, f.srv.URL+"/_social/"+strings.ToLower(provider)+"/authorize?") {
		t.Fatalf("authorize sent the browser to %s, want the %s stand-in", page, provider)
	}
	resp, body := get(t, c, page)
	m := standInFormRe.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("stand-in page: %d %.400s", resp.StatusCode, body)
	}
	form := url.Values{"email": {email}, "name": {name}}
	for _, h := range hiddenRe.FindAllStringSubmatch(m[2], -1) {
		form.Set(h[1], html.UnescapeString(h[2]))
	}
	if provider == "SignInWithApple" {
		form.Set("hide", "true")
	}
	resp, err := c.PostForm(f.srv.URL+html.UnescapeString(m[1]), form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), f.srv.URL+"/oauth2/idpresponse?") {
		t.Fatalf("stand-in submit: %d to %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	landed := follow(t, c, resp.Header.Get("Location"))
	code, _ := codeFrom(t, landed)
	if code == "" {
		t.Fatalf("landed on %s", landed)
	}
	status, out := postToken(t, f, "/oauth2/token", codeForm(code, callback, verifier), client, "")
	if status != http.StatusOK {
		t.Fatalf("token: %d %v", status, out)
	}
	return claimsOf(t, out["id_token"].(string))
}

var (
	googleSub   = regexp.MustCompile(`^Google_1[0-9]{20}$`)
	facebookID  = regexp.MustCompile(`^Facebook_1[0-9]{16}$`)
	amazonID    = regexp.MustCompile(`^LoginWithAmazon_amzn1\.account\.[A-Z2-7]{28}$`)
	appleSub    = regexp.MustCompile(`^SignInWithApple_000[0-9]{3}\.[0-9a-f]{32}\.[0-9]{4}$`)
	relayedMail = regexp.MustCompile(`^[a-z2-7]{10}@privaterelay\.appleid\.com$`)
)

// TestSocialProvidersThroughStandIns: each social provider, configured as in
// Cognito (only the credentials and scopes given), signs in through the
// emulator's stand-in, with that provider's claim shapes, the attribute
// mapping, and the user {Type}_{subject}.
func TestSocialProvidersThroughStandIns(t *testing.T) {
	srv := newFedFixture(t).srv
	f := &oauthFixture{srv: srv, pool: srv.PoolID("app")}
	creds := map[string]map[string]string{
		"Google":          {"client_id": "g-client", "client_secret": "g-secret", "authorize_scopes": "openid email profile"},
		"Facebook":        {"client_id": "fb-app", "client_secret": "fb-secret", "authorize_scopes": "public_profile,email"},
		"LoginWithAmazon": {"client_id": "amzn1.application-oa2-client.x", "client_secret": "a-secret", "authorize_scopes": "profile"},
		"SignInWithApple": {"client_id": "com.example.web", "team_id": "TEAM123456", "key_id": "KEY1234567", "private_key": applePrivateKey(t), "authorize_scopes": "email name"},
	}
	for typ, d := range creds {
		mapping := map[string]string{"email": "email", "name": "name"}
		if typ == "SignInWithApple" {
			mapping = map[string]string{"email": "email", "email_verified": "email_verified"}
		}
		mustCall(t, srv, "CreateIdentityProvider", map[string]any{"UserPoolId": f.pool, "ProviderName": typ, "ProviderType": typ, "ProviderDetails": d, "AttributeMapping": mapping})
	}
	web := mustCall(t, srv, "CreateUserPoolClient", map[string]any{
		"UserPoolId": f.pool, "ClientName": "social", "AllowedOAuthFlowsUserPoolClient": true,
		"AllowedOAuthFlows": []string{"code"}, "AllowedOAuthScopes": []string{"openid", "email", "profile"}, "CallbackURLs": []string{callback},
		"SupportedIdentityProviders": []string{"COGNITO", "Google", "Facebook", "LoginWithAmazon", "SignInWithApple"},
	})["UserPoolClient"].(map[string]any)["ClientId"].(string)

	// What Describe shows: the details Cognito adds.
	g := mustCall(t, srv, "DescribeIdentityProvider", map[string]any{"UserPoolId": f.pool, "ProviderName": "Google"})["IdentityProvider"].(map[string]any)["ProviderDetails"].(map[string]any)
	if g["authorize_url"] != "https://accounts.google.com/o/oauth2/v2/auth" || g["oidc_issuer"] != "https://accounts.google.com" || g["token_request_method"] != "POST" {
		t.Fatalf("Google details %v", g)
	}

	for _, tc := range []struct {
		typ  string
		want *regexp.Regexp
	}{{"Google", googleSub}, {"Facebook", facebookID}, {"LoginWithAmazon", amazonID}, {"SignInWithApple", appleSub}} {
		t.Run(tc.typ, func(t *testing.T) {
			c := browser(t)
			id := standInSignIn(t, f, c, web, tc.typ, "frank@example.com", "Frank Social", nil)
			username, _ := id["cognito:username"].(string)
			if !tc.want.MatchString(username) {
				t.Fatalf("cognito:username %q", username)
			}
			ids := string(mustJSON(t, id["identities"]))
			if !strings.Contains(ids, `"providerType":"`+tc.typ+`"`) || !strings.Contains(ids, `"providerName":"`+tc.typ+`"`) {
				t.Errorf("identities %s", ids)
			}
			if string(mustJSON(t, id["cognito:groups"])) != `["`+f.pool+`_`+tc.typ+`"]` {
				t.Errorf("groups %v", id["cognito:groups"])
			}
			switch tc.typ {
			case "SignInWithApple":
				if !relayedMail.MatchString(id["email"].(string)) || id["email_verified"] != true {
					t.Errorf("Apple's hidden e-mail: %v %v", id["email"], id["email_verified"])
				}
			default:
				if id["email"] != "frank@example.com" || id["name"] != "Frank Social" {
					t.Errorf("mapped claims %v", id)
				}
			}
			// The same address again is the same user, picked from the list.
			again := standInSignIn(t, f, c, web, tc.typ, "frank@example.com", "Frank Social", nil)
			if again["cognito:username"] != username || again["sub"] != id["sub"] {
				t.Errorf("second sign-in as %v, want %s", again["cognito:username"], username)
			}
		})
	}

	// The stand-in sends the browser to no one else.
	resp, _ := get(t, browser(t), srv.URL+"/_social/google/authorize?"+url.Values{"client_id": {"g-client"}, "response_type": {"code"}, "redirect_uri": {"https://evil.example/cb"}}.Encode())
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("stand-in with a foreign redirect_uri: %d", resp.StatusCode)
	}
	// Cognito's rules for social providers.
	_, ae := call(t, srv, "CreateIdentityProvider", map[string]any{"UserPoolId": f.pool, "ProviderName": "MyGoogle", "ProviderType": "Google", "ProviderDetails": creds["Google"]})
	wantErr(t, ae, "InvalidParameterException", "must be Google")
	_, ae = call(t, srv, "UpdateIdentityProvider", map[string]any{"UserPoolId": f.pool, "ProviderName": "Facebook", "ProviderDetails": map[string]string{"client_id": "x", "authorize_scopes": "email"}})
	wantErr(t, ae, "InvalidParameterException", "client_secret is required")
}

// TestSocialProviderAtRealEndpoint: Google pointed (authorize_url, token_url,
// attributes_url, jwks_uri, oidc_issuer) at a real OIDC server — another pool
// of the emulator — signs in through it; and AdminLinkProviderForUser links a
// Google identity to a native user, who then signs in through Google.
func TestSocialProviderAtRealEndpoint(t *testing.T) {
	f := newFedFixture(t)
	out := mustCall(t, f.srv, "DescribeUserPoolClient", map[string]any{"UserPoolId": f.up, "ClientId": f.upClient})["UserPoolClient"].(map[string]any)
	mustCall(t, f.srv, "CreateIdentityProvider", map[string]any{"UserPoolId": f.app, "ProviderName": "Google", "ProviderType": "Google",
		"ProviderDetails": map[string]string{
			"client_id": f.upClient, "client_secret": out["ClientSecret"].(string), "authorize_scopes": "openid email profile",
			"authorize_url": f.srv.URL + "/" + f.up + "/oauth2/authorize", "token_url": f.srv.URL + "/" + f.up + "/oauth2/token",
			"attributes_url": f.srv.URL + "/" + f.up + "/oauth2/userInfo", "jwks_uri": f.srv.URL + "/" + f.up + "/.well-known/jwks.json", "oidc_issuer": f.srv.Issuer(f.up),
		},
		"AttributeMapping": map[string]string{"email": "email"}})
	mustCall(t, f.srv, "UpdateUserPoolClient", map[string]any{"UserPoolId": f.app, "ClientId": f.web, "ClientName": "web",
		"AllowedOAuthFlowsUserPoolClient": true, "AllowedOAuthFlows": []string{"code"}, "AllowedOAuthScopes": []string{"openid", "email", "profile"},
		"CallbackURLs": []string{callback}, "SupportedIdentityProviders": []string{"COGNITO", fedProvider, "Google"}})
	c := browser(t)
	landed := fedSignIn(t, f, c, fedAuthorizeURL(f, url.Values{"identity_provider": {"Google"}}))
	code, _ := codeFrom(t, landed)
	status, tok := postToken(t, f.oauthFixture, "/oauth2/token", codeForm(code, callback, verifier), f.web, "")
	if status != http.StatusOK {
		t.Fatalf("token: %d %v", status, tok)
	}
	if id := claimsOf(t, tok["id_token"].(string)); id["cognito:username"] != "Google_"+f.upstreamSb || id["email"] != "dora@upstream.example" {
		t.Fatalf("id token %v", id)
	}

	// Link that Google identity to the native user: AdminDisableProviderForUser
	// removes the external user first (Cognito refuses to merge one that signed
	// up), then the link, then a Google sign-in is the native user's.
	mustCall(t, f.srv, "AdminDisableProviderForUser", map[string]any{"UserPoolId": f.app,
		"User": map[string]string{"ProviderName": "Google", "ProviderAttributeName": "Cognito_Subject", "ProviderAttributeValue": f.upstreamSb}})
	mustCall(t, f.srv, "AdminLinkProviderForUser", map[string]any{"UserPoolId": f.app,
		"DestinationUser": map[string]string{"ProviderName": "Cognito", "ProviderAttributeValue": "native"},
		"SourceUser":      map[string]string{"ProviderName": "Google", "ProviderAttributeName": "Cognito_Subject", "ProviderAttributeValue": f.upstreamSb}})
	landed = fedSignIn(t, f, c, fedAuthorizeURL(f, url.Values{"identity_provider": {"Google"}}))
	code, _ = codeFrom(t, landed)
	_, tok = postToken(t, f.oauthFixture, "/oauth2/token", codeForm(code, callback, verifier), f.web, "")
	id := claimsOf(t, tok["id_token"].(string))
	if id["cognito:username"] != "native" || !strings.Contains(string(mustJSON(t, id["identities"])), `"providerName":"Google"`) {
		t.Fatalf("linked sign-in: %v", id)
	}
}

// TestSignInPageOffersProviders: the hosted UI's sign-in page links each of
// the client's external providers, and the link starts that provider's sign-in.
func TestSignInPageOffersProviders(t *testing.T) {
	f := newFedFixture(t)
	mustCall(t, f.srv, "CreateIdentityProvider", map[string]any{"UserPoolId": f.app, "ProviderName": "Google", "ProviderType": "Google",
		"ProviderDetails": map[string]string{"client_id": "g", "client_secret": "s", "authorize_scopes": "openid email"}})
	mustCall(t, f.srv, "UpdateUserPoolClient", map[string]any{"UserPoolId": f.app, "ClientId": f.web, "ClientName": "web",
		"AllowedOAuthFlowsUserPoolClient": true, "AllowedOAuthFlows": []string{"code"}, "AllowedOAuthScopes": []string{"openid", "email", "profile"},
		"CallbackURLs": []string{callback}, "SupportedIdentityProviders": []string{"COGNITO", fedProvider, "Google"}})
	c := browser(t)
	login := follow(t, c, authorizeURL(f.oauthFixture, f.web, nil))
	_, page := get(t, c, login)
	m := regexp.MustCompile(`<a class="idp" id="idp-Google" href="([^"]+)">Continue with Google</a>`).FindStringSubmatch(page)
	if m == nil || !strings.Contains(page, `id="idp-Upstream"`) {
		t.Fatalf("sign-in page without the providers: %.1500s", page)
	}
	if next := follow(t, c, f.srv.URL+html.UnescapeString(m[1])); !strings.HasPrefix(next, f.srv.URL+"/_social/google/authorize?") {
		t.Fatalf("the Google link led to %s", next)
	}
}

// TestSocialProviderDetailsAsCognitoShowsThem: Describe hides Apple's
// private_key, and Facebook's api_version names the Graph API URLs.
func TestSocialProviderDetailsAsCognitoShowsThem(t *testing.T) {
	srv := newFedFixture(t).srv
	pool := srv.PoolID("app")
	mustCall(t, srv, "CreateIdentityProvider", map[string]any{"UserPoolId": pool, "ProviderName": "SignInWithApple", "ProviderType": "SignInWithApple",
		"ProviderDetails": map[string]string{"client_id": "com.example.web", "team_id": "T", "key_id": "K", "private_key": applePrivateKey(t), "authorize_scopes": "email name"}})
	d := mustCall(t, srv, "DescribeIdentityProvider", map[string]any{"UserPoolId": pool, "ProviderName": "SignInWithApple"})["IdentityProvider"].(map[string]any)["ProviderDetails"].(map[string]any)
	if _, shown := d["private_key"]; shown || d["authorize_url"] != "https://appleid.apple.com/auth/authorize" || d["key_id"] != "K" {
		t.Fatalf("Apple details %v", d)
	}
	mustCall(t, srv, "CreateIdentityProvider", map[string]any{"UserPoolId": pool, "ProviderName": "Facebook", "ProviderType": "Facebook",
		"ProviderDetails": map[string]string{"client_id": "1", "client_secret": "s", "authorize_scopes": "public_profile, email", "api_version": "v19.0"}})
	d = mustCall(t, srv, "DescribeIdentityProvider", map[string]any{"UserPoolId": pool, "ProviderName": "Facebook"})["IdentityProvider"].(map[string]any)["ProviderDetails"].(map[string]any)
	if d["authorize_url"] != "https://www.facebook.com/v19.0/dialog/oauth" || d["attributes_url"] != "https://graph.facebook.com/v19.0/me?fields=" || d["token_request_method"] != "GET" {
		t.Fatalf("Facebook details %v", d)
	}
}
