package emulator_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/emulator"
)

// Tests of the choices README.md lists under "Fidelity decisions": what the
// Cognito documentation says, and where it is silent, what the emulator does.

// TestMFACodeRetriesOnOneSession: a wrong MFA code is answered with Cognito's
// CodeMismatchException and the same session takes another code, up to three; the
// third wrong code ends the session.
func TestMFACodeRetriesOnOneSession(t *testing.T) {
	type setup struct {
		srv       *emulator.Server
		user      string
		challenge string
		field     string
		code      func() string
	}
	sms := func(t *testing.T) setup {
		srv := mfaServer(t)
		pool := srv.PoolID("app")
		mustCall(t, srv, "AdminSetUserMFAPreference", map[string]any{"UserPoolId": pool, "Username": "carol",
			"SMSMfaSettings": map[string]bool{"Enabled": true}})
		return setup{srv, "carol", "SMS_MFA", "SMS_MFA_CODE", func() string {
			code, _ := srv.LastCode(pool, "carol")
			return code
		}}
	}
	totp := func(t *testing.T) setup {
		srv := mfaServer(t)
		web := srv.AppClient("app", "web").ID
		tok := passwordAuth(t, srv, web, "alice")["AuthenticationResult"].(map[string]any)["AccessToken"].(string)
		secret := mustCall(t, srv, "AssociateSoftwareToken", map[string]string{"AccessToken": tok})["SecretCode"].(string)
		code, _ := emulator.TOTP(secret, srv.Now())
		mustCall(t, srv, "VerifySoftwareToken", map[string]string{"AccessToken": tok, "UserCode": code})
		mustCall(t, srv, "SetUserMFAPreference", map[string]any{"AccessToken": tok,
			"SoftwareTokenMfaSettings": map[string]bool{"Enabled": true, "PreferredMfa": true}})
		srv.Advance(30 * time.Second) // past the step used to verify
		return setup{srv, "alice", "SOFTWARE_TOKEN_MFA", "SOFTWARE_TOKEN_MFA_CODE", func() string {
			code, _ := emulator.TOTP(srv.TOTPSecret(srv.PoolID("app"), "alice"), srv.Now())
			return code
		}}
	}
	for name, mk := range map[string]func(*testing.T) setup{"SMS_MFA": sms, "SOFTWARE_TOKEN_MFA": totp} {
		t.Run(name, func(t *testing.T) {
			s := mk(t)
			web := s.srv.AppClient("app", "web").ID
			answer := func(session, code string) (map[string]any, *apiError) {
				return respond(t, s.srv, web, s.challenge, session, map[string]string{"USERNAME": s.user, s.field: code})
			}

			ch := passwordAuth(t, s.srv, web, s.user)
			if ch["ChallengeName"] != s.challenge {
				t.Fatalf("challenge %v, want %s", ch["ChallengeName"], s.challenge)
			}
			session := ch["Session"].(string)
			for i := 0; i < 2; i++ {
				_, ae := answer(session, "000000x")
				wantErr(t, ae, "CodeMismatchException", "Invalid code or auth state for the user.")
			}
			out, ae := answer(session, s.code())
			if ae != nil || out["AuthenticationResult"] == nil {
				t.Fatalf("right code after two wrong ones: %v %v", out, ae)
			}
			// A session that succeeded is spent.
			_, ae = answer(session, s.code())
			wantErr(t, ae, "NotAuthorizedException", "Invalid session")

			s.srv.Advance(30 * time.Second) // a fresh TOTP step for the next sign-in
			session = passwordAuth(t, s.srv, web, s.user)["Session"].(string)
			for i := 0; i < 3; i++ {
				_, ae := answer(session, "000000x")
				wantErr(t, ae, "CodeMismatchException", "")
			}
			_, ae = answer(session, s.code())
			wantErr(t, ae, "NotAuthorizedException", "Invalid session")
		})
	}
}

// TestRotationGraceBoundary: a rotated refresh token works for
// [rotation, rotation+RetryGracePeriodSeconds); with a grace of zero the first
// successful rotation invalidates it at once.
func TestRotationGraceBoundary(t *testing.T) {
	for _, tc := range []struct {
		name  string
		grace time.Duration
		after time.Duration // when the old token is offered again
		ok    bool
	}{
		{"no grace, same instant", 0, 0, false},
		{"10 s grace, same instant", 10 * time.Second, 0, true},
		{"10 s grace, last second", 10 * time.Second, 9 * time.Second, true},
		{"10 s grace, at its end", 10 * time.Second, 10 * time.Second, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewFake(t0)
			srv := emulator.NewServer(emulator.Options{Clock: clk, Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
				Name:    "app",
				Clients: []emulator.SeedClient{{Name: "rot", RefreshTokenRotation: true, RetryGracePeriod: emulator.Duration(tc.grace)}},
				Users:   []emulator.SeedUser{{Username: "alice", Password: password}},
			}}}})
			defer srv.Close()
			c, ctx, id := sdk(srv), context.Background(), srv.AppClient("app", "rot").ID
			old := signIn(t, c, id, "alice", password).RefreshToken
			if _, err := c.GetTokensFromRefreshToken(ctx, &cip.GetTokensFromRefreshTokenInput{ClientId: aws.String(id), RefreshToken: old}); err != nil {
				t.Fatal(err)
			}
			clk.Advance(tc.after)
			_, err := c.GetTokensFromRefreshToken(ctx, &cip.GetTokensFromRefreshTokenInput{ClientId: aws.String(id), RefreshToken: old})
			var reuse *types.RefreshTokenReuseException
			switch {
			case tc.ok && err != nil:
				t.Fatalf("old token inside the grace period: %v", err)
			case !tc.ok && !errors.As(err, &reuse):
				t.Fatalf("old token outside the grace period: %v, want RefreshTokenReuseException", err)
			}
		})
	}
}

// TestRotatedRefreshTokenKeepsOriginalExpiry: rotation does not extend a sign-in;
// every refresh token of it expires when the first one does.
func TestRotatedRefreshTokenKeepsOriginalExpiry(t *testing.T) {
	clk := clock.NewFake(t0)
	srv := emulator.NewServer(emulator.Options{Clock: clk, Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
		Name: "app",
		Clients: []emulator.SeedClient{{Name: "rot", RefreshTokenRotation: true,
			AccessTokenValidity: emulator.Duration(5 * time.Minute), IDTokenValidity: emulator.Duration(5 * time.Minute),
			RefreshTokenValidity: emulator.Duration(time.Hour)}},
		Users: []emulator.SeedUser{{Username: "alice", Password: password}},
	}}}})
	defer srv.Close()
	c, ctx, id := sdk(srv), context.Background(), srv.AppClient("app", "rot").ID
	rt := signIn(t, c, id, "alice", password).RefreshToken
	refresh := func() error {
		out, err := c.GetTokensFromRefreshToken(ctx, &cip.GetTokensFromRefreshTokenInput{ClientId: aws.String(id), RefreshToken: rt})
		if err == nil {
			rt = out.AuthenticationResult.RefreshToken
		}
		return err
	}
	for i := 0; i < 3; i++ {
		clk.Advance(15 * time.Minute)
		if err := refresh(); err != nil {
			t.Fatalf("refresh at %v: %v", 15*time.Minute*time.Duration(i+1), err)
		}
	}
	clk.Advance(15 * time.Minute) // one hour after sign-in
	var na *types.NotAuthorizedException
	if err := refresh(); !errors.As(err, &na) || na.ErrorMessage() != "Refresh Token has expired" {
		t.Fatalf("refresh an hour after sign-in: %v, want Refresh Token has expired", err)
	}
}
