package emulator

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
)

// Passkeys (WebAuthn): registration by a signed-in user (StartWebAuthnRegistration,
// CompleteWebAuthnRegistration), listing and deleting, and the WEB_AUTHN first
// factor of USER_AUTH (userauth.go calls startWebAuthn and answerWebAuthn).
// Verification is a real relying party's (github.com/go-webauthn/webauthn's
// protocol package): challenge, origin, RP ID hash, attestation (none, packed),
// signature, sign counter, user presence and verification.
//
// The relying party ID is the pool's WebAuthnConfiguration.RelyingPartyId, else
// its domain (a custom domain as it is, a prefix domain as
// PREFIX.auth.REGION.amazoncognito.com); without either the operations answer
// WebAuthnConfigurationMissingException. An origin is allowed when it aligns
// with the RP ID, as Cognito says and as browsers decide: its host is the RP ID
// or a subdomain of it, over https, or over http on a loopback host
// (localhost, *.localhost, 127.0.0.1, ::1: a secure context to browsers), so
// tests on loopback work with RelyingPartyId "localhost".

const (
	// maxPasskeys is how many passkeys Cognito lets a user register.
	maxPasskeys = 20
	// webAuthnTTL is how long a registration or sign-in challenge is good for
	// (the options' timeout too); Cognito documents none, the emulator's choice
	// is its sign-in challenge TTL.
	webAuthnTTL = challengeTTL
	// maxCredentialJSON bounds the Credential / CREDENTIAL an answer may carry.
	maxCredentialJSON = 64 << 10
	// maxTransports bounds the transports kept per passkey.
	maxTransports = 8
)

// webAuthnConfig is a pool's WebAuthnConfiguration (SetUserPoolMfaConfig).
type webAuthnConfig struct {
	RelyingPartyID      string `json:"relyingPartyId,omitempty"`
	UserVerification    string `json:"userVerification,omitempty"`    // required, preferred (default)
	FactorConfiguration string `json:"factorConfiguration,omitempty"` // SINGLE_FACTOR (default), MULTI_FACTOR_WITH_USER_VERIFICATION
}

// webAuthnConfigInput is WebAuthnConfigurationType as the API sends it.
type webAuthnConfigInput struct {
	RelyingPartyID      *string `json:"RelyingPartyId"`
	UserVerification    string  `json:"UserVerification"`
	FactorConfiguration string  `json:"FactorConfiguration"`
}

// passkey is a registered credential of a user.
type passkey struct {
	ID         []byte    `json:"id"`
	PublicKey  []byte    `json:"publicKey"` // COSE_Key
	Counter    uint32    `json:"counter"`
	RPID       string    `json:"rpId"`
	AAGUID     []byte    `json:"aaguid,omitempty"`
	Transports []string  `json:"transports,omitempty"`
	Attachment string    `json:"attachment,omitempty"`
	Name       string    `json:"name"`
	Created    time.Time `json:"created"`
}

// passkeyRegistration is a user's StartWebAuthnRegistration under way: one at a
// time (a new Start replaces it), used once, for webAuthnTTL.
type passkeyRegistration struct {
	Challenge string    `json:"challenge"` // base64url, as in clientDataJSON
	ClientID  string    `json:"clientId"`
	RPID      string    `json:"rpId"`
	Expires   time.Time `json:"expires"`
}

func errWebAuthn(name, msg string) *Error { return newErr(name, "%s", msg) }

