package emulator

import (
	"encoding/json"
	"sort"
	"strings"
	"time"
	"unicode"
)

// signInFactors is the request's AllowedFirstAuthFactors, nil when it sets none.
func (in *poolConfig) signInFactors() []string {
	if in.Policies == nil || in.Policies.SignInPolicy == nil {
		return nil
	}
	return in.Policies.SignInPolicy.AllowedFirstAuthFactors
}

// epoch renders a time as AWS JSON 1.1 does: seconds since the epoch, a number.
func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

func (e *Emulator) pool(id string) (*userPool, error) {
	if id == "" {
		return nil, errInvalidParameter("1 validation error detected: Value null at 'userPoolId' failed to satisfy constraint: Member must not be null")
	}
	p := e.st.Pools[id]
	if p == nil {
		return nil, errResourceNotFound("User pool %s does not exist.", clip(id))
	}
	return p, nil
}

func (p *userPool) client(id string) (*appClient, error) {
	c := p.Clients[id]
	if c == nil {
		return nil, errResourceNotFound("User pool client %s does not exist.", clip(id))
	}
	return c, nil
}

// userByName finds a user for an admin operation.
func (p *userPool) userByName(name string) (*user, error) {
	u := p.findUser(name)
	if u == nil {
		return nil, errUserNotFound()
	}
	return u, nil
}

// clip keeps echoed input short in messages.
func clip(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return headerSafe(s)
}

type poolConfig struct {
	PoolName string `json:"PoolName"`
	Policies *struct {
		PasswordPolicy *PasswordPolicy `json:"PasswordPolicy"`
		SignInPolicy   *struct {
			AllowedFirstAuthFactors []string `json:"AllowedFirstAuthFactors"`
		} `json:"SignInPolicy"`
	} `json:"Policies"`
	MfaConfiguration       string        `json:"MfaConfiguration"`
	UsernameAttributes     []string      `json:"UsernameAttributes"`
	AliasAttributes        []string      `json:"AliasAttributes"`
	AutoVerifiedAttributes []string      `json:"AutoVerifiedAttributes"`
	DeviceConfiguration    *DeviceConfig `json:"DeviceConfiguration"`
	UsernameConfiguration  *struct {
		CaseSensitive *bool `json:"CaseSensitive"`
	} `json:"UsernameConfiguration"`
	AdminCreateUserConfig *struct {
		UnusedAccountValidityDays int `json:"UnusedAccountValidityDays"`
	} `json:"AdminCreateUserConfig"`
	Schema             []json.RawMessage `json:"Schema"`
	LambdaConfig       *LambdaConfig     `json:"LambdaConfig"`
	UserPoolTags       map[string]string `json:"UserPoolTags"`
	DeletionProtection string            `json:"DeletionProtection"`

	raw    []byte // the request body, for the fields kept as given (poolExtraFields)
	region string // of a generated pool ID; Options.Region when empty
}

// poolExtraFields are CreateUserPool / UpdateUserPool fields the emulator stores
// and echoes without acting on them (messages, SES/SNS set-up, add-ons).
var poolExtraFields = []string{
	"SmsVerificationMessage", "EmailVerificationMessage", "EmailVerificationSubject",
	"VerificationMessageTemplate", "SmsAuthenticationMessage", "UserAttributeUpdateSettings",
	"EmailConfiguration", "SmsConfiguration", "UserPoolAddOns", "AccountRecoverySetting",
	"UserPoolTier",
}

// extraFields picks names out of a request body, as given.
func extraFields(raw []byte, names []string) map[string]json.RawMessage {
	var all map[string]json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &all) != nil {
		return nil
	}
	var out map[string]json.RawMessage
	for _, k := range names {
		if v, ok := all[k]; ok && string(v) != "null" {
			if out == nil {
				out = map[string]json.RawMessage{}
			}
			out[k] = v
		}
	}
	return out
}

func checkDeletionProtection(v string) error {
	if v != "" && v != "ACTIVE" && v != "INACTIVE" {
		return errInvalidParameter("1 validation error detected: Value '%s' at 'deletionProtection' failed to satisfy constraint: Member must satisfy enum value set: [ACTIVE, INACTIVE]", clip(v))
	}
	return nil
}

