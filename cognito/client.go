package cognito

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/smithy-go/middleware"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/internal/bounded"
	"github.com/cogauth/cogauth/internal/redact"
	"github.com/cogauth/cogauth/jwt"
)

// Options configure a Client.
type Options struct {
	// UserPoolID, e.g. "us-east-1_AbC123". Required: SRP and token checks need it.
	UserPoolID string
	// ClientID is the app client ID. Required.
	ClientID string
	// ClientSecret is the app client's secret, if it has one; every call then
	// carries a SECRET_HASH.
	ClientSecret jwt.Secret
	// Region defaults to the pool ID's prefix.
	Region string
	// Endpoint overrides the service URL: the emulator, moto, a VPC endpoint.
	Endpoint string
	// HTTPClient sends the requests; the SDK's default when nil.
	HTTPClient aws.HTTPClient
	// Clock gives SRP its timestamps; the system clock when nil.
	Clock clock.Clock
	// Random is the entropy for SRP; crypto/rand when nil.
	Random io.Reader
	// RetryMaxAttempts is the SDK's attempt count per call. The default, 1, leaves
	// retrying to the caller (session/ has its own backoff and failure policy), so
	// one call here is one request at the service.
	RetryMaxAttempts int
	// Timeout bounds each call, the answer's body included, when the caller's
	// context has no earlier deadline: DefaultTimeout (30 s) when zero, no bound
	// of its own when negative. A call that runs out is a retryable NetworkError.
	Timeout time.Duration
	// RefreshOperation chooses the operation Refresh uses; RefreshAuto when zero.
	RefreshOperation RefreshOperation
}

// RefreshOperation is how Refresh trades a refresh token for new tokens.
type RefreshOperation int

const (
	// RefreshAuto uses GetTokensFromRefreshToken, and falls back to InitiateAuth
	// REFRESH_TOKEN_AUTH (for good) only when the service answers in Cognito's own
	// JSON that it does not know the operation (UnknownOperationException). Any
	// other answer, an HTML page included, is a fault, not a reason to fall back:
	// a client with refresh-token rotation refuses REFRESH_TOKEN_AUTH, and that
	// refusal would end the session.
	RefreshAuto RefreshOperation = iota
	// RefreshGetTokens uses GetTokensFromRefreshToken only (it can rotate the
	// refresh token).
	RefreshGetTokens
	// RefreshInitiateAuth uses InitiateAuth REFRESH_TOKEN_AUTH only: for services
	// that lack GetTokensFromRefreshToken without saying so in Cognito's words
	// (moto answers it with a 500 HTML page). It never rotates.
	RefreshInitiateAuth
)

// String is the operation's name as ParseRefreshOperation reads it.
func (o RefreshOperation) String() string {
	switch o {
	case RefreshAuto:
		return "auto"
	case RefreshGetTokens:
		return "GetTokensFromRefreshToken"
	case RefreshInitiateAuth:
		return "InitiateAuth"
	}
	return fmt.Sprintf("RefreshOperation(%d)", int(o))
}

// ParseRefreshOperation reads "auto" (or ""), "GetTokensFromRefreshToken" or
// "InitiateAuth" (case-insensitive; "REFRESH_TOKEN_AUTH" too).
func ParseRefreshOperation(s string) (RefreshOperation, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return RefreshAuto, nil
	case "gettokensfromrefreshtoken":
		return RefreshGetTokens, nil
	case "initiateauth", "refresh_token_auth":
		return RefreshInitiateAuth, nil
	}
	return RefreshAuto, fmt.Errorf("cognito: refresh operation %q is not auto, GetTokensFromRefreshToken or InitiateAuth", s)
}

// Client speaks the Cognito user-pool protocol for one app client. It keeps no
// session state: every token it needs comes in as an argument. Safe for concurrent
// use.
type Client struct {
	opts settings
	// secret is the client secret, boxed: fmt prints a pointer it meets inside a
	// value as an address, so no printing of a Client (or of anything holding
	// one) can reach it, and the Client needs no printing method to hide it.
	secret redact.Box[jwt.Secret]
	api    *cip.Client
	// noGetTokens remembers that the service does not implement
	// GetTokensFromRefreshToken, so refreshes go straight to REFRESH_TOKEN_AUTH.
	noGetTokens atomic.Bool
}

