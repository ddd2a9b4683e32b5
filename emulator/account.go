package emulator

import (
	"encoding/json"
	"strings"
	"time"
)

// maxCodeAttempts is how many wrong codes a pending confirmation, reset or
// verification code takes before it answers LimitExceededException, as Cognito
// stops guessing after a handful of tries. The code stays pending: a new one
// (ResendConfirmationCode, ForgotPassword, GetUserAttributeVerificationCode)
// starts the count again.
const maxCodeAttempts = 5

// errAttemptLimit is Cognito's answer once a code has been guessed at too often.
func errAttemptLimit() *Error {
	return newErr("LimitExceededException", "Attempt limit exceeded, please try after some time.")
}

// redeem checks a code against a pending one, counting the wrong tries: past
// maxCodeAttempts even the right code is refused until a new one is sent. Nothing
// else changes on a failure.
func (e *Emulator) redeem(pc *pendingCode, given string, now time.Time) error {
	if pc != nil && pc.Attempts >= maxCodeAttempts {
		return errAttemptLimit()
	}
	err := checkCode(pc, given, now)
	if err != nil && pc != nil {
		if ae, ok := err.(*Error); ok && ae.Name == "CodeMismatchException" {
			pc.Attempts++
			e.dirty = true
		}
	}
	return err
}

// verifiable reports whether name is an attribute Cognito verifies with a code.
func verifiable(name string) bool { return name == "email" || name == "phone_number" }

// sendAttributeCode sends a VERIFY_ATTRIBUTE code for u's email or phone_number
// and keeps it pending under the attribute's name.
func (e *Emulator) sendAttributeCode(c *call, p *userPool, u *user, name string) (map[string]string, error) {
	medium := "EMAIL"
	if name == "phone_number" {
		medium = "SMS"
	}
	dest := u.Attributes[name]
	if v := u.PendingAttrs[name]; v != "" {
		dest = v
	}
	code := e.randomDigits(6)
	if u.AttrCodes == nil {
		u.AttrCodes = map[string]*pendingCode{}
	}
	u.AttrCodes[name] = &pendingCode{Code: code, Expires: c.now.Add(24 * time.Hour)}
	e.dirty = true
	return e.sendTo(c, p, u, "VERIFY_ATTRIBUTE", code, medium, dest)
}

// updateSettings is the pool's UserAttributeUpdateSettings, kept as given.
type updateSettings struct {
	AttributesRequireVerificationBeforeUpdate []string `json:"AttributesRequireVerificationBeforeUpdate"`
}

// verifyBeforeUpdate reports whether p keeps the original value of name (email
// or phone_number) until the user verifies a new one.
func verifyBeforeUpdate(p *userPool, name string) bool {
	raw, ok := p.Extra["UserAttributeUpdateSettings"]
	if !ok || !verifiable(name) {
		return false
	}
	var s updateSettings
	if json.Unmarshal(raw, &s) != nil {
		return false
	}
	return contains(s.AttributesRequireVerificationBeforeUpdate, name)
}

// checkUpdateSettings checks CreateUserPool / UpdateUserPool's
// UserAttributeUpdateSettings (in the raw request body) as Cognito does: email
// and phone_number only, each one of the pool's AutoVerifiedAttributes.
func checkUpdateSettings(body []byte, autoVerified []string) error {
	v, ok := extraFields(body, []string{"UserAttributeUpdateSettings"})["UserAttributeUpdateSettings"]
	if !ok {
		return nil
	}
	var s updateSettings
	if err := json.Unmarshal(v, &s); err != nil {
		return newErr("SerializationException", "UserAttributeUpdateSettings must be an object with a list of strings.")
	}
	if len(s.AttributesRequireVerificationBeforeUpdate) > 2 {
		return errInvalidParameter("1 validation error detected: Value at 'userAttributeUpdateSettings.attributesRequireVerificationBeforeUpdate' failed to satisfy constraint: Member must have length less than or equal to 2")
	}
	for _, a := range s.AttributesRequireVerificationBeforeUpdate {
		if !verifiable(a) {
			return errInvalidParameter("1 validation error detected: Value at 'userAttributeUpdateSettings.attributesRequireVerificationBeforeUpdate' failed to satisfy constraint: Member must satisfy enum value set: [phone_number, email]")
		}
		if !contains(autoVerified, a) {
			return errInvalidParameter("All attributes in AttributesRequireVerificationBeforeUpdate must exist in AutoVerifiedAttributes")
		}
	}
	return nil
}

