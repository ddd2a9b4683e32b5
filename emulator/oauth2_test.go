package emulator_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/emulator"
)

const (
	oauthUser     = "carol"
	oauthPassword = "Hosted-UI-pass1"
	callback      = "http://127.0.0.1:8765/callback"
	// verifier is a valid RFC 7636 code verifier (43+ unreserved characters).
	verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
)

func challengeOf(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// oauthFixture is an emulator with a pool, a user, a public code-flow client, a
// confidential code-flow client and a machine-to-machine client.
type oauthFixture struct {
	srv                      *emulator.Server
	clk                      *clock.Fake
	pool                     string
	public, confidential     string
	confSecret               string
	m2m, m2mSecret, unconfig string
	apiOnly                  string
}

func newOAuthFixture(t testing.TB) *oauthFixture {
	t.Helper()
	clk := clock.NewFake(t0)
	srv := emulator.NewServer(emulator.Options{Clock: clk, SelfIssuer: true, Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
		Name:    "hosted",
		Clients: []emulator.SeedClient{{Name: "seeded"}},
		Users: []emulator.SeedUser{{Username: oauthUser, Password: oauthPassword, Attributes: map[string]string{
			"email": "carol@example.com", "email_verified": "true", "phone_number": "+15555550100", "custom:team": "blue", "name": "Carol",
		}}},
	}}}})
	t.Cleanup(srv.Close)
	f := &oauthFixture{srv: srv, clk: clk, pool: srv.PoolID("hosted"), unconfig: srv.AppClient("hosted", "seeded").ID}
	mk := func(name string, secret bool, flows, scopes []string) (string, string) {
		c := mustCall(t, srv, "CreateUserPoolClient", map[string]any{
			"UserPoolId": f.pool, "ClientName": name, "GenerateSecret": secret,
			"AllowedOAuthFlowsUserPoolClient": true, "AllowedOAuthFlows": flows, "AllowedOAuthScopes": scopes,
			"CallbackURLs": []string{callback}, "LogoutURLs": []string{"http://127.0.0.1:8765/bye"},
			"SupportedIdentityProviders": []string{"COGNITO"},
			"ExplicitAuthFlows":          []string{"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
		})["UserPoolClient"].(map[string]any)
		s, _ := c["ClientSecret"].(string)
		return c["ClientId"].(string), s
	}
	f.public, _ = mk("spa", false, []string{"code"}, []string{"openid", "email", "profile", "aws.cognito.signin.user.admin"})
	f.confidential, f.confSecret = mk("web", true, []string{"code"}, []string{"openid", "email"})
	f.m2m, f.m2mSecret = mk("m2m", true, []string{"client_credentials"}, []string{"orders/read", "orders/write"})
	f.apiOnly, _ = mk("emailonly", false, []string{"code"}, []string{"email"})
	return f
}

// browser is a cookie-keeping HTTP client that does not follow redirects, so
// tests see each hop.
func browser(t *testing.T) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func authorizeURL(f *oauthFixture, client string, extra url.Values) string {
	q := url.Values{
		"response_type": {"code"}, "client_id": {client}, "redirect_uri": {callback},
		"state": {"st-123"}, "scope": {"openid email"}, "nonce": {"n-456"},
		"code_challenge": {challengeOf(verifier)}, "code_challenge_method": {"S256"},
	}
	for k, v := range extra {
		if v == nil {
			q.Del(k)
			continue
		}
		q[k] = v
	}
	return f.srv.URL + "/oauth2/authorize?" + q.Encode()
}

