package cognito

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/cogauth/cogauth/internal/redact"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/secret"
	"github.com/cogauth/cogauth/srp"
)

// Flow is how SignIn proves the password.
type Flow int

const (
	// FlowSRP is USER_SRP_AUTH: the password never leaves the process. The default.
	FlowSRP Flow = iota
	// FlowPassword is USER_PASSWORD_AUTH: the password goes to the service over TLS.
	FlowPassword
	// FlowCustom is CUSTOM_AUTH: the pool's Lambda triggers pose challenges. With a
	// Password, the flow starts with an SRP exchange (SRP_A), as Amplify does.
	FlowCustom
	// FlowUserAuth is USER_AUTH, choice-based sign-in (userauth.go): a
	// PreferredChallenge, or SELECT_CHALLENGE with the factors available.
	FlowUserAuth
)

// Challenge names the caller may meet. PASSWORD_VERIFIER, DEVICE_SRP_AUTH and
// DEVICE_PASSWORD_VERIFIER are answered inside this package and never surface.
const (
	ChallengeNewPasswordRequired = "NEW_PASSWORD_REQUIRED"
	ChallengeSoftwareTokenMFA    = "SOFTWARE_TOKEN_MFA"
	ChallengeSMSMFA              = "SMS_MFA"
	ChallengeEmailOTP            = "EMAIL_OTP"
	ChallengeSelectMFAType       = "SELECT_MFA_TYPE"
	ChallengeMFASetup            = "MFA_SETUP"
	ChallengeCustom              = "CUSTOM_CHALLENGE"

	challengePasswordVerifier       = "PASSWORD_VERIFIER"
	challengeDeviceSRPAuth          = "DEVICE_SRP_AUTH"
	challengeDevicePasswordVerifier = "DEVICE_PASSWORD_VERIFIER"
)

// Device is a remembered device: its key and group key from sign-in's
// NewDeviceMetadata and the password this side chose at ConfirmDevice.
type Device struct {
	Key      string
	GroupKey string
	Password jwt.Secret
}

// String names the device by its key. (Its fields redact themselves; a String
// is what fmt calls for %s and %q of a *Device held in another value, where it
// would otherwise print the pointer's target in an error form that calls no
// method, the password's own included.)
func (d *Device) String() string {
	if d == nil {
		return "cognito.Device(nil)"
	}
	return "cognito.Device{key=" + d.Key + "}"
}

// Tokens are what a successful sign-in or refresh returns, still encoded.
type Tokens struct {
	AccessToken jwt.Secret
	IDToken     jwt.Secret
	// RefreshToken is empty after a refresh that did not rotate it: keep the old one.
	RefreshToken jwt.Secret
	ExpiresIn    time.Duration
}

// String says which tokens are present and their lifetime. (Like Device's, it
// is what %s and %q of a *Tokens held in a Result print.)
func (t *Tokens) String() string {
	if t == nil {
		return "cognito.Tokens(nil)"
	}
	return fmt.Sprintf("cognito.Tokens{access=%s id=%s refresh=%s expires_in=%v}", t.AccessToken, t.IDToken, t.RefreshToken, t.ExpiresIn)
}

// NewDevice is the device the service created at sign-in, to be confirmed with
// ConfirmDevice if the app remembers devices.
type NewDevice struct {
	Key      string
	GroupKey string
}

// Result is the outcome of a sign-in step: tokens, or the next challenge.
type Result struct {
	Tokens    *Tokens    // set when signed in
	NewDevice *NewDevice // set when the service tracks a new device
	Challenge *Challenge // set when the caller must answer
	// ServerTime is the answer's Date header (zero if absent), for clock drift.
	ServerTime time.Time
}

// Challenge is a question the service asks before it issues tokens. Pass it back to
// Respond with an Answer.
type Challenge struct {
	Name string
	// Username is the name the service knows the user by (its USERNAME parameter),
	// which may differ from what the user typed (an alias, an email address).
	Username string
	// Parameters are the challenge's parameters as the service sent them, but
	// for SRP's SECRET_BLOCK, which the SRP steps answer themselves.
	Parameters map[string]string
	// Session is the service's opaque handle on this sign-in attempt.
	Session jwt.Secret
	// Available lists the first factors SELECT_CHALLENGE offers (USER_AUTH).
	Available []string
	// CredentialRequestOptions are WEB_AUTHN's
	// PublicKeyCredentialRequestOptionsJSON (challenge, rpId, allowCredentials,
	// userVerification) for the authenticator: a JSON object of at most
	// MaxWebAuthnJSON bytes.
	CredentialRequestOptions json.RawMessage

	// device is the remembered device, answered automatically if asked for;
	// boxed, as a pointer to a pointer fmt never follows, so that no printing
	// of a Challenge (or of what holds one) reaches its password.
	device redact.Box[*Device]
	// secretBlock is SRP's SECRET_BLOCK, which the PASSWORD_VERIFIER steps
	// answer themselves (boxed like device).
	secretBlock redact.Box[secret.String]
	login       string // the name SignIn was given, which Username may not be
}

