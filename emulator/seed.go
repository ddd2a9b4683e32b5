package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"time"
)

// Duration is a time.Duration that reads from JSON as "90s"/"1h" or as seconds.
type Duration time.Duration

// UnmarshalJSON accepts a Go duration string or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("duration %q: %w", s, err)
		}
		*d = Duration(v)
		return nil
	}
	var n float64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("duration must be a string like \"1h\" or a number of seconds")
	}
	*d = Duration(n * float64(time.Second))
	return nil
}

// MarshalJSON writes the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// Seed describes pools, clients, users, groups and identity pools to create at once;
// it is also the JSON of `cogauth emulator --seed FILE`.
type Seed struct {
	UserPools     []SeedUserPool     `json:"userPools"`
	IdentityPools []SeedIdentityPool `json:"identityPools,omitempty"`
	// LambdaFunctions sends the trigger functions of these ARNs to their own
	// Lambda Invoke API endpoints (others go to Options.Lambda/LambdaEndpoint).
	LambdaFunctions map[string]LambdaRoute `json:"lambdaFunctions,omitempty"`
	// AccessKeys turn on SigV4 verification (Options.AccessKeys) with these keys.
	AccessKeys []SeedAccessKey `json:"accessKeys,omitempty"`
}

// SeedAccessKey is an AWS access key the emulator accepts signatures of.
type SeedAccessKey struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
}

// SeedUserPool is one user pool of a Seed (and the argument of CreateUserPool).
type SeedUserPool struct {
	Name string `json:"name"`
	// ID fixes the pool ID (e.g. "us-east-1_Example"); generated when empty.
	ID                 string   `json:"id,omitempty"`
	UsernameAttributes []string `json:"usernameAttributes,omitempty"` // "email", "phone_number"
	// AutoVerifiedAttributes defaults to ["email"]; an empty list turns it off.
	AutoVerifiedAttributes *[]string `json:"autoVerifiedAttributes,omitempty"`
	// AttributesRequireVerificationBeforeUpdate is UserAttributeUpdateSettings'
	// list ("email", "phone_number"; each also auto-verified): a new value waits
	// for VerifyUserAttribute.
	AttributesRequireVerificationBeforeUpdate []string        `json:"attributesRequireVerificationBeforeUpdate,omitempty"`
	PasswordPolicy                            *PasswordPolicy `json:"passwordPolicy,omitempty"`
	MFA                                       string          `json:"mfa,omitempty"` // OFF (default), ON, OPTIONAL
	SMSMFA                                    bool            `json:"smsMfa,omitempty"`
	EmailMFA                                  bool            `json:"emailMfa,omitempty"`
	// AllowedFirstAuthFactors is the sign-in policy of USER_AUTH (PASSWORD,
	// EMAIL_OTP, SMS_OTP, WEB_AUTHN); ["PASSWORD"] when empty.
	AllowedFirstAuthFactors []string `json:"allowedFirstAuthFactors,omitempty"`
	// WebAuthn is the passkey configuration (SetUserPoolMfaConfig's
	// WebAuthnConfiguration); without a relying party ID the pool's domain is.
	WebAuthn       *SeedWebAuthn `json:"webAuthn,omitempty"`
	DeviceTracking *DeviceConfig `json:"deviceTracking,omitempty"`
	Clients        []SeedClient  `json:"clients,omitempty"`
	Groups         []SeedGroup   `json:"groups,omitempty"`
	Users          []SeedUser    `json:"users,omitempty"`
	// LambdaConfig names the pool's trigger functions, as CreateUserPool's.
	LambdaConfig *LambdaConfig `json:"lambdaConfig,omitempty"`
}

// SeedWebAuthn is a pool's passkey configuration.
type SeedWebAuthn struct {
	// RelyingPartyID, e.g. "localhost" for pages on loopback, or the domain
	// the app's pages are served from.
	RelyingPartyID string `json:"relyingPartyId,omitempty"`
	// UserVerification is "preferred" (default) or "required".
	UserVerification string `json:"userVerification,omitempty"`
}

