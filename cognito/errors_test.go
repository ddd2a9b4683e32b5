package cognito_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cogauth/cogauth/cognito"
)

// TestMapError drives real SDK calls into each kind of answer and checks what
// MapError (which identity/ shares) makes of them.
func TestMapError(t *testing.T) {
	const js = "application/x-amz-json-1.1"
	tests := []struct {
		name        string
		status      int
		ctype, body string
		wantName    string
		retryable   bool
		wantStatus  int
	}{
		{"not authorized", 400, js, `{"__type":"NotAuthorizedException","message":"Access Token has been revoked"}`, "NotAuthorizedException", false, 400},
		{"namespaced name", 400, js, `{"__type":"com.amazonaws.cognito#UserNotFoundException","message":"gone"}`, "UserNotFoundException", false, 400},
		{"throttled", 400, js, `{"__type":"TooManyRequestsException","message":"slow down"}`, "TooManyRequestsException", true, 400},
		{"identity's external service", 400, js, `{"__type":"ExternalServiceException","message":"provider unreachable"}`, "ExternalServiceException", true, 400},
		{"internal error", 500, js, `{"__type":"InternalErrorException","message":"x"}`, "InternalErrorException", true, 500},
		{"proxy HTML 502", 502, "text/html", "<html>bad gateway</html>", "HTTP502", true, 502},
		{"plain 404", 404, "text/plain", "no", "HTTP404", true, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.ctype)
				w.Header().Set("X-Amzn-Requestid", "req-"+tt.name)
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			}))
			defer srv.Close()
			c, err := cognito.New(cognito.Options{UserPoolID: "us-east-1_x", ClientID: "c", Endpoint: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.GetUser(context.Background(), "access-token-value")
			var ce *cognito.Error
			if !errors.As(err, &ce) || ce.Op != "GetUser" || ce.Name != tt.wantName || ce.Retryable != tt.retryable || ce.StatusCode != tt.wantStatus {
				t.Fatalf("err = %#v; want %s retryable=%v status %d", err, tt.wantName, tt.retryable, tt.wantStatus)
			}
			if ce.Cause == nil {
				t.Fatal("the SDK's error is not kept as the cause")
			}
			if ce.RequestID != "req-"+tt.name {
				t.Fatalf("request ID %q, want the answer's x-amzn-RequestId", ce.RequestID)
			}
		})
	}
}

func TestMapErrorWithoutAnswer(t *testing.T) {
	if cognito.MapError("Op", nil) != nil {
		t.Fatal("nil mapped to an error")
	}
	already := &cognito.Error{Op: "A", Name: "NotAuthorizedException"}
	if got := cognito.MapError("B", fmt.Errorf("wrapped: %w", already)); !errors.Is(got, cognito.ErrNotAuthorized) {
		t.Fatalf("an *Error inside was not kept: %v", got)
	}
	tests := []struct {
		name      string
		err       error
		wantName  string
		retryable bool
	}{
		{"cancelled", fmt.Errorf("op: %w", context.Canceled), cognito.RequestCanceled, false},
		{"deadline", fmt.Errorf("op: %w", context.DeadlineExceeded), cognito.NetworkError, true},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, cognito.NetworkError, true},
		{"anything else", errors.New("strange"), "UnknownError", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ce *cognito.Error
			if err := cognito.MapError("Op", tt.err); !errors.As(err, &ce) || ce.Name != tt.wantName || ce.Retryable != tt.retryable || !errors.Is(err, tt.err) {
				t.Fatalf("MapError = %#v; want %s retryable=%v wrapping the cause", err, tt.wantName, tt.retryable)
			}
		})
	}
}
