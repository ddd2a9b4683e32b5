package emulator

// Federation with an OIDC identity provider, as the hosted UI does it:
// /oauth2/authorize?identity_provider=NAME (or idp_identifier=ID) sends the
// browser to the provider's authorize URL; the provider sends it back to
// /oauth2/idpresponse with a code, which is exchanged at the provider's token
// endpoint over real HTTP; the provider's id token is checked (signature by its
// JWKS, iss, aud, nonce, exp), its claims (and the userInfo answer) mapped onto
// the pool's attributes by the provider's AttributeMapping, and the external
// user NAME_sub created or updated — or the user an AdminLinkProviderForUser
// linked the identity to signed in instead. The app then gets its code as from
// the sign-in page. Another pool of the same emulator, or another emulator, can
// be the provider: its hosted UI, token endpoint and JWKS are those of any pool.
//
// Everything the provider answers is treated as hostile: every call has a
// deadline and a size cap, no redirect is followed, and an answer that fails a
// check ends the sign-in with an error at the app's redirect URI, never with a
// user created from it.

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

const (
	// fedTTL is how long a browser may take at the provider's sign-in page.
	fedTTL = 10 * time.Minute
	// maxFederations bounds the sign-ins waiting for the provider's answer.
	maxFederations = 1000
	// fedTimeout bounds each call to the provider.
	fedTimeout = 10 * time.Second
	// maxFedAnswer caps every answer read from the provider.
	maxFedAnswer = 1 << 20
)

// fedRequest is a federated sign-in sent to the provider, keyed in
// oauthState.Federations by the hash of the state parameter it carries.
type fedRequest struct {
	PoolID      string     `json:"poolId"`
	Provider    string     `json:"provider"`
	Auth        authParams `json:"auth"` // the app's authorize request
	Nonce       string     `json:"nonce"`
	RedirectURI string     `json:"redirectUri"` // the idpresponse URL sent to the provider
	Expires     time.Time  `json:"expires"`
	// SAMLRequestID is a SAML AuthnRequest's (or LogoutRequest's) ID, which the
	// IdP's answer must be InResponseTo (saml.go); LogoutTarget is where a SAML
	// single logout ends.
	SAMLRequestID string `json:"samlRequestId,omitempty"`
	LogoutTarget  string `json:"logoutTarget,omitempty"`
}

// fedIdentity is one entry of a user's identities attribute. LinkAttribute and
// LinkValue hold an AdminLinkProviderForUser link not yet signed in with (the
// SourceUser's ProviderAttributeName and value); they are not part of the
// attribute Cognito shows.
type fedIdentity struct {
	UserID        string    `json:"userId"`
	ProviderName  string    `json:"providerName"`
	ProviderType  string    `json:"providerType"`
	Primary       bool      `json:"primary"`
	DateCreated   time.Time `json:"dateCreated"`
	LinkAttribute string    `json:"linkAttribute,omitempty"`
	// Issuer is a SAML IdP's entity ID (null in the attribute otherwise).
	Issuer string `json:"issuer,omitempty"`
}

// syncIdentities writes u.Identities to the identities attribute as Cognito
// shows it: [{"userId","providerName","providerType","issuer":null,"primary",
// "dateCreated" in epoch milliseconds}]; no attribute when there are none.
func (u *user) syncIdentities() {
	if len(u.Identities) == 0 {
		delete(u.Attributes, "identities")
		return
	}
	type shown struct {
		UserID       string  `json:"userId"`
		ProviderName string  `json:"providerName"`
		ProviderType string  `json:"providerType"`
		Issuer       *string `json:"issuer"`
		Primary      bool    `json:"primary"`
		DateCreated  int64   `json:"dateCreated"`
	}
	out := make([]shown, 0, len(u.Identities))
	for _, id := range u.Identities {
		out = append(out, shown{id.UserID, id.ProviderName, id.ProviderType, issuerOf(id), id.Primary, id.DateCreated.UnixMilli()})
	}
	b, _ := json.Marshal(out)
	u.Attributes["identities"] = string(b)
}

// identitiesClaim is the id token's identities claim: the attribute's entries
// with primary and dateCreated as strings, as Cognito signs them.
func identitiesClaim(u *user) []map[string]any {
	out := make([]map[string]any, 0, len(u.Identities))
	for _, id := range u.Identities {
		out = append(out, map[string]any{
			"userId": id.UserID, "providerName": id.ProviderName, "providerType": id.ProviderType,
			"issuer": issuerOf(id), "primary": strconv.FormatBool(id.Primary), "dateCreated": strconv.FormatInt(id.DateCreated.UnixMilli(), 10),
		})
	}
	return out
}