// RequiredAttributes lists the attributes NEW_PASSWORD_REQUIRED wants set (without
// the "userAttributes." prefix).
func (ch *Challenge) RequiredAttributes() []string {
	var names []string
	_ = json.Unmarshal([]byte(ch.Parameters["requiredAttributes"]), &names)
	for i, n := range names {
		names[i] = strings.TrimPrefix(n, "userAttributes.")
	}
	return names
}

// UserAttributes returns the current attributes NEW_PASSWORD_REQUIRED sends along.
func (ch *Challenge) UserAttributes() map[string]string {
	m := map[string]string{}
	_ = json.Unmarshal([]byte(ch.Parameters["userAttributes"]), &m)
	return m
}

// MFAOptions lists the MFA types SELECT_MFA_TYPE offers or MFA_SETUP allows.
func (ch *Challenge) MFAOptions() []string {
	var opts []string
	for _, p := range []string{"MFAS_CAN_CHOOSE", "MFAS_CAN_SETUP"} {
		if v := ch.Parameters[p]; v != "" {
			_ = json.Unmarshal([]byte(v), &opts)
			if len(opts) > 0 {
				return opts
			}
		}
	}
	return nil
}

// Device returns the remembered device this sign-in uses, if any.
func (ch *Challenge) Device() *Device { return ch.device.Get() }

// Login returns the name the sign-in started with (what the user typed: an alias,
// an e-mail address), which may differ from Username, the service's name.
func (ch *Challenge) Login() string { return ch.login }

// ResumeChallenge rebuilds a challenge that was kept between processes (a CLI
// that sends a code in one command and answers it in the next): its Name,
// Username, Parameters and Session as the service sent them, and login, the name
// the sign-in started with (Login). The remembered device of a sign-in is not
// carried over: a challenge that still asks for a code came after any device step.
func ResumeChallenge(name, username string, params map[string]string, session jwt.Secret, login string) *Challenge {
	return &Challenge{Name: name, Username: username, Parameters: params, Session: session, login: login}
}

// String names the challenge without its session.
func (ch *Challenge) String() string {
	if ch == nil {
		return "cognito.Challenge(nil)"
	}
	return "cognito.Challenge{" + ch.Name + " user=" + ch.Username + "}"
}

// SignInInput is what SignIn needs.
type SignInInput struct {
	Username string
	Password secret.String
	Flow     Flow
	// Device, when remembered, lets the service skip MFA for it.
	Device         *Device
	ClientMetadata map[string]string
	// PreferredChallenge is FlowUserAuth's first factor (FactorPassword, …);
	// empty asks for SELECT_CHALLENGE. The password factors need Password.
	PreferredChallenge string
	// Session is ConfirmSignUpResult.Session: with FlowUserAuth it signs the
	// new user in without a password.
	Session jwt.Secret
}

// Answer answers a Challenge; set the fields its Name calls for.
type Answer struct {
	// Code answers SMS_MFA, SOFTWARE_TOKEN_MFA, EMAIL_OTP, and is the ANSWER of a
	// CUSTOM_CHALLENGE.
	Code secret.String
	// NewPassword and Attributes answer NEW_PASSWORD_REQUIRED.
	NewPassword secret.String
	Attributes  map[string]string
	// MFAType answers SELECT_MFA_TYPE: ChallengeSMSMFA, ChallengeSoftwareTokenMFA or
	// ChallengeEmailOTP.
	MFAType string
	// FirstFactor answers SELECT_CHALLENGE (one of Challenge.Available), with
	// Password for FactorPassword and FactorPasswordSRP.
	FirstFactor string
	Password    secret.String
	// Credential answers WEB_AUTHN: the authenticator's
	// AuthenticationResponseJSON for Challenge.CredentialRequestOptions (a JSON
	// object of at most MaxWebAuthnJSON bytes).
	Credential json.RawMessage
	// Responses are sent as they are, after the fields above (e.g. EMAIL for an
	// email MFA_SETUP).
	Responses      map[string]secret.String
	ClientMetadata map[string]string
}

