package jwt

import (
	"context"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/cogauth/cogauth/clock"
)

func newTestVerifier(t testing.TB, ti *testIssuer, mod func(*VerifierOptions)) (*Verifier, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(testNow)
	opts := VerifierOptions{
		Issuers:   []string{ti.iss()},
		ClientIDs: []string{"client-1"},
		Clock:     clk,
		HTTPClient: &http.Client{
			Timeout: 5 * time.Second,
		},
	}
	if mod != nil {
		mod(&opts)
	}
	v, err := NewVerifier(opts)
	if err != nil {
		t.Fatal(err)
	}
	return v, clk
}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

// TestVerifyRules is the table of issue 5: each way a token can be bad is
// rejected under its own rule.
func TestVerifyRules(t *testing.T) {
	key := newRSAKey(t, "k1", 0)
	ti := newTestIssuer(t, key)
	id := claimsFor(ti.iss(), IDToken)
	access := claimsFor(ti.iss(), AccessToken)
	good := key.sign(t, access)
	parts := strings.Split(good, ".")

	pubDER, _ := x509.MarshalPKIXPublicKey(key.priv.Public())
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	hs := gojwt.NewWithClaims(gojwt.SigningMethodHS256, gojwt.MapClaims(access))
	hs.Header["kid"] = "k1"
	hsToken, err := hs.SignedString(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	noneToken := enc(`{"alg":"none","kid":"k1"}`) + "." + parts[1] + "."
	tampered := parts[0] + "." + enc(strings.Replace(mustDecode(parts[1]), `"sub":"user-sub"`, `"sub":"admin-sub"`, 1)) + "." + parts[2]
	other := newRSAKey(t, "k1", 1) // same kid, different key: a forged signature

	tests := []struct {
		name  string
		token string
		mod   func(*VerifierOptions)
		rule  Rule
		want  error
	}{
		{name: "valid access", token: good},
		{name: "valid id", token: key.sign(t, id)},
		{name: "valid with token use set", token: key.sign(t, id), mod: func(o *VerifierOptions) { o.TokenUse = IDToken }},
		{"alg none", noneToken, nil, RuleAlgorithm, ErrAlgorithm},
		{"HS256 signed with the RSA public key", hsToken, func(o *VerifierOptions) { o.Algorithms = []string{RS256, RS384} }, RuleAlgorithm, ErrAlgorithm},
		{"unknown kid", (&testKey{kid: "nope", alg: RS256, priv: key.priv}).sign(t, access), nil, RuleKey, ErrUnknownKey},
		{"expired", key.sign(t, with(access, "exp", testNow.Unix())), nil, RuleExpired, ErrExpired},
		{"expired within leeway", key.sign(t, with(access, "exp", testNow.Add(-time.Second).Unix())), func(o *VerifierOptions) { o.Leeway = 5 * time.Second }, "", nil},
		{"no exp", key.sign(t, with(access, "exp", nil)), nil, RuleExpired, ErrExpired},
		{"nbf in the future", key.sign(t, with(access, "nbf", testNow.Add(time.Minute).Unix())), nil, RuleNotBefore, ErrNotYetValid},
		{"iat in the future", key.sign(t, with(access, "iat", testNow.Add(time.Minute).Unix())), nil, RuleIssuedAt, ErrIssuedInFuture},
		{"wrong issuer", key.sign(t, with(access, "iss", "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_evil")), nil, RuleIssuer, ErrIssuer},
		{"wrong token_use", key.sign(t, access), func(o *VerifierOptions) { o.TokenUse = IDToken }, RuleTokenUse, ErrTokenUse},
		{"bogus token_use", key.sign(t, with(access, "token_use", "refresh")), nil, RuleTokenUse, ErrTokenUse},
		{"wrong client (access)", key.sign(t, with(access, "client_id", "client-2")), nil, RuleClient, ErrClient},
		{"wrong client (id)", key.sign(t, with(id, "aud", "client-2")), nil, RuleClient, ErrClient},
		{"id token aud ignored for access", key.sign(t, with(access, "client_id", nil, "aud", "client-1")), nil, RuleClient, ErrClient},
		{"any client", key.sign(t, with(access, "client_id", "client-2")), func(o *VerifierOptions) { o.AnyClient = true }, "", nil},
		{"tampered payload", tampered, nil, RuleSignature, ErrSignature},
		{"signed by another key", other.sign(t, access), nil, RuleSignature, ErrSignature},
		{"truncated", parts[0] + "." + parts[1], nil, RuleMalformed, ErrParts},
		{"truncated signature", parts[0] + "." + parts[1] + "." + parts[2][:340], nil, RuleSignature, ErrSignature},
		{"non-base64", parts[0] + "." + parts[1] + "." + "***", nil, RuleMalformed, ErrEncoding},
		{"oversized header", enc(`{"alg":"RS256","kid":"k1","x5c":"`+strings.Repeat("A", 2000)+`"}`) + "." + parts[1] + "." + parts[2], nil, RuleMalformed, ErrTooLarge},
		{"key pinned to RS256, header RS384", (&testKey{kid: "k1", alg: RS384, priv: key.priv}).sign(t, access), func(o *VerifierOptions) { o.Algorithms = []string{RS256, RS384} }, RuleAlgorithm, ErrAlgorithm},
		{"RS384 not allowed by default", (&testKey{kid: "k1", alg: RS384, priv: key.priv}).sign(t, access), nil, RuleAlgorithm, ErrAlgorithm},
		{"group required, present", good, func(o *VerifierOptions) { o.Groups = []string{"admin", "dev"} }, "", nil},
		{"group required, absent", good, func(o *VerifierOptions) { o.Groups = []string{"admin"} }, RuleGroups, ErrGroups},
		{"scope required, present", good, func(o *VerifierOptions) { o.Scopes = []string{"profile"} }, "", nil},
		{"scope required, absent", good, func(o *VerifierOptions) { o.Scopes = []string{"admin"} }, RuleScope, ErrScope},
		// RFC 7515 §4.1.11: a critical extension the verifier does not understand
		// (it understands none) makes a validly signed token invalid.
		{"crit names an extension", key.signWithHeader(t, access, map[string]any{"crit": []string{"exp"}, "exp": testNow.Unix()}), nil, RuleCritical, ErrCritical},
		{"crit names b64 (RFC 7797)", key.signWithHeader(t, access, map[string]any{"crit": []string{"b64"}, "b64": false}), nil, RuleCritical, ErrCritical},
		{"crit names an absent parameter", key.signWithHeader(t, access, map[string]any{"crit": []string{"x-tenant"}}), nil, RuleCritical, ErrCritical},
		{"crit not an array", key.signWithHeader(t, access, map[string]any{"crit": "exp"}), nil, RuleMalformed, ErrHeader},
		{"crit empty", key.signWithHeader(t, access, map[string]any{"crit": []string{}}), nil, RuleMalformed, ErrHeader},
		{"crit of numbers", key.signWithHeader(t, access, map[string]any{"crit": []int{1}}), nil, RuleMalformed, ErrHeader},
		{"crit names a registered header", key.signWithHeader(t, access, map[string]any{"crit": []string{"kid"}}), nil, RuleMalformed, ErrHeader},
		{"crit names one twice", key.signWithHeader(t, access, map[string]any{"crit": []string{"x", "x"}, "x": 1}), nil, RuleMalformed, ErrHeader},
		{"crit null", key.signWithHeader(t, access, map[string]any{"crit": nil}), nil, RuleMalformed, ErrHeader},
		{"two crits", enc(`{"alg":"RS256","kid":"k1","crit":["a"],"crit":["b"]}`) + "." + parts[1] + "." + parts[2], nil, RuleMalformed, ErrHeader},
		{"custom check fails", good, func(o *VerifierOptions) {
			o.Check = func(t *Token) error { return errors.New("tenant suspended") }
		}, RuleCustom, ErrCustom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, _ := newTestVerifier(t, ti, tt.mod)
			tok, err := v.Verify(context.Background(), tt.token)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if tok.Raw() != tt.token || tok.Claims().Sub != "user-sub" {
					t.Fatalf("wrong token back: %v", tok)
				}
				// Again, from the verified cache.
				if _, err := v.Verify(context.Background(), tt.token); err != nil {
					t.Fatalf("cached Verify: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted; want rule %s", tt.rule)
			}
			var ve *VerifyError
			if !errors.As(err, &ve) || ve.Rule != tt.rule {
				t.Fatalf("err = %v, want rule %s", err, tt.rule)
			}
			if !errors.Is(err, tt.want) || !errors.Is(err, ErrInvalid) {
				t.Errorf("err = %v does not match %v and ErrInvalid", err, tt.want)
			}
			for _, p := range strings.Split(tt.token, ".") {
				if len(p) > 8 && strings.Contains(err.Error(), p) {
					t.Errorf("error echoes the token: %v", err)
				}
			}
		})
	}
}

