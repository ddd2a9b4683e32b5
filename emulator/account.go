package emulator

import (
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
	code := e.randomDigits(6)
	if u.AttrCodes == nil {
		u.AttrCodes = map[string]*pendingCode{}
	}
	u.AttrCodes[name] = &pendingCode{Code: code, Expires: c.now.Add(24 * time.Hour)}
	e.dirty = true
	return e.send(c, p, u, "VERIFY_ATTRIBUTE", code, medium)
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
	if u.Attributes[in.AttributeName] == "" {
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
	for _, n := range in.UserAttributeNames {
		if err := checkAttributeName(n); err != nil {
			return nil, err
		}
		switch {
		case n == "sub":
			return nil, errInvalidParameter("Cannot modify the non-mutable attribute sub")
		case contains(p.UsernameAttributes, n):
			return nil, errInvalidParameter("Cannot delete attribute %s: it is the pool's username attribute.", n)
		}
		if client != nil && len(client.WriteAttributes) > 0 && !contains(client.WriteAttributes, n) {
			return nil, errNotAuthorized("A client attempted to write unauthorized attribute")
		}
	}
	for _, n := range in.UserAttributeNames {
		delete(u.Attributes, n)
		if verifiable(n) {
			delete(u.Attributes, n+"_verified")
			delete(u.AttrCodes, n)
		}
	}
	u.Modified = c.now
	e.dirty = true
	return map[string]any{}, nil
}
