package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/hostedui"
	"github.com/cogauth/cogauth/internal/config"
	"github.com/cogauth/cogauth/session"
)

// The one table of what the CLI says for each Cognito error it can meet: a
// sentence in the user's words and the next step. The default output names no
// SDK operation or exception; --debug (COGAUTH_DEBUG=1) adds them (debugDetails).

// errorWord is one row: the exception Name, a fragment of the service's message
// ("" for any message; rows with a fragment come before the catch-all of their
// name), and the words. say gets the configuration (nil when it could not be
// resolved) and the error.
type errorWord struct {
	name  string
	match string
	say   func(c *config.Config, e *cognito.Error) string
}

// fixed is a say that needs nothing but its words.
func fixed(s string) func(*config.Config, *cognito.Error) string {
	return func(*config.Config, *cognito.Error) string { return s }
}

// withMessage is a say that adds the service's own message (a password policy, a
// trigger's refusal): written for people, it names no exception.
func withMessage(s string) func(*config.Config, *cognito.Error) string {
	return func(_ *config.Config, e *cognito.Error) string {
		if m := strings.TrimSpace(e.Message); m != "" {
			return s + ": " + strings.TrimSuffix(m, ".")
		}
		return s
	}
}

func cfgProfile(c *config.Config) string {
	if c == nil || c.Profile == "" {
		return config.DefaultProfile
	}
	return c.Profile
}

func loginHint(c *config.Config) string { return "run cogauth login --profile " + cfgProfile(c) }

var errorWords = []errorWord{
	// NotAuthorizedException is Cognito's word for many things; its message tells
	// them apart.
	{"NotAuthorizedException", "is configured with secret but", fixed("the app client has a secret: give it with --client-secret or COGAUTH_CLIENT_SECRET")},
	{"NotAuthorizedException", "Unable to verify secret hash", fixed("the app client refused the client secret: check --client-secret / COGAUTH_CLIENT_SECRET")},
	{"NotAuthorizedException", "USER_PASSWORD_AUTH flow not enabled", fixed("the app client does not allow --flow password (USER_PASSWORD_AUTH): use --flow srp, or enable the flow for the client")},
	{"NotAuthorizedException", "flow not enabled", withMessage("the app client does not allow this sign-in flow: choose another --flow, or enable it for the client")},
	{"NotAuthorizedException", "Password attempts exceeded", fixed("too many failed sign-ins for this user: wait a while, then try again")},
	{"NotAuthorizedException", "User is disabled", fixed("this user is disabled: ask an administrator of the user pool")},
	{"NotAuthorizedException", "Incorrect username or password", fixed("incorrect username or password")},
	{"NotAuthorizedException", "Invalid session", fixed("the sign-in step expired (Cognito keeps it 3 minutes): start again")},
	{"NotAuthorizedException", "session is expired", fixed("the sign-in step expired (Cognito keeps it 3 minutes): start again")},
	{"NotAuthorizedException", "Current status is CONFIRMED", fixed("this user is already confirmed: log in with cogauth login --username NAME")},
	{"NotAuthorizedException", "Token", func(c *config.Config, _ *cognito.Error) string {
		return "the session ended (signed out elsewhere, revoked or expired): " + loginHint(c)
	}},
	{"NotAuthorizedException", "", withMessage("the user pool refused the request")},
	{"UserNotFoundException", "", func(c *config.Config, e *cognito.Error) string {
		if tokenOps[e.Op] {
			return "the user of this session no longer exists: " + loginHint(c)
		}
		pool := "this user pool"
		if c != nil && c.UserPoolID != "" {
			pool = "user pool " + c.UserPoolID
		}
		return "no such user in " + pool + ": check --username"
	}},
	{"UserNotConfirmedException", "", fixed("this user is not confirmed yet: cogauth confirm --username NAME --code CODE (--resend sends a new code)")},
	{"PasswordResetRequiredException", "", fixed("the user pool requires a new password for this user: cogauth password reset --username NAME")},
	{"UsernameExistsException", "", fixed("a user by that name already exists in this user pool: choose another --username, or log in")},
	{"AliasExistsException", "", fixed("another user of this user pool already has that e-mail address or phone number")},
	{"InvalidPasswordException", "", withMessage("the user pool refused the password")},
	{"InvalidParameterException", "", withMessage("the user pool refused a value")},
	{"CodeMismatchException", "", fixed("that code is wrong: check it and try again")},
	{"ExpiredCodeException", "", fixed("that code has expired: ask for a new one (--resend)")},
	{"TooManyFailedAttemptsException", "", fixed("too many wrong codes: start again")},
	{"LimitExceededException", "", fixed("the user pool's limit for this was reached (codes sent, password resets): wait a while, then try again")},
	{"TooManyRequestsException", "", fixed("the user pool is throttling requests: wait a moment, then try again")},
	{"CodeDeliveryFailureException", "", fixed("the user pool could not deliver the code: check the e-mail address or phone number")},
	{"EnableSoftwareTokenMFAException", "", fixed("the authenticator app's code was refused: check the app's clock and give its current code")},
	{"SoftwareTokenMFANotFoundException", "", fixed("no authenticator app is set up for this user: cogauth mfa setup totp")},
	{"MFAMethodNotFoundException", "", fixed("that MFA method is not set up for this user")},
	{"InvalidUserPoolConfigurationException", "", withMessage("the user pool is not configured for this")},
	{"UserLambdaValidationException", "", withMessage("the user pool's Lambda trigger refused")},
	{"UnexpectedLambdaException", "", withMessage("the user pool's Lambda trigger failed")},
	{"InvalidLambdaResponseException", "", withMessage("the user pool's Lambda trigger answered something Cognito cannot use")},
	{"InternalErrorException", "", withMessage("the user pool had an internal error (try again)")},
	{"ForbiddenException", "", fixed("a web application firewall in front of the user pool refused the request")},
	{"UnsupportedOperationException", "", withMessage("the user pool does not support this")},
	{"ResourceNotFoundException", "client", func(c *config.Config, _ *cognito.Error) string {
		client := ""
		if c != nil {
			client = " " + c.ClientID
		}
		return "this user pool has no app client" + client + " — check --client-id / COGAUTH_CLIENT_ID"
	}},
	{"ResourceNotFoundException", "User pool", noPool},
	{"ResourceNotFoundException", "Credential", fixed("the user has no passkey with that ID: see cogauth passkeys list")},
	{"ResourceNotFoundException", "Device", fixed("the user pool does not know that device: see cogauth devices list")},
	{"ResourceNotFoundException", "", withMessage("the service does not know this user pool or app client (check --user-pool-id / COGAUTH_USER_POOL_ID and --client-id / COGAUTH_CLIENT_ID)")},
	// The identity pool's.
	{"ExternalServiceException", "", fixed("the identity pool could not reach the sign-in provider: try again")},
	{"InvalidIdentityPoolConfigurationException", "", withMessage("the identity pool's roles are not usable")},
	{"ResourceConflictException", "", withMessage("the identity pool refused the change")},
	{cognito.RequestCanceled, "", fixed("interrupted")},
	{cognito.InvalidResponse, "", withMessage("the service answered without what the operation promises (a proxy in the way?)")},
}

