package emulator

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Identity pools (Cognito Federated Identities, service AWSCognitoIdentityService).
//
// What is emulated: pool set-up (Create/Describe/Update/Delete/List, roles), GetId,
// GetCredentialsForIdentity and GetOpenIdToken with logins from this emulator's user
// pools, checked as Cognito checks them (signature with the pool's id-token key,
// issuer, audience among the identity pool's app clients, token_use, expiry on the
// emulator clock; with ServerSideTokenCheck also a revoked sign-in or a disabled
// user). One stable identity per user and identity pool; guests only where the pool
// allows them; a guest identity that presents a login is linked to it, or merged
// into the identity the login already has, as Cognito does. The credentials' role
// follows the pool's roles and role mappings (identity_roles.go), and STS
// GetCallerIdentity (sts.go) tells it.
//
// Deviations (documented): credentials are random strings that only the
// emulator's STS knows (moto's S3 accepts anything); a pool given no roles at
// all hands out credentials for the console's default role names; other login
// providers (Facebook, OIDC, SAML) are refused; the OpenID token's signing key is
// the emulator's own (served at /.well-known/jwks_uri), not Cognito's.
// Developer-authenticated identities are in identity_developer.go.

const (
	// idpExtKey names the identity-pool state in the "extensions" of older state
	// files.
	idpExtKey = "identityPools"
	// DefaultCredentialsLifetime is how long GetCredentialsForIdentity's credentials
	// last unless the pool says otherwise: Cognito's one hour.
	DefaultCredentialsLifetime = time.Hour
	// openIDTokenLifetime is Cognito's for GetOpenIdToken (ten minutes).
	openIDTokenLifetime = 10 * time.Minute
	// openIDIssuer is the iss of Cognito identity's OpenID tokens.
	openIDIssuer = "https://cognito-identity.amazonaws.com"
)

// idPattern is Cognito's pattern for identity pool and identity IDs.
var idPattern = regexp.MustCompile(`^[\w-]+:[0-9a-f-]+$`)

// CognitoIdentityProvider is one user-pool app client an identity pool trusts, as
// Cognito's CognitoIdentityProvider type.
type CognitoIdentityProvider struct {
	ProviderName         string `json:"ProviderName"` // cognito-idp.{region}.amazonaws.com/{userPoolId}
	ClientID             string `json:"ClientId"`
	ServerSideTokenCheck bool   `json:"ServerSideTokenCheck"`
}

// IdentityPoolConfig is what CreateIdentityPool takes through the Go API.
type IdentityPoolConfig struct {
	Name                           string
	AllowUnauthenticatedIdentities bool
	CognitoIdentityProviders       []CognitoIdentityProvider
	// CredentialsLifetime of GetCredentialsForIdentity's credentials; default one
	// hour. Not settable through the AWS API, which has no such field.
	CredentialsLifetime time.Duration
}

// ProviderName is the logins-map key of tokens from the user pool poolID:
// "cognito-idp.{region}.amazonaws.com/{poolId}", the region taken from the pool ID.
func ProviderName(poolID string) string {
	region, _, _ := strings.Cut(poolID, "_")
	return "cognito-idp." + region + ".amazonaws.com/" + poolID
}

// SeedIdentityPool is an identity pool in a Seed. UserPool and Clients name a user
// pool and its app clients of the same seed (seed names, not IDs).
type SeedIdentityPool struct {
	Name string `json:"name"`
	// ID fixes the identity pool ID ("us-east-1:0f6c…"); generated when empty.
	ID                             string   `json:"id,omitempty"`
	AllowUnauthenticatedIdentities bool     `json:"allowUnauthenticatedIdentities"`
	UserPool                       string   `json:"userPool,omitempty"`
	Clients                        []string `json:"clients,omitempty"`
	CredentialsLifetimeSeconds     int      `json:"credentialsLifetimeSeconds,omitempty"`
	// Roles are SetIdentityPoolRoles' ("authenticated", "unauthenticated" ->
	// role ARN); RoleMapping, when set, applies to every client of Clients.
	Roles       map[string]string `json:"roles,omitempty"`
	RoleMapping *SeedRoleMapping  `json:"roleMapping,omitempty"`
}

// SeedRoleMapping is a role mapping of a seeded identity pool: Type "Token" or
// "Rules", AmbiguousRoleResolution "AuthenticatedRole" or "Deny", and the rules
// of a Rules mapping, as SetIdentityPoolRoles takes them.
type SeedRoleMapping struct {
	Type                    string            `json:"type"`
	AmbiguousRoleResolution string            `json:"ambiguousRoleResolution"`
	Rules                   []SeedMappingRule `json:"rules,omitempty"`
}

// SeedMappingRule is one rule of a SeedRoleMapping (MatchType Equals,
// Contains, StartsWith or NotEqual).
type SeedMappingRule struct {
	Claim     string `json:"claim"`
	MatchType string `json:"matchType"`
	Value     string `json:"value"`
	RoleARN   string `json:"roleArn"`
}

