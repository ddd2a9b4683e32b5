package hostedui

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/internal/bounded"
	"github.com/cogauth/cogauth/internal/errkind"
	"github.com/cogauth/cogauth/internal/redact"
	"github.com/cogauth/cogauth/jwt"
)

// Options configure a Client.
type Options struct {
	// Domain is the user pool domain's base URL, e.g.
	// "https://myapp.auth.us-east-1.amazoncognito.com", a custom domain, or the
	// emulator's URL. Required.
	Domain string
	// ClientID is the app client ID. Required.
	ClientID string
	// ClientSecret is the app client's secret, if it has one; it is sent with HTTP
	// Basic authentication.
	ClientSecret jwt.Secret
	// RedirectURI is where the authorization server sends the browser back; one of
	// the client's callback URLs. AuthorizeOptions and Login may override it.
	RedirectURI string
	// Scopes to ask for; none means every scope the client is allowed.
	Scopes []string
	// HTTPClient sends the requests; http.DefaultClient when nil.
	HTTPClient *http.Client
	// Clock is the local clock for token expiry; the system clock when nil.
	Clock clock.Clock
	// Random is the entropy for state, nonce and PKCE verifier; crypto/rand when nil.
	Random io.Reader
	// Timeout bounds each call to the token, revoke and userInfo endpoints, the
	// answer included, when the caller's context has no earlier deadline: 30 s
	// when zero, no bound of its own when negative.
	Timeout time.Duration
}

// Client speaks the OAuth 2.0 endpoints of a Cognito user pool domain for one app
// client. It keeps no session state. Safe for concurrent use.
type Client struct {
	opts settings
	// secret is the client secret, boxed: fmt prints a pointer it meets inside a
	// value as an address, so no printing of a Client (or of anything holding
	// one) can reach it, and the Client needs no printing method to hide it.
	secret                                     redact.Box[jwt.Secret]
	authorizeURL, tokenURL, revokeURL, infoURL string
}

// settings are Options without the client secret: what a Client (and a
// Refresher) keeps where fmt's reflection could print it.
type settings struct {
	Domain, ClientID, RedirectURI string
	Scopes                        []string
	HTTPClient                    *http.Client
	Clock                         clock.Clock
	Random                        io.Reader
	Timeout                       time.Duration
}

func settingsOf(o Options) settings {
	return settings{Domain: o.Domain, ClientID: o.ClientID, RedirectURI: o.RedirectURI, Scopes: o.Scopes,
		HTTPClient: o.HTTPClient, Clock: o.Clock, Random: o.Random, Timeout: o.Timeout}
}

// options are s with the client secret cs.
func (s settings) options(cs jwt.Secret) Options {
	return Options{Domain: s.Domain, ClientID: s.ClientID, ClientSecret: cs, RedirectURI: s.RedirectURI, Scopes: s.Scopes,
		HTTPClient: s.HTTPClient, Clock: s.Clock, Random: s.Random, Timeout: s.Timeout}
}

// New returns a Client for opts.
func New(opts Options) (*Client, error) {
	if opts.Domain == "" {
		return nil, errors.New("hostedui: Domain is required")
	}
	if opts.ClientID == "" {
		return nil, errors.New("hostedui: ClientID is required")
	}
	base, err := url.Parse(strings.TrimRight(opts.Domain, "/"))
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, fmt.Errorf("hostedui: Domain %q is not an http(s) URL", opts.Domain)
	}
	if base.Scheme == "http" && !isLoopbackHost(base.Hostname()) {
		// Codes, secrets and tokens would cross the network in clear text.
		return nil, fmt.Errorf("hostedui: Domain %q must use https (http is allowed on loopback only)", opts.Domain)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = http.DefaultClient
	}
	if opts.Clock == nil {
		opts.Clock = clock.System{}
	}
	if opts.Random == nil {
		opts.Random = rand.Reader
	}
	if opts.Timeout == 0 {
		opts.Timeout = bounded.DefaultTimeout
	}
	b := base.String()
	return &Client{
		opts:         settingsOf(opts),
		secret:       redact.NewBox(opts.ClientSecret),
		authorizeURL: b + "/oauth2/authorize",
		tokenURL:     b + "/oauth2/token",
		revokeURL:    b + "/oauth2/revoke",
		infoURL:      b + "/oauth2/userInfo",
	}, nil
}

