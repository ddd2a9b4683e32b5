package session_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/internal/webauthntest"
	"github.com/cogauth/cogauth/session"
	"github.com/cogauth/cogauth/store"
)

// TestPasskeys registers a passkey through the Manager, lists it, signs in with
// it (USER_AUTH's WEB_AUTHN through SignIn and ConfirmSignIn), and deletes it,
// against the emulator over HTTP with a software authenticator.
func TestPasskeys(t *testing.T) {
	const password = "Corr3ct-Horse!"
	srv := emulator.NewServer(emulator.Options{
		Clock: clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)),
		Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
			Name: "app", AllowedFirstAuthFactors: []string{"PASSWORD", "WEB_AUTHN"},
			WebAuthn: &emulator.SeedWebAuthn{RelyingPartyID: "localhost"},
			Clients:  []emulator.SeedClient{{Name: "web", ExplicitAuthFlows: []string{"ALLOW_USER_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}}},
			Users:    []emulator.SeedUser{{Username: "alice", Password: password}},
		}}},
	})
	defer srv.Close()
	c, err := cognito.New(cognito.Options{UserPoolID: srv.PoolID("app"), ClientID: srv.AppClient("app", "web").ID, Endpoint: srv.URL, Clock: srv.Clock()})
	if err != nil {
		t.Fatal(err)
	}
	m, err := session.New(session.Config{Cognito: c, Clock: srv.Clock(), Store: store.NewMemory(), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	events := make(chan session.Event, 64)
	m.Subscribe(func(e session.Event) { events <- e })
	ctx := context.Background()
	a := webauthntest.New("http://localhost:4000")

	if _, err := m.Passkeys().List(ctx); !errors.Is(err, session.ErrSignedOut) {
		t.Fatalf("Passkeys().List signed out: %v", err)
	}
	if _, err := m.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: password}); err != nil {
		t.Fatal(err)
	}
	keys, err := m.Passkeys().List(ctx)
	if err != nil || keys == nil || len(keys) != 0 {
		t.Fatalf("no passkeys: %v, %v", keys, err)
	}
	if err := m.Passkeys().Register(ctx, func(_ context.Context, opts json.RawMessage) (json.RawMessage, error) { return a.Register(opts) }); err != nil {
		t.Fatalf("Passkeys().Register: %v", err)
	}
	// And a second in two steps.
	b := webauthntest.New("http://localhost:4000")
	opts, err := m.Passkeys().StartRegistration(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := b.Register(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Passkeys().CompleteRegistration(ctx, cred); err != nil {
		t.Fatal(err)
	}
	keys, err = m.Passkeys().List(ctx)
	if err != nil || len(keys) != 2 {
		t.Fatalf("two passkeys: %+v, %v", keys, err)
	}
	if err := m.SignOut(ctx, session.SignOutOptions{}); err != nil {
		t.Fatal(err)
	}

	res, err := m.SignIn(ctx, cognito.SignInInput{Username: "alice", Flow: cognito.FlowUserAuth, PreferredChallenge: cognito.FactorWebAuthn})
	if err != nil || res.Next == nil || res.Next.Name != cognito.ChallengeWebAuthn {
		t.Fatalf("SignIn WEB_AUTHN: %+v, %v", res, err)
	}
	assertion, err := a.Assert(res.Next.CredentialRequestOptions)
	if err != nil {
		t.Fatal(err)
	}
	done, err := m.ConfirmSignIn(ctx, res.Next, cognito.Answer{Credential: assertion})
	if err != nil || done.Session == nil || done.Session.Username != "alice" {
		t.Fatalf("ConfirmSignIn: %+v, %v", done, err)
	}
	if _, err := m.Fetch(ctx, session.FetchOptions{}); err != nil {
		t.Fatalf("Fetch after a passkey sign-in: %v", err)
	}
	for _, k := range keys {
		if err := m.Passkeys().Delete(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Passkeys().Delete(ctx, keys[0].ID); !errors.Is(err, cognito.ErrResourceNotFound) {
		t.Fatalf("deleting twice: %v", err)
	}
	if keys, err = m.Passkeys().List(ctx); err != nil || len(keys) != 0 {
		t.Fatalf("after delete: %+v, %v", keys, err)
	}
	// No passkey: WEB_AUTHN is no longer offered.
	res, err = m.SignIn(ctx, cognito.SignInInput{Username: "alice", Flow: cognito.FlowUserAuth})
	if err != nil || res.Next == nil || res.Next.Name != cognito.ChallengeSelectChallenge {
		t.Fatalf("SignIn: %+v, %v", res, err)
	}
	for _, f := range res.Next.Available {
		if f == cognito.FactorWebAuthn {
			t.Fatalf("WEB_AUTHN offered after deleting every passkey: %v", res.Next.Available)
		}
	}

	want := map[session.EventKind]int{session.PasskeyAdded: 2, session.PasskeyDeleted: 2}
	deadline := time.After(5 * time.Second)
	for want[session.PasskeyAdded]+want[session.PasskeyDeleted] > 0 {
		select {
		case e := <-events:
			if _, ok := want[e.Kind]; ok {
				want[e.Kind]--
				if e.Username != "alice" {
					t.Fatalf("%v for %q", e.Kind, e.Username)
				}
			}
		case <-deadline:
			t.Fatalf("events missing: %v", want)
		}
	}
}
