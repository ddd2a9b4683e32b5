package cognito_test

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
)

const pw = "Corr3ct-Horse!"

// emu starts an emulator with pool "app": client "web" (no secret), client "srv"
// (with a secret), users alice and bob (temporary password), and an email-alias pool
// "mail" whose usernames are generated (so USER_ID_FOR_SRP differs from the email).
func emu(t *testing.T, mod func(*emulator.Seed)) *emulator.Server {
	t.Helper()
	seed := &emulator.Seed{UserPools: []emulator.SeedUserPool{{
		Name: "app",
		Clients: []emulator.SeedClient{
			{Name: "web"},
			{Name: "srv", GenerateSecret: true, RefreshTokenRotation: true},
		},
		Users: []emulator.SeedUser{
			{Username: "alice", Password: pw, Attributes: map[string]string{"email": "alice@example.com"}},
			{Username: "bob", TemporaryPassword: pw, Attributes: map[string]string{"email": "bob@example.com"}},
		},
	}, {
		Name:               "mail",
		UsernameAttributes: []string{"email"},
		Clients:            []emulator.SeedClient{{Name: "srv", GenerateSecret: true}},
		Users:              []emulator.SeedUser{{Username: "carol@example.com", Password: pw}},
	}}}
	if mod != nil {
		mod(seed)
	}
	srv := emulator.NewServer(emulator.Options{Seed: seed, Clock: clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))})
	t.Cleanup(srv.Close)
	return srv
}

