package session_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/secret"
	"github.com/cogauth/cogauth/session"
	"github.com/cogauth/cogauth/store"
)

func lastCodeOf(t *testing.T, srv *emulator.Server, user, kind string) string {
	t.Helper()
	msgs := srv.Messages(srv.PoolID("app"), user)
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Kind == kind {
			return msgs[i].Code
		}
	}
	t.Fatalf("no %s code for %s", kind, user)
	return ""
}

func TestAccountLifecycle(t *testing.T) {
	srv, c := startEmulator()
	defer srv.Close()
	st := store.NewMemory()
	m, err := session.New(session.Config{Cognito: c, Clock: srv.Clock(), Store: st, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan session.Event, 64)
	m.Subscribe(func(e session.Event) { events <- e })
	ctx := context.Background()
	const pw1, pw2 = "Fr3sh-Start!", "S3cond-Start!"

	if _, err := m.Account().SignUp(ctx, cognito.SignUpInput{Username: "dora", Password: pw1, Attributes: map[string]string{"email": "dora@example.com"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Account().ResendSignUpCode(ctx, "dora"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Account().ConfirmSignUp(ctx, cognito.ConfirmSignUpInput{Username: "dora", Code: "not-it"}); !errors.Is(err, cognito.ErrCodeMismatch) {
		t.Fatalf("wrong code: %v", err)
	}
	if _, err := m.Account().ConfirmSignUp(ctx, cognito.ConfirmSignUpInput{Username: "dora", Code: jwt.Secret(lastCodeOf(t, srv, "dora", "SIGN_UP"))}); err != nil {
		t.Fatal(err)
	}
	// Signed out: the calls of a signed-in user say so.
	if _, err := m.Account().User(ctx); !errors.Is(err, session.ErrSignedOut) {
		t.Fatalf("User while signed out: %v", err)
	}
	if _, err := m.SignIn(ctx, cognito.SignInInput{Username: "dora", Password: pw1}); err != nil {
		t.Fatal(err)
	}
	if err := m.Account().ChangePassword(ctx, pw1, pw2); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Account().UpdateAttributes(ctx, map[string]string{"email": "dora2@example.com", "nickname": "d"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Account().VerifyAttribute(ctx, "email", secret.String(lastCodeOf(t, srv, "dora", "VERIFY_ATTRIBUTE"))); err != nil {
		t.Fatal(err)
	}
	if err := m.Account().DeleteAttributes(ctx, []string{"nickname"}); err != nil {
		t.Fatal(err)
	}
	u, err := m.Account().User(ctx)
	if err != nil || u.Email() != "dora2@example.com" || !u.EmailVerified() || u.Attributes["nickname"] != "" {
		t.Fatalf("User = %+v, %v", u, err)
	}
	if err := m.Account().Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fetch(ctx, session.FetchOptions{}); !errors.Is(err, session.ErrSignedOut) {
		t.Fatalf("Fetch after Account().Delete: %v", err)
	}
	// The current user's record (release 2's "u" record of the pool and client).
	if cur, err := st.Get(ctx, store.Join("u", c.UserPoolID(), c.ClientID(), "")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("current user still %q (%v)", cur.Data, err)
	}
	if _, err := c.SignIn(ctx, cognito.SignInInput{Username: "dora", Password: pw2}); !errors.Is(err, cognito.ErrUserNotFound) {
		t.Fatalf("sign-in after Account().Delete: %v", err)
	}
	want := []session.EventKind{session.SignUpConfirmed, session.SignedIn, session.PasswordChanged, session.UserDeleted, session.SignedOut}
	for i, k := range want {
		select {
		case e := <-events:
			if e.Kind != k || e.Username != "dora" {
				t.Fatalf("event %d = %v (%s), want %v", i, e.Kind, e.Username, k)
			}
			if k == session.SignedOut && e.Reason != session.ReasonUserGone {
				t.Fatalf("SignedOut reason %v", e.Reason)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("event %d (%v) never came", i, k)
		}
	}
}

func TestAutoSignInAndUserAuth(t *testing.T) {
	srv := emulator.NewServer(emulator.Options{
		Clock: clock.NewFake(t0),
		Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
			Name: "app", AllowedFirstAuthFactors: []string{"PASSWORD", "EMAIL_OTP"},
			Clients: []emulator.SeedClient{{Name: "web", ExplicitAuthFlows: []string{"ALLOW_USER_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}}},
		}}},
	})
	defer srv.Close()
	c, err := cognito.New(cognito.Options{UserPoolID: srv.PoolID("app"), ClientID: srv.AppClient("app", "web").ID, Endpoint: srv.URL, Clock: srv.Clock()})
	if err != nil {
		t.Fatal(err)
	}
	m, err := session.New(session.Config{Cognito: c, Clock: srv.Clock(), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	if _, err := m.Account().SignUp(ctx, cognito.SignUpInput{Username: "dora", Password: "Fr3sh-Start!", Attributes: map[string]string{"email": "dora@example.com"}}); err != nil {
		t.Fatal(err)
	}
	conf, err := m.Account().ConfirmSignUp(ctx, cognito.ConfirmSignUpInput{Username: "dora", Code: jwt.Secret(lastCodeOf(t, srv, "dora", "SIGN_UP"))})
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.AutoSignIn(ctx, "dora", conf)
	if err != nil || res.Session == nil || res.Session.Username != "dora" {
		t.Fatalf("AutoSignIn = %+v, %v", res, err)
	}
	if err := m.SignOut(ctx, session.SignOutOptions{}); err != nil {
		t.Fatal(err)
	}
	// Passwordless: an e-mail code, through ConfirmSignIn.
	res, err = m.SignIn(ctx, cognito.SignInInput{Username: "dora", Flow: cognito.FlowUserAuth})
	if err != nil || res.Next == nil || res.Next.Name != cognito.ChallengeSelectChallenge {
		t.Fatalf("SignIn = %+v, %v", res, err)
	}
	res, err = m.ConfirmSignIn(ctx, res.Next, cognito.Answer{FirstFactor: cognito.FactorEmailOTP})
	if err != nil || res.Next == nil || res.Next.Name != cognito.ChallengeEmailOTP {
		t.Fatalf("select: %+v, %v", res, err)
	}
	res, err = m.ConfirmSignIn(ctx, res.Next, cognito.Answer{Code: secret.String(lastCodeOf(t, srv, "dora", "EMAIL_OTP"))})
	if err != nil || res.Session == nil {
		t.Fatalf("code: %+v, %v", res, err)
	}
}
