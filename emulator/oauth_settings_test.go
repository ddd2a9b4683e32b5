package emulator_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cogauth/cogauth/emulator"
)

// seededOAuthFixture is an emulator whose OAuth clients come from the seed alone,
// with the user of newOAuthFixture, so the hosted UI helpers work on it.
func seededOAuthFixture(t *testing.T, clients ...emulator.SeedClient) *oauthFixture {
	t.Helper()
	srv := emulator.NewServer(emulator.Options{Clock: newFake(), Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
		Name:    "hosted",
		Clients: clients,
		Users:   []emulator.SeedUser{{Username: oauthUser, Password: oauthPassword, Attributes: map[string]string{"email": "carol@example.com"}}},
	}}}})
	t.Cleanup(srv.Close)
	return &oauthFixture{srv: srv, pool: srv.PoolID("hosted")}
}

func TestSeedClientOAuthSettingsAreHonoured(t *testing.T) {
	off := false
	f := seededOAuthFixture(t,
		emulator.SeedClient{
			Name: "spa", AllowedOAuthFlows: []string{"code"}, AllowedOAuthScopes: []string{"openid", "email"},
			CallbackURLs: []string{callback}, LogoutURLs: []string{"https://app.example.com/bye"},
		},
		emulator.SeedClient{
			Name: "m2m", GenerateSecret: true, AllowedOAuthFlows: []string{"client_credentials"},
			AllowedOAuthScopes: []string{"orders/read"},
		},
		emulator.SeedClient{
			Name: "disabled", AllowedOAuthFlows: []string{"code"}, AllowedOAuthFlowsUserPoolClient: &off,
			AllowedOAuthScopes: []string{"openid"}, CallbackURLs: []string{callback},
		},
		emulator.SeedClient{
			Name: "federated-only", AllowedOAuthFlows: []string{"code"}, AllowedOAuthScopes: []string{"openid"},
			CallbackURLs: []string{callback}, SupportedIdentityProviders: []string{},
		},
	)
	spa := f.srv.AppClient("hosted", "spa").ID

	t.Run("listed callback signs in with the allowed scopes", func(t *testing.T) {
		code, _ := signInCode(t, f, browser(t), authorizeURL(f, spa, nil))
		status, out := postToken(t, f, "/oauth2/token", codeForm(code, callback, verifier), spa, "")
		if status != http.StatusOK {
			t.Fatalf("token: %d %v", status, out)
		}
		if got := claimsOf(t, out["access_token"].(string))["scope"]; got != "openid email" {
			t.Fatalf("scope %v, want the requested allowed scopes", got)
		}
	})
	for _, tc := range []struct {
		name     string
		client   string
		extra    url.Values
		page     bool   // refused on the error page (unverifiable redirect URI)
		redirect string // else error= in the redirect
	}{
		// Another loopback URL: an unconfigured client would take it, this one not.
		{"unlisted loopback callback", spa, url.Values{"redirect_uri": {"http://127.0.0.1:9/callback"}}, true, ""},
		{"scope outside AllowedOAuthScopes", spa, url.Values{"scope": {"openid profile"}}, false, "invalid_scope"},
		{"implicit flow not allowed", spa, url.Values{"response_type": {"token"}}, false, "unauthorized_client"},
		{"AllowedOAuthFlowsUserPoolClient false", f.srv.AppClient("hosted", "disabled").ID, nil, false, "unauthorized_client"},
		{"no COGNITO provider", f.srv.AppClient("hosted", "federated-only").ID, nil, false, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := get(t, browser(t), authorizeURL(f, tc.client, tc.extra))
			if tc.page {
				if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
					t.Fatalf("status %d location %q, want the error page", resp.StatusCode, resp.Header.Get("Location"))
				}
				return
			}
			if resp.StatusCode != http.StatusFound {
				t.Fatalf("status %d, want a redirect", resp.StatusCode)
			}
			if got := mustURL(t, resp.Header.Get("Location")).Query().Get("error"); got != tc.redirect {
				t.Fatalf("error=%q, want %q", got, tc.redirect)
			}
		})
	}
	t.Run("LogoutURLs", func(t *testing.T) {
		for _, tc := range []struct {
			uri  string
			want int
		}{
			{"https://app.example.com/bye", http.StatusFound},
			{"http://127.0.0.1:8765/bye", http.StatusBadRequest}, // loopback, but not listed
		} {
			resp, _ := get(t, browser(t), f.srv.URL+"/logout?"+url.Values{"client_id": {spa}, "logout_uri": {tc.uri}}.Encode())
			if resp.StatusCode != tc.want {
				t.Errorf("logout_uri %s: status %d, want %d", tc.uri, resp.StatusCode, tc.want)
			}
		}
	})
	t.Run("client_credentials from the seed", func(t *testing.T) {
		m2m := f.srv.AppClient("hosted", "m2m")
		form := url.Values{"grant_type": {"client_credentials"}, "scope": {"orders/read"}}
		status, out := postToken(t, f, "/oauth2/token", form, m2m.ID, m2m.Secret)
		if status != http.StatusOK || claimsOf(t, out["access_token"].(string))["scope"] != "orders/read" {
			t.Fatalf("token: %d %v", status, out)
		}
		status, out = postToken(t, f, "/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"orders/write"}}, m2m.ID, m2m.Secret)
		if status != http.StatusBadRequest || out["error"] != "invalid_scope" {
			t.Fatalf("scope outside the client's: %d %v", status, out)
		}
	})
	t.Run("Describe shows the seeded settings", func(t *testing.T) {
		c := mustCall(t, f.srv, "DescribeUserPoolClient", map[string]any{"UserPoolId": f.pool, "ClientId": spa})["UserPoolClient"].(map[string]any)
		want := map[string]any{
			"AllowedOAuthFlowsUserPoolClient": true,
			"AllowedOAuthFlows":               []any{"code"},
			"AllowedOAuthScopes":              []any{"openid", "email"},
			"CallbackURLs":                    []any{callback},
			"LogoutURLs":                      []any{"https://app.example.com/bye"},
			"SupportedIdentityProviders":      []any{"COGNITO"},
		}
		for k, v := range want {
			if got, _ := json.Marshal(c[k]); !bytes.Equal(got, mustJSON(t, v)) {
				t.Errorf("%s = %s, want %s", k, got, mustJSON(t, v))
			}
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseSeedOAuthFields(t *testing.T) {
	s, err := emulator.ParseSeed([]byte(`{"userPools":[{"name":"p","clients":[{"name":"c",
		"allowedOAuthFlows":["code"],"allowedOAuthScopes":["openid"],"callbackURLs":["https://x.example/cb"],
		"logoutURLs":["https://x.example/out"],"supportedIdentityProviders":["COGNITO"],"allowedOAuthFlowsUserPoolClient":true}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	c := s.UserPools[0].Clients[0]
	if !slices.Equal(c.AllowedOAuthFlows, []string{"code"}) || !slices.Equal(c.CallbackURLs, []string{"https://x.example/cb"}) ||
		!slices.Equal(c.LogoutURLs, []string{"https://x.example/out"}) || c.AllowedOAuthFlowsUserPoolClient == nil || !*c.AllowedOAuthFlowsUserPoolClient {
		t.Fatalf("parsed %+v", c)
	}
}

func TestCreateUserPoolClientOAuthValidation(t *testing.T) {
	f := newOAuthFixture(t)
	base := func(extra map[string]any) map[string]any {
		in := map[string]any{"UserPoolId": f.pool, "ClientName": "v", "AllowedOAuthFlowsUserPoolClient": true}
		for k, v := range extra {
			in[k] = v
		}
		return in
	}
	for _, tc := range []struct {
		name, typ, msg string
		in             map[string]any
	}{
		{"unknown flow", "InvalidParameterException", "allowedOAuthFlows", base(map[string]any{"AllowedOAuthFlows": []string{"password"}})},
		{"client_credentials with code", "InvalidOAuthFlowException", "along with code", base(map[string]any{"GenerateSecret": true, "AllowedOAuthFlows": []string{"code", "client_credentials"}, "AllowedOAuthScopes": []string{"a/b"}})},
		{"client_credentials without secret", "InvalidOAuthFlowException", "client secret", base(map[string]any{"AllowedOAuthFlows": []string{"client_credentials"}, "AllowedOAuthScopes": []string{"a/b"}})},
		{"unknown scope", "ScopeDoesNotExistException", "scope", base(map[string]any{"AllowedOAuthFlows": []string{"code"}, "AllowedOAuthScopes": []string{"openid", "orders"}})},
		{"callback with fragment", "InvalidParameterException", "fragment", base(map[string]any{"CallbackURLs": []string{"https://a.example/cb#x"}})},
		{"relative logout URL", "InvalidParameterException", "absolute", base(map[string]any{"LogoutURLs": []string{"/bye"}})},
		{"default redirect not a callback", "InvalidParameterException", "DefaultRedirectURI", base(map[string]any{"CallbackURLs": []string{"https://a.example/cb"}, "DefaultRedirectURI": "https://b.example/cb"})},
		{"federated provider", "InvalidParameterException", "Google", base(map[string]any{"SupportedIdentityProviders": []string{"COGNITO", "Google"}})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ae := call(t, f.srv, "CreateUserPoolClient", tc.in)
			wantErr(t, ae, tc.typ, tc.msg)
		})
	}

	// An update is checked like a creation and, when refused, changes nothing. It
	// sends the whole configuration: what it leaves out is reset
	// (clientupdate_test.go).
	id := createOAuthClient(t, f, []string{"code"}, []string{"openid"})
	_, ae := call(t, f.srv, "UpdateUserPoolClient", map[string]any{"UserPoolId": f.pool, "ClientId": id, "AllowedOAuthFlows": []string{"client_credentials"}})
	wantErr(t, ae, "InvalidOAuthFlowException", "client secret")
	mustCall(t, f.srv, "UpdateUserPoolClient", map[string]any{"UserPoolId": f.pool, "ClientId": id, "AllowedOAuthFlowsUserPoolClient": true,
		"AllowedOAuthFlows": []string{"code"}, "AllowedOAuthScopes": []string{"openid", "email"}, "CallbackURLs": []string{callback},
		"SupportedIdentityProviders": []string{"COGNITO"}})
	c := mustCall(t, f.srv, "DescribeUserPoolClient", map[string]any{"UserPoolId": f.pool, "ClientId": id})["UserPoolClient"].(map[string]any)
	if got, want := mustJSON(t, []any{c["AllowedOAuthFlows"], c["AllowedOAuthScopes"], c["CallbackURLs"]}),
		mustJSON(t, []any{[]string{"code"}, []string{"openid", "email"}, []string{callback}}); !bytes.Equal(got, want) {
		t.Fatalf("after update: %s, want %s", got, want)
	}
	// A client never given OAuth fields describes none.
	c = mustCall(t, f.srv, "DescribeUserPoolClient", map[string]any{"UserPoolId": f.pool, "ClientId": f.unconfig})["UserPoolClient"].(map[string]any)
	for _, k := range []string{"AllowedOAuthFlows", "AllowedOAuthScopes", "AllowedOAuthFlowsUserPoolClient", "CallbackURLs", "SupportedIdentityProviders"} {
		if _, ok := c[k]; ok {
			t.Errorf("unconfigured client describes %s", k)
		}
	}
}

// TestStateFileOAuthSettings: settings survive a restart, and a state file from
// before they were typed (OAuth fields among a client's "extra") still loads them.
func TestStateFileOAuthSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	srv := emulator.NewServer(emulator.Options{Clock: newFake(), StateFile: path, Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
		Name: "hosted",
		Clients: []emulator.SeedClient{{Name: "spa", AllowedOAuthFlows: []string{"code"}, AllowedOAuthScopes: []string{"openid"},
			CallbackURLs: []string{callback}}},
	}}}})
	pool, spa := srv.PoolID("hosted"), srv.AppClient("hosted", "spa").ID
	srv.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	// The same client as an older emulator wrote it.
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	cl := doc["userPools"].(map[string]any)[pool].(map[string]any)["clients"].(map[string]any)[spa].(map[string]any)
	cl["extra"] = map[string]any{"AllowedOAuthFlowsUserPoolClient": true, "AllowedOAuthFlows": []string{"code"},
		"AllowedOAuthScopes": []string{"openid"}, "CallbackURLs": []string{callback}, "SupportedIdentityProviders": []string{"COGNITO"},
		"AnalyticsConfiguration": map[string]any{"ApplicationId": "x"}}
	delete(cl, "oauth")
	legacy := filepath.Join(t.TempDir(), "legacy.json")
	if err := os.WriteFile(legacy, mustJSON(t, doc), 0o600); err != nil {
		t.Fatal(err)
	}

	for name, file := range map[string]string{"current": path, "legacy": legacy} {
		t.Run(name, func(t *testing.T) {
			srv := emulator.NewServer(emulator.Options{Clock: newFake(), StateFile: file})
			defer srv.Close()
			f := &oauthFixture{srv: srv, pool: pool}
			c := mustCall(t, srv, "DescribeUserPoolClient", map[string]any{"UserPoolId": pool, "ClientId": spa})["UserPoolClient"].(map[string]any)
			if got := mustJSON(t, c["CallbackURLs"]); !bytes.Equal(got, mustJSON(t, []string{callback})) {
				t.Fatalf("CallbackURLs %s", got)
			}
			if name == "legacy" && c["AnalyticsConfiguration"] == nil {
				t.Errorf("other extra fields were lost")
			}
			// Configured, so an unlisted loopback redirect is refused.
			resp, _ := get(t, browser(t), authorizeURL(f, spa, url.Values{"redirect_uri": {"http://127.0.0.1:9/x"}, "scope": {"openid"}}))
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("unlisted redirect: status %d", resp.StatusCode)
			}
			resp, _ = get(t, browser(t), authorizeURL(f, spa, url.Values{"scope": {"openid"}}))
			if resp.StatusCode != http.StatusFound || !strings.Contains(resp.Header.Get("Location"), "/login?") {
				t.Fatalf("listed redirect: status %d location %q", resp.StatusCode, resp.Header.Get("Location"))
			}
		})
	}
}

// TestOAuthStateSurvivesRestart: an authorization code issued before a restart is
// redeemed after it, from a current state file and from one in the older shape
// (the OAuth state as JSON under "extensions").
func TestOAuthStateSurvivesRestart(t *testing.T) {
	f := newOAuthFixture(t)
	dir := t.TempDir()
	current := filepath.Join(dir, "state.json")
	var codes []string
	for range 2 {
		code, _ := signInCode(t, f, browser(t), authorizeURL(f, f.public, nil))
		codes = append(codes, code)
	}
	if err := f.srv.SaveState(current); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(current)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc["oauth2"]) == 0 {
		t.Fatal("no top-level oauth2 state")
	}
	doc["extensions"] = mustJSON(t, map[string]json.RawMessage{"oauth2": doc["oauth2"]})
	delete(doc, "oauth2")
	legacy := filepath.Join(dir, "legacy.json")
	if err := os.WriteFile(legacy, mustJSON(t, doc), 0o600); err != nil {
		t.Fatal(err)
	}
	for i, file := range []string{current, legacy} {
		srv := emulator.NewServer(emulator.Options{Clock: f.clk, StateFile: file})
		g := &oauthFixture{srv: srv, pool: f.pool}
		status, out := postToken(t, g, "/oauth2/token", codeForm(codes[i], callback, verifier), f.public, "")
		srv.Close()
		if status != http.StatusOK || out["access_token"] == nil {
			t.Fatalf("%s: redeeming a code from before the restart: %d %v", file, status, out)
		}
	}
}
