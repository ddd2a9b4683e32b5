package session

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/internal/errkind"
	"github.com/cogauth/cogauth/jwt"
)

// RefreshRequest is what a Refresher gets from the stored session.
type RefreshRequest struct {
	RefreshToken jwt.Secret
	// Username is the service's name for the user (the access token's username
	// claim); a client with a secret computes SECRET_HASH over it.
	Username string
	// DeviceKey is the remembered device's key, if any: a refresh token issued to a
	// device is refused without it.
	DeviceKey string
	// Source is how the session was obtained, and Domain the hosted UI domain it
	// came from (SourceHostedUI; empty when none was recorded).
	Source Source
	Domain string
}

// RefreshResult holds the tokens a refresh brought. RefreshToken is set when the
// service rotated it; the old one then soon stops working.
type RefreshResult struct {
	AccessToken  jwt.Secret
	IDToken      jwt.Secret
	RefreshToken jwt.Secret
	// ServerTime is the answer's Date header, if any (clock drift).
	ServerTime time.Time
}

// Refresher trades a refresh token for new tokens: what the Manager needs of the
// user pool API, or of the hosted UI's token endpoint. UserPool adapts a
// *cognito.Client and hostedui.NewRefresher the hosted UI; a test can implement it
// in a few lines.
//
// The error says what the service decided. One that matches ErrRefreshRejected
// (a *RejectedError, best) is definitive: the service refused the refresh token,
// and the session ends. Every other error is transient: the session is kept,
// its valid tokens are served, and the refresh is tried again with backoff. The
// answer is validated before anything is stored (see Manager.Fetch).
type Refresher interface {
	Refresh(ctx context.Context, req RefreshRequest) (*RefreshResult, error)
}

// ErrRefreshRejected matches an error of a Refresher that means the service
// definitively refused the refresh token (revoked, expired, user deleted or
// disabled, password reset required, a rotated token spent twice).
var ErrRefreshRejected = errkind.New("session: the service rejected the refresh token", false)

// RejectedError is a definitive refusal, with the reason the session ends for. It
// matches ErrRefreshRejected and wraps the service's error.
type RejectedError struct {
	Reason Reason
	Err    error
}

func (e *RejectedError) Error() string {
	if e.Err == nil {
		return ErrRefreshRejected.Error() + " (" + e.Reason.String() + ")"
	}
	return ErrRefreshRejected.Error() + " (" + e.Reason.String() + "): " + e.Err.Error()
}

func (e *RejectedError) Unwrap() []error { return []error{ErrRefreshRejected, e.Err} }

// RetryableError is false: the service's refusal stands (aws-sdk-go-v2's
// behaviour, read by retry.IsErrorRetryable).
func (e *RejectedError) RetryableError() bool { return false }

// UserPool returns the Refresher of the user pool API (GetTokensFromRefreshToken,
// or InitiateAuth REFRESH_TOKEN_AUTH where the service lacks it). Definitive
// Cognito exceptions come back as *RejectedError.
func UserPool(c *cognito.Client) Refresher { return userPool{c} }

type userPool struct{ c *cognito.Client }

func (u userPool) Refresh(ctx context.Context, req RefreshRequest) (*RefreshResult, error) {
	res, err := u.c.Refresh(ctx, cognito.RefreshInput{RefreshToken: req.RefreshToken, Username: req.Username, DeviceKey: req.DeviceKey})
	if err != nil {
		return nil, rejected(err)
	}
	return fromCognito(res)
}

// fromCognito turns a finished Cognito answer into a RefreshResult.
func fromCognito(res *cognito.Result) (*RefreshResult, error) {
	if res == nil || res.Tokens == nil {
		return nil, &answerError{rule: "the answer holds no tokens"}
	}
	return &RefreshResult{
		AccessToken: res.Tokens.AccessToken, IDToken: res.Tokens.IDToken, RefreshToken: res.Tokens.RefreshToken,
		ServerTime: res.ServerTime,
	}, nil
}

// rejected wraps a definitive Cognito error in a *RejectedError; others pass.
func rejected(err error) error {
	if reason, ok := definitiveReason(err); ok {
		return &RejectedError{Reason: reason, Err: err}
	}
	return err
}

// rejectionReason tells whether a Refresher's err ends the session, and why.
func rejectionReason(err error) (Reason, bool) {
	var rj *RejectedError
	if errors.As(err, &rj) {
		return rj.Reason, true
	}
	if errors.Is(err, ErrRefreshRejected) {
		if r, ok := definitiveReason(err); ok {
			return r, true
		}
		return ReasonRevoked, true
	}
	return 0, false
}

