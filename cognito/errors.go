package cognito

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/cogauth/cogauth/internal/bounded"
	"github.com/cogauth/cogauth/internal/errkind"
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

	// RequestID is the service's request ID (x-amzn-RequestId) when an answer
	// came: what AWS support asks for. It names the call, never its content.
	RequestID string
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
	}
	if e.Name == NetworkError && e.StatusCode == 0 && e.Cause != nil {
		// No answer came: the transport's error names the address and what
		// failed (it holds no answer bytes, there were none).
		cause := e.Cause.Error()
		var ue *url.Error
		if errors.As(e.Cause, &ue) {
			cause = ue.Error()
		}
		if e.Message != "" {
			b.WriteString(" (" + cause + ")")
		} else {
			b.WriteString(": " + cause)
		}
	}
	return b.String()
}

// Unwrap returns the cause, so errors.Is(err, context.DeadlineExceeded) and
// errors.As(err, &smithy.APIError) keep working.
func (e *Error) Unwrap() error { return e.Cause }

// RetryableError reports whether trying again may work (the Retryable field):
// aws-sdk-go-v2's retry.IsErrorRetryable reads this behaviour, and so does every
// package of this module.
func (e *Error) RetryableError() bool { return e.Retryable }

// Is matches the sentinel of the same Name.
func (e *Error) Is(target error) bool {
	t, ok := target.(sentinel)
	return ok && string(t) == e.Name
}

// sentinel is an exception name used as an errors.Is target; a string type keeps the
// sentinels immutable.
type sentinel string

func (s sentinel) Error() string { return "cognito: " + string(s) }

// RetryableError reports whether an error of this exception is worth trying
// again (throttling, the service's or a dependency's trouble, no answer).
func (s sentinel) RetryableError() bool { return s == NetworkError || retryableNames[string(s)] }

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
	// The account's own calls (account.go): sign-up, codes, MFA set-up.
	ErrUsernameExists         error = sentinel("UsernameExistsException")
	ErrAliasExists            error = sentinel("AliasExistsException")
	ErrCodeDeliveryFailure    error = sentinel("CodeDeliveryFailureException")
	ErrTooManyFailedAttempts  error = sentinel("TooManyFailedAttemptsException")
	ErrEnableSoftwareTokenMFA error = sentinel("EnableSoftwareTokenMFAException")
	ErrMFAMethodNotFound      error = sentinel("MFAMethodNotFoundException")
	ErrForbidden              error = sentinel("ForbiddenException")
	// The pool's Lambda triggers: a function that refused or failed
	// (UserLambdaValidationException, "PreSignUp failed with error …"), one that
	// answered something Cognito cannot use, and one that could not be run in time
	// (UnexpectedLambdaException, retryable: the function's trouble, not a verdict).
	ErrUserLambdaValidation  error = sentinel("UserLambdaValidationException")
	ErrInvalidLambdaResponse error = sentinel("InvalidLambdaResponseException")
	ErrUnexpectedLambda      error = sentinel("UnexpectedLambdaException")
	ErrNetwork               error = sentinel(NetworkError)
	// ErrDeviceRefused marks a sign-in the service refused at the remembered
	// device's own proof (DEVICE_SRP_AUTH, DEVICE_PASSWORD_VERIFIER): the device was
	// forgotten at the service, or its stored password is wrong. The error also
	// matches the service's exception (ErrNotAuthorized, ErrResourceNotFound). The
	// user's password was accepted; signing in without the device works.
	ErrDeviceRefused = errkind.New("cognito: the service refused the remembered device", false)
)

// retryableNames are the exceptions that report load or a dependency's trouble, not
// a verdict on the request. ExternalServiceException is the identity service's word
// for a login provider it could not reach.
var retryableNames = map[string]bool{
	"TooManyRequestsException":    true,
	"ThrottlingException":         true,
	"RequestLimitExceeded":        true,
	"InternalErrorException":      true,
	"ExternalServiceException":    true,
	"UnexpectedLambdaException":   true,
	"ServiceUnavailable":          true,
	"ServiceUnavailableException": true,
}

