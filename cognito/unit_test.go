package cognito_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/jwt"
)

func TestSecretHash(t *testing.T) {
	// Computed with Python's hmac module, independently of this package.
	if got := cognito.SecretHash("clientsecret123", "alice", "client123"); got != "iaCa4iIeMLWdpeLAA0XWg5Zts0zPbaZYbhnp2t64a4c=" {
		t.Fatalf("SecretHash = %s", got)
	}
}

func TestRegionFromPoolID(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"us-east-1_AbC123", "us-east-1", true},
		{"eu-central-1_x", "eu-central-1", true},
		{"us-gov-west-1_x", "us-gov-west-1", true},
		{"", "", false},
		{"AbC123", "", false},
		{"us-east-1_", "", false},
		{"_AbC", "", false},
		{"local_AbC", "", false},
	}
	for _, tt := range tests {
		got, err := cognito.RegionFromPoolID(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("RegionFromPoolID(%q) = %q, %v", tt.in, got, err)
		}
	}
	if _, err := cognito.New(cognito.Options{UserPoolID: "bad", ClientID: "c"}); err == nil {
		t.Error("New accepted a malformed pool ID")
	}
	if _, err := cognito.New(cognito.Options{UserPoolID: "us-east-1_x"}); err == nil {
		t.Error("New accepted a missing client ID")
	}
}