// ErrInvalidAnswer matches a service answer that failed validation: tokens that
// are not JWTs, or are for another pool, client or user, of the wrong kind, or
// already expired. Such an answer is a fault of the service (or of something in
// front of it), never stored: the session is kept, and the error is retryable.
var ErrInvalidAnswer = errkind.New("session: the service's answer failed validation", true)

// answerError names the rule an answer broke.
type answerError struct{ rule string }

func (e *answerError) Error() string { return ErrInvalidAnswer.Error() + ": " + e.rule }

// Unwrap makes the error match ErrInvalidAnswer, whose RetryableError says it is
// retryable, as every transient failure is.
func (e *answerError) Unwrap() error { return ErrInvalidAnswer }

// expectation is what new tokens must match: the pool and client always, and
// for a refresh the user they replace.
type expectation struct {
	pool, client string
	sub          string // "" at sign-in
	username     string // "" at sign-in
	now          time.Time
}

// checkTokens validates tokens the service just issued, before anything is
// stored: both must be JWTs of the pool (iss) and client (client_id, aud) with the
// right token_use, for the same sub (and the expected user's), expiring in the
// future. It returns the decoded access token, or an *answerError naming every
// rule that failed.
func checkTokens(want expectation, access, id string) (*jwt.Token, error) {
	if len(access) > maxTokenSize || len(id) > maxTokenSize {
		return nil, &answerError{rule: fmt.Sprintf("a token is longer than %d bytes", maxTokenSize)}
	}
	at, err := jwt.Decode(access)
	if err != nil {
		return nil, &answerError{rule: "access token: " + err.Error()}
	}
	c := at.Claims()
	problems := accessProblems(want, c)
	if id != "" {
		it, err := jwt.Decode(id)
		if err != nil {
			return nil, &answerError{rule: "id token: " + err.Error()}
		}
		problems = append(problems, idProblems(want, it.Claims(), c.Sub)...)
	}
	if len(problems) > 0 {
		return nil, &answerError{rule: strings.Join(problems, "; ")}
	}
	return at, nil
}

// accessProblems names every rule the access token's claims c break.
func accessProblems(want expectation, c *jwt.Claims) []string {
	var problems []string
	if c.TokenUse != jwt.AccessToken {
		problems = append(problems, fmt.Sprintf("access token has token_use %q, want access", c.TokenUse))
	}
	if !issuedBy(c.Iss, want.pool) {
		problems = append(problems, fmt.Sprintf("access token issuer %q is not pool %s", c.Iss, want.pool))
	}
	if c.ClientID != want.client {
		problems = append(problems, fmt.Sprintf("access token client_id %q is not %s", c.ClientID, want.client))
	}
	if c.Username == "" || c.Sub == "" || c.Exp.IsZero() {
		problems = append(problems, "access token lacks username, sub or exp")
	}
	if want.sub != "" && c.Sub != want.sub {
		problems = append(problems, "access token is for another user (sub) than the session")
	}
	if want.username != "" && c.Username != "" && c.Username != want.username {
		problems = append(problems, fmt.Sprintf("access token is for user %q, not %q", c.Username, want.username))
	}
	if expired(c.Exp, want.now) {
		problems = append(problems, fmt.Sprintf("access token expired at %s", c.Exp.UTC().Format(time.RFC3339)))
	}
	return problems
}

// idProblems names every rule the id token's claims ic break, for the user of
// the access token (sub).
func idProblems(want expectation, ic *jwt.Claims, sub string) []string {
	var problems []string
	if ic.TokenUse != jwt.IDToken {
		problems = append(problems, fmt.Sprintf("id token has token_use %q, want id", ic.TokenUse))
	}
	if !issuedBy(ic.Iss, want.pool) {
		problems = append(problems, fmt.Sprintf("id token issuer %q is not pool %s", ic.Iss, want.pool))
	}
	if !slices.Contains(ic.Aud, want.client) {
		problems = append(problems, fmt.Sprintf("id token audience %q does not include %s", ic.Aud, want.client))
	}
	if ic.Sub != sub {
		problems = append(problems, "id and access tokens belong to different users")
	}
	if expired(ic.Exp, want.now) {
		problems = append(problems, fmt.Sprintf("id token expired at %s", ic.Exp.UTC().Format(time.RFC3339)))
	}
	return problems
}

// expired reports whether a token expiring at exp is dead at now; an unknown
// exp or now says nothing.
func expired(exp, now time.Time) bool {
	return !exp.IsZero() && !now.IsZero() && !exp.After(now)
}

// maxTokenSize bounds a token before it is decoded or stored. Cognito's are a few
// kilobytes; id tokens with many groups and attributes stay far below this.
const maxTokenSize = 64 << 10
