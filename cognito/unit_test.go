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
	}{
		{"moto's HTML 500 for an unknown operation", 500, "text/html", "<html><title>500 Internal Server Error</title></html>", true, ""},
		{"UnknownOperationException", 400, js, `{"__type":"UnknownOperationException"}`, true, ""},
		{"404 page", 404, "text/plain", "not found", true, ""},
		{"a real InternalErrorException is a fault", 500, js, `{"__type":"InternalErrorException","message":"x"}`, false, "InternalErrorException"},
		{"a proxy's 502 is a fault", 502, "text/html", "<html>bad gateway</html>", false, "HTTP502"},
		{"a proxy's 503 is a fault", 503, "text/html", "<html>unavailable</html>", false, "HTTP503"},
		{"NotAuthorized is an answer", 400, js, `{"__type":"NotAuthorizedException","message":"Refresh Token has been revoked"}`, false, "NotAuthorizedException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, getTokens, initiate := refreshServer(t, tt.status, tt.ctype, tt.body)
			c, err := cognito.New(cognito.Options{UserPoolID: "us-east-1_x", ClientID: "c", Endpoint: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			in := cognito.RefreshInput{RefreshToken: "rt-secret-value", Username: "alice"}
			res, err := c.Refresh(context.Background(), in)
			if !tt.wantFallback {
				var ce *cognito.Error
				if !errors.As(err, &ce) || ce.Name != tt.wantName {
					t.Fatalf("err = %v, want %s and no fallback", err, tt.wantName)
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

func TestErrorIs(t *testing.T) {
	e := &cognito.Error{Op: "InitiateAuth", Name: "NotAuthorizedException", Message: "Incorrect username or password."}
	if !errors.Is(e, cognito.ErrNotAuthorized) || errors.Is(e, cognito.ErrUserNotFound) || errors.Is(e, cognito.ErrRetryable) {
		t.Fatal("sentinel matching is wrong")
	}
	wrapped := fmt.Errorf("outer: %w", &cognito.Error{Name: "TooManyRequestsException", Retryable: true})
	if !errors.Is(wrapped, cognito.ErrTooManyRequests) || !cognito.IsRetryable(wrapped) {
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
