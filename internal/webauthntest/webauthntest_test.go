package webauthntest_test

import (
	"testing"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"

	"github.com/cogauth/cogauth/internal/webauthntest"
)

// TestVerifiedByGoWebAuthn: what the authenticator makes passes a relying
// party's verification (go-webauthn's), for both attestation formats, and a
// forged signature does not.
func TestVerifiedByGoWebAuthn(t *testing.T) {
	const origin, rp = "https://app.example.com", "example.com"
	params := []protocol.CredentialParameter{{Type: protocol.PublicKeyCredentialType, Algorithm: webauthncose.AlgES256}}
	for _, format := range []string{"none", "packed"} {
		t.Run(format, func(t *testing.T) {
			a := webauthntest.New(origin)
			a.Attestation = format
			reg, err := a.Register([]byte(`{"challenge":"Y2hhbGxlbmdl","rp":{"id":"` + rp + `"},"user":{"id":"dXNlcg"},"pubKeyCredParams":[{"type":"public-key","alg":-7}]}`))
			if err != nil {
				t.Fatal(err)
			}
			pcc, err := protocol.ParseCredentialCreationResponseBytes(reg)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := pcc.Verify("Y2hhbGxlbmdl", rp, []string{origin}, nil, nil, protocol.TopOriginImplicitVerificationMode, false, true, true, nil, params, protocol.AttestationPolicy{}, protocol.SignaturePolicy{}); err != nil {
				t.Fatalf("registration: %v", err)
			}
			if got := pcc.Response.AttestationObject.Format; got != format {
				t.Fatalf("format %q", got)
			}
			key := pcc.Response.AttestationObject.AuthData.AttData.CredentialPublicKey
			for i, forge := range []bool{false, true, false} {
				a.Forge = forge
				as, err := a.Assert([]byte(`{"challenge":"b3RoZXI","rpId":"` + rp + `"}`))
				if err != nil {
					t.Fatal(err)
				}
				par, err := protocol.ParseCredentialRequestResponseBytes(as)
				if err != nil {
					t.Fatal(err)
				}
				err = par.Verify("b3RoZXI", rp, "", []string{origin}, nil, nil, protocol.TopOriginImplicitVerificationMode, false, true, true, key, protocol.SignaturePolicy{})
				if forge != (err != nil) {
					t.Fatalf("assertion %d (forged %v): %v", i, forge, err)
				}
				if want := uint32(i + 1); par.Response.AuthenticatorData.Counter != want {
					t.Fatalf("counter %d, want %d", par.Response.AuthenticatorData.Counter, want)
				}
			}
		})
	}
}
