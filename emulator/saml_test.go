package emulator_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/logger"

	"github.com/cogauth/cogauth/emulator"
)

// The SAML tests run a real SAML 2.0 identity provider from another library
// (crewjam/saml's IdentityProvider, which checks the AuthnRequest's redirect
// signature, signs and encrypts its responses, and serves single logout) on
// loopback, against the emulator's service provider (gosaml2), over HTTP.

const samlProvider = "Corp"

// testIdP is a crewjam/saml identity provider on loopback.
type testIdP struct {
	srv  *httptest.Server
	idp  *saml.IdentityProvider
	mu   sync.Mutex
	sps  map[string]*saml.EntityDescriptor
	user *saml.Session
	// ended counts the sessions single logout ended.
	ended int
}

func (t *testIdP) GetServiceProvider(_ *http.Request, id string) (*saml.EntityDescriptor, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if sp, ok := t.sps[id]; ok {
		return sp, nil
	}
	return nil, os.ErrNotExist
}

func (t *testIdP) GetSession(w http.ResponseWriter, r *http.Request, req *saml.IdpAuthnRequest) *saml.Session {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.user == nil {
		http.Error(w, "no user", http.StatusForbidden)
		return nil
	}
	s := *t.user
	return &s
}

func (t *testIdP) InvalidateSession(w http.ResponseWriter, r *http.Request, req *saml.IdpLogoutRequest) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ended++
	return nil
}

func selfSigned(t *testing.T, cn string) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}

// newTestIdP starts an IdP; with like set, it claims like's entity ID and
// URLs but signs with a key of its own (an impostor).
func newTestIdP(t *testing.T, like *testIdP) *testIdP {
	t.Helper()
	key, cert := selfSigned(t, "idp")
	ti := &testIdP{sps: map[string]*saml.EntityDescriptor{}}
	mux := http.NewServeMux()
	ti.srv = httptest.NewServer(mux)
	t.Cleanup(ti.srv.Close)
	base := ti.srv.URL
	if like != nil {
		base = like.srv.URL
	}
	mu, _ := url.Parse(base + "/metadata")
	su, _ := url.Parse(base + "/sso")
	lu, _ := url.Parse(base + "/slo")
	ti.idp = &saml.IdentityProvider{
		Key: key, Certificate: cert, Logger: logger.DefaultLogger,
		MetadataURL: *mu, SSOURL: *su, LogoutURL: *lu,
		ServiceProviderProvider: ti, SessionProvider: ti,
		WantAuthnRequestsSigned: true,
	}
	mux.HandleFunc("/metadata", ti.idp.ServeMetadata)
	mux.HandleFunc("/sso", ti.idp.ServeSSO)
	mux.HandleFunc("/slo", ti.idp.ServeSLO)
	mux.HandleFunc("/init", func(w http.ResponseWriter, r *http.Request) {
		ti.idp.ServeIDPInitiated(w, r, r.URL.Query().Get("sp"), r.URL.Query().Get("relay"))
	})
	ti.user = &saml.Session{ID: "s1", CreateTime: time.Now(), ExpireTime: time.Now().Add(time.Hour), Index: "idx-1",
		NameID: "erin@corp.example", NameIDFormat: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
		UserName: "erin", UserEmail: "erin@corp.example",
		CustomAttributes: []saml.Attribute{{Name: "department", Values: []saml.AttributeValue{{Value: "eng"}, {Value: "ops"}}}}}
	return ti
}