func (e *Emulator) opCreateUserPool(c *call, in *poolConfig) (any, error) {
	in.raw = c.body
	in.region = e.newRegion(c)
	p, err := e.createPool(*in, "", c.now)
	if err != nil {
		return nil, err
	}
	return map[string]any{"UserPool": e.describePool(p)}, nil
}

func (e *Emulator) createPool(in poolConfig, id string, now time.Time) (*userPool, error) {
	if err := checkPoolNameAndSignIn(&in); err != nil {
		return nil, err
	}
	mfa, lambda, err := checkPoolSettings(&in, in.raw)
	if err != nil {
		return nil, err
	}
	schema, err := normalizeSchema(in.Schema) // schema.go
	if err != nil {
		return nil, err
	}
	if id, err = e.newPoolID(in.region, id); err != nil {
		return nil, err
	}
	p := &userPool{
		ID:                     id,
		Name:                   in.PoolName,
		Created:                now,
		Modified:               now,
		MFA:                    mfa,
		UsernameAttributes:     in.UsernameAttributes,
		AliasAttributes:        in.AliasAttributes,
		AutoVerifiedAttributes: in.AutoVerifiedAttributes,
		Device:                 in.DeviceConfiguration,
		Password:               passwordPolicyOf(&in),
		TempPasswordDays:       7,
		Schema:                 schema,
		Lambda:                 lambda,
		Tags:                   in.UserPoolTags,
		DeletionProtection:     in.DeletionProtection,
		Extra:                  extraFields(in.raw, poolExtraFields),
	}
	if ff := in.signInFactors(); ff != nil {
		if err := checkFirstFactors(ff); err != nil {
			return nil, err
		}
		p.FirstAuthFactors = ff
	}
	if in.UsernameConfiguration != nil && in.UsernameConfiguration.CaseSensitive != nil {
		p.CaseSensitive = *in.UsernameConfiguration.CaseSensitive
	}
	if mfa != "OFF" {
		// A pool created with MFA and no factor configuration gets TOTP, the one
		// factor that needs no SNS/SES set-up.
		p.SoftwareTokenMFA = true
	}
	p.ensureMaps()
	e.st.Pools[id] = p
	e.dirty = true
	return p, nil
}

// checkPoolNameAndSignIn checks a new pool's name and sign-in attributes.
func checkPoolNameAndSignIn(in *poolConfig) error {
	if in.PoolName == "" || len(in.PoolName) > 128 {
		return errInvalidParameter("1 validation error detected: Value at 'poolName' failed to satisfy constraint: Member must have length between 1 and 128")
	}
	for _, a := range in.UsernameAttributes {
		if a != "email" && a != "phone_number" {
			return errInvalidParameter("Invalid UsernameAttributes: %s", clip(a))
		}
	}
	if len(in.UsernameAttributes) > 0 && len(in.AliasAttributes) > 0 {
		return errInvalidParameter("Only one of the aliasAttributes or usernameAttributes can be set in a User Pool")
	}
	return nil
}

// checkPoolSettings checks the settings CreateUserPool and UpdateUserPool
// share, in Cognito's order, and returns the MFA configuration (OFF when left
// out) and the normalized LambdaConfig.
func checkPoolSettings(in *poolConfig, raw []byte) (string, *LambdaConfig, error) {
	mfa := in.MfaConfiguration
	if mfa == "" {
		mfa = "OFF"
	}
	if mfa != "OFF" && mfa != "ON" && mfa != "OPTIONAL" {
		return "", nil, errInvalidParameter("Invalid MfaConfiguration: %s", clip(mfa))
	}
	lambda, err := in.LambdaConfig.normalize()
	if err != nil {
		return "", nil, err
	}
	if err := checkDeletionProtection(in.DeletionProtection); err != nil {
		return "", nil, err
	}
	if err := checkUpdateSettings(raw, in.AutoVerifiedAttributes); err != nil {
		return "", nil, err
	}
	return mfa, lambda, nil
}

// passwordPolicyOf is the request's password policy (minimum length 8 when
// left out), or the default one.
func passwordPolicyOf(in *poolConfig) PasswordPolicy {
	if in.Policies == nil || in.Policies.PasswordPolicy == nil {
		return defaultPasswordPolicy()
	}
	pw := *in.Policies.PasswordPolicy
	if pw.MinimumLength == 0 {
		pw.MinimumLength = 8
	}
	return pw
}

