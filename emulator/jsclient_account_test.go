package emulator_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/internal/peers"
)

// TestAmplifyAccount runs Amplify JS v6's account calls and USER_AUTH sign-ins
// against the emulator (test/js/amplify-account.js), in a pool that keeps the
// original e-mail until a new one is verified (UserAttributeUpdateSettings).
func TestAmplifyAccount(t *testing.T) {
	peers.Node(t, "aws-amplify")
	srv := emulator.NewServer(emulator.Options{Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
		Name: "web", ID: "eu-west-1_Account1", MFA: "OPTIONAL",
		AttributesRequireVerificationBeforeUpdate: []string{"email"},
		AllowedFirstAuthFactors:                   []string{"PASSWORD", "EMAIL_OTP"},
		Clients: []emulator.SeedClient{{Name: "spa", ExplicitAuthFlows: []string{
			"ALLOW_USER_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH",
		}}},
	}}}})
	defer srv.Close()
	in, _ := json.Marshal(map[string]string{"endpoint": srv.URL, "userPoolId": srv.PoolID("web"), "clientId": srv.AppClient("web", "spa").ID})
	raw := peers.RunNode(t, "amplify-account.js", in)
	var out struct {
		Error                                     map[string]string `json:"error"`
		SignUpStep, ConfirmStep, AutoSignIn, User string
		UpdateEmailStep                           string
		PendingAttributes, Attributes             map[string]string
		TotpURI                                   bool `json:"totpURI"`
		MFA                                       struct {
			Enabled   []string
			Preferred string
		} `json:"mfa"`
		ResetStep, PasswordSignIn, OtpStep, OtpDone string
		SelectStep, SelectedStep, SelectedDone      string
		Available                                   []string
		AfterDelete                                 string
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	if out.Error != nil {
		t.Fatalf("Amplify failed: %v (so far: %s)", out.Error, raw)
	}
	check := func(what, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %q, want %q", what, got, want)
		}
	}
	check("signUp", out.SignUpStep, "CONFIRM_SIGN_UP")
	check("confirmSignUp", out.ConfirmStep, "COMPLETE_AUTO_SIGN_IN")
	check("autoSignIn", out.AutoSignIn, "DONE")
	check("user", out.User, "amy")
	check("updateUserAttributes(email)", out.UpdateEmailStep, "CONFIRM_ATTRIBUTE_WITH_CODE")
	check("email while the new one waits", out.PendingAttributes["email"], "amy@example.com")
	check("email_verified while the new one waits", out.PendingAttributes["email_verified"], "true")
	check("nickname set with it", out.PendingAttributes["nickname"], "a")
	check("email", out.Attributes["email"], "amy2@example.com")
	check("email_verified", out.Attributes["email_verified"], "true")
	check("nickname", out.Attributes["nickname"], "")
	if !out.TotpURI {
		t.Error("setUpTOTP gave no otpauth URI")
	}
	check("fetchMFAPreference.preferred", out.MFA.Preferred, "TOTP")
	check("resetPassword", out.ResetStep, "CONFIRM_RESET_PASSWORD_WITH_CODE")
	check("signIn after reset", out.PasswordSignIn, "DONE")
	check("USER_AUTH EMAIL_OTP", out.OtpStep, "CONFIRM_SIGN_IN_WITH_EMAIL_CODE")
	check("USER_AUTH EMAIL_OTP code", out.OtpDone, "DONE")
	check("USER_AUTH select", out.SelectStep, "CONTINUE_SIGN_IN_WITH_FIRST_FACTOR_SELECTION")
	if !slices.Contains(out.Available, "EMAIL_OTP") {
		t.Errorf("availableChallenges %v", out.Available)
	}
	check("USER_AUTH selected", out.SelectedStep, "CONFIRM_SIGN_IN_WITH_EMAIL_CODE")
	check("USER_AUTH selected code", out.SelectedDone, "DONE")
	check("signIn after deleteUser", out.AfterDelete, "UserNotFoundException")
}

