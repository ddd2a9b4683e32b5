package emulator

import (
	"time"
)

// Server-side ("admin") authentication and password reset: the calls a backend
// holding AWS credentials makes on its users' behalf. The admin device
// operations are in devices.go.

type adminInitiateAuthInput struct {
	UserPoolID string `json:"UserPoolId"`
	initiateAuthInput
}

// adminClient finds the app client of an admin call, which names its pool too.
func (e *Emulator) adminClient(poolID, clientID string) (*userPool, *appClient, error) {
	p, err := e.pool(poolID)
	if err != nil {
		return nil, nil, err
	}
	if clientID == "" {
		return nil, nil, errInvalidParameter("1 validation error detected: Value null at 'clientId' failed to satisfy constraint: Member must not be null")
	}
	cl, err := p.client(clientID)
	if err != nil {
		return nil, nil, err
	}
	return p, cl, nil
}

// opAdminInitiateAuth serves ADMIN_USER_PASSWORD_AUTH (and its legacy name
// ADMIN_NO_SRP_AUTH) here; the flows InitiateAuth also has (USER_SRP_AUTH,
// REFRESH_TOKEN_AUTH, CUSTOM_AUTH) go through InitiateAuth's code once the client
// is known to belong to the pool. USER_PASSWORD_AUTH is InitiateAuth's only.
func (e *Emulator) opAdminInitiateAuth(c *call, in *adminInitiateAuthInput) (any, error) {
	p, cl, err := e.adminClient(in.UserPoolID, in.ClientID)
	if err != nil {
		return nil, err
	}
	switch in.AuthFlow {
	case "ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH":
		if !cl.allows("ALLOW_ADMIN_USER_PASSWORD_AUTH") {
			return nil, errInvalidParameter("Auth flow not enabled for this client")
		}
		if in.AuthParameters["PASSWORD"] == "" {
			return nil, errInvalidParameter("Missing required parameter PASSWORD")
		}
		return e.passwordAuth(c, p, cl, in.AuthParameters)
	case "USER_PASSWORD_AUTH":
		return nil, errInvalidParameter("Initiate Auth method not supported.")
	}
	return e.opInitiateAuth(c, &in.initiateAuthInput)
}

type adminRespondToAuthChallengeInput struct {
	UserPoolID string `json:"UserPoolId"`
	respondToAuthChallengeInput
}

func (e *Emulator) opAdminRespondToAuthChallenge(c *call, in *adminRespondToAuthChallengeInput) (any, error) {
	if _, _, err := e.adminClient(in.UserPoolID, in.ClientID); err != nil {
		return nil, err
	}
	return e.opRespondToAuthChallenge(c, &in.respondToAuthChallengeInput)
}

// opAdminResetUserPassword invalidates the user's password: sign-in answers
// PasswordResetRequiredException until ConfirmForgotPassword with the code sent
// to the user's verified address (none is sent without one; an admin then sets a
// password with AdminSetUserPassword).
func (e *Emulator) opAdminResetUserPassword(c *call, in *adminUserInput) (any, error) {
	p, u, err := e.poolUser(*in)
	if err != nil {
		return nil, err
	}
	if !u.Enabled {
		return nil, errNotAuthorized("User is disabled.")
	}
	u.Status = "RESET_REQUIRED"
	u.Modified = c.now
	e.dirty = true
	medium := ""
	switch {
	case u.Attributes["email_verified"] == "true":
		medium = "EMAIL"
	case u.Attributes["phone_number_verified"] == "true":
		medium = "SMS"
	default:
		return nil, nil
	}
	code := e.randomDigits(6)
	u.ResetCode = &pendingCode{Code: code, Expires: c.now.Add(time.Hour)}
	if _, err := e.send(c, p, u, "FORGOT_PASSWORD", code, medium); err != nil {
		return nil, err
	}
	return nil, nil
}
