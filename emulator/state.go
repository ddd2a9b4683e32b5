package emulator

import (
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// stateVersion is written into state files; a file of another version is refused
// rather than half-read.
const stateVersion = 1

// state is everything the emulator persists. Types are unexported but fields are
// exported so that encoding/json can write the state file.
type state struct {
	Version int                  `json:"version"`
	Pools   map[string]*userPool `json:"userPools"`
	// IdentityPools is the identity-pool service's state (identitypool.go); nil
	// until an identity pool is made.
	IdentityPools *idpState `json:"identityPools,omitempty"`
	// OAuth is what the hosted UI and OAuth endpoints keep (oauth2.go).
	OAuth *oauthState `json:"oauth2,omitempty"`
	// Seeded records the IDs seeds made, by the names they gave, so that applying
	// the same seed again finds them (ApplySeed).
	Seeded *SeedResult `json:"seeded,omitempty"`
}

func newState() *state { return &state{Version: stateVersion, Pools: map[string]*userPool{}} }

type userPool struct {
	ID                     string         `json:"id"`
	Name                   string         `json:"name"`
	Created                time.Time      `json:"created"`
	Modified               time.Time      `json:"modified"`
	MFA                    string         `json:"mfa"` // OFF, ON, OPTIONAL
	SoftwareTokenMFA       bool           `json:"softwareTokenMfa"`
	SMSMFA                 bool           `json:"smsMfa"`
	EmailMFA               bool           `json:"emailMfa"`
	Device                 *DeviceConfig  `json:"deviceConfiguration,omitempty"`
	UsernameAttributes     []string       `json:"usernameAttributes,omitempty"`
	AliasAttributes        []string       `json:"aliasAttributes,omitempty"`
	AutoVerifiedAttributes []string       `json:"autoVerifiedAttributes,omitempty"`
	CaseSensitive          bool           `json:"caseSensitive"`
	Password               PasswordPolicy `json:"passwordPolicy"`
	// FirstAuthFactors is the sign-in policy's AllowedFirstAuthFactors
	// (userauth.go); empty means ["PASSWORD"].
	FirstAuthFactors   []string          `json:"allowedFirstAuthFactors,omitempty"`
	TempPasswordDays   int               `json:"temporaryPasswordValidityDays"`
	Schema             []json.RawMessage `json:"schema,omitempty"`
	Lambda             *LambdaConfig     `json:"lambdaConfig,omitempty"`
	DeletionProtection string            `json:"deletionProtection,omitempty"`
	// Extra keeps the settings stored as given (poolExtraFields).
	Extra   map[string]json.RawMessage `json:"extra,omitempty"`
	Clients map[string]*appClient      `json:"clients"`
	Users   map[string]*user           `json:"users"` // by userKey(username)
	Groups  map[string]*group          `json:"groups"`
	Refresh map[string]*refreshToken   `json:"refreshTokens"` // by sha256 of token
	Origins map[string]*origin         `json:"origins"`       // by origin_jti
	Keys    poolKeys                   `json:"keys"`
	// SimulatedSaltKey derives the stable salts of unknown users' simulated SRP
	// challenges (PreventUserExistenceErrors).
	SimulatedSaltKey []byte `json:"simulatedSaltKey,omitempty"`
	// Stored keeps what stored.go keeps by kind and key (domains, resource
	// servers, identity providers, branding, UI customization, import jobs, …).
	Stored map[string]map[string]json.RawMessage `json:"stored,omitempty"`
	Tags   map[string]string                     `json:"tags,omitempty"`
	// SigningCert is GetSigningCertificate's X.509 certificate (DER).
	SigningCert []byte `json:"signingCertificate,omitempty"`
	// WebAuthn is SetUserPoolMfaConfig's WebAuthnConfiguration (webauthn.go).
	WebAuthn *webAuthnConfig `json:"webAuthnConfiguration,omitempty"`
}

// DeviceConfig is a pool's device tracking, as Cognito's DeviceConfigurationType.
// Its JSON keys are the seed's camelCase; the API's PascalCase names load too
// (encoding/json matches keys case-insensitively), and the API answer is
// written by apiMap.
type DeviceConfig struct {
	ChallengeRequiredOnNewDevice     bool `json:"challengeRequiredOnNewDevice"`
	DeviceOnlyRememberedOnUserPrompt bool `json:"deviceOnlyRememberedOnUserPrompt"`
}

func (d *DeviceConfig) apiMap() map[string]bool {
	return map[string]bool{
		"ChallengeRequiredOnNewDevice":     d.ChallengeRequiredOnNewDevice,
		"DeviceOnlyRememberedOnUserPrompt": d.DeviceOnlyRememberedOnUserPrompt,
	}
}

// PasswordPolicy is a pool's password policy, as Cognito's PasswordPolicyType,
// with camelCase JSON keys like DeviceConfig (PascalCase loads too).
type PasswordPolicy struct {
	MinimumLength    int  `json:"minimumLength"`
	RequireUppercase bool `json:"requireUppercase"`
	RequireLowercase bool `json:"requireLowercase"`
	RequireNumbers   bool `json:"requireNumbers"`
	RequireSymbols   bool `json:"requireSymbols"`
}

func (p PasswordPolicy) apiMap(tempDays int) map[string]any {
	return map[string]any{
		"MinimumLength": p.MinimumLength, "RequireUppercase": p.RequireUppercase,
		"RequireLowercase": p.RequireLowercase, "RequireNumbers": p.RequireNumbers,
		"RequireSymbols": p.RequireSymbols, "TemporaryPasswordValidityDays": tempDays,
	}
}

type appClient struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Secret string `json:"secret,omitempty"`
	// SecretID and SecretCreated name Secret when a rotation promoted it;
	// MoreSecrets are the client's other secrets (clientsecrets.go).
	SecretID             string         `json:"secretId,omitempty"`
	SecretCreated        time.Time      `json:"secretCreated,omitempty"`
	MoreSecrets          []clientSecret `json:"moreSecrets,omitempty"`
	ExplicitAuthFlows    []string       `json:"explicitAuthFlows"`
	AccessValidity       time.Duration  `json:"accessValidity"`
	IDValidity           time.Duration  `json:"idValidity"`
	RefreshValidity      time.Duration  `json:"refreshValidity"`
	Units                tokenUnits     `json:"units"`
	Rotation             bool           `json:"rotation"`
	GracePeriod          time.Duration  `json:"gracePeriod"`
	ReadAttributes       []string       `json:"readAttributes,omitempty"`
	WriteAttributes      []string       `json:"writeAttributes,omitempty"`
	EnableTokenRevoction bool           `json:"enableTokenRevocation"`
	PreventUserExistence string         `json:"preventUserExistenceErrors,omitempty"`
	Created              time.Time      `json:"created"`
	Modified             time.Time      `json:"modified"`
	// OAuth is the client's hosted UI / OAuth 2.0 settings; nil when the client was
	// given none, which oauth2.go treats permissively (see settingsOf).
	OAuth *clientOAuth `json:"oauth,omitempty"`
	// Extra keeps request fields the emulator stores but does not act on
	// (analytics, session validity), so Describe returns what Create was given.
	Extra map[string]json.RawMessage `json:"extra,omitempty"`
}