// idpState is everything identity pools persist (state.IdentityPools).
type idpState struct {
	Pools      map[string]*identityPool `json:"pools"`
	Identities map[string]*identity     `json:"identities"` // by identity ID
	// Links maps linkKey(pool, provider, sub) to the identity ID a login belongs to.
	Links map[string]string `json:"links"`
	// The OpenID token signing key, generated on first use.
	KeyID  string `json:"openIdKeyId,omitempty"`
	KeyDER []byte `json:"openIdKey,omitempty"`

	key   *rsa.PrivateKey // KeyDER parsed
	creds issuedCreds     // credentials handed out, for GetCallerIdentity
}

type identityPool struct {
	ID                    string                    `json:"id"`
	Name                  string                    `json:"name"`
	AllowUnauthenticated  bool                      `json:"allowUnauthenticated"`
	AllowClassicFlow      bool                      `json:"allowClassicFlow"`
	Providers             []CognitoIdentityProvider `json:"providers"`
	SupportedLogins       map[string]string         `json:"supportedLoginProviders,omitempty"`
	DeveloperProviderName string                    `json:"developerProviderName,omitempty"`
	OpenIDProviderARNs    []string                  `json:"openIdConnectProviderArns,omitempty"`
	SAMLProviderARNs      []string                  `json:"samlProviderArns,omitempty"`
	Tags                  map[string]string         `json:"tags,omitempty"`
	Roles                 map[string]string         `json:"roles,omitempty"`
	RoleMappings          map[string]*roleMapping   `json:"roleMappings,omitempty"`
	CredentialsLifetime   time.Duration             `json:"credentialsLifetime,omitempty"`
	// PrincipalTags is SetPrincipalTagAttributeMap's, by canonical provider.
	PrincipalTags map[string]principalTagMap `json:"principalTags,omitempty"`
	Created       time.Time                  `json:"created"`
}

type identity struct {
	ID     string            `json:"id"`
	Pool   string            `json:"pool"`
	Logins map[string]string `json:"logins,omitempty"` // canonical provider -> sub
	// Developer holds the user identifiers of the pool's developer provider.
	Developer []string `json:"developer,omitempty"`
	// Inaccessible: the identity's last login was unlinked; no login reaches it
	// any more, and it is no guest.
	Inaccessible bool      `json:"inaccessible,omitempty"`
	Created      time.Time `json:"created"`
	Modified     time.Time `json:"modified"`
}

func linkKey(pool, provider, sub string) string { return pool + "|" + provider + "|" + sub }

// idp returns the identity-pool state, made on first use; e.mu must be held.
func (e *Emulator) idp() *idpState {
	if e.st.IdentityPools == nil {
		e.st.IdentityPools = &idpState{}
	}
	s := e.st.IdentityPools
	s.ensureMaps()
	return s
}

func (s *idpState) ensureMaps() {
	if s.Pools == nil {
		s.Pools = map[string]*identityPool{}
	}
	if s.Identities == nil {
		s.Identities = map[string]*identity{}
	}
	if s.Links == nil {
		s.Links = map[string]string{}
	}
}

// loaded checks identity-pool state read from a state file (nil is none).
func (s *idpState) loaded() error {
	if s == nil {
		return nil
	}
	s.ensureMaps()
	if len(s.KeyDER) > 0 {
		k, err := x509.ParsePKCS1PrivateKey(s.KeyDER)
		if err != nil {
			return fmt.Errorf("OpenID key: %w", err)
		}
		s.key = k
	}
	return nil
}

func validationErr(field, value string) *Error {
	return newErr("ValidationException",
		"1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w-]+:[0-9a-f-]+",
		clip(value), field)
}

func checkID(field, value string) error {
	if value == "" {
		return newErr("ValidationException", "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", field)
	}
	if len(value) > 55 || !idPattern.MatchString(value) {
		return validationErr(field, value)
	}
	return nil
}

func (s *idpState) pool(id string) (*identityPool, error) {
	if err := checkID("identityPoolId", id); err != nil {
		return nil, err
	}
	p := s.Pools[id]
	if p == nil {
		return nil, newErr("ResourceNotFoundException", "IdentityPool '%s' not found.", clip(id))
	}
	return p, nil
}

// identityPoolInput is the IdentityPool shape of Create/Update/Describe.
type identityPoolInput struct {
	IdentityPoolID                 string                    `json:"IdentityPoolId,omitempty"`
	IdentityPoolName               string                    `json:"IdentityPoolName"`
	AllowUnauthenticatedIdentities *bool                     `json:"AllowUnauthenticatedIdentities"`
	AllowClassicFlow               bool                      `json:"AllowClassicFlow"`
	CognitoIdentityProviders       []CognitoIdentityProvider `json:"CognitoIdentityProviders,omitempty"`
	SupportedLoginProviders        map[string]string         `json:"SupportedLoginProviders,omitempty"`
	DeveloperProviderName          string                    `json:"DeveloperProviderName,omitempty"`
	OpenIDConnectProviderARNs      []string                  `json:"OpenIdConnectProviderARNs,omitempty"`
	SamlProviderARNs               []string                  `json:"SamlProviderARNs,omitempty"`
	IdentityPoolTags               map[string]string         `json:"IdentityPoolTags,omitempty"`

	region  string // of a generated ID; Options.Region when empty
	fixedID string // a seed's identity pool ID
}

