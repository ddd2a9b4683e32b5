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