// SeedClient is one app client.
type SeedClient struct {
	Name string `json:"name"`
	ID   string `json:"id,omitempty"` // generated when empty
	// GenerateSecret gives the client a secret; Secret fixes its value.
	GenerateSecret bool   `json:"generateSecret,omitempty"`
	Secret         string `json:"secret,omitempty"`
	// ExplicitAuthFlows defaults to SRP, password and refresh.
	ExplicitAuthFlows    []string `json:"explicitAuthFlows,omitempty"`
	AccessTokenValidity  Duration `json:"accessTokenValidity,omitempty"`  // default 1h
	IDTokenValidity      Duration `json:"idTokenValidity,omitempty"`      // default 1h
	RefreshTokenValidity Duration `json:"refreshTokenValidity,omitempty"` // default 30 days
	RefreshTokenRotation bool     `json:"refreshTokenRotation,omitempty"`
	RetryGracePeriod     Duration `json:"retryGracePeriod,omitempty"`
	ReadAttributes       []string `json:"readAttributes,omitempty"`
	DisableRevocation    bool     `json:"disableTokenRevocation,omitempty"`

	// OAuth settings (hosted UI, /oauth2/*), as CreateUserPoolClient takes them.
	// A client with none of them gets the emulator's permissive default: the code
	// flow, the standard scopes and any loopback redirect URI (README, deviations).
	AllowedOAuthFlows  []string `json:"allowedOAuthFlows,omitempty"` // code, implicit, client_credentials
	AllowedOAuthScopes []string `json:"allowedOAuthScopes,omitempty"`
	// AllowedOAuthFlowsUserPoolClient defaults to true when AllowedOAuthFlows is
	// set, since a seed that names flows means to use them.
	AllowedOAuthFlowsUserPoolClient *bool    `json:"allowedOAuthFlowsUserPoolClient,omitempty"`
	CallbackURLs                    []string `json:"callbackURLs,omitempty"`
	LogoutURLs                      []string `json:"logoutURLs,omitempty"`
	// SupportedIdentityProviders defaults to ["COGNITO"] when AllowedOAuthFlows
	// has code or implicit; COGNITO is the only provider the emulator has.
	SupportedIdentityProviders []string `json:"supportedIdentityProviders,omitempty"`
}

// oauth turns the seed's OAuth fields into CreateUserPoolClient's, with the
// seed's defaults.
func (sc SeedClient) oauth() clientOAuth {
	o := clientOAuth{
		Enabled: sc.AllowedOAuthFlowsUserPoolClient, Flows: sc.AllowedOAuthFlows, Scopes: sc.AllowedOAuthScopes,
		CallbackURLs: sc.CallbackURLs, LogoutURLs: sc.LogoutURLs, Providers: sc.SupportedIdentityProviders,
	}
	if o.Enabled == nil && len(o.Flows) > 0 {
		on := true
		o.Enabled = &on
	}
	if o.Providers == nil && (slices.Contains(o.Flows, "code") || slices.Contains(o.Flows, "implicit")) {
		o.Providers = []string{"COGNITO"}
	}
	return o
}

// SeedGroup is one group of a pool.
type SeedGroup struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Precedence  *int32 `json:"precedence,omitempty"`
	RoleArn     string `json:"roleArn,omitempty"`
}

// SeedUser is one user. Password makes a confirmed user; TemporaryPassword one that
// must choose a new password (NEW_PASSWORD_REQUIRED).
type SeedUser struct {
	Username          string            `json:"username"`
	Password          string            `json:"password,omitempty"`
	TemporaryPassword string            `json:"temporaryPassword,omitempty"`
	Attributes        map[string]string `json:"attributes,omitempty"`
	Groups            []string          `json:"groups,omitempty"`
	Disabled          bool              `json:"disabled,omitempty"`
	Unconfirmed       bool              `json:"unconfirmed,omitempty"`
}

