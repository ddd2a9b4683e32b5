package emulator

import (
	"encoding/json"
	"sort"
	"strings"
	"time"
	"unicode"
)

// registerUserPoolOps fills the operation table with every user-pool operation.
func (e *Emulator) registerUserPoolOps() {
	for name, fn := range map[string]handlerFunc{
		// set-up
		"CreateUserPool":            typed((*Emulator).opCreateUserPool),
		"DescribeUserPool":          typed((*Emulator).opDescribeUserPool),
		"UpdateUserPool":            typed((*Emulator).opUpdateUserPool),
		"DeleteUserPool":            typed((*Emulator).opDeleteUserPool),
		"ListUserPools":             typed((*Emulator).opListUserPools),
		"CreateUserPoolClient":      typed((*Emulator).opCreateUserPoolClient),
		"DescribeUserPoolClient":    typed((*Emulator).opDescribeUserPoolClient),
		"UpdateUserPoolClient":      typed((*Emulator).opUpdateUserPoolClient),
		"DeleteUserPoolClient":      typed((*Emulator).opDeleteUserPoolClient),
		"ListUserPoolClients":       typed((*Emulator).opListUserPoolClients),
		"SetUserPoolMfaConfig":      typed((*Emulator).opSetUserPoolMfaConfig),
		"GetUserPoolMfaConfig":      typed((*Emulator).opGetUserPoolMfaConfig),
		"AdminCreateUser":           typed((*Emulator).opAdminCreateUser),
		"AdminSetUserPassword":      typed((*Emulator).opAdminSetUserPassword),
		"AdminGetUser":              typed((*Emulator).opAdminGetUser),
		"AdminDeleteUser":           typed((*Emulator).opAdminDeleteUser),
		"AdminDisableUser":          typed((*Emulator).opAdminDisableUser),
		"AdminEnableUser":           typed((*Emulator).opAdminEnableUser),
		"AdminUpdateUserAttributes": typed((*Emulator).opAdminUpdateUserAttributes),
		"AdminConfirmSignUp":        typed((*Emulator).opAdminConfirmSignUp),
		"AdminUserGlobalSignOut":    typed((*Emulator).opAdminUserGlobalSignOut),
		"AdminSetUserMFAPreference": typed((*Emulator).opAdminSetUserMFAPreference),
		"ListUsers":                 typed((*Emulator).opListUsers),
		"CreateGroup":               typed((*Emulator).opCreateGroup),
		"GetGroup":                  typed((*Emulator).opGetGroup),
		"ListGroups":                typed((*Emulator).opListGroups),
		"DeleteGroup":               typed((*Emulator).opDeleteGroup),
		"AdminAddUserToGroup":       typed((*Emulator).opAdminAddUserToGroup),
		"AdminRemoveUserFromGroup":  typed((*Emulator).opAdminRemoveUserFromGroup),
		"AdminListGroupsForUser":    typed((*Emulator).opAdminListGroupsForUser),
		// users
		"SignUp":                 typed((*Emulator).opSignUp),
		"ConfirmSignUp":          typed((*Emulator).opConfirmSignUp),
		"ResendConfirmationCode": typed((*Emulator).opResendConfirmationCode),
		"ForgotPassword":         typed((*Emulator).opForgotPassword),
		"ConfirmForgotPassword":  typed((*Emulator).opConfirmForgotPassword),
		"ChangePassword":         typed((*Emulator).opChangePassword),
		"GetUser":                typed((*Emulator).opGetUser),
		"UpdateUserAttributes":   typed((*Emulator).opUpdateUserAttributes),
		"DeleteUser":             typed((*Emulator).opDeleteUser),
		// attribute verification (account.go)
		"GetUserAttributeVerificationCode": typed((*Emulator).opGetUserAttributeVerificationCode),
		"VerifyUserAttribute":              typed((*Emulator).opVerifyUserAttribute),
		"DeleteUserAttributes":             typed((*Emulator).opDeleteUserAttributes),
		"GlobalSignOut":                    typed((*Emulator).opGlobalSignOut),
		// auth
		"InitiateAuth":              typed((*Emulator).opInitiateAuth),
		"RespondToAuthChallenge":    typed((*Emulator).opRespondToAuthChallenge),
		"GetTokensFromRefreshToken": typed((*Emulator).opGetTokensFromRefreshToken),
		"RevokeToken":               typed((*Emulator).opRevokeToken),
		// MFA
		"AssociateSoftwareToken": typed((*Emulator).opAssociateSoftwareToken),
		"VerifySoftwareToken":    typed((*Emulator).opVerifySoftwareToken),
		"SetUserMFAPreference":   typed((*Emulator).opSetUserMFAPreference),
		// passkeys (webauthn.go)
		"StartWebAuthnRegistration":    typed((*Emulator).opStartWebAuthnRegistration),
		"CompleteWebAuthnRegistration": typed((*Emulator).opCompleteWebAuthnRegistration),
		"ListWebAuthnCredentials":      typed((*Emulator).opListWebAuthnCredentials),
		"DeleteWebAuthnCredential":     typed((*Emulator).opDeleteWebAuthnCredential),
		// devices
		"ConfirmDevice":      typed((*Emulator).opConfirmDevice),
		"GetDevice":          typed((*Emulator).opGetDevice),
		"ListDevices":        typed((*Emulator).opListDevices),
		"ForgetDevice":       typed((*Emulator).opForgetDevice),
		"UpdateDeviceStatus": typed((*Emulator).opUpdateDeviceStatus),
		// server-side auth and admin devices (adminauth.go)
		"AdminInitiateAuth":           typed((*Emulator).opAdminInitiateAuth),
		"AdminRespondToAuthChallenge": typed((*Emulator).opAdminRespondToAuthChallenge),
		"AdminResetUserPassword":      typed((*Emulator).opAdminResetUserPassword),
		"AdminGetDevice":              typed((*Emulator).opAdminGetDevice),
		"AdminListDevices":            typed((*Emulator).opAdminListDevices),
		"AdminForgetDevice":           typed((*Emulator).opAdminForgetDevice),
		"AdminUpdateDeviceStatus":     typed((*Emulator).opAdminUpdateDeviceStatus),
	} {
		e.register(idpService+name, fn)
	}
}

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

