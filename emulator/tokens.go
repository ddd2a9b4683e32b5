package emulator

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const adminScope = "aws.cognito.signin.user.admin"

// ensureKeys generates the pool's two signing keys on first use: key generation is
// the slowest thing the emulator does, and many test pools never issue a token.
func (e *Emulator) ensureKeys(p *userPool) error {
	if p.Keys.access != nil {
		return nil
	}
	gen := func() (*rsa.PrivateKey, string, []byte, error) {
		k, err := rsa.GenerateKey(e.random, 2048)
		if err != nil {
			return nil, "", nil, fmt.Errorf("generating signing key: %w", err)
		}
		return k, keyID(&k.PublicKey), x509.MarshalPKCS1PrivateKey(k), nil
	}
	ak, akid, ader, err := gen()
	if err != nil {
		return err
	}
	ik, ikid, ider, err := gen()
	if err != nil {
		return err
	}
	p.Keys = poolKeys{AccessKID: akid, AccessDER: ader, IDKID: ikid, IDDER: ider, access: ak, id: ik}
	e.dirty = true
	return nil
}

// keyID derives a kid the way Cognito's look (base64 of 32 bytes): from the key,
// so a kid never names two keys.
func keyID(pub *rsa.PublicKey) string {
	sum := sha256.Sum256(x509.MarshalPKCS1PublicKey(pub))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func (k *poolKeys) parse() error {
	if len(k.AccessDER) == 0 && len(k.IDDER) == 0 {
		return nil // not generated yet
	}
	a, err := x509.ParsePKCS1PrivateKey(k.AccessDER)
	if err != nil {
		return fmt.Errorf("access key: %w", err)
	}
	i, err := x509.ParsePKCS1PrivateKey(k.IDDER)
	if err != nil {
		return fmt.Errorf("id key: %w", err)
	}
	k.access, k.id = a, i
	for n := range k.Retired {
		pub, err := x509.ParsePKCS1PublicKey(k.Retired[n].DER)
		if err != nil {
			return fmt.Errorf("retired key %d: %w", n, err)
		}
		k.Retired[n].pub = pub
	}
	return nil
}

// maxRetiredKeys bounds the JWKS: older keys drop out, and tokens they signed
// stop verifying, as after a real key's retirement.
const maxRetiredKeys = 4

// publicKey returns the key that verifies a token of the given use ("access" or
// "id") signed under kid, current or retired; nil when there is none.
func (k *poolKeys) publicKey(use, kid string) *rsa.PublicKey {
	switch {
	case use == "access" && k.access != nil && kid == k.AccessKID:
		return &k.access.PublicKey
	case use == "id" && k.id != nil && kid == k.IDKID:
		return &k.id.PublicKey
	}
	for _, r := range k.Retired {
		if r.Use == use && r.KID == kid {
			return r.pub
		}
	}
	return nil
}

// RotateKeys gives a pool new access and id signing keys. Tokens signed before
// keep verifying (the old keys stay in the JWKS); new tokens carry new kids.
func (e *Emulator) RotateKeys(poolID string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.st.Pools[poolID]
	if p == nil {
		return errResourceNotFound("User pool %s does not exist.", poolID)
	}
	if err := e.ensureKeys(p); err != nil {
		return err
	}
	old := p.Keys
	p.Keys = poolKeys{}
	if err := e.ensureKeys(p); err != nil {
		p.Keys = old
		return err
	}
	retired := []retiredKey{
		{KID: old.AccessKID, Use: "access", DER: x509.MarshalPKCS1PublicKey(&old.access.PublicKey), pub: &old.access.PublicKey},
		{KID: old.IDKID, Use: "id", DER: x509.MarshalPKCS1PublicKey(&old.id.PublicKey), pub: &old.id.PublicKey},
	}
	retired = append(retired, old.Retired...)
	if len(retired) > maxRetiredKeys {
		retired = retired[:maxRetiredKeys]
	}
	p.Keys.Retired = retired
	e.dirty = true
	return nil
}

// issuer is the iss claim of pool p's tokens.
func (e *Emulator) issuer(p *userPool) string { return e.issuerFor(p.ID) }

// issuerFor is the issuer of a pool ID: Cognito's URL in the pool's own region
// (the part of the ID before "_"), or the configured base URL.
func (e *Emulator) issuerFor(poolID string) string {
	if e.issuerBase != "" {
		return e.issuerBase + "/" + poolID
	}
	return "https://cognito-idp." + poolRegion(poolID) + ".amazonaws.com/" + poolID
}

// poolOfIssuer finds the pool whose issuer iss is.
func (e *Emulator) poolOfIssuer(iss string) *userPool {
	i := strings.LastIndexByte(iss, '/')
	if i < 0 {
		return nil
	}
	p := e.st.Pools[iss[i+1:]]
	if p == nil || iss != e.issuer(p) {
		return nil
	}
	return p
}

// Issuer tells the iss claim tokens of the pool carry.
func (e *Emulator) Issuer(poolID string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.issuerFor(poolID)
}

func signJWT(key *rsa.PrivateKey, kid string, claims jwt.MapClaims) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	// Cognito's header is exactly {kid, alg}.
	t.Header = map[string]any{"kid": kid, "alg": "RS256"}
	return t.SignedString(key)
}

