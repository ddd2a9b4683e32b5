package emulator

// Federation with a SAML 2.0 identity provider, as Cognito's hosted UI does it.
// The pool is the service provider urn:amazon:cognito:sp:{poolId}; its
// assertion consumer service is {emulator URL}/saml2/idpresponse (HTTP-POST
// binding), its single logout endpoint {emulator URL}/saml2/logout.
//
//   - /oauth2/authorize?identity_provider=NAME (or idp_identifier) sends the
//     browser to the IdP's HTTP-Redirect SingleSignOnService with an
//     AuthnRequest (query-signed with the pool's signing certificate when the
//     provider's RequestSigningAlgorithm is rsa-sha256) and a RelayState naming
//     the pending sign-in;
//   - the IdP posts its Response to /saml2/idpresponse. The response or its
//     assertion must be signed by a certificate of the IdP's metadata; the
//     issuer, destination, recipient, audience, NotBefore/NotOnOrAfter (with
//     samlSkew), InResponseTo (the AuthnRequest's ID) are checked, and the
//     assertion's ID is remembered until it expires, so a replay is refused.
//     With EncryptedResponses the assertion must be encrypted to the
//     provider's encryption certificate (ActiveEncryptionCertificate);
//   - the NameID gives the user NAME_{NameID}, AttributeMapping maps the
//     assertion's attributes (federation.go makes or updates the user), and the
//     app gets its code.
//
// With IDPInit the IdP may post an unsolicited response; its RelayState then
// holds the authorize parameters (client_id, redirect_uri, response_type,
// scope, identity_provider or idp_identifier). With IDPSignout, /logout sends a
// user signed in through the IdP on to its SingleLogoutService with a signed
// LogoutRequest, and the IdP's LogoutResponse at /saml2/logout ends it.
//
// XML signatures, decryption and the SAML protocol checks are those of
// github.com/russellhaering/gosaml2 (and goxmldsig); nothing here reads a
// signature by hand. Everything the IdP sends is bounded: the metadata (fetched
// with a deadline, a size cap and no redirect followed), the posted form, the
// XML's token count (gosaml2's), and Go's encoding/xml resolves no entities.

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/beevik/etree"
	rtvalidator "github.com/mattermost/xml-roundtrip-validator"
	saml2 "github.com/russellhaering/gosaml2"
	samltypes "github.com/russellhaering/gosaml2/types"
	dsig "github.com/russellhaering/goxmldsig"
)

const (
	// samlSkew is the clock skew allowed on NotBefore and NotOnOrAfter.
	samlSkew = time.Minute
	// maxSAMLResponse is the longest SAMLResponse accepted, Cognito's limit
	// ("assertions of up to 100,000 characters in length").
	maxSAMLResponse = 100_000
	// maxSAMLForm caps the body posted to /saml2/idpresponse and /saml2/logout.
	maxSAMLForm = 128 << 10
	// maxSAMLMetadata caps a provider's metadata (MetadataFile's limit in
	// Cognito's API, also applied to what MetadataURL answers).
	maxSAMLMetadata = 131_072
	// maxSAMLRelayState bounds the RelayState of an IdP-initiated sign-in.
	maxSAMLRelayState = 4096
	// maxSAMLCerts bounds the signing certificates read from metadata; each is
	// at most 4,096 characters, as Cognito documents.
	maxSAMLCerts = 10
	// maxSAMLSeen bounds the remembered assertion IDs.
	maxSAMLSeen = 100_000
	// samlMetadataTimeout bounds the fetch of MetadataURL.
	samlMetadataTimeout = 5 * time.Second
	// samlKind is the pool's hidden record per SAML provider: its metadata and
	// encryption key, never shown by the API.
	samlKind = "samlProvider"

	samlBindingRedirect = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
	samlBindingPost     = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
)

// samlSPEntityID is the pool's service provider entity ID, as Cognito names it.
func samlSPEntityID(poolID string) string { return "urn:amazon:cognito:sp:" + poolID }

// samlRecord is a SAML provider's hidden record.
type samlRecord struct {
	Metadata string `json:"metadata"`          // the IdP's metadata XML, as given or fetched
	Key      []byte `json:"key,omitempty"`     // PKCS #1 RSA key decrypting its assertions
	Cert     []byte `json:"cert,omitempty"`    // the key's certificate (DER)
	Fetched  bool   `json:"fetched,omitempty"` // read from MetadataURL
}

// samlIdP is what the emulator uses of an IdP's metadata.
type samlIdP struct {
	EntityID string
	SSO      string // HTTP-Redirect SingleSignOnService
	SLO      string // HTTP-Redirect SingleLogoutService, "" when none
	Certs    []*x509.Certificate
}

// parseSAMLMetadata reads an IdP's metadata: one EntityDescriptor with an
// IDPSSODescriptor, an HTTP-Redirect SingleSignOnService and 1 to 10 signing
// certificates. Expired certificates are refused when configuring (now not
// zero), as Cognito refuses them.
func parseSAMLMetadata(raw []byte, now time.Time) (*samlIdP, error) {
	ed, err := readEntityDescriptor(raw)
	if err != nil {
		return nil, err
	}
	d := ed.IDPSSODescriptor
	idp := &samlIdP{EntityID: ed.EntityID}
	for _, s := range d.SingleSignOnServices {
		if s.Binding == samlBindingRedirect && idp.SSO == "" && httpURL(s.Location) {
			idp.SSO = s.Location
		}
	}
	for _, s := range d.SingleLogoutServices {
		if s.Binding == samlBindingRedirect && idp.SLO == "" && httpURL(s.Location) {
			idp.SLO = s.Location
		}
	}
	if idp.SSO == "" {
		return nil, errors.New("the metadata has no HTTP-Redirect SingleSignOnService")
	}
	if idp.Certs, err = samlSigningCerts(d.KeyDescriptors, now); err != nil {
		return nil, err
	}
	return idp, nil
}