// ---- app clients ----

type clientConfig struct {
	UserPoolID           string   `json:"UserPoolId"`
	ClientID             string   `json:"ClientId"`
	ClientName           string   `json:"ClientName"`
	GenerateSecret       bool     `json:"GenerateSecret"`
	ExplicitAuthFlows    []string `json:"ExplicitAuthFlows"`
	AccessTokenValidity  *int64   `json:"AccessTokenValidity"`
	IDTokenValidity      *int64   `json:"IdTokenValidity"`
	RefreshTokenValidity *int64   `json:"RefreshTokenValidity"`
	TokenValidityUnits   *struct {
		AccessToken  string `json:"AccessToken"`
		IDToken      string `json:"IdToken"`
		RefreshToken string `json:"RefreshToken"`
	} `json:"TokenValidityUnits"`
	ReadAttributes             []string `json:"ReadAttributes"`
	WriteAttributes            []string `json:"WriteAttributes"`
	EnableTokenRevocation      *bool    `json:"EnableTokenRevocation"`
	PreventUserExistenceErrors string   `json:"PreventUserExistenceErrors"`
	RefreshTokenRotation       *struct {
		Feature                 string `json:"Feature"`
		RetryGracePeriodSeconds int    `json:"RetryGracePeriodSeconds"`
	} `json:"RefreshTokenRotation"`
	clientOAuth
}

// extraClientFields are accepted and echoed back without effect on the emulator.
var extraClientFields = []string{
	"AnalyticsConfiguration", "AuthSessionValidity", "EnablePropagateAdditionalUserContextData",
}

func unitDuration(unit string) (time.Duration, error) {
	switch unit {
	case "seconds":
		return time.Second, nil
	case "minutes":
		return time.Minute, nil
	case "hours":
		return time.Hour, nil
	case "days":
		return 24 * time.Hour, nil
	}
	return 0, errInvalidParameter("Invalid TimeUnitsType: %s", clip(unit))
}

// legacyFlows maps the old ExplicitAuthFlows names to the ALLOW_ ones.
var legacyFlows = map[string]string{
	"ADMIN_NO_SRP_AUTH":     "ALLOW_ADMIN_USER_PASSWORD_AUTH",
	"USER_PASSWORD_AUTH":    "ALLOW_USER_PASSWORD_AUTH",
	"CUSTOM_AUTH_FLOW_ONLY": "ALLOW_CUSTOM_AUTH",
}

var knownFlows = map[string]bool{
	"ALLOW_ADMIN_USER_PASSWORD_AUTH": true, "ALLOW_CUSTOM_AUTH": true, "ALLOW_USER_PASSWORD_AUTH": true,
	"ALLOW_USER_SRP_AUTH": true, "ALLOW_REFRESH_TOKEN_AUTH": true, "ALLOW_USER_AUTH": true,
}