// settings are a Client's Options without the client secret: the Client keeps
// no copy of it where fmt's reflection could print it.
type settings struct {
	UserPoolID, ClientID, Region, Endpoint string
	HTTPClient                             aws.HTTPClient
	Clock                                  clock.Clock
	Random                                 io.Reader
	RetryMaxAttempts                       int
	Timeout                                time.Duration
	RefreshOperation                       RefreshOperation
}

// New returns a Client for opts.
func New(opts Options) (*Client, error) {
	region, err := RegionFromPoolID(opts.UserPoolID)
	if err != nil {
		return nil, err
	}
	if opts.ClientID == "" {
		return nil, errors.New("cognito: ClientID is required")
	}
	if opts.Region == "" {
		opts.Region = region
	}
	if opts.Clock == nil {
		opts.Clock = clock.System{}
	}
	if opts.Random == nil {
		opts.Random = rand.Reader
	}
	if opts.RetryMaxAttempts <= 0 {
		opts.RetryMaxAttempts = 1
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	switch opts.RefreshOperation {
	case RefreshAuto, RefreshGetTokens, RefreshInitiateAuth:
	default:
		return nil, fmt.Errorf("cognito: unknown %v", opts.RefreshOperation)
	}
	o := cip.Options{
		Region: opts.Region,
		// Every answer is read through MaxAnswerSize, every call bounded in time.
		HTTPClient:       bounded.HTTPClient(opts.HTTPClient, MaxAnswerSize),
		APIOptions:       []func(*middleware.Stack) error{bounded.Deadline(opts.Timeout)},
		RetryMaxAttempts: opts.RetryMaxAttempts,
		// No credentials: the operations used here are unsigned by Cognito's model
		// (anonymous auth scheme), which is what browsers and apps do too.
	}
	if opts.Endpoint != "" {
		o.BaseEndpoint = aws.String(opts.Endpoint)
	}
	if opts.RetryMaxAttempts == 1 {
		o.Retryer = aws.NopRetryer{}
	}
	return &Client{opts: settings{
		UserPoolID: opts.UserPoolID, ClientID: opts.ClientID, Region: opts.Region, Endpoint: opts.Endpoint,
		HTTPClient: opts.HTTPClient, Clock: opts.Clock, Random: opts.Random,
		RetryMaxAttempts: opts.RetryMaxAttempts, Timeout: opts.Timeout, RefreshOperation: opts.RefreshOperation,
	}, secret: redact.NewBox(opts.ClientSecret), api: cip.New(o)}, nil
}

// UserPoolID returns the pool the client talks to.
func (c *Client) UserPoolID() string { return c.opts.UserPoolID }

// ClientID returns the app client ID.
func (c *Client) ClientID() string { return c.opts.ClientID }

// Region returns the region requests go to.
func (c *Client) Region() string { return c.opts.Region }

// API returns the underlying SDK client, for operations this package does not wrap.
func (c *Client) API() *cip.Client { return c.api }

// RegionFromPoolID returns the region part of a user pool ID ("us-east-1_AbC" →
// "us-east-1"), or an error if poolID is not of that shape.
func RegionFromPoolID(poolID string) (string, error) {
	region, id, ok := strings.Cut(poolID, "_")
	if !ok || region == "" || id == "" || strings.Count(region, "-") < 2 {
		return "", fmt.Errorf("cognito: user pool ID %q is not of the form <region>_<id>", poolID)
	}
	return region, nil
}

// SecretHash is Cognito's SECRET_HASH: base64(HMAC-SHA256(clientSecret, username +
// clientID)). username must be the name the service knows the user by.
func SecretHash(clientSecret, username, clientID string) string {
	m := hmac.New(sha256.New, []byte(clientSecret))
	m.Write([]byte(username))
	m.Write([]byte(clientID))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// addSecretHash sets SECRET_HASH in params when the client has a secret.
func (c *Client) addSecretHash(params map[string]string, username string) {
	if c.secret.Get() != "" {
		params["SECRET_HASH"] = SecretHash(c.secret.Get().Reveal(), username, c.opts.ClientID)
	}
}

// serverTime returns the Date header of the answer, zero when absent.
func serverTime(md middleware.Metadata) time.Time {
	t, _ := awsmiddleware.GetServerTime(md)
	return t
}