// readEntityDescriptor reads bounded, well-formed metadata with an
// IDPSSODescriptor and a usable entityID.
func readEntityDescriptor(raw []byte) (*samltypes.EntityDescriptor, error) {
	if len(raw) == 0 || len(raw) > maxSAMLMetadata {
		return nil, fmt.Errorf("the metadata must be 1 to %d bytes", maxSAMLMetadata)
	}
	if err := rtvalidator.Validate(bytes.NewReader(raw)); err != nil {
		return nil, errors.New("the metadata is not well-formed XML")
	}
	if bytes.Count(raw, []byte("<")) > 10_000 {
		return nil, errors.New("the metadata has too many elements")
	}
	var ed samltypes.EntityDescriptor
	if err := xml.Unmarshal(raw, &ed); err != nil {
		return nil, errors.New("the metadata is not a SAML EntityDescriptor")
	}
	if ed.IDPSSODescriptor == nil {
		return nil, errors.New("the metadata has no IDPSSODescriptor")
	}
	if ed.EntityID == "" || len(ed.EntityID) > 1024 {
		return nil, errors.New("the metadata has no usable entityID")
	}
	return &ed, nil
}

// samlSigningCerts reads the signing certificates of the key descriptors: 1
// to maxSAMLCerts, none expired when now is not zero.
func samlSigningCerts(kds []samltypes.KeyDescriptor, now time.Time) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for _, kd := range kds {
		if kd.Use != "" && kd.Use != "signing" {
			continue
		}
		for _, xc := range kd.KeyInfo.X509Data.X509Certificates {
			cert, err := parseSAMLCert(xc.Data, now)
			if err != nil {
				return nil, err
			}
			if len(certs) == maxSAMLCerts {
				return nil, fmt.Errorf("the metadata has more than %d signing certificates", maxSAMLCerts)
			}
			certs = append(certs, cert)
		}
	}
	if len(certs) == 0 {
		return nil, errors.New("the metadata has no signing certificate")
	}
	return certs, nil
}

// parseSAMLCert reads one base64 X.509 certificate of the metadata.
func parseSAMLCert(text string, now time.Time) (*x509.Certificate, error) {
	data := strings.Join(strings.Fields(text), "")
	if len(data) > 4096 {
		return nil, errors.New("a signing certificate is longer than 4096 characters")
	}
	der, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, errors.New("a signing certificate is not base64")
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, errors.New("a signing certificate is not X.509")
	}
	if !now.IsZero() && now.After(cert.NotAfter) {
		return nil, errors.New("a signing certificate has expired")
	}
	return cert, nil
}

// samlBool reads a SAML ProviderDetails flag ("true"/"false", absent false).
func samlBool(d map[string]string, k string) bool { return strings.EqualFold(d[k], "true") }

// samlDetailKeys are the ProviderDetails a SAML provider may be given; the
// read-only ones Cognito adds are dropped from input.
var (
	samlDetailKeys   = []string{"MetadataFile", "MetadataURL", "IDPSignout", "IDPInit", "EncryptedResponses", "RequestSigningAlgorithm"}
	samlReadOnlyKeys = []string{"SSORedirectBindingURI", "SLORedirectBindingURI", "ActiveEncryptionCertificate"}
)

// samlDetails validates a SAML provider's ProviderDetails, reads its metadata
// (MetadataURL is fetched with e.mu released meanwhile: callers must use the
// returned pool, which is nil when the pool went away), and returns the details
// as Describe shows them, with the read-only keys Cognito adds.
func (e *Emulator) samlDetails(c *call, p *userPool, name string, in map[string]string) (map[string]string, *userPool, error) {
	d, err := samlInputDetails(in)
	if err != nil {
		return nil, p, err
	}
	file, link := d["MetadataFile"], d["MetadataURL"]
	var raw []byte
	switch {
	case file != "" && link != "", file == "" && link == "":
		return nil, p, errInvalidParameter("Exactly one of MetadataFile or MetadataURL is required for SAML identity providers.")
	case file != "":
		raw = []byte(file)
	default:
		if !httpURL(link) {
			return nil, p, errInvalidParameter("MetadataURL must be an http or https URL.")
		}
		poolID := p.ID
		e.mu.Unlock()
		body, err := fetchSAMLMetadata(c.ctx, link)
		e.mu.Lock()
		if p = e.st.Pools[poolID]; p == nil {
			return nil, nil, errResourceNotFound("User pool %s does not exist.", clip(poolID))
		}
		if err != nil {
			return nil, p, errInvalidParameter("Could not retrieve the SAML metadata from MetadataURL: %v", err)
		}
		raw = body
	}
	idp, err := parseSAMLMetadata(raw, c.now)
	if err != nil {
		return nil, p, errInvalidParameter("Invalid SAML metadata: %v", err)
	}
	d["SSORedirectBindingURI"] = idp.SSO
	if idp.SLO != "" {
		d["SLORedirectBindingURI"] = idp.SLO
	}
	rec := samlRecord{Metadata: string(raw), Fetched: link != ""}
	if samlBool(d, "EncryptedResponses") {
		if err := e.keepSAMLEncryptionKey(p, name, &rec, c.now); err != nil {
			return nil, p, err
		}
		d["ActiveEncryptionCertificate"] = base64.StdEncoding.EncodeToString(rec.Cert)
	}
	if err := e.putStored(p, samlKind, name, rec); err != nil {
		return nil, p, err
	}
	return d, p, nil
}