func emuClient(t *testing.T, srv *emulator.Server, pool, client string) *cognito.Client {
	t.Helper()
	cl := srv.AppClient(pool, client)
	c, err := cognito.New(cognito.Options{
		UserPoolID: srv.PoolID(pool), ClientID: cl.ID, ClientSecret: jwt.Secret(cl.Secret),
		Endpoint: srv.URL, Clock: srv.Clock(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEmulatorSRPSignIn(t *testing.T) {
	srv := emu(t, nil)
	tests := []struct {
		pool, client, user, password string
		wantErr                      error
		wantUsername                 string // the service's username in the token
	}{
		{"app", "web", "alice", pw, nil, "alice"},
		{"app", "srv", "alice", pw, nil, "alice"},
		{"app", "web", "alice", "wrong", cognito.ErrNotAuthorized, ""},
		{"app", "web", "nobody", pw, cognito.ErrUserNotFound, ""},
		// Signing in with the email: SRP and SECRET_HASH must use USER_ID_FOR_SRP.
		{"mail", "srv", "carol@example.com", pw, nil, srv.UserSub(srv.PoolID("mail"), "carol@example.com")},
	}
	for _, tt := range tests {
		t.Run(tt.pool+"/"+tt.client+"/"+tt.user+"/"+tt.password, func(t *testing.T) {
			c := emuClient(t, srv, tt.pool, tt.client)
			res, err := c.SignIn(context.Background(), cognito.SignInInput{Username: tt.user, Password: secret.String(tt.password)})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Tokens == nil {
				t.Fatalf("result = %+v", res)
			}
			at, err := jwt.Decode(res.Tokens.AccessToken.Reveal())
			if err != nil {
				t.Fatal(err)
			}
			if at.Claims().Username != tt.wantUsername {
				t.Fatalf("username claim %q, want %q", at.Claims().Username, tt.wantUsername)
			}
			// Refresh, with SECRET_HASH over the internal username where needed.
			ref, err := c.Refresh(context.Background(), cognito.RefreshInput{RefreshToken: res.Tokens.RefreshToken, Username: at.Claims().Username})
			if err != nil || ref.Tokens == nil || ref.Tokens.AccessToken == "" {
				t.Fatalf("refresh: %+v, %v", ref, err)
			}
		})
	}
}

func TestEmulatorRotationAndReuse(t *testing.T) {
	srv := emu(t, nil)
	c := emuClient(t, srv, "app", "srv")
	ctx := context.Background()
	res, err := c.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	rt0 := res.Tokens.RefreshToken
	ref, err := c.Refresh(ctx, cognito.RefreshInput{RefreshToken: rt0, Username: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if ref.Tokens.RefreshToken == "" || ref.Tokens.RefreshToken == rt0 {
		t.Fatal("rotation on, but no new refresh token")
	}
	if n := srv.Requests("InitiateAuth"); n != 1 {
		t.Fatalf("InitiateAuth called %d times: GetTokensFromRefreshToken should have served the refresh", n)
	}
	srv.Advance(10 * time.Minute) // past any grace period
	if _, err := c.Refresh(ctx, cognito.RefreshInput{RefreshToken: rt0, Username: "alice"}); err == nil {
		t.Fatal("rotated-away refresh token accepted")
	} else if !errors.Is(err, cognito.ErrRefreshTokenReuse) && !errors.Is(err, cognito.ErrNotAuthorized) {
		t.Fatalf("reuse: err = %v", err)
	}
	if err := c.RevokeToken(ctx, ref.Tokens.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Refresh(ctx, cognito.RefreshInput{RefreshToken: ref.Tokens.RefreshToken, Username: "alice"}); !errors.Is(err, cognito.ErrNotAuthorized) {
		t.Fatalf("refresh after revoke: %v", err)
	}
}

func TestEmulatorNewPasswordAndGlobalSignOut(t *testing.T) {
	srv := emu(t, nil)
	c := emuClient(t, srv, "app", "web")
	ctx := context.Background()
	res, err := c.SignIn(ctx, cognito.SignInInput{Username: "bob", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	if res.Challenge == nil || res.Challenge.Name != cognito.ChallengeNewPasswordRequired {
		t.Fatalf("want NEW_PASSWORD_REQUIRED, got %+v", res)
	}
	done, err := c.Respond(ctx, res.Challenge, cognito.Answer{NewPassword: "N3w-Passw0rd!"})
	if err != nil || done.Tokens == nil {
		t.Fatalf("respond: %+v, %v", done, err)
	}
	u, err := c.GetUser(ctx, done.Tokens.AccessToken)
	if err != nil || u.Username != "bob" || u.Attributes["email"] != "bob@example.com" {
		t.Fatalf("GetUser = %+v, %v", u, err)
	}
	if err := c.GlobalSignOut(ctx, done.Tokens.AccessToken); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetUser(ctx, done.Tokens.AccessToken); !errors.Is(err, cognito.ErrNotAuthorized) {
		t.Fatalf("GetUser after global sign-out: %v", err)
	}
	if _, err := c.Refresh(ctx, cognito.RefreshInput{RefreshToken: done.Tokens.RefreshToken, Username: "bob"}); !errors.Is(err, cognito.ErrNotAuthorized) {
		t.Fatalf("refresh after global sign-out: %v", err)
	}
}

func TestEmulatorMFASetupThenTOTP(t *testing.T) {
	srv := emu(t, func(s *emulator.Seed) { s.UserPools[0].MFA = "ON" })
	c := emuClient(t, srv, "app", "web")
	ctx := context.Background()
	res, err := c.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	if res.Challenge == nil || res.Challenge.Name != cognito.ChallengeMFASetup {
		t.Fatalf("want MFA_SETUP, got %+v", res)
	}
	totpKey, ch, err := c.AssociateSoftwareToken(ctx, res.Challenge)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := emulator.TOTP(totpKey.Reveal(), srv.Now())
	ch, err = c.VerifySoftwareToken(ctx, ch, secret.String(code), "phone")
	if err != nil {
		t.Fatal(err)
	}
	done, err := c.Respond(ctx, ch, cognito.Answer{})
	if err != nil || done.Tokens == nil {
		t.Fatalf("finishing MFA_SETUP: %+v, %v", done, err)
	}

	srv.Advance(time.Minute) // a fresh TOTP step
	res, err = c.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	if res.Challenge == nil || res.Challenge.Name != cognito.ChallengeSoftwareTokenMFA {
		t.Fatalf("want SOFTWARE_TOKEN_MFA, got %+v", res)
	}
	if _, err := c.Respond(ctx, res.Challenge, cognito.Answer{Code: "000000"}); !errors.Is(err, cognito.ErrCodeMismatch) {
		t.Fatalf("wrong code: %v", err)
	}
	res, _ = c.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: pw})
	code, _ = emulator.TOTP(totpKey.Reveal(), srv.Now())
	done, err = c.Respond(ctx, res.Challenge, cognito.Answer{Code: secret.String(code)})
	if err != nil || done.Tokens == nil {
		t.Fatalf("TOTP answer: %+v, %v", done, err)
	}
}

func TestEmulatorRememberedDeviceSkipsMFA(t *testing.T) {
	srv := emu(t, func(s *emulator.Seed) {
		s.UserPools[0].MFA = "ON"
		s.UserPools[0].DeviceTracking = &emulator.DeviceConfig{ChallengeRequiredOnNewDevice: true}
	})
	c := emuClient(t, srv, "app", "srv")
	ctx := context.Background()
	// Enrol TOTP first.
	res, err := c.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	totpKey, ch, err := c.AssociateSoftwareToken(ctx, res.Challenge)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := emulator.TOTP(totpKey.Reveal(), srv.Now())
	if ch, err = c.VerifySoftwareToken(ctx, ch, secret.String(code), ""); err != nil {
		t.Fatal(err)
	}
	done, err := c.Respond(ctx, ch, cognito.Answer{})
	if err != nil {
		t.Fatal(err)
	}
	if done.NewDevice == nil {
		t.Fatalf("no NewDeviceMetadata with device tracking on: %+v", done)
	}
	dev, _, err := c.ConfirmDevice(ctx, done.Tokens.AccessToken, *done.NewDevice, "laptop")
	if err != nil {
		t.Fatal(err)
	}
	// With the remembered device the service asks for device SRP (answered inside
	// SignIn) instead of MFA.
	srv.Advance(time.Minute)
	res, err = c.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: pw, Device: dev})
	if err != nil {
		t.Fatal(err)
	}
	if res.Tokens == nil {
		t.Fatalf("remembered device still challenged: %+v", res.Challenge)
	}
	if _, err := c.Refresh(ctx, cognito.RefreshInput{RefreshToken: res.Tokens.RefreshToken, Username: "alice", DeviceKey: dev.Key}); err != nil {
		t.Fatalf("refresh with device key: %v", err)
	}
	// A wrong device password is refused.
	bad := *dev
	bad.Password = "nope"
	if _, err := c.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: pw, Device: &bad}); !errors.Is(err, cognito.ErrNotAuthorized) {
		t.Fatalf("wrong device password: %v", err)
	}
}

func TestEmulatorFaultsMapToErrors(t *testing.T) {
	tests := []struct {
		name      string
		fault     emulator.Fault
		wantName  string
		retryable bool
	}{
		{"throttled", emulator.Fault{ErrName: "TooManyRequestsException"}, "TooManyRequestsException", true},
		{"internal", emulator.Fault{ErrName: "InternalErrorException", Status: 500}, "InternalErrorException", true},
		{"not authorized", emulator.Fault{ErrName: "NotAuthorizedException"}, "NotAuthorizedException", false},
		{"dropped", emulator.Fault{Drop: true}, cognito.NetworkError, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := emu(t, nil)
			c := emuClient(t, srv, "app", "web")
			srv.InjectFault("InitiateAuth", tt.fault)
			_, err := c.SignIn(context.Background(), cognito.SignInInput{Username: "alice", Password: pw})
			var ce *cognito.Error
			if !errors.As(err, &ce) || ce.Name != tt.wantName || ce.Retryable != tt.retryable || retryable(err) != tt.retryable {
				t.Fatalf("err = %#v, want %s retryable=%v", err, tt.wantName, tt.retryable)
			}
		})
	}
}