// SignIn starts a sign-in. The Result holds tokens or the challenge to answer.
func (c *Client) SignIn(ctx context.Context, in SignInInput) (*Result, error) {
	if in.Username == "" {
		return nil, errors.New("cognito: sign-in needs a username")
	}
	params := map[string]string{"USERNAME": in.Username}
	c.addSecretHash(params, in.Username)
	if in.Device != nil && in.Device.Key != "" {
		params["DEVICE_KEY"] = in.Device.Key
	}
	flow, s, err := c.flowParams(in, params)
	if err != nil {
		return nil, err
	}
	initiate := &cip.InitiateAuthInput{
		AuthFlow:       flow,
		ClientId:       aws.String(c.opts.ClientID),
		AuthParameters: params,
		ClientMetadata: in.ClientMetadata,
	}
	if in.Session != "" {
		initiate.Session = aws.String(in.Session.Reveal())
	}
	out, err := c.api.InitiateAuth(ctx, initiate)
	if err != nil {
		return nil, deviceGone(in.Device, MapError("InitiateAuth", err))
	}
	res, err := c.result("InitiateAuth", out.AuthenticationResult, out.ChallengeName, out.ChallengeParameters, out.Session, out.ResultMetadata, in.Device)
	if err != nil {
		return nil, err
	}
	if res.Challenge != nil {
		res.Challenge.login = in.Username
		res.Challenge.Available = challengeNames(out.AvailableChallenges)
	}
	if res.Challenge != nil && res.Challenge.Name == challengePasswordVerifier {
		if s == nil {
			return nil, errors.New("cognito: service asked for an SRP password proof the flow did not start")
		}
		res, err = c.passwordVerifier(ctx, s, res.Challenge, in.Password.Reveal(), in.ClientMetadata)
		if err != nil {
			return nil, deviceGone(in.Device, err)
		}
	}
	return c.autoAnswer(ctx, res, in.ClientMetadata)
}

// flowParams adds the parameters of in's flow to params and returns the
// flow, with the SRP client when the flow starts SRP.
func (c *Client) flowParams(in SignInInput, params map[string]string) (types.AuthFlowType, *srp.Client, error) {
	switch in.Flow {
	case FlowPassword:
		if in.Password == "" {
			return "", nil, errors.New("cognito: sign-in needs a password")
		}
		params["PASSWORD"] = in.Password.Reveal()
		return types.AuthFlowTypeUserPasswordAuth, nil, nil
	case FlowSRP, FlowCustom:
		return c.srpParams(in, params)
	case FlowUserAuth:
		s, err := c.userAuthParams(in, params)
		if err != nil {
			return "", nil, err
		}
		return types.AuthFlowTypeUserAuth, s, nil
	default:
		return "", nil, fmt.Errorf("cognito: unknown flow %d", in.Flow)
	}
}

// srpParams adds SRP_A (and, for a custom flow with a password, CHALLENGE_NAME)
// to params for FlowSRP and FlowCustom.
func (c *Client) srpParams(in SignInInput, params map[string]string) (types.AuthFlowType, *srp.Client, error) {
	flow := types.AuthFlowTypeUserSrpAuth
	if in.Flow == FlowCustom {
		flow = types.AuthFlowTypeCustomAuth
		if in.Password != "" {
			params["CHALLENGE_NAME"] = "SRP_A"
		}
	}
	if in.Flow != FlowSRP && in.Password == "" {
		return flow, nil, nil
	}
	if in.Password == "" {
		return "", nil, errors.New("cognito: sign-in needs a password")
	}
	s, err := srp.NewClient(c.opts.Random)
	if err != nil {
		return "", nil, fmt.Errorf("cognito: %w", err)
	}
	params["SRP_A"] = s.SRPA()
	return flow, s, nil
}