// samlInputDetails keeps the SAML ProviderDetails a request may set (dropping
// the read-only ones) and checks their values.
func samlInputDetails(in map[string]string) (map[string]string, error) {
	d := map[string]string{}
	for k, v := range in {
		switch {
		case slices.Contains(samlReadOnlyKeys, k):
		case slices.Contains(samlDetailKeys, k):
			d[k] = v
		default:
			return nil, errInvalidParameter("%s is not a valid ProviderDetails key for SAML identity providers.", clip(k))
		}
	}
	for _, k := range []string{"IDPSignout", "IDPInit", "EncryptedResponses"} {
		if v, ok := d[k]; ok && v != "true" && v != "false" {
			return nil, errInvalidParameter("%s must be true or false.", k)
		}
	}
	if v, ok := d["RequestSigningAlgorithm"]; ok && v != "rsa-sha256" {
		return nil, errInvalidParameter("RequestSigningAlgorithm must be rsa-sha256.")
	}
	return d, nil
}

// keepSAMLEncryptionKey gives rec the provider's encryption key pair: one per
// provider, kept across updates, as Cognito keeps it.
func (e *Emulator) keepSAMLEncryptionKey(p *userPool, name string, rec *samlRecord, now time.Time) error {
	var old samlRecord
	if prev, ok := p.stored(samlKind)[name]; ok {
		_ = json.Unmarshal(prev, &old)
	}
	rec.Key, rec.Cert = old.Key, old.Cert
	if len(rec.Key) == 0 {
		var err error
		if rec.Key, rec.Cert, err = e.samlEncryptionKey(p, name, now); err != nil {
			return err
		}
	}
	return nil
}

// samlEncryptionKey makes a provider's encryption key and its self-signed
// certificate, valid 10 years as Cognito's are.
func (e *Emulator) samlEncryptionKey(p *userPool, name string, now time.Time) ([]byte, []byte, error) {
	k, err := rsa.GenerateKey(e.random, 2048)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: new(big.Int).SetBytes(e.randomBytes(16)),
		Subject:      pkix.Name{CommonName: p.ID + " " + name, Organization: []string{"cogauth emulator"}},
		NotBefore:    now.Add(-time.Hour), NotAfter: now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageKeyEncipherment | x509.KeyUsageDataEncipherment,
	}
	der, err := x509.CreateCertificate(e.random, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		return nil, nil, err
	}
	return x509.MarshalPKCS1PrivateKey(k), der, nil
}

// fetchSAMLMetadata GETs MetadataURL: a deadline, a size cap, no redirect
// followed, a 200 answer only.
func fetchSAMLMetadata(ctx context.Context, link string) ([]byte, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, samlMetadataTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err != nil {
		return nil, errors.New("bad URL")
	}
	resp, err := fedHTTP().Do(req)
	if err != nil {
		return nil, errors.New("the URL did not answer")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the URL answered %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxSAMLMetadata+1))
	if err != nil {
		return nil, errors.New("the answer was cut short")
	}
	if len(body) > maxSAMLMetadata {
		return nil, fmt.Errorf("the answer is over %d bytes", maxSAMLMetadata)
	}
	return body, nil
}

// samlProvider is a SAML provider ready for a sign-in: its configuration,
// parsed metadata and decryption key.
type samlProvider struct {
	prov *oidcProvider
	idp  *samlIdP
	key  *rsa.PrivateKey
	cert []byte
}

// loadSAML reads prov's hidden record; e.mu is held.
func (p *userPool) loadSAML(prov *oidcProvider) (*samlProvider, error) {
	raw, ok := p.stored(samlKind)[prov.Name]
	if !ok {
		return nil, errors.New("the provider has no metadata")
	}
	var rec samlRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, err
	}
	idp, err := parseSAMLMetadata([]byte(rec.Metadata), time.Time{})
	if err != nil {
		return nil, err
	}
	sp := &samlProvider{prov: prov, idp: idp, cert: rec.Cert}
	if len(rec.Key) > 0 {
		if sp.key, err = x509.ParsePKCS1PrivateKey(rec.Key); err != nil {
			return nil, err
		}
	}
	return sp, nil
}