// ClientID returns the app client ID.
func (c *Client) ClientID() string { return c.opts.ClientID }

// TokenURL returns the token endpoint's URL (the domain's /oauth2/token).
func (c *Client) TokenURL() string { return c.tokenURL }

func isLoopbackHost(h string) bool {
	return h == "localhost" || h == "127.0.0.1" || h == "::1"
}

// Tokens are what the token endpoint returned. The secrets print redacted.
type Tokens struct {
	AccessToken  jwt.Secret
	IDToken      jwt.Secret // empty without the openid scope, and for client_credentials
	RefreshToken jwt.Secret // empty for client_credentials, and on refresh without rotation
	TokenType    string
	// ExpiresIn is the access token's lifetime as the server stated it.
	ExpiresIn time.Duration
	// Expiry is when the access token expires, on the local clock.
	Expiry time.Time
	// ServerTime is the answer's Date header (zero without one), for drift.
	ServerTime time.Time
}

// String says which tokens are present and when the access token expires. (It
// is what %s and %q of a *Tokens held in another value print: fmt's error form
// for them calls no method, the tokens' own included.)
func (t *Tokens) String() string {
	if t == nil {
		return "hostedui.Tokens(nil)"
	}
	return fmt.Sprintf("hostedui.Tokens{access=%s id=%s refresh=%s type=%s expiry=%s}",
		t.AccessToken, t.IDToken, t.RefreshToken, t.TokenType, t.Expiry.UTC().Format(time.RFC3339))
}

// AuthorizeOptions adjust one sign-in.
type AuthorizeOptions struct {
	// RedirectURI overrides Options.RedirectURI.
	RedirectURI string
	// Scopes override Options.Scopes.
	Scopes []string
	// IdentityProvider skips the sign-in page and goes straight to a federated
	// provider by name ("Google", "SignInWithApple", a SAML provider's name), or
	// to the pool's own page with "COGNITO".
	IdentityProvider string
}

// AuthRequest is one sign-in under way: the URL to send the browser to, and what
// the callback is checked against. Keep it until Exchange; it prints without its
// secrets.
type AuthRequest struct {
	// URL is the authorize URL to open in the browser.
	URL         string
	RedirectURI string
	State       string
	Nonce       string
	verifier    redact.Box[jwt.Secret] // boxed: no printing reaches it
}

// Verifier returns the request's PKCE code verifier, for a server that keeps a
// sign-in between the authorize redirect and the callback somewhere safe (a
// sealed cookie, a session store) and rebuilds it with ResumeAuthRequest.
func (r *AuthRequest) Verifier() jwt.Secret { return r.verifier.Get() }

// ResumeAuthRequest rebuilds the AuthRequest of a sign-in started by AuthCodeURL
// (in another request, or on another replica) from what it returned, for
// Exchange. URL is left empty: the browser has been there already.
func ResumeAuthRequest(redirectURI, state, nonce string, verifier jwt.Secret) *AuthRequest {
	return &AuthRequest{RedirectURI: redirectURI, State: state, Nonce: nonce, verifier: redact.NewBox(verifier)}
}

