package jwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
)

// testKey is a signing key the test issuer publishes.
type testKey struct {
	kid    string
	alg    string // header alg used to sign
	jwkAlg string // alg published in the JWKS ("" to omit)
	priv   crypto.Signer
}

var (
	rsaOnce sync.Once
	rsaKeys [3]*rsa.PrivateKey
)

// rsaKey returns one of a few RSA keys generated once per test binary: generating
// 2048-bit keys is slow under -race.
func rsaKey(t testing.TB, i int) *rsa.PrivateKey {
	rsaOnce.Do(func() {
		for j := range rsaKeys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			rsaKeys[j] = k
		}
	})
	return rsaKeys[i]
}

func newRSAKey(t testing.TB, kid string, i int) *testKey {
	return &testKey{kid: kid, alg: RS256, jwkAlg: RS256, priv: rsaKey(t, i)}
}

func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func (k *testKey) jwk() map[string]any {
	m := map[string]any{"kid": k.kid, "use": "sig"}
	if k.jwkAlg != "" {
		m["alg"] = k.jwkAlg
	}
	switch p := k.priv.Public().(type) {
	case *rsa.PublicKey:
		m["kty"], m["n"], m["e"] = "RSA", b64u(p.N.Bytes()), b64u(big.NewInt(int64(p.E)).Bytes())
	case *ecdsa.PublicKey:
		size := (p.Curve.Params().BitSize + 7) / 8
		raw, _ := p.Bytes()
		m["kty"], m["crv"] = "EC", p.Curve.Params().Name
		m["x"], m["y"] = b64u(raw[1:1+size]), b64u(raw[1+size:])
	case ed25519.PublicKey:
		m["kty"], m["crv"], m["x"] = "OKP", "Ed25519", b64u(p)
	}
	return m
}

func (k *testKey) sign(t testing.TB, claims map[string]any) string {
	t.Helper()
	return k.signWithHeader(t, claims, nil)
}

// signWithHeader signs claims with extra header parameters.
func (k *testKey) signWithHeader(t testing.TB, claims map[string]any, extra map[string]any) string {
	t.Helper()
	var m gojwt.SigningMethod
	switch k.alg {
	case RS256:
		m = gojwt.SigningMethodRS256
	case RS384:
		m = gojwt.SigningMethodRS384
	case RS512:
		m = gojwt.SigningMethodRS512
	case ES256:
		m = gojwt.SigningMethodES256
	case ES384:
		m = gojwt.SigningMethodES384
	case ES512:
		m = gojwt.SigningMethodES512
	case EdDSA:
		m = gojwt.SigningMethodEdDSA
	}
	tok := gojwt.NewWithClaims(m, gojwt.MapClaims(claims))
	tok.Header["kid"] = k.kid
	delete(tok.Header, "typ") // as Cognito does
	for name, v := range extra {
		tok.Header[name] = v
	}
	s, err := tok.SignedString(k.priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// testIssuer is a loopback JWKS server whose key list tests can change.
type testIssuer struct {
	srv      *httptest.Server
	mu       sync.Mutex
	keys     []*testKey
	requests atomic.Int64
	status   atomic.Int32 // non-zero: answer with this status
}

func newTestIssuer(t testing.TB, keys ...*testKey) *testIssuer {
	ti := &testIssuer{keys: keys}
	ti.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/jwks.json" {
			http.NotFound(w, r)
			return
		}
		ti.requests.Add(1)
		if s := ti.status.Load(); s != 0 {
			w.WriteHeader(int(s))
			return
		}
		ti.mu.Lock()
		var doc struct {
			Keys []map[string]any `json:"keys"`
		}
		for _, k := range ti.keys {
			doc.Keys = append(doc.Keys, k.jwk())
		}
		ti.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(ti.srv.Close)
	return ti
}

func (ti *testIssuer) iss() string { return ti.srv.URL }

func (ti *testIssuer) setKeys(keys ...*testKey) {
	ti.mu.Lock()
	ti.keys = keys
	ti.mu.Unlock()
}

var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// claimsFor returns valid Cognito claims of the given use for the issuer.
func claimsFor(iss string, use TokenUse) map[string]any {
	m := map[string]any{
		"sub": "user-sub", "iss": iss, "token_use": string(use),
		"exp": testNow.Add(time.Hour).Unix(), "iat": testNow.Unix(), "auth_time": testNow.Unix(),
		"jti": "j", "origin_jti": "o", "event_id": "e", "cognito:groups": []string{"dev"},
	}
	if use == IDToken {
		m["aud"], m["cognito:username"], m["email"], m["email_verified"] = "client-1", "alice", "a@example.com", true
	} else {
		m["client_id"], m["username"], m["scope"] = "client-1", "alice", "openid profile"
	}
	return m
}

func ecKey(t testing.TB, kid, alg string, c elliptic.Curve) *testKey {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &testKey{kid: kid, alg: alg, jwkAlg: alg, priv: k}
}

func edKey(t testing.TB, kid string) *testKey {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &testKey{kid: kid, alg: EdDSA, priv: k}
}