// serviceProvider is gosaml2's view of the pool as the IdP's service provider.
// Its clock is now - samlSkew, so that gosaml2's own NotOnOrAfter checks allow
// the skew (NotBefore is checked again here with it).
func (s *samlProvider) serviceProvider(poolID, acs, slo string, now time.Time) *saml2.SAMLServiceProvider {
	sp := &saml2.SAMLServiceProvider{
		IdentityProviderSSOURL:      s.idp.SSO,
		IdentityProviderSSOBinding:  samlBindingRedirect,
		IdentityProviderSLOURL:      s.idp.SLO,
		IdentityProviderSLOBinding:  samlBindingRedirect,
		IdentityProviderIssuer:      s.idp.EntityID,
		AssertionConsumerServiceURL: acs,
		ServiceProviderSLOURL:       slo,
		ServiceProviderIssuer:       samlSPEntityID(poolID),
		AudienceURI:                 samlSPEntityID(poolID),
		IDPCertificateStore:         &dsig.MemoryX509CertificateStore{Roots: s.idp.Certs},
		AllowMissingAttributes:      true,
		Clock:                       dsig.NewFakeClockAt(now.Add(-samlSkew)),
		MaximumDecompressedBodySize: maxSAMLForm,
		MaximumXMLTokens:            20_000,
	}
	if s.key != nil {
		// gosaml2 v0.12.0 decrypts with SPKeyStore only (SetSPKeyStore's key
		// is not used for decryption).
		sp.SPKeyStore = dsig.TLSCertKeyStore(tls.Certificate{Certificate: [][]byte{s.cert}, PrivateKey: s.key})
	}
	return sp
}

// samlURL is one of the pool's SAML endpoints on the emulator's own URL, as
// Cognito's are on the pool's domain.
func (o *oauthReq) samlURL(path string) string {
	scheme := "http"
	if o.r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + o.r.Host + path
}

// poolSigningCert returns the pool's signing certificate (GetSigningCertificate)
// and the key it certifies, made on first use and again when the key it
// certified was rotated away; e.mu is held.
func (e *Emulator) poolSigningCert(p *userPool, now time.Time) (*rsa.PrivateKey, []byte, error) {
	if err := e.ensureKeys(p); err != nil {
		return nil, nil, err
	}
	if len(p.SigningCert) > 0 {
		if c, err := x509.ParseCertificate(p.SigningCert); err == nil {
			if pub, ok := c.PublicKey.(*rsa.PublicKey); ok && pub.Equal(&p.Keys.id.PublicKey) {
				return p.Keys.id, p.SigningCert, nil
			}
		}
	}
	tmpl := &x509.Certificate{
		SerialNumber: new(big.Int).SetBytes(e.randomBytes(16)),
		Subject:      pkix.Name{CommonName: p.ID, Organization: []string{"cogauth emulator"}},
		NotBefore:    now.Add(-time.Hour), NotAfter: now.Add(10 * 365 * 24 * time.Hour),
	}
	der, err := x509.CreateCertificate(e.random, tmpl, tmpl, &p.Keys.id.PublicKey, p.Keys.id)
	if err != nil {
		return nil, nil, err
	}
	p.SigningCert = der
	e.dirty = true
	return p.Keys.id, der, nil
}

// federateSAML sends the browser to the IdP with an AuthnRequest.
func (o *oauthReq) federateSAML(a authParams, chk *checked, prov *oidcProvider) {
	acs, slo := o.samlURL("/saml2/idpresponse"), o.samlURL("/saml2/logout")
	var (
		target string
		ferr   error
		full   bool
	)
	if err := o.locked(func(s *oauthState, now time.Time) error {
		p := o.e.st.Pools[chk.p.ID]
		if p == nil {
			ferr = fedFail("the user pool no longer exists")
			return nil
		}
		sp, err := p.loadSAML(prov)
		if err != nil {
			ferr = fedFail("%s Error - the provider's SAML metadata is not usable", prov.Name)
			return nil
		}
		if len(s.Federations) >= maxFederations {
			full = true
			return nil
		}
		gsp := sp.serviceProvider(p.ID, acs, slo, now.Add(samlSkew))
		if prov.Details["RequestSigningAlgorithm"] == "rsa-sha256" {
			key, cert, err := o.e.poolSigningCert(p, now)
			if err != nil {
				return err
			}
			gsp.SignAuthnRequests = true
			if err := gsp.SetSPSigningKeyStore(&saml2.KeyStore{Signer: key, Cert: cert}); err != nil {
				return err
			}
		}
		doc, err := gsp.BuildAuthRequestDocumentNoSig()
		if err != nil {
			return err
		}
		reqID := doc.Root().SelectAttrValue("ID", "")
		relay := o.e.randomB64(32)
		if target, err = gsp.BuildAuthURLRedirect(relay, doc); err != nil {
			return err
		}
		s.Federations[hashToken(relay)] = &fedRequest{PoolID: p.ID, Provider: prov.Name, Auth: a, RedirectURI: acs, SAMLRequestID: reqID, Expires: now.Add(fedTTL)}
		o.e.dirty = true
		return nil
	}); err != nil {
		o.internal(err)
		return
	}
	switch {
	case ferr != nil:
		o.fedFailRedirect(a, ferr)
	case full:
		o.fail(a, &oauthErr{Code: "temporarily_unavailable", Desc: "too many federated sign-ins under way", Status: http.StatusServiceUnavailable}, true)
	default:
		http.Redirect(o.w, o.r, target, http.StatusFound)
	}
}

// samlAssertion is what a verified response says.
type samlAssertion struct {
	ID, Issuer           string
	NameID, NameIDFormat string
	SessionIndex         string
	Attributes           map[string][]string
	Expires              time.Time // when the assertion's ID may be forgotten
}

