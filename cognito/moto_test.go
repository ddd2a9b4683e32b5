package cognito_test

import (
	"context"
	"errors"
	"testing"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/internal/peers"
	"github.com/cogauth/cogauth/jwt"
)

// motoClient returns a cognito.Client for p's app client.
func motoClient(t *testing.T, p *peers.MotoPool) *cognito.Client {
	t.Helper()
	c, err := cognito.New(cognito.Options{
		UserPoolID: p.PoolID, ClientID: p.ClientID, ClientSecret: jwt.Secret(p.ClientSecret), Endpoint: p.Endpoint,
		// moto answers GetTokensFromRefreshToken with a 500 HTML page, which is a
		// fault, not Cognito saying it lacks the operation.
		RefreshOperation: cognito.RefreshInitiateAuth,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMotoPasswordFlow(t *testing.T) {
	for _, withSecret := range []bool{false, true} {
		name := "no secret"
		if withSecret {
			name = "with secret"
		}
		t.Run(name, func(t *testing.T) {
			p := peers.NewMotoPool(t, peers.MotoPoolOptions{Secret: withSecret, Users: []peers.MotoUser{{Name: "alice", Password: "Passw0rd!x"}}})
			c := motoClient(t, p)
			ctx := context.Background()

			if _, err := c.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: "wrong", Flow: cognito.FlowPassword}); !errors.Is(err, cognito.ErrNotAuthorized) {
				t.Fatalf("wrong password: err = %v, want NotAuthorized", err)
			}
			if _, err := c.SignIn(ctx, cognito.SignInInput{Username: "nobody", Password: "x", Flow: cognito.FlowPassword}); !errors.Is(err, cognito.ErrUserNotFound) {
				t.Fatalf("unknown user: err = %v, want UserNotFound", err)
			}
			res, err := c.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: "Passw0rd!x", Flow: cognito.FlowPassword})
			if err != nil {
				t.Fatal(err)
			}
			if res.Tokens == nil || res.Tokens.AccessToken == "" || res.Tokens.RefreshToken == "" {
				t.Fatalf("sign-in result = %+v", res)
			}
			if res.ServerTime.IsZero() {
				t.Error("no server time captured from the Date header")
			}
			at, err := jwt.Decode(res.Tokens.AccessToken.Reveal())
			if err != nil {
				t.Fatal(err)
			}
			u, err := c.GetUser(ctx, res.Tokens.AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			if u.Username != "alice" || u.Attributes["email"] != "alice@example.com" {
				t.Fatalf("GetUser = %+v", u)
			}
			ref, err := c.Refresh(ctx, cognito.RefreshInput{RefreshToken: res.Tokens.RefreshToken, Username: at.Claims().Username})
			if err != nil {
				t.Fatalf("refresh: %v", err)
			}
			if ref.Tokens == nil || ref.Tokens.AccessToken == "" {
				t.Fatalf("refresh result = %+v", ref)
			}
			if err := c.GlobalSignOut(ctx, ref.Tokens.AccessToken); err != nil {
				t.Fatal(err)
			}
			_, err = c.Refresh(ctx, cognito.RefreshInput{RefreshToken: res.Tokens.RefreshToken, Username: at.Claims().Username})
			if !errors.Is(err, cognito.ErrNotAuthorized) {
				t.Fatalf("refresh after global sign-out: err = %v, want NotAuthorized", err)
			}
		})
	}
}