// applyClientConfig validates in and writes it to a fresh client c, with
// Cognito's default for every field in leaves out (CreateUserPoolClient, and
// UpdateUserPoolClient, which resets what it is not given).
func (e *Emulator) applyClientConfig(c *appClient, in clientConfig, raw []byte) error {
	if in.ClientName == "" {
		return errInvalidParameter("1 validation error detected: Value null at 'clientName' failed to satisfy constraint: Member must not be null")
	}
	c.Name = in.ClientName
	flows := in.ExplicitAuthFlows
	if flows == nil {
		flows = []string{"ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
	}
	norm, err := normalizeAuthFlows(flows)
	if err != nil {
		return err
	}
	c.ExplicitAuthFlows = norm
	if err := e.applyClientValidity(c, &in); err != nil {
		return err
	}
	if in.ReadAttributes != nil {
		c.ReadAttributes = in.ReadAttributes
	}
	if in.WriteAttributes != nil {
		c.WriteAttributes = in.WriteAttributes
	}
	if in.EnableTokenRevocation != nil {
		c.EnableTokenRevoction = *in.EnableTokenRevocation
	} else {
		c.EnableTokenRevoction = true
	}
	if err := applyClientExistenceAndRotation(c, &in); err != nil {
		return err
	}
	c.OAuth = in.clientOAuth.mergeInto(c.OAuth)
	keepExtraClientFields(c, raw)
	return nil
}

// normalizeAuthFlows maps legacy flow names to the ALLOW_ ones and refuses
// unknown names and a mix of the two.
func normalizeAuthFlows(flows []string) ([]string, error) {
	legacy, modern := false, false
	var norm []string
	for _, f := range flows {
		if m, ok := legacyFlows[f]; ok {
			legacy = true
			norm = append(norm, m)
			continue
		}
		if !knownFlows[f] {
			return nil, errInvalidParameter("1 validation error detected: Value '[%s]' at 'explicitAuthFlows' failed to satisfy constraint: Member must satisfy enum value set", clip(f))
		}
		modern = true
		norm = append(norm, f)
	}
	if legacy && modern {
		return nil, errInvalidParameter("ExplicitAuthFlow combination is invalid")
	}
	if legacy {
		// Legacy clients always refreshed and used SRP.
		norm = append(norm, "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")
	}
	return norm, nil
}

// applyClientValidity sets the token units and lifetimes, each within
// Cognito's bounds.
func (e *Emulator) applyClientValidity(c *appClient, in *clientConfig) error {
	if in.TokenValidityUnits != nil {
		u := in.TokenValidityUnits
		for _, s := range []string{u.AccessToken, u.IDToken, u.RefreshToken} {
			if s != "" {
				if _, err := unitDuration(s); err != nil {
					return err
				}
			}
		}
		c.Units = tokenUnits{AccessToken: u.AccessToken, IDToken: u.IDToken, RefreshToken: u.RefreshToken}
	}
	c.AccessValidity, c.IDValidity, c.RefreshValidity = time.Hour, time.Hour, 30*24*time.Hour
	if err := e.setValidity(&c.AccessValidity, in.AccessTokenValidity, c.Units.AccessToken, "hours", 5*time.Minute, 24*time.Hour, "Access token validity"); err != nil {
		return err
	}
	if err := e.setValidity(&c.IDValidity, in.IDTokenValidity, c.Units.IDToken, "hours", 5*time.Minute, 24*time.Hour, "Id token validity"); err != nil {
		return err
	}
	if err := e.setValidity(&c.RefreshValidity, in.RefreshTokenValidity, c.Units.RefreshToken, "days", time.Hour, 3650*24*time.Hour, "Refresh token validity"); err != nil {
		return err
	}
	if c.RefreshValidity < c.AccessValidity || c.RefreshValidity < c.IDValidity {
		return errInvalidParameter("Refresh token validity must be longer than the access and id token validity.")
	}
	return nil
}

// setValidity sets *dst to v in unit (def when unit is empty) when v is given
// and within lo and hi.
func (e *Emulator) setValidity(dst *time.Duration, v *int64, unit, def string, lo, hi time.Duration, what string) error {
	if v == nil {
		return nil
	}
	if unit == "" {
		unit = def
	}
	d, _ := unitDuration(unit)
	val := time.Duration(*v) * d
	if *v <= 0 || *v > 1<<40 || (!e.opts.AllowShortLifetimes && val < lo) || val > hi {
		return errInvalidParameter("%s must be between %v and %v.", what, lo, hi)
	}
	*dst = val
	return nil
}

// applyClientExistenceAndRotation sets PreventUserExistenceErrors and the
// refresh token rotation.
func applyClientExistenceAndRotation(c *appClient, in *clientConfig) error {
	if v := in.PreventUserExistenceErrors; v != "" {
		if v != "ENABLED" && v != "LEGACY" {
			return errInvalidParameter("1 validation error detected: Value '%s' at 'preventUserExistenceErrors' failed to satisfy constraint: Member must satisfy enum value set: [LEGACY, ENABLED]", clip(v))
		}
		c.PreventUserExistence = v
	}
	if r := in.RefreshTokenRotation; r != nil {
		if r.Feature != "ENABLED" && r.Feature != "DISABLED" {
			return errInvalidParameter("RefreshTokenRotation.Feature must be ENABLED or DISABLED.")
		}
		if r.RetryGracePeriodSeconds < 0 || r.RetryGracePeriodSeconds > 60 {
			return errInvalidParameter("RetryGracePeriodSeconds must be between 0 and 60.")
		}
		c.Rotation = r.Feature == "ENABLED"
		c.GracePeriod = time.Duration(r.RetryGracePeriodSeconds) * time.Second
	}
	return nil
}

// keepExtraClientFields keeps the request's fields the emulator stores but
// does not interpret, to describe them back.
func keepExtraClientFields(c *appClient, raw []byte) {
	var extra map[string]json.RawMessage
	if len(raw) > 0 && json.Unmarshal(raw, &extra) == nil {
		for _, k := range extraClientFields {
			if v, ok := extra[k]; ok {
				if c.Extra == nil {
					c.Extra = map[string]json.RawMessage{}
				}
				c.Extra[k] = v
			}
		}
	}
}

func (e *Emulator) opCreateUserPoolClient(c *call, in *clientConfig) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	cl, err := e.createClient(p, *in, c.body, "", "", c.now)
	if err != nil {
		return nil, err
	}
	return map[string]any{"UserPoolClient": e.describeClient(p, cl)}, nil
}