// TestAmplifySignUp runs Amplify JS v6's resendSignUpCode and the USER_AUTH
// variant of autoSignIn against the emulator (test/js/amplify-signup.js).
func TestAmplifySignUp(t *testing.T) {
	peers.Node(t, "aws-amplify")
	srv := emulator.NewServer(emulator.Options{Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
		Name: "web", ID: "eu-west-1_SignUp1",
		AllowedFirstAuthFactors: []string{"PASSWORD", "EMAIL_OTP"},
		Clients: []emulator.SeedClient{{Name: "spa", ExplicitAuthFlows: []string{
			"ALLOW_USER_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH",
		}}},
	}}}})
	defer srv.Close()
	in, _ := json.Marshal(map[string]string{"endpoint": srv.URL, "userPoolId": srv.PoolID("web"), "clientId": srv.AppClient("web", "spa").ID})
	raw := peers.RunNode(t, "amplify-signup.js", in)
	type flow struct {
		Flow              string
		Session, Password bool
	}
	var out struct {
		Error                                         map[string]string `json:"error"`
		SignUpStep, SignUpMedium                      string
		Resend                                        map[string]string
		CodesSent                                     int
		NewCode                                       bool
		FirstCodeAfterResend                          string
		ConfirmStep, AutoSignIn, User, AuthFlowType   string
		TokenUser                                     string
		Flows                                         []flow
		PasswordAfter, ResendConfirmed, ResendUnknown string
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	if out.Error != nil {
		t.Fatalf("Amplify failed: %v (so far: %s)", out.Error, raw)
	}
	check := func(what, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %q, want %q", what, got, want)
		}
	}
	check("signUp", out.SignUpStep, "CONFIRM_SIGN_UP")
	check("signUp medium", out.SignUpMedium, "EMAIL")
	check("resendSignUpCode medium", out.Resend["medium"], "EMAIL")
	check("resendSignUpCode attribute", out.Resend["attribute"], "email")
	check("resendSignUpCode destination", out.Resend["destination"], "b***@e***")
	if out.CodesSent != 2 || !out.NewCode {
		t.Errorf("after resendSignUpCode: %d codes sent, a new one: %v", out.CodesSent, out.NewCode)
	}
	check("confirmSignUp with the first code after a resend", out.FirstCodeAfterResend, "CodeMismatchException")
	check("confirmSignUp", out.ConfirmStep, "COMPLETE_AUTO_SIGN_IN")
	check("autoSignIn", out.AutoSignIn, "DONE")
	check("user", out.User, "ben")
	check("signInDetails.authFlowType", out.AuthFlowType, "USER_AUTH")
	check("access token's username", out.TokenUser, "ben")
	// One InitiateAuth: USER_AUTH with ConfirmSignUp's Session, no password.
	if want := []flow{{Flow: "USER_AUTH", Session: true}}; !slices.Equal(out.Flows, want) {
		t.Errorf("autoSignIn sent %+v, want %+v", out.Flows, want)
	}
	check("USER_AUTH PASSWORD afterwards", out.PasswordAfter, "DONE")
	check("resendSignUpCode, confirmed user", out.ResendConfirmed, "InvalidParameterException")
	check("resendSignUpCode, unknown user", out.ResendUnknown, "UserNotFoundException")

	in, _ = json.Marshal(map[string]string{"endpoint": srv.URL, "userPoolId": srv.PoolID("web"), "clientId": srv.AppClient("web", "spa").ID, "case": "passwordless"})
	raw = peers.RunNode(t, "amplify-signup.js", in)
	var pl struct {
		Error                                     map[string]string `json:"error"`
		SignUpStep, ConfirmStep, AutoSignIn, User string
		SelectStep, OtpDone, PasswordSignIn       string
		Available                                 []string
	}
	if err := json.Unmarshal(raw, &pl); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	if pl.Error != nil {
		t.Fatalf("Amplify failed (passwordless): %v (so far: %s)", pl.Error, raw)
	}
	check("passwordless signUp", pl.SignUpStep, "CONFIRM_SIGN_UP")
	check("passwordless confirmSignUp", pl.ConfirmStep, "COMPLETE_AUTO_SIGN_IN")
	check("passwordless autoSignIn", pl.AutoSignIn, "DONE")
	check("passwordless user", pl.User, "cat")
	check("passwordless USER_AUTH", pl.SelectStep, "CONTINUE_SIGN_IN_WITH_FIRST_FACTOR_SELECTION")
	if !slices.Equal(pl.Available, []string{"EMAIL_OTP"}) {
		t.Errorf("passwordless availableChallenges %v, want only EMAIL_OTP", pl.Available)
	}
	check("passwordless EMAIL_OTP", pl.OtpDone, "DONE")
	check("passwordless user's password sign-in", pl.PasswordSignIn, "NotAuthorizedException")
}