// errSAML is a refused response as the app sees it: a fixed reason, never the
// IdP's words (which the log keeps, bounded).
type errSAML string

func (e errSAML) Error() string { return string(e) }

// samlCause is a refusal with the library's error behind it, for the log.
type samlCause struct {
	reason errSAML
	cause  error
}

func (e *samlCause) Error() string { return e.reason.Error() }
func (e *samlCause) Unwrap() error { return e.cause }

// samlDetail is what the log keeps of a refusal: the library's words, bounded.
func samlDetail(err error) string {
	if c, ok := err.(*samlCause); ok {
		return redactProvider(&oidcProvider{}, c.cause.Error(), maxProviderDetail)
	}
	return ""
}

// verifySAMLResponse checks an encoded Response for a sign-in: requestID is the
// AuthnRequest's ID ("" for IdP-initiated sign-in, whose response must answer
// none).
func (s *samlProvider) verifySAMLResponse(poolID, acs, encoded, requestID string, now time.Time) (*samlAssertion, error) {
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return nil, errSAML("the SAMLResponse is not base64")
	}
	// The shape first: one assertion, encrypted exactly when the provider
	// asks for encrypted responses.
	if err := checkSAMLResponseShape(raw, s.key != nil); err != nil {
		return nil, err
	}
	sp := s.serviceProvider(poolID, acs, "", now)
	resp, err := sp.ValidateEncodedResponse(encoded)
	if err != nil {
		return nil, classifySAMLError(err)
	}
	if len(resp.Assertions) != 1 {
		return nil, errSAML("the response must carry exactly one signed assertion")
	}
	as := &resp.Assertions[0]
	if !resp.SignatureValidated && !as.SignatureValidated {
		return nil, errSAML("neither the response nor its assertion is signed")
	}
	na, err := checkSAMLConditions(sp, as, now)
	if err != nil {
		return nil, err
	}
	sna, err := checkSAMLSubject(resp.InResponseTo, as, requestID)
	if err != nil {
		return nil, err
	}
	return s.samlAssertionOf(as, na, sna)
}

// checkSAMLResponseShape reads the XML before the signature is checked: no
// DTD, a SAML Response, one assertion, encrypted exactly when encrypted.
func checkSAMLResponseShape(raw []byte, wantEncrypted bool) error {
	doc := etree.NewDocument()
	doc.ReadSettings.Permissive = false
	if err := doc.ReadFromBytes(raw); err != nil || doc.Root() == nil {
		return errSAML("the SAMLResponse is not XML")
	}
	for _, tok := range doc.Child {
		if _, ok := tok.(*etree.Directive); ok {
			// SAML forbids DTDs (saml-core 1.3.5); nothing declared is used.
			return errSAML("the SAMLResponse has a DTD")
		}
	}
	root := doc.Root()
	if root.Tag != "Response" || root.NamespaceURI() != "urn:oasis:names:tc:SAML:2.0:protocol" {
		return errSAML("the SAMLResponse is not a SAML Response")
	}
	plain, encrypted := countSAMLAssertions(root)
	switch {
	case plain+encrypted != 1:
		return errSAML("the response must carry exactly one assertion")
	case wantEncrypted && encrypted != 1:
		return errSAML("the assertion is not encrypted, and the provider requires encrypted responses")
	case !wantEncrypted && encrypted != 0:
		return errSAML("the assertion is encrypted, and the provider does not use encrypted responses")
	}
	return nil
}

// countSAMLAssertions counts the Response's plain and encrypted assertions.
func countSAMLAssertions(root *etree.Element) (plain, encrypted int) {
	for _, ch := range root.ChildElements() {
		switch {
		case ch.Tag == "Assertion" && ch.NamespaceURI() == saml2.SAMLAssertionNamespace:
			plain++
		case ch.Tag == "EncryptedAssertion" && ch.NamespaceURI() == saml2.SAMLAssertionNamespace:
			encrypted++
		}
	}
	return plain, encrypted
}

// checkSAMLConditions checks the assertion's audience and validity window and
// returns its NotOnOrAfter.
func checkSAMLConditions(sp *saml2.SAMLServiceProvider, as *samltypes.Assertion, now time.Time) (time.Time, error) {
	warn, err := sp.VerifyAssertionConditions(as)
	if err != nil {
		return time.Time{}, errSAML("the assertion has no valid Conditions")
	}
	if warn.NotInAudience || len(as.Conditions.AudienceRestrictions) == 0 {
		return time.Time{}, errSAML("the assertion is not for this service provider (audience)")
	}
	nb, err1 := time.Parse(time.RFC3339, as.Conditions.NotBefore)
	na, err2 := time.Parse(time.RFC3339, as.Conditions.NotOnOrAfter)
	if err1 != nil || err2 != nil {
		return time.Time{}, errSAML("the assertion's validity is not readable")
	}
	switch {
	case now.Add(samlSkew).Before(nb):
		return time.Time{}, errSAML("the assertion is not valid yet (NotBefore)")
	case !now.Add(-samlSkew).Before(na):
		return time.Time{}, errSAML("the assertion has expired (NotOnOrAfter)")
	}
	return na, nil
}

