package emulator

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Identity-pool roles: SetIdentityPoolRoles' validation, the role that
// GetCredentialsForIdentity's credentials stand for (the pool's authenticated
// or unauthenticated role, or a role mapping's choice: token-based from
// cognito:preferred_role / cognito:roles, rules-based from the id token's
// claims, CustomRoleArn, AmbiguousRoleResolution), and the principal tags the
// session carries. The credentials issued are remembered (bounded) so that
// STS GetCallerIdentity (sts.go), the admin endpoint and the Go API can say
// which role they are for.

const (
	// maxMappingRules is the documented limit of rules per identity provider
	// (the API reference and the developer guide say 25; botocore's model allows
	// 400 and leaves the limit to the service).
	maxMappingRules = 25
	// maxRoleMappings is RoleMappingMap's limit in the service model.
	maxRoleMappings = 10
	// maxIssuedCredentials bounds the credentials the emulator remembers for
	// GetCallerIdentity: expired ones go first, then the oldest.
	maxIssuedCredentials = 10000
	// cognitoSessionName is the role session name of credentials from
	// GetCredentialsForIdentity, as in their assumed-role ARN.
	cognitoSessionName = "CognitoIdentityCredentials"
	// errPoolRoles is Cognito's message when the pool lacks the role a call needs.
	errPoolRoles = "Invalid identity pool configuration. Check assigned IAM roles for this pool."
)

// roleMapping is one entry of SetIdentityPoolRoles' RoleMappings.
type roleMapping struct {
	Type                    string              `json:"Type"`
	AmbiguousRoleResolution string              `json:"AmbiguousRoleResolution,omitempty"`
	RulesConfiguration      *rulesConfiguration `json:"RulesConfiguration,omitempty"`
}

type rulesConfiguration struct {
	Rules []mappingRule `json:"Rules"`
}

type mappingRule struct {
	Claim     string `json:"Claim"`
	MatchType string `json:"MatchType"`
	Value     string `json:"Value"`
	RoleARN   string `json:"RoleARN"`
}

// claimNamePattern is ClaimName's pattern in the service model: letters, marks,
// symbols, numbers and punctuation, no spaces or control characters.
var claimNamePattern = regexp.MustCompile(`^[\p{L}\p{M}\p{S}\p{N}\p{P}]+$`)

// roleARNPattern is what an IAM role ARN looks like; SetIdentityPoolRoles
// refuses anything else, as Cognito refuses roles it cannot find.
var roleARNPattern = regexp.MustCompile(`^arn:aws[\w-]*:iam::\d{12}:role/[\w+=,.@/-]+$`)

func constraintErr(value, field, constraint string) *Error {
	return newErr("ValidationException", "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", clip(value), field, constraint)
}

// checkRoleARN checks an ARNString (20 to 2048 characters) that must name a role.
func checkRoleARN(field, arn string) error {
	if len(arn) < 20 || len(arn) > 2048 {
		return constraintErr(arn, field, "Member must have length between 20 and 2048")
	}
	if !roleARNPattern.MatchString(arn) {
		return errInvalidParameter("Invalid role ARN: %s", clip(arn))
	}
	return nil
}

// validateRoles checks SetIdentityPoolRoles' input against the pool, in the
// order Cognito reports: the shape of each field first, then whether each
// mapping names a provider the pool trusts.
func validateRoles(ip *identityPool, roles map[string]string, mappings map[string]*roleMapping) error {
	if roles == nil {
		return newErr("ValidationException", "1 validation error detected: Value null at 'roles' failed to satisfy constraint: Member must not be null")
	}
	for _, k := range sortedKeys(roles) {
		if k != "authenticated" && k != "unauthenticated" {
			return errInvalidParameter("Invalid role key: %s", clip(k))
		}
		if err := checkRoleARN("roles", roles[k]); err != nil {
			return err
		}
	}
	if len(mappings) > maxRoleMappings {
		return constraintErr(fmt.Sprintf("%d entries", len(mappings)), "roleMappings", "Member must have length less than or equal to 10")
	}
	for _, key := range sortedKeys(mappings) {
		if err := validateRoleMapping(key, mappings[key]); err != nil {
			return err
		}
		if !ip.trustsMappingKey(key) {
			return errInvalidParameter("(%s) is not a valid RoleMapping ProviderName or is not a configured provider.", headerSafe(cutUTF8(key, maxEcho)))
		}
	}
	return nil
}

