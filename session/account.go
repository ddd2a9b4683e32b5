package session

import (
	"context"
	"errors"
	"fmt"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/store"
)

// The account's lifecycle through the Manager: sign-up and its confirmation,
// password reset and change, attributes, MFA set-up, and deleting the user.
// Calls of a signed-in user use the current session's access token (refreshed
// first when due), so ErrSignedOut comes back without a session. Attribute
// changes show in the ID token's claims after the next refresh
// (Fetch with ForceRefresh).

// SignUp registers a new user (no session is started; see ConfirmSignUp).
func (m *Manager) SignUp(ctx context.Context, in cognito.SignUpInput) (*cognito.SignUpResult, error) {
	return m.cfg.Cognito.SignUp(ctx, in)
}

// ConfirmSignUp confirms a new user with the code SignUp sent and emits
// SignUpConfirmed. The result's Session, when the service gives one, signs the
// user in with AutoSignIn.
func (m *Manager) ConfirmSignUp(ctx context.Context, in cognito.ConfirmSignUpInput) (*cognito.ConfirmSignUpResult, error) {
	res, err := m.cfg.Cognito.ConfirmSignUp(ctx, in)
	if err != nil {
		return nil, err
	}
	m.emit(Event{Kind: SignUpConfirmed, Username: in.Username})
	return res, nil
}

// ResendSignUpCode sends a new sign-up code to an unconfirmed user.
func (m *Manager) ResendSignUpCode(ctx context.Context, username string) (*cognito.CodeDelivery, error) {
	return m.cfg.Cognito.ResendConfirmationCode(ctx, username, nil)
}

// ResetPassword sends a password-reset code (ForgotPassword): the way out of
// cognito.ErrPasswordResetRequired. Finish with ConfirmResetPassword.
func (m *Manager) ResetPassword(ctx context.Context, username string) (*cognito.CodeDelivery, error) {
	return m.cfg.Cognito.ForgotPassword(ctx, username, nil)
}

// ConfirmResetPassword sets the new password with the code ResetPassword sent
// and emits PasswordChanged. A session of the user, if any, continues.
func (m *Manager) ConfirmResetPassword(ctx context.Context, in cognito.ConfirmForgotPasswordInput) error {
	if err := m.cfg.Cognito.ConfirmForgotPassword(ctx, in); err != nil {
		return err
	}
	m.emit(Event{Kind: PasswordChanged, Username: in.Username})
	return nil
}

// accessToken is the current session's access token, refreshed when due.
func (m *Manager) accessToken(ctx context.Context) (jwt.Secret, *Session, error) {
	sess, err := m.Fetch(ctx, FetchOptions{})
	if err != nil {
		return "", nil, err
	}
	return jwt.Secret(sess.Tokens.Access.Raw()), sess, nil
}

// ChangePassword changes the signed-in user's password and emits PasswordChanged.
func (m *Manager) ChangePassword(ctx context.Context, oldPassword, newPassword string) error {
	at, sess, err := m.accessToken(ctx)
	if err != nil {
		return err
	}
	if err := m.cfg.Cognito.ChangePassword(ctx, at, oldPassword, newPassword); err != nil {
		return err
	}
	m.emit(Event{Kind: PasswordChanged, Username: sess.Username})
	return nil
}

// User returns the signed-in user's attributes and MFA settings (GetUser).
func (m *Manager) User(ctx context.Context) (*cognito.User, error) {
	at, _, err := m.accessToken(ctx)
	if err != nil {
		return nil, err
	}
	return m.cfg.Cognito.GetUser(ctx, at)
}

// UpdateUserAttributes sets attributes of the signed-in user; a changed email or
// phone_number is verified with VerifyUserAttribute and the code sent for it.
func (m *Manager) UpdateUserAttributes(ctx context.Context, attrs map[string]string) ([]cognito.CodeDelivery, error) {
	at, _, err := m.accessToken(ctx)
	if err != nil {
		return nil, err
	}
	return m.cfg.Cognito.UpdateUserAttributes(ctx, at, attrs, nil)
}

// SendAttributeVerificationCode sends a code to verify the email or phone_number.
func (m *Manager) SendAttributeVerificationCode(ctx context.Context, name string) (*cognito.CodeDelivery, error) {
	at, _, err := m.accessToken(ctx)
	if err != nil {
		return nil, err
	}
	return m.cfg.Cognito.GetUserAttributeVerificationCode(ctx, at, name, nil)
}

