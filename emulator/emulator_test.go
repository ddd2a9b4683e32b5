package emulator_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/emulator"
)

var t0 = time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)

const password = "Correct-Horse-1"

// testSeed is a pool with a public and a confidential client and one user.
func testSeed() *emulator.Seed {
	return &emulator.Seed{UserPools: []emulator.SeedUserPool{{
		Name:   "app",
		Groups: []emulator.SeedGroup{{Name: "admins"}},
		Clients: []emulator.SeedClient{
			{Name: "web"},
			{Name: "backend", GenerateSecret: true},
			{Name: "rotating", RefreshTokenRotation: true, RetryGracePeriod: emulator.Duration(10 * time.Second)},
			{Name: "srponly", ExplicitAuthFlows: []string{"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}},
		},
		Users: []emulator.SeedUser{{
			Username:   "alice",
			Password:   password,
			Attributes: map[string]string{"email": "alice@example.com", "custom:tenant": "t1"},
			Groups:     []string{"admins"},
		}},
	}}}
}

// newTestServer starts a seeded server on a fake clock.
func newTestServer(t *testing.T) (*emulator.Server, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(t0)
	srv := emulator.NewServer(emulator.Options{Seed: testSeed(), Clock: clk})
	t.Cleanup(srv.Close)
	return srv, clk
}

// sdk is an aws-sdk-go-v2 Cognito client pointed at the server, unsigned as the
// user-facing operations are.
func sdk(srv *emulator.Server) *cip.Client {
	return cip.New(cip.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  aws.AnonymousCredentials{},
	})
}

func signIn(t *testing.T, c *cip.Client, clientID, user, pw string) *types.AuthenticationResultType {
	t.Helper()
	out, err := c.InitiateAuth(context.Background(), &cip.InitiateAuthInput{
		AuthFlow:       types.AuthFlowTypeUserPasswordAuth,
		ClientId:       aws.String(clientID),
		AuthParameters: map[string]string{"USERNAME": user, "PASSWORD": pw},
	})
	if err != nil {
		t.Fatalf("InitiateAuth: %v", err)
	}
	if out.AuthenticationResult == nil {
		t.Fatalf("InitiateAuth: challenge %s instead of tokens", out.ChallengeName)
	}
	return out.AuthenticationResult
}

func TestSeededServerOneLine(t *testing.T) {
	srv, _ := newTestServer(t)
	poolID := srv.PoolID("app")
	if !strings.HasPrefix(poolID, "us-east-1_") {
		t.Fatalf("pool ID %q", poolID)
	}
	web, backend := srv.AppClient("app", "web"), srv.AppClient("app", "backend")
	if web.ID == "" || web.Secret != "" || backend.Secret == "" {
		t.Fatalf("clients: %+v %+v", web, backend)
	}
	res := srv.Seeded()
	if res.UserPools["app"].ID != poolID {
		t.Fatalf("seed result %+v", res)
	}
}

func TestPasswordSignInRefreshGetUser(t *testing.T) {
	srv, clk := newTestServer(t)
	c := sdk(srv)
	ctx := context.Background()
	web := srv.AppClient("app", "web").ID
	tok := signIn(t, c, web, "alice", password)
	if tok.RefreshToken == nil || tok.ExpiresIn != 3600 || *tok.TokenType != "Bearer" {
		t.Fatalf("tokens: expires %v type %v", tok.ExpiresIn, tok.TokenType)
	}
	gu, err := c.GetUser(ctx, &cip.GetUserInput{AccessToken: tok.AccessToken})
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if *gu.Username != "alice" {
		t.Fatalf("GetUser username %q", *gu.Username)
	}

	clk.Advance(2 * time.Hour)
	_, err = c.GetUser(ctx, &cip.GetUserInput{AccessToken: tok.AccessToken})
	var na *types.NotAuthorizedException
	if !errors.As(err, &na) || !strings.Contains(na.ErrorMessage(), "expired") {
		t.Fatalf("GetUser with expired token: %v", err)
	}
	ref, err := c.InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow:       types.AuthFlowTypeRefreshTokenAuth,
		ClientId:       aws.String(web),
		AuthParameters: map[string]string{"REFRESH_TOKEN": *tok.RefreshToken},
	})
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if ref.AuthenticationResult.RefreshToken != nil {
		t.Fatal("refresh without rotation returned a refresh token")
	}
	if _, err := c.GetUser(ctx, &cip.GetUserInput{AccessToken: ref.AuthenticationResult.AccessToken}); err != nil {
		t.Fatalf("GetUser after refresh: %v", err)
	}
}

func TestErrorShape(t *testing.T) {
	srv, _ := newTestServer(t)
	tests := []struct {
		name, target, body, wantType string
	}{
		{"unknown op", "AWSCognitoIdentityProviderService.NoSuchThing", `{}`, "UnknownOperationException"},
		{"no target", "", `{}`, "UnknownOperationException"},
		{"bad json", "AWSCognitoIdentityProviderService.InitiateAuth", `{`, "SerializationException"},
		{"bad client", "AWSCognitoIdentityProviderService.InitiateAuth", `{"ClientId":"nope","AuthFlow":"USER_PASSWORD_AUTH"}`, "ResourceNotFoundException"},
		{"wrong password", "AWSCognitoIdentityProviderService.InitiateAuth",
			`{"ClientId":"` + srv.AppClient("app", "web").ID + `","AuthFlow":"USER_PASSWORD_AUTH","AuthParameters":{"USERNAME":"alice","PASSWORD":"nope"}}`, "NotAuthorizedException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			if tt.target != "" {
				req.Header.Set("X-Amz-Target", tt.target)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			var got struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if resp.StatusCode != 400 || got.Type != tt.wantType || got.Message == "" {
				t.Fatalf("status %d body %s", resp.StatusCode, body)
			}
			if h := resp.Header.Get("x-amzn-ErrorType"); h != tt.wantType+":" {
				t.Errorf("x-amzn-ErrorType %q", h)
			}
			if resp.Header.Get("x-amzn-ErrorMessage") != got.Message {
				t.Errorf("x-amzn-ErrorMessage %q", resp.Header.Get("x-amzn-ErrorMessage"))
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
				t.Errorf("content type %q", ct)
			}
			if d := resp.Header.Get("Date"); d != t0.Format(http.TimeFormat) {
				t.Errorf("Date %q, want the emulator clock", d)
			}
		})
	}
}