// checkSAMLSubject checks that the response answers requestID and that the
// assertion has an ID and a NameID; it returns the subject confirmation's
// NotOnOrAfter.
func checkSAMLSubject(inResponseTo string, as *samltypes.Assertion, requestID string) (time.Time, error) {
	scd := as.Subject.SubjectConfirmation.SubjectConfirmationData
	if inResponseTo != requestID || scd.InResponseTo != requestID {
		if requestID == "" {
			return time.Time{}, errSAML("an IdP-initiated response answers a request (InResponseTo)")
		}
		return time.Time{}, errSAML("the response does not answer this sign-in's request (InResponseTo)")
	}
	sna, err := time.Parse(time.RFC3339, scd.NotOnOrAfter)
	if err != nil {
		return time.Time{}, errSAML("the assertion's validity is not readable")
	}
	if as.ID == "" || len(as.ID) > 256 {
		return time.Time{}, errSAML("the assertion has no usable ID")
	}
	nid := as.Subject.NameID
	if nid == nil || strings.TrimSpace(nid.Value) == "" {
		return time.Time{}, errSAML("the assertion has no NameID")
	}
	return sna, nil
}

// samlAssertionOf is what the emulator keeps of a verified assertion.
func (s *samlProvider) samlAssertionOf(as *samltypes.Assertion, na, sna time.Time) (*samlAssertion, error) {
	nid := as.Subject.NameID
	out := &samlAssertion{
		ID: as.ID, Issuer: s.idp.EntityID, NameID: nid.Value, NameIDFormat: nid.Format,
		Attributes: map[string][]string{}, Expires: na.Add(samlSkew),
	}
	if sna.Add(samlSkew).After(out.Expires) {
		out.Expires = sna.Add(samlSkew)
	}
	if as.AuthnStatement != nil {
		out.SessionIndex = as.AuthnStatement.SessionIndex
	}
	if as.AttributeStatement != nil {
		if len(as.AttributeStatement.Attributes) > 200 {
			return nil, errSAML("the assertion has more than 200 attributes")
		}
		for _, at := range as.AttributeStatement.Attributes {
			vals := out.Attributes[at.Name]
			for _, v := range at.Values {
				vals = append(vals, v.Value)
			}
			out.Attributes[at.Name] = vals
		}
	}
	return out, nil
}

// classifySAMLError turns gosaml2's error into a fixed reason: its texts carry
// values from the response, which the app's URL must not.
func classifySAMLError(err error) error {
	return &samlCause{reason: samlReason(err), cause: err}
}

func samlReason(err error) errSAML {
	var (
		missing saml2.ErrMissingElement
		invalid saml2.ErrInvalidValue
	)
	switch {
	case errors.As(err, &invalid):
		switch invalid.Key {
		case saml2.IssuerTag:
			return errSAML("the response is from another issuer")
		case saml2.DestinationAttr:
			return errSAML("the response is for another destination")
		case saml2.RecipientAttr:
			return errSAML("the assertion is for another recipient")
		case saml2.NotOnOrAfterAttr:
			return errSAML("the assertion has expired (NotOnOrAfter)")
		case saml2.StatusCodeTag:
			return errSAML("the identity provider answered a failure status")
		}
		return errSAML("the response has an invalid value")
	case errors.As(err, &missing):
		return errSAML("the response lacks a required element")
	case errors.Is(err, dsig.ErrMissingSignature):
		return errSAML("neither the response nor its assertion is signed")
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "ignature") || strings.Contains(msg, "ertificate") || strings.Contains(msg, "igest"):
		return errSAML("the signature does not verify with the provider's certificate")
	case strings.Contains(msg, "decrypt") || strings.Contains(msg, "ncrypt"):
		return errSAML("the assertion cannot be decrypted with the provider's encryption key")
	}
	return errSAML("the response is not valid")
}

// samlClaims turns the assertion's attributes into claims for the attribute
// mapping: one value as it is, several as Cognito writes a multi-valued
// attribute, "[a, b]". The NameID is the sub.
func samlClaims(as *samlAssertion) map[string]any {
	claims := map[string]any{"sub": as.NameID}
	for name, vals := range as.Attributes {
		switch len(vals) {
		case 0:
		case 1:
			claims[name] = vals[0]
		default:
			claims[name] = "[" + strings.Join(vals, ", ") + "]"
		}
	}
	return claims
}

// samlReply is what samlIdpResponse learns of the request a SAML response
// answers: the authorize parameters, the provider and where it failed.
type samlReply struct {
	a         authParams
	sp        *samlProvider
	poolID    string
	requestID string
	acs       string
	oe        *oauthErr
	redirect  bool
	ferr      error
}

