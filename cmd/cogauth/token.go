package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

type tokenOptions struct {
	IO           IOStreams
	ID           bool
	Access       bool
	ForceRefresh bool
	Output       string
	open         func(ctx context.Context) (*profileSession, error)
}

// tokenJSONOut is what `token -o json` prints: the token with what a script needs
// to know about it.
type tokenJSONOut struct {
	Token string `json:"token"`
	// TokenUse is "access" or "id".
	TokenUse  string    `json:"tokenUse"`
	ExpiresAt time.Time `json:"expiresAt"`
	Username  string    `json:"username"`
	Profile   string    `json:"profile"`
}

func newTokenCmd(a *app) *cobra.Command {
	o := &tokenOptions{}
	cmd := &cobra.Command{
		Use:   "token [--id|--access] [--force-refresh]",
		Short: "Print a current token (refreshed if needed) and nothing else",
		Long: `Print the access token (or the id token with --id), refreshed first if it is close to
expiry, with nothing else on standard output:

  curl -H "Authorization: Bearer $(cogauth token)" https://api.example.com/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.IO, o.open = a.IO, a.open
			return runToken(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.ID, "id", false, "print the id token")
	f.BoolVar(&o.Access, "access", false, "print the access token (the default)")
	f.BoolVar(&o.ForceRefresh, "force-refresh", false, "refresh even when the token is fresh")
	cmd.MarkFlagsMutuallyExclusive("id", "access")
	addOutputFlag(cmd, &o.Output)
	return bounded(cmd)
}

func runToken(ctx context.Context, o *tokenOptions) error {
	if o.ID && o.Access {
		return usagef("--id and --access exclude each other")
	}
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
	t, use := s.Tokens.Access, "access"
	if o.ID {
		use = "id"
		if s.Tokens.ID == nil {
			return errors.New("the session has no id token")
		}
		t = s.Tokens.ID
	}
	if o.Output == "json" {
		return writeJSON(o.IO.Out, tokenJSONOut{Token: t.Raw(), TokenUse: use, ExpiresAt: t.ExpiresAt().UTC(), Username: s.Username, Profile: p.cfg.Profile})
	}
	_, err = fmt.Fprintln(o.IO.Out, t.Raw())
	return err
}