// passwordVerifier answers PASSWORD_VERIFIER with the SRP proof.
func (c *Client) passwordVerifier(ctx context.Context, s *srp.Client, ch *Challenge, password string, meta map[string]string) (*Result, error) {
	p := ch.Parameters
	// SRP and SECRET_HASH both use the service's internal name, not the alias typed.
	userID := p["USER_ID_FOR_SRP"]
	if userID == "" {
		userID = ch.Username
	}
	// TIMESTAMP must be the very string that went into the signature.
	ts := srp.Timestamp(c.opts.Clock.Now())
	sig, err := s.Signature(p["SRP_B"], srp.Claim{
		Prefix:      srp.PoolName(c.opts.UserPoolID),
		UserID:      userID,
		Password:    secret.String(password),
		SaltHex:     p["SALT"],
		SecretBlock: ch.secretBlock.Get(),
		Timestamp:   ts,
	})
	if err != nil {
		return nil, fmt.Errorf("cognito: PASSWORD_VERIFIER: %w", err)
	}
	resp := map[string]string{
		"USERNAME":                    userID,
		"PASSWORD_CLAIM_SECRET_BLOCK": ch.secretBlock.Get().Reveal(),
		"PASSWORD_CLAIM_SIGNATURE":    sig,
		"TIMESTAMP":                   ts,
	}
	ch.Username = userID
	return c.respond(ctx, ch, resp, meta)
}

// autoAnswer answers the device challenges a remembered device can answer alone.
func (c *Client) autoAnswer(ctx context.Context, res *Result, meta map[string]string) (*Result, error) {
	if res.Challenge == nil || res.Challenge.Name != challengeDeviceSRPAuth {
		return res, nil
	}
	ch := res.Challenge
	d := ch.device.Get()
	if d == nil || d.Key == "" || d.GroupKey == "" || d.Password == "" {
		return nil, errors.New("cognito: the service asks for device authentication but no remembered device (key, group key, password) was given")
	}
	s, err := srp.NewClient(c.opts.Random)
	if err != nil {
		return nil, fmt.Errorf("cognito: %w", err)
	}
	res, err = c.respond(ctx, ch, map[string]string{"USERNAME": ch.Username, "SRP_A": s.SRPA()}, meta)
	if err != nil {
		return nil, deviceRefused(d, err)
	}
	ch = res.Challenge
	if ch == nil || ch.Name != challengeDevicePasswordVerifier {
		return nil, fmt.Errorf("cognito: DEVICE_SRP_AUTH answered with %v, want DEVICE_PASSWORD_VERIFIER", ch)
	}
	p := ch.Parameters
	ts := srp.Timestamp(c.opts.Clock.Now())
	sig, err := s.Signature(p["SRP_B"], srp.Claim{
		Prefix: d.GroupKey, UserID: d.Key, Password: d.Password,
		SaltHex: p["SALT"], SecretBlock: ch.secretBlock.Get(), Timestamp: ts,
	})
	if err != nil {
		return nil, fmt.Errorf("cognito: DEVICE_PASSWORD_VERIFIER: %w", err)
	}
	res, err = c.respond(ctx, ch, map[string]string{
		"USERNAME":                    ch.Username,
		"PASSWORD_CLAIM_SECRET_BLOCK": ch.secretBlock.Get().Reveal(),
		"PASSWORD_CLAIM_SIGNATURE":    sig,
		"TIMESTAMP":                   ts,
	}, meta)
	if err != nil {
		return nil, deviceRefused(d, err)
	}
	return res, nil
}

// deviceGone marks a ResourceNotFoundException to a sign-in that offered a device
// key with ErrDeviceRefused: the user exists (that would be UserNotFoundException
// or NotAuthorizedException), so what the service cannot find is the device, which
// was forgotten elsewhere.
func deviceGone(d *Device, err error) error {
	if d == nil || d.Key == "" || !errors.Is(err, ErrResourceNotFound) {
		return err
	}
	return deviceRefused(d, err)
}

// deviceRefused marks the service's definitive no to a device proof with
// ErrDeviceRefused, so that a caller can tell "this device is no good" (forgotten
// at the service, a wrong stored password) from "this user may not sign in".
// Transient failures stay as they are: they say nothing about the device.
func deviceRefused(d *Device, err error) error {
	var ce *Error
	if !errors.As(err, &ce) || ce.Retryable {
		return err
	}
	switch ce.Name {
	case "NotAuthorizedException", "ResourceNotFoundException":
		return fmt.Errorf("%w (device %s): %w", ErrDeviceRefused, d.Key, err)
	}
	return err
}

// Respond answers a challenge. The Result holds tokens or the next challenge.
func (c *Client) Respond(ctx context.Context, ch *Challenge, a Answer) (*Result, error) {
	if ch == nil {
		return nil, errors.New("cognito: Respond needs the challenge being answered")
	}
	if ch.Name == ChallengeSelectChallenge {
		return c.selectChallenge(ctx, ch, a)
	}
	resp := map[string]string{"USERNAME": ch.Username}
	if err := answerParams(ch, a, resp); err != nil {
		return nil, err
	}
	for k, v := range a.Responses {
		resp[k] = v.Reveal()
	}
	res, err := c.respond(ctx, ch, resp, a.ClientMetadata)
	if err != nil {
		return nil, err
	}
	return c.autoAnswer(ctx, res, a.ClientMetadata)
}