// MapError turns what an aws-sdk-go-v2 Cognito client (user pools or identity
// pools) returned from operation op into an *Error: the exception name and message,
// the HTTP status, whether trying again may work, and a cause. An err that already
// holds an *Error comes back as it is; nil stays nil, and a non-nil err never maps
// to nil.
//
// It looks at what happened on the wire before the status: a connection refused
// or reset, a timeout, an answer cut short, over MaxAnswerSize, empty or not JSON
// is a NetworkError (retryable) whose Message says which, whatever the status. Only
// an answer in Cognito's own JSON error shape (__type or x-amzn-ErrorType) is named
// after its exception; any other error answer (a proxy's HTML page, a gateway's
// JSON without __type) is named after its status ("HTTP502") and is retryable:
// it is not the service's verdict.
//
// The cause never holds the answer's bytes: the SDK's deserialization error,
// which keeps a snapshot of the body (a refresh token, say), is replaced by one
// that keeps only the read or decode error.
func MapError(op string, err error) error {
	if err == nil {
		return nil
	}
	var ce *Error
	if errors.As(err, &ce) {
		return err
	}
	e := &Error{Op: op, Cause: err}
	var (
		re     *awshttp.ResponseError
		de     *smithy.DeserializationError
		api    smithy.APIError
		answer answerInfo
	)
	if errors.As(err, &re) {
		e.StatusCode = re.HTTPStatusCode()
		e.RequestID = re.ServiceRequestID()
		answer = answerOf(re.Response)
		e.Cause = re.Err
	}
	hasAPI := errors.As(err, &api)
	if errors.As(err, &de) {
		e.Cause = &answerError{err: de.Err}
	} else if hasAPI {
		e.Cause = api
	}
	if msg, ok := networkFault(err, e.StatusCode != 0); ok {
		e.Name, e.Message, e.Retryable = NetworkError, msg, true
		return e
	}
	e.classify(err, api, hasAPI, de, answer)
	return e
}

// classify names e, the mapping of err that is no network fault, after what answered.
func (e *Error) classify(err error, api smithy.APIError, hasAPI bool, de *smithy.DeserializationError, answer answerInfo) {
	switch {
	case errors.Is(err, context.Canceled):
		// The caller gave up; nothing was learnt about the service.
		e.Name = RequestCanceled
	case e.StatusCode != 0 && de == nil && hasAPI && api.ErrorCode() != "" && api.ErrorCode() != "UnknownError":
		// Cognito's own JSON: the service's verdict.
		e.Name = trimName(api.ErrorCode())
		e.Message = api.ErrorMessage()
		e.Retryable = retryableNames[e.Name] || e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests
	case e.StatusCode >= 200 && e.StatusCode < 300:
		// A success status with a body that is not the operation's answer.
		e.Name, e.Message, e.Retryable = NetworkError, answer.undecodable(de), true
	case e.StatusCode != 0:
		// An error answer that is not Cognito's (a proxy's or load balancer's
		// page, moto's 500 for an operation it lacks): name it after the status.
		// Not a verdict on the request, so trying again may work.
		e.Name = fmt.Sprintf("HTTP%d", e.StatusCode)
		e.Message = http.StatusText(e.StatusCode) + ": not a Cognito answer (" + answer.describe() + ")"
		e.Retryable = true
	default:
		e.Name = "UnknownError"
		if hasAPI {
			e.Name = trimName(api.ErrorCode())
			e.Message = api.ErrorMessage()
		}
	}
}

// MaxAnswerSize is the most of one answer that is read, on the user-pool and the
// identity-pool paths alike: 1 MiB. A longer answer fails the call with a
// retryable NetworkError.
const MaxAnswerSize = bounded.MaxAnswer

// DefaultTimeout is how long one call may take, answer included, when neither
// Options.Timeout nor the caller's context says otherwise.
const DefaultTimeout = bounded.DefaultTimeout

// InvalidResponse is the Name of an Error for a success answer, read whole and
// decoded, that lacks what the operation promises (tokens, a challenge). It is
// retryable: a proxy or a misbehaving service sent it, not Cognito's verdict.
const InvalidResponse = "InvalidResponse"