// newPoolID makes a pool ID in region (the emulator's when ""), or checks
// that the given one is free.
func (e *Emulator) newPoolID(region, id string) (string, error) {
	if id != "" {
		if e.st.Pools[id] != nil {
			return "", errInvalidParameter("User pool %s already exists.", clip(id))
		}
		return id, nil
	}
	if region == "" {
		region = e.opts.Region
	}
	return region + "_" + e.randomAlnum(9, false), nil
}

func (e *Emulator) describePool(p *userPool) map[string]any {
	out := map[string]any{
		"Id":                     p.ID,
		"Name":                   p.Name,
		"Arn":                    "arn:aws:cognito-idp:" + poolRegion(p.ID) + ":" + e.accountID() + ":userpool/" + p.ID,
		"CreationDate":           epoch(p.Created),
		"LastModifiedDate":       epoch(p.Modified),
		"MfaConfiguration":       p.MFA,
		"EstimatedNumberOfUsers": len(p.Users),
		"Policies": map[string]any{
			"PasswordPolicy": p.Password.apiMap(p.TempPasswordDays),
			"SignInPolicy":   map[string]any{"AllowedFirstAuthFactors": p.firstFactors()},
		},
		"UsernameConfiguration": map[string]bool{"CaseSensitive": p.CaseSensitive},
		"AdminCreateUserConfig": map[string]any{
			"AllowAdminCreateUserOnly":  false,
			"UnusedAccountValidityDays": p.TempPasswordDays,
		},
	}
	if len(p.UsernameAttributes) > 0 {
		out["UsernameAttributes"] = p.UsernameAttributes
	}
	if len(p.AliasAttributes) > 0 {
		out["AliasAttributes"] = p.AliasAttributes
	}
	if len(p.AutoVerifiedAttributes) > 0 {
		out["AutoVerifiedAttributes"] = p.AutoVerifiedAttributes
	}
	if p.Device != nil {
		out["DeviceConfiguration"] = p.Device.apiMap()
	}
	out["SchemaAttributes"] = schemaAttributes(p.Schema) // schema.go
	// Cognito always answers with a LambdaConfig, empty when no trigger is set.
	if p.Lambda != nil {
		out["LambdaConfig"] = p.Lambda
	} else {
		out["LambdaConfig"] = struct{}{}
	}
	if len(p.Tags) > 0 {
		out["UserPoolTags"] = p.Tags
	}
	out["DeletionProtection"] = "INACTIVE"
	if p.DeletionProtection != "" {
		out["DeletionProtection"] = p.DeletionProtection
	}
	for k, v := range p.Extra {
		out[k] = v
	}
	return out
}

// updatePoolInput is UpdateUserPool's request: the settings a pool may change
// after creation (not its sign-in attributes or schema).
type updatePoolInput struct {
	UserPoolID string `json:"UserPoolId"`
	poolConfig
}

// opUpdateUserPool applies Cognito's rule: "If you don't provide a value for an
// attribute, Amazon Cognito sets it to its default value." Only the pool name,
// which has no default, is kept when left out.
func (e *Emulator) opUpdateUserPool(c *call, in *updatePoolInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	if err := checkPoolUpdate(in); err != nil {
		return nil, err
	}
	mfa, lambda, err := checkPoolSettings(&in.poolConfig, c.body)
	if err != nil {
		return nil, err
	}
	password := passwordPolicyOf(&in.poolConfig)
	if in.PoolName != "" {
		p.Name = in.PoolName
	}
	p.MFA = mfa
	if mfa != "OFF" && !p.SoftwareTokenMFA && !p.SMSMFA && !p.EmailMFA {
		p.SoftwareTokenMFA = true
	}
	if ff := in.signInFactors(); ff != nil {
		if err := checkFirstFactors(ff); err != nil {
			return nil, err
		}
		p.FirstAuthFactors = ff
	}
	p.Password = password
	applyPoolUpdate(p, in, lambda, c)
	e.dirty = true
	return nil, nil
}