// setWebAuthnConfig applies SetUserPoolMfaConfig's WebAuthnConfiguration.
func setWebAuthnConfig(p *userPool, in *webAuthnConfigInput) error {
	if in == nil {
		return nil
	}
	cfg := webAuthnConfig{UserVerification: in.UserVerification, FactorConfiguration: in.FactorConfiguration}
	if in.RelyingPartyID != nil {
		id := *in.RelyingPartyID
		if len(id) < 1 || len(id) > 127 || strings.ContainsAny(id, "/:@ ") {
			return errInvalidParameter("1 validation error detected: Value '%s' at 'webAuthnConfiguration.relyingPartyId' failed to satisfy constraint: Member must have length between 1 and 127", clip(id))
		}
		cfg.RelyingPartyID = strings.ToLower(id)
	}
	switch cfg.UserVerification {
	case "":
		cfg.UserVerification = "preferred"
	case "required", "preferred":
	default:
		return errInvalidParameter("1 validation error detected: Value '%s' at 'webAuthnConfiguration.userVerification' failed to satisfy constraint: Member must satisfy enum value set: [required, preferred]", clip(cfg.UserVerification))
	}
	switch cfg.FactorConfiguration {
	case "":
		cfg.FactorConfiguration = "SINGLE_FACTOR"
	case "SINGLE_FACTOR", "MULTI_FACTOR_WITH_USER_VERIFICATION":
	default:
		return errInvalidParameter("1 validation error detected: Value '%s' at 'webAuthnConfiguration.factorConfiguration' failed to satisfy constraint: Member must satisfy enum value set: [SINGLE_FACTOR, MULTI_FACTOR_WITH_USER_VERIFICATION]", clip(cfg.FactorConfiguration))
	}
	p.WebAuthn = &cfg
	return nil
}

// webAuthnConfigOut is GetUserPoolMfaConfig's WebAuthnConfiguration.
func webAuthnConfigOut(p *userPool) map[string]any {
	out := map[string]any{"UserVerification": p.userVerification(), "FactorConfiguration": "SINGLE_FACTOR"}
	if p.WebAuthn != nil {
		if p.WebAuthn.RelyingPartyID != "" {
			out["RelyingPartyId"] = p.WebAuthn.RelyingPartyID
		}
		if p.WebAuthn.FactorConfiguration != "" {
			out["FactorConfiguration"] = p.WebAuthn.FactorConfiguration
		}
	}
	return out
}

func (p *userPool) userVerification() string {
	if p.WebAuthn == nil || p.WebAuthn.UserVerification == "" {
		return "preferred"
	}
	return p.WebAuthn.UserVerification
}

// relyingPartyID is the pool's RP ID: configured, else its domain, else "".
func (p *userPool) relyingPartyID() string {
	if p.WebAuthn != nil && p.WebAuthn.RelyingPartyID != "" {
		return p.WebAuthn.RelyingPartyID
	}
	for name, raw := range p.Stored["domain"] {
		var rec struct {
			CustomDomainConfig json.RawMessage `json:"CustomDomainConfig"`
		}
		_ = json.Unmarshal(raw, &rec)
		if len(rec.CustomDomainConfig) > 0 && string(rec.CustomDomainConfig) != "null" {
			return strings.ToLower(name)
		}
		return name + ".auth." + poolRegion(p.ID) + ".amazoncognito.com"
	}
	return ""
}

// webAuthnReady checks that passkeys are on in p and returns its RP ID.
func webAuthnReady(p *userPool) (string, error) {
	if !contains(p.firstFactors(), "WEB_AUTHN") {
		return "", errWebAuthn("WebAuthnNotEnabledException", "Passkeys are not enabled for this user pool: add WEB_AUTHN to its sign-in policy's AllowedFirstAuthFactors.")
	}
	rp := p.relyingPartyID()
	if rp == "" {
		return "", errWebAuthn("WebAuthnConfigurationMissingException", "The user pool has neither a WebAuthn relying party ID nor a domain.")
	}
	return rp, nil
}

// userHandle is the WebAuthn user ID of u: its sub's bytes.
func userHandle(u *user) []byte { return []byte(u.Sub) }

func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// credentialDescriptors lists u's passkeys for rpID as excludeCredentials or
// allowCredentials.
func credentialDescriptors(u *user, rpID string) []map[string]any {
	out := []map[string]any{}
	for _, k := range sortedPasskeys(u) {
		if k.RPID != rpID {
			continue
		}
		d := map[string]any{"type": "public-key", "id": b64u(k.ID)}
		if len(k.Transports) > 0 {
			d["transports"] = k.Transports
		}
		out = append(out, d)
	}
	return out
}