func (e *Emulator) createClient(p *userPool, in clientConfig, raw []byte, id, secret string, now time.Time) (*appClient, error) {
	cl := &appClient{Created: now, Modified: now}
	if err := e.applyClientConfig(cl, in, raw); err != nil {
		return nil, err
	}
	if err := cl.OAuth.check(p, in.GenerateSecret || secret != ""); err != nil {
		return nil, err
	}
	if err := p.checkCustomScopes(cl.OAuth); err != nil {
		return nil, err
	}
	if id == "" {
		id = e.randomAlnum(26, true)
	} else if p.Clients[id] != nil {
		return nil, errInvalidParameter("User pool client %s already exists.", clip(id))
	}
	cl.ID = id
	if in.GenerateSecret || secret != "" {
		if secret == "" {
			secret = e.randomAlnum(51, true)
		}
		cl.Secret = secret
	}
	p.Clients[id] = cl
	e.dirty = true
	return cl, nil
}

func (e *Emulator) describeClient(p *userPool, c *appClient) map[string]any {
	units := func(u, def string) string {
		if u == "" {
			return def
		}
		return u
	}
	in := func(d time.Duration, u, def string) int64 {
		ud, _ := unitDuration(units(u, def))
		return int64(d / ud)
	}
	out := map[string]any{
		"UserPoolId":           p.ID,
		"ClientName":           c.Name,
		"ClientId":             c.ID,
		"CreationDate":         epoch(c.Created),
		"LastModifiedDate":     epoch(c.Modified),
		"ExplicitAuthFlows":    c.ExplicitAuthFlows,
		"AccessTokenValidity":  in(c.AccessValidity, c.Units.AccessToken, "hours"),
		"IdTokenValidity":      in(c.IDValidity, c.Units.IDToken, "hours"),
		"RefreshTokenValidity": in(c.RefreshValidity, c.Units.RefreshToken, "days"),
		"TokenValidityUnits": map[string]string{
			"AccessToken":  units(c.Units.AccessToken, "hours"),
			"IdToken":      units(c.Units.IDToken, "hours"),
			"RefreshToken": units(c.Units.RefreshToken, "days"),
		},
		"EnableTokenRevocation": c.EnableTokenRevoction,
	}
	if c.Secret != "" {
		out["ClientSecret"] = c.Secret
	}
	if c.ReadAttributes != nil {
		out["ReadAttributes"] = c.ReadAttributes
	}
	if c.WriteAttributes != nil {
		out["WriteAttributes"] = c.WriteAttributes
	}
	// A client created through the API without the setting is LEGACY.
	out["PreventUserExistenceErrors"] = "LEGACY"
	if c.PreventUserExistence != "" {
		out["PreventUserExistenceErrors"] = c.PreventUserExistence
	}
	rot := map[string]any{"Feature": "DISABLED"}
	if c.Rotation {
		rot = map[string]any{"Feature": "ENABLED", "RetryGracePeriodSeconds": int(c.GracePeriod / time.Second)}
	}
	out["RefreshTokenRotation"] = rot
	c.OAuth.describe(out)
	for k, v := range c.Extra {
		out[k] = v
	}
	return out
}