func (t *testIdP) metadataXML(tb testing.TB) string {
	tb.Helper()
	b, err := xml.Marshal(t.idp.Metadata())
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// trust registers the emulator pool as a service provider, as an IdP admin
// does: entity ID, ACS, single logout, the pool's signing certificate and,
// when given, the provider's encryption certificate.
func (t *testIdP) trust(emuURL, pool, signing, encryption string) {
	yes := true
	kds := []saml.KeyDescriptor{{Use: "signing", KeyInfo: saml.KeyInfo{X509Data: saml.X509Data{X509Certificates: []saml.X509Certificate{{Data: signing}}}}}}
	if encryption != "" {
		kds = append(kds, saml.KeyDescriptor{Use: "encryption", KeyInfo: saml.KeyInfo{X509Data: saml.X509Data{X509Certificates: []saml.X509Certificate{{Data: encryption}}}},
			EncryptionMethods: []saml.EncryptionMethod{{Algorithm: "http://www.w3.org/2001/04/xmlenc#aes256-cbc"}}})
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sps["urn:amazon:cognito:sp:"+pool] = &saml.EntityDescriptor{EntityID: "urn:amazon:cognito:sp:" + pool,
		SPSSODescriptors: []saml.SPSSODescriptor{{
			SSODescriptor: saml.SSODescriptor{
				RoleDescriptor:       saml.RoleDescriptor{ProtocolSupportEnumeration: "urn:oasis:names:tc:SAML:2.0:protocol", KeyDescriptors: kds},
				SingleLogoutServices: []saml.Endpoint{{Binding: saml.HTTPPostBinding, Location: emuURL + "/saml2/logout"}},
			},
			AuthnRequestsSigned:       &yes,
			AssertionConsumerServices: []saml.IndexedEndpoint{{Binding: saml.HTTPPostBinding, Location: emuURL + "/saml2/idpresponse", Index: 1}},
		}}}
}

// samlFixture: an emulator (real clock, so that both sides agree on time;
// Advance moves the emulator's) with a pool "app", a SAML provider Corp whose
// metadata is read from the IdP's MetadataURL, and a client "web" offering it.
type samlFixture struct {
	*oauthFixture
	idp *testIdP
	web string
}

func newSAMLFixture(t *testing.T, details map[string]string) *samlFixture {
	t.Helper()
	srv := emulator.NewServer(emulator.Options{Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{Name: "app"}}}})
	t.Cleanup(srv.Close)
	f := &samlFixture{oauthFixture: &oauthFixture{srv: srv, pool: srv.PoolID("app")}, idp: newTestIdP(t, nil)}
	d := map[string]string{"MetadataURL": f.idp.srv.URL + "/metadata", "RequestSigningAlgorithm": "rsa-sha256"}
	for k, v := range details {
		if v == "" {
			delete(d, k)
		} else {
			d[k] = v
		}
	}
	prov := mustCall(t, srv, "CreateIdentityProvider", map[string]any{
		"UserPoolId": f.pool, "ProviderName": samlProvider, "ProviderType": "SAML", "ProviderDetails": d,
		"AttributeMapping": map[string]string{"email": "urn:oid:0.9.2342.19200300.100.1.3", "custom:department": "department"},
		"IdpIdentifiers":   []string{"corp.example"},
	})["IdentityProvider"].(map[string]any)
	enc, _ := prov["ProviderDetails"].(map[string]any)["ActiveEncryptionCertificate"].(string)
	sign := mustCall(t, srv, "GetSigningCertificate", map[string]any{"UserPoolId": f.pool})["Certificate"].(string)
	f.idp.trust(srv.URL, f.pool, sign, enc)
	mustCall(t, srv, "AddCustomAttributes", map[string]any{"UserPoolId": f.pool, "CustomAttributes": []map[string]any{{"Name": "department", "AttributeDataType": "String"}}})
	f.web = mustCall(t, srv, "CreateUserPoolClient", map[string]any{
		"UserPoolId": f.pool, "ClientName": "web", "AllowedOAuthFlowsUserPoolClient": true,
		"AllowedOAuthFlows": []string{"code"}, "AllowedOAuthScopes": []string{"openid", "email"},
		"CallbackURLs": []string{callback}, "LogoutURLs": []string{"http://127.0.0.1:8765/signed-out"},
		"SupportedIdentityProviders": []string{"COGNITO", samlProvider},
	})["UserPoolClient"].(map[string]any)["ClientId"].(string)
	return f
}

var (
	formActionRe = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
	formFieldRe  = regexp.MustCompile(`<input type="hidden" name="([A-Za-z]+)" value="([^"]*)"`)
)

// samlForm is the auto-submitting form an IdP answers with.
type samlForm struct {
	action string
	fields url.Values
}