func sortedPasskeys(u *user) []*passkey {
	keys := make([]string, 0, len(u.Passkeys))
	for k := range u.Passkeys {
		keys = append(keys, k)
	}
	keys, _ = page(keys, "", maxPasskeys*3)
	out := make([]*passkey, 0, len(keys))
	for _, k := range keys {
		out = append(out, u.Passkeys[k])
	}
	return out
}

// ---- registration ----

func (e *Emulator) opStartWebAuthnRegistration(c *call, in *accessTokenInput) (any, error) {
	p, u, claims, err := e.authenticate(in.AccessToken, c.now)
	if err != nil {
		return nil, err
	}
	rp, err := webAuthnReady(p)
	if err != nil {
		return nil, err
	}
	if len(u.Passkeys) >= maxPasskeys {
		return nil, newErr("LimitExceededException", "The user has reached the maximum number of passkeys (%d).", maxPasskeys)
	}
	challenge := e.randomB64(32)
	u.PasskeyReg = &passkeyRegistration{Challenge: challenge, ClientID: claims.ClientID, RPID: rp, Expires: c.now.Add(webAuthnTTL)}
	e.dirty = true
	name := u.Username
	if v := u.Attributes["email"]; v != "" && contains(p.UsernameAttributes, "email") {
		name = v
	}
	opts := map[string]any{
		"challenge": challenge,
		"rp":        map[string]string{"id": rp, "name": rp},
		"user":      map[string]string{"id": b64u(userHandle(u)), "name": name, "displayName": name},
		"pubKeyCredParams": []map[string]any{
			{"type": "public-key", "alg": int(webauthncose.AlgES256)},
			{"type": "public-key", "alg": int(webauthncose.AlgRS256)},
		},
		"timeout":            webAuthnTTL.Milliseconds(),
		"excludeCredentials": credentialDescriptors(u, rp),
		"authenticatorSelection": map[string]any{
			"requireResidentKey": true,
			"residentKey":        "required",
			"userVerification":   p.userVerification(),
		},
		"extensions": map[string]any{"credProps": true},
	}
	return map[string]any{"CredentialCreationOptions": opts}, nil
}

type completeWebAuthnInput struct {
	AccessToken string          `json:"AccessToken"`
	Credential  json.RawMessage `json:"Credential"`
}

// credentialParams are the algorithms the emulator accepts (those it offers).
var credentialParams = []protocol.CredentialParameter{
	{Type: protocol.PublicKeyCredentialType, Algorithm: webauthncose.AlgES256},
	{Type: protocol.PublicKeyCredentialType, Algorithm: webauthncose.AlgRS256},
}

// credentialJSON checks an answer's credential document: present, bounded, a
// JSON object.
func credentialJSON(raw json.RawMessage, field string) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, errInvalidParameter("Missing required parameter %s", field)
	}
	if len(raw) > maxCredentialJSON {
		return nil, errInvalidParameter("%s is too large.", field)
	}
	if raw[0] != '{' || !json.Valid(raw) {
		return nil, errInvalidParameter("%s must be a JSON object.", field)
	}
	return raw, nil
}

