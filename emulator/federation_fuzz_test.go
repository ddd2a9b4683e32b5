package emulator

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzProviderAnswers feeds a provider's JWKS document and id token claims,
// as its HTTP answers carry them, to the parsers federation uses: they never
// panic, keep only well-formed RSA keys, and map claims only onto attributes
// within Cognito's limits (or refuse them).
func FuzzProviderAnswers(f *testing.F) {
	f.Add([]byte(`{"keys":[{"kty":"RSA","kid":"k","n":"AQAB","e":"AQAB"}]}`), []byte(`{"sub":"s","email":"a@b","email_verified":true,"address":{"x":1}}`))
	f.Add([]byte(`{"keys":"nope"}`), []byte(`{"email":null,"name":12.5}`))
	f.Add([]byte(`{}`), []byte(`{"id":10223344556677889,"user_id":"amzn1.account.X","sub":"a b"}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"`+string(make([]byte, 400))+`","e":"AAAAAAAB"}]}`), []byte(`[]`))
	prov := &oidcProvider{Name: "P", Type: "OIDC", Mapping: map[string]string{
		"email": "email", "email_verified": "email_verified", "address": "address", "name": "name", "custom:x": "x", "username": "sub",
	}}
	f.Fuzz(func(t *testing.T, jwks, claims []byte) {
		var doc map[string]any
		if json.Unmarshal(jwks, &doc) == nil {
			for kid, k := range parseJWKS(doc) {
				if k == nil || k.N.BitLen() < 2048 || k.N.BitLen() > 8192 || k.E < 3 || k.E%2 == 0 {
					t.Fatalf("kept key %q: %d bits, e=%d", kid, k.N.BitLen(), k.E)
				}
			}
		}
		var c map[string]any
		if json.Unmarshal(claims, &c) != nil {
			return
		}
		// A social provider's answer (Facebook's /me, Amazon's profile): the
		// subject claim becomes a usable sub or the answer is refused.
		for _, typ := range []string{"Facebook", "LoginWithAmazon", "Google"} {
			sc := map[string]any{}
			for k, v := range c {
				sc[k] = v
			}
			if out, err := socialClaims(&oidcProvider{Name: typ, Type: typ}, sc); err == nil {
				if s, _ := out["sub"].(string); s == "" || len(s) > 255 || strings.ContainsAny(s, " \t\r\n") {
					t.Fatalf("%s: kept sub %q", typ, s)
				}
			}
		}
		attrs := mappedAttributes(prov, c)
		for _, a := range attrs {
			if a.Name == "username" || a.Name == "sub" || !utf8.ValidString(a.Name) {
				t.Fatalf("mapped onto %q", a.Name)
			}
		}
		if checkAttributes(attrs) == nil {
			for _, a := range attrs {
				if len(a.Value) > 2048 {
					t.Fatalf("accepted a %d-byte %s", len(a.Value), a.Name)
				}
			}
		}
	})
}
