package emulator_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/cogauth/cogauth/emulator"
)

const (
	arnPreSignUp = "arn:aws:lambda:us-east-1:000000000000:function:presignup"
	fedUser      = "dora"
	fedPassword  = "Upstream-pass-1"
	fedProvider  = "Upstream"
)

// fedFixture is one emulator serving two pools: "upstream", whose hosted UI,
// token endpoint and JWKS are the OIDC provider, and "app", which federates
// with it through an OIDC identity provider named Upstream and has a client
// "web" offering it. The emulator issues its own URL (SelfIssuer), so the
// provider is discovered from oidc_issuer as Cognito discovers one.
type fedFixture struct {
	*oauthFixture
	up, app    string // pool IDs
	upClient   string
	web        string
	lambda     *lambdas
	upstreamSb string // dora's sub in the upstream pool
}

func newFedFixture(t *testing.T, opts ...func(*emulator.Options)) *fedFixture {
	t.Helper()
	l := &lambdas{handlers: map[string]func(map[string]any) (map[string]any, error){
		arnPreSignUp: func(ev map[string]any) (map[string]any, error) { return obj(ev["response"]), nil },
	}}
	clk := newFake()
	o := emulator.Options{Clock: clk, SelfIssuer: true, Lambda: l.fn, Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{
		{Name: "upstream", Users: []emulator.SeedUser{{Username: fedUser, Password: fedPassword, Attributes: map[string]string{
			"email": "dora@upstream.example", "name": "Dora", "custom:team": "red",
		}}}},
		{Name: "app", LambdaConfig: &emulator.LambdaConfig{PreSignUp: arnPreSignUp},
			Users: []emulator.SeedUser{{Username: "native", Password: password, Attributes: map[string]string{"email": "native@example.com"}}}},
	}}}
	for _, fn := range opts {
		fn(&o)
	}
	srv := emulator.NewServer(o)
	t.Cleanup(srv.Close)
	f := &fedFixture{oauthFixture: &oauthFixture{srv: srv, clk: clk}, up: srv.PoolID("upstream"), app: srv.PoolID("app"), lambda: l}
	f.pool = f.app
	out := mustCall(t, srv, "CreateUserPoolClient", map[string]any{
		"UserPoolId": f.up, "ClientName": "federation", "GenerateSecret": true, "AllowedOAuthFlowsUserPoolClient": true,
		"AllowedOAuthFlows": []string{"code"}, "AllowedOAuthScopes": []string{"openid", "email", "profile"},
		"CallbackURLs": []string{srv.URL + "/oauth2/idpresponse"}, "SupportedIdentityProviders": []string{"COGNITO"},
	})["UserPoolClient"].(map[string]any)
	f.upClient = out["ClientId"].(string)
	mustCall(t, srv, "CreateIdentityProvider", map[string]any{
		"UserPoolId": f.app, "ProviderName": fedProvider, "ProviderType": "OIDC",
		"ProviderDetails": map[string]string{
			"client_id": f.upClient, "client_secret": out["ClientSecret"].(string), "authorize_scopes": "openid email profile",
			"oidc_issuer": srv.Issuer(f.up), "attributes_request_method": "GET",
		},
		"AttributeMapping": map[string]string{"email": "email", "name": "name", "custom:team": "custom:team", "username": "sub"},
		"IdpIdentifiers":   []string{"upstream.example"},
	})
	f.web = mustCall(t, srv, "CreateUserPoolClient", map[string]any{
		"UserPoolId": f.app, "ClientName": "web", "AllowedOAuthFlowsUserPoolClient": true,
		"AllowedOAuthFlows": []string{"code"}, "AllowedOAuthScopes": []string{"openid", "email", "profile"},
		"CallbackURLs": []string{callback}, "SupportedIdentityProviders": []string{"COGNITO", fedProvider},
	})["UserPoolClient"].(map[string]any)["ClientId"].(string)
	f.upstreamSb = srv.UserSub(f.up, fedUser)
	return f
}

// follow GETs u and returns the redirect's target (resolved), failing on
// anything but a 302.
func follow(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, body := get(t, c, u)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("GET %s: status %d, want a redirect; body %.300s", u, resp.StatusCode, body)
	}
	return resp.Request.URL.ResolveReference(mustURL(t, resp.Header.Get("Location"))).String()
}

