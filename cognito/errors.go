package cognito

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// NetworkError is the Name of an Error for a call that got no answer from the
// service: connection refused, reset, DNS failure, timeout.
const NetworkError = "NetworkError"

// RequestCanceled is the Name of an Error for a call whose context was cancelled
// before an answer came.
const RequestCanceled = "RequestCanceled"

// Error is a failed Cognito call. Name is the Cognito exception name
// ("NotAuthorizedException", "TooManyRequestsException", …) or NetworkError, so code
// can switch on it as Amplify apps do; errors.Is matches it against the Err*
// sentinels. The message comes from the service and never holds a token.
type Error struct {
	Op         string // the operation, e.g. "InitiateAuth"
	Name       string
	Message    string
	StatusCode int  // HTTP status, 0 when no answer came
	Retryable  bool // throttling, 5xx and network failures: trying again may work
	Cause      error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("cognito: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString(e.Name)
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	} else if e.Name == NetworkError && e.Cause != nil {
		b.WriteString(": ")
		b.WriteString(e.Cause.Error())
	}
	return b.String()
}

// Unwrap returns the cause, so errors.Is(err, context.DeadlineExceeded) and
// errors.As(err, &smithy.APIError) keep working.
func (e *Error) Unwrap() error { return e.Cause }

// Is matches the sentinel of the same Name, and ErrRetryable when e is retryable.
func (e *Error) Is(target error) bool {
	switch t := target.(type) {
	case sentinel:
		return string(t) == e.Name
	case retryableSentinel:
		return e.Retryable
	}
	return false
}

// sentinel is an exception name used as an errors.Is target; a string type keeps the
// sentinels immutable.
type sentinel string

func (s sentinel) Error() string { return "cognito: " + string(s) }

type retryableSentinel struct{}

func (retryableSentinel) Error() string { return "cognito: retryable error" }

// Sentinels for errors.Is. Any *Error matches the one named after its Name.
var (
	ErrNotAuthorized         error = sentinel("NotAuthorizedException")
	ErrUserNotFound          error = sentinel("UserNotFoundException")
	ErrUserNotConfirmed      error = sentinel("UserNotConfirmedException")
	ErrPasswordResetRequired error = sentinel("PasswordResetRequiredException")
	// ErrTokenRevoked is in DESIGN's failure policy, but user pools never send it:
	// a revoked refresh token is a NotAuthorizedException ("Refresh Token has been
	// revoked"). Kept for services and proxies that do, and for errors.Is code
	// written against the policy.
	ErrTokenRevoked             error = sentinel("TokenRevokedException")
	ErrRefreshTokenReuse        error = sentinel("RefreshTokenReuseException")
	ErrTooManyRequests          error = sentinel("TooManyRequestsException")
	ErrInvalidParameter         error = sentinel("InvalidParameterException")
	ErrInvalidPassword          error = sentinel("InvalidPasswordException")
	ErrCodeMismatch             error = sentinel("CodeMismatchException")
	ErrExpiredCode              error = sentinel("ExpiredCodeException")
	ErrResourceNotFound         error = sentinel("ResourceNotFoundException")
	ErrInternalError            error = sentinel("InternalErrorException")
	ErrUnsupportedOperation     error = sentinel("UnsupportedOperationException")
	ErrUnknownOperation         error = sentinel("UnknownOperationException")
	ErrLimitExceeded            error = sentinel("LimitExceededException")
	ErrInvalidUserPoolConfig    error = sentinel("InvalidUserPoolConfigurationException")
	ErrSoftwareTokenMFANotFound error = sentinel("SoftwareTokenMFANotFoundException")
	ErrExternalService          error = sentinel("ExternalServiceException")
	ErrNetwork                  error = sentinel(NetworkError)
	// ErrRetryable matches every Error whose Retryable is set.
	ErrRetryable error = retryableSentinel{}
	// ErrDeviceRefused marks a sign-in the service refused at the remembered
	// device's own proof (DEVICE_SRP_AUTH, DEVICE_PASSWORD_VERIFIER): the device was
	// forgotten at the service, or its stored password is wrong. The error also
	// matches the service's exception (ErrNotAuthorized, ErrResourceNotFound). The
	// user's password was accepted; signing in without the device works.
	ErrDeviceRefused = errors.New("cognito: the service refused the remembered device")
)

// IsRetryable reports whether err is (or wraps) a retryable *Error.
func IsRetryable(err error) bool { return errors.Is(err, ErrRetryable) }

// retryableNames are the exceptions that report load or a dependency's trouble, not
// a verdict on the request. ExternalServiceException is the identity service's word
// for a login provider it could not reach.
var retryableNames = map[string]bool{
	"TooManyRequestsException":    true,
	"ThrottlingException":         true,
	"RequestLimitExceeded":        true,
	"InternalErrorException":      true,
	"ExternalServiceException":    true,
	"ServiceUnavailable":          true,
	"ServiceUnavailableException": true,
}

// MapError turns what an aws-sdk-go-v2 Cognito client (user pools or identity
// pools) returned from operation op into an *Error: the exception name and message,
// the HTTP status, whether trying again may work, and the SDK's error as the cause.
// An err that already holds an *Error comes back as it is; nil stays nil, and a
// non-nil err never maps to nil.
func MapError(op string, err error) error {
	if err == nil {
		return nil
	}
	var ce *Error
	if errors.As(err, &ce) {
		return err
	}
	e := &Error{Op: op, Cause: err}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		e.StatusCode = re.HTTPStatusCode()
	}
	var api smithy.APIError
	switch {
	case errors.As(err, &api) && e.StatusCode != 0 && api.ErrorCode() != "":
		e.Name = trimName(api.ErrorCode())
		e.Message = api.ErrorMessage()
		e.Retryable = retryableNames[e.Name] || e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests
	case e.StatusCode != 0:
		// An answer the SDK could not read as a Cognito error (a proxy's HTML page,
		// moto's 500 for an unknown operation): name it after the status.
		e.Name = fmt.Sprintf("HTTP%d", e.StatusCode)
		e.Message = http.StatusText(e.StatusCode)
		e.Retryable = e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests
	case errors.Is(err, context.Canceled):
		// The caller gave up; nothing was learnt about the service.
		e.Name = RequestCanceled
	case isNetwork(err):
		e.Name = NetworkError
		e.Retryable = true
	default:
		e.Name = "UnknownError"
		if api != nil {
			e.Name = trimName(api.ErrorCode())
			e.Message = api.ErrorMessage()
		}
	}
	return e
}

// trimName drops the namespace some services prefix to the exception name
// ("com.amazonaws…#NotAuthorizedException") and any ":…" tail.
func trimName(s string) string {
	if i := strings.LastIndexByte(s, '#'); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.IndexByte(s, ':'); i >= 0 {
		s = s[:i]
	}
	return s
}

func isNetwork(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return true
	}
	var se interface{ ConnectionError() bool }
	return errors.As(err, &se) && se.ConnectionError()
}