func readForm(t *testing.T, page string) samlForm {
	t.Helper()
	m := formActionRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no form in the IdP's answer: %.500s", page)
	}
	f := samlForm{action: html.UnescapeString(m[1]), fields: url.Values{}}
	for _, fm := range formFieldRe.FindAllStringSubmatch(page, -1) {
		f.fields.Set(fm[1], html.UnescapeString(fm[2]))
	}
	return f
}

func post(t *testing.T, c *http.Client, f samlForm) (*http.Response, string) {
	t.Helper()
	resp, err := c.PostForm(f.action, f.fields)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// toIdP follows the app's authorize request to the IdP and returns the
// IdP's form (the SAML response to post) and the AuthnRequest redirect URL.
func (f *samlFixture) toIdP(t *testing.T, c *http.Client, extra url.Values) (samlForm, string) {
	t.Helper()
	if extra == nil {
		extra = url.Values{"identity_provider": {samlProvider}}
	}
	next := follow(t, c, authorizeURL(f.oauthFixture, f.web, extra))
	if !strings.HasPrefix(next, f.idp.srv.URL+"/sso?") {
		t.Fatalf("authorize sent the browser to %s, want the IdP's SSO URL", next)
	}
	resp, page := get(t, c, next)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("IdP SSO: %d %.300s", resp.StatusCode, page)
	}
	return readForm(t, page), next
}

// landed posts the form and returns where the emulator sends the browser.
func landed(t *testing.T, c *http.Client, form samlForm) string {
	t.Helper()
	resp, body := post(t, c, form)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("POST %s: %d %.300s", form.action, resp.StatusCode, body)
	}
	return resp.Header.Get("Location")
}

func wantRefused(t *testing.T, loc, reason string) {
	t.Helper()
	q := mustURL(t, loc).Query()
	if !strings.HasPrefix(loc, callback+"?") || q.Get("code") != "" || q.Get("error") != "invalid_request" || !strings.Contains(q.Get("error_description"), reason) {
		t.Fatalf("landed on %s, want a refusal with %q", loc, reason)
	}
}