// fedSignIn walks the federated sign-in from the app's authorize URL to the app's
// callback: to the upstream's authorize URL, its sign-in page (unless its cookie
// still signs the browser in), back to /oauth2/idpresponse, then to the app.
// It returns the callback URL the browser lands on.
func fedSignIn(t *testing.T, f *fedFixture, c *http.Client, authURL string) string {
	t.Helper()
	next := follow(t, c, authURL)
	up := mustURL(t, next)
	if !strings.HasPrefix(next, f.srv.URL+"/"+f.up+"/oauth2/authorize?") {
		t.Fatalf("the app's authorize sent the browser to %s, want the upstream's authorize URL", next)
	}
	q := up.Query()
	if q.Get("client_id") != f.upClient || q.Get("redirect_uri") != f.srv.URL+"/oauth2/idpresponse" || q.Get("response_type") != "code" ||
		q.Get("scope") != "openid email profile" || q.Get("state") == "" || q.Get("nonce") == "" {
		t.Fatalf("upstream authorize request %v", q)
	}
	next = follow(t, c, next)
	if strings.Contains(next, "/login?") {
		resp, page := get(t, c, next)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("upstream sign-in page: %d", resp.StatusCode)
		}
		resp, body := submitLogin(t, c, next, page, fedUser, fedPassword)
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("upstream sign-in: %d %.300s", resp.StatusCode, body)
		}
		next = resp.Request.URL.ResolveReference(mustURL(t, resp.Header.Get("Location"))).String()
	}
	if !strings.HasPrefix(next, f.srv.URL+"/oauth2/idpresponse?") {
		t.Fatalf("upstream sent the browser to %s, want /oauth2/idpresponse", next)
	}
	return follow(t, c, next)
}

func fedAuthorizeURL(f *fedFixture, extra url.Values) string {
	if extra == nil {
		extra = url.Values{"identity_provider": {fedProvider}}
	}
	extra.Set("scope", "openid email profile")
	return authorizeURL(f.oauthFixture, f.web, extra)
}

// fedTokens signs in through the upstream and redeems the app's code.
func fedTokens(t *testing.T, f *fedFixture, c *http.Client, extra url.Values) map[string]any {
	t.Helper()
	landed := fedSignIn(t, f, c, fedAuthorizeURL(f, extra))
	code, state := codeFrom(t, landed)
	if state != "st-123" || code == "" {
		t.Fatalf("callback %s", landed)
	}
	status, out := postToken(t, f.oauthFixture, "/oauth2/token", codeForm(code, callback, verifier), f.web, "")
	if status != http.StatusOK {
		t.Fatalf("token: %d %v", status, out)
	}
	return out
}

