package session

import (
	"context"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/secret"
)

// MFA is the signed-in user's multi-factor authentication, seen through a
// Manager (Manager.MFA): setting up an authenticator app (TOTP) and choosing
// the preferred method. Like Account, it acts with the current session's access
// token (ErrSignedOut without a session) and has no state of its own. Answering
// an MFA challenge during sign-in is Manager.ConfirmSignIn.
type MFA struct{ m *Manager }

// MFA returns the MFA view of the Manager's signed-in user. See MFA.
func (m *Manager) MFA() MFA { return MFA{m} }

// SetUpTOTP starts TOTP set-up for the signed-in user and returns the secret for
// the authenticator app; finish with VerifyTOTPSetup.
func (f MFA) SetUpTOTP(ctx context.Context) (jwt.Secret, error) {
	at, _, err := f.m.accessToken(ctx)
	if err != nil {
		return "", err
	}
	return f.m.cfg.Cognito.SetUpTOTP(ctx, at)
}

// VerifyTOTPSetup checks the authenticator app's first code; TOTP is then enabled.
func (f MFA) VerifyTOTPSetup(ctx context.Context, code secret.String, deviceName string) error {
	at, _, err := f.m.accessToken(ctx)
	if err != nil {
		return err
	}
	return f.m.cfg.Cognito.VerifyTOTPSetup(ctx, at, code, deviceName)
}

// SetPreference enables, disables or prefers the signed-in user's MFA methods
// (SetUserMFAPreference).
func (f MFA) SetPreference(ctx context.Context, p cognito.MFAPreference) error {
	at, _, err := f.m.accessToken(ctx)
	if err != nil {
		return err
	}
	return f.m.cfg.Cognito.SetMFAPreference(ctx, at, p)
}
