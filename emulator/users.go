package emulator

import (
	"crypto/subtle"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cogauth/cogauth/secret"
	"github.com/cogauth/cogauth/srp"
)

// attribute is Cognito's AttributeType.
type attribute struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

// standardAttributes are the OIDC attributes every pool has.
var standardAttributes = map[string]bool{
	"address": true, "birthdate": true, "email": true, "email_verified": true, "family_name": true,
	"gender": true, "given_name": true, "locale": true, "middle_name": true, "name": true,
	"nickname": true, "phone_number": true, "phone_number_verified": true, "picture": true,
	"preferred_username": true, "profile": true, "updated_at": true, "website": true, "zoneinfo": true,
}

// checkAttributes validates names and values of attributes a caller wants to write.
func checkAttributes(attrs []attribute) error {
	if len(attrs) > 100 {
		return errInvalidParameter("Too many attributes.")
	}
	for _, a := range attrs {
		if err := checkAttribute(a); err != nil {
			return err
		}
	}
	return nil
}

// checkAttribute validates one attribute: a name the schema may have (never
// sub), a value at most 2048 long, and the formats of the verified flags, the
// e-mail address and the phone number.
func checkAttribute(a attribute) error {
	switch {
	case a.Name == "sub":
		return errInvalidParameter("Cannot modify the non-mutable attribute sub")
	case strings.HasPrefix(a.Name, "custom:") && len(a.Name) > len("custom:") && len(a.Name) <= 32:
	case standardAttributes[a.Name]:
	default:
		return errInvalidParameter("Attribute does not exist in the schema: %s", clip(a.Name))
	}
	if len(a.Value) > 2048 {
		return errInvalidParameter("String attributes cannot have a length of more than 2048")
	}
	switch {
	case (a.Name == "email_verified" || a.Name == "phone_number_verified") && a.Value != "true" && a.Value != "false":
		return errInvalidParameter("%s must be true or false", a.Name)
	case a.Name == "email" && !strings.Contains(a.Value, "@"):
		return errInvalidParameter("Invalid email address format.")
	case a.Name == "phone_number" && !validPhone(a.Value):
		return errInvalidParameter("Invalid phone number format.")
	}
	return nil
}