func TestFederatedSignInThroughUpstreamPool(t *testing.T) {
	f := newFedFixture(t)
	c := browser(t)
	out := fedTokens(t, f, c, nil)
	id := claimsOf(t, out["id_token"].(string))
	username := fedProvider + "_" + f.upstreamSb
	if id["cognito:username"] != username {
		t.Fatalf("cognito:username %v, want %s", id["cognito:username"], username)
	}
	if id["email"] != "dora@upstream.example" || id["name"] != "Dora" || id["custom:team"] != "red" || id["nonce"] != "n-456" {
		t.Errorf("mapped claims: %v", id)
	}
	// The identities claim, exactly: strings for primary and dateCreated.
	wantIdentities := fmt.Sprintf(`[{"dateCreated":"%d","issuer":null,"primary":"true","providerName":"Upstream","providerType":"OIDC","userId":"%s"}]`,
		t0.UnixMilli(), f.upstreamSb)
	if got := string(mustJSON(t, id["identities"])); got != wantIdentities {
		t.Errorf("identities claim\n got %s\nwant %s", got, wantIdentities)
	}
	if got := mustJSON(t, id["cognito:groups"]); string(got) != `["`+f.app+`_Upstream"]` {
		t.Errorf("cognito:groups %s, want the provider's group", got)
	}
	if id["sub"] == f.upstreamSb || id["sub"] == "" {
		t.Errorf("sub %v: the app's user has its own sub", id["sub"])
	}
	access := claimsOf(t, out["access_token"].(string))
	if access["username"] != username || string(mustJSON(t, access["cognito:groups"])) != `["`+f.app+`_Upstream"]` {
		t.Errorf("access token %v", access)
	}

	// The user as the admin API shows it.
	u := mustCall(t, f.srv, "AdminGetUser", map[string]any{"UserPoolId": f.app, "Username": username})
	if u["UserStatus"] != "EXTERNAL_PROVIDER" {
		t.Errorf("UserStatus %v, want EXTERNAL_PROVIDER", u["UserStatus"])
	}
	attrs := map[string]string{}
	for _, a := range u["UserAttributes"].([]any) {
		a := a.(map[string]any)
		attrs[a["Name"].(string)] = a["Value"].(string)
	}
	if want := fmt.Sprintf(`[{"userId":"%s","providerName":"Upstream","providerType":"OIDC","issuer":null,"primary":true,"dateCreated":%d}]`, f.upstreamSb, t0.UnixMilli()); attrs["identities"] != want {
		t.Errorf("identities attribute\n got %s\nwant %s", attrs["identities"], want)
	}
	g := mustCall(t, f.srv, "AdminListGroupsForUser", map[string]any{"UserPoolId": f.app, "Username": username})
	if got := string(mustJSON(t, g["Groups"].([]any)[0].(map[string]any)["GroupName"])); got != `"`+f.app+`_Upstream"` {
		t.Errorf("groups: %s", got)
	}

	// PreSignUp ran once, for the new external user.
	var sources []any
	for _, ev := range f.lambda.events {
		sources = append(sources, ev["triggerSource"])
		if ev["triggerSource"] == "PreSignUp_ExternalProvider" && (ev["userName"] != username || obj(obj(ev["request"])["userAttributes"])["email"] != "dora@upstream.example") {
			t.Errorf("PreSignUp event %v", ev)
		}
	}
	if string(mustJSON(t, sources)) != `["PreSignUp_ExternalProvider"]` {
		t.Errorf("trigger sources %v", sources)
	}

	// The upstream changes the user; the next sign-in (the upstream's cookie
	// signs the browser in without a password) updates the mapped attributes of
	// the same user, and creates no other.
	mustCall(t, f.srv, "AdminUpdateUserAttributes", map[string]any{"UserPoolId": f.up, "Username": fedUser,
		"UserAttributes": []map[string]string{{"Name": "name", "Value": "Dora Explorer"}, {"Name": "custom:team", "Value": "blue"}}})
	f.clk.Advance(time.Minute)
	again := claimsOf(t, fedTokens(t, f, c, url.Values{"idp_identifier": {"upstream.example"}})["id_token"].(string))
	if again["name"] != "Dora Explorer" || again["custom:team"] != "blue" || again["sub"] != id["sub"] || again["cognito:username"] != username {
		t.Errorf("second sign-in: %v", again)
	}
	users := mustCall(t, f.srv, "ListUsers", map[string]any{"UserPoolId": f.app})["Users"].([]any)
	if len(users) != 2 {
		t.Errorf("%d users after two federated sign-ins, want the native one and one external", len(users))
	}
	if len(f.lambda.events) != 1 {
		t.Errorf("PreSignUp ran %d times, want once", len(f.lambda.events))
	}
}

func TestFederationRefusedProviders(t *testing.T) {
	f := newFedFixture(t)
	mustCall(t, f.srv, "CreateIdentityProvider", map[string]any{"UserPoolId": f.app, "ProviderName": "Other", "ProviderType": "OIDC",
		"ProviderDetails": map[string]string{"client_id": "x", "authorize_scopes": "openid", "oidc_issuer": "http://127.0.0.1:1"}})
	for _, tc := range []struct {
		name  string
		extra url.Values
	}{
		{"unknown provider", url.Values{"identity_provider": {"Nope"}}},
		{"provider the client does not support", url.Values{"identity_provider": {"Other"}}},
		{"unknown identifier", url.Values{"idp_identifier": {"nobody.example"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			loc := follow(t, browser(t), fedAuthorizeURL(f, tc.extra))
			if q := mustURL(t, loc).Query(); !strings.HasPrefix(loc, callback+"?") || q.Get("error") != "invalid_request" || !strings.Contains(q.Get("error_description"), "not configured") {
				t.Fatalf("redirected to %s", loc)
			}
		})
	}
	// A client may only name providers of its pool.
	_, ae := call(t, f.srv, "CreateUserPoolClient", map[string]any{"UserPoolId": f.up, "ClientName": "x", "SupportedIdentityProviders": []string{fedProvider}})
	wantErr(t, ae, "InvalidParameterException", "does not exist")
	// An answer for no sign-in of ours is refused on the error page.
	resp, _ := get(t, browser(t), f.srv.URL+"/oauth2/idpresponse?code=abc&state=forged")
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
		t.Fatalf("forged state: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// hostileIdP is an OIDC provider on loopback whose token endpoint answers what
// the test sets.
type hostileIdP struct {
	srv   *httptest.Server
	key   *rsa.PrivateKey
	mu    sync.Mutex
	token func(nonce string) (int, string)
	nonce string
}

func newHostileIdP(t *testing.T) *hostileIdP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	h := &hostileIdP{key: key}
	mux := http.NewServeMux()
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": h.srv.URL, "authorization_endpoint": h.srv.URL + "/authorize",
			"token_endpoint": h.srv.URL + "/token", "jwks_uri": h.srv.URL + "/jwks"})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
			"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()), "e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes())}}})
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		fn, nonce := h.token, h.nonce
		h.mu.Unlock()
		status, body := fn(nonce)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
	return h
}