func (e *Emulator) opCompleteWebAuthnRegistration(c *call, in *completeWebAuthnInput) (any, error) {
	p, u, claims, err := e.authenticate(in.AccessToken, c.now)
	if err != nil {
		return nil, err
	}
	rp, err := webAuthnReady(p)
	if err != nil {
		return nil, err
	}
	raw, err := credentialJSON(in.Credential, "Credential")
	if err != nil {
		return nil, err
	}
	pcc, perr := protocol.ParseCredentialCreationResponseBytes(raw)
	if perr != nil {
		return nil, errInvalidParameter("The credential is not a valid WebAuthn registration response.")
	}
	reg := u.PasskeyReg
	cd := pcc.Response.CollectedClientData
	if reg == nil || c.now.After(reg.Expires) || reg.Challenge != cd.Challenge {
		return nil, errWebAuthn("WebAuthnChallengeNotFoundException", "The registration challenge was not found or has expired; call StartWebAuthnRegistration.")
	}
	if reg.ClientID != claims.ClientID {
		return nil, errWebAuthn("WebAuthnClientMismatchException", "The access token is for another app client than the one that started the registration.")
	}
	// The challenge is answered once, whatever the outcome.
	u.PasskeyReg = nil
	e.dirty = true
	if reg.RPID != rp {
		return nil, errWebAuthn("WebAuthnRelyingPartyMismatchException", "The user pool's relying party ID changed since the registration started.")
	}
	if err := checkRegistrationCredential(pcc, rp); err != nil {
		return nil, err
	}
	att := pcc.Response.AttestationObject
	uv := p.userVerification() == "required"
	if _, err := pcc.Verify(reg.Challenge, rp, []string{cd.Origin}, nil, nil, protocol.TopOriginImplicitVerificationMode, false, uv, true, nil, credentialParams, protocol.AttestationPolicy{}, protocol.SignaturePolicy{}); err != nil {
		return nil, errNotAuthorized("The passkey registration could not be verified: " + describeWebAuthnError(err))
	}
	id := att.AuthData.AttData.CredentialID
	if err := checkNewCredentialID(p, u, id); err != nil {
		return nil, err
	}
	k := newPasskey(pcc, rp, c.now)
	if u.Passkeys == nil {
		u.Passkeys = map[string]*passkey{}
	}
	u.Passkeys[b64u(id)] = k
	u.Modified = c.now
	return map[string]any{}, nil
}

// checkRegistrationCredential checks a new credential's origin, relying
// party, attestation format and key algorithm.
func checkRegistrationCredential(pcc *protocol.ParsedCredentialCreationData, rp string) error {
	if !originAllowed(pcc.Response.CollectedClientData.Origin, rp) {
		return errWebAuthn("WebAuthnOriginNotAllowedException", "The credential's origin does not align with the user pool's relying party ID.")
	}
	att := pcc.Response.AttestationObject
	if want := sha256.Sum256([]byte(rp)); !bytes.Equal(att.AuthData.RPIDHash, want[:]) {
		return errWebAuthn("WebAuthnRelyingPartyMismatchException", "The credential was created for another relying party ID than the user pool's.")
	}
	if att.Format != "none" && att.Format != "packed" {
		return errWebAuthn("WebAuthnCredentialNotSupportedException", "The credential's attestation format is not supported.")
	}
	if alg, ok := coseAlgorithm(att.AuthData.AttData.CredentialPublicKey); !ok || (alg != webauthncose.AlgES256 && alg != webauthncose.AlgRS256) {
		return errWebAuthn("WebAuthnCredentialNotSupportedException", "The credential's public key algorithm is not supported.")
	}
	return nil
}

// checkNewCredentialID refuses a missing, too long or known credential ID,
// and a user with maxPasskeys already.
func checkNewCredentialID(p *userPool, u *user, id []byte) error {
	if len(id) == 0 || len(id) > 1023 {
		return errInvalidParameter("The credential ID is missing or too long.")
	}
	for _, q := range p.Users {
		if q.Passkeys[b64u(id)] != nil {
			return errInvalidParameter("The credential is already registered.")
		}
	}
	if len(u.Passkeys) >= maxPasskeys {
		return newErr("LimitExceededException", "The user has reached the maximum number of passkeys (%d).", maxPasskeys)
	}
	return nil
}

// newPasskey is the passkey a verified registration makes.
func newPasskey(pcc *protocol.ParsedCredentialCreationData, rp string, now time.Time) *passkey {
	att := pcc.Response.AttestationObject
	k := &passkey{
		ID: att.AuthData.AttData.CredentialID, PublicKey: att.AuthData.AttData.CredentialPublicKey, Counter: att.AuthData.Counter, RPID: rp,
		AAGUID: att.AuthData.AttData.AAGUID, Attachment: clipTo(string(pcc.AuthenticatorAttachment), 32),
		Name: passkeyName(att.AuthData.AttData.AAGUID), Created: now,
	}
	for _, t := range pcc.Response.Transports {
		if len(k.Transports) == maxTransports {
			break
		}
		k.Transports = append(k.Transports, clipTo(string(t), 32))
	}
	return k
}