func TestMotoNewPasswordRequired(t *testing.T) {
	p := peers.NewMotoPool(t, peers.MotoPoolOptions{Users: []peers.MotoUser{{Name: "bob", Password: "Temp0rary!x", Temporary: true}}})
	c := motoClient(t, p)
	ctx := context.Background()
	res, err := c.SignIn(ctx, cognito.SignInInput{Username: "bob", Password: "Temp0rary!x", Flow: cognito.FlowPassword})
	if err != nil {
		t.Fatal(err)
	}
	if res.Challenge == nil || res.Challenge.Name != cognito.ChallengeNewPasswordRequired {
		t.Fatalf("result = %+v, want NEW_PASSWORD_REQUIRED", res)
	}
	if _, err := c.Respond(ctx, res.Challenge, cognito.Answer{}); err == nil {
		t.Fatal("answer without a new password accepted")
	}
	done, err := c.Respond(ctx, res.Challenge, cognito.Answer{NewPassword: "N3wPassw0rd!"})
	if err != nil {
		t.Fatal(err)
	}
	if done.Tokens == nil {
		t.Fatalf("after new password: %+v", done)
	}
	if _, err := c.SignIn(ctx, cognito.SignInInput{Username: "bob", Password: "N3wPassw0rd!", Flow: cognito.FlowPassword}); err != nil {
		t.Fatalf("sign-in with the new password: %v", err)
	}
}

// TestMotoAccount runs the account calls moto answers against its server. Its
// quirks: ConfirmSignUp takes any code, VerifySoftwareToken any TOTP code, and
// DeleteUserAttributes and DeleteUser fail with a 500 page,
// so only the calls' shapes and errors are checked here (codes are the
// emulator's tests).
func TestMotoAccount(t *testing.T) {
	p := peers.NewMotoPool(t, peers.MotoPoolOptions{Secret: true})
	c := motoClient(t, p)
	ctx := context.Background()
	const pw1, pw2 = "Passw0rd!x", "Passw0rd!y"
	res, err := c.SignUp(ctx, cognito.SignUpInput{Username: "dora", Password: pw1, Attributes: map[string]string{"email": "dora@example.com", "given_name": "Dora"}})
	if err != nil || res.UserSub == "" || res.Confirmed {
		t.Fatalf("SignUp = %+v, %v", res, err)
	}
	if _, err := c.SignUp(ctx, cognito.SignUpInput{Username: "dora", Password: pw1}); !errors.Is(err, cognito.ErrUsernameExists) {
		t.Fatalf("second SignUp: %v", err)
	}
	if _, err := c.ConfirmSignUp(ctx, cognito.ConfirmSignUpInput{Username: "dora", Code: "123456"}); err != nil {
		t.Fatal(err)
	}
	in, err := c.SignIn(ctx, cognito.SignInInput{Username: "dora", Password: pw1, Flow: cognito.FlowPassword})
	if err != nil || in.Tokens == nil {
		t.Fatalf("sign-in: %+v, %v", in, err)
	}
	at := in.Tokens.AccessToken
	if err := c.ChangePassword(ctx, at, "wrong-Passw0rd!", pw2); !errors.Is(err, cognito.ErrNotAuthorized) {
		t.Fatalf("ChangePassword with a wrong old password: %v", err)
	}
	if err := c.ChangePassword(ctx, at, pw1, pw2); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateUserAttributes(ctx, at, map[string]string{"family_name": "Explorer"}, nil); err != nil {
		t.Fatal(err)
	}
	// moto lacks DeleteUserAttributes (a 500 page), and so the emulator's test
	// alone covers it.
	u, err := c.GetUser(ctx, at)
	if err != nil || u.Attributes["family_name"] != "Explorer" || u.Attributes["given_name"] != "Dora" || u.Sub() != res.UserSub {
		t.Fatalf("GetUser = %+v, %v", u, err)
	}
	if _, err := c.SetUpTOTP(ctx, at); err != nil {
		t.Fatal(err)
	}
	if err := c.VerifyTOTPSetup(ctx, at, "123456", ""); err != nil {
		t.Fatal(err)
	}
	if err := c.SetMFAPreference(ctx, at, cognito.MFAPreference{TOTP: cognito.MFAPreferred}); err != nil {
		t.Fatal(err)
	}
	if u, err = c.GetUser(ctx, at); err != nil || u.PreferredMFA != cognito.ChallengeSoftwareTokenMFA {
		t.Fatalf("GetUser after SetMFAPreference = %+v, %v", u, err)
	}
	// DeleteUser: moto answers it with a 500 page; the emulator's test covers it.
}