// validateRoleMapping checks the shape of the role mapping of provider key:
// its type, its ambiguous-role resolution, and rules exactly when the type is
// Rules.
func validateRoleMapping(key string, m *roleMapping) error {
	field := "roleMappings." + key
	if key == "" || len(key) > 128 {
		return constraintErr(key, "roleMappings", "Map keys must satisfy constraint: [Member must have length between 1 and 128]")
	}
	if m == nil {
		return newErr("ValidationException", "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", clip(field))
	}
	switch m.Type {
	case "Token", "Rules":
	case "":
		return newErr("ValidationException", "1 validation error detected: Value null at '%s.type' failed to satisfy constraint: Member must not be null", clip(field))
	default:
		return constraintErr(m.Type, field+".type", "Member must satisfy enum value set: [Token, Rules]")
	}
	switch m.AmbiguousRoleResolution {
	case "AuthenticatedRole", "Deny":
	case "":
		return errInvalidParameter("AmbiguousRoleResolution is required when Type is %s.", m.Type)
	default:
		return constraintErr(m.AmbiguousRoleResolution, field+".ambiguousRoleResolution", "Member must satisfy enum value set: [AuthenticatedRole, Deny]")
	}
	switch {
	case m.Type == "Rules" && m.RulesConfiguration == nil:
		return errInvalidParameter("RulesConfiguration is required when Type is Rules.")
	case m.Type == "Rules":
		return validateRules(field+".rulesConfiguration.rules", m.RulesConfiguration.Rules)
	case m.RulesConfiguration != nil:
		return errInvalidParameter("RulesConfiguration is only valid when Type is Rules.")
	}
	return nil
}

// validateRules checks a Rules mapping's list: 1 to 25 rules, each valid.
func validateRules(field string, rules []mappingRule) error {
	if len(rules) < 1 {
		return constraintErr("[]", field, "Member must have length greater than or equal to 1")
	}
	if len(rules) > maxMappingRules {
		return constraintErr(fmt.Sprintf("%d rules", len(rules)), field, "Member must have length less than or equal to 25")
	}
	for i, r := range rules {
		if err := validateRule(fmt.Sprintf("%s.%d.member", field, i+1), r); err != nil {
			return err
		}
	}
	return nil
}

// validateRule checks one mapping rule at field at: every member present, the
// claim's name and the value's length, the match type, the role's ARN.
func validateRule(at string, r mappingRule) error {
	for _, f := range []struct{ name, value string }{
		{"claim", r.Claim}, {"matchType", r.MatchType}, {"value", r.Value}, {"roleARN", r.RoleARN},
	} {
		if f.value == "" {
			return newErr("ValidationException", "1 validation error detected: Value null at '%s.%s' failed to satisfy constraint: Member must not be null", clip(at), f.name)
		}
	}
	switch {
	case utf8.RuneCountInString(r.Claim) > 64 || !claimNamePattern.MatchString(r.Claim):
		return constraintErr(r.Claim, at+".claim", "Member must satisfy regular expression pattern: [\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+ and have length between 1 and 64")
	case utf8.RuneCountInString(r.Value) > 128:
		return constraintErr(r.Value, at+".value", "Member must have length between 1 and 128")
	}
	switch r.MatchType {
	case "Equals", "Contains", "StartsWith", "NotEqual":
	default:
		return constraintErr(r.MatchType, at+".matchType", "Member must satisfy enum value set: [Equals, Contains, StartsWith, NotEqual]")
	}
	return checkRoleARN(at+".roleARN", r.RoleARN)
}

