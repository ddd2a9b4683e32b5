package cognito

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/secret"
)

// The account's own calls: sign-up, password reset and change, attributes and
// their verification, MFA set-up outside sign-in, and deleting the user. Calls
// that name a user (sign-up, password reset) send SECRET_HASH when the client has
// a secret; calls of a signed-in user take its access token.

// CodeDelivery says where the service sent a code (CodeDeliveryDetails). The
// destination is masked by the service ("a***@e***").
type CodeDelivery struct {
	Destination   string
	Medium        string // EMAIL or SMS
	AttributeName string // email or phone_number
}

func codeDelivery(d *types.CodeDeliveryDetailsType) *CodeDelivery {
	if d == nil {
		return nil
	}
	return &CodeDelivery{
		Destination:   clipText(aws.ToString(d.Destination), 256),
		Medium:        string(d.DeliveryMedium),
		AttributeName: clipText(aws.ToString(d.AttributeName), 64),
	}
}

// clipText bounds a string taken from an answer that is shown to a user.
func clipText(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// maxAttributes bounds the attributes sent in one call, as Cognito does.
const maxAttributes = 100

func attributeList(op string, m map[string]string) ([]types.AttributeType, error) {
	if len(m) > maxAttributes {
		return nil, fmt.Errorf("cognito: %s: %d attributes, at most %d", op, len(m), maxAttributes)
	}
	names := make([]string, 0, len(m))
	for k := range m {
		if k == "" {
			return nil, fmt.Errorf("cognito: %s: an attribute has no name", op)
		}
		names = append(names, k)
	}
	sort.Strings(names)
	out := make([]types.AttributeType, 0, len(names))
	for _, n := range names {
		out = append(out, types.AttributeType{Name: aws.String(n), Value: aws.String(m[n])})
	}
	return out, nil
}

// SignUpInput is what SignUp needs. Attributes are the user's (email,
// phone_number, custom:…); ValidationData goes to the PreSignUp trigger only.
type SignUpInput struct {
	Username string
	// Password is the new user's password. Leave it empty only with
	// Passwordless.
	Password jwt.Secret
	// Passwordless signs the user up without a password, to sign in with
	// one-time codes or a passkey (USER_AUTH). Cognito allows it only for an
	// app client with USER_AUTH, a pool whose sign-in policy has EMAIL_OTP or
	// SMS_OTP, and an address the pool verifies automatically; otherwise it
	// answers ErrInvalidPassword.
	Passwordless   bool
	Attributes     map[string]string
	ValidationData map[string]string
	ClientMetadata map[string]string
}

// SignUpResult is SignUp's answer.
type SignUpResult struct {
	UserSub string
	// Confirmed is true when the pool (or its PreSignUp trigger) confirmed the
	// user at once; otherwise a code went to Delivery (nil when the pool verifies
	// no address and an administrator must confirm).
	Confirmed bool
	Delivery  *CodeDelivery
	// Session, when set, signs the user in after ConfirmSignUp without the
	// password (see ConfirmSignUpResult.Session).
	Session jwt.Secret
}

// SignUp registers a new user. Errors: ErrUsernameExists, ErrInvalidPassword,
// ErrInvalidParameter, ErrUserLambdaValidation, ErrCodeDeliveryFailure.
func (c *Client) SignUp(ctx context.Context, in SignUpInput) (*SignUpResult, error) {
	switch {
	case in.Username == "":
		return nil, errors.New("cognito: SignUp needs a username")
	case in.Passwordless && in.Password != "":
		return nil, errors.New("cognito: SignUp takes a password or Passwordless, not both")
	case !in.Passwordless && in.Password == "":
		return nil, errors.New("cognito: SignUp needs a password (or Passwordless, for a user who signs in with codes or a passkey)")
	}
	attrs, err := attributeList("SignUp", in.Attributes)
	if err != nil {
		return nil, err
	}
	vd, err := attributeList("SignUp", in.ValidationData)
	if err != nil {
		return nil, err
	}
	req := &cip.SignUpInput{
		ClientId:       aws.String(c.opts.ClientID),
		Username:       aws.String(in.Username),
		UserAttributes: attrs,
		ValidationData: vd,
		ClientMetadata: in.ClientMetadata,
		SecretHash:     c.secretHash(in.Username),
	}
	if !in.Passwordless {
		req.Password = aws.String(in.Password.Reveal())
	}
	out, err := c.api.SignUp(ctx, req)
	if err != nil {
		return nil, MapError("SignUp", err)
	}
	if aws.ToString(out.UserSub) == "" {
		return nil, invalidAnswer("SignUp", out.ResultMetadata, "no UserSub")
	}
	return &SignUpResult{
		UserSub:   clipText(aws.ToString(out.UserSub), 128),
		Confirmed: out.UserConfirmed,
		Delivery:  codeDelivery(out.CodeDeliveryDetails),
		Session:   jwt.Secret(aws.ToString(out.Session)),
	}, nil
}

// secretHash is the SECRET_HASH field of a call naming username, nil without a
// client secret.
func (c *Client) secretHash(username string) *string {
	if c.secret.Get() == "" {
		return nil
	}
	return aws.String(SecretHash(c.secret.Get().Reveal(), username, c.opts.ClientID))
}

// ConfirmSignUpInput is what ConfirmSignUp needs.
type ConfirmSignUpInput struct {
	Username string
	Code     jwt.Secret
	// Session is SignUpResult.Session, when the service gave one.
	Session        jwt.Secret
	ClientMetadata map[string]string
}

// ConfirmSignUpResult is ConfirmSignUp's answer.
type ConfirmSignUpResult struct {
	// Session, when set, signs the user in without the password: pass it to
	// SignIn with FlowUserAuth (Amplify's autoSignIn). It is good for a few
	// minutes and once.
	Session jwt.Secret
}

// ConfirmSignUp confirms a new user with the code SignUp sent. Errors:
// ErrCodeMismatch, ErrExpiredCode, ErrLimitExceeded (too many wrong codes),
// ErrNotAuthorized (already confirmed), ErrUserNotFound.
func (c *Client) ConfirmSignUp(ctx context.Context, in ConfirmSignUpInput) (*ConfirmSignUpResult, error) {
	if in.Username == "" || in.Code == "" {
		return nil, errors.New("cognito: ConfirmSignUp needs a username and a code")
	}
	req := &cip.ConfirmSignUpInput{
		ClientId:         aws.String(c.opts.ClientID),
		Username:         aws.String(in.Username),
		ConfirmationCode: aws.String(in.Code.Reveal()),
		ClientMetadata:   in.ClientMetadata,
		SecretHash:       c.secretHash(in.Username),
	}
	if in.Session != "" {
		req.Session = aws.String(in.Session.Reveal())
	}
	out, err := c.api.ConfirmSignUp(ctx, req)
	if err != nil {
		return nil, MapError("ConfirmSignUp", err)
	}
	return &ConfirmSignUpResult{Session: jwt.Secret(aws.ToString(out.Session))}, nil
}

// ResendConfirmationCode sends a new sign-up code to an unconfirmed user.
func (c *Client) ResendConfirmationCode(ctx context.Context, username string, meta map[string]string) (*CodeDelivery, error) {
	if username == "" {
		return nil, errors.New("cognito: ResendConfirmationCode needs a username")
	}
	out, err := c.api.ResendConfirmationCode(ctx, &cip.ResendConfirmationCodeInput{
		ClientId: aws.String(c.opts.ClientID), Username: aws.String(username),
		ClientMetadata: meta, SecretHash: c.secretHash(username),
	})
	if err != nil {
		return nil, MapError("ResendConfirmationCode", err)
	}
	return codeDelivery(out.CodeDeliveryDetails), nil
}

// ForgotPassword sends a password-reset code to the user's verified address:
// the way out of ErrPasswordResetRequired. Finish with ConfirmForgotPassword.
func (c *Client) ForgotPassword(ctx context.Context, username string, meta map[string]string) (*CodeDelivery, error) {
	if username == "" {
		return nil, errors.New("cognito: ForgotPassword needs a username")
	}
	out, err := c.api.ForgotPassword(ctx, &cip.ForgotPasswordInput{
		ClientId: aws.String(c.opts.ClientID), Username: aws.String(username),
		ClientMetadata: meta, SecretHash: c.secretHash(username),
	})
	if err != nil {
		return nil, MapError("ForgotPassword", err)
	}
	return codeDelivery(out.CodeDeliveryDetails), nil
}

// ConfirmForgotPasswordInput is what ConfirmForgotPassword needs.
type ConfirmForgotPasswordInput struct {
	Username       string
	Code           jwt.Secret
	NewPassword    jwt.Secret
	ClientMetadata map[string]string
}

// ConfirmForgotPassword sets a new password with the code ForgotPassword sent.
// Errors: ErrCodeMismatch, ErrExpiredCode, ErrLimitExceeded, ErrInvalidPassword.
func (c *Client) ConfirmForgotPassword(ctx context.Context, in ConfirmForgotPasswordInput) error {
	if in.Username == "" || in.Code == "" || in.NewPassword == "" {
		return errors.New("cognito: ConfirmForgotPassword needs a username, a code and a new password")
	}
	_, err := c.api.ConfirmForgotPassword(ctx, &cip.ConfirmForgotPasswordInput{
		ClientId: aws.String(c.opts.ClientID), Username: aws.String(in.Username),
		ConfirmationCode: aws.String(in.Code.Reveal()), Password: aws.String(in.NewPassword.Reveal()),
		ClientMetadata: in.ClientMetadata, SecretHash: c.secretHash(in.Username),
	})
	return MapError("ConfirmForgotPassword", err)
}

// ChangePassword changes the signed-in user's password. A wrong old password is
// ErrNotAuthorized; a new one the pool's policy refuses is ErrInvalidPassword.
func (c *Client) ChangePassword(ctx context.Context, accessToken jwt.Secret, oldPassword, newPassword secret.String) error {
	if accessToken == "" || oldPassword == "" || newPassword == "" {
		return errors.New("cognito: ChangePassword needs an access token, the old and the new password")
	}
	_, err := c.api.ChangePassword(ctx, &cip.ChangePasswordInput{
		AccessToken:      aws.String(accessToken.Reveal()),
		PreviousPassword: aws.String(oldPassword.Reveal()),
		ProposedPassword: aws.String(newPassword.Reveal()),
	})
	return MapError("ChangePassword", err)
}

// UpdateUserAttributes sets attributes of the signed-in user. A changed email or
// phone_number is unverified until VerifyUserAttribute; the codes sent for it are
// returned.
func (c *Client) UpdateUserAttributes(ctx context.Context, accessToken jwt.Secret, attrs map[string]string, meta map[string]string) ([]CodeDelivery, error) {
	if accessToken == "" || len(attrs) == 0 {
		return nil, errors.New("cognito: UpdateUserAttributes needs an access token and attributes")
	}
	list, err := attributeList("UpdateUserAttributes", attrs)
	if err != nil {
		return nil, err
	}
	out, err := c.api.UpdateUserAttributes(ctx, &cip.UpdateUserAttributesInput{
		AccessToken: aws.String(accessToken.Reveal()), UserAttributes: list, ClientMetadata: meta,
	})
	if err != nil {
		return nil, MapError("UpdateUserAttributes", err)
	}
	var ds []CodeDelivery
	for i := range out.CodeDeliveryDetailsList {
		if len(ds) == maxAttributes {
			break
		}
		ds = append(ds, *codeDelivery(&out.CodeDeliveryDetailsList[i]))
	}
	return ds, nil
}

// GetUserAttributeVerificationCode sends a code to verify the signed-in user's
// email or phone_number.
func (c *Client) GetUserAttributeVerificationCode(ctx context.Context, accessToken jwt.Secret, name string, meta map[string]string) (*CodeDelivery, error) {
	if accessToken == "" || name == "" {
		return nil, errors.New("cognito: GetUserAttributeVerificationCode needs an access token and an attribute name")
	}
	out, err := c.api.GetUserAttributeVerificationCode(ctx, &cip.GetUserAttributeVerificationCodeInput{
		AccessToken: aws.String(accessToken.Reveal()), AttributeName: aws.String(name), ClientMetadata: meta,
	})
	if err != nil {
		return nil, MapError("GetUserAttributeVerificationCode", err)
	}
	return codeDelivery(out.CodeDeliveryDetails), nil
}

// VerifyUserAttribute marks the attribute verified with the code sent for it.
// Errors: ErrCodeMismatch, ErrExpiredCode, ErrLimitExceeded.
func (c *Client) VerifyUserAttribute(ctx context.Context, accessToken jwt.Secret, name string, code secret.String) error {
	if accessToken == "" || name == "" || code == "" {
		return errors.New("cognito: VerifyUserAttribute needs an access token, an attribute name and a code")
	}
	_, err := c.api.VerifyUserAttribute(ctx, &cip.VerifyUserAttributeInput{
		AccessToken: aws.String(accessToken.Reveal()), AttributeName: aws.String(name), Code: aws.String(code.Reveal()),
	})
	return MapError("VerifyUserAttribute", err)
}

// DeleteUserAttributes removes attributes of the signed-in user.
func (c *Client) DeleteUserAttributes(ctx context.Context, accessToken jwt.Secret, names []string) error {
	if accessToken == "" || len(names) == 0 {
		return errors.New("cognito: DeleteUserAttributes needs an access token and attribute names")
	}
	if len(names) > maxAttributes {
		return fmt.Errorf("cognito: DeleteUserAttributes: %d attributes, at most %d", len(names), maxAttributes)
	}
	_, err := c.api.DeleteUserAttributes(ctx, &cip.DeleteUserAttributesInput{
		AccessToken: aws.String(accessToken.Reveal()), UserAttributeNames: names,
	})
	return MapError("DeleteUserAttributes", err)
}

// DeleteUser deletes the signed-in user. Its tokens stop working.
func (c *Client) DeleteUser(ctx context.Context, accessToken jwt.Secret) error {
	if accessToken == "" {
		return errors.New("cognito: DeleteUser needs an access token")
	}
	_, err := c.api.DeleteUser(ctx, &cip.DeleteUserInput{AccessToken: aws.String(accessToken.Reveal())})
	return MapError("DeleteUser", err)
}

// SetUpTOTP starts TOTP set-up for a signed-in user (AssociateSoftwareToken with
// the access token) and returns the shared secret for the authenticator app;
// finish with VerifyTOTPSetup. (During sign-in's MFA_SETUP, AssociateSoftwareToken
// takes the challenge instead.)
func (c *Client) SetUpTOTP(ctx context.Context, accessToken jwt.Secret) (jwt.Secret, error) {
	if accessToken == "" {
		return "", errors.New("cognito: SetUpTOTP needs an access token")
	}
	out, err := c.api.AssociateSoftwareToken(ctx, &cip.AssociateSoftwareTokenInput{AccessToken: aws.String(accessToken.Reveal())})
	if err != nil {
		return "", MapError("AssociateSoftwareToken", err)
	}
	secret := aws.ToString(out.SecretCode)
	if secret == "" || len(secret) > 256 {
		return "", invalidAnswer("AssociateSoftwareToken", out.ResultMetadata, "no usable SecretCode")
	}
	return jwt.Secret(secret), nil
}

// VerifyTOTPSetup checks the first code of the authenticator app SetUpTOTP
// started; TOTP is then an enabled MFA method (make it preferred with
// SetMFAPreference). A wrong code is ErrEnableSoftwareTokenMFA.
func (c *Client) VerifyTOTPSetup(ctx context.Context, accessToken jwt.Secret, code secret.String, deviceName string) error {
	if accessToken == "" || code == "" {
		return errors.New("cognito: VerifyTOTPSetup needs an access token and a code")
	}
	in := &cip.VerifySoftwareTokenInput{AccessToken: aws.String(accessToken.Reveal()), UserCode: aws.String(code.Reveal())}
	if deviceName != "" {
		in.FriendlyDeviceName = aws.String(deviceName)
	}
	out, err := c.api.VerifySoftwareToken(ctx, in)
	if err != nil {
		return MapError("VerifySoftwareToken", err)
	}
	if out.Status != types.VerifySoftwareTokenResponseTypeSuccess {
		return &Error{Op: "VerifySoftwareToken", Name: "EnableSoftwareTokenMFAException", Message: "status " + clipText(string(out.Status), 32)}
	}
	return nil
}

// MFAChoice is what SetMFAPreference does with one MFA method, in Amplify's
// words. The zero value leaves the method as it is.
type MFAChoice string

const (
	MFAUnchanged    MFAChoice = ""
	MFADisabled     MFAChoice = "DISABLED"
	MFAEnabled      MFAChoice = "ENABLED"
	MFAPreferred    MFAChoice = "PREFERRED"     // enabled and preferred
	MFANotPreferred MFAChoice = "NOT_PREFERRED" // enabled, not preferred
)

// ParseMFAChoice reads an MFAChoice (case-insensitive).
func ParseMFAChoice(s string) (MFAChoice, error) {
	switch c := MFAChoice(upper(s)); c {
	case MFAUnchanged, MFADisabled, MFAEnabled, MFAPreferred, MFANotPreferred:
		return c, nil
	}
	return "", fmt.Errorf("cognito: unknown MFA choice %q (DISABLED, ENABLED, PREFERRED, NOT_PREFERRED)", s)
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// MFAPreference sets the signed-in user's MFA methods.
type MFAPreference struct {
	TOTP  MFAChoice
	SMS   MFAChoice
	Email MFAChoice
}

func (ch MFAChoice) setting() (enabled, preferred *bool, err error) {
	t, f := true, false
	switch ch {
	case MFAUnchanged:
		return nil, nil, nil
	case MFADisabled:
		return &f, &f, nil
	case MFAEnabled:
		return &t, nil, nil
	case MFAPreferred:
		return &t, &t, nil
	case MFANotPreferred:
		return &t, &f, nil
	}
	return nil, nil, fmt.Errorf("cognito: unknown MFA choice %q", string(ch))
}

// SetMFAPreference enables, disables or prefers the user's MFA methods
// (SetUserMFAPreference). Read the outcome back with GetUser (User.MFAs,
// User.PreferredMFA).
func (c *Client) SetMFAPreference(ctx context.Context, accessToken jwt.Secret, p MFAPreference) error {
	if accessToken == "" {
		return errors.New("cognito: SetMFAPreference needs an access token")
	}
	in := &cip.SetUserMFAPreferenceInput{AccessToken: aws.String(accessToken.Reveal())}
	var errs []error
	if e, pr, err := p.TOTP.setting(); err != nil {
		errs = append(errs, err)
	} else if e != nil {
		in.SoftwareTokenMfaSettings = &types.SoftwareTokenMfaSettingsType{Enabled: *e, PreferredMfa: pr != nil && *pr}
	}
	if e, pr, err := p.SMS.setting(); err != nil {
		errs = append(errs, err)
	} else if e != nil {
		in.SMSMfaSettings = &types.SMSMfaSettingsType{Enabled: *e, PreferredMfa: pr != nil && *pr}
	}
	if e, pr, err := p.Email.setting(); err != nil {
		errs = append(errs, err)
	} else if e != nil {
		in.EmailMfaSettings = &types.EmailMfaSettingsType{Enabled: *e, PreferredMfa: pr != nil && *pr}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if in.SoftwareTokenMfaSettings == nil && in.SMSMfaSettings == nil && in.EmailMfaSettings == nil {
		return errors.New("cognito: SetMFAPreference: nothing to change")
	}
	_, err := c.api.SetUserMFAPreference(ctx, in)
	return MapError("SetUserMFAPreference", err)
}

// Typed views of GetUser's attributes.

// Sub is the user's immutable ID.
func (u *User) Sub() string { return u.Attributes["sub"] }

// Email is the email attribute ("" when unset).
func (u *User) Email() string { return u.Attributes["email"] }

// EmailVerified reports email_verified.
func (u *User) EmailVerified() bool { return u.Attributes["email_verified"] == "true" }

// PhoneNumber is the phone_number attribute ("" when unset).
func (u *User) PhoneNumber() string { return u.Attributes["phone_number"] }

// PhoneNumberVerified reports phone_number_verified.
func (u *User) PhoneNumberVerified() bool { return u.Attributes["phone_number_verified"] == "true" }

// MFAEnabled reports whether the MFA method (ChallengeSoftwareTokenMFA,
// ChallengeSMSMFA, ChallengeEmailOTP) is enabled for the user.
func (u *User) MFAEnabled(method string) bool {
	for _, m := range u.MFAs {
		if m == method {
			return true
		}
	}
	return false
}