// clientOAuth holds the OAuth fields of CreateUserPoolClient under their API names.
// A nil slice or pointer is a field the client was never given: Describe leaves it
// out, as it leaves out what Create did not set. The slices have no omitempty so
// that a state file keeps an empty list apart from an absent one.
type clientOAuth struct {
	Enabled            *bool    `json:"AllowedOAuthFlowsUserPoolClient,omitempty"`
	Flows              []string `json:"AllowedOAuthFlows"`
	Scopes             []string `json:"AllowedOAuthScopes"`
	CallbackURLs       []string `json:"CallbackURLs"`
	LogoutURLs         []string `json:"LogoutURLs"`
	DefaultRedirectURI *string  `json:"DefaultRedirectURI,omitempty"`
	Providers          []string `json:"SupportedIdentityProviders"`
}

type tokenUnits struct {
	AccessToken  string `json:"AccessToken,omitempty"`
	IDToken      string `json:"IdToken,omitempty"`
	RefreshToken string `json:"RefreshToken,omitempty"`
}

func (c *appClient) allows(flow string) bool {
	for _, f := range c.ExplicitAuthFlows {
		if f == flow {
			return true
		}
	}
	return false
}

type user struct {
	Username   string            `json:"username"`
	Sub        string            `json:"sub"`
	Attributes map[string]string `json:"attributes"` // includes "sub"
	Enabled    bool              `json:"enabled"`
	Status     string            `json:"status"` // UNCONFIRMED, CONFIRMED, FORCE_CHANGE_PASSWORD, RESET_REQUIRED
	Created    time.Time         `json:"created"`
	Modified   time.Time         `json:"modified"`
	// The password is kept only as its SRP verifier: USER_PASSWORD_AUTH recomputes
	// the verifier from the offered password and compares.
	SaltHex     string                  `json:"salt"`
	VerifierHex string                  `json:"verifier"`
	TempExpires time.Time               `json:"temporaryPasswordExpires,omitzero"`
	Groups      []string                `json:"groups,omitempty"`
	MFA         userMFA                 `json:"mfa"`
	Devices     map[string]*device      `json:"devices,omitempty"`
	SignUpCode  *pendingCode            `json:"signUpCode,omitempty"`
	ResetCode   *pendingCode            `json:"resetCode,omitempty"`
	AttrCodes   map[string]*pendingCode `json:"attributeCodes,omitempty"`
	// PendingAttrs are new e-mail / phone number values waiting for
	// VerifyUserAttribute in a pool whose UserAttributeUpdateSettings require it;
	// until then Attributes keep the original value (account.go).
	PendingAttrs map[string]string `json:"pendingAttributes,omitempty"`
	// MFAOptions is what SetUserSettings / AdminSetUserSettings stored.
	MFAOptions []json.RawMessage `json:"mfaOptions,omitempty"`
	// Identities are the user's federated identities (federation.go), also shown
	// as the identities attribute.
	Identities []fedIdentity `json:"identities,omitempty"`
	// Passkeys by base64url credential ID, and the registration under way
	// (webauthn.go).
	Passkeys   map[string]*passkey  `json:"passkeys,omitempty"`
	PasskeyReg *passkeyRegistration `json:"passkeyRegistration,omitempty"`
}

