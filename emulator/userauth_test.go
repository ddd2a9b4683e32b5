package emulator_test

import (
	"testing"
)

// The sign-in policy is set, echoed and validated by CreateUserPool and
// UpdateUserPool; the other USER_AUTH behaviour is tested through cognito's
// client (cognito/userauth_test.go) and Amplify (test/js).
func TestSignInPolicy(t *testing.T) {
	srv, _ := newTestServer(t)
	policy := func(ff ...string) map[string]any {
		return map[string]any{"SignInPolicy": map[string]any{"AllowedFirstAuthFactors": ff}}
	}
	factors := func(id string) []any {
		out := mustCall(t, srv, "DescribeUserPool", map[string]any{"UserPoolId": id})
		pool := out["UserPool"].(map[string]any)
		return pool["Policies"].(map[string]any)["SignInPolicy"].(map[string]any)["AllowedFirstAuthFactors"].([]any)
	}
	plain := mustCall(t, srv, "CreateUserPool", map[string]any{"PoolName": "plain"})["UserPool"].(map[string]any)["Id"].(string)
	if ff := factors(plain); len(ff) != 1 || ff[0] != "PASSWORD" {
		t.Fatalf("default factors %v", ff)
	}
	id := mustCall(t, srv, "CreateUserPool", map[string]any{"PoolName": "pl", "Policies": policy("PASSWORD", "EMAIL_OTP")})["UserPool"].(map[string]any)["Id"].(string)
	if ff := factors(id); len(ff) != 2 || ff[1] != "EMAIL_OTP" {
		t.Fatalf("factors %v", ff)
	}
	_, ae := call(t, srv, "CreateUserPool", map[string]any{"PoolName": "bad", "Policies": policy("EMAIL_OTP")})
	wantErr(t, ae, "InvalidParameterException", "PASSWORD")
	_, ae = call(t, srv, "UpdateUserPool", map[string]any{"UserPoolId": id, "Policies": policy("PASSWORD", "FACE_ID")})
	wantErr(t, ae, "InvalidParameterException", "allowedFirstAuthFactors")
	mustCall(t, srv, "UpdateUserPool", map[string]any{"UserPoolId": id, "Policies": policy("PASSWORD", "SMS_OTP")})
	if ff := factors(id); len(ff) != 2 || ff[1] != "SMS_OTP" {
		t.Fatalf("factors after update %v", ff)
	}
}
