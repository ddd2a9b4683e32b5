package emulator_test

import (
	"testing"

	"github.com/cogauth/cogauth/emulator"
)

// A SignUp without a password creates a passwordless user only when Cognito
// would: USER_AUTH allowed on the client, an OTP first factor in the pool's
// policy, and the user's address for it verified automatically. Otherwise the
// password policy refuses the empty password and no user is made.
func TestSignUpWithoutPassword(t *testing.T) {
	none := []string{}
	phone := []string{"phone_number"}
	for _, tc := range []struct {
		name     string
		factors  []string
		verified *[]string
		flows    []string
		attrs    map[string]string
		ok       bool
	}{
		{name: "email otp", factors: []string{"PASSWORD", "EMAIL_OTP"}, attrs: map[string]string{"email": "a@example.com"}, ok: true},
		{name: "sms otp", factors: []string{"PASSWORD", "SMS_OTP"}, verified: &phone, attrs: map[string]string{"phone_number": "+15550100"}, ok: true},
		{name: "password only pool", factors: []string{"PASSWORD"}, attrs: map[string]string{"email": "a@example.com"}},
		{name: "no USER_AUTH on the client", factors: []string{"PASSWORD", "EMAIL_OTP"}, flows: []string{"ALLOW_USER_SRP_AUTH"}, attrs: map[string]string{"email": "a@example.com"}},
		{name: "e-mail not verified automatically", factors: []string{"PASSWORD", "EMAIL_OTP"}, verified: &none, attrs: map[string]string{"email": "a@example.com"}},
		{name: "no address for the factor", factors: []string{"PASSWORD", "SMS_OTP"}, verified: &phone, attrs: map[string]string{"email": "a@example.com"}},
		{name: "empty address", factors: []string{"PASSWORD", "EMAIL_OTP"}, attrs: map[string]string{"email": ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			flows := tc.flows
			if flows == nil {
				flows = []string{"ALLOW_USER_AUTH", "ALLOW_USER_SRP_AUTH"}
			}
			srv := emulator.NewServer(emulator.Options{Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
				Name: "p", AllowedFirstAuthFactors: tc.factors, AutoVerifiedAttributes: tc.verified,
				Clients: []emulator.SeedClient{{Name: "c", ExplicitAuthFlows: flows}},
			}}}})
			defer srv.Close()
			var attrs []map[string]string
			for k, v := range tc.attrs {
				attrs = append(attrs, map[string]string{"Name": k, "Value": v})
			}
			client := srv.AppClient("p", "c").ID
			_, ae := call(t, srv, "SignUp", map[string]any{"ClientId": client, "Username": "pat", "UserAttributes": attrs})
			if !tc.ok {
				wantErr(t, ae, "InvalidPasswordException", "Password did not conform with policy")
				_, ae = call(t, srv, "AdminGetUser", map[string]any{"UserPoolId": srv.PoolID("p"), "Username": "pat"})
				wantErr(t, ae, "UserNotFoundException", "")
				return
			}
			if ae != nil {
				t.Fatalf("SignUp: %v", ae)
			}
			// The user has no password: a password sign-in is refused.
			_, ae = call(t, srv, "InitiateAuth", map[string]any{"ClientId": client, "AuthFlow": "USER_AUTH",
				"AuthParameters": map[string]string{"USERNAME": "pat", "PREFERRED_CHALLENGE": "PASSWORD", "PASSWORD": ""}})
			if ae == nil {
				t.Fatal("a passwordless user signed in with an empty password")
			}
		})
	}
}
