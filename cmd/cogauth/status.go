package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/hostedui"
	"github.com/cogauth/cogauth/internal/config"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/session"
)

// The states `status` reports for a profile.
const (
	stateSignedIn      = "signed-in"     // the server accepts the session
	stateNotSignedIn   = "not-signed-in" // no session stored for the profile
	stateEnded         = "ended"         // the session was revoked or expired
	stateError         = "error"         // the check could not be made (network, configuration)
	stateNotConfigured = "not-configured"
)

// The answers of the server check.
const (
	checkAccepted = "accepted" // GetUser answered for the session's access token
	checkRefused  = "refused"  // the server refused the token: the session ended
	checkFailed   = "failed"   // no answer (network, timeout, a server fault)
	checkSkipped  = "skipped"  // nothing to check
)

// statusJSON is one profile as `status -o json` prints it.
type statusJSON struct {
	Profile string `json:"profile"`
	// Default: the profile used when neither --profile nor COGAUTH_PROFILE names one.
	Default    bool   `json:"default"`
	State      string `json:"state"`
	Username   string `json:"username,omitempty"`
	UserPoolID string `json:"userPoolId,omitempty"`
	ClientID   string `json:"clientId,omitempty"`
	// Source is "user-pool" or "hosted-ui", as in `session -o json`.
	Source               string     `json:"source,omitempty"`
	AccessTokenExpiresAt *time.Time `json:"accessTokenExpiresAt,omitempty"`
	RefreshToken         bool       `json:"refreshToken"`
	ServerCheck          string     `json:"serverCheck"`
	IdentityPoolID       string     `json:"identityPoolId,omitempty"`
	IdentityID           string     `json:"identityId,omitempty"`
	CredentialsExpireAt  *time.Time `json:"credentialsExpireAt,omitempty"`
	Error                string     `json:"error,omitempty"`
	// PendingLogin is a sign-in step waiting for its code (login --code).
	PendingLogin *statusPendingJSON `json:"pendingLogin,omitempty"`
}

// statusPendingJSON is a pending sign-in step as status shows it.
type statusPendingJSON struct {
	Step        string    `json:"step"`
	Username    string    `json:"username,omitempty"`
	Destination string    `json:"destination,omitempty"`
	ExpiresAt   time.Time `json:"expiresAt"`
	Next        string    `json:"next"`
}

// pendingLogin is the profile's pending sign-in step, nil when there is none
// (or it cannot be read: status reports what it can).
func (a *app) pendingLogin(ctx context.Context, c *config.Config) *statusPendingJSON {
	ps, err := a.pendings(ctx, c)
	if err != nil {
		return nil
	}
	p, err := ps.get(ctx, pendLogin, "")
	if err != nil || p == nil {
		return nil
	}
	return &statusPendingJSON{Step: p.Step, Username: p.Username, Destination: p.Destination, ExpiresAt: p.ExpiresAt.UTC(), Next: finishCommand(c.Profile, p)}
}

type statusOptions struct {
	IO     IOStreams
	Clock  clock.Clock
	Output string
}

