package session_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/secret"
	"github.com/cogauth/cogauth/session"
)

// fakeCreds hands out 15-minute credentials and counts calls.
type fakeCreds struct {
	clock clock.Clock
	calls atomic.Int32
	fail  atomic.Bool
}

func (f *fakeCreds) Credentials(ctx context.Context, s *session.Session) (*aws.Credentials, string, error) {
	n := f.calls.Add(1)
	if f.fail.Load() {
		return nil, "", &cognito.Error{Name: cognito.NetworkError, Retryable: true, Cause: errors.New("unreachable")}
	}
	if s.Tokens.ID == nil {
		return nil, "", errors.New("no id token")
	}
	return &aws.Credentials{AccessKeyID: "AKID" + string(rune('0'+n)), SecretAccessKey: "secret", CanExpire: true, Expires: f.clock.Now().Add(15 * time.Minute)},
		"us-east-1:identity-" + s.UserSub, nil
}

func TestCredentialsSource(t *testing.T) {
	var creds *fakeCreds
	f := newFixture(t, func(cfg *session.Config) {
		creds = &fakeCreds{clock: cfg.Clock}
		cfg.Credentials = creds
	})
	s := f.signIn(t)
	if s.Credentials == nil || s.Credentials.AccessKeyID != "AKID1" || s.IdentityID != "us-east-1:identity-sub-alice" {
		t.Fatalf("session after sign-in: creds %+v id %q", s.Credentials, s.IdentityID)
	}
	events := make(chan session.Event, 4)
	defer f.m.Subscribe(func(e session.Event) { events <- e })()

	// Credentials are due (11 of 15 minutes) long before the tokens: only they renew.
	f.clock.Advance(11 * time.Minute)
	s2, err := f.m.Fetch(context.Background(), session.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s2.Credentials.AccessKeyID != "AKID2" || f.idp.refreshCalls() != 0 {
		t.Fatalf("creds %s, token refreshes %d; want new credentials and no token refresh", s2.Credentials.AccessKeyID, f.idp.refreshCalls())
	}
	if e := <-events; e.Kind != session.CredentialsRefreshed {
		t.Fatalf("event = %+v", e)
	}
	// Another Manager on the same store gets the stored credentials without a call.
	m2 := f.manager(t, f.idp.client(t), func(cfg *session.Config) { cfg.Credentials = creds })
	s3, err := m2.Fetch(context.Background(), session.FetchOptions{})
	if err != nil || s3.Credentials.AccessKeyID != "AKID2" || creds.calls.Load() != 2 {
		t.Fatalf("second manager: %v creds %v calls %d", err, s3, creds.calls.Load())
	}
	// A failing credentials source keeps the still-valid credentials.
	creds.fail.Store(true)
	f.clock.Advance(11 * time.Minute)
	s4, err := f.m.Fetch(context.Background(), session.FetchOptions{})
	if err != nil || s4.Credentials.AccessKeyID != "AKID2" {
		t.Fatalf("with failing source: %v, %v", s4, err)
	}
}

// TestEmulatorSessionWithMFAAndDevice signs in through MFA set-up with the Manager,
// remembers the device, and checks that the next sign-in skips MFA and that refresh
// sends the device key, all against the emulator's real SRP.
func TestEmulatorSessionWithMFAAndDevice(t *testing.T) {
	const pw = "Corr3ct-Horse!"
	srv := emulator.NewServer(emulator.Options{
		Clock: clock.NewFake(t0),
		Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
			Name: "app", MFA: "ON",
			DeviceTracking: &emulator.DeviceConfig{ChallengeRequiredOnNewDevice: true},
			Clients:        []emulator.SeedClient{{Name: "web", GenerateSecret: true, RefreshTokenRotation: true}},
			Users:          []emulator.SeedUser{{Username: "alice", Password: pw}},
		}}},
	})
	defer srv.Close()
	cl := srv.AppClient("app", "web")
	c, err := cognito.New(cognito.Options{UserPoolID: srv.PoolID("app"), ClientID: cl.ID, ClientSecret: jwt.Secret(cl.Secret), Endpoint: srv.URL, Clock: srv.Clock()})
	if err != nil {
		t.Fatal(err)
	}
	m, err := session.New(session.Config{Cognito: c, Clock: srv.Clock(), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()

	res, err := m.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	if res.Next == nil || res.Next.Name != cognito.ChallengeMFASetup {
		t.Fatalf("want MFA_SETUP, got %+v", res)
	}
	totpKey, next, err := c.AssociateSoftwareToken(ctx, res.Next)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := emulator.TOTP(totpKey.Reveal(), srv.Now())
	if next, err = c.VerifySoftwareToken(ctx, next, secret.String(code), ""); err != nil {
		t.Fatal(err)
	}
	res, err = m.ConfirmSignIn(ctx, next, cognito.Answer{})
	if err != nil || res.Session == nil || res.NewDevice == nil {
		t.Fatalf("ConfirmSignIn = %+v, %v", res, err)
	}
	if err := m.Devices().Remember(ctx, *res.NewDevice, "laptop"); err != nil {
		t.Fatal(err)
	}
	s, err := m.Fetch(ctx, session.FetchOptions{ForceRefresh: true})
	if err != nil {
		t.Fatalf("refresh with device key and rotation: %v", err)
	}
	if s.Tokens.DeviceKey != res.NewDevice.Key {
		t.Fatalf("device key %q not kept", s.Tokens.DeviceKey)
	}
	// Sign in again: the remembered device (kept in the store) answers instead of MFA.
	srv.Advance(time.Minute)
	res, err = m.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	if res.Session == nil {
		t.Fatalf("remembered device still challenged: %v", res.Next)
	}
}

// forgettingCreds is a CredentialsSource that also keeps per-user state.
type forgettingCreds struct {
	fakeCreds
	forgot []string
	err    error
}

func (f *forgettingCreds) Forget(ctx context.Context, s *session.Session) error {
	f.forgot = append(f.forgot, s.Username)
	return f.err
}

func TestSignOutCallsCredentialsForgetter(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		wantErr bool
		ended   bool // the service ends the session instead of SignOut
	}{
		{"forgotten", nil, false, false},
		{"forget fails", errors.New("store unwritable"), true, false},
		{"revoked elsewhere", nil, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var creds *forgettingCreds
			f := newFixture(t, func(cfg *session.Config) {
				creds = &forgettingCreds{fakeCreds: fakeCreds{clock: cfg.Clock}, err: tt.err}
				cfg.Credentials = creds
			})
			f.signIn(t)
			if tt.ended {
				f.idp.revokeAll()
				if _, err := f.m.Fetch(context.Background(), session.FetchOptions{ForceRefresh: true}); !errors.Is(err, session.ErrSignedOut) {
					t.Fatalf("refresh of a revoked session: %v", err)
				}
			} else {
				err := f.m.SignOut(context.Background(), session.SignOutOptions{})
				if (err != nil) != tt.wantErr || (tt.wantErr && !errors.Is(err, tt.err)) {
					t.Fatalf("SignOut = %v, want error %v", err, tt.wantErr)
				}
			}
			if len(creds.forgot) != 1 || creds.forgot[0] != "alice" {
				t.Fatalf("forgot %v, want [alice]", creds.forgot)
			}
			// Local sign-out happens whatever Forget said.
			if _, err := f.m.Fetch(context.Background(), session.FetchOptions{}); !errors.Is(err, session.ErrSignedOut) {
				t.Fatalf("after SignOut: %v", err)
			}
		})
	}
}