// invalidAnswer is the Error for a success answer of op without what it promises
// (what says what is missing). An empty body says so as a NetworkError, as
// MapError does for an undecodable one.
func invalidAnswer(op string, md middleware.Metadata, what string) *Error {
	e := &Error{Op: op, Name: InvalidResponse, Message: "the answer has " + what, StatusCode: http.StatusOK, Retryable: true}
	if bounded.EmptyAnswer(md) {
		e.Name, e.Message = NetworkError, "empty answer"
	}
	return e
}

// answerError stands for the SDK's deserialization error in an Error's chain: it
// keeps what went wrong reading or decoding, never the bytes of the answer.
type answerError struct{ err error }

func (a *answerError) Error() string { return "the answer could not be read: " + a.err.Error() }

func (a *answerError) Unwrap() error { return a.err }

// answerInfo is what is known of an answer's body, without its bytes.
type answerInfo struct {
	contentType string
	read        int64 // bytes read; -1 when unknown
}

func answerOf(r *smithyhttp.Response) answerInfo {
	a := answerInfo{read: -1}
	if r == nil || r.Response == nil {
		return a
	}
	a.contentType = r.Header.Get("Content-Type")
	if b := bounded.BodyOf(r.Body); b != nil {
		a.read = b.N()
	} else if r.ContentLength >= 0 {
		a.read = r.ContentLength
	}
	return a
}

func (a answerInfo) isJSON() bool {
	ct, _, _ := strings.Cut(a.contentType, ";")
	ct = strings.ToLower(strings.TrimSpace(ct))
	return ct == "application/json" || strings.HasPrefix(ct, "application/x-amz-json") || strings.HasSuffix(ct, "+json")
}

// describe says what kind of body the answer had.
func (a answerInfo) describe() string {
	switch {
	case a.read == 0:
		return "empty"
	case a.contentType == "":
		return "no content type"
	case a.isJSON():
		return "JSON without an exception name"
	}
	return a.contentType
}

// undecodable says why a success answer could not be decoded.
func (a answerInfo) undecodable(de *smithy.DeserializationError) string {
	switch {
	case a.read == 0:
		return "empty answer"
	case !a.isJSON():
		return "not JSON (" + a.describe() + ")"
	case de != nil && errors.Is(de, io.ErrUnexpectedEOF):
		return "malformed JSON (it ends midway)"
	case de != nil && errors.As(de, new(*json.SyntaxError)):
		return "malformed JSON"
	case de != nil:
		return "JSON of the wrong shape"
	}
	return "not the answer the operation promises"
}

// networkFault reports whether err comes from the transport rather than from
// an answer's content, and says what happened.
func networkFault(err error, answered bool) (string, bool) {
	var tl *bounded.TooLargeError
	if errors.As(err, &tl) {
		return tl.Error(), true
	}
	if errors.Is(err, context.Canceled) {
		return "", false
	}
	var to *bounded.TimeoutError
	var rd *bounded.ReadError
	reading := errors.As(err, &rd)
	switch {
	case errors.As(err, &to) && (reading || answered):
		return fmt.Sprintf("no complete answer within %v", to.Timeout), true
	case to != nil:
		return fmt.Sprintf("no answer within %v", to.Timeout), true
	case reading:
		return readFault(err, rd), true
	case answered:
		return "", false
	}
	return connectFault(err)
}

// readFault says how reading an answer failed.
func readFault(err error, rd *bounded.ReadError) string {
	switch {
	case isTimeout(err):
		return "timed out reading the answer"
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return "answer cut short"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset while reading the answer"
	}
	return "reading the answer failed: " + rd.Err.Error()
}

// connectFault reports whether err, before any answer, is the transport's,
// and says what happened.
func connectFault(err error) (string, bool) {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused", true
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset", true
	case isTimeout(err):
		return "timed out", true
	case isNetwork(err):
		// The cause (DNS, TLS, an unreachable network) says it best.
		return "", true
	}
	return "", false
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
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
