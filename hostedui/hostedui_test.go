package hostedui_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/hostedui"
	"github.com/cogauth/cogauth/internal/redact/redacttest"
	"github.com/cogauth/cogauth/jwt"
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

const (
	user     = "dana"
	password = "Hosted-UI-pass1"
)

// fixture is an emulator with a user and app clients set up for the hosted UI.
type fixture struct {
	srv  *emulator.Server
	clk  *clock.Fake
	pool string
	port int    // the loopback port the clients' callback URL names
	cb   string // that callback URL
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	clk := clock.NewFake(t0)
	srv := emulator.NewServer(emulator.Options{Clock: clk, SelfIssuer: true, Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
		Name: "hosted",
		Users: []emulator.SeedUser{{Username: user, Password: password, Attributes: map[string]string{
			"email": "dana@example.com", "email_verified": "true",
		}}},
	}}}})
	t.Cleanup(srv.Close)
	f := &fixture{srv: srv, clk: clk, pool: srv.PoolID("hosted"), port: freePort(t)}
	f.cb = fmt.Sprintf("http://127.0.0.1:%d/callback", f.port)
	return f
}

// client creates an app client through the API and returns its ID and secret.
func (f *fixture) client(t testing.TB, name string, secret bool, flows, scopes []string) (string, jwt.Secret) {
	t.Helper()
	in := map[string]any{
		"UserPoolId": f.pool, "ClientName": name, "GenerateSecret": secret,
		"AllowedOAuthFlowsUserPoolClient": true, "AllowedOAuthFlows": flows, "AllowedOAuthScopes": scopes,
		"CallbackURLs": []string{f.cb}, "SupportedIdentityProviders": []string{"COGNITO"},
		"ExplicitAuthFlows": []string{"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
	}
	body, _ := json.Marshal(in)
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService.CreateUserPoolClient")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		UserPoolClient struct{ ClientId, ClientSecret string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("CreateUserPoolClient: %d %v", resp.StatusCode, err)
	}
	return out.UserPoolClient.ClientId, jwt.Secret(out.UserPoolClient.ClientSecret)
}