var (
	csrfRe   = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
	hiddenRe = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// submitLogin fills in the sign-in page body (served at loginURL) and returns the
// response to the post.
func submitLogin(t *testing.T, c *http.Client, loginURL, page, user, pw string) (*http.Response, string) {
	t.Helper()
	form := url.Values{"username": {user}, "password": {pw}}
	for _, m := range hiddenRe.FindAllStringSubmatch(page, -1) {
		form.Add(m[1], html.UnescapeString(m[2]))
	}
	if m := csrfRe.FindStringSubmatch(page); m != nil {
		form.Set("_csrf", html.UnescapeString(m[1]))
	}
	u, _ := url.Parse(loginURL)
	u.RawQuery = ""
	resp, err := c.PostForm(u.String(), form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// signInCode walks authorize -> /login -> post and returns the code and state the
// redirect URI receives.
func signInCode(t *testing.T, f *oauthFixture, c *http.Client, authURL string) (code, state string) {
	t.Helper()
	resp, _ := get(t, c, authURL)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: status %d", resp.StatusCode)
	}
	loginURL := resp.Request.URL.ResolveReference(mustURL(t, resp.Header.Get("Location"))).String()
	if !strings.Contains(loginURL, "/login?") {
		t.Fatalf("authorize redirected to %s, want the sign-in page", loginURL)
	}
	resp, page := get(t, c, loginURL)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="signInSubmitButton"`) {
		t.Fatalf("login page: status %d", resp.StatusCode)
	}
	resp, body := submitLogin(t, c, loginURL, page, oauthUser, oauthPassword)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("login post: status %d body %s", resp.StatusCode, body)
	}
	return codeFrom(t, resp.Header.Get("Location"))
}

func codeFrom(t *testing.T, location string) (code, state string) {
	t.Helper()
	u := mustURL(t, location)
	if !strings.HasPrefix(location, callback+"?") {
		t.Fatalf("redirected to %s, want %s", location, callback)
	}
	return u.Query().Get("code"), u.Query().Get("state")
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// postToken posts a form to /oauth2/token, with HTTP Basic when secret is set.
func postToken(t *testing.T, f *oauthFixture, path string, form url.Values, id, secret string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret != "" {
		req.SetBasicAuth(id, secret)
	} else if id != "" {
		form.Set("client_id", id)
		req.Body = io.NopCloser(strings.NewReader(form.Encode()))
		req.ContentLength = int64(len(form.Encode()))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	b, _ := io.ReadAll(resp.Body)
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s: status %d body %q", path, resp.StatusCode, b)
		}
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("%s: Cache-Control %q, want no-store", path, cc)
	}
	return resp.StatusCode, out
}

func codeForm(code, redirect, ver string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}, "code_verifier": {ver}}
}

func claimsOf(t *testing.T, tok string) jwt.MapClaims {
	t.Helper()
	c := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(tok, c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestOAuthCodeFlowTokens(t *testing.T) {
	f := newOAuthFixture(t)
	code, state := signInCode(t, f, browser(t), authorizeURL(f, f.public, nil))
	if state != "st-123" || code == "" {
		t.Fatalf("code %q state %q", code, state)
	}
	status, out := postToken(t, f, "/oauth2/token", codeForm(code, callback, verifier), f.public, "")
	if status != http.StatusOK {
		t.Fatalf("token: %d %v", status, out)
	}
	if out["token_type"] != "Bearer" || out["expires_in"] != float64(3600) || out["refresh_token"] == nil {
		t.Fatalf("token answer: type %v expires_in %v refresh %v", out["token_type"], out["expires_in"], out["refresh_token"] != nil)
	}
	at := claimsOf(t, out["access_token"].(string))
	if at["scope"] != "openid email" || at["username"] != oauthUser || at["client_id"] != f.public || at["version"] != float64(2) || at["token_use"] != "access" {
		t.Errorf("access claims %v", at)
	}
	id := claimsOf(t, out["id_token"].(string))
	if id["nonce"] != "n-456" || id["aud"] != f.public || id["email"] != "carol@example.com" || id["iss"] != f.srv.URL+"/"+f.pool {
		t.Errorf("id claims %v", id)
	}
	if at["auth_time"] != id["auth_time"] || at["auth_time"] != float64(t0.Unix()) {
		t.Errorf("auth_time access %v id %v", at["auth_time"], id["auth_time"])
	}
}

func TestOAuthCodeRedemptionRefusals(t *testing.T) {
	f := newOAuthFixture(t)
	other := "http://127.0.0.1:8765/other"
	for _, tc := range []struct {
		name   string
		mutate func(code string) (url.Values, string, string) // form, client, secret
		before func()
	}{
		{"wrong code_verifier", func(c string) (url.Values, string, string) {
			return codeForm(c, callback, strings.Repeat("x", 43)), f.public, ""
		}, nil},
		{"missing code_verifier", func(c string) (url.Values, string, string) { return codeForm(c, callback, ""), f.public, "" }, nil},
		{"mismatched redirect_uri", func(c string) (url.Values, string, string) { return codeForm(c, other, verifier), f.public, "" }, nil},
		{"another client", func(c string) (url.Values, string, string) {
			return codeForm(c, callback, verifier), f.confidential, f.confSecret
		}, nil},
		{"expired code", func(c string) (url.Values, string, string) { return codeForm(c, callback, verifier), f.public, "" },
			func() { f.clk.Advance(5*time.Minute + time.Second) }},
		{"unknown code", func(string) (url.Values, string, string) {
			return codeForm("00000000-0000-4000-8000-000000000000", callback, verifier), f.public, ""
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _ := signInCode(t, f, browser(t), authorizeURL(f, f.public, nil))
			if tc.before != nil {
				tc.before()
			}
			form, client, secret := tc.mutate(code)
			status, out := postToken(t, f, "/oauth2/token", form, client, secret)
			if status != http.StatusBadRequest || out["error"] != "invalid_grant" {
				t.Fatalf("got %d %v, want 400 invalid_grant", status, out["error"])
			}
			if tc.name == "unknown code" {
				return
			}
			// Whatever went wrong, the code is spent: the right request fails too.
			status, out = postToken(t, f, "/oauth2/token", codeForm(code, callback, verifier), f.public, "")
			if status != http.StatusBadRequest || out["error"] != "invalid_grant" {
				t.Fatalf("retry with the right values: %d %v, want invalid_grant", status, out["error"])
			}
		})
	}
	t.Run("reused code", func(t *testing.T) {
		code, _ := signInCode(t, f, browser(t), authorizeURL(f, f.public, nil))
		if status, out := postToken(t, f, "/oauth2/token", codeForm(code, callback, verifier), f.public, ""); status != http.StatusOK {
			t.Fatalf("first use: %d %v", status, out)
		}
		if status, out := postToken(t, f, "/oauth2/token", codeForm(code, callback, verifier), f.public, ""); status != http.StatusBadRequest || out["error"] != "invalid_grant" {
			t.Fatalf("second use: %d %v", status, out["error"])
		}
	})
}

func TestOAuthConfidentialClientAuth(t *testing.T) {
	f := newOAuthFixture(t)
	for _, tc := range []struct {
		name, id, secret string
		want             int
		err              string
	}{
		{"no secret", f.confidential, "", http.StatusBadRequest, "invalid_client"},
		{"wrong secret", f.confidential, "nope", http.StatusBadRequest, "invalid_client"},
		{"right secret", f.confidential, f.confSecret, http.StatusOK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _ := signInCode(t, f, browser(t), authorizeURL(f, f.confidential, nil))
			status, out := postToken(t, f, "/oauth2/token", codeForm(code, callback, verifier), tc.id, tc.secret)
			if status != tc.want || tc.err != "" && out["error"] != tc.err {
				t.Fatalf("got %d %v, want %d %s", status, out["error"], tc.want, tc.err)
			}
		})
	}
}

func TestOAuthAuthorizeValidation(t *testing.T) {
	f := newOAuthFixture(t)
	for _, tc := range []struct {
		name     string
		client   string
		extra    url.Values
		page     int    // status of an error page; 0 when a redirect is expected
		redirect string // error= in the redirect
	}{
		{"unknown client", "nosuchclient", nil, http.StatusBadRequest, ""},
		{"unregistered redirect_uri", f.public, url.Values{"redirect_uri": {"http://127.0.0.1:9999/callback"}}, http.StatusBadRequest, ""},
		{"bad response_type", f.public, url.Values{"response_type": {"id_token"}}, 0, "unsupported_response_type"},
		{"scope not allowed", f.public, url.Values{"scope": {"openid phone"}}, 0, "invalid_scope"},
		{"plain PKCE", f.public, url.Values{"code_challenge_method": {"plain"}}, 0, "invalid_request"},
		{"unknown identity provider", f.public, url.Values{"identity_provider": {"Google"}}, 0, "invalid_request"},
		{"flow not allowed", f.m2m, nil, 0, "unauthorized_client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := get(t, browser(t), authorizeURL(f, tc.client, tc.extra))
			if tc.page != 0 {
				if resp.StatusCode != tc.page || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
					t.Fatalf("status %d %s, want an error page %d", resp.StatusCode, resp.Header.Get("Location"), tc.page)
				}
				return
			}
			if resp.StatusCode != http.StatusFound {
				t.Fatalf("status %d, want a redirect", resp.StatusCode)
			}
			q := mustURL(t, resp.Header.Get("Location")).Query()
			if q.Get("error") != tc.redirect || q.Get("state") != "st-123" || q.Get("code") != "" {
				t.Fatalf("redirect query %v, want error=%s with the state", q, tc.redirect)
			}
		})
	}
}

func TestOAuthLoginPage(t *testing.T) {
	f := newOAuthFixture(t)
	c := browser(t)
	resp, _ := get(t, c, authorizeURL(f, f.public, nil))
	loginURL := resp.Request.URL.ResolveReference(mustURL(t, resp.Header.Get("Location"))).String()
	_, page := get(t, c, loginURL)

	t.Run("wrong password stays on the page", func(t *testing.T) {
		resp, body := submitLogin(t, c, loginURL, page, oauthUser, "wrong-password-1")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Incorrect username or password.") {
			t.Fatalf("status %d, want the page with an error", resp.StatusCode)
		}
	})
	t.Run("cross-site post refused", func(t *testing.T) {
		forged := strings.Replace(page, `name="_csrf" value="`, `name="_csrf" value="x`, 1)
		resp, _ := submitLogin(t, c, loginURL, forged, oauthUser, oauthPassword)
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d, want 403", resp.StatusCode)
		}
	})
	t.Run("hosted UI session then logout", func(t *testing.T) {
		resp, _ := submitLogin(t, c, loginURL, page, oauthUser, oauthPassword)
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("sign in: %d", resp.StatusCode)
		}
		// Signed in: authorize answers with a code straight away.
		resp, _ = get(t, c, authorizeURL(f, f.public, nil))
		if code, _ := codeFrom(t, resp.Header.Get("Location")); code == "" {
			t.Fatal("no code from the remembered sign-in")
		}
		// A logout URI that is not registered is refused.
		resp, _ = get(t, c, f.srv.URL+"/logout?"+url.Values{"client_id": {f.public}, "logout_uri": {"http://evil.example/"}}.Encode())
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("unregistered logout_uri: %d", resp.StatusCode)
		}
		resp, _ = get(t, c, f.srv.URL+"/logout?"+url.Values{"client_id": {f.public}, "logout_uri": {"http://127.0.0.1:8765/bye"}}.Encode())
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "http://127.0.0.1:8765/bye" {
			t.Fatalf("logout: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, _ = get(t, c, authorizeURL(f, f.public, nil))
		if !strings.Contains(resp.Header.Get("Location"), "/login?") {
			t.Fatalf("after logout authorize went to %s, want the sign-in page", resp.Header.Get("Location"))
		}
	})
}

func TestOAuthRefreshRevokeUserInfo(t *testing.T) {
	f := newOAuthFixture(t)
	code, _ := signInCode(t, f, browser(t), authorizeURL(f, f.public, url.Values{"scope": {"openid email aws.cognito.signin.user.admin"}}))
	_, tok := postToken(t, f, "/oauth2/token", codeForm(code, callback, verifier), f.public, "")
	refresh := tok["refresh_token"].(string)

	f.clk.Advance(50 * time.Minute)
	status, out := postToken(t, f, "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, f.public, "")
	if status != http.StatusOK || out["refresh_token"] != nil || out["id_token"] == nil {
		t.Fatalf("refresh: %d error=%v refresh_token=%v id_token=%v", status, out["error"], out["refresh_token"] != nil, out["id_token"] != nil)
	}
	at := claimsOf(t, out["access_token"].(string))
	if at["scope"] != "openid email aws.cognito.signin.user.admin" || at["auth_time"] != float64(t0.Unix()) || at["iat"] != float64(t0.Add(50*time.Minute).Unix()) {
		t.Errorf("refreshed access claims %v", at)
	}
	access := out["access_token"].(string)

	info := func(tok string) (int, map[string]any, string) {
		req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/oauth2/userInfo", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		m := map[string]any{}
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m, resp.Header.Get("WWW-Authenticate")
	}
	status, ui, _ := info(access)
	if status != http.StatusOK || ui["email"] != "carol@example.com" || ui["email_verified"] != "true" || ui["username"] != oauthUser || ui["sub"] != at["sub"] {
		t.Fatalf("userInfo: %d %v", status, ui)
	}
	if _, ok := ui["phone_number"]; ok {
		t.Errorf("userInfo released phone_number without the phone scope: %v", ui)
	}

	// A token from the API (InitiateAuth) carries no openid scope: userInfo refuses it.
	api := mustCall(t, f.srv, "InitiateAuth", map[string]any{"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": f.public,
		"AuthParameters": map[string]string{"USERNAME": oauthUser, "PASSWORD": oauthPassword}})
	apiAccess := api["AuthenticationResult"].(map[string]any)["AccessToken"].(string)
	if status, _, hdr := info(apiAccess); status != http.StatusUnauthorized || !strings.Contains(hdr, `error="invalid_token"`) {
		t.Fatalf("userInfo with an API token: %d %q", status, hdr)
	}
	// The refresh token from the hosted UI also refreshes through the API, and
	// the access tokens keep the granted scopes (userInfo still accepts them).
	viaAPI := mustCall(t, f.srv, "InitiateAuth", map[string]any{"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": f.public,
		"AuthParameters": map[string]string{"REFRESH_TOKEN": refresh}})
	apiRefreshed := viaAPI["AuthenticationResult"].(map[string]any)["AccessToken"].(string)
	if sc := claimsOf(t, apiRefreshed)["scope"]; sc != "openid email aws.cognito.signin.user.admin" {
		t.Errorf("API refresh of a hosted UI session: scope %v", sc)
	}
	if status, _, _ := info(apiRefreshed); status != http.StatusOK {
		t.Errorf("userInfo with an API-refreshed hosted UI token: %d", status)
	}
	// Tokens signed before a key rotation keep working.
	if err := f.srv.RotateKeys(f.pool); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := info(access); status != http.StatusOK {
		t.Errorf("userInfo after a key rotation: %d", status)
	}

	// Revocation: access tokens are not revocable here, refresh tokens are.
	if status, out := postToken(t, f, "/oauth2/revoke", url.Values{"token": {access}}, f.public, ""); status != http.StatusBadRequest || out["error"] != "unsupported_token_type" {
		t.Fatalf("revoking an access token: %d %v", status, out)
	}
	if status, out := postToken(t, f, "/oauth2/revoke", url.Values{"token": {refresh}}, f.public, ""); status != http.StatusOK {
		t.Fatalf("revoke: %d %v", status, out)
	}
	if status, out := postToken(t, f, "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, f.public, ""); status != http.StatusBadRequest || out["error"] != "invalid_grant" {
		t.Fatalf("refresh after revoke: %d %v", status, out)
	}
	if status, _, _ := info(access); status != http.StatusUnauthorized {
		t.Fatalf("userInfo after revoke: %d", status)
	}
}

func TestOAuthNoOpenIDScope(t *testing.T) {
	f := newOAuthFixture(t)
	code, _ := signInCode(t, f, browser(t), authorizeURL(f, f.apiOnly, url.Values{"scope": {"email"}, "nonce": nil}))
	status, out := postToken(t, f, "/oauth2/token", codeForm(code, callback, verifier), f.apiOnly, "")
	if status != http.StatusOK {
		t.Fatalf("token: %d %v", status, out)
	}
	if _, ok := out["id_token"]; ok {
		t.Fatal("an id token without the openid scope")
	}
}

func TestOAuthClientCredentials(t *testing.T) {
	f := newOAuthFixture(t)
	cc := func(scope string) url.Values {
		v := url.Values{"grant_type": {"client_credentials"}}
		if scope != "" {
			v.Set("scope", scope)
		}
		return v
	}
	for _, tc := range []struct {
		name, id, secret, scope string
		want                    int
		err, granted            string
	}{
		{"all allowed scopes", f.m2m, f.m2mSecret, "", http.StatusOK, "", "orders/read orders/write"},
		{"one scope", f.m2m, f.m2mSecret, "orders/read", http.StatusOK, "", "orders/read"},
		{"scope not allowed", f.m2m, f.m2mSecret, "orders/delete", http.StatusBadRequest, "invalid_scope", ""},
		{"standard scope", f.m2m, f.m2mSecret, "openid", http.StatusBadRequest, "invalid_scope", ""},
		{"wrong secret", f.m2m, "wrong", "", http.StatusBadRequest, "invalid_client", ""},
		{"no secret", f.m2m, "", "", http.StatusBadRequest, "invalid_client", ""},
		{"public client", f.public, "", "", http.StatusBadRequest, "invalid_client", ""},
		{"flow not allowed", f.confidential, f.confSecret, "", http.StatusBadRequest, "unauthorized_client", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := postToken(t, f, "/oauth2/token", cc(tc.scope), tc.id, tc.secret)
			if status != tc.want || tc.err != "" && out["error"] != tc.err {
				t.Fatalf("got %d %v, want %d %s", status, out["error"], tc.want, tc.err)
			}
			if tc.want != http.StatusOK {
				return
			}
			if out["id_token"] != nil || out["refresh_token"] != nil || out["expires_in"] != float64(3600) {
				t.Fatalf("answer has id_token=%v refresh_token=%v expires_in=%v, want an access token only", out["id_token"] != nil, out["refresh_token"] != nil, out["expires_in"])
			}
			at := claimsOf(t, out["access_token"].(string))
			if at["sub"] != f.m2m || at["client_id"] != f.m2m || at["scope"] != tc.granted || at["username"] != nil {
				t.Fatalf("claims %v", at)
			}
		})
	}
}

func TestOAuthUnconfiguredClientAndPoolPaths(t *testing.T) {
	f := newOAuthFixture(t)
	// A seeded client without OAuth settings may use a loopback redirect (a
	// documented deviation), and the pool-prefixed paths of the OpenID
	// configuration work like the root ones.
	resp, body := get(t, http.DefaultClient, f.srv.URL+"/"+f.pool+"/.well-known/openid-configuration")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("openid configuration: %d", resp.StatusCode)
	}
	var conf map[string]any
	if err := json.Unmarshal([]byte(body), &conf); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"authorization_endpoint", "token_endpoint", "userinfo_endpoint", "revocation_endpoint", "end_session_endpoint"} {
		if s, _ := conf[k].(string); !strings.HasPrefix(s, f.srv.URL+"/"+f.pool+"/") {
			t.Errorf("%s = %v", k, conf[k])
		}
	}
	c := browser(t)
	u := strings.Replace(authorizeURL(f, f.unconfig, nil), f.srv.URL+"/oauth2/authorize", conf["authorization_endpoint"].(string), 1)
	code, _ := signInCode(t, f, c, u)
	req := codeForm(code, callback, verifier)
	status, out := postToken(t, f, strings.TrimPrefix(conf["token_endpoint"].(string), f.srv.URL), req, f.unconfig, "")
	if status != http.StatusOK {
		t.Fatalf("token: %d %v", status, out)
	}
	// A non-loopback redirect is refused for such a client.
	resp, _ = get(t, c, authorizeURL(f, f.unconfig, url.Values{"redirect_uri": {"https://example.com/cb"}}))
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("non-loopback redirect: %d", resp.StatusCode)
	}
}

// FuzzOAuth2Token posts arbitrary form bodies to the token and revoke endpoints:
// never a panic, always a JSON answer, never a token without a valid grant.
func FuzzOAuth2Token(f *testing.F) {
	fx := newOAuthFixture(f)
	f.Add("grant_type=authorization_code&code=x&redirect_uri=" + url.QueryEscape(callback) + "&client_id=" + fx.public)
	f.Add("grant_type=refresh_token&refresh_token=a.b.c.d.e&client_id=" + fx.public)
	f.Add("grant_type=client_credentials&scope=orders%2Fread&client_id=" + fx.m2m + "&client_secret=x")
	f.Add("token=%zz&client_id=")
	f.Fuzz(func(t *testing.T, body string) {
		for _, path := range []string{"/oauth2/token", "/oauth2/revoke"} {
			req, _ := http.NewRequest(http.MethodPost, fx.srv.URL+path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode >= 500 {
				t.Fatalf("%s: status %d for %q", path, resp.StatusCode, body)
			}
			if path == "/oauth2/token" && resp.StatusCode == http.StatusOK {
				t.Fatalf("tokens for a made-up request %q", body)
			}
			if len(b) > 0 && !json.Valid(b) {
				t.Fatalf("%s: not JSON: %q", path, b)
			}
		}
	})
}

// FuzzOAuth2Authorize sends arbitrary queries to the authorize and login endpoints
// and arbitrary forms to the login post: never a server error, and never a
// redirect anywhere but the sign-in page or a registered callback URL.
func FuzzOAuth2Authorize(f *testing.F) {
	fx := newOAuthFixture(f)
	good := strings.TrimPrefix(authorizeURL(fx, fx.public, nil), fx.srv.URL+"/oauth2/authorize?")
	f.Add(good)
	f.Add("client_id=" + fx.public + "&redirect_uri=http%3A%2F%2Fevil.example%2F&response_type=code")
	f.Add("client_id=" + fx.unconfig + "&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fx&response_type=token&scope=openid")
	f.Add("%%%&&&=")
	f.Fuzz(func(t *testing.T, query string) {
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		for _, req := range []*http.Request{
			mustReq(http.MethodGet, fx.srv.URL+"/oauth2/authorize?"+query, ""),
			mustReq(http.MethodGet, fx.srv.URL+"/login?"+query, ""),
			mustReq(http.MethodPost, fx.srv.URL+"/login", query),
			mustReq(http.MethodGet, fx.srv.URL+"/logout?"+query, ""),
		} {
			if req == nil {
				continue
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode >= 500 {
				t.Fatalf("%s %s: status %d", req.Method, req.URL.Path, resp.StatusCode)
			}
			if loc := resp.Header.Get("Location"); loc != "" {
				ok := strings.HasPrefix(loc, "/login?") || strings.HasPrefix(loc, callback) || strings.HasPrefix(loc, "http://127.0.0.1:8765/bye") ||
					strings.HasPrefix(loc, "http://127.0.0.1") || strings.HasPrefix(loc, "http://localhost") || strings.HasPrefix(loc, "http://[::1]")
				if !ok {
					t.Fatalf("%s %s redirected to %q", req.Method, req.URL.Path, loc)
				}
			}
		}
	})
}

func mustReq(method, u, body string) *http.Request {
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		return nil
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return req
}

func TestOAuthImplicitGrant(t *testing.T) {
	f := newOAuthFixture(t)
	implicit := createOAuthClient(t, f, []string{"implicit"}, []string{"openid", "email"})
	c := browser(t)
	resp, _ := get(t, c, authorizeURL(f, implicit, url.Values{"response_type": {"token"}, "code_challenge": nil, "code_challenge_method": nil}))
	loginURL := resp.Request.URL.ResolveReference(mustURL(t, resp.Header.Get("Location"))).String()
	_, page := get(t, c, loginURL)
	resp, _ = submitLogin(t, c, loginURL, page, oauthUser, oauthPassword)
	loc := mustURL(t, resp.Header.Get("Location"))
	frag, _ := url.ParseQuery(loc.Fragment)
	if resp.StatusCode != http.StatusFound || loc.RawQuery != "" || frag.Get("state") != "st-123" || frag.Get("access_token") == "" || frag.Get("id_token") == "" {
		t.Fatalf("implicit redirect: status %d, query %q, fragment keys %v", resp.StatusCode, loc.RawQuery, len(frag))
	}
	if frag.Get("refresh_token") != "" {
		t.Fatal("the implicit grant handed out a refresh token")
	}
	if claimsOf(t, frag.Get("id_token"))["nonce"] != "n-456" {
		t.Error("no nonce in the implicit id token")
	}
	// The code flow is not allowed for this client, nor the implicit one for the code client.
	resp, _ = get(t, c, authorizeURL(f, implicit, nil))
	if q := mustURL(t, resp.Header.Get("Location")).Query(); q.Get("error") != "unauthorized_client" {
		t.Fatalf("code flow on an implicit client: %v", q)
	}
	resp, _ = get(t, c, authorizeURL(f, f.public, url.Values{"response_type": {"token"}}))
	if q := mustURL(t, resp.Header.Get("Location")).Query(); q.Get("error") != "unauthorized_client" {
		t.Fatalf("implicit flow on a code client: %v", q)
	}
}

func TestOAuthLoginRefusesUsersItCannotSignIn(t *testing.T) {
	f := newOAuthFixture(t)
	mustCall(t, f.srv, "AdminCreateUser", map[string]any{"UserPoolId": f.pool, "Username": "temp", "TemporaryPassword": "Temp-Passw0rd-1", "MessageAction": "SUPPRESS"})
	mustCall(t, f.srv, "AdminCreateUser", map[string]any{"UserPoolId": f.pool, "Username": "off", "TemporaryPassword": "Temp-Passw0rd-1", "MessageAction": "SUPPRESS"})
	mustCall(t, f.srv, "AdminSetUserPassword", map[string]any{"UserPoolId": f.pool, "Username": "off", "Password": oauthPassword, "Permanent": true})
	mustCall(t, f.srv, "AdminDisableUser", map[string]any{"UserPoolId": f.pool, "Username": "off"})
	for _, tc := range []struct{ name, user, pw, want string }{
		{"unknown user", "nobody", oauthPassword, "Incorrect username or password."},
		{"temporary password", "temp", "Temp-Passw0rd-1", "temporary password"},
		{"disabled user", "off", oauthPassword, "User is disabled."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := browser(t)
			resp, _ := get(t, c, authorizeURL(f, f.public, nil))
			loginURL := resp.Request.URL.ResolveReference(mustURL(t, resp.Header.Get("Location"))).String()
			_, page := get(t, c, loginURL)
			resp, body := submitLogin(t, c, loginURL, page, tc.user, tc.pw)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Location") != "" || !strings.Contains(body, tc.want) {
				t.Fatalf("status %d location %q, want the page saying %q", resp.StatusCode, resp.Header.Get("Location"), tc.want)
			}
		})
	}
}

// createOAuthClient adds a public client with the given OAuth flows and scopes.
func createOAuthClient(t *testing.T, f *oauthFixture, flows, scopes []string) string {
	t.Helper()
	out := mustCall(t, f.srv, "CreateUserPoolClient", map[string]any{
		"UserPoolId": f.pool, "ClientName": "extra", "AllowedOAuthFlowsUserPoolClient": true,
		"AllowedOAuthFlows": flows, "AllowedOAuthScopes": scopes, "CallbackURLs": []string{callback},
		"SupportedIdentityProviders": []string{"COGNITO"},
	})
	return out["UserPoolClient"].(map[string]any)["ClientId"].(string)
}
