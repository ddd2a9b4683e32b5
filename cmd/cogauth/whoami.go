package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cogauth/cogauth/jwt"
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
	var info jwt.UserInfo
	if s.Tokens.ID != nil {
		info = s.Tokens.ID.Claims().UserInfo()
	} else {
		// Imported without an id token: the access token has sub, username and
		// groups; GetUser has the attributes.
		info = s.Tokens.Access.Claims().UserInfo()
		if u, err := p.cc.GetUser(ctx, jwt.Secret(s.Tokens.Access.Raw())); err == nil {
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
		}
	}
	if info.Username == "" {
		info.Username = s.Username
	}
	out := whoamiJSON{Sub: info.Sub, Username: info.Username, Email: info.Email, EmailVerified: info.EmailVerified,
		PhoneNumber: info.PhoneNumber, Name: info.Name, Groups: info.Groups, Custom: info.Custom}
	if out.Groups == nil {
		out.Groups = []string{}
	}
	if out.Custom == nil {
		out.Custom = map[string]string{}
	}
	if o.Output == "json" {
		return writeJSON(o.IO.Out, out)
	}
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
	keys := make([]string, 0, len(out.Custom))
	for k := range out.Custom {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "custom:%s: %s\n", k, out.Custom[k])
	}
	_, err = fmt.Fprint(o.IO.Out, b.String())
	return err
}
