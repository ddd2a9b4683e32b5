package identity

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ci "github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/smithy-go/middleware"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/internal/bounded"
	"github.com/cogauth/cogauth/internal/errkind"
	"github.com/cogauth/cogauth/internal/redact"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/secret"
	"github.com/cogauth/cogauth/store"
)

// Options configure a Client.
type Options struct {
	// IdentityPoolID, e.g. "us-east-1:0f6c1b52-…". Required.
	IdentityPoolID string
	// Region defaults to the identity pool ID's prefix.
	Region string
	// Endpoint overrides the service URL: the emulator, a VPC endpoint.
	Endpoint string
	// HTTPClient sends the requests; the SDK's default when nil.
	HTTPClient aws.HTTPClient
	// Store keeps identity IDs between runs (keyed by identity pool and user), so a
	// restarted program does not ask for them again; a memory store when nil.
	Store store.Store
	// RetryMaxAttempts is the SDK's attempt count per call. The default, 1, leaves
	// retrying to the caller (Provider and session/ have their own failure
	// policy), so one call here is one request at the service.
	RetryMaxAttempts int
	// CustomRoleARN, when set, asks for signed-in users' credentials for this
	// role rather than the one the identity pool's role mapping would choose.
	// The mapping must allow it (a role of the id token's cognito:roles, or of a
	// matching rule); Cognito refuses any other with NotAuthorizedException.
	// Guests always get the pool's unauthenticated role.
	CustomRoleARN string
	// Timeout bounds each call, the answer's body included, when the caller's
	// context has no earlier deadline: cognito.DefaultTimeout (30 s) when zero, no
	// bound of its own when negative. Answers are read up to
	// cognito.MaxAnswerSize.
	Timeout time.Duration
}

// Client gets identity IDs and credentials from one identity pool with Cognito's
// enhanced (simplified) flow: GetId, then GetCredentialsForIdentity. Both calls are
// unsigned, as apps make them. It caches identity IDs, never credentials (Provider
// does that). Safe for concurrent use.
type Client struct {
	opts Options
	api  *ci.Client
}

// ErrInvalidLogin: the token given as a login is not a Cognito id token.
var ErrInvalidLogin = errkind.New("identity: invalid login token", false)

var poolIDPattern = regexp.MustCompile(`^[\w-]+:[0-9a-f-]+$`)

// RegionFromPoolID returns the region part of an identity pool ID
// ("us-east-1:0f6c…" → "us-east-1"), or an error if poolID is not of that shape.
func RegionFromPoolID(poolID string) (string, error) {
	region, _, ok := strings.Cut(poolID, ":")
	if !ok || len(poolID) > 55 || !poolIDPattern.MatchString(poolID) || strings.Count(region, "-") < 2 {
		return "", fmt.Errorf("identity: identity pool ID %q is not of the form <region>:<uuid>", poolID)
	}
	return region, nil
}

// New returns a Client for opts. It does no I/O.
func New(opts Options) (*Client, error) {
	region, err := RegionFromPoolID(opts.IdentityPoolID)
	if err != nil {
		return nil, err
	}
	if opts.Region == "" {
		opts.Region = region
	}
	if opts.Store == nil {
		opts.Store = store.NewMemory()
	}
	if opts.RetryMaxAttempts <= 0 {
		opts.RetryMaxAttempts = 1
	}
	if opts.Timeout == 0 {
		opts.Timeout = cognito.DefaultTimeout
	}
	o := ci.Options{
		Region:           opts.Region,
		HTTPClient:       bounded.HTTPClient(opts.HTTPClient, cognito.MaxAnswerSize),
		APIOptions:       []func(*middleware.Stack) error{bounded.Deadline(opts.Timeout)},
		RetryMaxAttempts: opts.RetryMaxAttempts,
		// GetId and GetCredentialsForIdentity are unsigned in Cognito's model; no
		// credentials are needed (or wanted: the caller has none yet).
		Credentials: aws.AnonymousCredentials{},
	}
	if opts.Endpoint != "" {
		o.BaseEndpoint = aws.String(opts.Endpoint)
	}
	if opts.RetryMaxAttempts == 1 {
		o.Retryer = aws.NopRetryer{}
	}
	return &Client{opts: opts, api: ci.New(o)}, nil
}

// IdentityPoolID returns the pool the client talks to.
func (c *Client) IdentityPoolID() string { return c.opts.IdentityPoolID }

// Region returns the region requests go to (and that credentials are for).
func (c *Client) Region() string { return c.opts.Region }

