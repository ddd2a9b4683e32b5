package cognito_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/secret"
)

func lastCode(t *testing.T, srv *emulator.Server, pool, user, kind string) string {
	t.Helper()
	msgs := srv.Messages(srv.PoolID(pool), user)
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Kind == kind {
			return msgs[i].Code
		}
	}
	t.Fatalf("no %s message to %s", kind, user)
	return ""
}

func signIn(t *testing.T, c *cognito.Client, user, password string) *cognito.Tokens {
	t.Helper()
	res, err := c.SignIn(context.Background(), cognito.SignInInput{Username: user, Password: secret.String(password)})
	if err != nil {
		t.Fatalf("sign-in %s: %v", user, err)
	}
	if res.Tokens == nil {
		t.Fatalf("sign-in %s: challenge %v", user, res.Challenge)
	}
	return res.Tokens
}

func TestAccountSignUpConfirm(t *testing.T) {
	srv := emu(t, nil)
	ctx := context.Background()
	for _, client := range []string{"web", "srv"} { // srv has a secret: SECRET_HASH
		t.Run(client, func(t *testing.T) {
			c := emuClient(t, srv, "app", client)
			user := "dora-" + client
			res, err := c.SignUp(ctx, cognito.SignUpInput{
				Username: user, Password: pw,
				Attributes:     map[string]string{"email": user + "@example.com", "given_name": "Dora"},
				ValidationData: map[string]string{"invite": "x"},
				ClientMetadata: map[string]string{"source": "test"},
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Confirmed || res.UserSub == "" || res.Delivery == nil || res.Delivery.Medium != "EMAIL" || res.Delivery.AttributeName != "email" {
				t.Fatalf("SignUp = %+v (delivery %+v)", res, res.Delivery)
			}
			if _, err := c.SignUp(ctx, cognito.SignUpInput{Username: user, Password: pw}); !errors.Is(err, cognito.ErrUsernameExists) {
				t.Fatalf("second SignUp: %v, want ErrUsernameExists", err)
			}
			if _, err := c.SignIn(ctx, cognito.SignInInput{Username: user, Password: pw}); !errors.Is(err, cognito.ErrUserNotConfirmed) {
				t.Fatalf("sign-in before confirming: %v", err)
			}
			code := lastCode(t, srv, "app", user, "SIGN_UP")
			if _, err := c.ConfirmSignUp(ctx, cognito.ConfirmSignUpInput{Username: user, Code: jwt.Secret(wrong(code))}); !errors.Is(err, cognito.ErrCodeMismatch) {
				t.Fatalf("wrong code: %v", err)
			}
			if _, err := c.ConfirmSignUp(ctx, cognito.ConfirmSignUpInput{Username: user, Code: jwt.Secret(code)}); err != nil {
				t.Fatal(err)
			}
			// A reused code: the user is confirmed already.
			if _, err := c.ConfirmSignUp(ctx, cognito.ConfirmSignUpInput{Username: user, Code: jwt.Secret(code)}); !errors.Is(err, cognito.ErrNotAuthorized) {
				t.Fatalf("reused code: %v", err)
			}
			tok := signIn(t, c, user, pw)
			u, err := c.GetUser(ctx, tok.AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			if u.Sub() != res.UserSub || u.Email() != user+"@example.com" || !u.EmailVerified() || u.Attributes["given_name"] != "Dora" {
				t.Fatalf("GetUser = %+v", u)
			}
		})
	}
	c := emuClient(t, srv, "app", "web")
	if _, err := c.SignUp(ctx, cognito.SignUpInput{Username: "weak", Password: "short"}); !errors.Is(err, cognito.ErrInvalidPassword) {
		t.Fatalf("weak password: %v", err)
	}
}

// wrong returns a code of the same shape that is not code.
func wrong(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

func TestAccountCodeAttemptsAndExpiry(t *testing.T) {
	srv := emu(t, nil)
	ctx := context.Background()
	c := emuClient(t, srv, "app", "web")
	if _, err := c.SignUp(ctx, cognito.SignUpInput{Username: "eve", Password: pw, Attributes: map[string]string{"email": "eve@example.com"}}); err != nil {
		t.Fatal(err)
	}
	code := lastCode(t, srv, "app", "eve", "SIGN_UP")
	for i := range 5 {
		if _, err := c.ConfirmSignUp(ctx, cognito.ConfirmSignUpInput{Username: "eve", Code: jwt.Secret(wrong(code))}); !errors.Is(err, cognito.ErrCodeMismatch) {
			t.Fatalf("try %d: %v", i, err)
		}
	}
	// Too many tries: even the right code is refused, and the user stays unconfirmed.
	if _, err := c.ConfirmSignUp(ctx, cognito.ConfirmSignUpInput{Username: "eve", Code: jwt.Secret(code)}); !errors.Is(err, cognito.ErrLimitExceeded) {
		t.Fatalf("after 5 wrong codes: %v, want ErrLimitExceeded", err)
	}
	d, err := c.ResendConfirmationCode(ctx, "eve", nil)
	if err != nil || d == nil || d.Destination == "" || d.Destination == "eve@example.com" {
		t.Fatalf("ResendConfirmationCode = %+v, %v (want a masked destination)", d, err)
	}
	code = lastCode(t, srv, "app", "eve", "SIGN_UP")
	srv.Advance(25 * time.Hour)
	if _, err := c.ConfirmSignUp(ctx, cognito.ConfirmSignUpInput{Username: "eve", Code: jwt.Secret(code)}); !errors.Is(err, cognito.ErrExpiredCode) {
		t.Fatalf("expired code: %v", err)
	}
	if _, err := c.ResendConfirmationCode(ctx, "eve", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ConfirmSignUp(ctx, cognito.ConfirmSignUpInput{Username: "eve", Code: jwt.Secret(lastCode(t, srv, "app", "eve", "SIGN_UP"))}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ResendConfirmationCode(ctx, "eve", nil); !errors.Is(err, cognito.ErrInvalidParameter) {
		t.Fatalf("resend to a confirmed user: %v", err)
	}
}

func TestAccountPasswords(t *testing.T) {
	srv := emu(t, func(s *emulator.Seed) {
		s.UserPools[0].Users[0].Attributes["email_verified"] = "true"
	})
	ctx := context.Background()
	c := emuClient(t, srv, "app", "srv")
	d, err := c.ForgotPassword(ctx, "alice", nil)
	if err != nil || d == nil || d.Medium != "EMAIL" {
		t.Fatalf("ForgotPassword = %+v, %v", d, err)
	}
	code := lastCode(t, srv, "app", "alice", "FORGOT_PASSWORD")
	const pw2, pw3 = "N3w-Passw0rd!", "Th1rd-Passw0rd!"
	if err := c.ConfirmForgotPassword(ctx, cognito.ConfirmForgotPasswordInput{Username: "alice", Code: jwt.Secret(wrong(code)), NewPassword: pw2}); !errors.Is(err, cognito.ErrCodeMismatch) {
		t.Fatalf("wrong reset code: %v", err)
	}
	if err := c.ConfirmForgotPassword(ctx, cognito.ConfirmForgotPasswordInput{Username: "alice", Code: jwt.Secret(code), NewPassword: "weak"}); !errors.Is(err, cognito.ErrInvalidPassword) {
		t.Fatalf("weak new password: %v", err)
	}
	if err := c.ConfirmForgotPassword(ctx, cognito.ConfirmForgotPasswordInput{Username: "alice", Code: jwt.Secret(code), NewPassword: pw2}); err != nil {
		t.Fatal(err)
	}
	if err := c.ConfirmForgotPassword(ctx, cognito.ConfirmForgotPasswordInput{Username: "alice", Code: jwt.Secret(code), NewPassword: pw3}); !errors.Is(err, cognito.ErrCodeMismatch) {
		t.Fatalf("reused reset code: %v", err)
	}
	if _, err := c.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: pw}); !errors.Is(err, cognito.ErrNotAuthorized) {
		t.Fatalf("old password still works: %v", err)
	}
	tok := signIn(t, c, "alice", pw2)
	if err := c.ChangePassword(ctx, tok.AccessToken, "not-it", pw3); !errors.Is(err, cognito.ErrNotAuthorized) {
		t.Fatalf("ChangePassword with a wrong old password: %v", err)
	}
	if err := c.ChangePassword(ctx, tok.AccessToken, pw2, pw3); err != nil {
		t.Fatal(err)
	}
	signIn(t, c, "alice", pw3)
}

func TestAccountAttributes(t *testing.T) {
	srv := emu(t, nil)
	ctx := context.Background()
	c := emuClient(t, srv, "app", "web")
	tok := signIn(t, c, "alice", pw)
	ds, err := c.UpdateUserAttributes(ctx, tok.AccessToken, map[string]string{"email": "alice2@example.com", "given_name": "Alice"}, nil)
	if err != nil || len(ds) != 1 || ds[0].AttributeName != "email" {
		t.Fatalf("UpdateUserAttributes = %+v, %v", ds, err)
	}
	u, err := c.GetUser(ctx, tok.AccessToken)
	if err != nil || u.Email() != "alice2@example.com" || u.EmailVerified() {
		t.Fatalf("after the change: %+v, %v", u, err)
	}
	code := lastCode(t, srv, "app", "alice", "VERIFY_ATTRIBUTE")
	if err := c.VerifyUserAttribute(ctx, tok.AccessToken, "email", secret.String(wrong(code))); !errors.Is(err, cognito.ErrCodeMismatch) {
		t.Fatalf("wrong code: %v", err)
	}
	// A new code replaces the first one.
	if _, err := c.GetUserAttributeVerificationCode(ctx, tok.AccessToken, "email", nil); err != nil {
		t.Fatal(err)
	}
	code2 := lastCode(t, srv, "app", "alice", "VERIFY_ATTRIBUTE")
	if code2 != code {
		if err := c.VerifyUserAttribute(ctx, tok.AccessToken, "email", secret.String(code)); !errors.Is(err, cognito.ErrCodeMismatch) {
			t.Fatalf("replaced code: %v", err)
		}
	}
	if err := c.VerifyUserAttribute(ctx, tok.AccessToken, "email", secret.String(code2)); err != nil {
		t.Fatal(err)
	}
	if err := c.VerifyUserAttribute(ctx, tok.AccessToken, "email", secret.String(code2)); !errors.Is(err, cognito.ErrCodeMismatch) {
		t.Fatalf("reused code: %v", err)
	}
	if u, _ = c.GetUser(ctx, tok.AccessToken); !u.EmailVerified() {
		t.Fatalf("email not verified: %+v", u)
	}
	if _, err := c.GetUserAttributeVerificationCode(ctx, tok.AccessToken, "given_name", nil); !errors.Is(err, cognito.ErrInvalidParameter) {
		t.Fatalf("code for given_name: %v", err)
	}
	if _, err := c.GetUserAttributeVerificationCode(ctx, tok.AccessToken, "phone_number", nil); !errors.Is(err, cognito.ErrInvalidParameter) {
		t.Fatalf("code for a missing phone number: %v", err)
	}
	if err := c.DeleteUserAttributes(ctx, tok.AccessToken, []string{"sub"}); !errors.Is(err, cognito.ErrInvalidParameter) {
		t.Fatalf("deleting sub: %v", err)
	}
	if err := c.DeleteUserAttributes(ctx, tok.AccessToken, []string{"given_name", "email"}); err != nil {
		t.Fatal(err)
	}
	u, _ = c.GetUser(ctx, tok.AccessToken)
	for _, n := range []string{"given_name", "email", "email_verified"} {
		if _, ok := u.Attributes[n]; ok {
			t.Errorf("%s still set: %+v", n, u.Attributes)
		}
	}
	if err := c.DeleteUser(ctx, tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetUser(ctx, tok.AccessToken); err == nil {
		t.Fatal("GetUser works after DeleteUser")
	}
	if _, err := c.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: pw}); !errors.Is(err, cognito.ErrUserNotFound) {
		t.Fatalf("sign-in after DeleteUser: %v", err)
	}
}

func TestAccountTOTPAndMFAPreference(t *testing.T) {
	srv := emu(t, func(s *emulator.Seed) { s.UserPools[0].MFA = "OPTIONAL" })
	ctx := context.Background()
	c := emuClient(t, srv, "app", "web")
	tok := signIn(t, c, "alice", pw)
	totpKey, err := c.SetUpTOTP(ctx, tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.VerifyTOTPSetup(ctx, tok.AccessToken, "000000", "phone"); !errors.Is(err, cognito.ErrEnableSoftwareTokenMFA) {
		t.Fatalf("wrong TOTP code: %v", err)
	}
	code, err := emulator.TOTP(totpKey.Reveal(), srv.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.VerifyTOTPSetup(ctx, tok.AccessToken, secret.String(code), "phone"); err != nil {
		t.Fatal(err)
	}
	if err := c.SetMFAPreference(ctx, tok.AccessToken, cognito.MFAPreference{TOTP: cognito.MFAPreferred, Email: cognito.MFAEnabled}); err != nil {
		t.Fatal(err)
	}
	u, err := c.GetUser(ctx, tok.AccessToken)
	if err != nil || u.PreferredMFA != cognito.ChallengeSoftwareTokenMFA || !u.MFAEnabled(cognito.ChallengeSoftwareTokenMFA) {
		t.Fatalf("GetUser = %+v, %v", u, err)
	}
	// The next sign-in asks for the code.
	res, err := c.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: pw})
	if err != nil || res.Challenge == nil || res.Challenge.Name != cognito.ChallengeSoftwareTokenMFA {
		t.Fatalf("sign-in with TOTP preferred: %+v, %v", res, err)
	}
	if err := c.SetMFAPreference(ctx, tok.AccessToken, cognito.MFAPreference{TOTP: cognito.MFADisabled, Email: cognito.MFADisabled}); err != nil {
		t.Fatal(err)
	}
	if u, _ = c.GetUser(ctx, tok.AccessToken); u.PreferredMFA != "" || len(u.MFAs) != 0 {
		t.Fatalf("after disabling: %+v", u)
	}
	if err := c.SetMFAPreference(ctx, tok.AccessToken, cognito.MFAPreference{}); err == nil {
		t.Fatal("an empty preference was sent")
	}
	if _, err := cognito.ParseMFAChoice("sometimes"); err == nil {
		t.Fatal("ParseMFAChoice accepted nonsense")
	}
}