// issuerOf is an identity's issuer as Cognito shows it: a SAML IdP's entity
// ID, else null.
func issuerOf(id fedIdentity) *string {
	if id.Issuer == "" {
		return nil
	}
	return &id.Issuer
}

// oidcProvider is a pool's identity provider as federation uses it (OIDC,
// SAML and the social providers alike).
type oidcProvider struct {
	Name    string
	Type    string
	Details map[string]string
	Mapping map[string]string
	// Issuer is set for a SAML sign-in: the IdP's entity ID.
	Issuer string
}

// identityProvider returns the pool's provider called name, or nil.
func (p *userPool) identityProvider(name string) *oidcProvider {
	raw, ok := p.stored("identityProvider")[name]
	if !ok {
		return nil
	}
	var rec struct {
		ProviderName     string
		ProviderType     string
		ProviderDetails  map[string]string
		AttributeMapping map[string]string
	}
	if json.Unmarshal(raw, &rec) != nil {
		return nil
	}
	prov := &oidcProvider{Name: rec.ProviderName, Type: rec.ProviderType, Details: rec.ProviderDetails, Mapping: rec.AttributeMapping}
	if key, ok := p.stored(appleKeyKind)[name]; ok {
		// Sign in with Apple's private_key, kept out of Describe (social.go).
		var pk string
		_ = json.Unmarshal(key, &pk)
		prov.Details = maps.Clone(prov.Details)
		prov.Details["private_key"] = pk
	}
	return prov
}

// providerNamed resolves an authorize request's identity_provider or
// idp_identifier to a provider name ("" when it names neither).
func (p *userPool) providerNamed(a authParams, e *Emulator) string {
	if a.IdentityProvider != "" {
		return a.IdentityProvider
	}
	if a.IdpIdentifier != "" {
		if name := e.providerByIdentifier(p, a.IdpIdentifier); name != "" {
			return name
		}
		return "\x00unknown" // an identifier no provider has
	}
	return ""
}

// oidcEndpoints are a provider's URLs, from ProviderDetails or discovered.
type oidcEndpoints struct {
	Issuer, Authorize, Token, UserInfo, JWKS string
}

// fedError is a federation failure as the app sees it at its redirect URI.
type fedError struct{ code, desc string }

func (f *fedError) Error() string { return f.code + ": " + f.desc }

func fedFail(format string, args ...any) *fedError {
	return &fedError{code: "invalid_request", desc: fmt.Sprintf(format, args...)}
}

