package emulator

import (
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"
)

// Error is a Cognito service error as the emulator sends it: the exception name goes
// to `__type` and `x-amzn-ErrorType`, the message to `message` and
// `x-amzn-ErrorMessage`. Go API calls return it too, so tests can switch on Name.
type Error struct {
	Name    string // e.g. "NotAuthorizedException"
	Message string
	Status  int // HTTP status; 400 unless the exception is a server fault
}

func (e *Error) Error() string { return e.Name + ": " + e.Message }

// Is matches another *Error by Name, so errors.Is(err, &Error{Name: "X"}) works.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Name == e.Name
}

// Bounds on what a request can make the emulator echo: one value (an operation,
// parameter or user name, a URL) in a log or message is cut to maxEcho bytes
// (clip cuts tighter still); a whole error message to maxErrorMessage.
const (
	maxEcho         = 256
	maxErrorMessage = 1024
)

// cutUTF8 returns s cut to at most n bytes, at a rune boundary.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// clipLog bounds a request-derived value for a log line.
func clipLog(s string) string { return cutUTF8(s, maxEcho) }

func newErr(name, format string, args ...any) *Error {
	status := http.StatusBadRequest
	if name == "InternalErrorException" {
		status = http.StatusInternalServerError
	}
	return &Error{Name: name, Message: fmt.Sprintf(format, args...), Status: status}
}

// Messages below are the ones Cognito sends, so that clients which match on text (as
// some Amplify versions do) behave the same against the emulator.
func errNotAuthorized(msg string) *Error { return newErr("NotAuthorizedException", "%s", msg) }
func errInvalidParameter(format string, args ...any) *Error {
	return newErr("InvalidParameterException", format, args...)
}
func errResourceNotFound(format string, args ...any) *Error {
	return newErr("ResourceNotFoundException", format, args...)
}
func errUserNotFound() *Error { return newErr("UserNotFoundException", "User does not exist.") }
func errBadCredentials() *Error {
	return errNotAuthorized("Incorrect username or password.")
}

// errCodeMismatch is the answer to a wrong confirmation or verification code
// (ConfirmSignUp, ConfirmForgotPassword, VerifyUserAttribute); an expired one
// says "please request a code again" instead.
func errCodeMismatch() *Error {
	return newErr("CodeMismatchException", "Invalid verification code provided, please try again.")
}

// errMFACodeMismatch is RespondToAuthChallenge's answer to a wrong MFA code,
// worded as Cognito's (not as ConfirmSignUp's).
func errMFACodeMismatch() *Error {
	return newErr("CodeMismatchException", "Invalid code or auth state for the user.")
}
func errInvalidSession(expired bool) *Error {
	if expired {
		return errNotAuthorized("Invalid session for the user, session is expired.")
	}
	return errNotAuthorized("Invalid session for the user, session can only be used once.")
}