// idToken signs claims with key (the provider's own unless another is given).
func (h *hostileIdP) idToken(t *testing.T, key *rsa.PrivateKey, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestFederationHostileProvider: whatever a provider answers that fails a check
// ends the sign-in at the app's redirect URI with an error, and no user is made.
func TestFederationHostileProvider(t *testing.T) {
	f := newFedFixture(t)
	h := newHostileIdP(t)
	mustCall(t, f.srv, "UpdateIdentityProvider", map[string]any{"UserPoolId": f.app, "ProviderName": fedProvider,
		"ProviderDetails": map[string]string{"client_id": "app-at-idp", "client_secret": "s3cret-at-idp", "authorize_scopes": "openid", "oidc_issuer": h.srv.URL}})
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := t0.Unix()
	good := func(n string) jwt.MapClaims {
		return jwt.MapClaims{"iss": h.srv.URL, "aud": "app-at-idp", "sub": "idp-user-1", "nonce": n, "exp": now + 300, "iat": now, "email": "x@idp.example"}
	}
	with := func(n string, k string, v any) jwt.MapClaims {
		c := good(n)
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	answer := func(tok string) string { return `{"id_token":"` + tok + `","access_token":"at","token_type":"Bearer"}` }
	for _, tc := range []struct {
		name        string
		token       func(nonce string) (int, string)
		code, descr string
	}{
		{"garbage", func(string) (int, string) { return 200, "<html>not json" }, "invalid_request", "Upstream Error - 200 answer is not a JSON object"},
		{"server error page", func(string) (int, string) { return 502, "<html>bad gateway" }, "invalid_request", "Upstream Error - 502"},
		{"OAuth error", func(string) (int, string) { return 400, `{"error":"invalid_grant","error_description":"code used"}` }, "invalid_grant", "Upstream Error - 400 invalid_grant"},
		{"no id_token", func(string) (int, string) { return 200, `{"access_token":"at"}` }, "invalid_request", "no id_token"},
		{"another audience", func(n string) (int, string) { return 200, answer(h.idToken(t, h.key, with(n, "aud", "someone-else"))) }, "invalid_request", "Bad id_token aud"},
		{"another issuer", func(n string) (int, string) {
			return 200, answer(h.idToken(t, h.key, with(n, "iss", "https://evil.example")))
		}, "invalid_request", "Bad id_token issuer https://evil.example"},
		{"wrong nonce", func(n string) (int, string) { return 200, answer(h.idToken(t, h.key, with(n, "nonce", "replayed"))) }, "invalid_request", "Bad id_token nonce"},
		{"expired", func(n string) (int, string) { return 200, answer(h.idToken(t, h.key, with(n, "exp", now-1))) }, "invalid_request", "id_token expired"},
		{"no exp", func(n string) (int, string) { return 200, answer(h.idToken(t, h.key, with(n, "exp", nil))) }, "invalid_request", "Invalid id_token"},
		{"signed by another key", func(n string) (int, string) { return 200, answer(h.idToken(t, other, good(n))) }, "invalid_request", "Invalid id_token signature"},
		{"alg none", func(n string) (int, string) {
			s, _ := jwt.NewWithClaims(jwt.SigningMethodNone, good(n)).SignedString(jwt.UnsafeAllowNoneSignatureType)
			return 200, answer(s)
		}, "invalid_request", "Invalid id_token signature"},
		{"no sub", func(n string) (int, string) { return 200, answer(h.idToken(t, h.key, with(n, "sub", nil))) }, "invalid_request", "no usable sub"},
		{"oversized answer", func(string) (int, string) { return 200, `{"id_token":"` + strings.Repeat("a", 2<<20) + `"}` }, "invalid_request", "answer over"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := browser(t)
			toIdP := follow(t, c, fedAuthorizeURL(f, nil))
			if !strings.HasPrefix(toIdP, h.srv.URL+"/authorize?") {
				t.Fatalf("sent to %s, want the provider's authorize URL", toIdP)
			}
			q := mustURL(t, toIdP).Query()
			h.mu.Lock()
			h.token, h.nonce = tc.token, q.Get("nonce")
			h.mu.Unlock()
			// The provider "signs the user in" and sends the browser back.
			landed := follow(t, c, q.Get("redirect_uri")+"?"+url.Values{"code": {"c0de"}, "state": {q.Get("state")}}.Encode())
			lq := mustURL(t, landed).Query()
			if !strings.HasPrefix(landed, callback+"?") || lq.Get("error") != tc.code || !strings.Contains(lq.Get("error_description"), tc.descr) || lq.Get("state") != "st-123" || lq.Get("code") != "" {
				t.Fatalf("landed on %s, want error=%s with %q", landed, tc.code, tc.descr)
			}
			if strings.Contains(landed, "s3cret") {
				t.Fatal("the provider's client secret reached the browser")
			}
		})
	}
	// The provider's own refusal at its authorize step is passed on.
	c := browser(t)
	q := mustURL(t, follow(t, c, fedAuthorizeURL(f, nil))).Query()
	landed := follow(t, c, q.Get("redirect_uri")+"?"+url.Values{"error": {"access_denied"}, "error_description": {"user said no"}, "state": {q.Get("state")}}.Encode())
	if lq := mustURL(t, landed).Query(); lq.Get("error") != "access_denied" || lq.Get("error_description") != "Upstream Error - access_denied" {
		t.Fatalf("landed on %s", landed)
	}
	// A client that no longer lists the redirect URI while the browser was at the
	// provider is not redirected to: the error page.
	q2 := mustURL(t, follow(t, c, fedAuthorizeURL(f, nil))).Query()
	mustCall(t, f.srv, "UpdateUserPoolClient", map[string]any{"UserPoolId": f.app, "ClientId": f.web, "ClientName": "web",
		"AllowedOAuthFlowsUserPoolClient": true, "AllowedOAuthFlows": []string{"code"}, "AllowedOAuthScopes": []string{"openid", "email", "profile"},
		"CallbackURLs": []string{"https://elsewhere.example/cb"}, "SupportedIdentityProviders": []string{"COGNITO", fedProvider}})
	resp, _ := get(t, c, q2.Get("redirect_uri")+"?"+url.Values{"error": {"access_denied"}, "state": {q2.Get("state")}}.Encode())
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
		t.Fatalf("failure after the callback was removed: %d to %q, want the error page", resp.StatusCode, resp.Header.Get("Location"))
	}
	mustCall(t, f.srv, "UpdateUserPoolClient", map[string]any{"UserPoolId": f.app, "ClientId": f.web, "ClientName": "web",
		"AllowedOAuthFlowsUserPoolClient": true, "AllowedOAuthFlows": []string{"code"}, "AllowedOAuthScopes": []string{"openid", "email", "profile"},
		"CallbackURLs": []string{callback}, "SupportedIdentityProviders": []string{"COGNITO", fedProvider}})
	// The state is single-use: the same answer again is no sign-in of ours.
	resp, _ = get(t, c, q.Get("redirect_uri")+"?"+url.Values{"code": {"c0de"}, "state": {q.Get("state")}}.Encode())
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("replayed state: %d", resp.StatusCode)
	}
	if users := mustCall(t, f.srv, "ListUsers", map[string]any{"UserPoolId": f.app})["Users"].([]any); len(users) != 1 {
		t.Fatalf("%d users after refused sign-ins, want only the native one", len(users))
	}

	// And a good answer from the same provider signs in, with the mapping.
	h.mu.Lock()
	h.token = func(n string) (int, string) { return 200, answer(h.idToken(t, h.key, good(n))) }
	h.mu.Unlock()
	q = mustURL(t, follow(t, c, fedAuthorizeURL(f, nil))).Query()
	h.mu.Lock()
	h.nonce = q.Get("nonce")
	h.mu.Unlock()
	landed = follow(t, c, q.Get("redirect_uri")+"?"+url.Values{"code": {"c0de"}, "state": {q.Get("state")}}.Encode())
	code, _ := codeFrom(t, landed)
	status, out := postToken(t, f.oauthFixture, "/oauth2/token", codeForm(code, callback, verifier), f.web, "")
	if status != http.StatusOK {
		t.Fatalf("token: %d %v", status, out)
	}
	if id := claimsOf(t, out["id_token"].(string)); id["cognito:username"] != "Upstream_idp-user-1" || id["email"] != "x@idp.example" {
		t.Fatalf("id token %v", id)
	}
}

