package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/hostedui"
)

// HostedUIRefresher refreshes sessions that came from the hosted UI at the user
// pool domain's /oauth2/token (grant_type=refresh_token), the way they were
// obtained. Its errors speak the user pool API's language, so the Manager's
// failure policy applies unchanged: a refused refresh token (invalid_grant) is a
// definitive NotAuthorizedException that ends the session, and network failures,
// 5xx and 429 are retryable.
type HostedUIRefresher struct {
	client *hostedui.Client // sessions recording no domain, or every session (HostedUI)
	// opts builds the clients of the domains sessions recorded (HostedUIDomains);
	// nil: every session refreshes at client's domain.
	opts     *hostedui.Options
	mu       sync.Mutex
	byDomain map[string]*hostedui.Client
}

// HostedUI returns the Refresher of c's token endpoint, for Config.HostedUI: every
// hosted UI session refreshes at c's domain, whatever domain it recorded.
func HostedUI(c *hostedui.Client) *HostedUIRefresher { return &HostedUIRefresher{client: c} }

// HostedUIDomains returns a Refresher, for Config.HostedUI, that refreshes each
// hosted UI session at the /oauth2/token of the domain it came from (ImportInput's
// Domain, kept in the session record), with a client built from opts for each
// domain. opts.Domain is the domain of sessions that recorded none (it may be
// empty: such sessions then refresh through the user pool API). At most
// maxHostedUIDomains clients are kept.
func HostedUIDomains(opts hostedui.Options) (*HostedUIRefresher, error) {
	if opts.ClientID == "" {
		return nil, errors.New("session: hosted UI: ClientID is required")
	}
	r := &HostedUIRefresher{opts: &opts, byDomain: map[string]*hostedui.Client{}}
	if opts.Domain != "" {
		c, err := hostedui.New(opts)
		if err != nil {
			return nil, fmt.Errorf("session: hosted UI: %w", err)
		}
		r.client = c
	}
	return r, nil
}

// clientID is the app client the refresher's token endpoint answers for.
func (r *HostedUIRefresher) clientID() string {
	switch {
	case r == nil:
		return ""
	case r.opts != nil:
		return r.opts.ClientID
	case r.client != nil:
		return r.client.ClientID()
	}
	return ""
}

// serves reports whether r can refresh a session of domain at a token endpoint;
// the Manager refreshes the others through the user pool API, which Cognito
// accepts for hosted UI refresh tokens too.
func (r *HostedUIRefresher) serves(domain string) bool {
	return r.client != nil || (r.opts != nil && domain != "")
}

// maxHostedUIDomains bounds the clients a HostedUIDomains refresher keeps.
const maxHostedUIDomains = 16

// tokenEndpoint names the hosted UI's token endpoint in errors.
const tokenEndpoint = "oauth2/token"

// clientFor returns the client of domain ("" for the default).
func (r *HostedUIRefresher) clientFor(domain string) (*hostedui.Client, error) {
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
	o := *r.opts
	o.Domain = domain
	c, err := hostedui.New(o)
	if err != nil {
		return nil, fmt.Errorf("session: hosted UI domain of the session: %w", err)
	}
	if len(r.byDomain) >= maxHostedUIDomains {
		clear(r.byDomain)
	}
	r.byDomain[domain] = c
	return c, nil
}

// RefreshEndpoint names the token endpoint req's session refreshes at, for the
// Manager's breakers ("" domain: the refresher's own).
func (r *HostedUIRefresher) RefreshEndpoint(req RefreshRequest) string {
	if c, err := r.clientFor(req.Domain); err == nil && c != nil {
		return c.TokenURL()
	}
	return strings.TrimRight(req.Domain, "/") + "/" + tokenEndpoint
}

// Refresh trades the refresh token at the token endpoint of the session's domain.
// invalid_grant is a *RejectedError, as Cognito's NotAuthorizedException is.
func (r *HostedUIRefresher) Refresh(ctx context.Context, req RefreshRequest) (*RefreshResult, error) {
	c, err := r.clientFor(req.Domain)
	if err != nil {
		return nil, err
	}
	t, err := c.Refresh(ctx, req.RefreshToken)
	if err != nil {
		return nil, rejected(hostedUIError(err))
	}
	return &RefreshResult{AccessToken: t.AccessToken, IDToken: t.IDToken, RefreshToken: t.RefreshToken, ServerTime: t.ServerTime}, nil
}

// hostedUIError maps an error of the token endpoint onto the failure policy.
// invalid_grant is the endpoint's only word for a refresh token it will not take
// (revoked, expired, signed out globally, the user disabled or gone); it says
// which only in a description, when it gives one, and notAuthorizedReason reads
// that as it reads the API's messages. Other OAuth errors (invalid_client,
// unauthorized_client, a malformed answer) are left as they are: they say the
// configuration is wrong, not that the session is over, so the Manager keeps the
// session and reports them without retrying in a loop. Transient failures (no
// answer, 5xx, 429) are left as they are too: a *hostedui.Error says itself that
// it is retryable.
func hostedUIError(err error) error {
	var he *hostedui.Error
	if errors.Is(err, hostedui.ErrInvalidGrant) {
		msg := "Refresh token refused by the token endpoint (invalid_grant)"
		if errors.As(err, &he) && he.Description != "" {
			msg = he.Description
		}
		return &cognito.Error{Op: tokenEndpoint, Name: "NotAuthorizedException", Message: msg, StatusCode: http.StatusBadRequest, Cause: err}
	}
	return err
}
