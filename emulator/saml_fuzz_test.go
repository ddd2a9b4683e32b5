package emulator

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"testing"
	"time"
)

// FuzzSAMLACS feeds what an IdP (or anyone) may post to /saml2/idpresponse to
// the ACS's checks, and what a MetadataURL may answer to the metadata parser:
// they never panic, and nothing not signed by the provider's key (which the
// fuzzer does not have) is ever accepted.
func FuzzSAMLACS(f *testing.F) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "idp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		f.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	enc, _ := rsa.GenerateKey(rand.Reader, 2048)
	plain := &samlProvider{prov: &oidcProvider{Name: "P", Type: "SAML"}, idp: &samlIdP{EntityID: "urn:idp", SSO: "http://127.0.0.1/sso", Certs: []*x509.Certificate{cert}}}
	encrypted := &samlProvider{prov: plain.prov, idp: plain.idp, key: enc, cert: der}

	const assertion = `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="a1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z">` +
		`<saml:Issuer>urn:idp</saml:Issuer><saml:Subject><saml:NameID>x</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">` +
		`<saml:SubjectConfirmationData Recipient="http://127.0.0.1/saml2/idpresponse" NotOnOrAfter="2100-01-01T00:00:00Z"/></saml:SubjectConfirmation></saml:Subject>` +
		`<saml:Conditions NotBefore="2000-01-01T00:00:00Z" NotOnOrAfter="2100-01-01T00:00:00Z"><saml:AudienceRestriction><saml:Audience>urn:amazon:cognito:sp:p_1</saml:Audience></saml:AudienceRestriction></saml:Conditions></saml:Assertion>`
	f.Add([]byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="r" Version="2.0"><saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">urn:idp</saml:Issuer>`+
		`<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>`+assertion+`</samlp:Response>`), "")
	f.Add([]byte(`<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&e;</samlp:Response>`), "req-1")
	f.Add([]byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"><saml:EncryptedAssertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><x/></saml:EncryptedAssertion></samlp:Response>`), "")
	f.Add([]byte(`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="urn:idp"><md:IDPSSODescriptor><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="http://127.0.0.1/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>`), "")
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, doc []byte, requestID string) {
		encoded := base64.StdEncoding.EncodeToString(doc)
		for _, sp := range []*samlProvider{plain, encrypted} {
			if as, err := sp.verifySAMLResponse("p_1", "http://127.0.0.1/saml2/idpresponse", encoded, requestID, now); err == nil {
				t.Fatalf("accepted an unsigned document: %+v", as)
			}
		}
		if idp, err := parseSAMLMetadata(doc, now); err == nil {
			if idp.SSO == "" || len(idp.Certs) == 0 || len(idp.Certs) > maxSAMLCerts || !httpURL(idp.SSO) {
				t.Fatalf("kept unusable metadata %+v", idp)
			}
		}
		_ = samlClaims(&samlAssertion{NameID: string(doc), Attributes: map[string][]string{"a": {requestID, string(doc)}}})
	})
}