// TestFederationPreSignUpRefuses: a PreSignUp that fails for the new external
// user ends the sign-in at the app with Cognito's trigger message, and the user
// is not kept.
func TestFederationPreSignUpRefuses(t *testing.T) {
	f := newFedFixture(t)
	f.lambda.mu.Lock()
	f.lambda.handlers[arnPreSignUp] = func(ev map[string]any) (map[string]any, error) {
		return nil, errors.New("no outsiders")
	}
	f.lambda.mu.Unlock()
	landed := fedSignIn(t, f, browser(t), fedAuthorizeURL(f, nil))
	q := mustURL(t, landed).Query()
	if !strings.HasPrefix(landed, callback+"?") || q.Get("error") != "invalid_request" || q.Get("code") != "" ||
		!strings.Contains(q.Get("error_description"), "PreSignUp failed with error no outsiders") {
		t.Fatalf("landed on %s", landed)
	}
	if users := mustCall(t, f.srv, "ListUsers", map[string]any{"UserPoolId": f.app})["Users"].([]any); len(users) != 1 {
		t.Fatalf("%d users after a refused PreSignUp, want only the native one", len(users))
	}
}

// TestFederationWithAnotherEmulator: the provider is a second emulator that
// issues Cognito's own issuer URL (not reachable, so nothing is discovered):
// the provider's endpoints are given in ProviderDetails, as Cognito accepts them
// when it cannot discover them, and only the iss check uses oidc_issuer.
func TestFederationWithAnotherEmulator(t *testing.T) {
	f := newFedFixture(t)
	other := emulator.NewServer(emulator.Options{Clock: f.clk, Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
		Name: "corp", Users: []emulator.SeedUser{{Username: fedUser, Password: fedPassword, Attributes: map[string]string{"email": "dora@corp.example"}}},
	}}}})
	t.Cleanup(other.Close)
	corp := other.PoolID("corp")
	cl := mustCall(t, other, "CreateUserPoolClient", map[string]any{
		"UserPoolId": corp, "ClientName": "federation", "GenerateSecret": true, "AllowedOAuthFlowsUserPoolClient": true,
		"AllowedOAuthFlows": []string{"code"}, "AllowedOAuthScopes": []string{"openid", "email"},
		"CallbackURLs": []string{f.srv.URL + "/oauth2/idpresponse"}, "SupportedIdentityProviders": []string{"COGNITO"},
	})["UserPoolClient"].(map[string]any)
	if !strings.HasPrefix(other.Issuer(corp), "https://cognito-idp.") {
		t.Fatalf("issuer %s", other.Issuer(corp))
	}
	mustCall(t, f.srv, "UpdateIdentityProvider", map[string]any{"UserPoolId": f.app, "ProviderName": fedProvider,
		"ProviderDetails": map[string]string{
			"client_id": cl["ClientId"].(string), "client_secret": cl["ClientSecret"].(string), "authorize_scopes": "openid email",
			"oidc_issuer": other.Issuer(corp), "authorize_url": other.URL + "/oauth2/authorize", "token_url": other.URL + "/oauth2/token",
			"attributes_url": other.URL + "/oauth2/userInfo", "jwks_uri": other.URL + "/" + corp + "/.well-known/jwks.json",
		}})
	c := browser(t)
	next := follow(t, c, fedAuthorizeURL(f, nil))
	if !strings.HasPrefix(next, other.URL+"/oauth2/authorize?") {
		t.Fatalf("sent to %s, want the other emulator's authorize URL", next)
	}
	login := follow(t, c, next)
	resp, page := get(t, c, login)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in page %s: %d", login, resp.StatusCode)
	}
	resp, _ = submitLogin(t, c, login, page, fedUser, fedPassword)
	landed := follow(t, c, resp.Request.URL.ResolveReference(mustURL(t, resp.Header.Get("Location"))).String())
	code, _ := codeFrom(t, landed)
	status, out := postToken(t, f.oauthFixture, "/oauth2/token", codeForm(code, callback, verifier), f.web, "")
	if status != http.StatusOK {
		t.Fatalf("token: %d %v", status, out)
	}
	id := claimsOf(t, out["id_token"].(string))
	if id["cognito:username"] != fedProvider+"_"+other.UserSub(corp, fedUser) || id["email"] != "dora@corp.example" {
		t.Fatalf("id token %v", id)
	}
}
