package cognito

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/cogauth/cogauth/internal/bounded"
	"github.com/cogauth/cogauth/secret"
	"github.com/cogauth/cogauth/srp"
)

// AdminClient signs users in server-side, as a backend holding AWS credentials
// does: AdminInitiateAuth and AdminRespondToAuthChallenge, SigV4-signed by
// aws-sdk-go-v2 (the caller needs cognito-idp:AdminInitiateAuth and
// cognito-idp:AdminRespondToAuthChallenge on the pool). Its Results are the same
// as Client's, so the tokens become an ordinary session (session.Manager.Import)
// that refreshes and signs out through the unsigned user API. Safe for concurrent
// use.
type AdminClient struct {
	c   *Client // the pool, client and secret; its unsigned API for the rest
	api *cip.Client
}

// FlowAdminPassword is ADMIN_USER_PASSWORD_AUTH: the password goes to the
// service from the backend (the app client must allow
// ALLOW_ADMIN_USER_PASSWORD_AUTH). It is AdminClient's only flow besides FlowSRP
// (USER_SRP_AUTH through the admin calls, for pools whose client allows only SRP)
// and FlowCustom.
const FlowAdminPassword Flow = 100

// NewAdmin returns an AdminClient for opts signing with creds.
func NewAdmin(opts Options, creds aws.CredentialsProvider) (*AdminClient, error) {
	if creds == nil {
		return nil, errors.New("cognito: NewAdmin needs AWS credentials")
	}
	c, err := New(opts)
	if err != nil {
		return nil, err
	}
	o := cip.Options{
		Region:           c.opts.Region,
		HTTPClient:       bounded.HTTPClient(c.opts.HTTPClient, MaxAnswerSize),
		APIOptions:       []func(*middleware.Stack) error{bounded.Deadline(c.opts.Timeout)},
		RetryMaxAttempts: c.opts.RetryMaxAttempts,
		Credentials:      creds,
	}
	if c.opts.Endpoint != "" {
		o.BaseEndpoint = aws.String(c.opts.Endpoint)
	}
	if c.opts.RetryMaxAttempts == 1 {
		o.Retryer = aws.NopRetryer{}
	}
	return &AdminClient{c: c, api: cip.New(o)}, nil
}

// Client returns the plain Client of the same pool and app client (refresh,
// GetUser, RevokeToken, devices).
func (a *AdminClient) Client() *Client { return a.c }

// flowParams adds the parameters of in's flow to params and returns the
// flow, with the SRP client when it is FlowSRP.
func (a *AdminClient) flowParams(in SignInInput, params map[string]string) (types.AuthFlowType, *srp.Client, error) {
	switch in.Flow {
	case FlowAdminPassword:
		params["PASSWORD"] = in.Password.Reveal()
		return types.AuthFlowTypeAdminUserPasswordAuth, nil, nil
	case FlowSRP:
		s, err := srp.NewClient(a.c.opts.Random)
		if err != nil {
			return "", nil, fmt.Errorf("cognito: %w", err)
		}
		params["SRP_A"] = s.SRPA()
		return types.AuthFlowTypeUserSrpAuth, s, nil
	default:
		return "", nil, fmt.Errorf("cognito: AdminClient does not sign in with flow %d", in.Flow)
	}
}

// SignIn starts a server-side sign-in; Flow is FlowAdminPassword (the default
// FlowSRP is honoured too). The Result holds tokens or the challenge to answer
// with Respond.
func (a *AdminClient) SignIn(ctx context.Context, in SignInInput) (*Result, error) {
	if in.Username == "" {
		return nil, errors.New("cognito: sign-in needs a username")
	}
	if in.Password == "" {
		return nil, errors.New("cognito: sign-in needs a password")
	}
	params := map[string]string{"USERNAME": in.Username}
	a.c.addSecretHash(params, in.Username)
	if in.Device != nil && in.Device.Key != "" {
		params["DEVICE_KEY"] = in.Device.Key
	}
	flow, s, err := a.flowParams(in, params)
	if err != nil {
		return nil, err
	}
	out, err := a.api.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{
		UserPoolId:     aws.String(a.c.opts.UserPoolID),
		ClientId:       aws.String(a.c.opts.ClientID),
		AuthFlow:       flow,
		AuthParameters: params,
		ClientMetadata: in.ClientMetadata,
	})
	if err != nil {
		return nil, deviceGone(in.Device, MapError("AdminInitiateAuth", err))
	}
	res, err := a.c.result("AdminInitiateAuth", out.AuthenticationResult, out.ChallengeName, out.ChallengeParameters, out.Session, out.ResultMetadata, in.Device)
	if err != nil {
		return nil, err
	}
	if res.Challenge == nil {
		return res, nil
	}
	res.Challenge.login = in.Username
	if res.Challenge.Name == challengePasswordVerifier {
		if s == nil {
			return nil, errors.New("cognito: service asked for an SRP password proof the flow did not start")
		}
		ch, p := res.Challenge, res.Challenge.Parameters
		userID := p["USER_ID_FOR_SRP"]
		if userID == "" {
			userID = ch.Username
		}
		ts := srp.Timestamp(a.c.opts.Clock.Now())
		sig, err := s.Signature(p["SRP_B"], srp.Claim{
			Prefix: srp.PoolName(a.c.opts.UserPoolID), UserID: userID, Password: secret.String(in.Password),
			SaltHex: p["SALT"], SecretBlock: ch.secretBlock.Get(), Timestamp: ts,
		})
		if err != nil {
			return nil, fmt.Errorf("cognito: PASSWORD_VERIFIER: %w", err)
		}
		ch.Username = userID
		res, err = a.respond(ctx, ch, map[string]string{
			"USERNAME": userID, "PASSWORD_CLAIM_SECRET_BLOCK": ch.secretBlock.Get().Reveal(),
			"PASSWORD_CLAIM_SIGNATURE": sig, "TIMESTAMP": ts,
		}, in.ClientMetadata)
		if err != nil {
			return nil, deviceGone(in.Device, err)
		}
	}
	return res, nil
}