type userMFA struct {
	TOTPSecret        string `json:"totpSecret,omitempty"` // verified secret
	PendingTOTPSecret string `json:"pendingTotpSecret,omitempty"`
	TOTPEnabled       bool   `json:"totpEnabled"`
	SMSEnabled        bool   `json:"smsEnabled"`
	// WebAuthnMFA is the user's WebAuthnMfaSettings (passkeys_mfa.go).
	WebAuthnMFA  bool   `json:"webAuthnMfa,omitempty"`
	EmailEnabled bool   `json:"emailEnabled"`
	Preferred    string `json:"preferred,omitempty"` // SOFTWARE_TOKEN_MFA, SMS_MFA, EMAIL_OTP
	// LastTOTPStep keeps a TOTP code from being accepted twice, as Cognito does.
	LastTOTPStep int64 `json:"lastTotpStep,omitempty"`
}

type pendingCode struct {
	Code    string    `json:"code"`
	Expires time.Time `json:"expires"`
	// Attempts counts wrong tries (see maxCodeAttempts in account.go).
	Attempts int `json:"attempts,omitempty"`
}

type device struct {
	Key          string            `json:"key"`
	GroupKey     string            `json:"groupKey"`
	Confirmed    bool              `json:"confirmed"`
	Remembered   bool              `json:"remembered"`
	SaltHex      string            `json:"salt,omitempty"`
	VerifierHex  string            `json:"verifier,omitempty"`
	Attributes   map[string]string `json:"attributes,omitempty"`
	Created      time.Time         `json:"created"`
	Modified     time.Time         `json:"modified"`
	LastAuthTime time.Time         `json:"lastAuthenticated"`
}

type group struct {
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Precedence  *int32    `json:"precedence,omitempty"`
	RoleArn     string    `json:"roleArn,omitempty"`
	Created     time.Time `json:"created"`
	Modified    time.Time `json:"modified"`
}

// origin is one sign-in: every token minted from it carries its ID as origin_jti,
// so revoking the origin kills the refresh token and the access tokens together.
type origin struct {
	Username  string    `json:"username"`
	ClientID  string    `json:"clientId"`
	AuthTime  time.Time `json:"authTime"`
	EventID   string    `json:"eventId"`
	DeviceKey string    `json:"deviceKey,omitempty"`
	Expires   time.Time `json:"expires"` // of its refresh tokens; origins are pruned after it
	Revoked   bool      `json:"revoked"`
	// Scope is what a hosted UI sign-in was granted (oauth2.go); its access tokens
	// keep it however they are refreshed. Empty for API sign-ins.
	Scope string `json:"scope,omitempty"`
}

