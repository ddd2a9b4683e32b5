package jwt

import (
	"context"
	"crypto"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
)

func FuzzParseJWKS(f *testing.F) {
	doc, _ := json.Marshal(map[string]any{"keys": []any{
		newRSAKey(f, "r", 0).jwk(),
		ecKey(f, "e", ES256, elliptic.P256()).jwk(),
		edKey(f, "d").jwk(),
	}})
	f.Add(doc)
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"},{"kty":"RSA","n":"AQ","e":"AQAB"}]}`))
	f.Add([]byte(`{"keys":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := ParseJWKS(data)
		if err != nil {
			if !errors.Is(err, ErrJWKSFormat) {
				t.Fatalf("error %v does not match ErrJWKSFormat", err)
			}
			return
		}
		for _, kid := range set.Kids() {
			pub, alg, ok := set.Key(kid)
			if !ok || pub == nil {
				t.Fatalf("kid %q listed but not found", kid)
			}
			if alg != "" && !knownAlg(alg) {
				t.Fatalf("key pinned to unknown alg %q", alg)
			}
			if k, ok := pub.(*rsa.PublicKey); ok && k.N.BitLen() < minRSABits {
				t.Fatalf("short RSA key accepted")
			}
			for _, a := range []string{"none", "HS256", ""} {
				if set.keys[kid].allows(a) {
					t.Fatalf("key allows %q", a)
				}
			}
		}
	})
}

// FuzzVerify feeds arbitrary tokens to a verifier with real keys: nothing may
// panic, every failure is a *VerifyError, and whatever passes must also pass
// golang-jwt's independent signature check.
func FuzzVerify(f *testing.F) {
	key := newRSAKey(f, "k1", 0)
	ti := newTestIssuer(f, key)
	v, _ := newTestVerifier(f, ti, func(o *VerifierOptions) { o.CacheSize = -1 })
	good := key.sign(f, claimsFor(ti.iss(), AccessToken))
	f.Add(good)
	f.Add(key.sign(f, claimsFor(ti.iss(), IDToken)))
	f.Add(enc(`{"alg":"none"}`) + "." + enc(`{}`) + ".")
	f.Add("a.b.c")
	f.Add(key.signWithHeader(f, claimsFor(ti.iss(), AccessToken), map[string]any{"crit": []string{"exp"}, "exp": 1}))
	f.Add(key.signWithHeader(f, claimsFor(ti.iss(), AccessToken), map[string]any{"crit": []string{}}))
	// Fetch the keys once, so the fuzz loop does not wait on the rate limit.
	if err := v.Prefetch(context.Background()); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		tok, err := v.Verify(context.Background(), raw)
		if err == nil && len(tok.Critical()) > 0 {
			t.Fatalf("accepted a token with critical parameters %q", tok.Critical())
		}
		if err != nil {
			var ve *VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("error %T %v is not a *VerifyError", err, err)
			}
			return
		}
		_, perr := gojwt.NewParser(gojwt.WithoutClaimsValidation()).Parse(tok.Raw(), func(*gojwt.Token) (any, error) {
			return key.priv.Public(), nil
		})
		if perr != nil {
			t.Fatalf("we accepted a token golang-jwt refuses: %v", perr)
		}
	})
}

// BenchmarkVerify compares, in one run: raw RSA verification (the floor), our
// first-time verify (decode, key lookup, signature, rules), golang-jwt's Parse with
// a keyfunc, and our repeat verify of a token already verified.
func BenchmarkVerify(b *testing.B) {
	key := newRSAKey(b, "k1", 0)
	ti := newTestIssuer(b, key)
	claims := claimsFor(ti.iss(), AccessToken)
	tok := key.sign(b, claims)
	ctx := context.Background()
	cold, _ := newTestVerifier(b, ti, func(o *VerifierOptions) { o.CacheSize = -1 })
	warm, _ := newTestVerifier(b, ti, nil)
	for _, v := range []*Verifier{cold, warm} {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
	parsed, _ := Decode(tok)
	pub := key.priv.Public().(*rsa.PublicKey)
	keys := map[string]any{"k1": pub}
	parser := gojwt.NewParser(gojwt.WithValidMethods([]string{"RS256"}), gojwt.WithIssuer(ti.iss()),
		gojwt.WithTimeFunc(func() time.Time { return testNow }), gojwt.WithExpirationRequired())
	keyfunc := func(t *gojwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if k, ok := keys[kid]; ok {
			return k, nil
		}
		return nil, errors.New("unknown kid")
	}

	b.Run("floor-rsa.VerifyPKCS1v15", func(b *testing.B) {
		b.ReportAllocs()
		input, sig := parsed.SigningInput(), parsed.Signature()
		for b.Loop() {
			sum := sha256.Sum256([]byte(input))
			if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cogauth-first", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := cold.Verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("golang-jwt-keyfunc", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := parser.Parse(tok, keyfunc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cogauth-repeat", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := warm.Verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cogauth-repeat-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := warm.Verify(ctx, tok); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
