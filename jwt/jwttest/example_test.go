package jwttest_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cogauth/cogauth/httpauth"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/jwt/jwttest"
)

// testMiddleware is a test of an API behind httpauth.Middleware: the Issuer
// signs Cognito-shaped tokens and serves their keys, so the verifier runs for
// real, JWKS fetch included. (go test runs this one as TestExampleNewIssuer.)
func testMiddleware(t *testing.T) {
	iss := jwttest.NewIssuer(t)
	v, err := jwt.NewVerifier(jwt.VerifierOptions{
		Issuers:   []string{iss.URL},
		ClientIDs: []string{"web"},
		TokenUse:  jwt.AccessToken,
	})
	if err != nil {
		t.Fatal(err)
	}
	api := httpauth.Middleware(v)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := httpauth.ClaimsFrom(r.Context())
		_, _ = w.Write([]byte(c.Username))
	}))

	claims := iss.Claims("access", "web", time.Now())
	claims["username"] = "alice"
	req := httptest.NewRequest(http.MethodGet, "/me", nil)
	req.Header.Set("Authorization", "Bearer "+iss.Sign(t, claims))
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || rec.Body.String() != "alice" {
		t.Fatalf("valid token: %d %q", rec.Code, rec.Body)
	}

	claims["exp"] = time.Now().Add(-time.Minute).Unix()
	req.Header.Set("Authorization", "Bearer "+iss.Sign(t, claims))
	rec = httptest.NewRecorder()
	api.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("expired token: %d, want 401", rec.Code)
	}
}

// A test of code that verifies tokens gets an issuer in one line; the whole
// file is the example.
func ExampleNewIssuer() {
	// In a _test.go file of yours:
	//
	//	func TestMiddleware(t *testing.T) { testMiddleware(t) }
}