// refreshServer answers GetTokensFromRefreshToken with the given status, content
// type and body, and REFRESH_TOKEN_AUTH with tokens; it counts both.
func refreshServer(t *testing.T, status int, ctype, body string) (*httptest.Server, *atomic.Int32, *atomic.Int32) {
	var getTokens, initiate atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("X-Amz-Target") {
		case "AWSCognitoIdentityProviderService.GetTokensFromRefreshToken":
			getTokens.Add(1)
			w.Header().Set("Content-Type", ctype)
			w.WriteHeader(status)
			fmt.Fprint(w, body)
		case "AWSCognitoIdentityProviderService.InitiateAuth":
			initiate.Add(1)
			var in struct{ AuthParameters map[string]string }
			_ = json.NewDecoder(r.Body).Decode(&in)
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			// Echo the refresh token back, as some services do: it is not a rotation.
			fmt.Fprintf(w, `{"AuthenticationResult":{"AccessToken":"a.b.c","IdToken":"d.e.f","RefreshToken":%q,"ExpiresIn":3600}}`, in.AuthParameters["REFRESH_TOKEN"])
		default:
			w.WriteHeader(404)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &getTokens, &initiate
}

func TestRefreshFallback(t *testing.T) {
	const js = "application/x-amz-json-1.1"
	tests := []struct {
		name         string
		status       int
		ctype, body  string
		wantFallback bool
		wantName     string // error name when no fallback
		retryable    bool
	}{
		{"UnknownOperationException", 400, js, `{"__type":"UnknownOperationException"}`, true, "", false},
		{"InvalidAction in the header", 400, js, `{}`, true, "", false},
		// Only Cognito's own JSON may say "no such operation": an HTML page in front
		// of real Cognito must not send a rotating client down REFRESH_TOKEN_AUTH.
		{"an HTML 500 (moto's, a proxy's) is a fault", 500, "text/html", "<html><title>500 Internal Server Error</title></html>", false, "HTTP500", true},
		{"a 404 page is a fault", 404, "text/plain", "not found", false, "HTTP404", true},
		{"a 400 HTML page is a fault", 400, "text/html", "<html>Bad Request</html>", false, "HTTP400", true},
		{"an empty 501 is a fault", 501, "", "", false, "HTTP501", true},
		{"a real InternalErrorException is a fault", 500, js, `{"__type":"InternalErrorException","message":"x"}`, false, "InternalErrorException", true},
		{"a proxy's 502 is a fault", 502, "text/html", "<html>bad gateway</html>", false, "HTTP502", true},
		{"a proxy's 503 is a fault", 503, "text/html", "<html>unavailable</html>", false, "HTTP503", true},
		{"NotAuthorized is an answer", 400, js, `{"__type":"NotAuthorizedException","message":"Refresh Token has been revoked"}`, false, "NotAuthorizedException", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, getTokens, initiate := refreshServer(t, tt.status, tt.ctype, tt.body)
			if tt.name == "InvalidAction in the header" {
				srv.Config.Handler = withErrorType(srv.Config.Handler, "InvalidAction:")
			}
			c, err := cognito.New(cognito.Options{UserPoolID: "us-east-1_x", ClientID: "c", Endpoint: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			in := cognito.RefreshInput{RefreshToken: "rt-secret-value", Username: "alice"}
			res, err := c.Refresh(context.Background(), in)
			if !tt.wantFallback {
				var ce *cognito.Error
				if !errors.As(err, &ce) || ce.Name != tt.wantName || ce.Retryable != tt.retryable {
					t.Fatalf("err = %#v, want %s (retryable %v) and no fallback", err, tt.wantName, tt.retryable)
				}
				if initiate.Load() != 0 {
					t.Fatal("fell back to REFRESH_TOKEN_AUTH on a fault")
				}
				if strings.Contains(err.Error(), "rt-secret-value") {
					t.Fatal("error message contains the refresh token")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Tokens.RefreshToken != "" {
				t.Fatal("an echoed refresh token was taken for a rotation")
			}
			// The fallback is remembered: the next refresh skips the unknown operation.
			if _, err := c.Refresh(context.Background(), in); err != nil {
				t.Fatal(err)
			}
			if getTokens.Load() != 1 || initiate.Load() != 2 {
				t.Fatalf("GetTokensFromRefreshToken %d, InitiateAuth %d; want 1 and 2", getTokens.Load(), initiate.Load())
			}
		})
	}
}

// withErrorType sets x-amzn-ErrorType on every answer of h.
func withErrorType(h http.Handler, v string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-amzn-ErrorType", v)
		h.ServeHTTP(w, r)
	})
}

// TestRefreshOperation: an explicit RefreshOperation is used as it is, with no
// fallback either way.
func TestRefreshOperation(t *testing.T) {
	const js = "application/x-amz-json-1.1"
	tests := []struct {
		op                   cognito.RefreshOperation
		wantErr              bool
		wantGetTokens, wantI int32
	}{
		{cognito.RefreshInitiateAuth, false, 0, 1},
		{cognito.RefreshGetTokens, true, 1, 0},
		{cognito.RefreshAuto, false, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.op.String(), func(t *testing.T) {
			srv, getTokens, initiate := refreshServer(t, 400, js, `{"__type":"UnknownOperationException"}`)
			c, err := cognito.New(cognito.Options{UserPoolID: "us-east-1_x", ClientID: "c", Endpoint: srv.URL, RefreshOperation: tt.op})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Refresh(context.Background(), cognito.RefreshInput{RefreshToken: "rt", Username: "alice"})
			if (err != nil) != tt.wantErr || getTokens.Load() != tt.wantGetTokens || initiate.Load() != tt.wantI {
				t.Fatalf("err %v, GetTokensFromRefreshToken %d, InitiateAuth %d", err, getTokens.Load(), initiate.Load())
			}
			back, err := cognito.ParseRefreshOperation(tt.op.String())
			if err != nil || back != tt.op {
				t.Fatalf("ParseRefreshOperation(%q) = %v, %v", tt.op.String(), back, err)
			}
		})
	}
	if _, err := cognito.ParseRefreshOperation("sideways"); err == nil {
		t.Error("ParseRefreshOperation accepted nonsense")
	}
	if op, err := cognito.ParseRefreshOperation("REFRESH_TOKEN_AUTH"); err != nil || op != cognito.RefreshInitiateAuth {
		t.Errorf("REFRESH_TOKEN_AUTH = %v, %v", op, err)
	}
	if _, err := cognito.New(cognito.Options{UserPoolID: "us-east-1_x", ClientID: "c", RefreshOperation: 9}); err == nil {
		t.Error("New accepted an unknown RefreshOperation")
	}
}

func TestErrorIs(t *testing.T) {
	e := &cognito.Error{Op: "InitiateAuth", Name: "NotAuthorizedException", Message: "Incorrect username or password."}
	if !errors.Is(e, cognito.ErrNotAuthorized) || errors.Is(e, cognito.ErrUserNotFound) || retryable(e) {
		t.Fatal("sentinel matching is wrong")
	}
	wrapped := fmt.Errorf("outer: %w", &cognito.Error{Name: "TooManyRequestsException", Retryable: true})
	if !errors.Is(wrapped, cognito.ErrTooManyRequests) || !retryable(wrapped) {
		t.Fatal("wrapped retryable error not matched")
	}
	if got := e.Error(); got != "cognito: InitiateAuth: NotAuthorizedException: Incorrect username or password." {
		t.Fatalf("Error() = %q", got)
	}
}

func TestInputErrors(t *testing.T) {
	c, err := cognito.New(cognito.Options{UserPoolID: "us-east-1_x", ClientID: "c", Endpoint: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	checks := map[string]error{
		"no username":  func() error { _, err := c.SignIn(ctx, cognito.SignInInput{Password: "x"}); return err }(),
		"no password":  func() error { _, err := c.SignIn(ctx, cognito.SignInInput{Username: "x"}); return err }(),
		"no refresh":   func() error { _, err := c.Refresh(ctx, cognito.RefreshInput{}); return err }(),
		"no challenge": func() error { _, err := c.Respond(ctx, nil, cognito.Answer{}); return err }(),
		"no code": func() error {
			_, err := c.Respond(ctx, &cognito.Challenge{Name: cognito.ChallengeSMSMFA}, cognito.Answer{})
			return err
		}(),
		"missing attr": func() error {
			_, err := c.Respond(ctx, &cognito.Challenge{Name: cognito.ChallengeNewPasswordRequired, Parameters: map[string]string{"requiredAttributes": `["userAttributes.name"]`}}, cognito.Answer{NewPassword: "x"})
			return err
		}(),
		"revoke nothing":             c.RevokeToken(ctx, jwt.Secret("")),
		"list devices without token": func() error { _, err := c.ListDevices(ctx, ""); return err }(),
		"get device without key":     func() error { _, err := c.GetDevice(ctx, "at", ""); return err }(),
		"forget device without key":  c.ForgetDevice(ctx, "at", ""),
		"update device without key":  c.UpdateDeviceStatus(ctx, "at", "", cognito.DeviceRemembered),
	}
	for name, err := range checks {
		var ce *cognito.Error
		if err == nil || errors.As(err, &ce) {
			t.Errorf("%s: err = %v, want a local input error (no request)", name, err)
		}
	}
}
