package session_test

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/hostedui"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/session"
	"github.com/cogauth/cogauth/store"
)

const hostedPassword = "Hosted-UI-pass1"

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// hostedLogin signs user in at the emulator's hosted UI the way a browser would
// (cookies, the sign-in form), stops at the redirect to the app, and redeems the
// code: the tokens `cogauth login --hosted-ui` would import.
func hostedLogin(t *testing.T, hc *hostedui.Client, user, pw string) *hostedui.Tokens {
	t.Helper()
	ctx := context.Background()
	req, err := hc.AuthCodeURL(hostedui.AuthorizeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(r.URL.String(), req.RedirectURI) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := browser.Get(req.URL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	form := url.Values{"username": {user}, "password": {pw}}
	for _, m := range hiddenInput.FindAllStringSubmatch(string(page), -1) {
		form.Add(m[1], html.UnescapeString(m[2]))
	}
	action := *resp.Request.URL
	action.RawQuery = ""
	resp, err = browser.PostForm(action.String(), form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("sign-in page answered %d without a redirect", resp.StatusCode)
	}
	tok, err := hc.Exchange(ctx, req, loc.Query())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// hostedEnv is an emulator whose app client rotates refresh tokens, with a
// hosted UI client and a user pool client for it.
type hostedEnv struct {
	srv *emulator.Server
	hc  *hostedui.Client
	cc  *cognito.Client
	st  store.Store
}

func newHostedEnv(t *testing.T) *hostedEnv {
	t.Helper()
	srv := emulator.NewServer(emulator.Options{
		Clock: clock.NewFake(t0),
		Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
			Name:    "app",
			Clients: []emulator.SeedClient{{Name: "web", RefreshTokenRotation: true}},
			Users:   []emulator.SeedUser{{Username: "dana", Password: hostedPassword}},
		}}},
	})
	t.Cleanup(srv.Close)
	id := srv.AppClient("app", "web").ID
	hc, err := hostedui.New(hostedui.Options{
		Domain: srv.URL, ClientID: id, RedirectURI: "http://127.0.0.1:9/callback",
		Scopes: []string{"openid", "email", "profile"}, Clock: srv.Clock(),
	})
	if err != nil {
		t.Fatal(err)
	}
	cc, err := cognito.New(cognito.Options{UserPoolID: srv.PoolID("app"), ClientID: id, Endpoint: srv.URL, Clock: srv.Clock()})
	if err != nil {
		t.Fatal(err)
	}
	return &hostedEnv{srv: srv, hc: hc, cc: cc, st: store.NewMemory()}
}