func TestSAMLSignInThroughRealIdP(t *testing.T) {
	f := newSAMLFixture(t, nil)
	// What Describe shows: the read-only details Cognito adds.
	d := mustCall(t, f.srv, "DescribeIdentityProvider", map[string]any{"UserPoolId": f.pool, "ProviderName": samlProvider})["IdentityProvider"].(map[string]any)["ProviderDetails"].(map[string]any)
	if d["SSORedirectBindingURI"] != f.idp.srv.URL+"/sso" || d["SLORedirectBindingURI"] != f.idp.srv.URL+"/slo" || d["ActiveEncryptionCertificate"] != nil {
		t.Fatalf("provider details %v", d)
	}

	c := browser(t)
	form, authnURL := f.toIdP(t, c, nil)
	// The AuthnRequest: redirect binding, signed (the IdP wants signed
	// requests and checked the signature against the pool's certificate).
	aq := mustURL(t, authnURL).Query()
	if aq.Get("SAMLRequest") == "" || aq.Get("SigAlg") != "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" || aq.Get("Signature") == "" || aq.Get("RelayState") == "" {
		t.Fatalf("AuthnRequest query %v", aq)
	}
	if form.action != f.srv.URL+"/saml2/idpresponse" || form.fields.Get("RelayState") != aq.Get("RelayState") {
		t.Fatalf("IdP form %s %v", form.action, form.fields)
	}
	loc := landed(t, c, form)
	code, state := codeFrom(t, loc)
	if code == "" || state != "st-123" {
		t.Fatalf("landed on %s", loc)
	}
	status, out := postToken(t, f.oauthFixture, "/oauth2/token", codeForm(code, callback, verifier), f.web, "")
	if status != http.StatusOK {
		t.Fatalf("token: %d %v", status, out)
	}
	id := claimsOf(t, out["id_token"].(string))
	username := samlProvider + "_erin@corp.example"
	if id["cognito:username"] != username || id["email"] != "erin@corp.example" || id["custom:department"] != "[eng, ops]" {
		t.Fatalf("id token %v", id)
	}
	ids := string(mustJSON(t, id["identities"]))
	if !strings.Contains(ids, `"providerType":"SAML"`) || !strings.Contains(ids, `"providerName":"Corp"`) ||
		!strings.Contains(ids, `"userId":"erin@corp.example"`) || !strings.Contains(ids, `"issuer":"`+f.idp.srv.URL+`/metadata"`) {
		t.Errorf("identities %s", ids)
	}
	if g := string(mustJSON(t, id["cognito:groups"])); g != `["`+f.pool+`_Corp"]` {
		t.Errorf("cognito:groups %s", g)
	}
	u := mustCall(t, f.srv, "AdminGetUser", map[string]any{"UserPoolId": f.pool, "Username": username})
	if u["UserStatus"] != "EXTERNAL_PROVIDER" {
		t.Errorf("user %v", u)
	}

	// The same response again: the sign-in it answered is over.
	if resp, _ := post(t, browser(t), form); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("replayed SP-initiated response: %d", resp.StatusCode)
	}

	// idp_identifier routes to the provider, and the IdP changes nothing: the
	// same user signs in again.
	form, _ = f.toIdP(t, c, url.Values{"idp_identifier": {"corp.example"}})
	code, _ = codeFrom(t, landed(t, c, form))
	if code == "" {
		t.Fatal("no code on the second sign-in")
	}
	if n := len(mustCall(t, f.srv, "ListUsers", map[string]any{"UserPoolId": f.pool})["Users"].([]any)); n != 1 {
		t.Fatalf("%d users after two sign-ins", n)
	}

	// Single logout is off (IDPSignout not set): /logout goes straight to the app.
	resp, _ := get(t, c, f.srv.URL+"/logout?"+url.Values{"client_id": {f.web}, "logout_uri": {"http://127.0.0.1:8765/signed-out"}}.Encode())
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "http://127.0.0.1:8765/signed-out" {
		t.Fatalf("logout: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// tamper decodes a posted SAMLResponse, applies fn to its XML, encodes it again.
func tamper(t *testing.T, form samlForm, fn func(string) string) samlForm {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(form.fields.Get("SAMLResponse"))
	if err != nil {
		t.Fatal(err)
	}
	changed := fn(string(raw))
	if changed == string(raw) {
		t.Fatal("tampering changed nothing")
	}
	out := samlForm{action: form.action, fields: url.Values{}}
	for k, v := range form.fields {
		out.fields[k] = v
	}
	out.fields.Set("SAMLResponse", base64.StdEncoding.EncodeToString([]byte(changed)))
	return out
}

func TestSAMLRefusedResponses(t *testing.T) {
	f := newSAMLFixture(t, map[string]string{"IDPInit": "true"})
	impostor := newTestIdP(t, f.idp)
	sign := mustCall(t, f.srv, "GetSigningCertificate", map[string]any{"UserPoolId": f.pool})["Certificate"].(string)
	impostor.trust(f.srv.URL, f.pool, sign, "")

	t.Run("tampered NameID", func(t *testing.T) {
		c := browser(t)
		form, _ := f.toIdP(t, c, nil)
		bad := tamper(t, form, func(s string) string { return strings.ReplaceAll(s, "erin@corp.example", "admin@corp.example") })
		wantRefused(t, landed(t, c, bad), "signature does not verify")
	})
	t.Run("tampered attribute", func(t *testing.T) {
		c := browser(t)
		form, _ := f.toIdP(t, c, nil)
		wantRefused(t, landed(t, c, tamper(t, form, func(s string) string { return strings.Replace(s, ">eng<", ">admins<", 1) })), "signature does not verify")
	})
	t.Run("signed by a foreign key", func(t *testing.T) {
		c := browser(t)
		_, authnURL := f.toIdP(t, c, nil)
		// The same AuthnRequest, answered by an IdP claiming the same entity ID
		// with another key.
		resp, page := get(t, c, impostor.srv.URL+"/sso?"+mustURL(t, authnURL).RawQuery)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("impostor: %d %.300s", resp.StatusCode, page)
		}
		wantRefused(t, landed(t, c, readForm(t, page)), "signature does not verify")
	})
	t.Run("expired", func(t *testing.T) {
		c := browser(t)
		form, _ := f.toIdP(t, c, nil)
		f.srv.Advance(4 * time.Minute) // past NotOnOrAfter (90 s) and the skew
		defer f.srv.Advance(-4 * time.Minute)
		wantRefused(t, landed(t, c, form), "expired")
	})
	t.Run("not valid yet", func(t *testing.T) {
		c := browser(t)
		form, _ := f.toIdP(t, c, nil)
		f.srv.Advance(-4 * time.Minute) // the emulator's clock behind the IdP's by more than the skew
		defer f.srv.Advance(4 * time.Minute)
		wantRefused(t, landed(t, c, form), "not valid yet")
	})
	t.Run("unsolicited response on a pending sign-in", func(t *testing.T) {
		c := browser(t)
		form, _ := f.toIdP(t, c, nil)
		resp, page := get(t, c, f.idp.srv.URL+"/init?"+url.Values{"sp": {"urn:amazon:cognito:sp:" + f.pool}}.Encode())
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("IdP-initiated: %d", resp.StatusCode)
		}
		unsolicited := readForm(t, page)
		unsolicited.fields.Set("RelayState", form.fields.Get("RelayState"))
		wantRefused(t, landed(t, c, unsolicited), "InResponseTo")
	})
	t.Run("IdP-initiated, replayed", func(t *testing.T) {
		relay := url.Values{"client_id": {f.web}, "redirect_uri": {callback}, "response_type": {"code"}, "scope": {"openid email"},
			"identity_provider": {samlProvider}, "state": {"st-123"}}.Encode()
		c := browser(t)
		resp, page := get(t, c, f.idp.srv.URL+"/init?"+url.Values{"sp": {"urn:amazon:cognito:sp:" + f.pool}, "relay": {relay}}.Encode())
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("IdP-initiated: %d", resp.StatusCode)
		}
		form := readForm(t, page)
		if code, _ := codeFrom(t, landed(t, c, form)); code == "" {
			t.Fatal("IdP-initiated sign-in gave no code")
		}
		wantRefused(t, landed(t, browser(t), form), "already used")
	})
	t.Run("for another service provider", func(t *testing.T) {
		// The IdP also trusts another pool with the same ACS URL: its
		// assertion's audience is that pool's entity ID.
		sign := mustCall(t, f.srv, "GetSigningCertificate", map[string]any{"UserPoolId": f.pool})["Certificate"].(string)
		f.idp.trust(f.srv.URL, "us-east-1_Other", sign, "")
		relay := url.Values{"client_id": {f.web}, "redirect_uri": {callback}, "response_type": {"code"}, "scope": {"openid"}, "identity_provider": {samlProvider}}.Encode()
		resp, page := get(t, browser(t), f.idp.srv.URL+"/init?"+url.Values{"sp": {"urn:amazon:cognito:sp:us-east-1_Other"}, "relay": {relay}}.Encode())
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("IdP-initiated: %d", resp.StatusCode)
		}
		wantRefused(t, landed(t, browser(t), readForm(t, page)), "audience")
	})
	t.Run("oversized", func(t *testing.T) {
		resp, _ := post(t, browser(t), samlForm{action: f.srv.URL + "/saml2/idpresponse", fields: url.Values{"SAMLResponse": {strings.Repeat("A", 100_004)}, "RelayState": {"x"}}})
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("oversized: %d", resp.StatusCode)
		}
	})
	t.Run("entity", func(t *testing.T) {
		// A DTD with an entity: refused before anything else reads it.
		c := browser(t)
		form, _ := f.toIdP(t, c, nil)
		bad := tamper(t, form, func(s string) string {
			i := strings.Index(s, "<samlp:Response")
			return `<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>` + s[i:]
		})
		loc := landed(t, c, bad)
		if q := mustURL(t, loc).Query(); q.Get("code") != "" || !strings.Contains(q.Get("error_description"), "DTD") {
			t.Fatalf("landed on %s", loc)
		}
	})
	if n := len(mustCall(t, f.srv, "ListUsers", map[string]any{"UserPoolId": f.pool})["Users"].([]any)); n != 1 {
		t.Fatalf("%d users, want only the IdP-initiated one", n)
	}
}

