package websession

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"golang.org/x/oauth2"

	"github.com/cogauth/cogauth/httpauth"
	"github.com/cogauth/cogauth/internal/errkind"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/session"
)

// User is the signed-in user of a request (UserFrom). It holds claims, never a
// token: tokens are fetched, fresh, through Token, TokenSource and Credentials,
// on the server only.
type User struct {
	Username string
	Sub      string
	// ID and Access are the claims of the id and access tokens (ID is nil when
	// the session has no id token).
	ID     *jwt.Claims
	Access *jwt.Claims

	w *Sessions
	l *live
	// waitUntil ends the request's RefreshWait: what the middleware waited
	// for a refresh is not waited again by the handler.
	waitUntil time.Time
}

// String names the user (username and sub). It hides no secret (the fields'
// types do, and the reflection test over every exported type passes without it),
// but %s and %q of a User would otherwise reach, by reflection, the live
// session it points at, which its goroutines change.
func (u *User) String() string {
	if u == nil {
		return "websession.User(nil)"
	}
	return fmt.Sprintf("websession.User{username=%s sub=%s}", u.Username, u.Sub)
}

type userKey struct{}

// userCtx is a request's context with its user: the value and the context in
// one allocation.
type userCtx struct {
	context.Context
	u User
}

// user is the context's user; nil for a nil context.
func (c *userCtx) user() *User {
	if c == nil {
		return nil
	}
	return &c.u
}

func (c *userCtx) Value(key any) any {
	if key == (userKey{}) {
		return &c.u
	}
	return c.Context.Value(key)
}

// UserFrom returns the signed-in user of the request's context, if any.
func UserFrom(ctx context.Context) (*User, bool) {
	u, ok := ctx.Value(userKey{}).(*User)
	return u, ok && u != nil
}

// Session returns the user's Cognito session, refreshed when due (once across
// replicas). It waits for a refresh only for what is left of the request's
// Config.RefreshWait, counted from when the middleware loaded the session, so
// a request never waits longer than RefreshWait in all
// (session.FetchOptions.MaxWait); once that is spent, a refresh still under
// way is an error matching session.ErrRefreshPending (retryable: answer it
// with Sessions.Unavailable) while the refresh goes on. Work that outlives the
// request takes TokenSource, which waits as long as its context allows.
func (u *User) Session(ctx context.Context) (*session.Session, error) {
	return u.l.mgr.Fetch(ctx, session.FetchOptions{MaxWait: u.maxWait()})
}

// maxWait is what is left of the request's RefreshWait; at least a
// nanosecond, since a zero MaxWait would wait as long as ctx allows.
func (u *User) maxWait() time.Duration {
	if u.waitUntil.IsZero() {
		return u.w.cfg.Get().RefreshWait
	}
	return max(time.Until(u.waitUntil), time.Nanosecond)
}

// Token returns the user's access token: the TokenProvider shape that
// httpauth.NewClient takes, to call APIs on the user's behalf. Like Session, it
// waits for a refresh, forced or not, only for what is left of the request's
// RefreshWait.
func (u *User) Token(ctx context.Context, forceRefresh bool) (string, error) {
	s, err := u.l.mgr.Fetch(ctx, session.FetchOptions{ForceRefresh: forceRefresh, MaxWait: u.maxWait()})
	if err != nil {
		return "", err
	}
	return s.Tokens.Access.Raw(), nil
}

// TokenSource returns the user's access token as an oauth2.TokenSource, for work
// that outlives the request: each Token call fetches the session (no RefreshWait;
// it waits as long as the refresh takes).
func (u *User) TokenSource() oauth2.TokenSource {
	m := u.l.mgr
	return httpauth.TokenSource(httpauth.TokenProviderFunc(func(ctx context.Context, force bool) (string, error) {
		s, err := m.Fetch(ctx, session.FetchOptions{ForceRefresh: force})
		if err != nil {
			return "", err
		}
		return s.Tokens.Access.Raw(), nil
	}))
}

// Credentials returns the user's AWS credentials from the identity pool
// (Config.Session.Credentials) as an aws.CredentialsProvider. It answers an error when
// no CredentialsSource is configured.
func (u *User) Credentials() aws.CredentialsProvider { return credentialsProvider{u} }

type credentialsProvider struct{ u *User }

// ErrNoCredentials: the session has no AWS credentials (no Config.Session.Credentials, or
// the identity pool failed; a retry comes after session.Config.RetryAfterFailure).
// Its RetryableError is true when the identity pool failed and false when there
// is no Config.Session.Credentials.
var ErrNoCredentials = errkind.New("websession: the session has no AWS credentials", true)

func (p credentialsProvider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	if p.u.w.cfg.Get().Session.Credentials == nil {
		return aws.Credentials{}, errkind.Permanent(ErrNoCredentials)
	}
	s, err := p.u.Session(ctx)
	if err != nil {
		return aws.Credentials{}, err
	}
	if s.Credentials == nil {
		return aws.Credentials{}, ErrNoCredentials
	}
	return *s.Credentials, nil
}

// SignOut ends the user's session as the logout route does: the refresh token
// revoked (or, with opts.Global, every session of the user at Cognito), the
// session deleted on every replica. It does not touch the response; the logout
// route also clears the cookie and sends the browser to Cognito's /logout.
func (u *User) SignOut(ctx context.Context, opts session.SignOutOptions) error {
	m := u.l.rec.Load().m
	if opts.Global {
		err := u.l.mgr.SignOut(ctx, opts)
		return errors.Join(err, u.w.end(ctx, u.l, m, false, "user_global"), u.w.SignOutUser(ctx, m.Sub))
	}
	return u.w.end(ctx, u.l, m, true, "user")
}