// VerifyUserAttribute verifies the email or phone_number with the code sent.
func (m *Manager) VerifyUserAttribute(ctx context.Context, name, code string) error {
	at, _, err := m.accessToken(ctx)
	if err != nil {
		return err
	}
	return m.cfg.Cognito.VerifyUserAttribute(ctx, at, name, code)
}

// DeleteUserAttributes removes attributes of the signed-in user.
func (m *Manager) DeleteUserAttributes(ctx context.Context, names []string) error {
	at, _, err := m.accessToken(ctx)
	if err != nil {
		return err
	}
	return m.cfg.Cognito.DeleteUserAttributes(ctx, at, names)
}

// SetUpTOTP starts TOTP set-up for the signed-in user and returns the secret for
// the authenticator app; finish with VerifyTOTPSetup.
func (m *Manager) SetUpTOTP(ctx context.Context) (jwt.Secret, error) {
	at, _, err := m.accessToken(ctx)
	if err != nil {
		return "", err
	}
	return m.cfg.Cognito.SetUpTOTP(ctx, at)
}

// VerifyTOTPSetup checks the authenticator app's first code; TOTP is then enabled.
func (m *Manager) VerifyTOTPSetup(ctx context.Context, code, deviceName string) error {
	at, _, err := m.accessToken(ctx)
	if err != nil {
		return err
	}
	return m.cfg.Cognito.VerifyTOTPSetup(ctx, at, code, deviceName)
}

// SetMFAPreference enables, disables or prefers the signed-in user's MFA methods.
func (m *Manager) SetMFAPreference(ctx context.Context, p cognito.MFAPreference) error {
	at, _, err := m.accessToken(ctx)
	if err != nil {
		return err
	}
	return m.cfg.Cognito.SetMFAPreference(ctx, at, p)
}

// DeleteUser deletes the signed-in user at the service and then ends the session
// here as the service has: the stored session, the current-user mark, the
// remembered device and what the CredentialsSource keeps are removed, and
// subscribers get UserDeleted then SignedOut (ReasonUserGone). If the service
// refuses, nothing changes here.
func (m *Manager) DeleteUser(ctx context.Context) error {
	at, _, err := m.accessToken(ctx)
	if err != nil {
		return err
	}
	if err := m.cfg.Cognito.DeleteUser(ctx, at); err != nil {
		return err
	}
	m.rmu.Lock()
	defer m.rmu.Unlock()
	st, err := m.load(ctx)
	var so *SignedOutError
	if errors.As(err, &so) {
		return nil // ended meanwhile by another process
	}
	if err != nil {
		return fmt.Errorf("session: the user is deleted, but the local session could not be read: %w", err)
	}
	user := st.Value.key.User
	m.unpublish()
	var errs []error
	if err := m.cfg.Store.Delete(ctx, st.Value.key, store.AnyVersion); err != nil && !errors.Is(err, store.ErrNotFound) {
		errs = append(errs, fmt.Errorf("session: removing the stored session: %w", err))
	}
	m.clearCurrent(ctx, st.Value.key)
	if err := m.dropDevice(ctx, user, ""); err != nil {
		errs = append(errs, err)
	}
	if err := m.forgetCredentials(ctx, st.Value.sess); err != nil {
		errs = append(errs, err)
	}
	m.emit(Event{Kind: UserDeleted, Username: user})
	m.emit(Event{Kind: SignedOut, Username: user, Reason: ReasonUserGone})
	return errors.Join(errs...)
}

// AutoSignIn signs in the user ConfirmSignUp just confirmed, with the Session
// it returned (USER_AUTH; the app client must allow it), without asking for the
// password again: Amplify's autoSignIn. The session is good once, for a few
// minutes.
func (m *Manager) AutoSignIn(ctx context.Context, username string, confirmed *cognito.ConfirmSignUpResult) (*SignInResult, error) {
	if confirmed == nil || confirmed.Session == "" {
		return nil, errors.New("session: AutoSignIn needs the Session ConfirmSignUp returned")
	}
	return m.SignIn(ctx, cognito.SignInInput{Username: username, Flow: cognito.FlowUserAuth, Session: confirmed.Session})
}

// UserAuthFactors lists how the signed-in user can sign in (GetUserAuthFactors):
// the first factors USER_AUTH offers them and their MFA methods.
func (m *Manager) UserAuthFactors(ctx context.Context) (*cognito.AuthFactors, error) {
	at, _, err := m.accessToken(ctx)
	if err != nil {
		return nil, err
	}
	return m.cfg.Cognito.GetUserAuthFactors(ctx, at)
}