func validPhone(s string) bool {
	if len(s) < 3 || len(s) > 17 || s[0] != '+' {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func (u *user) attributeList() []attribute {
	names := make([]string, 0, len(u.Attributes))
	for n := range u.Attributes {
		if n != "sub" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	out := []attribute{{Name: "sub", Value: u.Sub}}
	for _, n := range names {
		out = append(out, attribute{Name: n, Value: u.Attributes[n]})
	}
	return out
}

func (u *user) applyAttributes(attrs []attribute) {
	for _, a := range attrs {
		old, had := u.Attributes[a.Name]
		u.Attributes[a.Name] = a.Value
		// A changed address is no longer verified unless the caller says so.
		if (a.Name == "email" || a.Name == "phone_number") && (!had || old != a.Value) {
			if !hasAttr(attrs, a.Name+"_verified") {
				u.Attributes[a.Name+"_verified"] = "false"
			}
		}
	}
}

func hasAttr(attrs []attribute, name string) bool {
	for _, a := range attrs {
		if a.Name == name {
			return true
		}
	}
	return false
}

// newUser creates a user in p. name is what the caller offered as username: in pools
// with UsernameAttributes it is an e-mail or phone number and the real username
// becomes the sub, as in Cognito.
func (e *Emulator) newUser(p *userPool, name string, attrs []attribute, now time.Time) (*user, error) {
	if name == "" || len(name) > 128 || strings.ContainsAny(name, " \t\r\n") {
		return nil, errInvalidParameter("1 validation error detected: Value at 'username' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+")
	}
	if err := checkAttributes(attrs); err != nil {
		return nil, err
	}
	sub := e.uuid()
	username := name
	if len(p.UsernameAttributes) > 0 {
		switch {
		case strings.Contains(name, "@") && contains(p.UsernameAttributes, "email"):
			attrs = append(attrs, attribute{"email", name})
		case validPhone(name) && contains(p.UsernameAttributes, "phone_number"):
			attrs = append(attrs, attribute{"phone_number", name})
		default:
			return nil, errInvalidParameter("Username should be either an email or a phone number.")
		}
		username = sub
	}
	if p.findUser(name) != nil || p.Users[p.userKey(username)] != nil {
		return nil, newErr("UsernameExistsException", "User account already exists")
	}
	u := &user{
		Username:   username,
		Sub:        sub,
		Attributes: map[string]string{"sub": sub},
		Enabled:    true,
		Created:    now,
		Modified:   now,
	}
	u.applyAttributes(attrs)
	p.Users[p.userKey(username)] = u
	e.dirty = true
	return u, nil
}

// setPassword stores the SRP verifier of pw for u.
func (e *Emulator) setPassword(p *userPool, u *user, pw string) error {
	salt, v, err := srp.NewVerifier(e.random, srp.PoolName(p.ID), u.Username, secret.String(pw))
	if err != nil {
		return err
	}
	u.SaltHex, u.VerifierHex = salt, v
	e.dirty = true
	return nil
}

// passwordMatches recomputes the verifier from pw and compares in constant time.
func passwordMatches(p *userPool, u *user, pw string) bool {
	if u.VerifierHex == "" || pw == "" || len(pw) > 256 {
		return false
	}
	v, err := srp.ComputeVerifier(srp.PoolName(p.ID), u.Username, secret.String(pw), u.SaltHex)
	return err == nil && subtle.ConstantTimeCompare([]byte(v), []byte(u.VerifierHex)) == 1
}

func (e *Emulator) userType(u *user) map[string]any {
	return map[string]any{
		"Username":             u.Username,
		"Attributes":           u.attributeList(),
		"UserCreateDate":       epoch(u.Created),
		"UserLastModifiedDate": epoch(u.Modified),
		"Enabled":              u.Enabled,
		"UserStatus":           u.Status,
	}
}

// ---- admin user operations ----

type adminUserInput struct {
	UserPoolID string `json:"UserPoolId"`
	Username   string `json:"Username"`
}

func (e *Emulator) poolUser(in adminUserInput) (*userPool, *user, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, nil, err
	}
	u, err := p.userByName(in.Username)
	if err != nil {
		return nil, nil, err
	}
	return p, u, nil
}

type adminCreateUserInput struct {
	UserPoolID             string      `json:"UserPoolId"`
	Username               string      `json:"Username"`
	UserAttributes         []attribute `json:"UserAttributes"`
	TemporaryPassword      string      `json:"TemporaryPassword"`
	MessageAction          string      `json:"MessageAction"`
	DesiredDeliveryMediums []string    `json:"DesiredDeliveryMediums"`
}

func (e *Emulator) opAdminCreateUser(c *call, in *adminCreateUserInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	if in.MessageAction != "" && in.MessageAction != "SUPPRESS" && in.MessageAction != "RESEND" {
		return nil, errInvalidParameter("Invalid MessageAction: %s", clip(in.MessageAction))
	}
	if in.MessageAction == "RESEND" {
		return e.resendInvitation(c, p, in.Username)
	}
	pw := in.TemporaryPassword
	if pw == "" {
		pw = e.temporaryPassword(p)
	} else if err := checkPassword(p, pw); err != nil {
		return nil, err
	}
	u, err := e.newUser(p, in.Username, in.UserAttributes, c.now)
	if err != nil {
		return nil, err
	}
	u.Status = "FORCE_CHANGE_PASSWORD"
	u.TempExpires = c.now.Add(time.Duration(p.TempPasswordDays) * 24 * time.Hour)
	if err := e.setPassword(p, u, pw); err != nil {
		return nil, err
	}
	if u, _, err = e.signUpTrigger(c, p, u, "AdminCreateUser", in.UserAttributes); err != nil {
		return nil, err
	}
	if in.MessageAction != "SUPPRESS" {
		medium := ""
		if slices.Contains(in.DesiredDeliveryMediums, "SMS") && u.Attributes["phone_number"] != "" {
			medium = "SMS"
		}
		if _, err := e.send(c, p, u, "ADMIN_CREATE_USER", pw, medium); err != nil {
			return nil, err
		}
	}
	return map[string]any{"User": e.userType(u)}, nil
}

// resendInvitation serves AdminCreateUser's MessageAction RESEND: a user still
// on a temporary password gets a new one, sent again.
func (e *Emulator) resendInvitation(c *call, p *userPool, username string) (any, error) {
	u, err := p.userByName(username)
	if err != nil {
		return nil, err
	}
	if u.Status != "FORCE_CHANGE_PASSWORD" {
		return nil, newErr("UnsupportedUserStateException", "Resend not possible. %s status is not FORCE_CHANGE_PASSWORD", u.Username)
	}
	pw := e.temporaryPassword(p)
	if err := e.setPassword(p, u, pw); err != nil {
		return nil, err
	}
	u.TempExpires = c.now.Add(time.Duration(p.TempPasswordDays) * 24 * time.Hour)
	if _, err := e.send(c, p, u, "ADMIN_CREATE_USER", pw, ""); err != nil {
		return nil, err
	}
	return map[string]any{"User": e.userType(u)}, nil
}

// temporaryPassword makes a password that satisfies any policy.
func (e *Emulator) temporaryPassword(p *userPool) string {
	n := max(p.Password.MinimumLength, 12)
	return "Aa1!" + e.randomAlnum(n-4, false)
}

type adminSetUserPasswordInput struct {
	adminUserInput
	Password  string `json:"Password"`
	Permanent bool   `json:"Permanent"`
}

func (e *Emulator) opAdminSetUserPassword(c *call, in *adminSetUserPasswordInput) (any, error) {
	p, u, err := e.poolUser(in.adminUserInput)
	if err != nil {
		return nil, err
	}
	if err := checkPassword(p, in.Password); err != nil {
		return nil, err
	}
	if err := e.setPassword(p, u, in.Password); err != nil {
		return nil, err
	}
	if in.Permanent {
		u.Status = "CONFIRMED"
		u.TempExpires = time.Time{}
	} else {
		u.Status = "FORCE_CHANGE_PASSWORD"
		u.TempExpires = c.now.Add(time.Duration(p.TempPasswordDays) * 24 * time.Hour)
	}
	u.Modified = c.now
	return nil, nil
}

func (e *Emulator) opAdminGetUser(c *call, in *adminUserInput) (any, error) {
	_, u, err := e.poolUser(*in)
	if err != nil {
		return nil, err
	}
	out := map[string]any{
		"Username":             u.Username,
		"UserAttributes":       u.attributeList(),
		"UserCreateDate":       epoch(u.Created),
		"UserLastModifiedDate": epoch(u.Modified),
		"Enabled":              u.Enabled,
		"UserStatus":           u.Status,
	}
	addMFASettings(out, u)
	return out, nil
}

func (e *Emulator) opAdminDeleteUser(c *call, in *adminUserInput) (any, error) {
	p, u, err := e.poolUser(*in)
	if err != nil {
		return nil, err
	}
	e.deleteUser(p, u)
	return nil, nil
}

func (e *Emulator) deleteUser(p *userPool, u *user) {
	e.revokeUser(p, u.Username)
	delete(p.Users, p.userKey(u.Username))
	e.dirty = true
}

func (e *Emulator) opAdminDisableUser(c *call, in *adminUserInput) (any, error) {
	return e.setEnabled(c, in, false)
}

func (e *Emulator) opAdminEnableUser(c *call, in *adminUserInput) (any, error) {
	return e.setEnabled(c, in, true)
}

func (e *Emulator) setEnabled(c *call, in *adminUserInput, enabled bool) (any, error) {
	p, u, err := e.poolUser(*in)
	if err != nil {
		return nil, err
	}
	u.Enabled = enabled
	u.Modified = c.now
	if !enabled {
		// Disabling a user ends their sessions, as in Cognito.
		e.revokeUser(p, u.Username)
	}
	e.dirty = true
	return nil, nil
}

type adminUpdateUserAttributesInput struct {
	adminUserInput
	UserAttributes []attribute `json:"UserAttributes"`
}

func (e *Emulator) opAdminUpdateUserAttributes(c *call, in *adminUpdateUserAttributesInput) (any, error) {
	p, u, err := e.poolUser(in.adminUserInput)
	if err != nil {
		return nil, err
	}
	if err := checkAttributes(in.UserAttributes); err != nil {
		return nil, err
	}
	apply, pending := holdPending(p, u, in.UserAttributes)
	// email_verified (phone_number_verified) true without a new value verifies
	// the one waiting, as Cognito's UserAttributeUpdateSettings describe.
	for _, a := range in.UserAttributes {
		name, ok := strings.CutSuffix(a.Name, "_verified")
		if ok && a.Value == "true" && !hasAttr(in.UserAttributes, name) && u.PendingAttrs[name] != "" {
			promotePending(u, name)
			delete(u.AttrCodes, name)
		}
	}
	u.applyAttributes(apply)
	u.Modified = c.now
	e.dirty = true
	for _, n := range pending {
		if _, err := e.sendAttributeCode(c, p, u, n); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

func (e *Emulator) opAdminConfirmSignUp(c *call, in *adminUserInput) (any, error) {
	p, u, err := e.poolUser(*in)
	if err != nil {
		return nil, err
	}
	if u.Status != "UNCONFIRMED" {
		return nil, errNotAuthorized("User cannot be confirmed. Current status is " + u.Status)
	}
	u.Status = "CONFIRMED"
	u.SignUpCode = nil
	u.Modified = c.now
	e.dirty = true
	return nil, e.postConfirmation(c, p, u, "ConfirmSignUp")
}

func (e *Emulator) opAdminUserGlobalSignOut(c *call, in *adminUserInput) (any, error) {
	p, u, err := e.poolUser(*in)
	if err != nil {
		return nil, err
	}
	e.revokeUser(p, u.Username)
	return nil, nil
}

// listUsersFilter is ListUsers' filter language: attribute, = or ^=, quoted value.
var listUsersFilter = regexp.MustCompile(`^\s*([A-Za-z_:.]+)\s*(\^?=)\s*"((?:[^"\\]|\\.)*)"\s*$`)

var filterable = map[string]bool{
	"username": true, "email": true, "phone_number": true, "name": true, "given_name": true,
	"family_name": true, "preferred_username": true, "cognito:user_status": true, "status": true, "sub": true,
}

// parseUserFilter returns a predicate for a ListUsers Filter.
func parseUserFilter(f string) (func(*user) bool, error) {
	if strings.TrimSpace(f) == "" {
		return func(*user) bool { return true }, nil
	}
	m := listUsersFilter.FindStringSubmatch(f)
	if m == nil || !filterable[m[1]] {
		return nil, errInvalidParameter("Error while parsing filter.")
	}
	attr, prefix := m[1], m[2] == "^="
	val := strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(m[3])
	return func(u *user) bool {
		var got string
		switch attr {
		case "username":
			got = u.Username
		case "cognito:user_status":
			got = u.Status
		case "status":
			got = "Disabled"
			if u.Enabled {
				got = "Enabled"
			}
		default:
			got = u.Attributes[attr]
		}
		if prefix {
			return strings.HasPrefix(got, val)
		}
		return got == val
	}, nil
}

type listUsersInput struct {
	UserPoolID      string   `json:"UserPoolId"`
	AttributesToGet []string `json:"AttributesToGet"`
	Filter          string   `json:"Filter"`
	pageInput
}

func (e *Emulator) opListUsers(c *call, in *listUsersInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	match, err := parseUserFilter(in.Filter)
	if err != nil {
		return nil, err
	}
	return listPage(p.Users, match, in.Pagination, in.Limit, "Users", "PaginationToken", func(_ string, u *user) map[string]any {
		ut := e.userType(u)
		if in.AttributesToGet != nil {
			var kept []attribute
			for _, a := range ut["Attributes"].([]attribute) {
				if contains(in.AttributesToGet, a.Name) {
					kept = append(kept, a)
				}
			}
			ut["Attributes"] = kept
		}
		return ut
	}), nil
}

type deleteAttributesInput struct {
	adminUserInput
	UserAttributeNames []string `json:"UserAttributeNames"`
}

func deleteAttributes(p *userPool, u *user, names []string, now time.Time) error {
	if len(names) == 0 {
		return errInvalidParameter("1 validation error detected: Value null at 'userAttributeNames' failed to satisfy constraint: Member must not be null")
	}
	if len(names) > 100 {
		return errInvalidParameter("Too many attributes.")
	}
	if err := checkDeletable(p, names); err != nil {
		return err
	}
	for _, n := range names {
		delete(u.Attributes, n)
		if verifiable(n) {
			delete(u.Attributes, n+"_verified")
			delete(u.AttrCodes, n)
			delete(u.PendingAttrs, n)
		}
	}
	u.Modified = now
	return nil
}

func (e *Emulator) opAdminDeleteUserAttributes(c *call, in *deleteAttributesInput) (any, error) {
	p, u, err := e.poolUser(in.adminUserInput)
	if err != nil {
		return nil, err
	}
	if err := deleteAttributes(p, u, in.UserAttributeNames, c.now); err != nil {
		return nil, err
	}
	e.dirty = true
	return nil, nil
}