// checkPoolUpdate refuses the settings fixed at creation and a too long name.
func checkPoolUpdate(in *updatePoolInput) error {
	if len(in.UsernameAttributes) > 0 || len(in.AliasAttributes) > 0 || len(in.Schema) > 0 || in.UsernameConfiguration != nil {
		return errInvalidParameter("UsernameAttributes, AliasAttributes, Schema and UsernameConfiguration cannot be changed after the user pool is created.")
	}
	if in.PoolName != "" && len(in.PoolName) > 128 {
		return errInvalidParameter("1 validation error detected: Value at 'poolName' failed to satisfy constraint: Member must have length between 1 and 128")
	}
	return nil
}

// applyPoolUpdate sets what UpdateUserPool resets to the request's value or
// Cognito's default.
func applyPoolUpdate(p *userPool, in *updatePoolInput, lambda *LambdaConfig, c *call) {
	p.AutoVerifiedAttributes = in.AutoVerifiedAttributes
	p.Device = in.DeviceConfiguration
	p.TempPasswordDays = 7
	if in.AdminCreateUserConfig != nil && in.AdminCreateUserConfig.UnusedAccountValidityDays > 0 {
		p.TempPasswordDays = in.AdminCreateUserConfig.UnusedAccountValidityDays
	}
	p.Lambda = lambda
	if in.UserPoolTags != nil {
		p.Tags = in.UserPoolTags
	}
	p.DeletionProtection = in.DeletionProtection
	p.Extra = extraFields(c.body, poolExtraFields)
	p.Modified = c.now
}

func defaultPasswordPolicy() PasswordPolicy {
	return PasswordPolicy{MinimumLength: 8, RequireUppercase: true, RequireLowercase: true, RequireNumbers: true, RequireSymbols: true}
}

type poolIDInput struct {
	UserPoolID string `json:"UserPoolId"`
}

func (e *Emulator) opDescribeUserPool(c *call, in *poolIDInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"UserPool": e.describePool(p)}, nil
}

func (e *Emulator) opDeleteUserPool(c *call, in *poolIDInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	if p.DeletionProtection == "ACTIVE" {
		return nil, errInvalidParameter("The user pool cannot be deleted because deletion protection is activated. Deletion protection must be inactivated first.")
	}
	delete(e.st.Pools, in.UserPoolID)
	for k, s := range e.sessions {
		if s.PoolID == in.UserPoolID {
			delete(e.sessions, k)
		}
	}
	e.dirty = true
	return nil, nil
}

type pageInput struct {
	MaxResults int    `json:"MaxResults"`
	Limit      int    `json:"Limit"`
	NextToken  string `json:"NextToken"`
	Pagination string `json:"PaginationToken"`
}

// page returns the slice of sorted keys that follows token, at most max long, and the
// token for the next page ("" at the end). Tokens are the last key seen, opaque to
// clients.
func page(keys []string, token string, max int) ([]string, string) {
	sort.Strings(keys)
	if max <= 0 || max > 60 {
		max = 60
	}
	start := 0
	if token != "" {
		start = sort.SearchStrings(keys, token)
		if start < len(keys) && keys[start] == token {
			start++
		}
	}
	end := min(start+max, len(keys))
	next := ""
	if end < len(keys) {
		next = keys[end-1]
	}
	return keys[start:end], next
}

// listPage answers a List operation over the entries of m that keep accepts (all
// when keep is nil): in key order, the page after token of at most max (see page),
// each turned into a list item, as {listName: items}, with tokenName: the next
// page's token when more follow.
func listPage[V, R any](m map[string]V, keep func(V) bool, token string, max int, listName, tokenName string, item func(key string, v V) R) map[string]any {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if keep == nil || keep(v) {
			keys = append(keys, k)
		}
	}
	keys, next := page(keys, token, max)
	items := make([]R, 0, len(keys))
	for _, k := range keys {
		items = append(items, item(k, m[k]))
	}
	out := map[string]any{listName: items}
	if next != "" {
		out[tokenName] = next
	}
	return out
}

func (e *Emulator) opListUserPools(c *call, in *pageInput) (any, error) {
	if in.MaxResults < 1 || in.MaxResults > 60 {
		return nil, errInvalidParameter("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 60", in.MaxResults)
	}
	return listPage(e.st.Pools, nil, in.NextToken, in.MaxResults, "UserPools", "NextToken", func(_ string, p *userPool) map[string]any {
		return map[string]any{"Id": p.ID, "Name": p.Name, "CreationDate": epoch(p.Created), "LastModifiedDate": epoch(p.Modified)}
	}), nil
}

