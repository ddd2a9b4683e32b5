package session

import (
	"context"
	"errors"
	"fmt"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/secret"
	"github.com/cogauth/cogauth/store"
)

// Account is the user's account, seen through a Manager (Manager.Account): sign-up
// and its confirmation, password reset and change, attributes, how the user can
// sign in, and deleting the user. SignUp, ConfirmSignUp, ResendSignUpCode,
// ResetPassword and ConfirmResetPassword need no session (the user is not signed
// in yet, or cannot sign in); the other methods act on the signed-in user with
// the current session's access token (refreshed first when due), so they fail
// with ErrSignedOut without a session. Attribute changes show in the ID token's
// claims after the next refresh (Fetch with ForceRefresh).
//
// An Account is a small value holding its Manager: get one with m.Account()
// whenever it is needed, or keep it; it shares the Manager's session, store and
// events, and has no state of its own.
type Account struct{ m *Manager }

// Account returns the account view of the Manager's user. See Account.
func (m *Manager) Account() Account { return Account{m} }

// SignUp registers a new user (no session is started; see ConfirmSignUp).
func (a Account) SignUp(ctx context.Context, in cognito.SignUpInput) (*cognito.SignUpResult, error) {
	return a.m.cfg.Cognito.SignUp(ctx, in)
}

// ConfirmSignUp confirms a new user with the code SignUp sent and emits
// SignUpConfirmed. The result's Session, when the service gives one, signs the
// user in with Manager.AutoSignIn.
func (a Account) ConfirmSignUp(ctx context.Context, in cognito.ConfirmSignUpInput) (*cognito.ConfirmSignUpResult, error) {
	res, err := a.m.cfg.Cognito.ConfirmSignUp(ctx, in)
	if err != nil {
		return nil, err
	}
	a.m.emit(Event{Kind: SignUpConfirmed, Username: in.Username})
	return res, nil
}

// ResendSignUpCode sends a new sign-up code to an unconfirmed user.
func (a Account) ResendSignUpCode(ctx context.Context, username string) (*cognito.CodeDelivery, error) {
	return a.m.cfg.Cognito.ResendConfirmationCode(ctx, username, nil)
}

// ResetPassword sends a password-reset code (ForgotPassword): the way out of
// cognito.ErrPasswordResetRequired. Finish with ConfirmResetPassword.
func (a Account) ResetPassword(ctx context.Context, username string) (*cognito.CodeDelivery, error) {
	return a.m.cfg.Cognito.ForgotPassword(ctx, username, nil)
}

// ConfirmResetPassword sets the new password with the code ResetPassword sent
// and emits PasswordChanged. A session of the user, if any, continues.
func (a Account) ConfirmResetPassword(ctx context.Context, in cognito.ConfirmForgotPasswordInput) error {
	if err := a.m.cfg.Cognito.ConfirmForgotPassword(ctx, in); err != nil {
		return err
	}
	a.m.emit(Event{Kind: PasswordChanged, Username: in.Username})
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
func (a Account) ChangePassword(ctx context.Context, oldPassword, newPassword secret.String) error {
	at, sess, err := a.m.accessToken(ctx)
	if err != nil {
		return err
	}
	if err := a.m.cfg.Cognito.ChangePassword(ctx, at, oldPassword, newPassword); err != nil {
		return err
	}
	a.m.emit(Event{Kind: PasswordChanged, Username: sess.Username})
	return nil
}

// User returns the signed-in user's attributes and MFA settings (GetUser).
func (a Account) User(ctx context.Context) (*cognito.User, error) {
	at, _, err := a.m.accessToken(ctx)
	if err != nil {
		return nil, err
	}
	return a.m.cfg.Cognito.GetUser(ctx, at)
}

// UpdateAttributes sets attributes of the signed-in user (UpdateUserAttributes);
// a changed email or phone_number is verified with VerifyAttribute and the code
// sent for it.
func (a Account) UpdateAttributes(ctx context.Context, attrs map[string]string) ([]cognito.CodeDelivery, error) {
	at, _, err := a.m.accessToken(ctx)
	if err != nil {
		return nil, err
	}
	return a.m.cfg.Cognito.UpdateUserAttributes(ctx, at, attrs, nil)
}

// SendVerificationCode sends a code to verify the email or phone_number
// (GetUserAttributeVerificationCode).
func (a Account) SendVerificationCode(ctx context.Context, name string) (*cognito.CodeDelivery, error) {
	at, _, err := a.m.accessToken(ctx)
	if err != nil {
		return nil, err
	}
	return a.m.cfg.Cognito.GetUserAttributeVerificationCode(ctx, at, name, nil)
}

// VerifyAttribute verifies the email or phone_number with the code sent
// (VerifyUserAttribute).
func (a Account) VerifyAttribute(ctx context.Context, name string, code secret.String) error {
	at, _, err := a.m.accessToken(ctx)
	if err != nil {
		return err
	}
	return a.m.cfg.Cognito.VerifyUserAttribute(ctx, at, name, code)
}

// DeleteAttributes removes attributes of the signed-in user (DeleteUserAttributes).
func (a Account) DeleteAttributes(ctx context.Context, names []string) error {
	at, _, err := a.m.accessToken(ctx)
	if err != nil {
		return err
	}
	return a.m.cfg.Cognito.DeleteUserAttributes(ctx, at, names)
}

// Delete deletes the signed-in user at the service (DeleteUser) and then ends
// the session here as the service has: the stored session, the current-user mark, the
// remembered device and what the CredentialsSource keeps are removed, and
// subscribers get UserDeleted then SignedOut (ReasonUserGone). If the service
// refuses, nothing changes here.
func (a Account) Delete(ctx context.Context) error {
	at, _, err := a.m.accessToken(ctx)
	if err != nil {
		return err
	}
	if err := a.m.cfg.Cognito.DeleteUser(ctx, at); err != nil {
		return err
	}
	return a.m.endDeleted(ctx)
}

// endDeleted ends the session of a user the service has just deleted.
func (m *Manager) endDeleted(ctx context.Context) error {
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
	if err := m.cfg.Store.Delete(ctx, st.Value.key.store(), store.AnyVersion); err != nil && !errors.Is(err, store.ErrNotFound) {
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

// AuthFactors lists how the signed-in user can sign in (GetUserAuthFactors):
// the first factors USER_AUTH offers them and their MFA methods.
func (a Account) AuthFactors(ctx context.Context) (*cognito.AuthFactors, error) {
	at, _, err := a.m.accessToken(ctx)
	if err != nil {
		return nil, err
	}
	return a.m.cfg.Cognito.GetUserAuthFactors(ctx, at)
}