// SeedResult tells the IDs a seed produced, by the names the seed gave.
type SeedResult struct {
	UserPools     map[string]SeededPool `json:"userPools"`
	IdentityPools map[string]string     `json:"identityPools,omitempty"` // name -> identity pool ID
}

// SeededPool is a created user pool.
type SeededPool struct {
	ID      string                  `json:"id"`
	Clients map[string]SeededClient `json:"clients"`
}

// SeededClient is a created app client.
type SeededClient struct {
	ID     string `json:"id"`
	Secret string `json:"secret,omitempty"`
}

// LoadSeedFile reads a Seed from a JSON file.
func LoadSeedFile(path string) (*Seed, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("emulator: reading seed: %w", err)
	}
	return ParseSeed(data)
}

// ParseSeed decodes a Seed from JSON; unknown fields are errors, so that a typo in a
// seed file is not silently ignored.
func ParseSeed(data []byte) (*Seed, error) {
	var s Seed
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("emulator: parsing seed: %w", err)
	}
	return &s, nil
}

// ApplySeed creates everything the seed describes that the state does not hold
// yet, so that a seed applied again (an emulator restarted with the same --seed
// and --state) is a no-op: a pool, client or identity pool is the same one when
// the seed fixes its ID and the state has it, or when an earlier ApplySeed made
// it under the same name (the state remembers those); groups are the same by
// name, users by username. What exists is left as it is, not updated. On error,
// what was created before the failing item stays.
func (e *Emulator) ApplySeed(s Seed) (*SeedResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.base.Now().Add(e.offset)
	res := &SeedResult{UserPools: map[string]SeededPool{}}
	defer func() {
		e.st.rememberSeed(res)
		e.dirty = true
		e.saveIfDirty()
	}()
	for arn, r := range s.LambdaFunctions {
		if err := checkEndpoint(r.Endpoint); err != nil {
			return res, fmt.Errorf("emulator: seed: lambdaFunctions[%q]: %w", arn, err)
		}
		e.lambdaRoutes[arn] = r
	}
	for _, sp := range s.UserPools {
		if _, dup := res.UserPools[sp.Name]; dup {
			return res, fmt.Errorf("emulator: seed: user pool %q twice", sp.Name)
		}
		got, err := e.seedPool(sp, now)
		if err != nil {
			return res, fmt.Errorf("emulator: seed: user pool %q: %w", sp.Name, err)
		}
		res.UserPools[sp.Name] = got
	}
	if len(s.IdentityPools) > 0 {
		ids, err := e.applyIdentityPoolSeed(s.IdentityPools,
			func(name string) string { return res.UserPools[name].ID },
			func(pool, client string) string { return res.UserPools[pool].Clients[client].ID })
		if err != nil {
			return res, fmt.Errorf("emulator: seed: %w", err)
		}
		res.IdentityPools = ids
	}
	return res, nil
}

// rememberSeed merges what a seed made into the state's record of seeded names.
func (st *state) rememberSeed(res *SeedResult) {
	if st.Seeded == nil {
		st.Seeded = &SeedResult{UserPools: map[string]SeededPool{}}
	}
	if st.Seeded.UserPools == nil {
		st.Seeded.UserPools = map[string]SeededPool{}
	}
	for name, p := range res.UserPools {
		old := st.Seeded.UserPools[name]
		if old.ID != p.ID || old.Clients == nil {
			old = SeededPool{ID: p.ID, Clients: map[string]SeededClient{}}
		}
		for cn, c := range p.Clients {
			old.Clients[cn] = c
		}
		st.Seeded.UserPools[name] = old
	}
	for name, id := range res.IdentityPools {
		if st.Seeded.IdentityPools == nil {
			st.Seeded.IdentityPools = map[string]string{}
		}
		st.Seeded.IdentityPools[name] = id
	}
}