// API returns the underlying SDK client, for operations this package does not wrap.
func (c *Client) API() *ci.Client { return c.api }

// Login is a signed-in user as an identity pool sees them: the logins-map key
// (the token issuer without its scheme) and the user's sub.
type Login struct {
	Provider string // e.g. "cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC"
	Sub      string
	// token is the id token, boxed: fmt prints a pointer it meets inside a
	// value as an address, so no printing of a Login reaches it.
	token redact.Box[secret.String]
}

// ParseLogin reads the provider name and user of a Cognito id token. The token is
// decoded, not verified: the identity service verifies it.
func ParseLogin(idToken jwt.Secret) (Login, error) {
	t, err := jwt.Decode(idToken.Reveal())
	if err != nil {
		return Login{}, fmt.Errorf("%w: %w", ErrInvalidLogin, err)
	}
	cl := t.Claims()
	if cl.TokenUse != "id" {
		return Login{}, fmt.Errorf("%w: token_use is %q, want an id token", ErrInvalidLogin, cl.TokenUse)
	}
	provider := cl.Iss
	for _, scheme := range []string{"https://", "http://"} {
		provider = strings.TrimPrefix(provider, scheme)
	}
	if provider == "" || cl.Sub == "" {
		return Login{}, fmt.Errorf("%w: no issuer or subject", ErrInvalidLogin)
	}
	return Login{Provider: provider, Sub: cl.Sub, token: redact.NewBox(idToken)}, nil
}

func (l Login) guest() bool { return l.token.Get() == "" }

func (l Login) logins() map[string]string {
	if l.guest() {
		return nil
	}
	return map[string]string{l.Provider: l.token.Get().Reveal()}
}

// identityRecord names the store records of identity IDs: store.Join(
// identityRecord, identity pool ID, login provider, sub), both empty for the guest
// identity (the name and layout release 2 gave them). They are written with no
// expiry: an identity ID outlives sign-out.
const identityRecord = "i"

// key is where the store keeps l's identity ID.
func (c *Client) key(l Login) store.Key {
	if l.guest() {
		return store.Join(identityRecord, c.opts.IdentityPoolID, "", "")
	}
	return store.Join(identityRecord, c.opts.IdentityPoolID, l.Provider, l.Sub)
}

type storedID struct {
	IdentityID string `json:"identityId"`
}

// cachedID returns the stored identity ID for l ("" when none). A store that cannot
// be read counts as empty: the identity ID is a cache, and GetId gives the same
// (authenticated) ID again.
func (c *Client) cachedID(ctx context.Context, l Login) (string, error) {
	e, err := c.opts.Store.Get(ctx, c.key(l))
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", nil
	}
	var s storedID
	if json.Unmarshal(e.Data, &s) != nil || !poolIDPattern.MatchString(s.IdentityID) {
		return "", nil
	}
	return s.IdentityID, nil
}

// remember stores id for l. A failed write costs one GetId after a restart, not
// the credentials, so it is not reported.
func (c *Client) remember(ctx context.Context, l Login, id string) {
	data, _ := json.Marshal(storedID{IdentityID: id})
	_, _ = c.opts.Store.Put(ctx, c.key(l), data, store.AnyVersion, time.Time{})
}

func (c *Client) forget(ctx context.Context, l Login) error {
	return c.opts.Store.Delete(ctx, c.key(l), store.AnyVersion)
}

// Forget deletes the stored identity ID of the user of idToken (of the guest when
// idToken is empty), as sign-out does.
func (c *Client) Forget(ctx context.Context, idToken jwt.Secret) error {
	l, err := c.login(idToken)
	if err != nil {
		return err
	}
	if err := c.forget(ctx, l); err != nil {
		return fmt.Errorf("identity: forgetting identity ID: %w", err)
	}
	return nil
}

func (c *Client) login(idToken jwt.Secret) (Login, error) {
	if idToken == "" {
		return Login{}, nil
	}
	return ParseLogin(idToken)
}

// IdentityID returns the identity ID of the user of idToken (of a guest when
// idToken is empty), from the store or from GetId.
func (c *Client) IdentityID(ctx context.Context, idToken jwt.Secret) (string, error) {
	l, err := c.login(idToken)
	if err != nil {
		return "", err
	}
	id, err := c.cachedID(ctx, l)
	if err != nil || id != "" {
		return id, err
	}
	id, err = c.getID(ctx, l)
	if err != nil {
		return "", err
	}
	c.remember(ctx, l, id)
	return id, nil
}