// noPool says that the configured user pool does not exist, naming its region.
func noPool(c *config.Config, _ *cognito.Error) string {
	if c == nil || c.UserPoolID == "" {
		return "no such user pool — check --user-pool-id / COGAUTH_USER_POOL_ID"
	}
	region := c.Region
	if region == "" {
		region, _, _ = strings.Cut(c.UserPoolID, "_")
	}
	return fmt.Sprintf("no user pool %s in %s — check --user-pool-id / COGAUTH_USER_POOL_ID and --region", c.UserPoolID, region)
}

// tokenOps are the operations that carry the session's access token: a refusal
// of the user there means the session ended (exit code 3), not a wrong name.
var tokenOps = map[string]bool{
	"GetUser": true, "UpdateUserAttributes": true, "DeleteUserAttributes": true, "VerifyUserAttribute": true,
	"GetUserAttributeVerificationCode": true, "ChangePassword": true, "DeleteUser": true, "SetUserMFAPreference": true,
	"VerifySoftwareToken": true, "ListDevices": true, "ForgetDevice": true,
	"UpdateDeviceStatus": true, "GetDevice": true, "ListWebAuthnCredentials": true, "DeleteWebAuthnCredential": true,
	"StartWebAuthnRegistration": true, "CompleteWebAuthnRegistration": true, "GlobalSignOut": true,
}

// identityWords are the identity pool's rows, for its operations (identityOps):
// the same exception names mean other things there.
var identityWords = []errorWord{
	{"NotAuthorizedException", "Unauthenticated access", fixed("this identity pool gives no guest credentials: sign in (cogauth login), or allow unauthenticated identities in the pool")},
	{"NotAuthorizedException", "Token", func(c *config.Config, _ *cognito.Error) string {
		return "the identity pool refused the session's token (expired or revoked): " + loginHint(c)
	}},
	{"NotAuthorizedException", "", withMessage("the identity pool refused the request")},
	{"ResourceNotFoundException", "", func(c *config.Config, _ *cognito.Error) string {
		id := ""
		if c != nil && c.IdentityPoolID != "" {
			id = " " + c.IdentityPoolID
		}
		return "no identity pool" + id + " — check --identity-pool-id / COGAUTH_IDENTITY_POOL_ID"
	}},
	{"InvalidParameterException", "", withMessage("the identity pool refused a value")},
	{"TooManyRequestsException", "", fixed("the identity pool is throttling requests: wait a moment, then try again")},
	{"InternalErrorException", "", withMessage("the identity pool had an internal error (try again)")},
	{"LimitExceededException", "", fixed("the identity pool's limit was reached: wait a while, then try again")},
}