// seededPoolID is the ID of the pool a seed names: the fixed ID, else the pool an
// earlier seed made under that name ("" when neither).
func (e *Emulator) seededPoolID(sp SeedUserPool) string {
	if sp.ID != "" {
		return sp.ID
	}
	if e.st.Seeded != nil {
		return e.st.Seeded.UserPools[sp.Name].ID
	}
	return ""
}

// saveIfDirty writes the state file after a Go-API change.
func (e *Emulator) saveIfDirty() {
	if e.dirty && e.opts.StateFile != "" {
		e.dirty = false
		if err := e.saveLocked(e.opts.StateFile); err != nil {
			e.saveErr = err
		}
	}
}

func (e *Emulator) seedPool(sp SeedUserPool, now time.Time) (SeededPool, error) {
	if id := e.seededPoolID(sp); id != "" && e.st.Pools[id] != nil {
		return e.reseedPool(e.st.Pools[id], sp, now)
	}
	cfg := poolConfig{
		PoolName:            sp.Name,
		MfaConfiguration:    sp.MFA,
		UsernameAttributes:  sp.UsernameAttributes,
		DeviceConfiguration: sp.DeviceTracking,
		LambdaConfig:        sp.LambdaConfig,
	}
	if sp.AutoVerifiedAttributes != nil {
		cfg.AutoVerifiedAttributes = *sp.AutoVerifiedAttributes
	} else {
		cfg.AutoVerifiedAttributes = []string{"email"}
	}
	if len(sp.AttributesRequireVerificationBeforeUpdate) > 0 {
		cfg.raw, _ = json.Marshal(map[string]any{"UserAttributeUpdateSettings": updateSettings{
			AttributesRequireVerificationBeforeUpdate: sp.AttributesRequireVerificationBeforeUpdate}})
	}
	p, err := e.createPool(cfg, sp.ID, now)
	if err != nil {
		return SeededPool{}, err
	}
	if sp.PasswordPolicy != nil {
		p.Password = *sp.PasswordPolicy
	}
	p.SMSMFA, p.EmailMFA = sp.SMSMFA, sp.EmailMFA
	if err := checkFirstFactors(sp.AllowedFirstAuthFactors); err != nil {
		return SeededPool{}, err
	}
	p.FirstAuthFactors = sp.AllowedFirstAuthFactors
	if w := sp.WebAuthn; w != nil {
		in := &webAuthnConfigInput{UserVerification: w.UserVerification}
		if w.RelyingPartyID != "" {
			in.RelyingPartyID = &w.RelyingPartyID
		}
		if err := setWebAuthnConfig(p, in); err != nil {
			return SeededPool{}, err
		}
	}
	return e.reseedPool(p, sp, now)
}

// reseedPool adds the seed's clients, groups and users that p does not have yet.
func (e *Emulator) reseedPool(p *userPool, sp SeedUserPool, now time.Time) (SeededPool, error) {
	out := SeededPool{ID: p.ID, Clients: map[string]SeededClient{}}
	if err := e.reseedClients(p, sp, out.Clients, now); err != nil {
		return out, err
	}
	for _, g := range sp.Groups {
		if p.Groups[g.Name] != nil {
			continue
		}
		if _, err := e.createGroup(p, groupInput{GroupName: g.Name, Description: g.Description, Precedence: g.Precedence, RoleArn: g.RoleArn}, now); err != nil {
			return out, fmt.Errorf("group %q: %w", g.Name, err)
		}
	}
	for _, su := range sp.Users {
		if p.findUser(su.Username) != nil {
			continue
		}
		if err := e.seedUser(p, su, now); err != nil {
			return out, fmt.Errorf("user %q: %w", su.Username, err)
		}
	}
	return out, nil
}