// seedRoles sets a seeded pool's roles and mapping, validated as
// SetIdentityPoolRoles validates them.
func seedRoles(p *identityPool, sp SeedIdentityPool) error {
	if len(sp.Roles) == 0 && sp.RoleMapping == nil {
		return nil
	}
	roles := sp.Roles
	if roles == nil {
		roles = map[string]string{}
	}
	var mappings map[string]*roleMapping
	if m := sp.RoleMapping; m != nil {
		rm := &roleMapping{Type: m.Type, AmbiguousRoleResolution: m.AmbiguousRoleResolution}
		if m.Type == "Rules" {
			rm.RulesConfiguration = &rulesConfiguration{}
			for _, r := range m.Rules {
				rm.RulesConfiguration.Rules = append(rm.RulesConfiguration.Rules, mappingRule(r))
			}
		}
		mappings = map[string]*roleMapping{}
		for _, cp := range p.Providers {
			mappings[cp.ProviderName+":"+cp.ClientID] = rm
		}
		if len(mappings) == 0 {
			return fmt.Errorf("a roleMapping needs a userPool and clients")
		}
	}
	if err := validateRoles(p, roles, mappings); err != nil {
		return err
	}
	p.Roles, p.RoleMappings = roles, mappings
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// trustsMappingKey tells whether key ("cognito-idp.{region}.amazonaws.com/
// {poolId}:{clientId}") names one of the pool's Cognito identity providers.
func (ip *identityPool) trustsMappingKey(key string) bool {
	i := strings.LastIndexByte(key, ':')
	if i <= 0 {
		return false
	}
	provider, client := key[:i], key[i+1:]
	for _, cp := range ip.Providers {
		if cp.ProviderName == provider && cp.ClientID == client {
			return true
		}
	}
	return false
}

// hasRoles tells whether the pool was given any role. Pools made without roles
// (the emulator's seeds and Go API, or a set-up that never calls
// SetIdentityPoolRoles) get credentials for the roles the Cognito console
// would have made, Cognito_{Name}Auth_Role and Cognito_{Name}Unauth_Role: a
// documented deviation that keeps such set-ups working.
func (ip *identityPool) hasRoles() bool { return len(ip.Roles) > 0 || len(ip.RoleMappings) > 0 }

func (e *Emulator) consoleRole(ip *identityPool, authenticated bool) string {
	name := strings.Map(func(r rune) rune {
		if r == ' ' {
			return '_'
		}
		return r
	}, ip.Name)
	kind := "Unauth"
	if authenticated {
		kind = "Auth"
	}
	return "arn:aws:iam::" + e.accountID() + ":role/Cognito_" + name + kind + "_Role"
}

// chooseRole is the role GetCredentialsForIdentity's credentials are for. A
// guest gets the unauthenticated role; a signed-in identity the role its
// login's mapping chooses (the first login, in provider order, that has a
// mapping), else the authenticated role.
func (e *Emulator) chooseRole(ip *identityPool, logins []login, authenticated bool, customRoleARN string) (string, error) {
	if !ip.hasRoles() {
		return e.consoleRole(ip, authenticated), nil
	}
	if !authenticated {
		if r := ip.Roles["unauthenticated"]; r != "" {
			return r, nil
		}
		return "", newErr("InvalidIdentityPoolConfigurationException", errPoolRoles)
	}
	for _, l := range logins {
		m := ip.RoleMappings[l.mappingKey]
		if m == nil || l.mappingKey == "" {
			continue
		}
		role, ambiguous, err := m.choose(l.claims, customRoleARN)
		if err != nil {
			return "", err
		}
		if !ambiguous {
			return role, nil
		}
		if m.AmbiguousRoleResolution == "Deny" {
			return "", errNotAuthorized("The ambiguous role mapping rules for: " + l.mappingKey + " denied this request.")
		}
		break // AuthenticatedRole
	}
	if r := ip.Roles["authenticated"]; r != "" {
		return r, nil
	}
	return "", newErr("InvalidIdentityPoolConfigurationException", errPoolRoles)
}

// choose applies one mapping to a token's claims: the role, or ambiguous when
// the mapping cannot choose one (token-based: no cognito:preferred_role;
// rules-based: no rule matches). A CustomRoleArn must be among the roles the
// mapping allows (cognito:roles, or the roles of the rules that match); any
// other is refused.
func (m *roleMapping) choose(claims map[string]any, custom string) (role string, ambiguous bool, err error) {
	var allowed []string
	switch m.Type {
	case "Token":
		allowed = claimStrings(claims["cognito:roles"])
		if custom == "" {
			pref := claimStrings(claims["cognito:preferred_role"])
			if len(pref) == 1 && pref[0] != "" {
				return pref[0], false, nil
			}
			return "", true, nil
		}
	case "Rules":
		if m.RulesConfiguration == nil {
			return "", true, nil
		}
		for _, r := range m.RulesConfiguration.Rules {
			if r.matches(claims) {
				allowed = append(allowed, r.RoleARN)
			}
		}
		if custom == "" {
			if len(allowed) > 0 {
				return allowed[0], false, nil // the first rule that matches
			}
			return "", true, nil
		}
	default:
		return "", true, nil
	}
	for _, a := range allowed {
		if a == custom {
			return custom, false, nil
		}
	}
	return "", false, errNotAuthorized(fmt.Sprintf("Access to Role '%s' is forbidden.", clip(custom)))
}

// matches applies one rule to the claims. A claim the token lacks matches no
// rule (NotEqual included: the claim "must be present in the token"); a
// multi-valued claim (cognito:groups) matches when one of its values does, and
// NotEqual when none equals the value.
func (r mappingRule) matches(claims map[string]any) bool {
	v, ok := claims[r.Claim]
	if !ok || v == nil {
		return false
	}
	values := claimStrings(v)
	if r.MatchType == "NotEqual" {
		for _, s := range values {
			if s == r.Value {
				return false
			}
		}
		return len(values) > 0
	}
	for _, s := range values {
		switch r.MatchType {
		case "Equals":
			if s == r.Value {
				return true
			}
		case "Contains":
			if strings.Contains(s, r.Value) {
				return true
			}
		case "StartsWith":
			if strings.HasPrefix(s, r.Value) {
				return true
			}
		}
	}
	return false
}

// claimStrings is a claim's values as strings: a string, a JSON array's
// strings, numbers and booleans as JSON writes them.
func claimStrings(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case bool:
		return []string{strconv.FormatBool(t)}
	case float64:
		return []string{strconv.FormatFloat(t, 'f', -1, 64)}
	case json.Number:
		return []string{t.String()}
	case []any:
		out := make([]string, 0, len(t))
		for _, x := range t {
			switch x.(type) {
			case string, bool, float64, json.Number:
				out = append(out, claimStrings(x)...)
			}
		}
		return out
	case []string:
		return t
	}
	return nil
}

