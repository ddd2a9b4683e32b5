package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

type tokenOptions struct {
	IO           IOStreams
	ID           bool
	Access       bool
	ForceRefresh bool
	open         func(ctx context.Context) (*profileSession, error)
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
	return cmd
}

func runToken(ctx context.Context, o *tokenOptions) error {
	if o.ID && o.Access {
		return usagef("--id and --access exclude each other")
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
	t := s.Tokens.Access
	if o.ID {
		if s.Tokens.ID == nil {
			return errors.New("the session has no id token")
		}
		t = s.Tokens.ID
	}
	_, err = fmt.Fprintln(o.IO.Out, t.Raw())
	return err
}