// reseedClients adds the seed's clients p does not have yet (by ID, or by the
// ID an earlier seed gave the name) and records every client in out.
func (e *Emulator) reseedClients(p *userPool, sp SeedUserPool, out map[string]SeededClient, now time.Time) error {
	var before map[string]SeededClient
	if e.st.Seeded != nil {
		if rec, ok := e.st.Seeded.UserPools[sp.Name]; ok && rec.ID == p.ID {
			before = rec.Clients
		}
	}
	for _, sc := range sp.Clients {
		if _, dup := out[sc.Name]; dup {
			return fmt.Errorf("client %q twice", sc.Name)
		}
		id := sc.ID
		if id == "" {
			id = before[sc.Name].ID
		}
		if c := p.Clients[id]; id != "" && c != nil {
			out[sc.Name] = SeededClient{ID: c.ID, Secret: c.Secret}
			continue
		}
		c, err := e.seedClient(p, sc, now)
		if err != nil {
			return fmt.Errorf("client %q: %w", sc.Name, err)
		}
		out[sc.Name] = c
	}
	return nil
}

func (e *Emulator) seedClient(p *userPool, sc SeedClient, now time.Time) (SeededClient, error) {
	flows := sc.ExplicitAuthFlows
	if flows == nil {
		flows = []string{"ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
	}
	in := clientConfig{ClientName: sc.Name, GenerateSecret: sc.GenerateSecret, ExplicitAuthFlows: flows, ReadAttributes: sc.ReadAttributes, clientOAuth: sc.oauth()}
	in.TokenValidityUnits = &struct {
		AccessToken  string `json:"AccessToken"`
		IDToken      string `json:"IdToken"`
		RefreshToken string `json:"RefreshToken"`
	}{"seconds", "seconds", "seconds"}
	secs := func(d Duration) *int64 {
		if d == 0 {
			return nil
		}
		v := int64(time.Duration(d) / time.Second)
		return &v
	}
	in.AccessTokenValidity, in.IDTokenValidity, in.RefreshTokenValidity = secs(sc.AccessTokenValidity), secs(sc.IDTokenValidity), secs(sc.RefreshTokenValidity)
	if sc.RefreshTokenRotation {
		in.RefreshTokenRotation = &struct {
			Feature                 string `json:"Feature"`
			RetryGracePeriodSeconds int    `json:"RetryGracePeriodSeconds"`
		}{"ENABLED", int(time.Duration(sc.RetryGracePeriod) / time.Second)}
	}
	if sc.DisableRevocation {
		f := false
		in.EnableTokenRevocation = &f
	}
	c, err := e.createClient(p, in, nil, sc.ID, sc.Secret, now)
	if err != nil {
		return SeededClient{}, err
	}
	// Describe in the units the seed did not choose: Cognito's defaults.
	c.Units = tokenUnits{}
	if sc.AccessTokenValidity != 0 && time.Duration(sc.AccessTokenValidity)%time.Hour != 0 {
		c.Units.AccessToken = "seconds"
	}
	if sc.IDTokenValidity != 0 && time.Duration(sc.IDTokenValidity)%time.Hour != 0 {
		c.Units.IDToken = "seconds"
	}
	if sc.RefreshTokenValidity != 0 && time.Duration(sc.RefreshTokenValidity)%(24*time.Hour) != 0 {
		c.Units.RefreshToken = "seconds"
	}
	return SeededClient{ID: c.ID, Secret: c.Secret}, nil
}

func (e *Emulator) seedUser(p *userPool, su SeedUser, now time.Time) error {
	pw, status, err := su.passwordAndStatus()
	if err != nil {
		return err
	}
	if err := checkPassword(p, pw); err != nil {
		return err
	}
	u, err := e.newUser(p, su.Username, su.attributes(), now)
	if err != nil {
		return err
	}
	u.Status = status
	u.Enabled = !su.Disabled
	if status == "FORCE_CHANGE_PASSWORD" {
		u.TempExpires = now.Add(time.Duration(p.TempPasswordDays) * 24 * time.Hour)
	}
	if err := e.setPassword(p, u, pw); err != nil {
		return err
	}
	for _, g := range su.Groups {
		if p.Groups[g] == nil {
			return fmt.Errorf("group %q is not in the seed", g)
		}
		u.Groups = append(u.Groups, g)
	}
	return nil
}

// attributes are a seeded user's attributes, sorted by name. Seeded addresses
// count as verified unless the seed says otherwise: seeds stand for users who
// finished sign-up.
func (su SeedUser) attributes() []attribute {
	names := make([]string, 0, len(su.Attributes))
	for n := range su.Attributes {
		names = append(names, n)
	}
	sort.Strings(names)
	attrs := make([]attribute, 0, len(names))
	for _, n := range names {
		attrs = append(attrs, attribute{Name: n, Value: su.Attributes[n]})
	}
	for _, a := range []string{"email", "phone_number"} {
		if _, ok := su.Attributes[a]; ok {
			if _, set := su.Attributes[a+"_verified"]; !set {
				attrs = append(attrs, attribute{Name: a + "_verified", Value: "true"})
			}
		}
	}
	return attrs
}

// passwordAndStatus is a seeded user's password and the status it gives:
// CONFIRMED with a password, FORCE_CHANGE_PASSWORD with a temporary one,
// UNCONFIRMED when the seed says so.
func (su SeedUser) passwordAndStatus() (string, string, error) {
	pw, status := su.Password, "CONFIRMED"
	switch {
	case su.TemporaryPassword != "" && su.Password != "":
		return "", "", fmt.Errorf("give password or temporaryPassword, not both")
	case su.TemporaryPassword != "":
		pw, status = su.TemporaryPassword, "FORCE_CHANGE_PASSWORD"
	case su.Password == "":
		return "", "", fmt.Errorf("a password or temporaryPassword is required")
	}
	if su.Unconfirmed {
		status = "UNCONFIRMED"
	}
	return pw, status, nil
}

// CreateUserPool creates a pool (with its clients, groups and users) from Go.
func (e *Emulator) CreateUserPool(sp SeedUserPool) (SeededPool, error) {
	res, err := e.ApplySeed(Seed{UserPools: []SeedUserPool{sp}})
	if err != nil {
		return SeededPool{}, err
	}
	return res.UserPools[sp.Name], nil
}

// CreateUserPoolClient adds an app client to a pool.
func (e *Emulator) CreateUserPoolClient(poolID string, sc SeedClient) (SeededClient, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, err := e.pool(poolID)
	if err != nil {
		return SeededClient{}, err
	}
	c, err := e.seedClient(p, sc, e.base.Now().Add(e.offset))
	e.saveIfDirty()
	return c, err
}

// CreateUser adds a confirmed user with a permanent password.
func (e *Emulator) CreateUser(poolID, username, password string, attrs map[string]string) error {
	return e.AddUser(poolID, SeedUser{Username: username, Password: password, Attributes: attrs})
}

// AddUser adds a user as a seed describes it (temporary password, groups, state).
func (e *Emulator) AddUser(poolID string, su SeedUser) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, err := e.pool(poolID)
	if err != nil {
		return err
	}
	if err := e.seedUser(p, su, e.base.Now().Add(e.offset)); err != nil {
		return err
	}
	e.saveIfDirty()
	return nil
}

// UserSub returns the sub of a user ("" when there is none).
func (e *Emulator) UserSub(poolID, username string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if p := e.st.Pools[poolID]; p != nil {
		if u := p.findUser(username); u != nil {
			return u.Sub
		}
	}
	return ""
}

// TOTPSecret returns the verified software-token secret of a user, for tests that
// need to compute codes ("" when none).
func (e *Emulator) TOTPSecret(poolID, username string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if p := e.st.Pools[poolID]; p != nil {
		if u := p.findUser(username); u != nil {
			if u.MFA.TOTPSecret != "" {
				return u.MFA.TOTPSecret
			}
			return u.MFA.PendingTOTPSecret
		}
	}
	return ""
}