func mustDecode(s string) string {
	b, err := b64.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestVerifyOtherAlgorithms(t *testing.T) {
	keys := []*testKey{
		ecKey(t, "es256", ES256, elliptic.P256()),
		ecKey(t, "es384", ES384, elliptic.P384()),
		ecKey(t, "es512", ES512, elliptic.P521()),
		edKey(t, "ed"),
		{kid: "rs512", alg: RS512, priv: rsaKey(t, 2)}, // no alg in the JWKS: the key type decides
	}
	keys[0].jwkAlg = "" // unpinned: the curve alone must decide
	ti := newTestIssuer(t, keys...)
	v, _ := newTestVerifier(t, ti, func(o *VerifierOptions) {
		o.Algorithms = []string{RS256, RS512, ES256, ES384, ES512, EdDSA}
		o.CacheSize = -1
	})
	access := claimsFor(ti.iss(), AccessToken)
	for _, k := range keys {
		t.Run(k.kid, func(t *testing.T) {
			if _, err := v.Verify(context.Background(), k.sign(t, access)); err != nil {
				t.Fatal(err)
			}
		})
	}
	// A P-256 key must not verify an ES384 header even with alg unpinned.
	// (golang-jwt refuses to make such a token, so swap the header of a real one.)
	es := strings.SplitN(keys[0].sign(t, access), ".", 2)
	loose := enc(`{"alg":"ES384","kid":"es256"}`) + "." + es[1]
	if _, err := v.Verify(context.Background(), loose); !errors.Is(err, ErrAlgorithm) {
		t.Errorf("ES384 with a P-256 key: err = %v, want ErrAlgorithm", err)
	}
	// Ed25519 key asked to check an RS512 header.
	wrongType := &testKey{kid: "ed", alg: RS512, priv: rsaKey(t, 2)}
	if _, err := v.Verify(context.Background(), wrongType.sign(t, access)); !errors.Is(err, ErrAlgorithm) {
		t.Errorf("RS512 header on an OKP key: err = %v, want ErrAlgorithm", err)
	}
}

func TestNewVerifierRefusesBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts VerifierOptions
	}{
		{"no issuers", VerifierOptions{ClientIDs: []string{"c"}}},
		{"no clients", VerifierOptions{Issuers: []string{"https://i"}}},
		{"HS256", VerifierOptions{Issuers: []string{"https://i"}, AnyClient: true, Algorithms: []string{"HS256"}}},
		{"none", VerifierOptions{Issuers: []string{"https://i"}, AnyClient: true, Algorithms: []string{"none"}}},
		{"bad token use", VerifierOptions{Issuers: []string{"https://i"}, AnyClient: true, TokenUse: "refresh"}},
		{"issuer not a URL", VerifierOptions{Issuers: []string{"eu-west-1_abc"}, AnyClient: true}},
		{"negative leeway", VerifierOptions{Issuers: []string{"https://i"}, AnyClient: true, Leeway: -time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewVerifier(tt.opts); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestCognitoIssuer(t *testing.T) {
	if got := CognitoIssuer("eu-west-1_AbC"); got != "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC" {
		t.Errorf("CognitoIssuer = %q", got)
	}
	if got := JWKSURL("https://x/pool/"); got != "https://x/pool/.well-known/jwks.json" {
		t.Errorf("JWKSURL = %q", got)
	}
}

func TestKeyRotation(t *testing.T) {
	k1, k2 := newRSAKey(t, "k1", 0), newRSAKey(t, "k2", 1)
	ti := newTestIssuer(t, k1)
	v, clk := newTestVerifier(t, ti, nil)
	ctx := context.Background()
	access := claimsFor(ti.iss(), AccessToken)
	t1 := k1.sign(t, access)
	if _, err := v.Verify(ctx, t1); err != nil {
		t.Fatal(err)
	}
	if n := ti.requests.Load(); n != 1 {
		t.Fatalf("JWKS requests = %d, want 1", n)
	}
	// The issuer rotates in k2 and signs with it: one fetch, then it verifies.
	clk.Advance(DefaultMinRefetchInterval)
	ti.setKeys(k1, k2)
	t2 := k2.sign(t, access)
	for range 3 {
		if _, err := v.Verify(ctx, t2); err != nil {
			t.Fatal(err)
		}
	}
	if n := ti.requests.Load(); n != 2 {
		t.Fatalf("JWKS requests = %d, want 2", n)
	}
	// k1 is retired; once the keys are refreshed, a cached k1 token no longer
	// passes (it is checked against the published keys, not just remembered).
	ti.setKeys(k2)
	if _, err := v.JWKS().Refresh(ctx, JWKSURL(ti.iss())); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, t1); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("token of a retired key: err = %v, want ErrUnknownKey", err)
	}
	if _, err := v.Verify(ctx, t2); err != nil {
		t.Fatal(err)
	}
}

// TestUnknownKidFlood: a flood of tokens with random kids makes at most one JWKS
// request per interval, whatever the concurrency.
func TestUnknownKidFlood(t *testing.T) {
	k1 := newRSAKey(t, "k1", 0)
	ti := newTestIssuer(t, k1)
	v, clk := newTestVerifier(t, ti, nil)
	ctx := context.Background()
	access := claimsFor(ti.iss(), AccessToken)
	good := k1.sign(t, access)
	parts := strings.Split(good, ".")
	forge := func() string {
		h := fmt.Sprintf(`{"alg":"RS256","kid":"kid-%d"}`, rand.Int64())
		return enc(h) + "." + parts[1] + "." + parts[2]
	}
	flood := func() {
		var wg sync.WaitGroup
		for range 200 {
			wg.Go(func() {
				if _, err := v.Verify(ctx, forge()); !errors.Is(err, ErrUnknownKey) {
					t.Errorf("random kid: err = %v, want ErrUnknownKey", err)
				}
			})
		}
		wg.Wait()
	}
	flood()
	if n := ti.requests.Load(); n != 1 {
		t.Fatalf("after first flood: JWKS requests = %d, want 1", n)
	}
	clk.Advance(DefaultMinRefetchInterval - time.Millisecond)
	flood()
	if n := ti.requests.Load(); n != 1 {
		t.Fatalf("within the interval: JWKS requests = %d, want 1", n)
	}
	clk.Advance(time.Millisecond)
	flood()
	if n := ti.requests.Load(); n != 2 {
		t.Fatalf("after the interval: JWKS requests = %d, want 2", n)
	}
	// Good tokens kept verifying all along.
	if _, err := v.Verify(ctx, good); err != nil {
		t.Fatal(err)
	}
}

func TestJWKSFailures(t *testing.T) {
	k1 := newRSAKey(t, "k1", 0)
	ti := newTestIssuer(t, k1)
	v, clk := newTestVerifier(t, ti, nil)
	ctx := context.Background()
	tok := k1.sign(t, claimsFor(ti.iss(), AccessToken))

	ti.status.Store(http.StatusServiceUnavailable)
	_, err := v.Verify(ctx, tok)
	if !errors.Is(err, ErrJWKS) || !errors.Is(err, ErrJWKSFetch) {
		t.Fatalf("JWKS 503: err = %v, want ErrJWKS", err)
	}
	// Failures count against the rate limit too, so a broken issuer is not hammered.
	ti.status.Store(0)
	if _, err := v.Verify(ctx, tok); !errors.Is(err, ErrJWKS) {
		t.Fatalf("retry within the interval: err = %v, want ErrJWKS", err)
	}
	if n := ti.requests.Load(); n != 1 {
		t.Fatalf("JWKS requests = %d, want 1", n)
	}
	clk.Advance(DefaultMinRefetchInterval)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	// A cancelled caller gets its own error; the fetch itself is shared and not cancelled.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	v2, _ := newTestVerifier(t, ti, nil)
	if _, err := v2.Verify(cctx, tok); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: err = %v", err)
	}
}