// TestCredentialsExpireWhileSourceFails: credentials that expire while the source
// fails are no longer handed out; the session is served without them (its tokens
// are fresh) and they come back with the source.
func TestCredentialsExpireWhileSourceFails(t *testing.T) {
	var creds *fakeCreds
	f := newFixture(t, func(cfg *session.Config) {
		creds = &fakeCreds{clock: cfg.Clock}
		cfg.Credentials = creds
	})
	f.signIn(t)
	creds.fail.Store(true)
	f.clock.Advance(11 * time.Minute) // due, still valid for 4 minutes
	s, err := f.m.Fetch(context.Background(), session.FetchOptions{})
	if err != nil || s.Credentials == nil || s.Credentials.AccessKeyID != "AKID1" {
		t.Fatalf("due credentials, failing source: %v, %v", s, err)
	}
	f.clock.Advance(4 * time.Minute) // expired
	s, err = f.m.Fetch(context.Background(), session.FetchOptions{})
	if err != nil {
		t.Fatalf("fresh tokens, expired credentials, failing source: %v", err)
	}
	if s.Credentials != nil {
		t.Fatalf("expired credentials handed out (expired %v, now %v)", s.Credentials.Expires, f.clock.Now())
	}
	calls := creds.calls.Load()
	for range 5 {
		if _, err := f.m.Fetch(context.Background(), session.FetchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if creds.calls.Load() != calls {
		t.Fatal("the failing source was asked on every call")
	}
	creds.fail.Store(false)
	f.clock.Advance(31 * time.Second)
	s, err = f.m.Fetch(context.Background(), session.FetchOptions{})
	if err != nil || s.Credentials == nil || !s.Credentials.Expires.After(f.clock.Now()) {
		t.Fatalf("after the source recovered: %v, %v", s, err)
	}
	if n := f.idp.refreshCalls(); n != 0 {
		t.Fatalf("%d token refreshes for fresh tokens", n)
	}
}

// TestManagerWithoutCredentialsSource: a Manager without a CredentialsSource
// sharing a store with one that has one neither hands out credentials it cannot
// renew nor tries to renew them.
func TestManagerWithoutCredentialsSource(t *testing.T) {
	f := newFixture(t, func(cfg *session.Config) { cfg.Credentials = &fakeCreds{clock: cfg.Clock} })
	if s := f.signIn(t); s.Credentials == nil {
		t.Fatal("no credentials at sign-in")
	}
	plain := f.manager(t, f.idp.client(t), nil)
	for _, d := range []time.Duration{0, 11 * time.Minute, 5 * time.Minute} {
		f.clock.Advance(d)
		s, err := plain.Fetch(context.Background(), session.FetchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if s.Credentials != nil || s.IdentityID != "" {
			t.Fatalf("after %v: credentials %v, identity %q from a Manager without a source", d, s.Credentials, s.IdentityID)
		}
	}
	if n := f.idp.refreshCalls(); n != 0 {
		t.Fatalf("%d token refreshes", n)
	}
}
