package session_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/internal/webauthntest"
	"github.com/cogauth/cogauth/secret"
	"github.com/cogauth/cogauth/session"
	"github.com/cogauth/cogauth/store"
)

// startEmulator runs a Cognito-compatible server with one pool, one app client and
// one user, and returns a cognito.Client for it. A real program would pass its
// pool and client IDs and leave Endpoint empty.
func startEmulator() (*emulator.Server, *cognito.Client) {
	srv := emulator.NewServer(emulator.Options{
		Clock: clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)),
		Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
			Name:    "app",
			Clients: []emulator.SeedClient{{Name: "web"}},
			Users:   []emulator.SeedUser{{Username: "alice", Password: "Corr3ct-Horse!", Attributes: map[string]string{"email": "alice@example.com"}}},
		}}},
	})
	c, err := cognito.New(cognito.Options{
		UserPoolID: srv.PoolID("app"),
		ClientID:   srv.AppClient("app", "web").ID,
		Endpoint:   srv.URL,
		Clock:      srv.Clock(),
	})
	if err != nil {
		log.Fatal(err)
	}
	return srv, c
}

func ExampleManager_SignIn() {
	srv, c := startEmulator()
	defer srv.Close()
	m, err := session.New(session.Config{Cognito: c, Clock: srv.Clock()})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	// USER_SRP_AUTH by default: the password never leaves the process.
	res, err := m.SignIn(context.Background(), cognito.SignInInput{Username: "alice", Password: "Corr3ct-Horse!"})
	if err != nil {
		log.Fatal(err)
	}
	if res.Next != nil {
		// A challenge (new password, MFA code, …): ask the user, then
		// m.ConfirmSignIn(ctx, res.Next, cognito.Answer{...}).
		log.Fatalf("unexpected challenge %s", res.Next.Name)
	}
	fmt.Println("signed in as", res.Session.Username)
	fmt.Println("email:", res.Session.Tokens.ID.Claims().Email)
	// Output:
	// signed in as alice
	// email: alice@example.com
}

func ExampleManager_Fetch() {
	srv, c := startEmulator()
	defer srv.Close()
	m, _ := session.New(session.Config{Cognito: c, Clock: srv.Clock()})
	defer m.Close()
	ctx := context.Background()
	if _, err := m.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: "Corr3ct-Horse!"}); err != nil {
		log.Fatal(err)
	}

	// Fresh tokens come from memory: no request.
	s1, _ := m.Fetch(ctx, session.FetchOptions{})
	// 58 minutes on, the tokens are inside the 5-minute refresh window: Fetch
	// refreshes them (once, however many goroutines ask).
	srv.Advance(58 * time.Minute)
	s2, err := m.Fetch(ctx, session.FetchOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("same user:", s1.UserSub == s2.UserSub)
	fmt.Println("new access token:", s1.Tokens.Access.Raw() != s2.Tokens.Access.Raw())
	fmt.Println("valid for another hour:", s2.Tokens.Access.ExpiresAt().Sub(srv.Now()) > 55*time.Minute)
	fmt.Println("refresh requests:", srv.Requests("GetTokensFromRefreshToken"))
	// Output:
	// same user: true
	// new access token: true
	// valid for another hour: true
	// refresh requests: 1
}

func ExampleManager_Import() {
	srv, c := startEmulator()
	defer srv.Close()
	// Tokens signed in by some other backend...
	res, err := c.SignIn(context.Background(), cognito.SignInInput{Username: "alice", Password: "Corr3ct-Horse!"})
	if err != nil {
		log.Fatal(err)
	}
	// ...become a session here, checked against this pool and app client.
	m, _ := session.New(session.Config{Cognito: c, Clock: srv.Clock(), Store: store.NewMemory()})
	defer m.Close()
	s, err := m.Import(context.Background(), session.ImportInput{
		AccessToken:  res.Tokens.AccessToken,
		IDToken:      res.Tokens.IDToken,
		RefreshToken: res.Tokens.RefreshToken,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("imported", s.Username)

	_, err = m.Import(context.Background(), session.ImportInput{AccessToken: res.Tokens.IDToken})
	fmt.Println("id token as access token refused:", errors.Is(err, session.ErrInvalidTokens))
	// Output:
	// imported alice
	// id token as access token refused: true
}

func ExampleManager_Subscribe() {
	srv, c := startEmulator()
	defer srv.Close()
	m, _ := session.New(session.Config{Cognito: c, Clock: srv.Clock()})
	defer m.Close()
	events := make(chan session.Event, 8)
	unsubscribe := m.Subscribe(func(e session.Event) { events <- e })
	defer unsubscribe()

	ctx := context.Background()
	_, _ = m.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: "Corr3ct-Horse!"})
	_, _ = m.Fetch(ctx, session.FetchOptions{ForceRefresh: true})
	_ = m.SignOut(ctx, session.SignOutOptions{})
	for range 3 {
		e := <-events
		fmt.Println(e.Kind, e.Username)
	}
	// Output:
	// signed-in alice
	// token-refreshed alice
	// signed-out alice
}