// coseAlgorithm reads the alg of a COSE_Key.
func coseAlgorithm(key []byte) (webauthncose.COSEAlgorithmIdentifier, bool) {
	pk, err := webauthncose.ParsePublicKey(key)
	if err != nil {
		return 0, false
	}
	switch k := pk.(type) {
	case webauthncose.EC2PublicKeyData:
		return webauthncose.COSEAlgorithmIdentifier(k.Algorithm), true
	case webauthncose.RSAPublicKeyData:
		return webauthncose.COSEAlgorithmIdentifier(k.Algorithm), true
	case webauthncose.OKPPublicKeyData:
		return webauthncose.COSEAlgorithmIdentifier(k.Algorithm), true
	}
	return 0, false
}

// passkeyName is the FriendlyCredentialName of a new passkey. Cognito names it
// after the authenticator's AAGUID; the emulator knows no AAGUIDs.
func passkeyName(aaguid []byte) string {
	if len(aaguid) == 16 && !bytes.Equal(aaguid, make([]byte, 16)) {
		return "Passkey " + b64u(aaguid[:4])
	}
	return "Passkey"
}

func clipTo(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// describeWebAuthnError names what failed without echoing the request (the
// library's details quote challenges and origins).
func describeWebAuthnError(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.Details != "" {
		return clipTo(pe.Details, 120)
	}
	return "verification failed"
}

// originAllowed tells whether origin aligns with rpID (see the file comment).
func originAllowed(origin, rpID string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
		return false
	}
	host := strings.ToLower(u.Hostname())
	if host != rpID && !strings.HasSuffix(host, "."+rpID) {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		if host == "localhost" || strings.HasSuffix(host, ".localhost") {
			return true
		}
		ip := net.ParseIP(host)
		return ip != nil && ip.IsLoopback()
	}
	return false
}

// ---- listing and deleting ----

type listWebAuthnInput struct {
	AccessToken string `json:"AccessToken"`
	MaxResults  *int   `json:"MaxResults"`
	NextToken   string `json:"NextToken"`
}

func (e *Emulator) opListWebAuthnCredentials(c *call, in *listWebAuthnInput) (any, error) {
	_, u, _, err := e.authenticate(in.AccessToken, c.now)
	if err != nil {
		return nil, err
	}
	max := maxPasskeys
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > maxPasskeys {
			return nil, errInvalidParameter("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and %d", *in.MaxResults, maxPasskeys)
		}
		max = *in.MaxResults
	}
	// The token is the last credential ID of the page before (page); one
	// deleted since still marks the place.
	if t := in.NextToken; t != "" {
		if id, err := base64.RawURLEncoding.DecodeString(t); err != nil || len(id) == 0 || len(id) > 1023 {
			return nil, errInvalidParameter("Invalid NextToken.")
		}
	}
	return listPage(u.Passkeys, nil, in.NextToken, max, "Credentials", "NextToken", func(id string, k *passkey) map[string]any {
		item := map[string]any{
			"CredentialId":            id,
			"FriendlyCredentialName":  k.Name,
			"RelyingPartyId":          k.RPID,
			"AuthenticatorTransports": append([]string{}, k.Transports...),
			"CreatedAt":               epoch(k.Created),
		}
		if k.Attachment != "" {
			item["AuthenticatorAttachment"] = k.Attachment
		}
		return item
	}), nil
}

type deleteWebAuthnInput struct {
	AccessToken  string `json:"AccessToken"`
	CredentialID string `json:"CredentialId"`
}

func (e *Emulator) opDeleteWebAuthnCredential(c *call, in *deleteWebAuthnInput) (any, error) {
	_, u, _, err := e.authenticate(in.AccessToken, c.now)
	if err != nil {
		return nil, err
	}
	if in.CredentialID == "" {
		return nil, errInvalidParameter("1 validation error detected: Value null at 'credentialId' failed to satisfy constraint: Member must not be null")
	}
	if u.Passkeys[in.CredentialID] == nil {
		return nil, errResourceNotFound("Credential not found.")
	}
	delete(u.Passkeys, in.CredentialID)
	u.Modified = c.now
	e.dirty = true
	return map[string]any{}, nil
}

