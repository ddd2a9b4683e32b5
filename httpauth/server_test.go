package httpauth

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/jwt/jwttest"
)

var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func newVerifier(t testing.TB, iss *jwttest.Issuer, clk clock.Clock) *jwt.Verifier {
	t.Helper()
	v, err := jwt.NewVerifier(jwt.VerifierOptions{
		Issuers: []string{iss.URL}, ClientIDs: []string{"client-1"}, Clock: clk,
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// protected runs the middleware (and extra layers) over loopback HTTP; the handler
// answers with the verified username.
func protected(t testing.TB, v Verifier, layers ...func(http.Handler) http.Handler) *httptest.Server {
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := ClaimsFrom(r.Context())
		if !ok {
			http.Error(w, "no claims", 500)
			return
		}
		_, _ = io.WriteString(w, "hello "+c.Username)
	})
	for i := len(layers) - 1; i >= 0; i-- {
		h = layers[i](h)
	}
	srv := httptest.NewServer(Middleware(v)(h))
	t.Cleanup(srv.Close)
	return srv
}

func TestMiddleware(t *testing.T) {
	iss := jwttest.NewIssuer(t)
	clk := clock.NewFake(now)
	v := newVerifier(t, iss, clk)
	access := iss.Sign(t, iss.Claims("access", "client-1", now))
	id := iss.Sign(t, iss.Claims("id", "client-1", now))
	expired := iss.Sign(t, iss.Claims("access", "client-1", now.Add(-2*time.Hour)))
	otherClient := iss.Sign(t, iss.Claims("access", "client-2", now))
	admins := iss.Claims("access", "client-1", now)
	admins["cognito:groups"] = []string{"admin"}
	admins["scope"] = "openid api/write"
	adminTok := iss.Sign(t, admins)

	tests := []struct {
		name      string
		layers    []func(http.Handler) http.Handler
		auth      string
		status    int
		challenge string
	}{
		{name: "bearer access token", auth: "Bearer " + access, status: 200},
		{name: "lower-case scheme", auth: "bearer " + access, status: 200},
		{name: "raw id token", auth: id, status: 200},
		{name: "missing", auth: "", status: 401, challenge: "Bearer"},
		{name: "other scheme", auth: "Basic dXNlcjpwYXNz", status: 401, challenge: "Bearer"},
		{name: "expired", auth: "Bearer " + expired, status: 401, challenge: `Bearer error="invalid_token", error_description="token expired"`},
		{name: "wrong client", auth: "Bearer " + otherClient, status: 401, challenge: `Bearer error="invalid_token", error_description="client not accepted"`},
		{name: "garbage", auth: "Bearer x.y.z", status: 401, challenge: `Bearer error="invalid_token", error_description="malformed token"`},
		{name: "group required, missing", layers: []func(http.Handler) http.Handler{RequireGroups("admin")}, auth: "Bearer " + access, status: 403},
		{name: "group required, present", layers: []func(http.Handler) http.Handler{RequireGroups("ops", "admin")}, auth: "Bearer " + adminTok, status: 200},
		{name: "scope required, missing", layers: []func(http.Handler) http.Handler{RequireScopes("api/write")}, auth: "Bearer " + access, status: 403,
			challenge: `Bearer error="insufficient_scope", scope="api/write"`},
		{name: "scope required, present", layers: []func(http.Handler) http.Handler{RequireScopes("api/write")}, auth: "Bearer " + adminTok, status: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := protected(t, v, tt.layers...)
			req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d (%s), want %d", resp.StatusCode, body, tt.status)
			}
			if tt.status == 200 && string(body) != "hello alice" {
				t.Errorf("body = %q", body)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.challenge)
			}
			if tt.auth != "" && len(tt.auth) > 20 && strings.Contains(string(body)+resp.Header.Get("WWW-Authenticate"), tt.auth[len(tt.auth)-20:]) {
				t.Error("response echoes the token")
			}
		})
	}
}

type failingVerifier struct{ err error }

func (f failingVerifier) Verify(context.Context, string) (*jwt.Token, error) { return nil, f.err }

func TestMiddlewareKeysUnavailable(t *testing.T) {
	for _, err := range []error{
		&jwt.VerifyError{Rule: jwt.RuleJWKS, Reason: "cannot get the issuer's keys"},
		errors.New("something else"),
	} {
		srv := protected(t, failingVerifier{err})
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		req.Header.Set("Authorization", "Bearer a.b.c")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("status = %d, want 503", resp.StatusCode)
		}
	}
}

func TestRequireWithoutMiddlewareFailsClosed(t *testing.T) {
	h := RequireGroups("admin")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("handler reached")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("status = %d, want 401", rec.Code)
	}
}

func TestTokenFromHeader(t *testing.T) {
	for in, want := range map[string]string{
		"Bearer abc": "abc", "bearer  abc ": "abc", "BEARER abc": "abc", "abc": "abc",
		"": "", "Basic abc": "", "  abc  ": "abc", "Bearer": "", "bearer ": "",
	} {
		if got := TokenFromHeader(in); got != want {
			t.Errorf("TokenFromHeader(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestTransportThroughMiddleware puts both halves together over loopback: the
// client's token expires, the server answers 401, the provider refreshes, and the
// caller never sees the 401.
func TestTransportThroughMiddleware(t *testing.T) {
	iss := jwttest.NewIssuer(t)
	clk := clock.NewFake(now)
	srv := protected(t, newVerifier(t, iss, clk))
	issued := 0
	var current string
	provider := TokenProviderFunc(func(_ context.Context, force bool) (string, error) {
		// A deliberately naive provider that only refreshes when forced, so
		// that the 401 path is what keeps the caller going.
		if current == "" || force {
			issued++
			current = iss.Sign(t, iss.Claims("access", "client-1", clk.Now()))
		}
		return current, nil
	})
	client := NewClient(provider, Bearer)
	for i := range 5 {
		resp, err := client.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("call %d: status %d", i, resp.StatusCode)
		}
		clk.Advance(40 * time.Minute) // every other call finds the token expired
	}
	if issued != 3 {
		t.Errorf("tokens issued = %d, want 3", issued)
	}
}

func FuzzTokenFromHeader(f *testing.F) {
	for _, s := range []string{"Bearer abc", "abc", "", "Basic x", " bearer\tabc ", "Bearer  a b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		got := TokenFromHeader(h)
		if got != strings.TrimSpace(got) {
			t.Fatalf("TokenFromHeader(%q) = %q keeps surrounding space", h, got)
		}
		if got != "" && !strings.Contains(h, got) {
			t.Fatalf("TokenFromHeader(%q) = %q is not part of the header", h, got)
		}
		if trimmed := strings.TrimSpace(h); !strings.Contains(trimmed, " ") && got != trimmed {
			t.Fatalf("bare token %q came back as %q", trimmed, got)
		}
	})
}