// identityPoolIDPattern is IdentityPoolId's pattern in the service model, with
// the lengths bounded.
var identityPoolIDPattern = regexp.MustCompile(`^[\w-]{1,40}:[0-9a-f-]{1,50}$`)

// identityPoolRegion is the region part of an identity pool or identity ID
// ("eu-west-1" of "eu-west-1:1b2c…").
func identityPoolRegion(id string) string {
	region, _, _ := strings.Cut(id, ":")
	return region
}

var poolNamePattern = regexp.MustCompile(`^[\w ]+$`)

// apply checks in and copies it into p.
func (in *identityPoolInput) apply(p *identityPool) error {
	if in.IdentityPoolName == "" || len(in.IdentityPoolName) > 128 || !poolNamePattern.MatchString(in.IdentityPoolName) {
		return newErr("ValidationException", "1 validation error detected: Value '%s' at 'identityPoolName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w ]+", clip(in.IdentityPoolName))
	}
	if in.AllowUnauthenticatedIdentities == nil {
		return newErr("ValidationException", "1 validation error detected: Value null at 'allowUnauthenticatedIdentities' failed to satisfy constraint: Member must not be null")
	}
	for i, cp := range in.CognitoIdentityProviders {
		if _, ok := parseProviderName(cp.ProviderName); !ok {
			return errInvalidParameter("Invalid Cognito Identity Provider: %s", clip(cp.ProviderName))
		}
		in.CognitoIdentityProviders[i].ProviderName = canonicalProvider(cp.ProviderName)
	}
	p.Name = in.IdentityPoolName
	p.AllowUnauthenticated = *in.AllowUnauthenticatedIdentities
	p.AllowClassicFlow = in.AllowClassicFlow
	p.Providers = in.CognitoIdentityProviders
	dev, err := developerName(p.DeveloperProviderName, in.DeveloperProviderName)
	if err != nil {
		return err
	}
	p.SupportedLogins = in.SupportedLoginProviders
	p.DeveloperProviderName = dev
	p.OpenIDProviderARNs = in.OpenIDConnectProviderARNs
	p.SAMLProviderARNs = in.SamlProviderARNs
	if in.IdentityPoolTags != nil {
		p.Tags = in.IdentityPoolTags
	}
	return nil
}

func describeIdentityPool(p *identityPool) identityPoolInput {
	allow := p.AllowUnauthenticated
	providers := p.Providers
	if providers == nil {
		providers = []CognitoIdentityProvider{}
	}
	return identityPoolInput{
		IdentityPoolID:                 p.ID,
		IdentityPoolName:               p.Name,
		AllowUnauthenticatedIdentities: &allow,
		AllowClassicFlow:               p.AllowClassicFlow,
		CognitoIdentityProviders:       providers,
		SupportedLoginProviders:        p.SupportedLogins,
		DeveloperProviderName:          p.DeveloperProviderName,
		OpenIDConnectProviderARNs:      p.OpenIDProviderARNs,
		SamlProviderARNs:               p.SAMLProviderARNs,
		IdentityPoolTags:               p.Tags,
	}
}

// parseProviderName returns the user pool ID of a Cognito provider name in either
// form a client may send: Cognito's "cognito-idp.{region}.amazonaws.com/{poolId}"
// or an issuer without its scheme ("127.0.0.1:9229/{poolId}" under SelfIssuer).
func parseProviderName(name string) (poolID string, ok bool) {
	i := strings.LastIndexByte(name, '/')
	if i <= 0 || i == len(name)-1 {
		return "", false
	}
	poolID = name[i+1:]
	if !strings.Contains(poolID, "_") {
		return "", false
	}
	return poolID, true
}

// canonicalProvider is the Cognito form of a provider name; identities and pools
// store that form, so a login works whichever form the client used.
func canonicalProvider(name string) string {
	id, ok := parseProviderName(name)
	if !ok {
		return name
	}
	return ProviderName(id)
}

// acceptsProviderKey tells whether key names the user pool p: Cognito's name, or
// the emulator's issuer for p without its scheme.
func (e *Emulator) acceptsProviderKey(key string, p *userPool) bool {
	if key == ProviderName(p.ID) {
		return true
	}
	iss := e.issuer(p)
	if _, rest, ok := strings.Cut(iss, "://"); ok {
		iss = rest
	}
	return key == iss
}

// CreateIdentityPool creates an identity pool through the Go API and returns its ID.
func (e *Emulator) CreateIdentityPool(cfg IdentityPoolConfig) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.idp()
	allow := cfg.AllowUnauthenticatedIdentities
	in := identityPoolInput{
		IdentityPoolName:               cfg.Name,
		AllowUnauthenticatedIdentities: &allow,
		CognitoIdentityProviders:       append([]CognitoIdentityProvider(nil), cfg.CognitoIdentityProviders...),
	}
	p, err := e.createIdentityPool(s, &in, e.base.Now().Add(e.offset))
	if err != nil {
		return "", err
	}
	p.CredentialsLifetime = cfg.CredentialsLifetime
	e.saveIfDirty()
	return p.ID, nil
}