// ---- MFA configuration ----

type setUserPoolMfaConfigInput struct {
	UserPoolID                    string                  `json:"UserPoolId"`
	MfaConfiguration              string                  `json:"MfaConfiguration"`
	SoftwareTokenMfaConfiguration *struct{ Enabled bool } `json:"SoftwareTokenMfaConfiguration"`
	SmsMfaConfiguration           json.RawMessage         `json:"SmsMfaConfiguration"`
	EmailMfaConfiguration         json.RawMessage         `json:"EmailMfaConfiguration"`
	WebAuthnConfiguration         *webAuthnConfigInput    `json:"WebAuthnConfiguration"`
}

func (e *Emulator) opSetUserPoolMfaConfig(c *call, in *setUserPoolMfaConfigInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	switch in.MfaConfiguration {
	case "":
	case "OFF", "ON", "OPTIONAL":
		p.MFA = in.MfaConfiguration
	default:
		return nil, errInvalidParameter("Invalid MfaConfiguration: %s", clip(in.MfaConfiguration))
	}
	if in.SoftwareTokenMfaConfiguration != nil {
		p.SoftwareTokenMFA = in.SoftwareTokenMfaConfiguration.Enabled
	}
	if len(in.SmsMfaConfiguration) > 0 && string(in.SmsMfaConfiguration) != "null" {
		p.SMSMFA = true
	}
	if len(in.EmailMfaConfiguration) > 0 && string(in.EmailMfaConfiguration) != "null" {
		p.EmailMFA = true
	}
	if p.MFA != "OFF" && !p.SoftwareTokenMFA && !p.SMSMFA && !p.EmailMFA {
		return nil, newErr("InvalidParameterException", "At least one MFA method must be enabled when MFA is ON or OPTIONAL.")
	}
	if err := setWebAuthnConfig(p, in.WebAuthnConfiguration); err != nil {
		return nil, err
	}
	p.Modified = c.now
	e.dirty = true
	return e.poolMFAConfig(p), nil
}

func (e *Emulator) poolMFAConfig(p *userPool) map[string]any {
	out := map[string]any{
		"MfaConfiguration":              p.MFA,
		"SoftwareTokenMfaConfiguration": map[string]bool{"Enabled": p.SoftwareTokenMFA},
	}
	if p.SMSMFA {
		out["SmsMfaConfiguration"] = map[string]any{"SmsAuthenticationMessage": "Your authentication code is {####}."}
	}
	if p.EmailMFA {
		out["EmailMfaConfiguration"] = map[string]any{"Message": "Your code is {####}", "Subject": "Your code"}
	}
	out["WebAuthnConfiguration"] = webAuthnConfigOut(p)
	return out
}

func (e *Emulator) opGetUserPoolMfaConfig(c *call, in *poolIDInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	return e.poolMFAConfig(p), nil
}

// ---- password policy ----

func checkPassword(p *userPool, pw string) error {
	fail := func(why string) error {
		return newErr("InvalidPasswordException", "Password did not conform with policy: %s", why)
	}
	if len(pw) > 256 {
		return fail("Password is too long")
	}
	if len([]rune(pw)) < p.Password.MinimumLength {
		return fail("Password not long enough")
	}
	has := passwordClasses(pw)
	for _, rule := range []struct {
		required, present bool
		why               string
	}{
		{p.Password.RequireUppercase, has.upper, "Password must have uppercase characters"},
		{p.Password.RequireLowercase, has.lower, "Password must have lowercase characters"},
		{p.Password.RequireNumbers, has.number, "Password must have numeric characters"},
		{p.Password.RequireSymbols, has.symbol, "Password must have symbol characters"},
	} {
		if rule.required && !rule.present {
			return fail(rule.why)
		}
	}
	return nil
}

// charClasses tells which of the password policy's character classes a
// password has.
type charClasses struct{ upper, lower, number, symbol bool }

// passwordClasses reads pw's character classes; the symbols are Cognito's.
func passwordClasses(pw string) charClasses {
	var has charClasses
	for _, r := range pw {
		switch {
		case unicode.IsUpper(r):
			has.upper = true
		case unicode.IsLower(r):
			has.lower = true
		case unicode.IsDigit(r):
			has.number = true
		case strings.ContainsRune("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ", r):
			has.symbol = true
		}
	}
	return has
}
