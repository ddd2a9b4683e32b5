// Package jwttest is a Cognito-like token issuer for tests: a loopback JWKS server
// and RS256 signing with keys it makes itself. It is for tests of code that
// verifies tokens (middleware, proxies) without a whole emulator.
package jwttest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
)

// Issuer serves its public keys at /.well-known/jwks.json under URL, which is
// also the iss of the tokens it signs.
type Issuer struct {
	URL string

	srv      *httptest.Server
	mu       sync.Mutex
	keys     []key
	requests atomic.Int64
}

type key struct {
	kid  string
	priv *rsa.PrivateKey
}

// NewIssuer starts an issuer with one key; it stops when the test ends.
func NewIssuer(tb testing.TB) *Issuer {
	tb.Helper()
	iss := &Issuer{}
	iss.srv = httptest.NewServer(http.HandlerFunc(iss.serveJWKS))
	iss.URL = iss.srv.URL
	tb.Cleanup(iss.srv.Close)
	iss.Rotate(tb)
	return iss
}

// Rotate adds a new key, which signs from now on; older keys stay published.
func (iss *Issuer) Rotate(tb testing.TB) {
	tb.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	iss.mu.Lock()
	iss.keys = append(iss.keys, key{kid: fmt.Sprintf("key-%d", len(iss.keys)+1), priv: priv})
	iss.mu.Unlock()
}

// JWKSRequests counts requests for the JWKS.
func (iss *Issuer) JWKSRequests() int64 { return iss.requests.Load() }

func (iss *Issuer) serveJWKS(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/.well-known/jwks.json" {
		http.NotFound(w, r)
		return
	}
	iss.requests.Add(1)
	iss.mu.Lock()
	keys := make([]map[string]string, 0, len(iss.keys))
	for _, k := range iss.keys {
		keys = append(keys, map[string]string{
			"kty": "RSA", "alg": "RS256", "use": "sig", "kid": k.kid,
			"n": base64.RawURLEncoding.EncodeToString(k.priv.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.priv.E)).Bytes()),
		})
	}
	iss.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"keys": keys})
}

// Claims returns a valid Cognito claim set of the given use ("id" or "access")
// for client, issued at now and expiring an hour later. Change it as needed.
func (iss *Issuer) Claims(use, client string, now time.Time) map[string]any {
	m := map[string]any{
		"sub": "11111111-2222-3333-4444-555555555555", "iss": iss.URL, "token_use": use,
		"iat": now.Unix(), "auth_time": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"jti": "jti-1", "origin_jti": "origin-1", "event_id": "event-1",
		"cognito:groups": []string{"users"},
	}
	if use == "id" {
		m["aud"], m["cognito:username"], m["email"], m["email_verified"] = client, "alice", "alice@example.com", true
	} else {
		m["client_id"], m["username"], m["scope"] = client, "alice", "aws.cognito.signin.user.admin"
	}
	return m
}

// Sign signs claims with the newest key, RS256, as Cognito does.
func (iss *Issuer) Sign(tb testing.TB, claims map[string]any) string {
	tb.Helper()
	iss.mu.Lock()
	k := iss.keys[len(iss.keys)-1]
	iss.mu.Unlock()
	t := gojwt.NewWithClaims(gojwt.SigningMethodRS256, gojwt.MapClaims(claims))
	t.Header["kid"] = k.kid
	delete(t.Header, "typ")
	s, err := t.SignedString(k.priv)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}