// ---- sign-in (USER_AUTH's WEB_AUTHN) ----

// canWebAuthn tells whether USER_AUTH offers u the WEB_AUTHN factor in p.
func canWebAuthn(p *userPool, u *user) bool {
	rp := p.relyingPartyID()
	if rp == "" || !contains(p.firstFactors(), "WEB_AUTHN") {
		return false
	}
	for _, k := range u.Passkeys {
		if k.RPID == rp {
			return true
		}
	}
	return false
}

// startWebAuthn begins the WEB_AUTHN challenge of a USER_AUTH sign-in.
func (e *Emulator) startWebAuthn(c *call, p *userPool, cl *appClient, u *user, deviceKey string) (any, error) {
	rp, err := webAuthnReady(p)
	if err != nil {
		return nil, err
	}
	challenge := e.randomB64(32)
	opts, _ := json.Marshal(map[string]any{
		"challenge":        challenge,
		"rpId":             rp,
		"timeout":          webAuthnTTL.Milliseconds(),
		"allowCredentials": credentialDescriptors(u, rp),
		"userVerification": signInVerification(p, u), // passkeys_mfa.go
	})
	s := &challengeSession{PoolID: p.ID, ClientID: cl.ID, Username: u.Username, Challenge: "WEB_AUTHN", DeviceKey: deviceKey, code: challenge, userAuth: true}
	return &authResponse{
		ChallengeName:       "WEB_AUTHN",
		ChallengeParameters: map[string]string{"USERNAME": u.Username, "CREDENTIAL_REQUEST_OPTIONS": string(opts)},
		Session:             e.newSession(s, c.now),
	}, nil
}

// answerWebAuthn verifies the CREDENTIAL of a WEB_AUTHN challenge. The session is
// used once (takeSession), so a replayed assertion finds its challenge gone.
// Every failure is NotAuthorizedException, as RespondToAuthChallenge knows no
// WebAuthn errors.
func (e *Emulator) answerWebAuthn(c *call, p *userPool, cl *appClient, u *user, s *challengeSession, cr map[string]string) (any, error) {
	raw, err := credentialJSON(json.RawMessage(cr["CREDENTIAL"]), "CREDENTIAL")
	if err != nil {
		return nil, err
	}
	rp := p.relyingPartyID()
	par, perr := protocol.ParseCredentialRequestResponseBytes(raw)
	if perr != nil {
		return nil, errInvalidParameter("CREDENTIAL is not a valid WebAuthn authentication response.")
	}
	bad := func(why string) (any, error) { return nil, errNotAuthorized("Incorrect passkey: " + why) }
	k := u.Passkeys[b64u(par.RawID)]
	if k == nil || k.RPID != rp {
		return bad("the credential is not registered for the user")
	}
	if len(par.Response.UserHandle) > 0 && !bytes.Equal(par.Response.UserHandle, userHandle(u)) {
		return bad("the credential belongs to another user")
	}
	cd := par.Response.CollectedClientData
	if !originAllowed(cd.Origin, rp) {
		return bad("the origin does not align with the relying party ID")
	}
	uv := signInVerification(p, u) == "required" // passkeys_mfa.go
	if err := par.Verify(s.code, rp, "", []string{cd.Origin}, nil, nil, protocol.TopOriginImplicitVerificationMode, false, uv, true, k.PublicKey, protocol.SignaturePolicy{}); err != nil {
		return bad(describeWebAuthnError(err))
	}
	// A counter that does not grow means a cloned authenticator (both zero: the
	// authenticator keeps none).
	if n := par.Response.AuthenticatorData.Counter; n != 0 || k.Counter != 0 {
		if n <= k.Counter {
			return bad("the signature counter did not increase")
		}
		k.Counter = n
		e.dirty = true
	}
	if err := checkCanSignIn(u, c.now); err != nil {
		return nil, err
	}
	return e.finishAuth(c, p, cl, u, knownDevice(u, s.DeviceKey), c.now)
}