// fedHTTP is the client for calls to providers: bounded, never following
// redirects (a provider's answer is what it says, not where it points).
func fedHTTP() *http.Client {
	return &http.Client{Timeout: fedTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// fetchJSON sends req and decodes a JSON object answer of at most maxFedAnswer
// bytes, returning the status too (a non-2xx answer is decoded when it can be).
func fetchJSON(ctx context.Context, req *http.Request) (int, map[string]any, error) {
	ctx, cancel := context.WithTimeout(ctx, fedTimeout)
	defer cancel()
	resp, err := fedHTTP().Do(req.WithContext(ctx))
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL may carry a secret's neighbour; keep the cause only
		}
		return 0, nil, fmt.Errorf("unreachable: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxFedAnswer+1))
	if err != nil {
		return resp.StatusCode, nil, errors.New("answer cut short")
	}
	if len(body) > maxFedAnswer {
		return resp.StatusCode, nil, fmt.Errorf("answer over %d bytes", maxFedAnswer)
	}
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil || out == nil {
		return resp.StatusCode, nil, errors.New("answer is not a JSON object")
	}
	return resp.StatusCode, out, nil
}

// httpURL tells whether s is an absolute http(s) URL without user info.
func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.User == nil && len(s) <= 2048
}

// endpoints returns prov's URLs: those in ProviderDetails, the rest from the
// issuer's OpenID configuration (whose issuer must be oidc_issuer).
func (e *Emulator) endpoints(ctx context.Context, prov *oidcProvider, base string) (oidcEndpoints, error) {
	if slices.Contains(socialProviders, prov.Type) {
		return socialEndpoints(prov, base) // social.go
	}
	d := prov.Details
	ep := oidcEndpoints{Issuer: d["oidc_issuer"], Authorize: d["authorize_url"], Token: d["token_url"], UserInfo: d["attributes_url"], JWKS: d["jwks_uri"]}
	if ep.Authorize == "" || ep.Token == "" || ep.JWKS == "" {
		if err := discoverEndpoints(ctx, prov, &ep); err != nil {
			return ep, err
		}
	}
	for _, u := range []string{ep.Authorize, ep.Token, ep.JWKS} {
		if !httpURL(u) {
			return ep, fedFail("%s Error - the provider's endpoints are not URLs", prov.Name)
		}
	}
	if ep.UserInfo != "" && !httpURL(ep.UserInfo) {
		return ep, fedFail("%s Error - the provider's attributes_url is not a URL", prov.Name)
	}
	return ep, nil
}

// discoverEndpoints fills the URLs ep lacks from the issuer's OpenID
// configuration, whose issuer must be ep's.
func discoverEndpoints(ctx context.Context, prov *oidcProvider, ep *oidcEndpoints) error {
	if !httpURL(ep.Issuer) {
		return fedFail("%s Error - the oidc_issuer is not a URL", prov.Name)
	}
	req, err := http.NewRequest(http.MethodGet, strings.TrimSuffix(ep.Issuer, "/")+"/.well-known/openid-configuration", nil)
	if err != nil {
		return fedFail("%s Error - the oidc_issuer is not a URL", prov.Name)
	}
	status, doc, err := fetchJSON(ctx, req)
	switch {
	case err != nil:
		return fedFail("%s Error - %d discovery failed: %v", prov.Name, status, err)
	case status != http.StatusOK:
		return fedFail("%s Error - %d discovery failed", prov.Name, status)
	}
	str := func(k string) string { s, _ := doc[k].(string); return s }
	if str("issuer") != ep.Issuer {
		return fedFail("%s Error - the discovered issuer is not the oidc_issuer", prov.Name)
	}
	for _, f := range []struct {
		dst *string
		key string
	}{{&ep.Authorize, "authorization_endpoint"}, {&ep.Token, "token_endpoint"}, {&ep.UserInfo, "userinfo_endpoint"}, {&ep.JWKS, "jwks_uri"}} {
		if *f.dst == "" {
			*f.dst = str(f.key)
		}
	}
	return nil
}

// idpResponseURL is where the provider sends the browser back: the emulator's
// own /oauth2/idpresponse, as Cognito's https://DOMAIN/oauth2/idpresponse.
func (o *oauthReq) idpResponseURL() string {
	scheme := "http"
	if o.r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + o.r.Host + "/oauth2/idpresponse"
}

// federate sends the browser to the provider's authorize URL for the
// already-validated request a.
func (o *oauthReq) federate(a authParams, chk *checked, provName string) {
	var prov *oidcProvider
	if err := o.locked(func(*oauthState, time.Time) error {
		prov = chk.p.identityProvider(provName)
		return nil
	}); err != nil {
		o.internal(err)
		return
	}
	if prov != nil && prov.Type == "SAML" {
		o.federateSAML(a, chk, prov)
		return
	}
	if prov == nil || prov.Type != "OIDC" && !slices.Contains(socialProviders, prov.Type) {
		// validate refused providers that do not exist; other types have no
		// upstream the emulator can speak to.
		o.fail(a, &oauthErr{Code: "invalid_request", Desc: "identity provider " + clip(provName) + " is not an OIDC provider the emulator federates with", Status: http.StatusBadRequest}, true)
		return
	}
	ep, err := o.e.endpoints(o.r.Context(), prov, strings.TrimSuffix(o.idpResponseURL(), "/oauth2/idpresponse"))
	if err != nil {
		o.fedFailRedirect(a, err)
		return
	}
	state, nonce := o.e.randomB64(32), o.e.randomB64(24)
	redirect := o.idpResponseURL()
	full := false
	if err := o.locked(func(s *oauthState, now time.Time) error {
		if len(s.Federations) >= maxFederations {
			full = true
			return nil
		}
		s.Federations[hashToken(state)] = &fedRequest{PoolID: chk.p.ID, Provider: prov.Name, Auth: a, Nonce: nonce, RedirectURI: redirect, Expires: now.Add(fedTTL)}
		o.e.dirty = true
		return nil
	}); err != nil {
		o.internal(err)
		return
	}
	if full {
		o.fail(a, &oauthErr{Code: "temporarily_unavailable", Desc: "too many federated sign-ins under way", Status: http.StatusServiceUnavailable}, true)
		return
	}
	v := url.Values{
		"client_id": {prov.Details["client_id"]}, "redirect_uri": {redirect}, "response_type": {"code"},
		"scope": {prov.Details["authorize_scopes"]}, "state": {state}, "nonce": {nonce},
	}
	u, _ := url.Parse(ep.Authorize)
	q := u.Query()
	for k, vs := range v {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	http.Redirect(o.w, o.r, u.String(), http.StatusFound)
}

// fedFailRedirect ends a federated sign-in at the app's redirect URI with err,
// once the app's request is checked again: the client may have changed since
// the browser left for the provider, and a redirect URI it no longer allows
// gets the error page instead.
func (o *oauthReq) fedFailRedirect(a authParams, err error) {
	var fe *fedError
	if !errors.As(err, &fe) {
		fe = &fedError{code: "server_error", desc: "internal error"}
	}
	var (
		oe       *oauthErr
		redirect bool
	)
	if lerr := o.locked(func(*oauthState, time.Time) error {
		_, oe, redirect = o.validate(a)
		return nil
	}); lerr != nil {
		o.internal(lerr)
		return
	}
	if oe != nil {
		o.fail(a, oe, redirect)
		return
	}
	o.fail(a, &oauthErr{Code: fe.code, Desc: fe.desc, Status: http.StatusBadRequest}, true)
}

// oauthErrors are the error codes of OAuth 2.0 (RFC 6749 4.1.2.1, 5.2) and
// OpenID Connect (Core 3.1.2.6) a provider's answer may carry to the app;
// anything else is invalid_request, so that no text a provider chose (an
// echo of what it was sent, say) reaches the app's redirect URI.
var oauthErrors = []string{
	"invalid_request", "unauthorized_client", "access_denied", "unsupported_response_type", "invalid_scope",
	"server_error", "temporarily_unavailable", "invalid_client", "invalid_grant", "unsupported_grant_type",
	"interaction_required", "login_required", "account_selection_required", "consent_required",
	"invalid_request_uri", "invalid_request_object", "request_not_supported", "request_uri_not_supported",
	"registration_not_supported",
}

func oauthErrorCode(s string) string {
	if slices.Contains(oauthErrors, s) {
		return s
	}
	return "invalid_request"
}

// maxProviderDetail bounds what the log keeps of a provider's error answer.
const maxProviderDetail = 256

// logProviderError logs a provider's error answer: bounded, with the secrets
// the emulator holds for that provider (client_secret, in every encoding a
// provider may echo it in) replaced by [redacted].
func (e *Emulator) logProviderError(prov *oidcProvider, step, code, desc string) {
	e.logger().Warn("emulator: identity provider refused the sign-in", "provider", clip(prov.Name), "step", step,
		"error", redactProvider(prov, code, 64), "error_description", redactProvider(prov, desc, maxProviderDetail))
}

// redactProvider cuts s to n bytes (at a rune boundary, control characters
// dropped) after removing prov's secrets from it.
func redactProvider(prov *oidcProvider, s string, n int) string {
	for _, k := range []string{"client_secret"} {
		sec := prov.Details[k]
		if len(sec) < 4 {
			continue
		}
		for _, form := range []string{sec, url.QueryEscape(sec), url.PathEscape(sec), base64.StdEncoding.EncodeToString([]byte(sec)), base64.RawURLEncoding.EncodeToString([]byte(sec))} {
			s = strings.ReplaceAll(s, form, "[redacted]")
		}
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// idpResponse serves /oauth2/idpresponse: the provider's answer to federate.
func (o *oauthReq) idpResponse() {
	q := o.r.URL.Query()
	fr, prov, err := o.takeFederation(q.Get("state"))
	if err != nil {
		o.internal(err)
		return
	}
	if fr == nil || prov == nil {
		// No sign-in of ours: nowhere trustworthy to redirect to.
		o.errorPage(http.StatusBadRequest, "invalid_state")
		return
	}
	a := fr.Auth
	code, ferr := o.e.upstreamCode(prov, q)
	if ferr != nil {
		o.fedFailRedirect(a, ferr)
		return
	}
	claims, err := o.e.exchangeUpstream(o.r.Context(), prov, fr, code)
	if err != nil {
		o.fedFailRedirect(a, err)
		return
	}
	username, authTime, ferr, err := o.signInFederated(fr, prov, claims)
	if err != nil {
		o.internal(err)
		return
	}
	if ferr != nil {
		var ae *Error
		if errors.As(ferr, &ae) {
			ferr = &fedError{code: "invalid_request", desc: ae.Message}
		}
		o.fedFailRedirect(a, ferr)
		return
	}
	o.complete(a, username, authTime)
}

// takeFederation removes and returns the OIDC federation request state names
// (one answer per request, whatever it says) and its provider; both are nil for
// a state that is not one of ours, has expired or whose pool is gone.
func (o *oauthReq) takeFederation(state string) (fr *fedRequest, prov *oidcProvider, err error) {
	err = o.locked(func(s *oauthState, now time.Time) error {
		if state == "" || len(state) > 512 {
			return nil
		}
		key := hashToken(state)
		if f := s.Federations[key]; f != nil && f.SAMLRequestID == "" {
			delete(s.Federations, key) // one answer per request, whatever it says
			o.e.dirty = true
			if now.After(f.Expires) {
				return nil
			}
			if p := o.e.st.Pools[f.PoolID]; p != nil {
				fr, prov = f, p.identityProvider(f.Provider)
			}
		}
		return nil
	})
	return fr, prov, err
}

// upstreamCode is the authorization code in the provider's answer q, or the
// error the app is sent back with: the provider's own error code (its words
// stay in the log), or no usable code.
func (e *Emulator) upstreamCode(prov *oidcProvider, q url.Values) (string, error) {
	if ee := q.Get("error"); ee != "" {
		// The provider's words stay in the log (bounded, its secret redacted): a
		// provider that echoes what it was sent must not put it in the app's URL.
		code := oauthErrorCode(ee)
		e.logProviderError(prov, "authorize", ee, q.Get("error_description"))
		return "", &fedError{code: code, desc: prov.Name + " Error - " + code}
	}
	code := q.Get("code")
	if code == "" || len(code) > 2048 {
		return "", fedFail("%s Error - no code in the provider's answer", prov.Name)
	}
	return code, nil
}

// signInFederated finds or makes the pool's user for the provider's claims
// (federatedUser): ferr is the sign-in's failure, err the emulator's.
func (o *oauthReq) signInFederated(fr *fedRequest, prov *oidcProvider, claims map[string]any) (username string, authTime time.Time, ferr, err error) {
	err = o.locked(func(s *oauthState, now time.Time) error {
		p := o.e.st.Pools[fr.PoolID]
		if p == nil {
			ferr = fedFail("the user pool no longer exists")
			return nil
		}
		c := &call{ctx: o.r.Context(), op: "oauth2/idpresponse", now: now, in: &callInput{ClientID: fr.Auth.ClientID}}
		u, err := o.e.federatedUser(c, p, prov, claims, now)
		if err != nil {
			ferr = err
			return nil
		}
		username, authTime = u.Username, now
		return nil
	})
	return username, authTime, ferr, err
}

// exchangeUpstream redeems code at the provider's token endpoint, verifies the
// id token and returns its claims merged with the userInfo answer.
func (e *Emulator) exchangeUpstream(ctx context.Context, prov *oidcProvider, fr *fedRequest, code string) (map[string]any, error) {
	ep, err := e.endpoints(ctx, prov, strings.TrimSuffix(fr.RedirectURI, "/oauth2/idpresponse"))
	if err != nil {
		return nil, err
	}
	social := slices.Contains(socialProviders, prov.Type)
	req, err := e.upstreamTokenRequest(prov, ep, fr, code, social)
	if err != nil {
		return nil, err
	}
	status, tok, err := fetchJSON(ctx, req)
	if err != nil {
		return nil, fedFail("%s Error - %d %v", prov.Name, status, err)
	}
	if status != http.StatusOK {
		return nil, e.upstreamTokenError(prov, status, tok)
	}
	idToken, accessToken, err := upstreamTokens(prov, ep, tok, social)
	if err != nil {
		return nil, err
	}
	claims, err := e.upstreamClaims(ctx, prov, ep, fr.Nonce, idToken, accessToken, social)
	if err != nil {
		return nil, err
	}
	if social {
		return socialClaims(prov, claims)
	}
	return claims, nil
}

// upstreamTokens are the id and access tokens of the provider's token answer:
// an id token always, but for Facebook and Login with Amazon, whose
// attributes_url answer (by the access token) is the user.
func upstreamTokens(prov *oidcProvider, ep oidcEndpoints, tok map[string]any, social bool) (idToken, accessToken string, err error) {
	idToken, _ = tok["id_token"].(string)
	accessToken, _ = tok["access_token"].(string)
	if len(idToken) > 64<<10 || idToken == "" && (!social || ep.JWKS != "") {
		// Facebook and Login with Amazon send no id token: their attributes_url
		// answer is the user.
		return "", "", fedFail("%s Error - the token answer has no id_token", prov.Name)
	}
	if social && idToken == "" && (ep.UserInfo == "" || accessToken == "") {
		return "", "", fedFail("%s Error - the token answer has no access_token", prov.Name)
	}
	return idToken, accessToken, nil
}

// upstreamClaims are the verified id token's claims merged with the userInfo
// answer.
func (e *Emulator) upstreamClaims(ctx context.Context, prov *oidcProvider, ep oidcEndpoints, nonce, idToken, accessToken string, social bool) (map[string]any, error) {
	now := e.Now()
	claims := map[string]any{}
	if idToken != "" {
		if ep.JWKS == "" {
			return nil, fedFail("%s Error - an id_token and no jwks_uri to check it with", prov.Name)
		}
		var err error
		if claims, err = e.verifyUpstreamIDToken(ctx, prov, ep, idToken, nonce, now); err != nil {
			return nil, err
		}
	}
	if ep.UserInfo != "" && accessToken != "" {
		if err := mergeUserInfo(ctx, prov, ep, claims, idToken != "", accessToken, social); err != nil {
			return nil, err
		}
	}
	return claims, nil
}

// upstreamTokenRequest is the authorization code's redemption at the
// provider's token endpoint (a GET with the query for Facebook's kind).
func (e *Emulator) upstreamTokenRequest(prov *oidcProvider, ep oidcEndpoints, fr *fedRequest, code string, social bool) (*http.Request, error) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {fr.RedirectURI}, "client_id": {prov.Details["client_id"]}}
	if sec := prov.Details["client_secret"]; sec != "" {
		form.Set("client_secret", sec) // client_secret_post
	}
	if prov.Type == "SignInWithApple" {
		if sec := appleClientSecret(prov, ep.Issuer, e.Now()); sec != "" {
			form.Set("client_secret", sec)
		}
	}
	var req *http.Request
	var err error
	if social && prov.Details["token_request_method"] == "GET" {
		// Facebook's token endpoint takes a GET with the parameters in the query.
		u, perr := url.Parse(ep.Token)
		if perr != nil {
			return nil, fedFail("%s Error - bad token_url", prov.Name)
		}
		q := u.Query()
		for k, vs := range form {
			q[k] = vs
		}
		u.RawQuery = q.Encode()
		req, err = http.NewRequest(http.MethodGet, u.String(), nil)
	} else {
		req, err = http.NewRequest(http.MethodPost, ep.Token, strings.NewReader(form.Encode()))
		if req != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	if err != nil {
		return nil, fedFail("%s Error - bad token_url", prov.Name)
	}
	req.Header.Set("Accept", "application/json")
	return req, nil
}

// upstreamTokenError is the error for a token endpoint's failure answer.
func (e *Emulator) upstreamTokenError(prov *oidcProvider, status int, tok map[string]any) error {
	// A standard OAuth error code is passed on, as Cognito does; the
	// provider's description only reaches the log (bounded, redacted).
	raw, _ := tok["error"].(string)
	desc, _ := tok["error_description"].(string)
	if raw == "" {
		return fedFail("%s Error - %d", prov.Name, status)
	}
	e.logProviderError(prov, "token", raw, desc)
	code := oauthErrorCode(raw)
	return &fedError{code: code, desc: fmt.Sprintf("%s Error - %d %s", prov.Name, status, code)}
}

// mergeUserInfo adds the provider's userInfo answer to claims, when it is for
// the same subject as the id token.
func mergeUserInfo(ctx context.Context, prov *oidcProvider, ep oidcEndpoints, claims map[string]any, hasIDToken bool, accessToken string, social bool) error {
	info, err := fetchUserInfo(ctx, prov, socialAttributesURL(prov, ep.UserInfo), accessToken)
	if err != nil {
		return err
	}
	if social {
		key := socialSubject[prov.Type]
		if hasIDToken && info[key] != nil && fmt.Sprint(info[key]) != fmt.Sprint(claims[key]) {
			return fedFail("%s Error - the userInfo answer is for another subject", prov.Name)
		}
	} else if s, _ := info["sub"].(string); s != claims["sub"] {
		// OIDC Core 5.3.2: a userInfo answer for another subject is not used.
		return fedFail("%s Error - the userInfo answer is for another subject", prov.Name)
	}
	for k, v := range info {
		claims[k] = v
	}
	return nil
}

// fetchUserInfo asks the provider's attributes_url for the user's claims, by
// the attributes_request_method (GET, or POST with the token in the body).
func fetchUserInfo(ctx context.Context, prov *oidcProvider, endpoint, accessToken string) (map[string]any, error) {
	var req *http.Request
	var err error
	if strings.EqualFold(prov.Details["attributes_request_method"], "POST") {
		req, err = http.NewRequest(http.MethodPost, endpoint, bytes.NewBufferString(url.Values{"access_token": {accessToken}}.Encode()))
		if req != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	} else {
		req, err = http.NewRequest(http.MethodGet, endpoint, nil)
	}
	if err != nil {
		return nil, fedFail("%s Error - bad attributes_url", prov.Name)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	status, info, err := fetchJSON(ctx, req)
	switch {
	case err != nil:
		return nil, fedFail("%s Error - %d userInfo: %v", prov.Name, status, err)
	case status != http.StatusOK:
		return nil, fedFail("%s Error - %d userInfo failed", prov.Name, status)
	}
	return info, nil
}

// verifyUpstreamIDToken checks the provider's id token: RS256 signature by a key
// of its JWKS, iss the oidc_issuer, aud holding the client_id, the nonce sent,
// exp in the future (the emulator's clock), and a usable sub.
func (e *Emulator) verifyUpstreamIDToken(ctx context.Context, prov *oidcProvider, ep oidcEndpoints, raw, nonce string, now time.Time) (map[string]any, error) {
	keys, err := fetchJWKS(ctx, prov, ep.JWKS)
	if err != nil {
		return nil, err
	}
	claims := jwt.MapClaims{}
	_, err = jwt.ParseWithClaims(raw, claims, jwksKey(keys), jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(func() time.Time { return now }), jwt.WithExpirationRequired())
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, fedFail("%s Error - id_token expired", prov.Name)
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return nil, fedFail("%s Error - id_token not valid yet", prov.Name)
	case err != nil:
		return nil, fedFail("%s Error - Invalid id_token signature", prov.Name)
	}
	if err := checkUpstreamClaims(prov, ep, claims, nonce); err != nil {
		return nil, err
	}
	return claims, nil
}

// jwksKey picks the token's key by its kid (or the only key, for a token
// without a kid).
func jwksKey(keys map[string]*rsa.PublicKey) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if k, ok := keys[kid]; ok {
			return k, nil
		}
		if kid == "" && len(keys) == 1 {
			for _, k := range keys {
				return k, nil
			}
		}
		return nil, errors.New("unknown kid")
	}
}

// checkUpstreamClaims checks a signed upstream id token's iss, aud, nonce and sub.
func checkUpstreamClaims(prov *oidcProvider, ep oidcEndpoints, claims jwt.MapClaims, nonce string) error {
	if iss, _ := claims["iss"].(string); iss != ep.Issuer || iss == "" {
		return fedFail("Bad id_token issuer %s", clip(iss))
	}
	aud, _ := claims.GetAudience()
	if !slices.Contains([]string(aud), prov.Details["client_id"]) {
		return fedFail("Bad id_token aud")
	}
	if n, _ := claims["nonce"].(string); n != nonce {
		return fedFail("Bad id_token nonce")
	}
	sub, _ := claims["sub"].(string)
	if sub == "" || len(sub) > 255 || strings.ContainsAny(sub, " \t\r\n") {
		return fedFail("%s Error - id_token has no usable sub", prov.Name)
	}
	return nil
}

// fetchJWKS reads the provider's RSA signing keys by kid (at most 100, 2048 to
// 8192 bits).
func fetchJWKS(ctx context.Context, prov *oidcProvider, endpoint string) (map[string]*rsa.PublicKey, error) {
	req, err := http.NewRequest(http.MethodGet, endpoint, nil)
	if err != nil {
		return nil, fedFail("%s Error - bad jwks_uri", prov.Name)
	}
	status, doc, err := fetchJSON(ctx, req)
	switch {
	case err != nil:
		return nil, fedFail("%s Error - %d JWKS: %v", prov.Name, status, err)
	case status != http.StatusOK:
		return nil, fedFail("%s Error - %d JWKS failed", prov.Name, status)
	}
	keys := parseJWKS(doc)
	if len(keys) == 0 {
		return nil, fedFail("%s Error - the JWKS has no usable RSA key", prov.Name)
	}
	return keys, nil
}

// parseJWKS picks the RSA signing keys out of a JWKS document.
func parseJWKS(doc map[string]any) map[string]*rsa.PublicKey {
	list, _ := doc["keys"].([]any)
	if len(list) > 100 {
		list = list[:100]
	}
	keys := map[string]*rsa.PublicKey{}
	for _, item := range list {
		k, _ := item.(map[string]any)
		kty, _ := k["kty"].(string)
		if kty != "RSA" {
			continue
		}
		if use, ok := k["use"].(string); ok && use != "sig" {
			continue
		}
		kid, _ := k["kid"].(string)
		ns, _ := k["n"].(string)
		es, _ := k["e"].(string)
		nb, err1 := base64.RawURLEncoding.DecodeString(ns)
		eb, err2 := base64.RawURLEncoding.DecodeString(es)
		if err1 != nil || err2 != nil || len(nb) < 256 || len(nb) > 1024 || len(eb) == 0 || len(eb) > 4 {
			continue
		}
		ev := int(new(big.Int).SetBytes(eb).Int64())
		if ev < 3 || ev%2 == 0 {
			continue
		}
		n := new(big.Int).SetBytes(nb)
		if n.BitLen() < 2048 {
			continue
		}
		keys[kid] = &rsa.PublicKey{N: n, E: ev}
	}
	return keys
}

// claimString is a claim as an attribute value: strings as they are, booleans
// and numbers as their JSON text, other values as JSON.
func claimText(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	default:
		b, err := json.Marshal(x)
		return string(b), err == nil
	}
}