// tokenSet is what a successful authentication returns.
type tokenSet struct {
	AccessToken  string `json:"AccessToken"`
	ExpiresIn    int64  `json:"ExpiresIn"`
	IDToken      string `json:"IdToken"`
	RefreshToken string `json:"RefreshToken,omitempty"`
	TokenType    string `json:"TokenType"`
	// NewDeviceMetadata is set when the pool tracks devices and a new one signed in.
	NewDeviceMetadata *newDeviceMetadata `json:"NewDeviceMetadata,omitempty"`

	// pending holds the JWTs still to sign. Signing is the costliest step of a
	// request, so serveAPI does it after releasing the lock (keys never change once
	// made), letting requests sign in parallel.
	pending []pendingJWT
	// hook, when set, runs the PreTokenGeneration trigger on the pending claims
	// before they are signed (triggers_token.go); source is its triggerSource
	// and origin the sign-in the tokens belong to.
	hook   func(*tokenSet) error
	source string
	origin string
	// issued, when set, records the claims signed (console.go's token list).
	issued *issuedTokens
}

type pendingJWT struct {
	dst    *string
	key    *rsa.PrivateKey
	kid    string
	claims jwt.MapClaims
}

// sign fills in the tokens' signed values.
func (ts *tokenSet) sign() error {
	if h := ts.hook; h != nil {
		ts.hook = nil
		if err := h(ts); err != nil {
			return err
		}
	}
	for _, p := range ts.pending {
		v, err := signJWT(p.key, p.kid, p.claims)
		if err != nil {
			return fmt.Errorf("signing token: %w", err)
		}
		*p.dst = v
	}
	ts.issued.add(ts.pending) // console_tokens.go
	ts.pending = nil
	return nil
}

// tokenSigner is a response holding tokens to sign outside the lock.
type tokenSigner interface{ signTokens() error }

type newDeviceMetadata struct {
	DeviceGroupKey string `json:"DeviceGroupKey"`
	DeviceKey      string `json:"DeviceKey"`
}

// mintTokens prepares an access and an id token for the sign-in o into ts; they are
// signed by ts.sign once the lock is released.
func (e *Emulator) mintTokens(ts *tokenSet, p *userPool, c *appClient, u *user, originID string, o *origin, now time.Time) error {
	if err := e.ensureKeys(p); err != nil {
		return err
	}
	groups := e.userGroups(p, u)
	ac := e.accessTokenClaims(p, c, u, originID, o, groups, now)
	ic := e.idTokenClaims(p, c, u, originID, o, groups, now)
	ts.issued = &e.issued
	ts.pending = append(ts.pending,
		pendingJWT{dst: &ts.AccessToken, key: p.Keys.access, kid: p.Keys.AccessKID, claims: ac},
		pendingJWT{dst: &ts.IDToken, key: p.Keys.id, kid: p.Keys.IDKID, claims: ic})
	ts.origin = originID
	return nil
}

// accessTokenClaims are the claims of u's access token from sign-in o, as Cognito
// sets them (groups and the device key when there are).
func (e *Emulator) accessTokenClaims(p *userPool, c *appClient, u *user, originID string, o *origin, groups []string, now time.Time) jwt.MapClaims {
	ac := jwt.MapClaims{
		"sub":        u.Sub,
		"iss":        e.issuer(p),
		"client_id":  c.ID,
		"origin_jti": originID,
		"event_id":   o.EventID,
		"token_use":  "access",
		"scope":      o.scope(),
		"auth_time":  o.AuthTime.Unix(),
		"exp":        now.Add(c.AccessValidity).Unix(),
		"iat":        now.Unix(),
		"jti":        e.uuid(),
		"username":   u.Username,
	}
	if len(groups) > 0 {
		ac["cognito:groups"] = groups
	}
	if o.DeviceKey != "" {
		ac["device_key"] = o.DeviceKey
	}
	return ac
}