func (f *fixture) hosted(t testing.TB, id string, secret jwt.Secret, scopes ...string) *hostedui.Client {
	t.Helper()
	c, err := hostedui.New(hostedui.Options{Domain: f.srv.URL, ClientID: id, ClientSecret: secret, Scopes: scopes, Clock: f.clk, RedirectURI: f.cb})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var hiddenRe = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// goBrowser follows an authorize URL the way a browser would, with cookies,
// filling in the sign-in page with user and pw; it returns the last page's body
// and URL. It stands in for Chromium in the tests that check protocol details.
func goBrowser(ctx context.Context, authURL, user, pw string) (string, *url.URL, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	resp, err := c.Do(req)
	if err != nil {
		return "", nil, err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	form := url.Values{"username": {user}, "password": {pw}}
	for _, m := range hiddenRe.FindAllStringSubmatch(string(page), -1) {
		form.Add(m[1], html.UnescapeString(m[2]))
	}
	action := *resp.Request.URL
	action.RawQuery = ""
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = c.Do(req)
	if err != nil {
		return "", nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body), resp.Request.URL, nil
}

func TestLoginRefreshUserInfoRevoke(t *testing.T) {
	f := newFixture(t)
	id, _ := f.client(t, "cli", false, []string{"code"}, []string{"openid", "email", "aws.cognito.signin.user.admin"})
	c := f.hosted(t, id, "", "openid", "email")
	ctx := context.Background()

	var page string
	tok, err := c.Login(ctx, hostedui.LoginOptions{
		ReceiverOptions: hostedui.ReceiverOptions{Port: f.port},
		Open: func(ctx context.Context, u string) error {
			var err error
			page, _, err = goBrowser(ctx, u, user, password)
			return err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page, "You may close this window") {
		t.Errorf("callback page %q does not tell the user to close it", page)
	}
	at, err := jwt.Decode(tok.AccessToken.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	if at.Claims().Scope != "openid email" || at.Claims().Username != user || tok.IDToken == "" || tok.RefreshToken == "" {
		t.Fatalf("tokens: scope %q user %q id %t refresh %t", at.Claims().Scope, at.Claims().Username, tok.IDToken != "", tok.RefreshToken != "")
	}
	if tok.ExpiresIn != time.Hour || !tok.Expiry.Equal(t0.Add(time.Hour)) || !tok.ServerTime.Equal(t0) {
		t.Errorf("expiry: in %v at %v server %v", tok.ExpiresIn, tok.Expiry, tok.ServerTime)
	}

	info, err := c.UserInfo(ctx, tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if info["email"] != "dana@example.com" || info["username"] != user {
		t.Errorf("userInfo %v", info)
	}

	f.clk.Advance(58 * time.Minute)
	r, err := c.Refresh(ctx, tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if r.RefreshToken != "" || r.IDToken == "" || r.AccessToken == tok.AccessToken || !r.Expiry.Equal(t0.Add(118*time.Minute)) {
		t.Fatalf("refresh: refresh %t id %t new access %t expiry %v", r.RefreshToken != "", r.IDToken != "", r.AccessToken != tok.AccessToken, r.Expiry)
	}

	if err := c.Revoke(ctx, tok.RefreshToken); err != nil {
		t.Fatal(err)
	}
	_, err = c.Refresh(ctx, tok.RefreshToken)
	if !errors.Is(err, hostedui.ErrInvalidGrant) || retryable(err) {
		t.Fatalf("refresh after revoke: %v", err)
	}
	_, err = c.UserInfo(ctx, r.AccessToken)
	var he *hostedui.Error
	if !errors.As(err, &he) || he.StatusCode != http.StatusUnauthorized || he.Code != "invalid_token" {
		t.Fatalf("userInfo after revoke: %v", err)
	}
}

func TestExchangeChecksState(t *testing.T) {
	f := newFixture(t)
	id, _ := f.client(t, "cli", false, []string{"code"}, []string{"openid", "email"})
	c := f.hosted(t, id, "")
	ctx := context.Background()
	req, err := c.AuthCodeURL(hostedui.AuthorizeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The callback arrives at a receiver on the registered port.
	rcv, err := hostedui.Listen(hostedui.ReceiverOptions{Port: f.port})
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()
	if _, _, err := goBrowser(ctx, req.URL, user, password); err != nil {
		t.Fatal(err)
	}
	q, err := rcv.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		state string
	}{
		{"another sign-in's state", "forged-state"},
		{"no state", ""},
		{"state with a suffix", req.State + "x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := url.Values{"code": {q.Get("code")}}
			if tc.state != "" {
				bad.Set("state", tc.state)
			}
			before := f.srv.Requests("oauth2/token")
			if _, err := c.Exchange(ctx, req, bad); !errors.Is(err, hostedui.ErrStateMismatch) {
				t.Fatalf("got %v, want ErrStateMismatch", err)
			}
			if n := f.srv.Requests("oauth2/token"); n != before {
				t.Fatalf("the code was sent to the token endpoint despite the wrong state")
			}
		})
	}
	// An error callback with the right state is reported as the server's error.
	_, err = c.Exchange(ctx, req, url.Values{"state": {req.State}, "error": {"access_denied"}})
	var he *hostedui.Error
	if !errors.As(err, &he) || he.Code != "access_denied" || he.Endpoint != "authorize" {
		t.Fatalf("error callback: %v", err)
	}
	// The genuine callback still works, once.
	if _, err := c.Exchange(ctx, req, q); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exchange(ctx, req, q); !errors.Is(err, hostedui.ErrInvalidGrant) {
		t.Fatalf("second exchange of one code: %v", err)
	}
}

func TestConfidentialClient(t *testing.T) {
	f := newFixture(t)
	id, secret := f.client(t, "web", true, []string{"code"}, []string{"openid"})
	ctx := context.Background()
	login := func(c *hostedui.Client) error {
		_, err := c.Login(ctx, hostedui.LoginOptions{
			ReceiverOptions: hostedui.ReceiverOptions{Port: f.port},
			Open: func(ctx context.Context, u string) error {
				_, _, err := goBrowser(ctx, u, user, password)
				return err
			},
		})
		return err
	}
	if err := login(f.hosted(t, id, secret)); err != nil {
		t.Fatalf("with the secret: %v", err)
	}
	err := login(f.hosted(t, id, "not-the-secret"))
	if !errors.Is(err, hostedui.ErrInvalidClient) {
		t.Fatalf("with a wrong secret: %v", err)
	}
	if strings.Contains(err.Error(), "not-the-secret") || strings.Contains(err.Error(), secret.Reveal()) {
		t.Fatalf("the error quotes a secret: %v", err)
	}
}

func TestExchangeChecksNonceAndAudience(t *testing.T) {
	// A token endpoint that answers with an id token of its own choosing.
	var idToken atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":%q,"id_token":%q,"token_type":"Bearer","expires_in":3600}`, fakeJWT(map[string]any{"token_use": "access", "exp": t0.Add(time.Hour).Unix(), "iat": t0.Unix()}), idToken.Load().(string))
	}))
	defer srv.Close()
	c, err := hostedui.New(hostedui.Options{Domain: srv.URL, ClientID: "client-1", RedirectURI: "http://127.0.0.1:1/callback"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		claims func(nonce string) map[string]any
		want   error
	}{
		{"right nonce", func(n string) map[string]any { return map[string]any{"token_use": "id", "aud": "client-1", "nonce": n} }, nil},
		{"wrong nonce", func(string) map[string]any {
			return map[string]any{"token_use": "id", "aud": "client-1", "nonce": "other"}
		}, hostedui.ErrNonceMismatch},
		{"no nonce", func(string) map[string]any { return map[string]any{"token_use": "id", "aud": "client-1"} }, hostedui.ErrNonceMismatch},
		{"another audience", func(n string) map[string]any { return map[string]any{"token_use": "id", "aud": "client-2", "nonce": n} }, errAny},
		{"an access token as id token", func(n string) map[string]any {
			return map[string]any{"token_use": "access", "aud": "client-1", "nonce": n}
		}, errAny},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := c.AuthCodeURL(hostedui.AuthorizeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			idToken.Store(fakeJWT(tc.claims(req.Nonce)))
			_, err = c.Exchange(context.Background(), req, url.Values{"state": {req.State}, "code": {"c"}})
			switch {
			case tc.want == nil && err != nil, tc.want == errAny && err == nil, tc.want != nil && tc.want != errAny && !errors.Is(err, tc.want):
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

var errAny = errors.New("any error")

func fakeJWT(claims map[string]any) string {
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": "k"})
	p, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding.EncodeToString
	return enc(h) + "." + enc(p) + "." + enc([]byte("signature"))
}

func TestAuthCodeURL(t *testing.T) {
	c, err := hostedui.New(hostedui.Options{Domain: "https://app.auth.us-east-1.amazoncognito.com/", ClientID: "cid", RedirectURI: "http://localhost:8080/cb", Scopes: []string{"openid", "email"}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := c.AuthCodeURL(hostedui.AuthorizeOptions{IdentityProvider: "Google"})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(a.URL)
	q := u.Query()
	if u.Scheme+"://"+u.Host+u.Path != "https://app.auth.us-east-1.amazoncognito.com/oauth2/authorize" {
		t.Errorf("endpoint %s", a.URL)
	}
	want := map[string]string{"response_type": "code", "client_id": "cid", "redirect_uri": "http://localhost:8080/cb", "scope": "openid email",
		"identity_provider": "Google", "code_challenge_method": "S256", "state": a.State, "nonce": a.Nonce}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if len(q.Get("code_challenge")) != 43 || len(a.State) < 32 || len(a.Nonce) < 32 {
		t.Errorf("challenge %q state %q nonce %q", q.Get("code_challenge"), a.State, a.Nonce)
	}
	b, _ := c.AuthCodeURL(hostedui.AuthorizeOptions{})
	if b.State == a.State || b.Nonce == a.Nonce || b.URL == a.URL {
		t.Error("two sign-ins share state or nonce")
	}
	// The verifier is boxed: no rendering shows it (nor does the URL).
	redacttest.NoSecrets(t, "AuthRequest", a, a.Verifier().Reveal())
	if a.Verifier() == "" || strings.Contains(a.URL, a.Verifier().Reveal()) {
		t.Errorf("AuthRequest verifier %v, URL %s", a.Verifier(), a.URL)
	}

	for _, bad := range []hostedui.Options{
		{ClientID: "c"},
		{Domain: "https://x", ClientID: ""},
		{Domain: "ftp://x", ClientID: "c"},
		{Domain: "http://auth.example.com", ClientID: "c"}, // clear text off loopback
	} {
		if _, err := hostedui.New(bad); err == nil {
			t.Errorf("New(%+v) accepted", bad)
		}
	}
}

func TestTokensPrintRedacted(t *testing.T) {
	tok := hostedui.Tokens{AccessToken: "eyJaccess.S3CR3T.x", IDToken: "eyJid.S3CR3T.y", RefreshToken: "refresh-S3CR3T", TokenType: "Bearer"}
	for _, s := range []string{fmt.Sprintf("%v", tok), fmt.Sprintf("%+v", tok), fmt.Sprintf("%#v", tok), fmt.Sprint(&tok)} {
		if strings.Contains(s, "S3CR3T") {
			t.Errorf("tokens print a secret: %s", s)
		}
	}
}

func TestReceiver(t *testing.T) {
	rcv, err := hostedui.Listen(hostedui.ReceiverOptions{Host: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()
	if !strings.HasPrefix(rcv.RedirectURI, "http://localhost:") || !strings.HasSuffix(rcv.RedirectURI, "/callback") {
		t.Fatalf("redirect URI %s", rcv.RedirectURI)
	}
	base := strings.Replace(strings.TrimSuffix(rcv.RedirectURI, "/callback"), "localhost", "127.0.0.1", 1)
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/favicon.ico", http.StatusNotFound},
		{"/callback", http.StatusBadRequest},
		{"/callback?code=first&state=s1", http.StatusOK},
		{"/callback?code=second&state=s2", http.StatusOK}, // a reload: shown the page, ignored
	} {
		resp, err := http.Get(base + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Fatalf("%s: %d, want %d", tc.path, resp.StatusCode, tc.status)
		}
		if tc.status == http.StatusOK && !strings.Contains(string(body), "You may close this window") {
			t.Fatalf("%s: page %q", tc.path, body)
		}
	}
	q, err := rcv.Wait(context.Background())
	if err != nil || q.Get("code") != "first" {
		t.Fatalf("Wait: %v %v", q, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := rcv.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait after the one callback with a cancelled context: %v", err)
	}
	if _, err := hostedui.Listen(hostedui.ReceiverOptions{Host: "example.com"}); err == nil {
		t.Fatal("a non-loopback redirect host was accepted")
	}
}

// flaky wraps the emulator and fails token requests on demand, as an outage would.
type flaky struct {
	h    http.Handler
	down atomic.Bool
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.down.Load() && r.URL.Path == "/oauth2/token" {
		http.Error(w, `{"error":"server_error"}`, http.StatusServiceUnavailable)
		return
	}
	f.h.ServeHTTP(w, r)
}

func TestClientCredentialsSource(t *testing.T) {
	f := newFixture(t)
	id, secret := f.client(t, "m2m", true, []string{"client_credentials"}, []string{"reports/read", "reports/write"})
	fl := &flaky{h: f.srv}
	front := httptest.NewServer(fl)
	defer front.Close()
	c, err := hostedui.New(hostedui.Options{Domain: front.URL, ClientID: id, ClientSecret: secret, Clock: f.clk})
	if err != nil {
		t.Fatal(err)
	}
	src := c.ClientCredentialsSource(hostedui.CredentialsOptions{Scopes: []string{"reports/read"}})
	ctx := context.Background()
	requests := func() int { return f.srv.Requests("oauth2/token") }

	// Concurrent first callers share one fetch.
	var wg sync.WaitGroup
	toks := make([]string, 16)
	for i := range toks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			toks[i], _ = src.Token(ctx, false)
		}()
	}
	wg.Wait()
	if requests() != 1 {
		t.Fatalf("%d token requests for 16 concurrent callers, want 1", requests())
	}
	first := toks[0]
	at, err := jwt.Decode(first)
	if err != nil {
		t.Fatal(err)
	}
	if at.Claims().Scope != "reports/read" || at.Claims().Sub != id || at.Claims().Username != "" {
		t.Fatalf("claims: scope %q sub %q username %q", at.Claims().Scope, at.Claims().Sub, at.Claims().Username)
	}
	for _, tk := range toks {
		if tk != first {
			t.Fatal("callers got different tokens")
		}
	}

	// Fresh: no request. Within five minutes of expiry: a new token, before the old dies.
	f.clk.Advance(54 * time.Minute)
	if tk, _ := src.Token(ctx, false); tk != first || requests() != 1 {
		t.Fatalf("fresh token re-fetched (requests %d)", requests())
	}
	f.clk.Advance(2 * time.Minute) // 56 minutes: inside the window
	second, err := src.Token(ctx, false)
	if err != nil || second == first || requests() != 2 {
		t.Fatalf("in the refresh window: err %v new %t requests %d", err, second != first, requests())
	}

	// An outage within the window keeps the valid token and does not hammer the
	// server; once the token is dead the error is reported as retryable.
	f.clk.Advance(56 * time.Minute)
	fl.down.Store(true)
	if tk, err := src.Token(ctx, false); err != nil || tk != second {
		t.Fatalf("during an outage with a valid token: %v", err)
	}
	if tk, err := src.Token(ctx, false); err != nil || tk != second || requests() != 2 {
		t.Fatalf("retried at once during an outage (err %v)", err)
	}
	f.clk.Advance(5 * time.Minute)
	_, err = src.Token(ctx, false)
	if !retryable(err) {
		t.Fatalf("after expiry during an outage: %v, want a retryable error", err)
	}
	fl.down.Store(false)
	if _, err := src.Token(ctx, false); err != nil {
		t.Fatalf("after the outage: %v", err)
	}

	// oauth2.TokenSource and force.
	ot, err := src.TokenSource().Token()
	if err != nil || ot.AccessToken == "" || ot.TokenType != "Bearer" {
		t.Fatalf("oauth2 token: %v", err)
	}
	n := requests()
	if _, err := src.Fetch(ctx, true); err != nil || requests() != n+1 {
		t.Fatalf("forced fetch: %v (requests %d -> %d)", err, n, requests())
	}

	// A client without its secret cannot use the grant.
	pub, err := hostedui.New(hostedui.Options{Domain: front.URL, ClientID: id})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pub.ClientCredentials(ctx); err == nil {
		t.Fatal("client_credentials without a secret")
	}
}

// m2mClient creates a client_credentials client on the emulator for the examples.
func m2mClient(srv *emulator.Server, pool string) (string, jwt.Secret) {
	f := &fixture{srv: srv, pool: pool, cb: "http://127.0.0.1:1/callback"}
	return f.client(panicTB{}, "m2m", true, []string{"client_credentials"}, []string{"inventory/read", "inventory/write"})
}

// panicTB lets the examples use the test helpers: any failure panics.
type panicTB struct{ testing.TB }

func (panicTB) Helper()                        {}
func (panicTB) Fatal(args ...any)              { panic(fmt.Sprint(args...)) }
func (panicTB) Fatalf(format string, a ...any) { panic(fmt.Sprintf(format, a...)) }

// TestTokenEndpointErrors: how each answer of the token endpoint is classified,
// which is what a session's failure policy rests on: only invalid_grant refuses
// the refresh token; network failures, 5xx, 429, answers cut short and answers
// that are not OAuth's (an HTML page, a 200 without tokens) are worth retrying;
// other OAuth errors (a misconfigured client) are neither.
func TestTokenEndpointErrors(t *testing.T) {
	tests := []struct {
		name      string
		serve     func(w http.ResponseWriter)
		sentinel  error
		retryable bool
	}{
		{name: "invalid_grant", serve: func(w http.ResponseWriter) {
			w.WriteHeader(400)
			_, _ = io.WriteString(w, `{"error":"invalid_grant"}`)
		}, sentinel: hostedui.ErrInvalidGrant},
		{name: "invalid_client", serve: func(w http.ResponseWriter) {
			w.WriteHeader(401)
			_, _ = io.WriteString(w, `{"error":"invalid_client"}`)
		}, sentinel: hostedui.ErrInvalidClient},
		{name: "503", serve: func(w http.ResponseWriter) { w.WriteHeader(503) }, retryable: true},
		{name: "429", serve: func(w http.ResponseWriter) { w.WriteHeader(429) }, retryable: true},
		{name: "connection dropped", serve: func(w http.ResponseWriter) {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		}, retryable: true},
		{name: "body cut short", serve: func(w http.ResponseWriter) {
			conn, buf, _ := w.(http.Hijacker).Hijack()
			_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"access_token\":\"eyJ")
			_ = buf.Flush()
			conn.Close()
		}, retryable: true},
		{name: "200 without a token", serve: func(w http.ResponseWriter) { _, _ = io.WriteString(w, `{"token_type":"Bearer"}`) }, retryable: true},
		{name: "HTML 400", serve: func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(400)
			_, _ = io.WriteString(w, "<html>Bad Request</html>")
		}, retryable: true},
		{name: "HTML 404", serve: func(w http.ResponseWriter) { w.WriteHeader(404) }, retryable: true},
		{name: "invalid_request", serve: func(w http.ResponseWriter) {
			w.WriteHeader(400)
			_, _ = io.WriteString(w, `{"error":"invalid_request"}`)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tt.serve(w) }))
			defer srv.Close()
			c, err := hostedui.New(hostedui.Options{Domain: srv.URL, ClientID: "client"})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Refresh(context.Background(), "refresh-token-value")
			var he *hostedui.Error
			if !errors.As(err, &he) || he.Endpoint != "token" {
				t.Fatalf("err = %v, want a token endpoint *Error", err)
			}
			if retryable(err) != tt.retryable {
				t.Errorf("IsRetryable(%v) = %t, want %t", err, !tt.retryable, tt.retryable)
			}
			if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
				t.Errorf("err = %v, want %v", err, tt.sentinel)
			}
			if strings.Contains(err.Error(), "refresh-token-value") {
				t.Error("the error quotes the refresh token")
			}
		})
	}
}