// A pool that tracks devices hands out a new device at sign-in; remembered, it
// outlives sign-out, and the next sign-in proves the device instead of asking for
// MFA.
func ExampleDevices_Confirm() {
	srv := emulator.NewServer(emulator.Options{
		Clock: clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)),
		Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
			Name:           "app",
			DeviceTracking: &emulator.DeviceConfig{ChallengeRequiredOnNewDevice: true},
			Clients:        []emulator.SeedClient{{Name: "web"}},
			Users:          []emulator.SeedUser{{Username: "alice", Password: "Corr3ct-Horse!"}},
		}}},
	})
	defer srv.Close()
	c, err := cognito.New(cognito.Options{UserPoolID: srv.PoolID("app"), ClientID: srv.AppClient("app", "web").ID, Endpoint: srv.URL, Clock: srv.Clock()})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	st := store.NewMemory() // a store.File or the keyring keeps it across restarts
	m, err := session.New(session.Config{Cognito: c, Store: st, Clock: srv.Clock()})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	res, err := m.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: "Corr3ct-Horse!"})
	if err != nil {
		log.Fatal(err)
	}
	if res.NewDevice != nil {
		// Ask the user "remember this device?"; they said yes.
		remembered, err := m.Devices().Confirm(ctx, *res.NewDevice, session.DeviceOptions{Name: "laptop", Remember: true})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("device remembered:", remembered)
	}
	if err := m.SignOut(ctx, session.SignOutOptions{}); err != nil {
		log.Fatal(err)
	}

	res, err = m.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: "Corr3ct-Horse!"})
	if err != nil {
		log.Fatal(err)
	}
	devices, err := m.Devices().List(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("signed in on the same device:", res.NewDevice == nil && res.Session.Tokens.DeviceKey == devices[0].Key)
	fmt.Println("devices:", len(devices), devices[0].Name)
	// Output:
	// device remembered: true
	// signed in on the same device: true
	// devices: 1 laptop
}

// The signed-in user's account is a view over the session: its calls take the
// current access token (refreshed when due) and emit the Manager's events.
func ExampleAccount() {
	srv, c := startEmulator()
	defer srv.Close()
	m, _ := session.New(session.Config{Cognito: c, Clock: srv.Clock()})
	defer m.Close()
	ctx := context.Background()
	events := make(chan session.Event, 8)
	m.Subscribe(func(e session.Event) { events <- e })
	if _, err := m.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: "Corr3ct-Horse!"}); err != nil {
		log.Fatal(err)
	}

	a := m.Account()
	if _, err := a.UpdateAttributes(ctx, map[string]string{"name": "Alice Liddell"}); err != nil {
		log.Fatal(err)
	}
	u, err := a.User(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u.Username, u.Email(), u.Attributes["name"])
	if err := a.ChangePassword(ctx, "Corr3ct-Horse!", "Batt3ry-Stapl3!"); err != nil {
		log.Fatal(err)
	}
	if err := a.Delete(ctx); err != nil { // deletes the user and ends the session
		log.Fatal(err)
	}
	_, err = m.Fetch(ctx, session.FetchOptions{})
	fmt.Println("after Delete, signed out:", errors.Is(err, session.ErrSignedOut))
	for range 4 {
		fmt.Println((<-events).Kind)
	}
	// Output:
	// alice alice@example.com Alice Liddell
	// after Delete, signed out: true
	// signed-in
	// password-changed
	// user-deleted
	// signed-out
}