// holdPending takes out of attrs the e-mail and phone-number changes that p
// keeps waiting for verification (verifyBeforeUpdate): a new value for an
// attribute the user already has, not given as verified ("<name>_verified" true
// in the same request, which only an admin call may send). Those wait in
// u.PendingAttrs; the original value and its verified status stay in use — in
// tokens, GetUser and sign-in by alias — until VerifyUserAttribute. It returns
// the attributes to apply now and the names now pending.
func holdPending(p *userPool, u *user, attrs []attribute) (apply []attribute, pending []string) {
	for _, a := range attrs {
		cur := u.Attributes[a.Name]
		verifiedNow := false
		for _, b := range attrs {
			if b.Name == a.Name+"_verified" && b.Value == "true" {
				verifiedNow = true
			}
		}
		if verifyBeforeUpdate(p, a.Name) && a.Value != "" && cur != "" && a.Value != cur && !verifiedNow {
			if u.PendingAttrs == nil {
				u.PendingAttrs = map[string]string{}
			}
			u.PendingAttrs[a.Name] = a.Value
			pending = append(pending, a.Name)
			continue
		}
		if verifiable(a.Name) {
			// The value given now wins over one waiting for verification.
			delete(u.PendingAttrs, a.Name)
		}
		apply = append(apply, a)
	}
	return apply, pending
}

// promotePending makes a pending value of name the user's, verified.
func promotePending(u *user, name string) {
	if v := u.PendingAttrs[name]; v != "" {
		u.Attributes[name] = v
		u.Attributes[name+"_verified"] = "true"
	}
	delete(u.PendingAttrs, name)
	if len(u.PendingAttrs) == 0 {
		u.PendingAttrs = nil
	}
}

type attributeNameInput struct {
	accessTokenInput
	AttributeName string `json:"AttributeName"`
}

func checkAttributeName(name string) error {
	if name == "" {
		return errInvalidParameter("1 validation error detected: Value null at 'attributeName' failed to satisfy constraint: Member must not be null")
	}
	if len(name) > 32 {
		return errInvalidParameter("1 validation error detected: Value at 'attributeName' failed to satisfy constraint: Member must have length less than or equal to 32")
	}
	return nil
}

func (e *Emulator) opGetUserAttributeVerificationCode(c *call, in *attributeNameInput) (any, error) {
	p, u, _, err := e.authenticate(in.AccessToken, c.now)
	if err != nil {
		return nil, err
	}
	if err := checkAttributeName(in.AttributeName); err != nil {
		return nil, err
	}
	if !verifiable(in.AttributeName) {
		return nil, errInvalidParameter("Invalid attribute name. Only email and phone_number can be verified.")
	}
	if u.Attributes[in.AttributeName] == "" && u.PendingAttrs[in.AttributeName] == "" {
		return nil, errInvalidParameter("Unable to send verification code: the user has no %s.", in.AttributeName)
	}
	d, err := e.sendAttributeCode(c, p, u, in.AttributeName)
	if err != nil {
		return nil, err
	}
	return map[string]any{"CodeDeliveryDetails": d}, nil
}

type verifyUserAttributeInput struct {
	attributeNameInput
	Code string `json:"Code"`
}