// idTokenClaims are the claims of u's id token from sign-in o: the groups with their
// roles, and every attribute the client may read.
func (e *Emulator) idTokenClaims(p *userPool, c *appClient, u *user, originID string, o *origin, groups []string, now time.Time) jwt.MapClaims {
	ic := jwt.MapClaims{
		"sub":              u.Sub,
		"iss":              e.issuer(p),
		"cognito:username": u.Username,
		"origin_jti":       originID,
		"aud":              c.ID,
		"event_id":         o.EventID,
		"token_use":        "id",
		"auth_time":        o.AuthTime.Unix(),
		"exp":              now.Add(c.IDValidity).Unix(),
		"iat":              now.Unix(),
		"jti":              e.uuid(),
	}
	if len(groups) > 0 {
		ic["cognito:groups"] = groups
		if roles, preferred := groupRoles(p, groups); len(roles) > 0 {
			ic["cognito:roles"] = roles
			if preferred != "" {
				ic["cognito:preferred_role"] = preferred
			}
		}
	}
	for name, v := range u.Attributes {
		if name == "sub" || !clientReads(c, name) {
			continue
		}
		switch name {
		case "email_verified", "phone_number_verified":
			// Cognito stores these as strings but puts booleans in the token.
			ic[name] = v == "true"
		case "identities":
			// The attribute is JSON; the token has the entries (federation.go).
			ic[name] = identitiesClaim(u)
		default:
			ic[name] = v
		}
	}
	return ic
}

// clientReads tells whether the client's ReadAttributes let the attribute into the
// id token (all do when the client lists none).
func clientReads(c *appClient, attr string) bool {
	if len(c.ReadAttributes) == 0 {
		return true
	}
	return contains(c.ReadAttributes, attr)
}

func (e *Emulator) userGroups(p *userPool, u *user) []string {
	if len(u.Groups) == 0 {
		return nil
	}
	// Cognito lists groups by precedence (lowest first), then name.
	gs := append([]string(nil), u.Groups...)
	sort.SliceStable(gs, func(i, j int) bool {
		pi, pj := groupPrecedence(p, gs[i]), groupPrecedence(p, gs[j])
		if pi != pj {
			return pi < pj
		}
		return gs[i] < gs[j]
	})
	return gs
}

// groupRoles is what Cognito puts in an id token for groups with IAM roles:
// cognito:roles, every role of the user's groups, and cognito:preferred_role, the
// role of the group with the best (lowest) precedence — none when that is a tie
// or the group has no precedence. groups is in precedence order (userGroups).
func groupRoles(p *userPool, groups []string) (roles []string, preferred string) {
	var withRole []*group
	for _, name := range groups {
		g := p.Groups[name]
		if g == nil || g.RoleArn == "" {
			continue
		}
		withRole = append(withRole, g)
		if !contains(roles, g.RoleArn) {
			roles = append(roles, g.RoleArn)
		}
	}
	if len(withRole) > 0 && withRole[0].Precedence != nil &&
		(len(withRole) == 1 || groupPrecedence(p, withRole[1].Name) > int64(*withRole[0].Precedence)) {
		preferred = withRole[0].RoleArn
	}
	return roles, preferred
}

func groupPrecedence(p *userPool, name string) int64 {
	if g := p.Groups[name]; g != nil && g.Precedence != nil {
		return int64(*g.Precedence)
	}
	return 1 << 40
}