func TestSAMLIdPInitiatedNeedsIDPInit(t *testing.T) {
	f := newSAMLFixture(t, nil)
	relay := url.Values{"client_id": {f.web}, "redirect_uri": {callback}, "response_type": {"code"}, "scope": {"openid"}, "identity_provider": {samlProvider}}.Encode()
	resp, page := get(t, browser(t), f.idp.srv.URL+"/init?"+url.Values{"sp": {"urn:amazon:cognito:sp:" + f.pool}, "relay": {relay}}.Encode())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("IdP-initiated: %d", resp.StatusCode)
	}
	loc := landed(t, browser(t), readForm(t, page))
	if q := mustURL(t, loc).Query(); q.Get("error") != "invalid_request" || !strings.Contains(q.Get("error_description"), "IdP-initiated") {
		t.Fatalf("landed on %s", loc)
	}
}

func TestSAMLEncryptedResponsesAndSingleLogout(t *testing.T) {
	f := newSAMLFixture(t, map[string]string{"EncryptedResponses": "true", "IDPSignout": "true", "RequestSigningAlgorithm": ""})
	d := mustCall(t, f.srv, "DescribeIdentityProvider", map[string]any{"UserPoolId": f.pool, "ProviderName": samlProvider})["IdentityProvider"].(map[string]any)["ProviderDetails"].(map[string]any)
	encCert, _ := d["ActiveEncryptionCertificate"].(string)
	if encCert == "" {
		t.Fatalf("no ActiveEncryptionCertificate: %v", d)
	}
	// The IdP wants signed requests; RequestSigningAlgorithm is unset, so the
	// emulator sends none signed and that IdP refuses them.
	c := browser(t)
	next := follow(t, c, authorizeURL(f.oauthFixture, f.web, url.Values{"identity_provider": {samlProvider}}))
	if q := mustURL(t, next).Query(); q.Get("Signature") != "" || q.Get("SigAlg") != "" {
		t.Fatalf("an unsigned AuthnRequest expected: %v", q)
	}
	if resp, _ := get(t, c, next); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("the IdP took an unsigned request: %d", resp.StatusCode)
	}
	f.idp.idp.WantAuthnRequestsSigned = false
	f.idp.mu.Lock()
	for _, sp := range f.idp.sps {
		no := false
		sp.SPSSODescriptors[0].AuthnRequestsSigned = &no
	}
	f.idp.mu.Unlock()

	form, _ := f.toIdP(t, c, nil)
	raw, _ := base64.StdEncoding.DecodeString(form.fields.Get("SAMLResponse"))
	if !bytes.Contains(raw, []byte("EncryptedAssertion")) || bytes.Contains(raw, []byte("erin@corp.example")) {
		t.Fatal("the IdP did not encrypt the assertion")
	}
	loc := landed(t, c, form)
	code, _ := codeFrom(t, loc)
	if code == "" {
		t.Fatalf("encrypted sign-in landed on %s", loc)
	}
	status, out := postToken(t, f.oauthFixture, "/oauth2/token", codeForm(code, callback, verifier), f.web, "")
	if status != http.StatusOK || claimsOf(t, out["id_token"].(string))["email"] != "erin@corp.example" {
		t.Fatalf("token: %d %v", status, out)
	}

	// Single logout: /logout sends the browser to the IdP's SLO with a signed
	// LogoutRequest; the IdP ends its session and posts its LogoutResponse to
	// /saml2/logout, which sends the browser on to the logout URI.
	next = follow(t, c, f.srv.URL+"/logout?"+url.Values{"client_id": {f.web}, "logout_uri": {"http://127.0.0.1:8765/signed-out"}}.Encode())
	lq := mustURL(t, next).Query()
	if !strings.HasPrefix(next, f.idp.srv.URL+"/slo?") || lq.Get("SAMLRequest") == "" || lq.Get("Signature") == "" {
		t.Fatalf("logout sent the browser to %s", next)
	}
	resp, page := get(t, c, next)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("IdP SLO: %d %.300s", resp.StatusCode, page)
	}
	lform := readForm(t, page)
	if lform.action != f.srv.URL+"/saml2/logout" {
		t.Fatalf("LogoutResponse form to %s", lform.action)
	}
	if end := landed(t, c, lform); end != "http://127.0.0.1:8765/signed-out" {
		t.Fatalf("single logout ended at %s", end)
	}
	f.idp.mu.Lock()
	ended := f.idp.ended
	f.idp.mu.Unlock()
	if ended != 1 {
		t.Fatalf("the IdP ended %d sessions", ended)
	}
	// The LogoutResponse again: that sign-out is over.
	if resp, _ := post(t, c, lform); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("replayed LogoutResponse: %d", resp.StatusCode)
	}

	// With encryption required, an unencrypted assertion is refused: the IdP
	// forgets the encryption certificate.
	sign := mustCall(t, f.srv, "GetSigningCertificate", map[string]any{"UserPoolId": f.pool})["Certificate"].(string)
	f.idp.trust(f.srv.URL, f.pool, sign, "")
	f.idp.mu.Lock()
	for _, sp := range f.idp.sps {
		no := false
		sp.SPSSODescriptors[0].AuthnRequestsSigned = &no
	}
	f.idp.mu.Unlock()
	form, _ = f.toIdP(t, browser(t), nil)
	wantRefused(t, landed(t, browser(t), form), "not encrypted")
}