type refreshToken struct {
	Origin   string    `json:"origin"`
	Username string    `json:"username"`
	ClientID string    `json:"clientId"`
	Expires  time.Time `json:"expires"`
	// RotatedAt is set when GetTokensFromRefreshToken replaced this token; it stays
	// usable for the client's grace period after that.
	RotatedAt time.Time `json:"rotatedAt,omitzero"`
}

type poolKeys struct {
	AccessKID string `json:"accessKid"`
	AccessDER []byte `json:"accessKey"` // PKCS#1
	IDKID     string `json:"idKid"`
	IDDER     []byte `json:"idKey"`
	// Retired are keys RotateKeys replaced: still published in the JWKS and still
	// accepted, as a real rotation keeps old tokens valid until they expire.
	Retired []retiredKey `json:"retired,omitempty"`

	access, id *rsa.PrivateKey
}

// retiredKey is a public key that no longer signs but still verifies.
type retiredKey struct {
	KID string `json:"kid"`
	Use string `json:"use"` // "access" or "id"
	DER []byte `json:"key"` // PKCS#1 public key

	pub *rsa.PublicKey
}

// userKey is the map key of a username: Cognito pools are case-insensitive by default.
func (p *userPool) userKey(name string) string {
	if p.CaseSensitive {
		return name
	}
	return strings.ToLower(name)
}