// newRefreshToken makes an opaque refresh token. Cognito's are JWE compact
// serialisations (five dot-separated parts); clients store them as strings, and
// some check that shape, so the emulator's have it too, with random content.
func (e *Emulator) newRefreshToken() string {
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"cty":"JWT","enc":"A256GCM","alg":"RSA-OAEP"}`))
	return header + "." + e.randomB64(256) + "." + e.randomB64(12) + "." + e.randomB64(384) + "." + e.randomB64(16)
}

// startSession records a new sign-in and returns its tokens including a refresh
// token.
func (e *Emulator) startSession(p *userPool, c *appClient, u *user, deviceKey string, now time.Time) (*tokenSet, error) {
	e.pruneOrigins(p, now)
	originID := e.uuid()
	o := &origin{
		Username:  u.Username,
		ClientID:  c.ID,
		AuthTime:  now,
		EventID:   e.uuid(),
		DeviceKey: deviceKey,
		Expires:   now.Add(c.RefreshValidity),
	}
	rt := e.newRefreshToken()
	ts := &tokenSet{ExpiresIn: int64(c.AccessValidity / time.Second), RefreshToken: rt, TokenType: "Bearer"}
	if err := e.mintTokens(ts, p, c, u, originID, o, now); err != nil {
		return nil, err
	}
	p.Origins[originID] = o
	p.Refresh[hashToken(rt)] = &refreshToken{Origin: originID, Username: u.Username, ClientID: c.ID, Expires: o.Expires}
	e.dirty = true
	return ts, nil
}

// pruneOrigins drops sign-ins whose refresh tokens have all expired, and those
// tokens, so long-running emulators do not grow without bound.
func (e *Emulator) pruneOrigins(p *userPool, now time.Time) {
	// Amortised: only when there is something worth scanning.
	if len(p.Origins) < 1024 {
		return
	}
	for id, o := range p.Origins {
		if now.After(o.Expires) {
			delete(p.Origins, id)
		}
	}
	for h, r := range p.Refresh {
		if _, ok := p.Origins[r.Origin]; !ok {
			delete(p.Refresh, h)
		}
	}
}

// revokeUser ends every sign-in of the user (GlobalSignOut, password changes by an
// admin, deletion).
func (e *Emulator) revokeUser(p *userPool, username string) {
	for _, o := range p.Origins {
		if o.Username == username && !o.Revoked {
			o.Revoked = true
			e.dirty = true
		}
	}
}

// accessClaims is what the emulator reads back from an access token it issued.
type accessClaims struct {
	Sub       string `json:"sub"`
	Username  string `json:"username"`
	ClientID  string `json:"client_id"`
	OriginJTI string `json:"origin_jti"`
	TokenUse  string `json:"token_use"`
	Scope     string `json:"scope"`
	DeviceKey string `json:"device_key"`
	Iss       string `json:"iss"`
	Exp       int64  `json:"exp"`
}

// authenticate checks an access token the way Cognito's user-facing operations do
// and returns its pool and user. Messages are Cognito's.
func (e *Emulator) authenticate(token string, now time.Time) (*userPool, *user, *accessClaims, error) {
	bad := errNotAuthorized("Invalid Access Token")
	p, cl, ok := e.signedAccessClaims(token)
	if !ok {
		return nil, nil, nil, bad
	}
	if cl.TokenUse != "access" || !strings.Contains(" "+cl.Scope+" ", " "+adminScope+" ") {
		return nil, nil, nil, bad
	}
	if now.Unix() >= cl.Exp {
		return nil, nil, nil, errNotAuthorized("Access Token has expired")
	}
	if o := p.Origins[cl.OriginJTI]; o == nil || o.Revoked {
		return nil, nil, nil, errNotAuthorized("Access Token has been revoked")
	}
	u := p.Users[p.userKey(cl.Username)]
	if u == nil || u.Sub != cl.Sub {
		return nil, nil, nil, errUserNotFound()
	}
	if !u.Enabled {
		return nil, nil, nil, errNotAuthorized("User is disabled.")
	}
	return p, u, cl, nil
}

// signedAccessClaims reads token's claims when it is signed by the access key
// of the pool its issuer names (claims are not checked yet).
func (e *Emulator) signedAccessClaims(token string) (*userPool, *accessClaims, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, nil, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, nil, false
	}
	var claims accessClaims
	if json.Unmarshal(payload, &claims) != nil {
		return nil, nil, false
	}
	p := e.poolOfIssuer(claims.Iss)
	if p == nil || p.Keys.access == nil {
		return nil, nil, false
	}
	if _, err := jwt.Parse(token, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if k := p.Keys.publicKey("access", kid); k != nil {
			return k, nil
		}
		return nil, fmt.Errorf("unknown kid")
	},
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation()); err != nil {
		return nil, nil, false
	}
	return p, &claims, true
}

// jwks is pool p's public keys as a JSON Web Key Set.
func jwks(p *userPool) map[string]any {
	key := func(kid string, k *rsa.PublicKey) map[string]string {
		return map[string]string{
			"alg": "RS256",
			"e":   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes()),
			"kid": kid,
			"kty": "RSA",
			"n":   base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
			"use": "sig",
		}
	}
	keys := []any{key(p.Keys.AccessKID, &p.Keys.access.PublicKey), key(p.Keys.IDKID, &p.Keys.id.PublicKey)}
	for _, r := range p.Keys.Retired {
		keys = append(keys, key(r.KID, r.pub))
	}
	return map[string]any{"keys": keys}
}
