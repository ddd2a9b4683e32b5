package identity

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/cogauth/cogauth/cognito"
)

// ErrNotSignedIn is what a LoginSource returns (wrapped or not) when nobody is
// signed in; a Provider then hands out guest credentials if it may, and none
// otherwise.
var ErrNotSignedIn = errors.New("identity: not signed in")

// retryableNames are identity-service exceptions that report load or a dependency's
// trouble, not a verdict on the request.
var retryableNames = map[string]bool{
	"TooManyRequestsException":    true,
	"ThrottlingException":         true,
	"InternalErrorException":      true,
	"ExternalServiceException":    true,
	"ServiceUnavailable":          true,
	"ServiceUnavailableException": true,
}

// mapError turns what the SDK returned into a *cognito.Error, the error type of the
// user-pool side too, so callers switch on one Name whatever the service. It
// follows cognito's own mapping (which is unexported there).
func mapError(op string, err error) error {
	if err == nil {
		return nil
	}
	var ce *cognito.Error
	if errors.As(err, &ce) {
		return err
	}
	e := &cognito.Error{Op: op, Cause: err}
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
		// An answer that is not a service error (a proxy's HTML page): name it after
		// the status.
		e.Name = fmt.Sprintf("HTTP%d", e.StatusCode)
		e.Message = http.StatusText(e.StatusCode)
		e.Retryable = e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests
	case errors.Is(err, context.Canceled):
		e.Name = cognito.RequestCanceled
	case isNetwork(err):
		e.Name = cognito.NetworkError
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
	var se interface{ ConnectionError() bool }
	return errors.As(err, &se) && se.ConnectionError()
}

// errorName returns the Cognito exception name of err ("" when it is not one).
func errorName(err error) string {
	var ce *cognito.Error
	if errors.As(err, &ce) {
		return ce.Name
	}
	return ""
}