// samlIdpResponse serves POST /saml2/idpresponse.
func (o *oauthReq) samlIdpResponse() {
	o.r.Body = http.MaxBytesReader(o.w, o.r.Body, maxSAMLForm)
	if err := o.r.ParseForm(); err != nil {
		o.errorPage(http.StatusBadRequest, "invalid_request")
		return
	}
	encoded, relay := o.r.PostForm.Get("SAMLResponse"), o.r.PostForm.Get("RelayState")
	if encoded == "" || len(encoded) > maxSAMLResponse || len(relay) > maxSAMLRelayState {
		o.errorPage(http.StatusBadRequest, "invalid_request")
		return
	}
	rp := &samlReply{acs: o.samlURL("/saml2/idpresponse")}
	if err := o.locked(func(s *oauthState, now time.Time) error {
		if o.samlSPInitiated(s, now, relay, rp) {
			return nil
		}
		o.samlIdPInitiated(relay, rp)
		return nil
	}); err != nil {
		o.internal(err)
		return
	}
	switch {
	case rp.oe != nil:
		o.fail(rp.a, rp.oe, rp.redirect)
		return
	case rp.ferr != nil:
		o.fedFailRedirect(rp.a, rp.ferr)
		return
	}
	as, err := rp.sp.verifySAMLResponse(rp.poolID, rp.acs, encoded, rp.requestID, o.e.Now())
	if err != nil {
		o.e.logger().Warn("emulator: SAML response refused", "provider", clip(rp.sp.prov.Name), "reason", clip(err.Error()), "detail", samlDetail(err))
		o.fedFailRedirect(rp.a, fedFail("Invalid SAML response received: %s", err.Error()))
		return
	}
	var (
		username, cookie string
		authTime         time.Time
		ferr             error
	)
	if err := o.locked(func(s *oauthState, now time.Time) error {
		username, cookie, authTime, ferr = o.samlSignIn(s, now, rp, as)
		return nil
	}); err != nil {
		o.internal(err)
		return
	}
	if ferr != nil {
		o.fedFailRedirect(rp.a, ferr)
		return
	}
	http.SetCookie(o.w, &http.Cookie{Name: loginCookie, Value: cookie, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: int(loginTTL / time.Second)})
	o.complete(rp.a, username, authTime)
}

// samlSPInitiated reads the sign-in request the RelayState names, if it names
// one (then it tells true): one answer per request, whatever it says.
func (o *oauthReq) samlSPInitiated(s *oauthState, now time.Time, relay string, rp *samlReply) bool {
	if relay == "" || len(relay) > 512 {
		return false
	}
	key := hashToken(relay)
	f := s.Federations[key]
	if f == nil || f.SAMLRequestID == "" || f.LogoutTarget != "" {
		return false
	}
	delete(s.Federations, key) // one answer per request, whatever it says
	o.e.dirty = true
	if now.After(f.Expires) {
		rp.oe = errOAuth("invalid_request")
		return true
	}
	p := o.e.st.Pools[f.PoolID]
	prov := (*oidcProvider)(nil)
	if p != nil {
		prov = p.identityProvider(f.Provider)
	}
	if prov == nil || prov.Type != "SAML" {
		rp.oe = errOAuth("invalid_request")
		return true
	}
	rp.a, rp.poolID, rp.requestID, rp.acs = f.Auth, p.ID, f.SAMLRequestID, f.RedirectURI
	var err error
	if rp.sp, err = p.loadSAML(prov); err != nil {
		rp.ferr = fedFail("%s Error - the provider's SAML metadata is not usable", prov.Name)
	}
	return true
}

// samlIdPInitiated reads an IdP-initiated sign-in: the RelayState holds the
// authorize parameters.
func (o *oauthReq) samlIdPInitiated(relay string, rp *samlReply) {
	q, err := url.ParseQuery(relay)
	if err != nil || relay == "" {
		rp.oe = errOAuth("invalid_request")
		return
	}
	rp.a = readAuthParams(q)
	var chk *checked
	if chk, rp.oe, rp.redirect = o.validate(rp.a); rp.oe != nil {
		return
	}
	prov := chk.p.identityProvider(chk.provider)
	if prov == nil || prov.Type != "SAML" || !samlBool(prov.Details, "IDPInit") {
		rp.oe, rp.redirect = &oauthErr{Code: "invalid_request", Desc: "IdP-initiated sign-in is not enabled for this identity provider", Status: http.StatusBadRequest}, true
		return
	}
	rp.poolID = chk.p.ID
	if rp.sp, err = chk.p.loadSAML(prov); err != nil {
		rp.ferr = fedFail("%s Error - the provider's SAML metadata is not usable", prov.Name)
	}
}

// samlSignIn signs the assertion's user in (once per assertion) and returns
// the login cookie, or why not.
func (o *oauthReq) samlSignIn(s *oauthState, now time.Time, rp *samlReply, as *samlAssertion) (username, cookie string, authTime time.Time, ferr error) {
	p := o.e.st.Pools[rp.poolID]
	if p == nil {
		return "", "", time.Time{}, fedFail("the user pool no longer exists")
	}
	seen := hashToken(as.Issuer + "\x00" + as.ID)
	if _, dup := s.SAMLSeen[seen]; dup {
		return "", "", time.Time{}, fedFail("Invalid SAML response received: the assertion was already used")
	}
	if len(s.SAMLSeen) >= maxSAMLSeen {
		return "", "", time.Time{}, &fedError{code: "temporarily_unavailable", desc: "too many SAML assertions remembered"}
	}
	s.SAMLSeen[seen] = as.Expires
	o.e.dirty = true
	prov := p.identityProvider(rp.sp.prov.Name)
	if prov == nil {
		return "", "", time.Time{}, fedFail("the identity provider no longer exists")
	}
	prov.Issuer = as.Issuer
	c := &call{ctx: o.r.Context(), op: "saml2/idpresponse", now: now, in: &callInput{ClientID: rp.a.ClientID}}
	u, err := o.e.federatedUser(c, p, prov, samlClaims(as), now)
	if err != nil {
		var ae *Error
		if errors.As(err, &ae) {
			err = &fedError{code: "invalid_request", desc: ae.Message}
		}
		return "", "", time.Time{}, err
	}
	cookie = o.e.randomB64(32)
	s.Logins[hashToken(cookie)] = &loginSession{PoolID: p.ID, Username: u.Username, AuthTime: now, Expires: now.Add(loginTTL),
		SAMLProvider: prov.Name, SAMLNameID: as.NameID, SAMLNameIDFormat: as.NameIDFormat, SAMLSessionIndex: as.SessionIndex}
	return u.Username, cookie, now, nil
}

