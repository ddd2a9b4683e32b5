package hostedui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/cogauth/cogauth/internal/redact"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/session"
)

// Refresher refreshes session.Manager sessions that came from the hosted UI at the
// user pool domain's /oauth2/token (grant_type=refresh_token), the way they were
// obtained: it is a session.HostedUIRefresher, for session.Config.HostedUI.
//
// A refused refresh token (invalid_grant) is a *session.RejectedError, which ends
// the session; every other failure is left as the *Error it is, whose
// RetryableError says whether the Manager's retries can help (no answer, 5xx, 429)
// or not (invalid_client: the configuration is wrong, the session is kept).
type Refresher struct {
	client *Client // sessions recording no domain, or every session (NewRefresher)
	// opts builds the clients of the domains sessions recorded (NewDomainRefresher);
	// nil: every session refreshes at client's domain.
	opts *settings // without the client secret, which is in secret
	// secret is the client secret of the clients built from opts, boxed so that
	// no printing of a Refresher can reach it.
	secret   redact.Box[jwt.Secret]
	mu       sync.Mutex
	byDomain map[string]*Client
}

var (
	_ session.HostedUIRefresher = (*Refresher)(nil)
	_ session.EndpointRefresher = (*Refresher)(nil)
)

// NewRefresher returns the Refresher of c's token endpoint: every hosted UI
// session refreshes at c's domain, whatever domain it recorded.
func NewRefresher(c *Client) *Refresher { return &Refresher{client: c} }

// NewDomainRefresher returns a Refresher that refreshes each hosted UI session at
// the /oauth2/token of the domain it came from (session.ImportInput's Domain, kept
// in the session record), with a client built from opts for each domain.
// opts.Domain is the domain of sessions that recorded none (it may be empty: such
// sessions then refresh through the user pool API). At most maxDomains clients
// are kept.
func NewDomainRefresher(opts Options) (*Refresher, error) {
	if opts.ClientID == "" {
		return nil, errors.New("hostedui: refresher: ClientID is required")
	}
	kept := settingsOf(opts)
	r := &Refresher{opts: &kept, secret: redact.NewBox(opts.ClientSecret), byDomain: map[string]*Client{}}
	if opts.Domain != "" {
		c, err := New(opts)
		if err != nil {
			return nil, fmt.Errorf("hostedui: refresher: %w", err)
		}
		r.client = c
	}
	return r, nil
}

// ClientID is the app client the token endpoint answers for; session.New refuses
// a Refresher of another client, whose endpoint would refuse every refresh token
// with invalid_grant.
func (r *Refresher) ClientID() string {
	switch {
	case r.opts != nil:
		return r.opts.ClientID
	case r.client != nil:
		return r.client.ClientID()
	}
	return ""
}

// Serves reports whether r can refresh a session of domain at a token endpoint;
// the Manager refreshes the others through the user pool API, which Cognito
// accepts for hosted UI refresh tokens too.
func (r *Refresher) Serves(domain string) bool {
	return r.client != nil || (r.opts != nil && domain != "")
}

// maxDomains bounds the clients a NewDomainRefresher refresher keeps.
const maxDomains = 16

// clientFor returns the client of domain ("" for the default).
func (r *Refresher) clientFor(domain string) (*Client, error) {
	if r.opts == nil {
		return r.client, nil
	}
	domain = strings.TrimRight(domain, "/")
	if r.client != nil && (domain == "" || domain == strings.TrimRight(r.opts.Domain, "/")) {
		return r.client, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.byDomain[domain]; ok {
		return c, nil
	}
	o := r.opts.options(r.secret.Get())
	o.Domain = domain
	c, err := New(o)
	if err != nil {
		return nil, fmt.Errorf("hostedui: the hosted UI domain of the session: %w", err)
	}
	if len(r.byDomain) >= maxDomains {
		clear(r.byDomain)
	}
	r.byDomain[domain] = c
	return c, nil
}

// RefreshEndpoint names the token endpoint req's session refreshes at, for the
// Manager's breakers (session.EndpointRefresher; "" domain: the refresher's own).
func (r *Refresher) RefreshEndpoint(req session.RefreshRequest) string {
	if c, err := r.clientFor(req.Domain); err == nil && c != nil {
		return c.TokenURL()
	}
	return strings.TrimRight(req.Domain, "/") + "/oauth2/token"
}

// Refresh trades the refresh token at the token endpoint of the session's domain.
func (r *Refresher) Refresh(ctx context.Context, req session.RefreshRequest) (*session.RefreshResult, error) {
	c, err := r.clientFor(req.Domain)
	if err != nil {
		return nil, err
	}
	t, err := c.Refresh(ctx, req.RefreshToken)
	if err != nil {
		return nil, refreshError(err)
	}
	return &session.RefreshResult{AccessToken: t.AccessToken, IDToken: t.IDToken, RefreshToken: t.RefreshToken, ServerTime: t.ServerTime}, nil
}

// refreshError maps an error of the token endpoint onto the Manager's failure
// policy. invalid_grant is the endpoint's only word for a refresh token it will
// not take (revoked, expired, signed out globally, the user disabled or gone); it
// says which only in a description, when it gives one. Everything else passes as
// it is.
func refreshError(err error) error {
	if !errors.Is(err, ErrInvalidGrant) {
		return err
	}
	reason := session.ReasonNotAuthorized
	var he *Error
	if errors.As(err, &he) {
		d := strings.ToLower(he.Description)
		switch {
		case strings.Contains(d, "revoked"):
			reason = session.ReasonRevoked
		case strings.Contains(d, "expired"):
			reason = session.ReasonExpired
		}
	}
	return &session.RejectedError{Reason: reason, Err: err}
}
