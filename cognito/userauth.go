package cognito

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/srp"
)

// Choice-based sign-in (USER_AUTH): SignIn with FlowUserAuth names a
// PreferredChallenge (FactorPassword, FactorPasswordSRP, FactorEmailOTP,
// FactorSMSOTP), or gets ChallengeSelectChallenge whose Available lists the
// factors the user can use; answer it with Answer.FirstFactor (and Password for
// the password factors), then answer the factor's own challenge (the code of
// EMAIL_OTP or SMS_OTP). With SignInInput.Session from ConfirmSignUp, the user
// is signed in at once (Amplify's autoSignIn).

// First factors of USER_AUTH: PreferredChallenge values and SELECT_CHALLENGE
// answers.
const (
	FactorPassword    = "PASSWORD"
	FactorPasswordSRP = "PASSWORD_SRP"
	FactorEmailOTP    = "EMAIL_OTP"
	FactorSMSOTP      = "SMS_OTP"
	FactorWebAuthn    = "WEB_AUTHN"
)

// Challenges of USER_AUTH. EMAIL_OTP is ChallengeEmailOTP, answered with Code as
// the MFA challenge of the same name is.
const (
	ChallengeSelectChallenge = "SELECT_CHALLENGE"
	ChallengeSMSOTP          = "SMS_OTP"
)

// maxAvailable bounds the AvailableChallenges kept from an answer.
const maxAvailable = 16

func challengeNames(in []types.ChallengeNameType) []string {
	var out []string
	for _, n := range in {
		if len(out) == maxAvailable {
			break
		}
		out = append(out, clipText(string(n), 64))
	}
	return out
}

// userAuthParams fills USER_AUTH's parameters: the preferred challenge and what
// it needs up front (the password, or SRP_A). It returns the SRP client when the
// password is proven by SRP.
func (c *Client) userAuthParams(in SignInInput, params map[string]string) (*srp.Client, error) {
	if in.Session != "" {
		return nil, nil // ConfirmSignUp's session: nothing else to prove
	}
	switch in.PreferredChallenge {
	case "":
		return nil, nil
	case FactorPassword:
		if in.Password == "" {
			return nil, errors.New("cognito: the PASSWORD challenge needs a password")
		}
		params["PASSWORD"] = in.Password.Reveal()
	case FactorPasswordSRP:
		if in.Password == "" {
			return nil, errors.New("cognito: the PASSWORD_SRP challenge needs a password")
		}
		s, err := srp.NewClient(c.opts.Random)
		if err != nil {
			return nil, fmt.Errorf("cognito: %w", err)
		}
		params["SRP_A"] = s.SRPA()
		params["PREFERRED_CHALLENGE"] = in.PreferredChallenge
		return s, nil
	case FactorEmailOTP, FactorSMSOTP, FactorWebAuthn:
	default:
		return nil, fmt.Errorf("cognito: unknown preferred challenge %q", in.PreferredChallenge)
	}
	params["PREFERRED_CHALLENGE"] = in.PreferredChallenge
	return nil, nil
}

// selectChallenge answers SELECT_CHALLENGE with the factor a.FirstFactor, and
// for PASSWORD_SRP goes on to answer the PASSWORD_VERIFIER that follows.
func (c *Client) selectChallenge(ctx context.Context, ch *Challenge, a Answer) (*Result, error) {
	resp := map[string]string{"USERNAME": ch.Username, "ANSWER": a.FirstFactor}
	var s *srp.Client
	switch a.FirstFactor {
	case "":
		return nil, errors.New("cognito: answer to SELECT_CHALLENGE needs FirstFactor")
	case FactorPassword:
		if a.Password == "" {
			return nil, errors.New("cognito: the PASSWORD factor needs Password")
		}
		resp["PASSWORD"] = a.Password.Reveal()
	case FactorPasswordSRP:
		if a.Password == "" {
			return nil, errors.New("cognito: the PASSWORD_SRP factor needs Password")
		}
		var err error
		if s, err = srp.NewClient(c.opts.Random); err != nil {
			return nil, fmt.Errorf("cognito: %w", err)
		}
		resp["SRP_A"] = s.SRPA()
	}
	for k, v := range a.Responses {
		resp[k] = v.Reveal()
	}
	res, err := c.respond(ctx, ch, resp, a.ClientMetadata)
	if err != nil {
		return nil, err
	}
	if res.Challenge != nil && res.Challenge.Name == challengePasswordVerifier {
		if s == nil {
			return nil, errors.New("cognito: service asked for an SRP password proof the sign-in did not start")
		}
		if res, err = c.passwordVerifier(ctx, s, res.Challenge, a.Password.Reveal(), a.ClientMetadata); err != nil {
			return nil, err
		}
	}
	return c.autoAnswer(ctx, res, a.ClientMetadata)
}

// AuthFactors is GetUserAuthFactors' answer: how the user can sign in.
type AuthFactors struct {
	Username string
	// Configured lists the first factors the user has (FactorPassword,
	// FactorEmailOTP, FactorSMSOTP, FactorWebAuthn).
	Configured   []string
	PreferredMFA string
	MFAs         []string
}

// GetUserAuthFactors lists the signed-in user's sign-in factors and MFA methods.
func (c *Client) GetUserAuthFactors(ctx context.Context, accessToken jwt.Secret) (*AuthFactors, error) {
	if accessToken == "" {
		return nil, errors.New("cognito: GetUserAuthFactors needs an access token")
	}
	out, err := c.api.GetUserAuthFactors(ctx, &cip.GetUserAuthFactorsInput{AccessToken: aws.String(accessToken.Reveal())})
	if err != nil {
		return nil, MapError("GetUserAuthFactors", err)
	}
	if aws.ToString(out.Username) == "" {
		return nil, invalidAnswer("GetUserAuthFactors", out.ResultMetadata, "no Username")
	}
	f := &AuthFactors{Username: clipText(aws.ToString(out.Username), 256), PreferredMFA: clipText(aws.ToString(out.PreferredMfaSetting), 64)}
	for _, a := range out.ConfiguredUserAuthFactors {
		if len(f.Configured) == maxAvailable {
			break
		}
		f.Configured = append(f.Configured, clipText(string(a), 64))
	}
	for _, m := range out.UserMFASettingList {
		if len(f.MFAs) == maxAvailable {
			break
		}
		f.MFAs = append(f.MFAs, clipText(m, 64))
	}
	return f, nil
}