func TestSAMLProviderConfiguration(t *testing.T) {
	f := newSAMLFixture(t, nil)
	md := f.idp.metadataXML(t)
	// A redirecting MetadataURL is not followed; an oversized one is refused.
	mux := http.NewServeMux()
	other := httptest.NewServer(mux)
	t.Cleanup(other.Close)
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, f.idp.srv.URL+"/metadata", http.StatusFound)
	})
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, strings.Replace(md, "<", "<!-- "+strings.Repeat("x", 140_000)+" --><", 1))
	})
	for _, tc := range []struct {
		name    string
		details map[string]string
		want    string
	}{
		{"no metadata", map[string]string{"IDPInit": "true"}, "MetadataFile or MetadataURL"},
		{"both", map[string]string{"MetadataFile": md, "MetadataURL": f.idp.srv.URL + "/metadata"}, "MetadataFile or MetadataURL"},
		{"redirect", map[string]string{"MetadataURL": other.URL + "/moved"}, "answered 302"},
		{"oversized", map[string]string{"MetadataURL": other.URL + "/huge"}, "over 131072 bytes"},
		{"not metadata", map[string]string{"MetadataFile": "<html/>"}, "Invalid SAML metadata"},
		{"bad flag", map[string]string{"MetadataFile": md, "IDPInit": "yes"}, "IDPInit must be true or false"},
		{"bad algorithm", map[string]string{"MetadataFile": md, "RequestSigningAlgorithm": "rsa-sha1"}, "rsa-sha256"},
		{"unknown key", map[string]string{"MetadataFile": md, "client_id": "x"}, "not a valid ProviderDetails key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ae := call(t, f.srv, "CreateIdentityProvider", map[string]any{"UserPoolId": f.pool, "ProviderName": "Bad", "ProviderType": "SAML", "ProviderDetails": tc.details})
			wantErr(t, ae, "InvalidParameterException", tc.want)
		})
	}
	// MetadataFile works as MetadataURL does.
	mustCall(t, f.srv, "UpdateIdentityProvider", map[string]any{"UserPoolId": f.pool, "ProviderName": samlProvider,
		"ProviderDetails": map[string]string{"MetadataFile": md, "RequestSigningAlgorithm": "rsa-sha256"}})
	c := browser(t)
	form, _ := f.toIdP(t, c, nil)
	if code, _ := codeFrom(t, landed(t, c, form)); code == "" {
		t.Fatal("no code with MetadataFile")
	}
	// Deleting the provider ends its sign-ins.
	form, _ = f.toIdP(t, c, nil)
	mustCall(t, f.srv, "DeleteIdentityProvider", map[string]any{"UserPoolId": f.pool, "ProviderName": samlProvider})
	if resp, _ := post(t, c, form); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("response for a deleted provider: %d", resp.StatusCode)
	}
	_ = fmt.Sprint()
}