func TestVerifiedCacheRechecksTime(t *testing.T) {
	k1 := newRSAKey(t, "k1", 0)
	ti := newTestIssuer(t, k1)
	calls := 0
	v, clk := newTestVerifier(t, ti, func(o *VerifierOptions) {
		o.Check = func(*Token) error { calls++; return nil }
	})
	ctx := context.Background()
	tok := k1.sign(t, claimsFor(ti.iss(), AccessToken))
	for range 3 {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 3 {
		t.Errorf("custom check ran %d times, want 3 (it runs on cached tokens too)", calls)
	}
	clk.Advance(time.Hour)
	if _, err := v.Verify(ctx, tok); !errors.Is(err, ErrExpired) {
		t.Fatalf("cached token after expiry: err = %v, want ErrExpired", err)
	}
}

func TestVerifiedCacheBounded(t *testing.T) {
	k1 := newRSAKey(t, "k1", 0)
	ti := newTestIssuer(t, k1)
	v, clk := newTestVerifier(t, ti, func(o *VerifierOptions) { o.CacheSize = 16 })
	ctx := context.Background()
	base := claimsFor(ti.iss(), AccessToken)
	for i := range 40 {
		if i == 20 {
			clk.Advance(30 * time.Minute)
		}
		exp := clk.Now().Add(30*time.Minute + time.Second).Unix()
		if _, err := v.Verify(ctx, k1.sign(t, with(base, "jti", fmt.Sprint(i), "exp", exp, "iat", clk.Now().Unix()))); err != nil {
			t.Fatal(err)
		}
		if n := len(v.cache.m); n > 16 {
			t.Fatalf("cache holds %d tokens, limit 16", n)
		}
	}
}

func TestBackgroundRefresh(t *testing.T) {
	k1, k2 := newRSAKey(t, "k1", 0), newRSAKey(t, "k2", 1)
	ti := newTestIssuer(t, k1)
	v, _ := newTestVerifier(t, ti, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := v.Prefetch(ctx); err != nil {
		t.Fatal(err)
	}
	ti.setKeys(k1, k2)
	done := make(chan struct{})
	go func() { v.JWKS().RunBackgroundRefresh(ctx, time.Millisecond); close(done) }()
	// Wait for the refresh to pick up k2 (the condition, not a fixed time).
	for {
		if s, _ := v.JWKS().KeySet(ctx, JWKSURL(ti.iss())); len(s.Kids()) == 2 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
}

// revokedSet is a RevocationSource over a set that the test changes.
type revokedSet struct {
	mu  sync.Mutex
	ids map[string]bool
	n   int // questions asked
}

func (r *revokedSet) Revoked(originJTI string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	return r.ids[originJTI]
}

// TestVerifyRevocations: a token whose origin_jti the source names is rejected
// under RuleRevoked, cached or not, while its signature and claims are fine;
// other sessions' tokens pass; a token without origin_jti is not asked about.
func TestVerifyRevocations(t *testing.T) {
	k1 := newRSAKey(t, "k1", 0)
	ti := newTestIssuer(t, k1)
	src := &revokedSet{ids: map[string]bool{}}
	v, _ := newTestVerifier(t, ti, func(o *VerifierOptions) { o.Revocations = src })
	ctx := context.Background()
	tok := k1.sign(t, claimsFor(ti.iss(), AccessToken))
	other := claimsFor(ti.iss(), AccessToken)
	other["origin_jti"] = "another-sign-in"
	otherTok := k1.sign(t, other)
	none := claimsFor(ti.iss(), AccessToken)
	delete(none, "origin_jti")
	noneTok := k1.sign(t, none)
	for _, raw := range []string{tok, otherTok, noneTok} {
		if _, err := v.Verify(ctx, raw); err != nil { // cached from here on
			t.Fatal(err)
		}
	}
	src.mu.Lock()
	src.ids["o"] = true
	asked := src.n
	src.mu.Unlock()
	var ve *VerifyError
	if _, err := v.Verify(ctx, tok); !errors.Is(err, ErrRevoked) || !errors.Is(err, ErrInvalid) || !errors.As(err, &ve) || ve.Rule != RuleRevoked {
		t.Fatalf("a signed-out session's cached token: err = %v, want RuleRevoked", err)
	}
	if _, err := v.Verify(ctx, otherTok); err != nil {
		t.Fatalf("another session's token: %v", err)
	}
	if _, err := v.Verify(ctx, noneTok); err != nil {
		t.Fatalf("a token without origin_jti: %v", err)
	}
	if src.n != asked+2 {
		t.Fatalf("the source was asked %d times for 3 verifications (one without origin_jti), want 2", src.n-asked)
	}
	// Uncached: a fresh verifier on the same source.
	v2, _ := newTestVerifier(t, ti, func(o *VerifierOptions) { o.Revocations = src; o.CacheSize = -1 })
	if _, err := v2.Verify(ctx, tok); !errors.Is(err, ErrRevoked) {
		t.Fatalf("uncached: err = %v, want ErrRevoked", err)
	}
}