func (e *Emulator) opVerifyUserAttribute(c *call, in *verifyUserAttributeInput) (any, error) {
	_, u, _, err := e.authenticate(in.AccessToken, c.now)
	if err != nil {
		return nil, err
	}
	if err := checkAttributeName(in.AttributeName); err != nil {
		return nil, err
	}
	if in.Code == "" {
		return nil, errInvalidParameter("1 validation error detected: Value null at 'code' failed to satisfy constraint: Member must not be null")
	}
	if !verifiable(in.AttributeName) {
		return nil, errInvalidParameter("Invalid attribute name. Only email and phone_number can be verified.")
	}
	if err := e.redeem(u.AttrCodes[in.AttributeName], in.Code, c.now); err != nil {
		return nil, err
	}
	delete(u.AttrCodes, in.AttributeName)
	promotePending(u, in.AttributeName)
	if u.Attributes[in.AttributeName] != "" {
		u.Attributes[in.AttributeName+"_verified"] = "true"
	}
	u.Modified = c.now
	e.dirty = true
	return map[string]any{}, nil
}

type deleteUserAttributesInput struct {
	accessTokenInput
	UserAttributeNames []string `json:"UserAttributeNames"`
}

func (e *Emulator) opDeleteUserAttributes(c *call, in *deleteUserAttributesInput) (any, error) {
	p, u, cl, err := e.authenticate(in.AccessToken, c.now)
	if err != nil {
		return nil, err
	}
	if len(in.UserAttributeNames) == 0 {
		return nil, errInvalidParameter("1 validation error detected: Value null at 'userAttributeNames' failed to satisfy constraint: Member must not be null")
	}
	if len(in.UserAttributeNames) > 100 {
		return nil, errInvalidParameter("Too many attributes.")
	}
	client := p.Clients[cl.ClientID]
	if err := checkDeletable(p, in.UserAttributeNames); err != nil {
		return nil, err
	}
	for _, n := range in.UserAttributeNames {
		if client != nil && len(client.WriteAttributes) > 0 && !contains(client.WriteAttributes, n) {
			return nil, errNotAuthorized("A client attempted to write unauthorized attribute")
		}
	}
	for _, n := range in.UserAttributeNames {
		delete(u.Attributes, n)
		if verifiable(n) {
			delete(u.Attributes, n+"_verified")
			delete(u.AttrCodes, n)
			delete(u.PendingAttrs, n)
		}
	}
	u.Modified = c.now
	e.dirty = true
	return map[string]any{}, nil
}

// schemaAttribute is what the deletion checks read of a pool's Schema entry.
type schemaAttribute struct {
	Name     string `json:"Name"`
	Required *bool  `json:"Required"`
	Mutable  *bool  `json:"Mutable"`
}

// checkDeletable refuses, as Cognito does, to delete sub, an attribute the
// pool's Schema marks Required or not Mutable, and the pool's username
// attributes (DeleteUserAttributes and AdminDeleteUserAttributes alike). Nothing
// is deleted when any name is refused.
func checkDeletable(p *userPool, names []string) error {
	schema := map[string]schemaAttribute{}
	for _, raw := range p.Schema {
		var a schemaAttribute
		if json.Unmarshal(raw, &a) == nil && a.Name != "" {
			// CreateUserPool's Schema names custom attributes without the prefix.
			if !standardAttributes[a.Name] && !strings.HasPrefix(a.Name, "custom:") {
				a.Name = "custom:" + a.Name
			}
			schema[a.Name] = a
		}
	}
	for _, n := range names {
		if err := checkAttributeName(n); err != nil {
			return err
		}
		a := schema[n]
		switch {
		case n == "sub" || (a.Mutable != nil && !*a.Mutable):
			return errInvalidParameter("Cannot modify the non-mutable attribute %s", n)
		case a.Required != nil && *a.Required:
			return errInvalidParameter("Attributes did not conform to the schema: %s: The attribute is required", n)
		case contains(p.UsernameAttributes, n):
			return errInvalidParameter("Cannot delete attribute %s: it is the pool's username attribute.", n)
		}
	}
	return nil
}
