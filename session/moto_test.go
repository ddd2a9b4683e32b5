package session_test

import (
	"context"
	"errors"
	"testing"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/internal/peers"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/session"
	"github.com/cogauth/cogauth/store"
)

// motoManager starts moto with a pool (peers.NewMotoPool), a confirmed user
// "alice" and a user "bob" with a temporary password, and returns a Manager on a
// file store.
func motoManager(t *testing.T) (*session.Manager, store.Store, *cognito.Client) {
	t.Helper()
	p := peers.NewMotoPool(t, peers.MotoPoolOptions{Users: []peers.MotoUser{
		{Name: "alice", Password: "Passw0rd!x"},
		{Name: "bob", Password: "Passw0rd!x", Temporary: true},
	}})
	c, err := cognito.New(cognito.Options{UserPoolID: p.PoolID, ClientID: p.ClientID, Endpoint: p.Endpoint, RefreshOperation: cognito.RefreshInitiateAuth})
	if err != nil {
		t.Fatal(err)
	}
	fs, err := store.NewFile(t.TempDir() + "/sessions.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := session.New(session.Config{Cognito: c, Store: fs, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, fs, c
}

func TestMotoSession(t *testing.T) {
	m, _, _ := motoManager(t)
	ctx := context.Background()
	res, err := m.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: "Passw0rd!x", Flow: cognito.FlowPassword})
	if err != nil {
		t.Fatal(err)
	}
	s0 := res.Session
	// Refresh (moto lacks GetTokensFromRefreshToken, answering it with a 500 page:
	// REFRESH_TOKEN_AUTH, chosen in the options, carries it).
	s1, err := m.Fetch(ctx, session.FetchOptions{ForceRefresh: true})
	if err != nil {
		t.Fatal(err)
	}
	if s1 == s0 || s1.Username != "alice" {
		t.Fatalf("refreshed session = %v", s1)
	}
	events := make(chan session.Event, 4)
	defer m.Subscribe(func(e session.Event) { events <- e })()
	if err := m.SignOut(ctx, session.SignOutOptions{Global: true}); err != nil {
		t.Fatal(err)
	}
	if e := <-events; e.Kind != session.SignedOut || e.Reason != session.ReasonUser {
		t.Fatalf("event = %+v", e)
	}
	if _, err := m.Fetch(ctx, session.FetchOptions{}); !errors.Is(err, session.ErrSignedOut) {
		t.Fatalf("Fetch after global sign-out: %v", err)
	}
}

func TestMotoRevokedElsewhere(t *testing.T) {
	m, fs, c := motoManager(t)
	ctx := context.Background()
	res, err := m.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: "Passw0rd!x", Flow: cognito.FlowPassword})
	if err != nil {
		t.Fatal(err)
	}
	// Another device signs the user out everywhere, without touching our store.
	if err := c.GlobalSignOut(ctx, jwt.Secret(res.Session.Tokens.Access.Raw())); err != nil {
		t.Fatal(err)
	}
	_, err = m.Fetch(ctx, session.FetchOptions{ForceRefresh: true})
	var so *session.SignedOutError
	if !errors.As(err, &so) || !errors.Is(err, cognito.ErrNotAuthorized) {
		t.Fatalf("refresh after global sign-out elsewhere: %v", err)
	}
	if _, err := fs.Get(ctx, session.SessionKey(c.UserPoolID(), c.ClientID(), "alice")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ended session still stored: %v", err)
	}
}

func TestMotoNewPasswordRequired(t *testing.T) {
	m, _, c := motoManager(t)
	ctx := context.Background()
	res, err := m.SignIn(ctx, cognito.SignInInput{Username: "bob", Password: "Passw0rd!x", Flow: cognito.FlowPassword})
	if err != nil {
		t.Fatal(err)
	}
	if res.Next == nil || res.Next.Name != cognito.ChallengeNewPasswordRequired {
		t.Fatalf("want NEW_PASSWORD_REQUIRED, got %+v", res)
	}
	done, err := m.ConfirmSignIn(ctx, res.Next, cognito.Answer{NewPassword: "N3wPassw0rd!"})
	if err != nil || done.Session == nil || done.Session.Username != "bob" {
		t.Fatalf("ConfirmSignIn = %+v, %v", done, err)
	}
	u, err := c.GetUser(ctx, jwt.Secret(done.Session.Tokens.Access.Raw()))
	if err != nil || u.Username != "bob" {
		t.Fatalf("GetUser = %+v, %v", u, err)
	}
}