// mappedAttributes applies prov's AttributeMapping (pool attribute → claim) to
// the provider's claims. The username mapping is the sub, always.
func mappedAttributes(prov *oidcProvider, claims map[string]any) []attribute {
	var out []attribute
	for attr, claim := range prov.Mapping {
		if attr == "username" || attr == "sub" || attr == "identities" {
			continue
		}
		if s, ok := claimText(claims[claim]); ok {
			out = append(out, attribute{attr, s})
		}
	}
	slices.SortFunc(out, func(a, b attribute) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// federatedGroup is the group Cognito puts every user of a provider in.
func federatedGroup(p *userPool, provider string) string { return p.ID + "_" + provider }

// federatedUser finds or makes the user a provider's sign-in is for: the user an
// identity was linked to (by sub, or by a mapped attribute for a link not used
// yet), else the external user NAME_sub, created on first sign-in (PreSignUp
// with source ExternalProvider). The mapped attributes are written on every
// sign-in. e.mu is held (a trigger releases it meanwhile).
func (e *Emulator) federatedUser(c *call, p *userPool, prov *oidcProvider, claims map[string]any, now time.Time) (*user, error) {
	sub, _ := claims["sub"].(string)
	attrs := mappedAttributes(prov, claims)
	if err := checkAttributes(attrs); err != nil {
		return nil, err
	}
	if u, i := linkedUser(p, prov.Name, sub, attrs); u != nil {
		if !u.Enabled {
			return nil, errNotAuthorized("User is disabled.")
		}
		e.applyMapped(u, attrs, now)
		// The link is now the provider's subject, signed in with.
		u.Identities[i].UserID, u.Identities[i].LinkAttribute = sub, ""
		u.syncIdentities()
		e.dirty = true
		return u, nil
	}
	username := prov.Name + "_" + sub
	if u := p.Users[p.userKey(username)]; u != nil {
		if !u.Enabled {
			return nil, errNotAuthorized("User is disabled.")
		}
		e.applyMapped(u, attrs, now)
		return u, nil
	}
	if len(username) > 128 {
		return nil, fedFail("%s Error - the subject is too long for a username", prov.Name)
	}
	sign := e.uuid()
	u := &user{
		Username: username, Sub: sign, Attributes: map[string]string{"sub": sign},
		Enabled: true, Status: "EXTERNAL_PROVIDER", Created: now, Modified: now,
		Identities: []fedIdentity{{UserID: sub, ProviderName: prov.Name, ProviderType: prov.Type, Primary: true, DateCreated: now, Issuer: prov.Issuer}},
	}
	for _, a := range attrs {
		u.Attributes[a.Name] = a.Value
	}
	u.syncIdentities()
	gname := federatedGroup(p, prov.Name)
	if p.Groups[gname] == nil {
		p.Groups[gname] = &group{Name: gname, Created: now, Modified: now}
	}
	u.Groups = append(u.Groups, gname)
	p.Users[p.userKey(username)] = u
	e.dirty = true
	u, _, err := e.signUpTrigger(c, p, u, "ExternalProvider", attrs)
	if err != nil {
		return nil, err
	}
	return u, nil
}

// applyMapped writes a sign-in's mapped attributes to u.
func (e *Emulator) applyMapped(u *user, attrs []attribute, now time.Time) {
	changed := false
	for _, a := range attrs {
		if u.Attributes[a.Name] != a.Value {
			u.Attributes[a.Name] = a.Value
			changed = true
		}
	}
	if changed {
		u.Modified = now
		e.dirty = true
	}
}

// linkedUser finds the user holding an identity of provider for sub: one signed
// in with before, or a link made by AdminLinkProviderForUser (Cognito_Subject
// matches the sub, another attribute name the mapped attribute's value).
func linkedUser(p *userPool, provider, sub string, attrs []attribute) (*user, int) {
	var (
		pending *user
		at      int
	)
	for _, u := range p.Users {
		for i, id := range u.Identities {
			if id.ProviderName != provider || id.Primary {
				continue
			}
			switch {
			case id.LinkAttribute == "" && id.UserID == sub:
				return u, i
			case id.LinkAttribute == "Cognito_Subject" && id.UserID == sub:
				pending, at = u, i
			case id.LinkAttribute != "" && id.LinkAttribute != "Cognito_Subject":
				for _, a := range attrs {
					if a.Name == id.LinkAttribute && a.Value == id.UserID {
						pending, at = u, i
					}
				}
			}
		}
	}
	return pending, at
}