// Passkeys are a view over the session too. Any WebAuthn authenticator plugs in
// (navigator.credentials in a browser, a platform API, a security key); here a
// software one signs for the relying party localhost.
func ExamplePasskeys() {
	srv := emulator.NewServer(emulator.Options{
		Clock: clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)),
		Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
			Name: "app", AllowedFirstAuthFactors: []string{"PASSWORD", "WEB_AUTHN"},
			WebAuthn: &emulator.SeedWebAuthn{RelyingPartyID: "localhost"},
			Clients:  []emulator.SeedClient{{Name: "web", ExplicitAuthFlows: []string{"ALLOW_USER_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}}},
			Users:    []emulator.SeedUser{{Username: "alice", Password: "Corr3ct-Horse!"}},
		}}},
	})
	defer srv.Close()
	c, err := cognito.New(cognito.Options{UserPoolID: srv.PoolID("app"), ClientID: srv.AppClient("app", "web").ID, Endpoint: srv.URL, Clock: srv.Clock()})
	if err != nil {
		log.Fatal(err)
	}
	m, _ := session.New(session.Config{Cognito: c, Clock: srv.Clock()})
	defer m.Close()
	ctx := context.Background()
	authenticator := webauthntest.New("http://localhost:4000")
	if _, err := m.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: "Corr3ct-Horse!"}); err != nil {
		log.Fatal(err)
	}

	p := m.Passkeys()
	err = p.Register(ctx, func(_ context.Context, options json.RawMessage) (json.RawMessage, error) {
		return authenticator.Register(options) // navigator.credentials.create(options) in a page
	})
	if err != nil {
		log.Fatal(err)
	}
	keys, err := p.List(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("passkeys:", len(keys))
	if err := m.SignOut(ctx, session.SignOutOptions{}); err != nil {
		log.Fatal(err)
	}

	// Signing in with it: USER_AUTH with the WEB_AUTHN factor, then the
	// authenticator's assertion as the answer.
	res, err := m.SignIn(ctx, cognito.SignInInput{Username: "alice", Flow: cognito.FlowUserAuth, PreferredChallenge: cognito.FactorWebAuthn})
	if err != nil {
		log.Fatal(err)
	}
	assertion, err := authenticator.Assert(res.Next.CredentialRequestOptions)
	if err != nil {
		log.Fatal(err)
	}
	res, err = m.ConfirmSignIn(ctx, res.Next, cognito.Answer{Credential: assertion})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("signed in with a passkey as", res.Session.Username)
	// Output:
	// passkeys: 1
	// signed in with a passkey as alice
}

// MFA is a view over the session: set up an authenticator app, prefer it, and
// the next sign-in asks for its code. (emulator.TOTP plays the app.)
func ExampleMFA() {
	srv := emulator.NewServer(emulator.Options{
		Clock: clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)),
		Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
			Name: "app", MFA: "OPTIONAL", // users may turn MFA on
			Clients: []emulator.SeedClient{{Name: "web"}},
			Users:   []emulator.SeedUser{{Username: "alice", Password: "Corr3ct-Horse!"}},
		}}},
	})
	defer srv.Close()
	c, err := cognito.New(cognito.Options{UserPoolID: srv.PoolID("app"), ClientID: srv.AppClient("app", "web").ID, Endpoint: srv.URL, Clock: srv.Clock()})
	if err != nil {
		log.Fatal(err)
	}
	m, _ := session.New(session.Config{Cognito: c, Clock: srv.Clock()})
	defer m.Close()
	ctx := context.Background()
	if _, err := m.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: "Corr3ct-Horse!"}); err != nil {
		log.Fatal(err)
	}

	mfa := m.MFA()
	totpKey, err := mfa.SetUpTOTP(ctx) // show it as a QR code; it prints as [redacted]
	if err != nil {
		log.Fatal(err)
	}
	code, _ := emulator.TOTP(totpKey.Reveal(), srv.Now()) // the app's first code
	if err := mfa.VerifyTOTPSetup(ctx, secret.String(code), "phone"); err != nil {
		log.Fatal(err)
	}
	if err := mfa.SetPreference(ctx, cognito.MFAPreference{TOTP: cognito.MFAPreferred}); err != nil {
		log.Fatal(err)
	}
	if err := m.SignOut(ctx, session.SignOutOptions{}); err != nil {
		log.Fatal(err)
	}

	res, err := m.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: "Corr3ct-Horse!"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("challenge:", res.Next.Name)
	srv.Advance(30 * time.Second) // a code is good once: wait for the next one
	code, _ = emulator.TOTP(totpKey.Reveal(), srv.Now())
	res, err = m.ConfirmSignIn(ctx, res.Next, cognito.Answer{Code: secret.String(code)})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("signed in as", res.Session.Username)
	// Output:
	// challenge: SOFTWARE_TOKEN_MFA
	// signed in as alice
}