// randomToken returns n random bytes in unpadded base64url: 32 bytes make a PKCE
// verifier of 43 characters, the RFC 7636 minimum, with 256 bits of entropy.
func (c *Client) randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(c.opts.Random, b); err != nil {
		return "", fmt.Errorf("hostedui: reading randomness: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// AuthCodeURL starts a sign-in: it makes a fresh state, nonce and PKCE verifier and
// the authorize URL (response_type=code, code_challenge_method=S256) that carries
// them.
func (c *Client) AuthCodeURL(o AuthorizeOptions) (*AuthRequest, error) {
	redirect := o.RedirectURI
	if redirect == "" {
		redirect = c.opts.RedirectURI
	}
	if redirect == "" {
		return nil, errors.New("hostedui: no redirect URI")
	}
	scopes := o.Scopes
	if scopes == nil {
		scopes = c.opts.Scopes
	}
	state, err := c.randomToken(24)
	if err != nil {
		return nil, err
	}
	nonce, err := c.randomToken(24)
	if err != nil {
		return nil, err
	}
	verifier, err := c.randomToken(32)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {c.opts.ClientID},
		"redirect_uri":          {redirect},
		"state":                 {state},
		"nonce":                 {nonce},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	if len(scopes) > 0 {
		q.Set("scope", strings.Join(scopes, " "))
	}
	if o.IdentityProvider != "" {
		q.Set("identity_provider", o.IdentityProvider)
	}
	return &AuthRequest{URL: c.authorizeURL + "?" + q.Encode(), RedirectURI: redirect, State: state, Nonce: nonce, verifier: redact.NewBox(jwt.Secret(verifier))}, nil
}

// The kinds of failure, for errors.Is. None of them is worth retrying as it is;
// whether an *Error is says its RetryableError.
var (
	// ErrStateMismatch: the callback's state is not the one this sign-in sent, so
	// it may be forged (a login CSRF); the code is not redeemed.
	ErrStateMismatch = errkind.New("hostedui: the callback's state does not match the sign-in's", false)
	// ErrNonceMismatch: the id token's nonce is not the one this sign-in sent.
	ErrNonceMismatch = errkind.New("hostedui: the id token's nonce does not match the sign-in's", false)
	// ErrInvalidGrant: the code or refresh token was refused (spent, expired,
	// revoked, or sent with the wrong verifier or redirect URI).
	ErrInvalidGrant = errkind.New("hostedui: invalid grant", false)
	// ErrInvalidClient: the client ID or secret was refused.
	ErrInvalidClient = errkind.New("hostedui: invalid client", false)
)

// Error is an OAuth error from the server, or a failed request to it.
type Error struct {
	Endpoint    string // "token", "revoke", "userInfo", "authorize"
	Code        string // OAuth error code: "invalid_grant", "access_denied", …
	Description string
	StatusCode  int   // 0 when the request got no answer
	Cause       error // a network failure or unreadable answer
	// cut marks an answer whose body broke off (a connection reset mid-body):
	// as transient as no answer at all, whatever the status line said.
	cut bool
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("hostedui: ")
	b.WriteString(e.Endpoint)
	switch {
	case e.Code != "":
		b.WriteString(": ")
		b.WriteString(e.Code)
		if e.Description != "" {
			b.WriteString(" (" + e.Description + ")")
		}
	case e.StatusCode != 0:
		fmt.Fprintf(&b, ": HTTP %d", e.StatusCode)
	}
	if e.Cause != nil {
		b.WriteString(": " + e.Cause.Error())
	}
	return b.String()
}

// Unwrap exposes the cause and the kind the error matches.
func (e *Error) Unwrap() []error {
	var out []error
	if e.Cause != nil {
		out = append(out, e.Cause)
	}
	switch e.Code {
	case "invalid_grant":
		out = append(out, ErrInvalidGrant)
	case "invalid_client":
		out = append(out, ErrInvalidClient)
	}
	return out
}

// RetryableError reports whether trying again may work (aws-sdk-go-v2's
// behaviour, read by retry.IsErrorRetryable): no answer, one cut short, a 5xx,
// a 429, or an answer that is not an OAuth error (a proxy's page, a 200 without
// tokens) are not the service's verdict.
func (e *Error) RetryableError() bool {
	switch {
	case e.Code == "invalid_grant" || e.Code == "invalid_client":
		return false
	case e.cut || e.Code == "" || e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests:
		return true
	}
	return false
}

// Exchange finishes a sign-in: it checks the callback's state against req, turns an
// error callback into an *Error, redeems the code with the PKCE verifier at
// /oauth2/token, and checks the id token's audience and nonce. callback is the
// redirect URI's query.
func (c *Client) Exchange(ctx context.Context, req *AuthRequest, callback url.Values) (*Tokens, error) {
	if req == nil {
		return nil, errors.New("hostedui: Exchange needs the AuthRequest of the sign-in")
	}
	// The state is checked before anything else, error callbacks included: an
	// answer that does not carry it did not come from this sign-in.
	if got := callback.Get("state"); subtle.ConstantTimeCompare([]byte(got), []byte(req.State)) != 1 {
		return nil, ErrStateMismatch
	}
	if code := callback.Get("error"); code != "" {
		return nil, &Error{Endpoint: "authorize", Code: code, Description: callback.Get("error_description")}
	}
	code := callback.Get("code")
	if code == "" {
		return nil, &Error{Endpoint: "authorize", Code: "invalid_request", Description: "the callback has no code"}
	}
	t, err := c.post(ctx, "token", c.tokenURL, url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {req.RedirectURI},
		"code_verifier": {req.verifier.Get().Reveal()},
	})
	if err != nil {
		return nil, err
	}
	if t.IDToken != "" {
		if err := c.checkIDToken(t.IDToken, req.Nonce); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// checkIDToken checks what the client can check of an id token that came straight
// from the token endpoint over TLS (OpenID Connect Core 3.1.3.7 lets TLS stand in
// for the signature there): it is an id token for this client with this nonce.
func (c *Client) checkIDToken(raw jwt.Secret, nonce string) error {
	tok, err := jwt.Decode(raw.Reveal())
	if err != nil {
		return fmt.Errorf("hostedui: id token: %w", err)
	}
	cl := tok.Claims()
	if cl.TokenUse != jwt.IDToken || !slices.Contains(cl.Aud, c.opts.ClientID) {
		return fmt.Errorf("hostedui: the id token is not for client %s", c.opts.ClientID)
	}
	got, _ := cl.Raw()["nonce"].(string)
	if subtle.ConstantTimeCompare([]byte(got), []byte(nonce)) != 1 {
		return ErrNonceMismatch
	}
	return nil
}

// Refresh gets new tokens at /oauth2/token with grant_type=refresh_token. The
// answer has no refresh token unless the client rotates them.
func (c *Client) Refresh(ctx context.Context, refresh jwt.Secret) (*Tokens, error) {
	if refresh == "" {
		return nil, errors.New("hostedui: no refresh token")
	}
	return c.post(ctx, "token", c.tokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh.Reveal()}})
}

// ClientCredentials gets an access token for the client itself (machine to
// machine) at /oauth2/token with grant_type=client_credentials. The client needs a
// secret; scopes are resource-server scopes, all the client's when none are given.
func (c *Client) ClientCredentials(ctx context.Context, scopes ...string) (*Tokens, error) {
	if c.secret.Get() == "" {
		return nil, errors.New("hostedui: the client_credentials grant needs the client secret")
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	return c.post(ctx, "token", c.tokenURL, form)
}

// Revoke revokes a refresh token at /oauth2/revoke, ending the sign-in it belongs
// to (its access tokens stop working at the service too).
func (c *Client) Revoke(ctx context.Context, refresh jwt.Secret) error {
	if refresh == "" {
		return errors.New("hostedui: no refresh token")
	}
	_, err := c.post(ctx, "revoke", c.revokeURL, url.Values{"token": {refresh.Reveal()}})
	return err
}

// UserInfo reads /oauth2/userInfo with an access token that has the openid scope.
// Cognito answers attributes as strings ("true" for verified flags).
func (c *Client) UserInfo(ctx context.Context, access jwt.Secret) (map[string]any, error) {
	ctx, cancel := bounded.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.infoURL, nil)
	if err != nil {
		return nil, fmt.Errorf("hostedui: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+access.Reveal())
	req.Header.Set("Accept", "application/json")
	resp, err := c.opts.HTTPClient.Do(req)
	if err != nil {
		return nil, &Error{Endpoint: "userInfo", Cause: scrub(err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, &Error{Endpoint: "userInfo", StatusCode: resp.StatusCode, Cause: err, cut: true}
	}
	if resp.StatusCode != http.StatusOK {
		e := oauthError("userInfo", resp.StatusCode, body)
		if e.Code == "" {
			e.Code, e.Description = bearerChallenge(resp.Header.Get("WWW-Authenticate"))
		}
		return nil, e
	}
	out := map[string]any{}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, &Error{Endpoint: "userInfo", StatusCode: resp.StatusCode, Cause: errors.New("the answer is not a JSON object")}
	}
	return out, nil
}

// post sends a form to an endpoint with the client's authentication: HTTP Basic
// when the client has a secret, else client_id in the form.
func (c *Client) post(ctx context.Context, endpoint, u string, form url.Values) (*Tokens, error) {
	if c.secret.Get() == "" {
		form.Set("client_id", c.opts.ClientID)
	}
	ctx, cancel := bounded.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("hostedui: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if c.secret.Get() != "" {
		// RFC 6749 2.3.1: both parts are form-encoded before going into Basic.
		req.SetBasicAuth(url.QueryEscape(c.opts.ClientID), url.QueryEscape(c.secret.Get().Reveal()))
	}
	sent := c.opts.Clock.Now()
	resp, err := c.opts.HTTPClient.Do(req)
	if err != nil {
		return nil, &Error{Endpoint: endpoint, Cause: scrub(err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, &Error{Endpoint: endpoint, StatusCode: resp.StatusCode, Cause: err, cut: true}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, oauthError(endpoint, resp.StatusCode, body)
	}
	if endpoint == "revoke" {
		return nil, nil
	}
	return tokenAnswer(endpoint, resp, body, sent)
}

// tokenAnswer reads the token endpoint's success answer body (resp's) to a
// request sent at sent.
func tokenAnswer(endpoint string, resp *http.Response, body []byte, sent time.Time) (*Tokens, error) {
	var tr struct {
		AccessToken  string `json:"access_token"`
		IDToken      string `json:"id_token"`
		RefreshToken string `json:"refresh_token"`
		TokenType    string `json:"token_type"`
		ExpiresIn    int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
		// Never quote the body: it may hold tokens.
		return nil, &Error{Endpoint: endpoint, StatusCode: resp.StatusCode, Cause: errors.New("the answer has no access token")}
	}
	t := &Tokens{
		AccessToken: jwt.Secret(tr.AccessToken), IDToken: jwt.Secret(tr.IDToken), RefreshToken: jwt.Secret(tr.RefreshToken),
		TokenType: tr.TokenType, ExpiresIn: time.Duration(tr.ExpiresIn) * time.Second,
	}
	if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		t.ServerTime = d
	}
	// Counted from when the request left, so a slow answer errs on the early side.
	t.Expiry = sent.Add(t.ExpiresIn)
	if at, err := jwt.Decode(tr.AccessToken); err == nil && !at.ExpiresAt().IsZero() && at.ExpiresAt().After(at.IssuedAt()) {
		if life := at.ExpiresAt().Sub(at.IssuedAt()); t.ExpiresIn == 0 || life < t.ExpiresIn {
			t.ExpiresIn, t.Expiry = life, sent.Add(life)
		}
	}
	return t, nil
}

// oauthError reads an OAuth error answer ({"error": …}); the description is kept
// short and printable.
func oauthError(endpoint string, status int, body []byte) *Error {
	var eb struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(body, &eb)
	return &Error{Endpoint: endpoint, StatusCode: status, Code: printable(eb.Error, 64), Description: printable(eb.Description, 200)}
}

// bearerChallenge reads error and error_description from a WWW-Authenticate
// Bearer challenge.
func bearerChallenge(h string) (code, desc string) {
	for _, part := range strings.Split(strings.TrimPrefix(h, "Bearer "), ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		v = strings.Trim(v, `"`)
		switch k {
		case "error":
			code = printable(v, 64)
		case "error_description":
			desc = printable(v, 200)
		}
	}
	return code, desc
}

func printable(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

// scrub drops the request URL from a transport error: url.Error quotes it, and
// although these URLs carry no secrets, errors stay short and uniform.
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
