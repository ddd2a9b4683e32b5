package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cogauth/cogauth/session"
)

type logoutOptions struct {
	IO     IOStreams
	Global bool
	open   func(ctx context.Context) (*profileSession, error)
}

func newLogoutCmd(a *app) *cobra.Command {
	o := &logoutOptions{}
	cmd := &cobra.Command{
		Use:   "logout [--global]",
		Short: "Sign out: revoke the refresh token and forget the profile's session",
		Long: `Revoke the session's refresh token (and the access tokens issued from it) and remove
the profile's session from the store. Other profiles' sessions stay. With --global, the
user is signed out everywhere (every device and app).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.IO, o.open = a.IO, a.open
			return runLogout(cmd.Context(), o)
		},
	}
	cmd.Flags().BoolVar(&o.Global, "global", false, "sign out of every device (GlobalSignOut)")
	return cmd
}

func runLogout(ctx context.Context, o *logoutOptions) error {
	p, err := o.open(ctx)
	if errors.Is(err, errNotSignedIn) {
		fmt.Fprintln(o.IO.ErrOut, "Not signed in.")
		return nil
	}
	if err != nil {
		return err
	}
	defer p.Close()
	user := p.user
	signOutErr := p.mgr.SignOut(ctx, session.SignOutOptions{Global: o.Global})
	// The local session is gone whatever the service said; so is the profile's
	// record of it.
	if err := p.signedInAs(ctx, "", ""); err != nil {
		return err
	}
	if signOutErr != nil && !errors.Is(signOutErr, session.ErrSignedOut) {
		return fmt.Errorf("signed out locally, but the service did not confirm (the tokens may work until they expire): %w", signOutErr)
	}
	fmt.Fprintf(o.IO.ErrOut, "Signed out %s (profile %s).\n", user, p.cfg.Profile)
	return nil
}