func (e *Emulator) createIdentityPool(s *idpState, in *identityPoolInput, now time.Time) (*identityPool, error) {
	region := in.region
	if region == "" {
		region = e.opts.Region
	}
	id := in.fixedID
	if id == "" {
		id = region + ":" + e.uuid()
	} else if s.Pools[id] != nil {
		return nil, newErr("ResourceConflictException", "Identity pool %s already exists.", clip(id))
	}
	p := &identityPool{ID: id, Created: now}
	if err := in.apply(p); err != nil {
		return nil, err
	}
	s.Pools[p.ID] = p
	e.dirty = true
	return p, nil
}

// applyIdentityPoolSeed creates the seed's identity pools once its user pools
// exist; userPoolID and clientID resolve seed names. It runs with e.mu held and
// returns identity-pool name -> ID.
func (e *Emulator) applyIdentityPoolSeed(pools []SeedIdentityPool, userPoolID func(name string) string, clientID func(pool, client string) string) (map[string]string, error) {
	if len(pools) == 0 {
		return map[string]string{}, nil
	}
	s := e.idp()
	out := make(map[string]string, len(pools))
	now := e.base.Now().Add(e.offset)
	for _, sp := range pools {
		if _, dup := out[sp.Name]; dup {
			return nil, fmt.Errorf("emulator: seed identity pool %q twice", sp.Name)
		}
		id := sp.ID
		if id == "" && e.st.Seeded != nil {
			id = e.st.Seeded.IdentityPools[sp.Name]
		}
		if id != "" && s.Pools[id] != nil {
			out[sp.Name] = id // made by an earlier seed: left as it is
			continue
		}
		if sp.ID != "" && !identityPoolIDPattern.MatchString(sp.ID) {
			return nil, fmt.Errorf("emulator: seed identity pool %q: id %q is not REGION:GUID", sp.Name, sp.ID)
		}
		in, err := seedIdentityPoolInput(sp, userPoolID, clientID)
		if err != nil {
			return nil, err
		}
		in.fixedID = sp.ID
		p, err := e.createIdentityPool(s, in, now)
		if err != nil {
			return nil, fmt.Errorf("emulator: seed identity pool %q: %w", sp.Name, err)
		}
		p.CredentialsLifetime = time.Duration(sp.CredentialsLifetimeSeconds) * time.Second
		if err := seedRoles(p, sp); err != nil {
			delete(s.Pools, p.ID)
			return nil, fmt.Errorf("emulator: seed identity pool %q: %w", sp.Name, err)
		}
		out[sp.Name] = p.ID
	}
	return out, nil
}

// seedIdentityPoolInput is the CreateIdentityPool request of seed pool sp: its
// user pool's clients as providers, in that user pool's region.
func seedIdentityPoolInput(sp SeedIdentityPool, userPoolID func(name string) string, clientID func(pool, client string) string) (*identityPoolInput, error) {
	allow := sp.AllowUnauthenticatedIdentities
	in := &identityPoolInput{IdentityPoolName: sp.Name, AllowUnauthenticatedIdentities: &allow}
	if sp.UserPool == "" {
		return in, nil
	}
	upID := userPoolID(sp.UserPool)
	if upID == "" {
		return nil, fmt.Errorf("emulator: seed identity pool %q: no user pool %q in the seed", sp.Name, sp.UserPool)
	}
	for _, c := range sp.Clients {
		cid := clientID(sp.UserPool, c)
		if cid == "" {
			return nil, fmt.Errorf("emulator: seed identity pool %q: no client %q in user pool %q", sp.Name, c, sp.UserPool)
		}
		in.CognitoIdentityProviders = append(in.CognitoIdentityProviders, CognitoIdentityProvider{ProviderName: ProviderName(upID), ClientID: cid})
	}
	in.region = poolRegion(upID) // beside its user pool
	return in, nil
}

func (e *Emulator) opCreateIdentityPool(c *call, in *identityPoolInput) (any, error) {
	s := e.idp()
	in.region = e.newRegion(c)
	p, err := e.createIdentityPool(s, in, c.now)
	if err != nil {
		return nil, err
	}
	return describeIdentityPool(p), nil
}

type identityPoolIDInput struct {
	IdentityPoolID string `json:"IdentityPoolId"`
}

func (e *Emulator) opDescribeIdentityPool(c *call, in *identityPoolIDInput) (any, error) {
	s := e.idp()
	p, err := s.pool(in.IdentityPoolID)
	if err != nil {
		return nil, err
	}
	return describeIdentityPool(p), nil
}