func (c *Client) getID(ctx context.Context, l Login) (string, error) {
	out, err := c.api.GetId(ctx, &ci.GetIdInput{
		IdentityPoolId: aws.String(c.opts.IdentityPoolID),
		Logins:         l.logins(),
	})
	if err != nil {
		return "", mapError("GetId", err)
	}
	if out.IdentityId == nil || *out.IdentityId == "" {
		return "", incomplete("GetId", out.ResultMetadata, "no IdentityId")
	}
	return *out.IdentityId, nil
}

// Credentials returns fresh credentials for the user of idToken, or for a guest
// when idToken is empty. It asks every time; Provider caches.
//
// A signed-in user with no stored identity ID, on a device that has a guest
// identity, presents the guest identity with their login: Cognito then links the
// guest identity to the user (or merges it into the user's existing identity), so
// what the guest did carries over, as Amplify and the mobile SDKs do. The guest
// identity is then forgotten: it is the user's now.
func (c *Client) Credentials(ctx context.Context, idToken jwt.Secret) (Credentials, error) {
	l, err := c.login(idToken)
	if err != nil {
		return Credentials{}, err
	}
	id, err := c.cachedID(ctx, l)
	if err != nil {
		return Credentials{}, err
	}
	fromGuest := false
	if id == "" && !l.guest() {
		guestID, err := c.cachedID(ctx, Login{})
		if err != nil {
			return Credentials{}, err
		}
		id, fromGuest = guestID, guestID != ""
	}
	cached := id != ""
	if !cached {
		if id, err = c.getID(ctx, l); err != nil {
			return Credentials{}, err
		}
	}
	creds, err := c.credentialsFor(ctx, id, l)
	if err != nil && cached && staleIdentity(err) {
		// The stored identity was deleted, merged away or linked to someone else:
		// start again from GetId, once.
		if fromGuest {
			_ = c.forget(ctx, Login{})
		} else {
			_ = c.forget(ctx, l)
		}
		fromGuest = false
		if id, err = c.getID(ctx, l); err != nil {
			return Credentials{}, err
		}
		creds, err = c.credentialsFor(ctx, id, l)
	}
	if err != nil {
		return Credentials{}, err
	}
	c.remember(ctx, l, creds.IdentityID)
	if fromGuest {
		_ = c.forget(ctx, Login{})
	}
	return creds, nil
}

// staleIdentity tells whether err may come from a stored identity ID that no
// longer fits, rather than from the login itself.
func staleIdentity(err error) bool {
	switch errorName(err) {
	case "ResourceNotFoundException", "NotAuthorizedException", "ResourceConflictException":
		return true
	}
	return false
}

func (c *Client) credentialsFor(ctx context.Context, id string, l Login) (Credentials, error) {
	in := &ci.GetCredentialsForIdentityInput{
		IdentityId: aws.String(id),
		Logins:     l.logins(),
	}
	if c.opts.CustomRoleARN != "" && !l.guest() {
		in.CustomRoleArn = aws.String(c.opts.CustomRoleARN)
	}
	out, err := c.api.GetCredentialsForIdentity(ctx, in)
	if err != nil {
		return Credentials{}, mapError("GetCredentialsForIdentity", err)
	}
	cr := out.Credentials
	if cr == nil || cr.AccessKeyId == nil || cr.SecretKey == nil || cr.Expiration == nil {
		return Credentials{}, incomplete("GetCredentialsForIdentity", out.ResultMetadata, "no Credentials")
	}
	if out.IdentityId != nil && *out.IdentityId != "" {
		// Cognito answers with the surviving identity when it merged the one asked.
		id = *out.IdentityId
	}
	return Credentials{
		AccessKeyID:     *cr.AccessKeyId,
		SecretAccessKey: jwt.Secret(*cr.SecretKey),
		SessionToken:    jwt.Secret(aws.ToString(cr.SessionToken)),
		Expiration:      *cr.Expiration,
		IdentityID:      id,
		Guest:           l.guest(),
	}, nil
}

// IncompleteResponse is the Name of an Error for an answer that lacks what the
// operation promises (a misbehaving proxy or emulator, never real Cognito).
const IncompleteResponse = "IncompleteResponse"

func incomplete(op string, md middleware.Metadata, what string) error {
	// Retryable: whatever produced it, asking again is the only remedy.
	if bounded.EmptyAnswer(md) {
		return &cognito.Error{Op: op, Name: cognito.NetworkError, Message: "empty answer", StatusCode: 200, Retryable: true}
	}
	return &cognito.Error{Op: op, Name: IncompleteResponse, Message: "the answer has " + what, StatusCode: 200, Retryable: true}
}
