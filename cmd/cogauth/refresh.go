package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/session"
)

type refreshOptions struct {
	IO     IOStreams
	Clock  clock.Clock
	Force  bool
	Output string
	// Timeout is the bound on the refresh, for the error message.
	Timeout time.Duration
	open    func(ctx context.Context) (*profileSession, error)
}

// refreshJSON is what `refresh -o json` prints.
type refreshJSON struct {
	Profile  string `json:"profile"`
	Username string `json:"username"`
	// Refreshed says new tokens were obtained; false means the tokens were fresh
	// and kept (without --force).
	Refreshed            bool      `json:"refreshed"`
	AccessTokenExpiresAt time.Time `json:"accessTokenExpiresAt"`
}

func newRefreshCmd(a *app) *cobra.Command {
	o := &refreshOptions{}
	cmd := &cobra.Command{
		Use:   "refresh [--force]",
		Short: "Refresh the session's tokens if they are close to expiry (always with --force)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.IO, o.Clock, o.open, o.Timeout = a.IO, a.Clock, a.open, a.timeout()
			return runRefresh(cmd.Context(), o)
		},
	}
	cmd.Flags().BoolVar(&o.Force, "force", false, "refresh even when the tokens are fresh")
	addOutputFlag(cmd, &o.Output)
	return bounded(cmd)
}

func runRefresh(ctx context.Context, o *refreshOptions) error {
	if err := checkTextOrJSON(o.Output); err != nil {
		return err
	}
	p, err := o.open(ctx)
	if err != nil {
		return err
	}
	defer p.Close()
	before, err := p.fetch(ctx, false)
	if err != nil {
		return err
	}
	after := before
	if o.Force {
		// A refresh that fails for a passing reason (network, 5xx, throttling)
		// leaves the session with its still-valid tokens and no error: the
		// library's word for it is a RefreshFailed event, emitted before Fetch
		// returns and delivered on the subscriber's goroutine.
		failed := make(chan error, 1)
		unsubscribe := p.mgr.Subscribe(func(e session.Event) {
			if e.Kind == session.RefreshFailed {
				select {
				case failed <- e.Err:
				default:
				}
			}
		})
		defer unsubscribe()
		if after, err = p.fetch(ctx, true); err != nil {
			return err
		}
		if after.Tokens.Access.Raw() == before.Tokens.Access.Raw() {
			msg := fmt.Sprintf("the refresh did not go through; the current tokens stay in use (the access token expires %s)", expiryLine(after.Tokens.Access.ExpiresAt(), o.Clock.Now()))
			select {
			case cause := <-failed:
				return fmt.Errorf("%s: %w", msg, humanError(cause, p.cfg, o.Timeout))
			case <-time.After(2 * time.Second):
				return errors.New(msg)
			}
		}
	}
	exp := after.Tokens.Access.ExpiresAt()
	if o.Output == "json" {
		return writeJSON(o.IO.Out, refreshJSON{Profile: p.cfg.Profile, Username: after.Username,
			Refreshed: o.Force || after.Tokens.Access.Raw() != before.Tokens.Access.Raw(), AccessTokenExpiresAt: exp.UTC()})
	}
	if o.Force || after.Tokens.Access.Raw() != before.Tokens.Access.Raw() {
		fmt.Fprintf(o.IO.ErrOut, "Refreshed; the access token expires %s.\n", expiryLine(exp, o.Clock.Now()))
	} else {
		fmt.Fprintf(o.IO.ErrOut, "Tokens are fresh; the access token expires %s.\n", expiryLine(exp, o.Clock.Now()))
	}
	return nil
}