func (e *hostedEnv) manager(t *testing.T, withHostedUI bool) *session.Manager {
	t.Helper()
	cfg := session.Config{Cognito: e.cc, Store: e.st, Clock: e.srv.Clock(), Logger: quietLogger()}
	if withHostedUI {
		cfg.HostedUI = hostedui.NewRefresher(e.hc)
	}
	m, err := session.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func (e *hostedEnv) importTokens(t *testing.T, m *session.Manager, tok *hostedui.Tokens, src session.Source) *session.Session {
	t.Helper()
	s, err := m.Import(context.Background(), session.ImportInput{
		AccessToken: tok.AccessToken, IDToken: tok.IDToken, RefreshToken: tok.RefreshToken, Source: src,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestHostedUISessionRefresh: each session is refreshed the way it was obtained,
// by one Manager: hosted UI sessions at /oauth2/token (keeping their OAuth scopes
// and the rotated refresh token), others through the user pool API; and hosted UI
// sessions still refresh through the API where no hosted UI refresher is set.
func TestHostedUISessionRefresh(t *testing.T) {
	tests := []struct {
		name     string
		hostedUI bool // Config.HostedUI set
		source   session.Source
		wantOp   string
	}{
		{"hosted UI session at the token endpoint", true, session.SourceHostedUI, "oauth2/token"},
		{"user pool session through the API", true, "", "GetTokensFromRefreshToken"},
		{"hosted UI session without a refresher", false, session.SourceHostedUI, "GetTokensFromRefreshToken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newHostedEnv(t)
			m := env.manager(t, tt.hostedUI)
			tok := hostedLogin(t, env.hc, "dana", hostedPassword)
			s0 := env.importTokens(t, m, tok, tt.source)
			if s0.Source != tt.source && !(tt.source == "" && s0.Source == session.SourceUserPool) {
				t.Fatalf("Source = %q, want %q", s0.Source, tt.source)
			}
			env.srv.ResetCounters()
			env.srv.Advance(56 * time.Minute)
			s1, err := m.Fetch(context.Background(), session.FetchOptions{})
			if err != nil {
				t.Fatal(err)
			}
			counts := env.srv.RequestCounts()
			delete(counts, "")
			if len(counts) != 1 || counts[tt.wantOp] != 1 {
				t.Fatalf("requests %v, want one %s", counts, tt.wantOp)
			}
			if s1.Tokens.Access.Raw() == s0.Tokens.Access.Raw() || s1.Tokens.Refresh == s0.Tokens.Refresh || s1.Source != s0.Source {
				t.Fatal("no new tokens, rotated refresh token or source kept")
			}
			if tt.wantOp == "oauth2/token" && s1.Tokens.Access.Claims().Scope != "openid email profile" {
				t.Errorf("scope after refresh %q, want the sign-in's OAuth scopes", s1.Tokens.Access.Claims().Scope)
			}
			// The rotated token was stored: another Manager refreshes with it.
			if _, err := env.manager(t, tt.hostedUI).Fetch(context.Background(), session.FetchOptions{ForceRefresh: true}); err != nil {
				t.Fatalf("refresh with the stored rotated token: %v", err)
			}
			if n := env.srv.Requests(tt.wantOp); n != 2 {
				t.Fatalf("%d %s, want 2", n, tt.wantOp)
			}
		})
	}
}

// TestHostedUIRevokedRefreshTokenEndsSession: /oauth2/token refuses a revoked
// refresh token with invalid_grant, which ends the session as the user pool
// API's NotAuthorizedException does. The endpoint does not say why it refused, so
// the reason is "refresh token refused".
func TestHostedUIRevokedRefreshTokenEndsSession(t *testing.T) {
	env := newHostedEnv(t)
	m := env.manager(t, true)
	tok := hostedLogin(t, env.hc, "dana", hostedPassword)
	env.importTokens(t, m, tok, session.SourceHostedUI)
	events := make(chan session.Event, 4)
	defer m.Subscribe(func(e session.Event) { events <- e })()
	if err := env.hc.Revoke(context.Background(), tok.RefreshToken); err != nil {
		t.Fatal(err)
	}
	env.srv.ResetCounters()
	_, err := m.Fetch(context.Background(), session.FetchOptions{ForceRefresh: true})
	var so *session.SignedOutError
	if !errors.As(err, &so) || so.Reason != session.ReasonNotAuthorized ||
		!errors.Is(err, session.ErrRefreshRejected) || !errors.Is(err, hostedui.ErrInvalidGrant) || errors.Is(err, cognito.ErrNotAuthorized) {
		t.Fatalf("err = %v, want signed out (refresh token refused) matching ErrRefreshRejected and invalid_grant, not an imitated NotAuthorized", err)
	}
	if strings.Contains(err.Error(), tok.RefreshToken.Reveal()) {
		t.Fatal("the error quotes the refresh token")
	}
	if n, api := env.srv.Requests("oauth2/token"), env.srv.Requests("GetTokensFromRefreshToken"); n != 1 || api != 0 {
		t.Fatalf("oauth2/token %d, GetTokensFromRefreshToken %d; want 1, 0", n, api)
	}
	if e := <-events; e.Kind != session.SignedOut || e.Reason != session.ReasonNotAuthorized {
		t.Fatalf("event %+v", e)
	}
	if _, err := env.st.Get(context.Background(), session.SessionKey(env.srv.PoolID("app"), env.hc.ClientID(), "dana")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ended session still stored: %v", err)
	}
}

// TestHostedUIFailurePolicy: the token endpoint's answers map onto the failure
// policy. invalid_grant ends the session (with the reason its description gives,
// if any); network failures, 5xx and 429 are retried and never end it; other
// OAuth errors (a client misconfigured) keep the session and are not retried.
func TestHostedUIFailurePolicy(t *testing.T) {
	oauthErr := func(code, desc string) string {
		b, _ := json.Marshal(map[string]string{"error": code, "error_description": desc})
		return string(b)
	}
	tests := []struct {
		name       string
		status     int
		body       string
		drop       bool
		definitive bool
		reason     session.Reason
		retryable  bool
		calls      int64
	}{
		{name: "invalid_grant", status: 400, body: `{"error":"invalid_grant"}`, definitive: true, reason: session.ReasonNotAuthorized, calls: 1},
		{name: "invalid_grant revoked", status: 400, body: oauthErr("invalid_grant", "Refresh Token has been revoked"), definitive: true, reason: session.ReasonRevoked, calls: 1},
		{name: "invalid_grant expired", status: 400, body: oauthErr("invalid_grant", "Refresh Token has expired"), definitive: true, reason: session.ReasonExpired, calls: 1},
		{name: "connection dropped", drop: true, retryable: true, calls: 2},
		{name: "503", status: 503, body: "<html>unavailable</html>", retryable: true, calls: 2},
		{name: "429", status: 429, body: `{"error":"slow_down"}`, retryable: true, calls: 2},
		{name: "invalid_client", status: 401, body: `{"error":"invalid_client"}`, calls: 1},
		// Not the service's verdict (a proxy's answer): transient, retried.
		{name: "200 without tokens", status: 200, body: `{"token_type":"Bearer"}`, retryable: true, calls: 2},
		{name: "HTML 404", status: 404, body: "<html>not found</html>", retryable: true, calls: 2},
	}
	for _, tt := range tests {
		for _, stillValid := range []bool{true, false} {
			name := tt.name + "/tokens expired"
			if stillValid {
				name = tt.name + "/tokens still valid"
			}
			t.Run(name, func(t *testing.T) {
				f := newFixture(t, nil)
				var calls atomic.Int64
				tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					calls.Add(1)
					if tt.drop {
						conn, _, _ := w.(http.Hijacker).Hijack()
						conn.Close()
						return
					}
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(tt.status)
					_, _ = io.WriteString(w, tt.body)
				}))
				defer tokenSrv.Close()
				hc, err := hostedui.New(hostedui.Options{Domain: tokenSrv.URL, ClientID: testClient, Clock: f.clock})
				if err != nil {
					t.Fatal(err)
				}
				m := f.manager(t, f.idp.client(t), func(cfg *session.Config) { cfg.HostedUI = hostedui.NewRefresher(hc) })
				tok := f.idp.issue("alice", true, time.Time{})
				if _, err := m.Import(context.Background(), session.ImportInput{
					AccessToken: jwt.Secret(tok["AccessToken"].(string)), IDToken: jwt.Secret(tok["IdToken"].(string)),
					RefreshToken: jwt.Secret(tok["RefreshToken"].(string)), Source: session.SourceHostedUI,
				}); err != nil {
					t.Fatal(err)
				}
				events := make(chan session.Event, 16)
				defer m.Subscribe(func(e session.Event) { events <- e })()
				if stillValid {
					f.clock.Advance(57 * time.Minute)
				} else {
					f.clock.Advance(61 * time.Minute)
				}
				s, err := m.Fetch(context.Background(), session.FetchOptions{})
				if got := calls.Load(); got != tt.calls {
					t.Errorf("token endpoint requests = %d, want %d", got, tt.calls)
				}
				if n := f.idp.refreshCalls(); n != 0 {
					t.Errorf("%d refreshes through the user pool API", n)
				}
				var ev session.Event
				select {
				case ev = <-events:
				case <-time.After(10 * time.Second):
					t.Fatalf("no event after Fetch = %v", err)
				}
				_, storeErr := f.store.Get(context.Background(), session.SessionKey(testPool, testClient, "alice"))
				if tt.definitive {
					var so *session.SignedOutError
					if !errors.As(err, &so) || so.Reason != tt.reason || !errors.Is(err, hostedui.ErrInvalidGrant) {
						t.Fatalf("Fetch err = %v, want signed out (%v)", err, tt.reason)
					}
					if ev.Kind != session.SignedOut || ev.Reason != tt.reason {
						t.Errorf("event = %+v, want signed-out %v", ev, tt.reason)
					}
					if !errors.Is(storeErr, store.ErrNotFound) {
						t.Errorf("ended session still stored (%v)", storeErr)
					}
					return
				}
				if storeErr != nil {
					t.Errorf("a failure that is not definitive touched the stored session: %v", storeErr)
				}
				if ev.Kind != session.RefreshFailed || ev.Retryable != tt.retryable {
					t.Errorf("event = %+v, want refresh-failed, retryable %t", ev, tt.retryable)
				}
				if stillValid {
					if err != nil || s == nil {
						t.Fatalf("Fetch = %v, want the still-valid session", err)
					}
					return
				}
				if err == nil || errors.Is(err, session.ErrSignedOut) || retryable(err) != tt.retryable {
					t.Fatalf("Fetch err = %v, want an error (retryable %t) that is not a sign-out", err, tt.retryable)
				}
			})
		}
	}
}

// TestHostedUIRefresherOfAnotherClientRefused: a hosted UI client of another app
// client would have every refresh refused (invalid_grant), ending sessions; New
// refuses the configuration instead.
func TestHostedUIRefresherOfAnotherClientRefused(t *testing.T) {
	f := newFixture(t, nil)
	for _, id := range []string{"another-client", testClient} {
		hc, err := hostedui.New(hostedui.Options{Domain: "https://example.auth.us-east-1.amazoncognito.com", ClientID: id})
		if err != nil {
			t.Fatal(err)
		}
		_, err = session.New(session.Config{Cognito: f.idp.client(t), HostedUI: hostedui.NewRefresher(hc)})
		if (err != nil) != (id != testClient) {
			t.Fatalf("New with the hosted UI client of %s: %v", id, err)
		}
	}
}