func (e *Emulator) opUpdateIdentityPool(c *call, in *identityPoolInput) (any, error) {
	s := e.idp()
	p, err := s.pool(in.IdentityPoolID)
	if err != nil {
		return nil, err
	}
	upd := *p
	if err := in.apply(&upd); err != nil {
		return nil, err
	}
	*p = upd
	e.dirty = true
	return describeIdentityPool(p), nil
}

func (e *Emulator) opDeleteIdentityPool(c *call, in *identityPoolIDInput) (any, error) {
	s := e.idp()
	if _, err := s.pool(in.IdentityPoolID); err != nil {
		return nil, err
	}
	delete(s.Pools, in.IdentityPoolID)
	for id, ident := range s.Identities {
		if ident.Pool == in.IdentityPoolID {
			delete(s.Identities, id)
		}
	}
	prefix := in.IdentityPoolID + "|"
	for k := range s.Links {
		if strings.HasPrefix(k, prefix) {
			delete(s.Links, k)
		}
	}
	e.dirty = true
	return struct{}{}, nil
}

type listIdentityPoolsInput struct {
	MaxResults *int   `json:"MaxResults"`
	NextToken  string `json:"NextToken"`
}

func (e *Emulator) opListIdentityPools(c *call, in *listIdentityPoolsInput) (any, error) {
	if in.MaxResults == nil || *in.MaxResults < 1 || *in.MaxResults > 60 {
		return nil, newErr("ValidationException", "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 60")
	}
	s := e.idp()
	return listPage(s.Pools, nil, in.NextToken, *in.MaxResults, "IdentityPools", "NextToken", func(id string, p *identityPool) map[string]string {
		return map[string]string{"IdentityPoolId": id, "IdentityPoolName": p.Name}
	}), nil
}

type setIdentityPoolRolesInput struct {
	IdentityPoolID string                  `json:"IdentityPoolId"`
	Roles          map[string]string       `json:"Roles"`
	RoleMappings   map[string]*roleMapping `json:"RoleMappings"`
}

func (e *Emulator) opSetIdentityPoolRoles(c *call, in *setIdentityPoolRolesInput) (any, error) {
	s := e.idp()
	p, err := s.pool(in.IdentityPoolID)
	if err != nil {
		return nil, err
	}
	if err := validateRoles(p, in.Roles, in.RoleMappings); err != nil {
		return nil, err
	}
	p.Roles = in.Roles
	p.RoleMappings = in.RoleMappings
	e.dirty = true
	return struct{}{}, nil
}

func (e *Emulator) opGetIdentityPoolRoles(c *call, in *identityPoolIDInput) (any, error) {
	s := e.idp()
	p, err := s.pool(in.IdentityPoolID)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"IdentityPoolId": p.ID, "Roles": p.Roles}
	if p.Roles == nil {
		out["Roles"] = map[string]string{}
	}
	if len(p.RoleMappings) > 0 {
		out["RoleMappings"] = p.RoleMappings
	}
	return out, nil
}

type describeIdentityInput struct {
	IdentityID string `json:"IdentityId"`
}

func (e *Emulator) opDescribeIdentity(c *call, in *describeIdentityInput) (any, error) {
	if err := checkID("identityId", in.IdentityID); err != nil {
		return nil, err
	}
	s := e.idp()
	ident := s.Identities[in.IdentityID]
	if ident == nil {
		return nil, newErr("ResourceNotFoundException", "Identity '%s' not found.", clip(in.IdentityID))
	}
	return s.describeIdentity(ident), nil
}

func (s *idpState) describeIdentity(ident *identity) map[string]any {
	logins := make([]string, 0, len(ident.Logins)+1)
	for p := range ident.Logins {
		logins = append(logins, p)
	}
	logins = append(logins, s.developerLogins(ident)...)
	sort.Strings(logins)
	return map[string]any{
		"IdentityId":       ident.ID,
		"Logins":           logins,
		"CreationDate":     epoch(ident.Created),
		"LastModifiedDate": epoch(ident.Modified),
	}
}

// login is one verified entry of a logins map.
type login struct {
	provider string // canonical
	sub      string
	// mappingKey names the login's role mapping: "{provider}:{clientId}" for a
	// user-pool token, as SetIdentityPoolRoles keys it.
	mappingKey string
	// claims is the verified token's payload, for rules-based role mapping and
	// principal tags.
	claims map[string]any
	// tags are the principal tags a developer's OpenID token carries.
	tags map[string]string
}

// verifyLogins checks every entry of a logins map against the identity pool and
// returns them, sorted by provider so that results do not depend on map order.
// Messages are Cognito's.
func (e *Emulator) verifyLogins(ip *identityPool, logins map[string]string, now time.Time) ([]login, error) {
	if len(logins) > 10 {
		return nil, newErr("ValidationException", "1 validation error detected: Value at 'logins' failed to satisfy constraint: Member must have length less than or equal to 10")
	}
	out := make([]login, 0, len(logins))
	for key, token := range logins {
		l, err := e.verifyLogin(ip, key, token, now)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].provider < out[j].provider })
	return out, nil
}