// principalTags are the session tags of credentials for logins: for each
// provider with an attribute map (SetPrincipalTagAttributeMap), tag -> the
// token claim's value; the defaults map username to sub and client to aud.
func principalTags(ip *identityPool, logins []login) map[string]string {
	var out map[string]string
	for _, l := range logins {
		if tags := l.tags; len(tags) > 0 {
			for k, v := range tags {
				if out == nil {
					out = map[string]string{}
				}
				out[k] = v
			}
			continue
		}
		m, ok := ip.PrincipalTags[l.provider]
		if !ok {
			continue
		}
		attrs := m.Tags
		if m.UseDefaults {
			attrs = principalTagDefaults
		}
		for _, tag := range sortedKeys(attrs) {
			vals := claimStrings(l.claims[attrs[tag]])
			if len(vals) == 0 {
				continue
			}
			if out == nil {
				out = map[string]string{}
			}
			out[tag] = clipTag(strings.Join(vals, ":"))
		}
	}
	return out
}

// clipTag bounds a session tag value to STS's 256 characters.
func clipTag(s string) string {
	if len(s) <= 256 {
		return s
	}
	for i := 256; i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i]
		}
	}
	return ""
}

// IssuedCredentials is what the emulator remembers of credentials it handed
// out: the role they are for, as STS GetCallerIdentity reports it.
type IssuedCredentials struct {
	AccessKeyID    string            `json:"accessKeyId"`
	IdentityID     string            `json:"identityId"`
	IdentityPoolID string            `json:"identityPoolId"`
	RoleARN        string            `json:"roleArn"`
	AssumedRoleARN string            `json:"assumedRoleArn"` // arn:aws:sts::{account}:assumed-role/{name}/CognitoIdentityCredentials
	Authenticated  bool              `json:"authenticated"`
	PrincipalTags  map[string]string `json:"principalTags,omitempty"`
	Expiration     time.Time         `json:"expiration"`
}