// findUser looks a user up by username, then by alias (email, phone) where the pool
// signs in with those, then by sub, as Cognito accepts all of them.
func (p *userPool) findUser(name string) *user {
	if name == "" {
		return nil
	}
	if u := p.Users[p.userKey(name)]; u != nil {
		return u
	}
	aliases := append(append([]string{}, p.UsernameAttributes...), p.AliasAttributes...)
	for _, u := range p.Users {
		if u.Sub == name {
			return u
		}
		for _, a := range aliases {
			attr := a
			if attr == "phone_number" || attr == "email" {
				if v, ok := u.Attributes[attr]; ok && strings.EqualFold(v, name) {
					// An alias signs in only once verified, except for
					// UsernameAttributes where the attribute is the sign-in name.
					if contains(p.UsernameAttributes, attr) || u.Attributes[attr+"_verified"] == "true" {
						return u
					}
				}
			} else if attr == "preferred_username" && strings.EqualFold(u.Attributes[attr], name) {
				return u
			}
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func hashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// SaveState writes the state atomically to path (a temporary file in the same
// directory, synced, then renamed), with mode 0600.
func (e *Emulator) SaveState(path string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.saveLocked(path)
}

func (e *Emulator) saveLocked(path string) error {
	data, err := json.MarshalIndent(e.st, "", " ")
	if err != nil {
		return fmt.Errorf("emulator: encoding state: %w", err)
	}
	return writeFileAtomic(path, data)
}

func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("emulator: writing state: %w", err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			_ = os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("emulator: writing state: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("emulator: writing state: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("emulator: writing state: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("emulator: writing state: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("emulator: writing state: %w", err)
	}
	ok = true
	return nil
}

// loadStateFile reads path if it exists; a missing file means a fresh start.
func (e *Emulator) loadStateFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("emulator: reading state: %w", err)
	}
	defer f.Close()
	return e.LoadState(f)
}

// LoadState replaces the emulator's state with a state file's content.
func (e *Emulator) LoadState(r io.Reader) error {
	var doc struct {
		state
		Extensions map[string]json.RawMessage `json:"extensions"`
	}
	dec := json.NewDecoder(io.LimitReader(r, 1<<30))
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("emulator: parsing state: %w", err)
	}
	if doc.Version != stateVersion {
		return fmt.Errorf("emulator: state file version %d, want %d", doc.Version, stateVersion)
	}
	st := doc.state
	if st.Pools == nil {
		st.Pools = map[string]*userPool{}
	}
	if err := st.readExtensions(doc.Extensions); err != nil {
		return err
	}
	if err := st.IdentityPools.loaded(); err != nil {
		return fmt.Errorf("emulator: state file: identity pools: %w", err)
	}
	if st.OAuth != nil {
		st.OAuth.ensureMaps()
	}
	for id, p := range st.Pools {
		if err := p.loaded(id); err != nil {
			return err
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.st = &st
	return nil
}

// readExtensions reads what state files from before the typed fields kept as
// JSON under "extensions"; other extension names never existed.
func (st *state) readExtensions(ext map[string]json.RawMessage) error {
	if raw, ok := ext[idpExtKey]; ok && st.IdentityPools == nil {
		st.IdentityPools = &idpState{}
		if err := json.Unmarshal(raw, st.IdentityPools); err != nil {
			return fmt.Errorf("emulator: state file: identity pools: %w", err)
		}
	}
	if raw, ok := ext[oauthExtKey]; ok && st.OAuth == nil {
		st.OAuth = &oauthState{}
		if err := json.Unmarshal(raw, st.OAuth); err != nil {
			return fmt.Errorf("emulator: state file: oauth2: %w", err)
		}
	}
	return nil
}

// loaded readies pool id of a state file: its maps made, its clients' older
// OAuth fields moved, its keys parsed.
func (p *userPool) loaded(id string) error {
	if p == nil || p.ID != id {
		return fmt.Errorf("emulator: state file: pool %q is inconsistent", id)
	}
	p.ensureMaps()
	for _, c := range p.Clients {
		if err := c.migrateOAuthExtra(); err != nil {
			return fmt.Errorf("emulator: state file: pool %s: client %s: %w", id, c.ID, err)
		}
	}
	if err := p.Keys.parse(); err != nil {
		return fmt.Errorf("emulator: state file: pool %s: %w", id, err)
	}
	return nil
}

// oauthFieldNames are the CreateUserPoolClient fields clientOAuth holds.
var oauthFieldNames = []string{
	"AllowedOAuthFlowsUserPoolClient", "AllowedOAuthFlows", "AllowedOAuthScopes", "CallbackURLs",
	"LogoutURLs", "DefaultRedirectURI", "SupportedIdentityProviders",
}

// migrateOAuthExtra moves OAuth fields that older state files kept among a client's
// Extra fields into its typed settings.
func (c *appClient) migrateOAuthExtra() error {
	old := map[string]json.RawMessage{}
	for _, k := range oauthFieldNames {
		if v, ok := c.Extra[k]; ok {
			old[k] = v
			delete(c.Extra, k)
		}
	}
	if len(old) == 0 {
		return nil
	}
	raw, _ := json.Marshal(old)
	var o clientOAuth
	if err := json.Unmarshal(raw, &o); err != nil {
		return fmt.Errorf("OAuth settings: %w", err)
	}
	c.OAuth = o.mergeInto(c.OAuth)
	if c.OAuth == nil {
		// Fields present but null still made the client configured.
		c.OAuth = &clientOAuth{}
	}
	return nil
}

func (p *userPool) ensureMaps() {
	if p.Clients == nil {
		p.Clients = map[string]*appClient{}
	}
	if p.Users == nil {
		p.Users = map[string]*user{}
	}
	if p.Groups == nil {
		p.Groups = map[string]*group{}
	}
	if p.Refresh == nil {
		p.Refresh = map[string]*refreshToken{}
	}
	if p.Origins == nil {
		p.Origins = map[string]*origin{}
	}
}

// randomString returns n random bytes in base64 (URL alphabet, unpadded).
func (e *Emulator) randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := io.ReadFull(e.random, b); err != nil {
		// A failing random source leaves no safe way to continue.
		panic(fmt.Sprintf("emulator: random source failed: %v", err))
	}
	return b
}

func (e *Emulator) randomB64(n int) string {
	return base64.RawURLEncoding.EncodeToString(e.randomBytes(n))
}

// uuid returns a random (version 4) UUID.
func (e *Emulator) uuid() string {
	b := e.randomBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// randomAlnum returns n characters of [a-zA-Z0-9], lower-case only when lower.
func (e *Emulator) randomAlnum(n int, lower bool) string {
	alphabet := alnum
	if lower {
		alphabet = alnum[:26] + alnum[52:]
	}
	b := e.randomBytes(n)
	out := make([]byte, n)
	for i, v := range b {
		// The tiny modulo bias is irrelevant for identifiers.
		out[i] = alphabet[int(v)%len(alphabet)]
	}
	return string(out)
}

// randomDigits returns an n-digit numeric code, as the ones sent by SMS or e-mail.
func (e *Emulator) randomDigits(n int) string {
	b := e.randomBytes(n)
	out := make([]byte, n)
	for i, v := range b {
		out[i] = '0' + v%10
	}
	return string(out)
}
