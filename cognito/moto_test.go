package cognito_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/internal/peers"
	"github.com/cogauth/cogauth/jwt"
)

// motoPool is a user pool made in a fresh moto server through the admin API.
type motoPool struct {
	endpoint, poolID, clientID string
	secret                     string
	admin                      *cip.Client
}

// newMotoPool starts moto and creates a pool with one app client (with a secret when
// withSecret) allowing the password flow. moto routes unsigned calls to us-east-1.
func newMotoPool(t *testing.T, withSecret bool) *motoPool {
	t.Helper()
	endpoint := peers.Moto(t)
	ctx := context.Background()
	admin := cip.New(cip.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
	pool, err := admin.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("cogauth")})
	if err != nil {
		t.Fatal(err)
	}
	client, err := admin.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId:        pool.UserPool.Id,
		ClientName:        aws.String("app"),
		GenerateSecret:    withSecret,
		ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserPasswordAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &motoPool{
		endpoint: endpoint, poolID: *pool.UserPool.Id, clientID: *client.UserPoolClient.ClientId,
		secret: aws.ToString(client.UserPoolClient.ClientSecret), admin: admin,
	}
}

// addUser creates a confirmed user, or one that must change its password when
// temporary.
func (p *motoPool) addUser(t *testing.T, name, password string, temporary bool) {
	t.Helper()
	ctx := context.Background()
	_, err := p.admin.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
		UserPoolId: aws.String(p.poolID), Username: aws.String(name),
		TemporaryPassword: aws.String(password), MessageAction: types.MessageActionTypeSuppress,
		UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String(name + "@example.com")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !temporary {
		if _, err := p.admin.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{
			UserPoolId: aws.String(p.poolID), Username: aws.String(name), Password: aws.String(password), Permanent: true,
		}); err != nil {
			t.Fatal(err)
		}
	}
}

func (p *motoPool) client(t *testing.T) *cognito.Client {
	t.Helper()
	c, err := cognito.New(cognito.Options{
		UserPoolID: p.poolID, ClientID: p.clientID, ClientSecret: jwt.Secret(p.secret), Endpoint: p.endpoint,
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
			p := newMotoPool(t, withSecret)
			p.addUser(t, "alice", "Passw0rd!x", false)
			c := p.client(t)
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
			// moto does not know GetTokensFromRefreshToken: Refresh must fall back.
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
	p := newMotoPool(t, false)
	p.addUser(t, "bob", "Temp0rary!x", true)
	c := p.client(t)
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
