package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/session"
)

type sessionOptions struct {
	IO           IOStreams
	Clock        clock.Clock
	Output       string
	ForceRefresh bool
	ShowTokens   bool
	open         func(ctx context.Context) (*profileSession, error)
}

func newSessionCmd(a *app) *cobra.Command {
	o := &sessionOptions{}
	cmd := &cobra.Command{
		Use:   "session [-o json|text] [--force-refresh] [--show-tokens]",
		Short: "Show the current session, refreshing it if needed",
		Long: `Show what Amplify's fetchAuthSession returns: the user, the tokens' expiry, and with an
identity pool the identity ID and AWS credentials. Tokens and secret keys are hidden
unless --show-tokens is given.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.IO, o.Clock, o.open = a.IO, a.Clock, a.open
			return runSession(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	addOutputFlag(cmd, &o.Output)
	f.BoolVar(&o.ForceRefresh, "force-refresh", false, "refresh even when the tokens are fresh")
	f.BoolVar(&o.ShowTokens, "show-tokens", false, "include the tokens and secret keys")
	return bounded(cmd)
}

// sessionJSON is the session as `session -o json` prints it, in Amplify's names.
type sessionJSON struct {
	Profile  string `json:"profile"`
	Username string `json:"username"`
	UserSub  string `json:"userSub"`
	// Source is how the session was obtained and so where it refreshes:
	// "user-pool" (the user pool API) or "hosted-ui" (its /oauth2/token).
	Source string `json:"source"`
	// Domain is the hosted UI domain a "hosted-ui" session came from and
	// refreshes at, when its record keeps one.
	Domain      string           `json:"domain,omitempty"`
	Tokens      tokensJSON       `json:"tokens"`
	IdentityID  string           `json:"identityId,omitempty"`
	Credentials *credentialsJSON `json:"credentials,omitempty"`
}

type tokenJSON struct {
	ExpiresAt time.Time `json:"expiresAt"`
	IssuedAt  time.Time `json:"issuedAt"`
	Token     string    `json:"token,omitempty"`
}

type tokensJSON struct {
	AccessToken  tokenJSON  `json:"accessToken"`
	IDToken      *tokenJSON `json:"idToken,omitempty"`
	RefreshToken string     `json:"refreshToken,omitempty"` // the token with --show-tokens, else "present"
	DeviceKey    string     `json:"deviceKey,omitempty"`
}

type credentialsJSON struct {
	AccessKeyID     string    `json:"accessKeyId"`
	SecretAccessKey string    `json:"secretAccessKey,omitempty"`
	SessionToken    string    `json:"sessionToken,omitempty"`
	Expiration      time.Time `json:"expiration"`
}

func tokenOut(t *jwt.Token, show bool) tokenJSON {
	tj := tokenJSON{ExpiresAt: t.ExpiresAt().UTC(), IssuedAt: t.IssuedAt().UTC()}
	if show {
		tj.Token = t.Raw()
	}
	return tj
}

func sessionOut(profile string, s *session.Session, show bool) sessionJSON {
	out := sessionJSON{Profile: profile, Username: s.Username, UserSub: s.UserSub, Source: string(s.Source), Domain: s.Domain, IdentityID: s.IdentityID}
	out.Tokens.AccessToken = tokenOut(s.Tokens.Access, show)
	if s.Tokens.ID != nil {
		id := tokenOut(s.Tokens.ID, show)
		out.Tokens.IDToken = &id
	}
	if s.Tokens.Refresh != "" {
		out.Tokens.RefreshToken = "present"
		if show {
			out.Tokens.RefreshToken = s.Tokens.Refresh.Reveal()
		}
	}
	out.Tokens.DeviceKey = s.Tokens.DeviceKey
	if c := s.Credentials; c != nil {
		cj := &credentialsJSON{AccessKeyID: c.AccessKeyID, Expiration: c.Expires.UTC()}
		if show {
			cj.SecretAccessKey, cj.SessionToken = c.SecretAccessKey, c.SessionToken
		}
		out.Credentials = cj
	}
	return out
}

func runSession(ctx context.Context, o *sessionOptions) error {
	if err := checkTextOrJSON(o.Output); err != nil {
		return err
	}
	p, err := o.open(ctx)
	if err != nil {
		return err
	}
	defer p.Close()
	s, err := p.fetch(ctx, o.ForceRefresh)
	if err != nil {
		return err
	}
	out := sessionOut(p.cfg.Profile, s, o.ShowTokens)
	if o.Output == "json" {
		return writeJSON(o.IO.Out, out)
	}
	now := o.Clock.Now()
	var b strings.Builder
	fmt.Fprintf(&b, "Profile:        %s\nUser:           %s\nSub:            %s\n", out.Profile, out.Username, out.UserSub)
	if s.Source == session.SourceHostedUI {
		fmt.Fprintf(&b, "Signed in:      through the hosted UI (refreshes at its /oauth2/token)\n")
	}
	fmt.Fprintf(&b, "Access token:   expires %s\n", expiryLine(out.Tokens.AccessToken.ExpiresAt, now))
	if out.Tokens.IDToken != nil {
		fmt.Fprintf(&b, "ID token:       expires %s\n", expiryLine(out.Tokens.IDToken.ExpiresAt, now))
	}
	if out.Tokens.RefreshToken != "" {
		fmt.Fprintf(&b, "Refresh token:  present\n")
	} else {
		fmt.Fprintf(&b, "Refresh token:  none (the session ends when the access token expires)\n")
	}
	if out.Tokens.DeviceKey != "" {
		fmt.Fprintf(&b, "Device:         %s\n", out.Tokens.DeviceKey)
	}
	if out.IdentityID != "" {
		fmt.Fprintf(&b, "Identity ID:    %s\n", out.IdentityID)
	}
	if c := out.Credentials; c != nil {
		fmt.Fprintf(&b, "AWS access key: %s, expires %s\n", c.AccessKeyID, expiryLine(c.Expiration, now))
	}
	if o.ShowTokens {
		fmt.Fprintf(&b, "\nAccess token:\n%s\n", out.Tokens.AccessToken.Token)
		if out.Tokens.IDToken != nil {
			fmt.Fprintf(&b, "ID token:\n%s\n", out.Tokens.IDToken.Token)
		}
		if s.Tokens.Refresh != "" {
			fmt.Fprintf(&b, "Refresh token:\n%s\n", out.Tokens.RefreshToken)
		}
		if c := out.Credentials; c != nil {
			fmt.Fprintf(&b, "AWS secret access key:\n%s\nAWS session token:\n%s\n", c.SecretAccessKey, c.SessionToken)
		}
	}
	_, err = fmt.Fprint(o.IO.Out, b.String())
	return err
}