func newStatusCmd(a *app) *cobra.Command {
	o := &statusOptions{}
	cmd := &cobra.Command{
		Use:   "status [-o text|json]",
		Short: "Show each profile's sign-in and whether the server still accepts it",
		Long: `For each profile (or only the one --profile or COGAUTH_PROFILE names): who is signed
in, when the access token expires, whether the server still accepts the session (one
GetUser call, or the hosted UI's userInfo for a session without the user-pool API
scope; bounded by --timeout), and with an identity pool the identity ID and
when the AWS credentials expire. Tokens and credentials that are due are renewed first,
as any command would.

Exit code: 0 when every profile shown is signed in and accepted, 3 when one is not
signed in or its session ended, 1 when one could not be checked.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.IO, o.Clock = a.IO, a.Clock
			return runStatus(cmd.Context(), a, o)
		},
	}
	addOutputFlag(cmd, &o.Output)
	return cmd
}

func runStatus(ctx context.Context, a *app, o *statusOptions) error {
	if err := checkTextOrJSON(o.Output); err != nil {
		return err
	}
	names, def, err := a.statusProfiles()
	if err != nil {
		return err
	}
	var out []statusJSON
	for _, n := range names {
		st := a.profileStatus(ctx, n)
		st.Default = n == def
		// A profile that only exists because it is the default, and that nothing
		// configures, is not worth a line unless it is all there is.
		if st.State == stateNotConfigured && len(names) > 1 {
			continue
		}
		out = append(out, st)
	}
	if o.Output == "json" {
		if err := writeJSON(o.IO.Out, struct {
			Profiles []statusJSON `json:"profiles"`
		}{out}); err != nil {
			return err
		}
	} else if _, err := fmt.Fprint(o.IO.Out, statusText(out, o.Clock.Now())); err != nil {
		return err
	}
	if code := statusExitCode(out); code != exitOK {
		return &exitStatus{code: code}
	}
	return nil
}

// statusProfiles is the profile chosen (--profile, COGAUTH_PROFILE), which must
// resolve (a missing one is a usage error), else every profile; and the
// default profile's name.
func (a *app) statusProfiles() (names []string, def string, err error) {
	all, _, def, err := a.profileNames()
	if err != nil {
		return nil, "", err
	}
	chosen := firstNonEmpty(a.flags.Profile, a.Getenv("COGAUTH_PROFILE"))
	if chosen == "" {
		return all, def, nil
	}
	if _, err := a.configFor(chosen); err != nil {
		return nil, "", err
	}
	return []string{chosen}, def, nil
}

// statusExitCode: 0 when every profile shown is signed in, 1 when one could not
// be checked, else 3 (one is not signed in or its session ended).
func statusExitCode(out []statusJSON) int {
	code := exitOK
	for _, st := range out {
		switch st.State {
		case stateSignedIn:
		case stateError:
			code = exitError
		default:
			if code == exitOK {
				code = exitSignedOut
			}
		}
	}
	return code
}

// profileStatus checks one profile: the stored session (renewed if due) and one
// GetUser call, all within one network step.
func (a *app) profileStatus(ctx context.Context, name string) statusJSON {
	st := statusJSON{Profile: name, State: stateError, ServerCheck: checkSkipped}
	c, err := a.configFor(name)
	if err != nil {
		st.Error = oneLine(err.Error())
		return st
	}
	st.UserPoolID, st.ClientID, st.IdentityPoolID = c.UserPoolID, c.ClientID, c.IdentityPoolID
	if c.UserPoolID == "" || c.ClientID == "" {
		st.State = stateNotConfigured
		st.Error = oneLine(c.Require("user-pool-id", "client-id").Error())
		return st
	}
	ctx, done := a.netStep(ctx)
	defer done()
	fail := func(err error) statusJSON {
		switch {
		case errors.Is(err, errNotSignedIn):
			st.State = stateNotSignedIn
			st.PendingLogin = a.pendingLogin(ctx, c)
		case signedOut(err):
			st.State = stateEnded
		default:
			st.State = stateError
		}
		st.Error = oneLine(humanError(err, c, a.timeout()).Error())
		return st
	}
	p, err := a.openUserWith(ctx, c, "", false)
	if err != nil {
		return fail(err)
	}
	defer p.Close()
	st.Username = p.user
	s, err := p.fetch(ctx, false)
	if err != nil {
		return fail(err)
	}
	st.Username, st.Source = s.Username, string(s.Source)
	exp := s.Tokens.Access.ExpiresAt().UTC()
	st.AccessTokenExpiresAt = &exp
	st.RefreshToken = s.Tokens.Refresh != ""
	st.IdentityID = s.IdentityID
	if s.Credentials != nil && !s.Credentials.Expires.IsZero() {
		ce := s.Credentials.Expires.UTC()
		st.CredentialsExpireAt = &ce
	}
	if err := a.serverCheck(ctx, p, s); err != nil {
		if errors.Is(err, errNoServerCheck) {
			st.State = stateSignedIn
			return st
		}
		if definitive(err) {
			st.ServerCheck = checkRefused
			st.State = stateEnded
			st.Error = "the server no longer accepts the session (signed out elsewhere, or the user was changed): run cogauth login"
			return st
		}
		st.ServerCheck = checkFailed
		st.State = stateError
		st.Error = oneLine(humanError(err, c, a.timeout()).Error())
		return st
	}
	st.ServerCheck = checkAccepted
	st.State = stateSignedIn
	return st
}

// errNoServerCheck: the session's access token opens neither GetUser nor a hosted
// UI userInfo endpoint, so the server cannot be asked about it.
var errNoServerCheck = errors.New("no server check for this session")

// serverCheck asks the server, once, whether it still accepts the session's
// access token: GetUser when the token carries the aws.cognito.signin.user.admin
// scope (every user-pool API sign-in's does), else the hosted UI's userInfo at the
// domain the session came from (a hosted UI sign-in with only OpenID scopes).
func (a *app) serverCheck(ctx context.Context, p *profileSession, s *session.Session) error {
	access := jwt.Secret(s.Tokens.Access.Raw())
	if s.Tokens.Access.Claims().HasScope(adminScope) {
		_, err := p.cc.GetUser(ctx, access)
		return err
	}
	if s.Domain == "" {
		return errNoServerCheck
	}
	hc, err := a.hostedUIClient(p.cfg, s.Domain, nil)
	if err != nil {
		return errNoServerCheck
	}
	_, err = hc.UserInfo(ctx, access)
	return err
}

// adminScope is the scope GetUser and the other user-pool API calls with an access
// token require.
const adminScope = "aws.cognito.signin.user.admin"

// definitive reports whether err is the server's verdict that a token is no good
// (as opposed to a failure to ask).
func definitive(err error) bool {
	var he *hostedui.Error
	if errors.As(err, &he) && (he.Code == "invalid_token" || he.StatusCode == 401) {
		return true
	}
	return errors.Is(err, cognito.ErrNotAuthorized) || errors.Is(err, cognito.ErrUserNotFound) ||
		errors.Is(err, cognito.ErrTokenRevoked) || errors.Is(err, cognito.ErrPasswordResetRequired) ||
		errors.Is(err, cognito.ErrUserNotConfirmed)
}

// statusText is the report for people, one block per profile.
func statusText(out []statusJSON, now time.Time) string {
	var b strings.Builder
	if len(out) == 0 {
		b.WriteString("No profiles: configure one with cogauth configure, or give --user-pool-id and --client-id.\n")
	}
	for i, st := range out {
		if i > 0 {
			b.WriteByte('\n')
		}
		if st.Default {
			fmt.Fprintf(&b, "%s (default)\n", st.Profile)
		} else {
			fmt.Fprintf(&b, "%s\n", st.Profile)
		}
		writeStateLines(&b, st)
		writeDetailLines(&b, st, now)
	}
	return b.String()
}

// writeStateLines says what state a profile is in (and a pending sign-in).
func writeStateLines(b *strings.Builder, st statusJSON) {
	switch st.State {
	case stateSignedIn:
		how := ""
		if st.Source == string(session.SourceHostedUI) {
			how = " through the hosted UI"
		}
		fmt.Fprintf(b, "  Signed in as %s%s (user pool %s, client %s)\n", st.Username, how, st.UserPoolID, st.ClientID)
	case stateNotSignedIn:
		fmt.Fprintf(b, "  Not signed in (user pool %s): run cogauth login --profile %s\n", st.UserPoolID, st.Profile)
		if pl := st.PendingLogin; pl != nil {
			fmt.Fprintf(b, "  Pending sign-in of %s (%s), until %s: %s\n", pl.Username, stepWords(pl.Step), pl.ExpiresAt.Format("15:04:05 UTC"), pl.Next)
		}
	case stateEnded:
		who := ""
		if st.Username != "" {
			who = " of " + st.Username
		}
		fmt.Fprintf(b, "  Session%s ended: %s\n", who, st.Error)
	case stateNotConfigured:
		fmt.Fprintf(b, "  Not configured: %s\n", st.Error)
	default:
		if st.Username != "" {
			fmt.Fprintf(b, "  Signed in as %s, but the check failed: %s\n", st.Username, st.Error)
		} else {
			fmt.Fprintf(b, "  Error: %s\n", st.Error)
		}
	}
}

// writeDetailLines gives a profile's tokens, server check and identity pool.
func writeDetailLines(b *strings.Builder, st statusJSON, now time.Time) {
	if st.AccessTokenExpiresAt != nil {
		fmt.Fprintf(b, "  Access token:  expires %s\n", expiryLine(*st.AccessTokenExpiresAt, now))
		refresh := "present (the session renews itself)"
		if !st.RefreshToken {
			refresh = "none (the session ends when the access token expires)"
		}
		fmt.Fprintf(b, "  Refresh token: %s\n", refresh)
	}
	if st.ServerCheck != checkSkipped {
		fmt.Fprintf(b, "  Server check:  %s\n", st.ServerCheck)
	}
	if st.IdentityPoolID != "" && st.State != stateNotConfigured {
		fmt.Fprintf(b, "  Identity pool: %s\n", st.IdentityPoolID)
		if st.IdentityID != "" {
			fmt.Fprintf(b, "  Identity ID:   %s\n", st.IdentityID)
		}
		if st.CredentialsExpireAt != nil {
			fmt.Fprintf(b, "  Credentials:   expire %s\n", expiryLine(*st.CredentialsExpireAt, now))
		}
	}
}
