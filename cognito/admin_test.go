package cognito_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/session"
)

func adminEnv(t *testing.T) (*emulator.Server, *cognito.AdminClient) {
	t.Helper()
	srv := emulator.NewServer(emulator.Options{Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
		Name: "app",
		Clients: []emulator.SeedClient{{Name: "backend", GenerateSecret: true,
			ExplicitAuthFlows: []string{"ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}}},
		Users: []emulator.SeedUser{
			{Username: "alice", Password: "Correct-Horse-1", Attributes: map[string]string{"email": "alice@example.com"}},
			{Username: "newbie", TemporaryPassword: "Temporary-Horse-1"},
		},
	}}}})
	t.Cleanup(srv.Close)
	backend := srv.AppClient("app", "backend")
	a, err := cognito.NewAdmin(cognito.Options{
		UserPoolID: srv.PoolID("app"), ClientID: backend.ID, ClientSecret: jwt.Secret(backend.Secret),
		Endpoint: srv.URL, Clock: srv.Clock(),
	}, credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret-key-example", ""))
	if err != nil {
		t.Fatal(err)
	}
	return srv, a
}

// TestAdminSignInBecomesASession: a backend signs a user in through the admin
// API (SigV4-signed AdminInitiateAuth) and the tokens become an ordinary session
// that refreshes through the user API.
func TestAdminSignInBecomesASession(t *testing.T) {
	srv, a := adminEnv(t)
	ctx := context.Background()
	for _, flow := range []cognito.Flow{cognito.FlowAdminPassword, cognito.FlowSRP} {
		res, err := a.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: "Correct-Horse-1", Flow: flow})
		if err != nil || res.Tokens == nil {
			t.Fatalf("flow %d: %v %+v", flow, err, res)
		}
		m, err := session.New(session.Config{Cognito: a.Client(), Clock: srv.Clock()})
		if err != nil {
			t.Fatal(err)
		}
		s, err := m.Import(ctx, session.ImportInput{AccessToken: res.Tokens.AccessToken, IDToken: res.Tokens.IDToken, RefreshToken: res.Tokens.RefreshToken})
		if err != nil {
			t.Fatal(err)
		}
		if s.Username != "alice" {
			t.Errorf("session user %q", s.Username)
		}
		before := srv.Requests("AdminInitiateAuth")
		s2, err := m.Fetch(ctx, session.FetchOptions{ForceRefresh: true})
		if err != nil || s2.Tokens.Access == nil {
			t.Fatalf("refresh of the admin sign-in's session: %v", err)
		}
		if srv.Requests("AdminInitiateAuth") != before {
			t.Error("the session refreshed through the admin API")
		}
		m.Close()
	}
	if n := srv.Requests("AdminInitiateAuth"); n != 2 {
		t.Errorf("AdminInitiateAuth %d times, want 2", n)
	}
	if n := srv.Requests("InitiateAuth"); n != 0 {
		t.Errorf("InitiateAuth %d times: the sign-in did not go through the admin API", n)
	}
	_, err := a.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: "Wrong-Horse-1", Flow: cognito.FlowAdminPassword})
	if !errors.Is(err, cognito.ErrNotAuthorized) {
		t.Errorf("wrong password: %v", err)
	}
}

// TestAdminNewPasswordRequired: a challenge of a server-side sign-in is answered
// through AdminRespondToAuthChallenge.
func TestAdminNewPasswordRequired(t *testing.T) {
	srv, a := adminEnv(t)
	ctx := context.Background()
	res, err := a.SignIn(ctx, cognito.SignInInput{Username: "newbie", Password: "Temporary-Horse-1", Flow: cognito.FlowAdminPassword})
	if err != nil || res.Challenge == nil || res.Challenge.Name != cognito.ChallengeNewPasswordRequired {
		t.Fatalf("sign-in with a temporary password: %v %+v", err, res)
	}
	res, err = a.Respond(ctx, res.Challenge, cognito.Answer{NewPassword: "Chosen-Horse-2"})
	if err != nil || res.Tokens == nil {
		t.Fatalf("new password: %v", err)
	}
	if srv.Requests("AdminRespondToAuthChallenge") != 1 || srv.Requests("RespondToAuthChallenge") != 0 {
		t.Errorf("answered through %v", srv.RequestCounts())
	}
	if _, err := a.Respond(ctx, &cognito.Challenge{Name: cognito.ChallengeSMSMFA}, cognito.Answer{}); err == nil {
		t.Error("an SMS_MFA answer without a code was sent")
	}
}