// idTokenClaims is what identity pools read from a user pool's id token.
type idTokenClaims struct {
	Sub       string `json:"sub"`
	Iss       string `json:"iss"`
	Aud       string `json:"aud"`
	TokenUse  string `json:"token_use"`
	Exp       int64  `json:"exp"`
	OriginJTI string `json:"origin_jti"`
	Username  string `json:"cognito:username"`
}

func (e *Emulator) verifyLogin(ip *identityPool, key, token string, now time.Time) (login, error) {
	if key == openIDProvider {
		return e.verifyOpenIDLogin(ip, token, now) // identity_developer.go
	}
	poolID, ok := parseProviderName(key)
	up := e.st.Pools[poolID]
	if !ok || up == nil || !e.acceptsProviderKey(key, up) {
		return login{}, errNotAuthorized("Invalid login token. Token is not from a supported provider of this identity pool.")
	}
	provider := ProviderName(poolID)
	trusted := trustedProviders(ip, provider)
	if len(trusted) == 0 {
		return login{}, errNotAuthorized("Invalid login token. Token is not from a supported provider of this identity pool.")
	}
	cl, all, err := e.readPoolIDToken(up, token, now)
	if err != nil {
		return login{}, err
	}
	var match *CognitoIdentityProvider
	for i := range trusted {
		if trusted[i].ClientID == "" || trusted[i].ClientID == cl.Aud {
			match = &trusted[i]
			break
		}
	}
	if match == nil {
		return login{}, errNotAuthorized("Invalid login token. Incorrect token audience.")
	}
	if match.ServerSideTokenCheck {
		if err := serverSideTokenCheck(up, &cl); err != nil {
			return login{}, err
		}
	}
	return login{provider: provider, sub: cl.Sub, mappingKey: provider + ":" + cl.Aud, claims: all}, nil
}

// trustedProviders are the identity pool's entries for a user pool provider.
func trustedProviders(ip *identityPool, provider string) []CognitoIdentityProvider {
	var trusted []CognitoIdentityProvider
	for _, cp := range ip.Providers {
		if cp.ProviderName == provider {
			trusted = append(trusted, cp)
		}
	}
	return trusted
}