// codeResponses name the response that carries Answer.Code, by challenge.
var codeResponses = map[string]string{
	ChallengeSMSMFA:           "SMS_MFA_CODE",
	ChallengeSoftwareTokenMFA: "SOFTWARE_TOKEN_MFA_CODE",
	ChallengeEmailOTP:         "EMAIL_OTP_CODE",
	ChallengeSMSOTP:           "SMS_OTP_CODE",
	ChallengeCustom:           "ANSWER",
}

// answerParams adds a, the answer to ch, to the challenge responses resp.
func answerParams(ch *Challenge, a Answer, resp map[string]string) error {
	if key, ok := codeResponses[ch.Name]; ok {
		resp[key] = a.Code.Reveal()
		return needAnswer(ch, "Code", a.Code.Reveal())
	}
	switch ch.Name {
	case ChallengeWebAuthn:
		err := checkWebAuthnJSON(a.Credential, "the answer's Credential")
		if err == nil {
			resp["CREDENTIAL"] = string(bytes.TrimSpace(a.Credential))
		}
		return err
	case ChallengeSelectMFAType:
		resp["ANSWER"] = a.MFAType
		return needAnswer(ch, "MFAType", a.MFAType)
	case ChallengeNewPasswordRequired:
		return newPasswordParams(ch, a, resp)
	}
	// ChallengeMFASetup: the Session from VerifySoftwareToken is the proof;
	// nothing else to send.
	return nil
}

// newPasswordParams adds the answer to NEW_PASSWORD_REQUIRED to resp.
func newPasswordParams(ch *Challenge, a Answer, resp map[string]string) error {
	err := needAnswer(ch, "NewPassword", a.NewPassword.Reveal())
	resp["NEW_PASSWORD"] = a.NewPassword.Reveal()
	for k, v := range a.Attributes {
		resp["userAttributes."+k] = v
	}
	for _, req := range ch.RequiredAttributes() {
		if _, ok := a.Attributes[req]; !ok {
			err = errors.Join(err, fmt.Errorf("cognito: NEW_PASSWORD_REQUIRED needs attribute %q", req))
		}
	}
	return err
}

// needAnswer refuses an answer to ch without field.
func needAnswer(ch *Challenge, field, v string) error {
	if v == "" {
		return fmt.Errorf("cognito: answer to %s needs %s", ch.Name, field)
	}
	return nil
}

// respond sends RespondToAuthChallenge with the SECRET_HASH and DEVICE_KEY it needs.
func (c *Client) respond(ctx context.Context, ch *Challenge, resp map[string]string, meta map[string]string) (*Result, error) {
	username := resp["USERNAME"]
	c.addSecretHash(resp, username)
	if d := ch.device.Get(); d != nil && d.Key != "" {
		if _, ok := resp["DEVICE_KEY"]; !ok {
			resp["DEVICE_KEY"] = d.Key
		}
	}
	in := &cip.RespondToAuthChallengeInput{
		ChallengeName:      types.ChallengeNameType(ch.Name),
		ClientId:           aws.String(c.opts.ClientID),
		ChallengeResponses: resp,
		ClientMetadata:     meta,
	}
	if ch.Session != "" {
		in.Session = aws.String(ch.Session.Reveal())
	}
	out, err := c.api.RespondToAuthChallenge(ctx, in)
	if err != nil {
		return nil, MapError("RespondToAuthChallenge", err)
	}
	res, err := c.result("RespondToAuthChallenge", out.AuthenticationResult, out.ChallengeName, out.ChallengeParameters, out.Session, out.ResultMetadata, ch.device.Get())
	if err != nil {
		return nil, err
	}
	if res.Challenge != nil {
		res.Challenge.login = ch.login
		if res.Challenge.Username == "" {
			res.Challenge.Username = username
		}
	}
	return res, nil
}