// issuedCred is one remembered set of credentials with the secrets that sign
// with it (kept out of IssuedCredentials, which callers print).
type issuedCred struct {
	IssuedCredentials
	secret, sessionToken string
}

// issuedCreds remembers credentials by access key ID, bounded by
// maxIssuedCredentials; never persisted (a restart forgets them, as a
// restarted emulator's callers would ask anew).
type issuedCreds struct {
	byKey map[string]*issuedCred
	order []string // access key IDs, oldest first
}

func (ic *issuedCreds) add(c *issuedCred, now time.Time) {
	if ic.byKey == nil {
		ic.byKey = map[string]*issuedCred{}
	}
	if len(ic.byKey) >= maxIssuedCredentials {
		kept := ic.order[:0]
		for _, k := range ic.order {
			if x := ic.byKey[k]; x != nil && now.Before(x.Expiration) {
				kept = append(kept, k)
			} else {
				delete(ic.byKey, k)
			}
		}
		ic.order = kept
		for len(ic.byKey) >= maxIssuedCredentials {
			delete(ic.byKey, ic.order[0])
			ic.order = ic.order[1:]
		}
	}
	ic.byKey[c.AccessKeyID] = c
	ic.order = append(ic.order, c.AccessKeyID)
}

// assumedRoleARN is the STS ARN of a role session: the role's name (its path
// dropped) and account.
func assumedRoleARN(roleARN, fallbackAccount string) (arn, account string) {
	account = fallbackAccount
	parts := strings.SplitN(roleARN, ":", 6)
	name := roleARN
	if len(parts) == 6 {
		if len(parts[4]) == 12 {
			account = parts[4]
		}
		name = parts[5]
	}
	name = name[strings.LastIndexByte(name, '/')+1:]
	return "arn:aws:sts::" + account + ":assumed-role/" + name + "/" + cognitoSessionName, account
}

// roleID is a role's stable unique ID as STS shows it (AROA and 17 more
// upper-case letters and digits), derived from its ARN.
func roleID(roleARN string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	sum := sha256.Sum256([]byte(roleARN))
	b := make([]byte, 0, 21)
	b = append(b, "AROA"...)
	for i := 0; i < 17; i++ {
		b = append(b, alphabet[sum[i]%32])
	}
	return string(b)
}

// Credentials tells which role and identity the credentials with the access
// key ID accessKeyID are for; ok is false for keys the emulator did not hand
// out (or has forgotten: it remembers the last 10,000).
func (e *Emulator) Credentials(accessKeyID string) (IssuedCredentials, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.idp().creds.byKey[accessKeyID]
	if c == nil {
		return IssuedCredentials{}, false
	}
	out := c.IssuedCredentials
	if c.PrincipalTags != nil {
		out.PrincipalTags = make(map[string]string, len(c.PrincipalTags))
		for k, v := range c.PrincipalTags {
			out.PrincipalTags[k] = v
		}
	}
	return out, true
}