// identityOps are the identity pool's operations.
var identityOps = map[string]bool{"GetId": true, "GetCredentialsForIdentity": true, "GetOpenIdToken": true}

// cognitoWords is the table's sentence for e, and false when no row matches.
func cognitoWords(c *config.Config, e *cognito.Error) (string, bool) {
	rows := errorWords
	if identityOps[e.Op] {
		rows = append(identityWords[:len(identityWords):len(identityWords)], errorWords...)
	}
	for _, w := range rows {
		if w.name == e.Name && (w.match == "" || strings.Contains(e.Message, w.match)) {
			return w.say(c, e), true
		}
	}
	switch {
	case strings.HasPrefix(e.Name, "HTTP"):
		return fmt.Sprintf("%s answered HTTP %s, which is not a Cognito answer: check %s", defaultEndpoint(c), strings.TrimPrefix(e.Name, "HTTP"), endpointSetting(c, nil)), true
	case e.Name == cognito.NetworkError:
		return fmt.Sprintf("no usable answer from %s (%s): check %s", defaultEndpoint(c), strings.TrimSuffix(e.Message, "."), endpointSetting(c, nil)), true
	}
	return "", false
}

// sessionEnded reports whether err is the service saying the session's tokens no
// longer work or its user is gone (exit code 3).
func sessionEnded(err error) bool {
	var ce *cognito.Error
	if !errors.As(err, &ce) {
		return false
	}
	switch ce.Name {
	case "NotAuthorizedException":
		return strings.Contains(ce.Message, "Token")
	case "UserNotFoundException":
		return tokenOps[ce.Op]
	}
	return false
}

// signedOutWords says why the profile is not signed in, and how to sign in again.
func signedOutWords(c *config.Config, err error) string {
	hint := loginHint(c)
	var so *session.SignedOutError
	if errors.As(err, &so) {
		switch so.Reason {
		case session.ReasonRevoked:
			return "the session ended: its refresh token was revoked (signed out elsewhere, or by an administrator): " + hint
		case session.ReasonExpired:
			return "the session ended: its refresh token expired: " + hint
		case session.ReasonUserGone:
			return "the session ended: its user no longer exists: " + hint
		case session.ReasonPasswordReset:
			return "the session ended: the user pool requires a new password (cogauth password reset), then " + hint
		case session.ReasonNotConfirmed:
			return "the session ended: the user is not confirmed: " + hint
		case session.ReasonTokenReuse:
			return "the session ended: its refresh token was used twice (another copy of this session refreshed it): " + hint
		case session.ReasonNotAuthorized:
			return "the session ended: the user pool no longer accepts its refresh token: " + hint
		case session.ReasonUser:
			return "signed out: " + hint
		}
	}
	if sessionEnded(err) {
		var ce *cognito.Error
		errors.As(err, &ce)
		if w, ok := cognitoWords(c, ce); ok {
			return w
		}
	}
	return "not signed in to profile " + cfgProfile(c) + ": " + hint
}

// debugDetails is what --debug adds to an error: the operation, the exception,
// the HTTP status and the request ID of a Cognito call, or the OAuth error of a
// hosted UI call. Never a token, code or secret: none of these fields holds one.
type debugDetails struct {
	Operation string `json:"operation,omitempty"`
	Exception string `json:"exception,omitempty"`
	Status    int    `json:"status,omitempty"`
	RequestID string `json:"requestId,omitempty"`
	// Message is the service's own message (it holds no token).
	Message string `json:"message,omitempty"`
}

func debugOf(err error) *debugDetails {
	var ce *cognito.Error
	if errors.As(err, &ce) {
		return &debugDetails{Operation: ce.Op, Exception: ce.Name, Status: ce.StatusCode, RequestID: ce.RequestID, Message: oneLine(ce.Message)}
	}
	var he *hostedui.Error
	if errors.As(err, &he) {
		return &debugDetails{Operation: he.Endpoint, Exception: he.Code, Status: he.StatusCode}
	}
	return nil
}

func (d *debugDetails) String() string {
	var parts []string
	if d.Operation != "" {
		parts = append(parts, "operation "+d.Operation)
	}
	if d.Exception != "" {
		parts = append(parts, "exception "+d.Exception)
	}
	if d.Status != 0 {
		parts = append(parts, fmt.Sprintf("HTTP %d", d.Status))
	}
	if d.RequestID != "" {
		parts = append(parts, "request id "+d.RequestID)
	}
	return strings.Join(parts, ", ")
}
