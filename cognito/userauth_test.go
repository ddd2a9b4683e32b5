package cognito_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/secret"
)

var userAuthFlows = []string{"ALLOW_USER_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}

// userAuthEmu adds to emu's seed a pool "pl" that allows passwords and one-time
// codes by e-mail and SMS, with clients "web" (USER_AUTH), "srv" (USER_AUTH, a
// secret) and "old" (no USER_AUTH), and user pat (password, verified e-mail and
// phone); pool "app" gets a USER_AUTH client "ua" (passwords only).
func userAuthEmu(t *testing.T) *emulator.Server {
	return emu(t, func(s *emulator.Seed) {
		s.UserPools[0].Clients = append(s.UserPools[0].Clients, emulator.SeedClient{Name: "ua", ExplicitAuthFlows: userAuthFlows})
		s.UserPools = append(s.UserPools, emulator.SeedUserPool{
			Name:                    "pl",
			AllowedFirstAuthFactors: []string{"PASSWORD", "EMAIL_OTP", "SMS_OTP"},
			Clients: []emulator.SeedClient{
				{Name: "web", ExplicitAuthFlows: userAuthFlows},
				{Name: "srv", GenerateSecret: true, ExplicitAuthFlows: userAuthFlows},
				{Name: "old"},
			},
			Users: []emulator.SeedUser{{Username: "pat", Password: pw, Attributes: map[string]string{
				"email": "pat@example.com", "phone_number": "+15555550123", "phone_number_verified": "true",
			}}},
		})
	})
}

func otpOf(t *testing.T, srv *emulator.Server, pool, user, kind string) string {
	t.Helper()
	return lastCode(t, srv, pool, user, kind)
}

func TestUserAuthPreferredChallenge(t *testing.T) {
	srv := userAuthEmu(t)
	ctx := context.Background()
	for _, client := range []string{"web", "srv"} {
		c := emuClient(t, srv, "pl", client)
		t.Run(client+"/EMAIL_OTP", func(t *testing.T) {
			res, err := c.SignIn(ctx, cognito.SignInInput{Username: "pat", Flow: cognito.FlowUserAuth, PreferredChallenge: cognito.FactorEmailOTP})
			if err != nil || res.Challenge == nil || res.Challenge.Name != cognito.ChallengeEmailOTP {
				t.Fatalf("SignIn = %+v, %v", res, err)
			}
			if d := res.Challenge.Parameters["CODE_DELIVERY_DESTINATION"]; d == "" || strings.Contains(d, "pat@") {
				t.Fatalf("destination %q is not masked", d)
			}
			code := otpOf(t, srv, "pl", "pat", "EMAIL_OTP")
			if _, err := c.Respond(ctx, res.Challenge, cognito.Answer{Code: secret.String(wrong(code))}); !errors.Is(err, cognito.ErrCodeMismatch) {
				t.Fatalf("wrong code: %v", err)
			}
			done, err := c.Respond(ctx, res.Challenge, cognito.Answer{Code: secret.String(code)})
			if err != nil || done.Tokens == nil {
				t.Fatalf("right code: %+v, %v", done, err)
			}
			if _, err := c.Respond(ctx, res.Challenge, cognito.Answer{Code: secret.String(code)}); !errors.Is(err, cognito.ErrNotAuthorized) {
				t.Fatalf("reused session: %v", err)
			}
		})
		t.Run(client+"/SMS_OTP", func(t *testing.T) {
			res, err := c.SignIn(ctx, cognito.SignInInput{Username: "pat", Flow: cognito.FlowUserAuth, PreferredChallenge: cognito.FactorSMSOTP})
			if err != nil || res.Challenge == nil || res.Challenge.Name != cognito.ChallengeSMSOTP {
				t.Fatalf("SignIn = %+v, %v", res, err)
			}
			done, err := c.Respond(ctx, res.Challenge, cognito.Answer{Code: secret.String(otpOf(t, srv, "pl", "pat", "SMS_MFA"))})
			if err != nil || done.Tokens == nil {
				t.Fatalf("code: %+v, %v", done, err)
			}
		})
		for _, f := range []string{cognito.FactorPassword, cognito.FactorPasswordSRP} {
			t.Run(client+"/"+f, func(t *testing.T) {
				if _, err := c.SignIn(ctx, cognito.SignInInput{Username: "pat", Password: "Wr0ng-Password!", Flow: cognito.FlowUserAuth, PreferredChallenge: f}); !errors.Is(err, cognito.ErrNotAuthorized) {
					t.Fatalf("wrong password: %v", err)
				}
				res, err := c.SignIn(ctx, cognito.SignInInput{Username: "pat", Password: pw, Flow: cognito.FlowUserAuth, PreferredChallenge: f})
				if err != nil || res.Tokens == nil {
					t.Fatalf("SignIn = %+v, %v", res, err)
				}
			})
		}
	}
}

func TestUserAuthSelectChallenge(t *testing.T) {
	srv := userAuthEmu(t)
	ctx := context.Background()
	c := emuClient(t, srv, "pl", "srv")
	start := func(t *testing.T) *cognito.Challenge {
		t.Helper()
		res, err := c.SignIn(ctx, cognito.SignInInput{Username: "pat", Flow: cognito.FlowUserAuth})
		if err != nil || res.Challenge == nil || res.Challenge.Name != cognito.ChallengeSelectChallenge {
			t.Fatalf("SignIn = %+v, %v", res, err)
		}
		want := []string{"PASSWORD", "PASSWORD_SRP", "EMAIL_OTP", "SMS_OTP"}
		if !slices.Equal(res.Challenge.Available, want) {
			t.Fatalf("Available = %v, want %v", res.Challenge.Available, want)
		}
		return res.Challenge
	}
	t.Run("EMAIL_OTP", func(t *testing.T) {
		next, err := c.Respond(ctx, start(t), cognito.Answer{FirstFactor: cognito.FactorEmailOTP})
		if err != nil || next.Challenge == nil || next.Challenge.Name != cognito.ChallengeEmailOTP {
			t.Fatalf("select: %+v, %v", next, err)
		}
		done, err := c.Respond(ctx, next.Challenge, cognito.Answer{Code: secret.String(otpOf(t, srv, "pl", "pat", "EMAIL_OTP"))})
		if err != nil || done.Tokens == nil {
			t.Fatalf("code: %+v, %v", done, err)
		}
	})
	t.Run("PASSWORD_SRP", func(t *testing.T) {
		done, err := c.Respond(ctx, start(t), cognito.Answer{FirstFactor: cognito.FactorPasswordSRP, Password: pw})
		if err != nil || done.Tokens == nil {
			t.Fatalf("select: %+v, %v", done, err)
		}
	})
	t.Run("PASSWORD", func(t *testing.T) {
		done, err := c.Respond(ctx, start(t), cognito.Answer{FirstFactor: cognito.FactorPassword, Password: pw})
		if err != nil || done.Tokens == nil {
			t.Fatalf("select: %+v, %v", done, err)
		}
	})
	t.Run("too many wrong codes", func(t *testing.T) {
		next, err := c.Respond(ctx, start(t), cognito.Answer{FirstFactor: cognito.FactorEmailOTP})
		if err != nil {
			t.Fatal(err)
		}
		code := otpOf(t, srv, "pl", "pat", "EMAIL_OTP")
		for range 3 {
			if _, err := c.Respond(ctx, next.Challenge, cognito.Answer{Code: secret.String(wrong(code))}); !errors.Is(err, cognito.ErrCodeMismatch) {
				t.Fatalf("wrong code: %v", err)
			}
		}
		if _, err := c.Respond(ctx, next.Challenge, cognito.Answer{Code: secret.String(code)}); !errors.Is(err, cognito.ErrNotAuthorized) {
			t.Fatalf("the right code after three wrong ones: %v, want the session ended", err)
		}
	})
}

func TestUserAuthPolicy(t *testing.T) {
	srv := userAuthEmu(t)
	ctx := context.Background()
	// Pool "app" allows passwords only: a preferred e-mail code is not available.
	c := emuClient(t, srv, "app", "ua")
	res, err := c.SignIn(ctx, cognito.SignInInput{Username: "alice", Flow: cognito.FlowUserAuth, PreferredChallenge: cognito.FactorEmailOTP})
	if err != nil || res.Challenge == nil || res.Challenge.Name != cognito.ChallengeSelectChallenge || !slices.Equal(res.Challenge.Available, []string{"PASSWORD", "PASSWORD_SRP"}) {
		t.Fatalf("SignIn = %+v, %v", res, err)
	}
	if _, err := c.Respond(ctx, res.Challenge, cognito.Answer{FirstFactor: cognito.FactorEmailOTP}); !errors.Is(err, cognito.ErrInvalidParameter) {
		t.Fatalf("choosing a factor not offered: %v", err)
	}
	if len(srv.Messages(srv.PoolID("app"), "alice")) != 0 {
		t.Fatal("a code went out for a factor the pool does not allow")
	}
	// A client without ALLOW_USER_AUTH.
	old := emuClient(t, srv, "pl", "old")
	if _, err := old.SignIn(ctx, cognito.SignInInput{Username: "pat", Flow: cognito.FlowUserAuth}); !errors.Is(err, cognito.ErrInvalidParameter) {
		t.Fatalf("client without USER_AUTH: %v", err)
	}
	if _, err := c.SignIn(ctx, cognito.SignInInput{Username: "nobody", Flow: cognito.FlowUserAuth}); !errors.Is(err, cognito.ErrUserNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
}

func TestUserAuthAutoSignIn(t *testing.T) {
	srv := userAuthEmu(t)
	ctx := context.Background()
	c := emuClient(t, srv, "pl", "srv")
	su, err := c.SignUp(ctx, cognito.SignUpInput{Username: "quinn", Password: pw, Attributes: map[string]string{"email": "quinn@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if su.Session == "" {
		t.Fatal("SignUp gave no Session")
	}
	conf, err := c.ConfirmSignUp(ctx, cognito.ConfirmSignUpInput{Username: "quinn", Code: jwt.Secret(lastCode(t, srv, "pl", "quinn", "SIGN_UP")), Session: su.Session})
	if err != nil || conf.Session == "" {
		t.Fatalf("ConfirmSignUp = %+v, %v", conf, err)
	}
	// Another user cannot use quinn's session.
	if _, err := c.SignIn(ctx, cognito.SignInInput{Username: "pat", Flow: cognito.FlowUserAuth, Session: conf.Session}); !errors.Is(err, cognito.ErrNotAuthorized) {
		t.Fatalf("pat with quinn's session: %v", err)
	}
	// That try used it up (sessions are single-use): confirm a second user.
	if _, err := c.SignUp(ctx, cognito.SignUpInput{Username: "ruth", Password: pw, Attributes: map[string]string{"email": "ruth@example.com"}}); err != nil {
		t.Fatal(err)
	}
	conf, err = c.ConfirmSignUp(ctx, cognito.ConfirmSignUpInput{Username: "ruth", Code: jwt.Secret(lastCode(t, srv, "pl", "ruth", "SIGN_UP"))})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.SignIn(ctx, cognito.SignInInput{Username: "ruth", Flow: cognito.FlowUserAuth, Session: conf.Session})
	if err != nil || res.Tokens == nil {
		t.Fatalf("auto sign-in: %+v, %v", res, err)
	}
	if _, err := c.SignIn(ctx, cognito.SignInInput{Username: "ruth", Flow: cognito.FlowUserAuth, Session: conf.Session}); !errors.Is(err, cognito.ErrNotAuthorized) {
		t.Fatalf("reused auto sign-in session: %v", err)
	}
	// SignUp's session names its user: ConfirmSignUp of another user refuses it.
	su, err = c.SignUp(ctx, cognito.SignUpInput{Username: "sam", Password: pw, Attributes: map[string]string{"email": "sam@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SignUp(ctx, cognito.SignUpInput{Username: "tess", Password: pw, Attributes: map[string]string{"email": "tess@example.com"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ConfirmSignUp(ctx, cognito.ConfirmSignUpInput{Username: "tess", Code: jwt.Secret(lastCode(t, srv, "pl", "tess", "SIGN_UP")), Session: su.Session}); !errors.Is(err, cognito.ErrNotAuthorized) {
		t.Fatalf("tess confirmed with sam's session: %v", err)
	}
}

func TestGetUserAuthFactors(t *testing.T) {
	srv := userAuthEmu(t)
	ctx := context.Background()
	c := emuClient(t, srv, "pl", "web")
	res, err := c.SignIn(ctx, cognito.SignInInput{Username: "pat", Password: pw, Flow: cognito.FlowUserAuth, PreferredChallenge: cognito.FactorPassword})
	if err != nil || res.Tokens == nil {
		t.Fatalf("SignIn = %+v, %v", res, err)
	}
	f, err := c.GetUserAuthFactors(ctx, res.Tokens.AccessToken)
	if err != nil || f.Username != "pat" || !slices.Equal(f.Configured, []string{"PASSWORD", "EMAIL_OTP", "SMS_OTP"}) {
		t.Fatalf("GetUserAuthFactors = %+v, %v", f, err)
	}
	// Without a verified phone number, SMS_OTP is no factor of the user's.
	if err := c.DeleteUserAttributes(ctx, res.Tokens.AccessToken, []string{"phone_number"}); err != nil {
		t.Fatal(err)
	}
	if f, _ = c.GetUserAuthFactors(ctx, res.Tokens.AccessToken); !slices.Equal(f.Configured, []string{"PASSWORD", "EMAIL_OTP"}) {
		t.Fatalf("after deleting the phone number: %+v", f)
	}
}

// TestUserAuthPasswordlessSignUp signs a user up without a password, confirms
// them, and signs them in with an e-mail code; a password sign-in of theirs is
// refused, and a pool without a one-time-code factor refuses the sign-up.
func TestUserAuthPasswordlessSignUp(t *testing.T) {
	srv := userAuthEmu(t)
	ctx := context.Background()
	c := emuClient(t, srv, "pl", "web")
	if _, err := c.SignUp(ctx, cognito.SignUpInput{Username: "vic", Attributes: map[string]string{"email": "vic@example.com"}}); err == nil || !strings.Contains(err.Error(), "Passwordless") {
		t.Fatalf("an empty password without Passwordless: %v", err)
	}
	if _, err := c.SignUp(ctx, cognito.SignUpInput{Username: "vic", Password: pw, Passwordless: true}); err == nil {
		t.Fatal("a password and Passwordless both were taken")
	}
	su, err := c.SignUp(ctx, cognito.SignUpInput{Username: "vic", Passwordless: true, Attributes: map[string]string{"email": "vic@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ConfirmSignUp(ctx, cognito.ConfirmSignUpInput{Username: "vic", Code: jwt.Secret(lastCode(t, srv, "pl", "vic", "SIGN_UP")), Session: su.Session}); err != nil {
		t.Fatal(err)
	}
	// A password is no factor of vic's: preferring it leaves a choice without it.
	res, err := c.SignIn(ctx, cognito.SignInInput{Username: "vic", Password: pw, Flow: cognito.FlowUserAuth, PreferredChallenge: cognito.FactorPassword})
	if err != nil || res.Tokens != nil || res.Challenge == nil || res.Challenge.Name != cognito.ChallengeSelectChallenge ||
		slices.Contains(res.Challenge.Available, cognito.FactorPassword) || !slices.Contains(res.Challenge.Available, cognito.FactorEmailOTP) {
		t.Fatalf("a passwordless user preferring a password: %+v, %v", res, err)
	}
	res, err = c.SignIn(ctx, cognito.SignInInput{Username: "vic", Flow: cognito.FlowUserAuth, PreferredChallenge: cognito.FactorEmailOTP})
	if err != nil || res.Challenge == nil {
		t.Fatalf("EMAIL_OTP sign-in: %+v, %v", res, err)
	}
	res, err = c.Respond(ctx, res.Challenge, cognito.Answer{Code: secret.String(otpOf(t, srv, "pl", "vic", "EMAIL_OTP"))})
	if err != nil || res.Tokens == nil {
		t.Fatalf("the e-mail code: %+v, %v", res, err)
	}
	// Pool "app" allows passwords only: Cognito wants a password there.
	if _, err := emuClient(t, srv, "app", "ua").SignUp(ctx, cognito.SignUpInput{Username: "wes", Passwordless: true, Attributes: map[string]string{"email": "wes@example.com"}}); !errors.Is(err, cognito.ErrInvalidPassword) {
		t.Fatalf("passwordless sign-up on a password-only pool: %v", err)
	}
}