// Respond answers a challenge of a server-side sign-in (NEW_PASSWORD_REQUIRED,
// the MFA codes, SELECT_MFA_TYPE, a custom challenge), as Client.Respond does.
// A remembered device's DEVICE_SRP_AUTH is not answered server-side: the
// device's secret lives with the user, so sign in without Device.
func (a *AdminClient) Respond(ctx context.Context, ch *Challenge, ans Answer) (*Result, error) {
	if ch == nil {
		return nil, errors.New("cognito: Respond needs the challenge being answered")
	}
	resp := map[string]string{"USERNAME": ch.Username}
	field, value := "", ""
	switch ch.Name {
	case ChallengeSMSMFA:
		field, value = "SMS_MFA_CODE", ans.Code.Reveal()
	case ChallengeSoftwareTokenMFA:
		field, value = "SOFTWARE_TOKEN_MFA_CODE", ans.Code.Reveal()
	case ChallengeEmailOTP:
		field, value = "EMAIL_OTP_CODE", ans.Code.Reveal()
	case ChallengeCustom:
		field, value = "ANSWER", ans.Code.Reveal()
	case ChallengeSelectMFAType:
		field, value = "ANSWER", ans.MFAType
	case ChallengeNewPasswordRequired:
		field, value = "NEW_PASSWORD", ans.NewPassword.Reveal()
		for k, v := range ans.Attributes {
			resp["userAttributes."+k] = v
		}
	case ChallengeMFASetup:
	default:
		return nil, fmt.Errorf("cognito: AdminClient cannot answer %s", ch.Name)
	}
	if field != "" {
		if value == "" {
			return nil, fmt.Errorf("cognito: answer to %s needs a value for %s", ch.Name, field)
		}
		resp[field] = value
	}
	for k, v := range ans.Responses {
		resp[k] = v.Reveal()
	}
	return a.respond(ctx, ch, resp, ans.ClientMetadata)
}

func (a *AdminClient) respond(ctx context.Context, ch *Challenge, resp, meta map[string]string) (*Result, error) {
	username := resp["USERNAME"]
	a.c.addSecretHash(resp, username)
	if d := ch.device.Get(); d != nil && d.Key != "" {
		if _, ok := resp["DEVICE_KEY"]; !ok {
			resp["DEVICE_KEY"] = d.Key
		}
	}
	in := &cip.AdminRespondToAuthChallengeInput{
		UserPoolId:         aws.String(a.c.opts.UserPoolID),
		ClientId:           aws.String(a.c.opts.ClientID),
		ChallengeName:      types.ChallengeNameType(ch.Name),
		ChallengeResponses: resp,
		ClientMetadata:     meta,
	}
	if ch.Session != "" {
		in.Session = aws.String(ch.Session.Reveal())
	}
	out, err := a.api.AdminRespondToAuthChallenge(ctx, in)
	if err != nil {
		return nil, MapError("AdminRespondToAuthChallenge", err)
	}
	res, err := a.c.result("AdminRespondToAuthChallenge", out.AuthenticationResult, out.ChallengeName, out.ChallengeParameters, out.Session, out.ResultMetadata, ch.device.Get())
	if err != nil {
		return nil, err
	}
	if res.Challenge != nil {
		res.Challenge.login = ch.login
		if res.Challenge.Username == "" {
			res.Challenge.Username = username
		}
		if res.Challenge.Name == challengeDeviceSRPAuth {
			return nil, errors.New("cognito: the service asks for device authentication, which a server-side sign-in cannot answer; sign in without Device")
		}
	}
	return res, nil
}