// readPoolIDToken verifies an id token of user pool up: its signature, issuer,
// use, subject and expiry; it returns its claims, typed and all.
func (e *Emulator) readPoolIDToken(up *userPool, token string, now time.Time) (idTokenClaims, map[string]any, error) {
	var cl idTokenClaims
	bad := errNotAuthorized("Invalid login token. Not a valid OpenId Connect identity token.")
	if up.Keys.id == nil {
		return cl, nil, bad // the pool never issued a token
	}
	_, err := jwt.Parse(token, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if k := up.Keys.publicKey("id", kid); k != nil {
			return k, nil
		}
		return nil, fmt.Errorf("unknown kid")
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())
	if err != nil {
		return cl, nil, bad
	}
	parts := strings.Split(token, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	var all map[string]any
	if err != nil || json.Unmarshal(payload, &cl) != nil || json.Unmarshal(payload, &all) != nil {
		return cl, nil, bad
	}
	if cl.Iss != e.issuer(up) {
		return cl, nil, errNotAuthorized("Invalid login token. Issuer doesn't match providerName")
	}
	if cl.TokenUse != "id" || cl.Sub == "" {
		return cl, nil, bad
	}
	if now.Unix() >= cl.Exp {
		return cl, nil, errNotAuthorized(fmt.Sprintf("Invalid login token. Token expired: %d >= %d", now.Unix(), cl.Exp))
	}
	return cl, all, nil
}

// serverSideTokenCheck asks the user pool whether the sign-in still stands.
func serverSideTokenCheck(up *userPool, cl *idTokenClaims) error {
	if o := up.Origins[cl.OriginJTI]; o == nil || o.Revoked {
		return errNotAuthorized("Invalid login token. Token has been revoked.")
	}
	if u := up.Users[up.userKey(cl.Username)]; u == nil || u.Sub != cl.Sub || !u.Enabled {
		return errNotAuthorized("Invalid login token. User is not valid.")
	}
	return nil
}

func (e *Emulator) newIdentity(s *idpState, ip *identityPool, now time.Time) *identity {
	ident := &identity{ID: identityPoolRegion(ip.ID) + ":" + e.uuid(), Pool: ip.ID, Created: now, Modified: now}
	s.Identities[ident.ID] = ident
	return ident
}

func (s *idpState) link(ident *identity, logins []login, now time.Time) {
	if ident.Logins == nil {
		ident.Logins = map[string]string{}
	}
	for _, l := range logins {
		if l.provider == openIDProvider {
			continue // the identity's own token: nothing to link
		}
		ident.Logins[l.provider] = l.sub
		s.Links[linkKey(ident.Pool, l.provider, l.sub)] = ident.ID
	}
	ident.Modified = now
}

// linkedIdentity returns the identity the logins belong to (nil when none). Logins
// that belong to different identities are refused, as Cognito refuses to merge
// two authenticated identities implicitly.
func (s *idpState) linkedIdentity(pool string, logins []login) (*identity, error) {
	var found *identity
	for _, l := range logins {
		if l.provider == openIDProvider {
			continue
		}
		id, ok := s.Links[linkKey(pool, l.provider, l.sub)]
		if !ok {
			continue
		}
		ident := s.Identities[id]
		if ident == nil {
			continue
		}
		if found != nil && found.ID != ident.ID {
			return nil, newErr("ResourceConflictException", "Logins are linked to different identities.")
		}
		found = ident
	}
	return found, nil
}

type getIdInput struct {
	AccountID      string            `json:"AccountId"`
	IdentityPoolID string            `json:"IdentityPoolId"`
	Logins         map[string]string `json:"Logins"`
}

func (e *Emulator) opGetId(c *call, in *getIdInput) (any, error) {
	s := e.idp()
	ip, err := s.pool(in.IdentityPoolID)
	if err != nil {
		return nil, err
	}
	logins, err := e.verifyLogins(ip, in.Logins, c.now)
	if err != nil {
		return nil, err
	}
	if err := noOpenIDLogin(logins); err != nil {
		return nil, err
	}
	if len(logins) == 0 {
		if !ip.AllowUnauthenticated {
			return nil, errNotAuthorized("Unauthenticated access is not supported for this identity pool.")
		}
		// Cognito makes a new guest identity on every GetId without logins; clients
		// are expected to keep the one they got.
		ident := e.newIdentity(s, ip, c.now)
		e.dirty = true
		return map[string]string{"IdentityId": ident.ID}, nil
	}
	ident, err := s.linkedIdentity(ip.ID, logins)
	if err != nil {
		return nil, err
	}
	if ident == nil {
		ident = e.newIdentity(s, ip, c.now)
	}
	s.link(ident, logins, c.now)
	e.dirty = true
	return map[string]string{"IdentityId": ident.ID}, nil
}

// resolveIdentity finds the identity a GetCredentialsForIdentity or GetOpenIdToken
// call acts for, linking or merging a guest identity that now presents a login.
func (e *Emulator) resolveIdentity(s *idpState, identityID string, rawLogins map[string]string, now time.Time) (*identity, *identityPool, []login, error) {
	if err := checkID("identityId", identityID); err != nil {
		return nil, nil, nil, err
	}
	ident := s.Identities[identityID]
	if ident == nil {
		return nil, nil, nil, newErr("ResourceNotFoundException", "Identity '%s' not found.", clip(identityID))
	}
	ip := s.Pools[ident.Pool]
	if ip == nil {
		return nil, nil, nil, newErr("ResourceNotFoundException", "Identity '%s' not found.", clip(identityID))
	}
	logins, err := e.verifyLogins(ip, rawLogins, now)
	if err != nil {
		return nil, nil, nil, err
	}
	mismatch := errNotAuthorized("Logins don't match. Please include at least one valid login for this identity or identity pool.")
	for _, l := range logins {
		if l.provider == openIDProvider && l.sub != identityID {
			return nil, nil, nil, mismatch // an OpenID token names its identity
		}
	}
	if ident.Inaccessible {
		return nil, nil, nil, errNotAuthorized(fmt.Sprintf("Access to Identity '%s' is forbidden.", clip(identityID)))
	}
	if ident.authenticated() {
		if err := ident.checkOwnLogins(identityID, logins, mismatch); err != nil {
			return nil, nil, nil, err
		}
		return ident, ip, logins, nil
	}
	if len(logins) == 0 {
		if !ip.AllowUnauthenticated {
			return nil, nil, nil, errNotAuthorized("Unauthenticated access is not supported for this identity pool.")
		}
		return ident, ip, nil, nil
	}
	ident, err = e.signInGuest(s, ip, ident, logins, now)
	if err != nil {
		return nil, nil, nil, err
	}
	return ident, ip, logins, nil
}

// checkOwnLogins holds that an authenticated identity (asked for as
// identityID) answers only to one of its own logins (an OpenID token was
// checked before).
func (ident *identity) checkOwnLogins(identityID string, logins []login, mismatch error) error {
	if len(logins) == 0 {
		return errNotAuthorized(fmt.Sprintf("Access to Identity '%s' is forbidden.", clip(identityID)))
	}
	for _, l := range logins {
		if l.provider != openIDProvider && ident.Logins[l.provider] != l.sub {
			return mismatch
		}
	}
	return nil
}

// signInGuest links logins to the guest identity ident and returns the
// identity that now answers for them. Cognito links the logins to the guest
// identity when they have none yet; otherwise the guest identity is merged into
// the one the logins have, and that identity is returned.
func (e *Emulator) signInGuest(s *idpState, ip *identityPool, ident *identity, logins []login, now time.Time) (*identity, error) {
	owner, err := s.linkedIdentity(ip.ID, logins)
	if err != nil {
		return nil, err
	}
	e.dirty = true
	if owner != nil && owner.ID != ident.ID {
		delete(s.Identities, ident.ID)
		s.link(owner, logins, now)
		return owner, nil
	}
	s.link(ident, logins, now)
	return ident, nil
}

type identityCall struct {
	IdentityID    string            `json:"IdentityId"`
	Logins        map[string]string `json:"Logins"`
	CustomRoleArn string            `json:"CustomRoleArn"`
}

func (e *Emulator) opGetCredentialsForIdentity(c *call, in *identityCall) (any, error) {
	if in.CustomRoleArn != "" {
		if err := checkRoleARN("customRoleArn", in.CustomRoleArn); err != nil {
			return nil, err
		}
	}
	s := e.idp()
	ident, ip, logins, err := e.resolveIdentity(s, in.IdentityID, in.Logins, c.now)
	if err != nil {
		return nil, err
	}
	role, err := e.chooseRole(ip, logins, len(logins) > 0, in.CustomRoleArn)
	if err != nil {
		return nil, err
	}
	life := ip.CredentialsLifetime
	if life <= 0 {
		life = DefaultCredentialsLifetime
	}
	type credentials struct {
		AccessKeyID  string  `json:"AccessKeyId"`
		SecretKey    string  `json:"SecretKey"`
		SessionToken string  `json:"SessionToken"`
		Expiration   float64 `json:"Expiration"`
	}
	// Cognito sends whole seconds.
	exp := c.now.Add(life).Truncate(time.Second)
	cr := credentials{
		// Temporary credentials' key IDs start with ASIA and hold 16 more
		// upper-case letters and digits.
		AccessKeyID:  "ASIA" + strings.ToUpper(e.randomAlnum(16, true)),
		SecretKey:    base64.StdEncoding.EncodeToString(e.randomBytes(30)),
		SessionToken: base64.StdEncoding.EncodeToString(e.randomBytes(600)),
		Expiration:   float64(exp.Unix()),
	}
	assumed, _ := assumedRoleARN(role, e.accountID())
	s.creds.add(&issuedCred{
		IssuedCredentials: IssuedCredentials{
			AccessKeyID: cr.AccessKeyID, IdentityID: ident.ID, IdentityPoolID: ip.ID,
			RoleARN: role, AssumedRoleARN: assumed, Authenticated: len(logins) > 0,
			PrincipalTags: principalTags(ip, logins), Expiration: exp,
		},
		secret: cr.SecretKey, sessionToken: cr.SessionToken,
	}, c.now)
	return struct {
		IdentityID  string      `json:"IdentityId"`
		Credentials credentials `json:"Credentials"`
	}{ident.ID, cr}, nil
}

func (e *Emulator) opGetOpenIdToken(c *call, in *identityCall) (any, error) {
	s := e.idp()
	// The key first: making it can fail only with the random source, and then
	// no guest identity has been linked yet.
	key, err := e.openIDKey(s)
	if err != nil {
		return nil, err
	}
	ident, ip, logins, err := e.resolveIdentity(s, in.IdentityID, in.Logins, c.now)
	if err != nil {
		return nil, err
	}
	amr := []string{"unauthenticated"}
	if ident.authenticated() {
		amr = []string{"authenticated"}
		for _, l := range logins {
			if l.provider != openIDProvider {
				amr = append(amr, l.provider, l.provider+":CognitoSignIn:"+l.sub)
			}
		}
	}
	tok, err := signJWT(key, s.KeyID, jwt.MapClaims{
		"iss": openIDIssuer,
		"sub": ident.ID,
		"aud": ip.ID,
		"amr": amr,
		"iat": c.now.Unix(),
		"exp": c.now.Add(openIDTokenLifetime).Unix(),
		"https://cognito-identity.amazonaws.com/identity-pool-arn": e.identityPoolARN(ip),
	})
	if err != nil {
		return nil, fmt.Errorf("signing OpenID token: %w", err)
	}
	return map[string]string{"IdentityId": ident.ID, "Token": tok}, nil
}

// openIDKey returns the key GetOpenIdToken signs with, made on first use.
func (e *Emulator) openIDKey(s *idpState) (*rsa.PrivateKey, error) {
	if s.key != nil {
		return s.key, nil
	}
	k, err := rsa.GenerateKey(e.random, 2048)
	if err != nil {
		return nil, fmt.Errorf("generating OpenID key: %w", err)
	}
	s.KeyID, s.KeyDER, s.key = keyID(&k.PublicKey), x509.MarshalPKCS1PrivateKey(k), k
	e.dirty = true
	return k, nil
}

// OpenIDTokenKey returns the public key that verifies GetOpenIdToken's tokens and
// its kid (nil before the first token).
func (e *Emulator) OpenIDTokenKey() (*rsa.PublicKey, string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.idp()
	if s.key == nil {
		return nil, "", nil
	}
	return &s.key.PublicKey, s.KeyID, nil
}

// IdentityLogins tells which providers an identity is linked to (none for a guest)
// and whether it exists; for tests that check linking and merging.
func (e *Emulator) IdentityLogins(identityID string) (providers []string, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.idp()
	ident := s.Identities[identityID]
	if ident == nil {
		return nil, false
	}
	for p := range ident.Logins {
		providers = append(providers, p)
	}
	sort.Strings(providers)
	return providers, true
}
