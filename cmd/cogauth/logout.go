package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/cogauth/cogauth/session"
)

type logoutOptions struct {
	IO     IOStreams
	Global bool
	Output string
	// Profile names the profile in the output when there is no session.
	Profile string
	// Timeout is the bound on the sign-out call, for the error message.
	Timeout time.Duration
	open    func(ctx context.Context) (*profileSession, error)
}

// logoutJSON is what `logout -o json` prints.
type logoutJSON struct {
	Profile  string `json:"profile"`
	Username string `json:"username,omitempty"`
	// SignedOut is false when there was no session to sign out.
	SignedOut bool `json:"signedOut"`
	// Revoked says the service confirmed the sign-out (RevokeToken, or
	// GlobalSignOut with --global); false means the tokens may work until they
	// expire, and Error says why.
	Revoked bool   `json:"revoked"`
	Global  bool   `json:"global"`
	Error   string `json:"error,omitempty"`
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
			o.IO, o.open, o.Timeout = a.IO, a.open, a.timeout()
			if c, err := a.config(); err == nil {
				o.Profile = c.Profile
			}
			return runLogout(cmd.Context(), o)
		},
	}
	cmd.Flags().BoolVar(&o.Global, "global", false, "sign out of every device (GlobalSignOut)")
	addOutputFlag(cmd, &o.Output)
	return bounded(cmd)
}

func runLogout(ctx context.Context, o *logoutOptions) error {
	if err := checkTextOrJSON(o.Output); err != nil {
		return err
	}
	p, err := o.open(ctx)
	if errors.Is(err, errNotSignedIn) {
		if o.Output == "json" {
			return writeJSON(o.IO.Out, logoutJSON{Profile: o.Profile, Global: o.Global})
		}
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
	if err := p.signedInAs(ctx, ""); err != nil {
		return err
	}
	var failed error
	if signOutErr != nil && !errors.Is(signOutErr, session.ErrSignedOut) {
		failed = fmt.Errorf("signed out locally, but the service did not confirm (the tokens may work until they expire): %w", humanError(signOutErr, p.cfg, o.Timeout))
	}
	if o.Output == "json" {
		out := logoutJSON{Profile: p.cfg.Profile, Username: user, SignedOut: true, Revoked: failed == nil, Global: o.Global}
		if failed != nil {
			out.Error = oneLine(failed.Error())
		}
		if err := writeJSON(o.IO.Out, out); err != nil {
			return err
		}
	}
	if failed != nil {
		return failed
	}
	if o.Output != "json" {
		fmt.Fprintf(o.IO.ErrOut, "Signed out %s (profile %s).\n", user, p.cfg.Profile)
	}
	return nil
}