// samlLogout sends a user signed in through a SAML provider with IDPSignout
// on to the IdP's SingleLogoutService with a signed LogoutRequest; target is
// where /logout would have sent the browser. It tells whether it answered.
func (o *oauthReq) samlLogout(l *loginSession, target string) bool {
	var to string
	slo := o.samlURL("/saml2/logout")
	if err := o.locked(func(s *oauthState, now time.Time) error {
		p := o.e.st.Pools[l.PoolID]
		if p == nil {
			return nil
		}
		prov := p.identityProvider(l.SAMLProvider)
		if prov == nil || prov.Type != "SAML" || !samlBool(prov.Details, "IDPSignout") || len(s.Federations) >= maxFederations {
			return nil
		}
		sp, err := p.loadSAML(prov)
		if err != nil || sp.idp.SLO == "" {
			return nil
		}
		key, cert, err := o.e.poolSigningCert(p, now)
		if err != nil {
			return err
		}
		gsp := sp.serviceProvider(p.ID, o.samlURL("/saml2/idpresponse"), slo, now.Add(samlSkew))
		gsp.NameIdFormat = l.SAMLNameIDFormat
		if err := gsp.SetSPSigningKeyStore(&saml2.KeyStore{Signer: key, Cert: cert}); err != nil {
			return err
		}
		doc, err := gsp.BuildLogoutRequestDocumentNoSig(l.SAMLNameID, l.SAMLSessionIndex)
		if err != nil {
			return err
		}
		relay := o.e.randomB64(32)
		if to, err = gsp.BuildLogoutURLRedirect(relay, doc); err != nil {
			return err
		}
		s.Federations[hashToken(relay)] = &fedRequest{PoolID: p.ID, Provider: prov.Name, RedirectURI: slo,
			SAMLRequestID: doc.Root().SelectAttrValue("ID", ""), LogoutTarget: target, Expires: now.Add(fedTTL)}
		o.e.dirty = true
		return nil
	}); err != nil {
		o.internal(err)
		return true
	}
	if to == "" {
		return false
	}
	http.SetCookie(o.w, &http.Cookie{Name: loginCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true})
	http.Redirect(o.w, o.r, to, http.StatusFound)
	return true
}

// samlLogoutResponse serves POST /saml2/logout: the IdP's LogoutResponse to
// samlLogout's request, which must be signed by the IdP and answer it; the
// browser then goes where /logout was to send it.
func (o *oauthReq) samlLogoutResponse() {
	o.r.Body = http.MaxBytesReader(o.w, o.r.Body, maxSAMLForm)
	if err := o.r.ParseForm(); err != nil {
		o.errorPage(http.StatusBadRequest, "invalid_request")
		return
	}
	encoded, relay := o.r.PostForm.Get("SAMLResponse"), o.r.PostForm.Get("RelayState")
	if encoded == "" || len(encoded) > maxSAMLResponse || relay == "" || len(relay) > 512 {
		o.errorPage(http.StatusBadRequest, "invalid_request")
		return
	}
	f, sp, err := o.takeSAMLLogout(relay)
	if err != nil {
		o.internal(err)
		return
	}
	if f == nil {
		o.errorPage(http.StatusBadRequest, "invalid_request")
		return
	}
	gsp := sp.serviceProvider(f.PoolID, "", f.RedirectURI, o.e.Now())
	resp, err := gsp.ValidateEncodedLogoutResponsePOST(encoded)
	if err == nil && resp.InResponseTo != f.SAMLRequestID {
		err = errSAML("the LogoutResponse does not answer this sign-out (InResponseTo)")
	}
	if err != nil {
		o.e.logger().Warn("emulator: SAML logout response refused", "provider", clip(sp.prov.Name), "reason", clip(classifySAMLError(err).Error()))
		o.errorPage(http.StatusBadRequest, "invalid_request")
		return
	}
	http.Redirect(o.w, o.r, f.LogoutTarget, http.StatusFound)
}

// takeSAMLLogout removes and returns the sign-out request RelayState names
// (one answer per request) and its SAML provider; both are nil for a relay
// state that is not one of ours, has expired, or whose provider is gone.
func (o *oauthReq) takeSAMLLogout(relay string) (f *fedRequest, sp *samlProvider, err error) {
	err = o.locked(func(s *oauthState, now time.Time) error {
		key := hashToken(relay)
		fr := s.Federations[key]
		if fr == nil || fr.LogoutTarget == "" {
			return nil
		}
		delete(s.Federations, key)
		o.e.dirty = true
		p := o.e.st.Pools[fr.PoolID]
		if now.After(fr.Expires) || p == nil {
			return nil
		}
		if prov := p.identityProvider(fr.Provider); prov != nil && prov.Type == "SAML" {
			if loaded, err := p.loadSAML(prov); err == nil {
				f, sp = fr, loaded
			}
		}
		return nil
	})
	return f, sp, err
}
