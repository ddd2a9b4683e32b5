package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/session"
)

type whoamiOptions struct {
	IO     IOStreams
	Output string
	open   func(ctx context.Context) (*profileSession, error)
}

func newWhoamiCmd(a *app) *cobra.Command {
	o := &whoamiOptions{}
	cmd := &cobra.Command{
		Use:   "whoami [-o text|json]",
		Short: "Show who the profile is signed in as",
		Long:  "Show the signed-in user's sub, username, e-mail, groups and custom attributes, from the id token.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.IO, o.open = a.IO, a.open
			return runWhoami(cmd.Context(), o)
		},
	}
	addOutputFlag(cmd, &o.Output)
	return bounded(cmd)
}

type whoamiJSON struct {
	Sub           string            `json:"sub"`
	Username      string            `json:"username"`
	Email         string            `json:"email,omitempty"`
	EmailVerified bool              `json:"emailVerified"`
	PhoneNumber   string            `json:"phoneNumber,omitempty"`
	Name          string            `json:"name,omitempty"`
	Groups        []string          `json:"groups"`
	Custom        map[string]string `json:"customAttributes"`
}

func runWhoami(ctx context.Context, o *whoamiOptions) error {
	if err := checkTextOrJSON(o.Output); err != nil {
		return err
	}
	p, err := o.open(ctx)
	if err != nil {
		return err
	}
	defer p.Close()
	s, err := p.fetch(ctx, false)
	if err != nil {
		return err
	}
	out := whoamiOut(userInfo(ctx, p, s), s.Username)
	if o.Output == "json" {
		return writeJSON(o.IO.Out, out)
	}
	_, err = fmt.Fprint(o.IO.Out, out.text())
	return err
}

// userInfo is who the session's id token names; a session imported without an
// id token has sub, username and groups in its access token, and the
// attributes from GetUser (left out when that fails).
func userInfo(ctx context.Context, p *profileSession, s *session.Session) jwt.UserInfo {
	if s.Tokens.ID != nil {
		return s.Tokens.ID.Claims().UserInfo()
	}
	info := s.Tokens.Access.Claims().UserInfo()
	u, err := p.cc.GetUser(ctx, jwt.Secret(s.Tokens.Access.Raw()))
	if err != nil {
		return info
	}
	info.Email = u.Attributes["email"]
	info.EmailVerified = u.Attributes["email_verified"] == "true"
	info.Name = u.Attributes["name"]
	info.PhoneNumber = u.Attributes["phone_number"]
	info.Custom = map[string]string{}
	for k, v := range u.Attributes {
		if c, ok := strings.CutPrefix(k, "custom:"); ok {
			info.Custom[c] = v
		}
	}
	return info
}

// whoamiOut is what whoami prints (the session's user name when the token has
// none; no groups or custom attributes as empty, not null).
func whoamiOut(info jwt.UserInfo, username string) whoamiJSON {
	out := whoamiJSON{Sub: info.Sub, Username: firstNonEmpty(info.Username, username), Email: info.Email, EmailVerified: info.EmailVerified,
		PhoneNumber: info.PhoneNumber, Name: info.Name, Groups: info.Groups, Custom: info.Custom}
	if out.Groups == nil {
		out.Groups = []string{}
	}
	if out.Custom == nil {
		out.Custom = map[string]string{}
	}
	return out
}

// text is whoami's report for people.
func (out whoamiJSON) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Username: %s\nSub:      %s\n", out.Username, out.Sub)
	if out.Email != "" {
		verified := "not verified"
		if out.EmailVerified {
			verified = "verified"
		}
		fmt.Fprintf(&b, "Email:    %s (%s)\n", out.Email, verified)
	}
	if out.Name != "" {
		fmt.Fprintf(&b, "Name:     %s\n", out.Name)
	}
	if out.PhoneNumber != "" {
		fmt.Fprintf(&b, "Phone:    %s\n", out.PhoneNumber)
	}
	groups := "none"
	if len(out.Groups) > 0 {
		groups = strings.Join(out.Groups, ", ")
	}
	fmt.Fprintf(&b, "Groups:   %s\n", groups)
	for _, k := range slices.Sorted(maps.Keys(out.Custom)) {
		fmt.Fprintf(&b, "custom:%s: %s\n", k, out.Custom[k])
	}
	return b.String()
}