// result converts an InitiateAuth / RespondToAuthChallenge answer, which holds
// tokens or names a challenge; an answer with neither is a fault.
func (c *Client) result(op string, ar *types.AuthenticationResultType, name types.ChallengeNameType, params map[string]string, session *string, md middleware.Metadata, dev *Device) (*Result, error) {
	res := &Result{ServerTime: serverTime(md)}
	if ar != nil && aws.ToString(ar.AccessToken) != "" {
		res.Tokens = tokensFrom(ar.AccessToken, ar.IdToken, ar.RefreshToken, ar.ExpiresIn)
		if nd := ar.NewDeviceMetadata; nd != nil && nd.DeviceKey != nil {
			res.NewDevice = &NewDevice{Key: aws.ToString(nd.DeviceKey), GroupKey: aws.ToString(nd.DeviceGroupKey)}
		}
		return res, nil
	}
	if name == "" {
		return nil, invalidAnswer(op, md, "neither tokens nor a challenge")
	}
	ch := &Challenge{Name: string(name), Parameters: params, Session: jwt.Secret(aws.ToString(session)), device: redact.NewBox(dev)}
	if sb, ok := params["SECRET_BLOCK"]; ok {
		// The SRP steps answer it themselves; it stays out of Parameters.
		ch.secretBlock = redact.NewBox(secret.String(sb))
		delete(params, "SECRET_BLOCK")
	}
	if ch.Parameters == nil {
		ch.Parameters = map[string]string{}
	}
	ch.Username = params["USERNAME"]
	if ch.Username == "" {
		ch.Username = params["USER_ID_FOR_SRP"]
	}
	if ch.Name == ChallengeWebAuthn {
		opts := []byte(params["CREDENTIAL_REQUEST_OPTIONS"])
		if err := checkWebAuthnJSON(opts, "CREDENTIAL_REQUEST_OPTIONS"); err != nil {
			return nil, invalidAnswer(op, md, "a WEB_AUTHN challenge whose "+strings.TrimPrefix(err.Error(), "cognito: "))
		}
		ch.CredentialRequestOptions = json.RawMessage(bytes.TrimSpace(opts))
	}
	res.Challenge = ch
	return res, nil
}

func tokensFrom(access, id, refresh *string, expiresIn int32) *Tokens {
	return &Tokens{
		AccessToken:  jwt.Secret(aws.ToString(access)),
		IDToken:      jwt.Secret(aws.ToString(id)),
		RefreshToken: jwt.Secret(aws.ToString(refresh)),
		ExpiresIn:    time.Duration(expiresIn) * time.Second,
	}
}

// AssociateSoftwareToken starts TOTP set-up during an MFA_SETUP challenge. It
// returns the shared secret for the authenticator app and the challenge to pass to
// VerifySoftwareToken.
func (c *Client) AssociateSoftwareToken(ctx context.Context, ch *Challenge) (jwt.Secret, *Challenge, error) {
	if ch == nil || ch.Session == "" {
		return "", nil, errors.New("cognito: AssociateSoftwareToken needs an MFA_SETUP challenge")
	}
	out, err := c.api.AssociateSoftwareToken(ctx, &cip.AssociateSoftwareTokenInput{Session: aws.String(ch.Session.Reveal())})
	if err != nil {
		return "", nil, MapError("AssociateSoftwareToken", err)
	}
	next := *ch
	if out.Session != nil {
		next.Session = jwt.Secret(*out.Session)
	}
	return jwt.Secret(aws.ToString(out.SecretCode)), &next, nil
}

// VerifySoftwareToken checks the first TOTP code during MFA_SETUP. Answer the
// returned challenge with Respond and an empty Answer to finish signing in.
func (c *Client) VerifySoftwareToken(ctx context.Context, ch *Challenge, code secret.String, deviceName string) (*Challenge, error) {
	if ch == nil || ch.Session == "" {
		return nil, errors.New("cognito: VerifySoftwareToken needs an MFA_SETUP challenge")
	}
	in := &cip.VerifySoftwareTokenInput{Session: aws.String(ch.Session.Reveal()), UserCode: aws.String(code.Reveal())}
	if deviceName != "" {
		in.FriendlyDeviceName = aws.String(deviceName)
	}
	out, err := c.api.VerifySoftwareToken(ctx, in)
	if err != nil {
		return nil, MapError("VerifySoftwareToken", err)
	}
	if out.Status != types.VerifySoftwareTokenResponseTypeSuccess {
		return nil, &Error{Op: "VerifySoftwareToken", Name: "CodeMismatchException", Message: "status " + string(out.Status)}
	}
	next := *ch
	if out.Session != nil {
		next.Session = jwt.Secret(*out.Session)
	}
	return &next, nil
}