type clientIDInput struct {
	UserPoolID string `json:"UserPoolId"`
	ClientID   string `json:"ClientId"`
}

func (e *Emulator) poolClient(in clientIDInput) (*userPool, *appClient, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, nil, err
	}
	cl, err := p.client(in.ClientID)
	if err != nil {
		return nil, nil, err
	}
	return p, cl, nil
}

func (e *Emulator) opDescribeUserPoolClient(c *call, in *clientIDInput) (any, error) {
	p, cl, err := e.poolClient(*in)
	if err != nil {
		return nil, err
	}
	return map[string]any{"UserPoolClient": e.describeClient(p, cl)}, nil
}

// opUpdateUserPoolClient applies Cognito's rule for this call: "If you don't
// provide a value for an attribute, Amazon Cognito sets it to its default value."
// The update is applied to a client made afresh from the request, as
// CreateUserPoolClient would make it, keeping only what no request can change
// (ID, secret, creation date) and the name, which has no default. So a left-out
// ExplicitAuthFlows is ALLOW_USER_SRP_AUTH, ALLOW_CUSTOM_AUTH and
// ALLOW_REFRESH_TOKEN_AUTH again, lifetimes 1 h / 1 h / 30 days in hours/hours/days,
// read and write attributes all, revocation on, PreventUserExistenceErrors LEGACY,
// rotation off, analytics and session validity gone, and the OAuth settings
// AllowedOAuthFlowsUserPoolClient false with no flows, scopes, URLs or providers:
// an updated client is never the permissive unconfigured client of settingsOf,
// so the hosted UI refuses it until the update names its OAuth settings.
func (e *Emulator) opUpdateUserPoolClient(c *call, in *clientConfig) (any, error) {
	p, cl, err := e.poolClient(clientIDInput{in.UserPoolID, in.ClientID})
	if err != nil {
		return nil, err
	}
	// Build on a fresh client so that a refused update changes nothing.
	next := appClient{ID: cl.ID, Name: cl.Name, Secret: cl.Secret, Created: cl.Created,
		SecretID: cl.SecretID, SecretCreated: cl.SecretCreated, MoreSecrets: cl.MoreSecrets}
	upd := *in
	if upd.ClientName == "" {
		upd.ClientName = cl.Name
	}
	if err := e.applyClientConfig(&next, upd, c.body); err != nil {
		return nil, err
	}
	if next.OAuth == nil {
		next.OAuth = &clientOAuth{}
	}
	if next.OAuth.Enabled == nil {
		off := false
		next.OAuth.Enabled = &off
	}
	if err := next.OAuth.check(p, next.Secret != ""); err != nil {
		return nil, err
	}
	if err := p.checkCustomScopes(next.OAuth); err != nil {
		return nil, err
	}
	next.Modified = c.now
	*cl = next
	e.dirty = true
	return map[string]any{"UserPoolClient": e.describeClient(p, cl)}, nil
}

func (e *Emulator) opDeleteUserPoolClient(c *call, in *clientIDInput) (any, error) {
	p, cl, err := e.poolClient(*in)
	if err != nil {
		return nil, err
	}
	delete(p.Clients, cl.ID)
	for _, o := range p.Origins {
		if o.ClientID == cl.ID {
			o.Revoked = true
		}
	}
	e.dirty = true
	return nil, nil
}

type listUserPoolClientsInput struct {
	UserPoolID string `json:"UserPoolId"`
	pageInput
}

func (e *Emulator) opListUserPoolClients(c *call, in *listUserPoolClientsInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	return listPage(p.Clients, nil, in.NextToken, in.MaxResults, "UserPoolClients", "NextToken", func(id string, cl *appClient) map[string]string {
		return map[string]string{"ClientId": id, "ClientName": cl.Name, "UserPoolId": p.ID}
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
