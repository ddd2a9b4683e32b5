package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/secret"
)

func newPasswordCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "password reset|change",
		Short: "Reset a forgotten password, or change the signed-in user's",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newCmdPasswordReset(a, nil), newCmdPasswordChange(a, nil))
	return cmd
}

type passwordResetOptions struct {
	env              accountEnv
	Username         string
	Code             string
	NewPasswordStdin bool
	Output           string
}

func newCmdPasswordReset(a *app, runF func(*passwordResetOptions) error) *cobra.Command {
	o := &passwordResetOptions{}
	cmd := &cobra.Command{
		Use:   "reset [--username NAME] [--code CODE --new-password-stdin]",
		Short: "Send a reset code (ForgotPassword); the same command with --code sets the new password",
		Long: `Without --code: send a password-reset code to the user's verified address. On a
terminal the code and the new password are then asked for; otherwise the reset is
kept pending for the profile (an hour, as the code) and the command says how to finish:

  cogauth password reset --username alice
  printf '%s\n' "$NEW_PASSWORD" | cogauth password reset --code 123456 --new-password-stdin

With --code (COGAUTH_CODE; - reads it from standard input, before the new password),
the new password (--new-password-stdin, else COGAUTH_NEW_PASSWORD, else a prompt
without echo) is set with it and nothing is sent. The user is the pending reset's
unless --username names another.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.env = a.accountEnv(cmd.Context())
			if runF != nil {
				return runF(o)
			}
			return passwordResetRun(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Username, "username", "", "the user (env COGAUTH_USERNAME; default: the pending reset's)")
	f.StringVar(&o.Code, "code", "", "the reset code received (env COGAUTH_CODE; - reads standard input)")
	f.BoolVar(&o.NewPasswordStdin, "new-password-stdin", false, "read the new password from standard input (else COGAUTH_NEW_PASSWORD, else a prompt)")
	addOutputFlag(cmd, &o.Output)
	return cmd
}

func passwordResetRun(ctx context.Context, o *passwordResetOptions) error {
	e := o.env
	if err := checkTextOrJSON(o.Output); err != nil {
		return err
	}
	cc, c, err := e.client()
	if err != nil {
		return err
	}
	ps, err := e.pend(ctx, c)
	if err != nil {
		return err
	}
	code, err := codeAnswer(o.Code, e.getenv, e.IO.In)
	if err != nil {
		return err
	}
	restart := "cogauth password reset --profile " + c.Profile + " --username NAME"
	pend, err := o.pending(ctx, ps, c.Profile, restart, code != "")
	if err != nil {
		return err
	}
	if code == "" {
		var reported bool
		if pend, code, reported, err = o.sendCode(ctx, cc, ps, c.Profile); err != nil || reported {
			return err
		}
	}
	if err := o.setPassword(ctx, cc, ps, pend, code, c.Profile, restart); err != nil {
		return err
	}
	if o.Output == "json" {
		return writeJSON(e.IO.Out, doneJSON{Status: "done", Profile: c.Profile, Username: o.Username})
	}
	fmt.Fprintf(e.IO.Out, "password of %s reset; log in with the new one: cogauth login --profile %s --username %s\n", o.Username, c.Profile, o.Username)
	return nil
}

// pending settles the user (--username, COGAUTH_USERNAME, the pending reset's,
// else a prompt) and returns the profile's pending reset when it is that user's.
// A code with no user, no pending reset and no terminal is a usage error.
func (o *passwordResetOptions) pending(ctx context.Context, ps *pendings, profile, restart string, haveCode bool) (*pendingStep, error) {
	e := o.env
	if o.Username == "" {
		o.Username = e.getenv("COGAUTH_USERNAME")
	}
	pend, err := ps.get(ctx, pendReset, restart)
	if err != nil {
		return nil, err
	}
	if pend != nil && o.Username != "" && o.Username != pend.Username {
		pend = nil
	}
	if o.Username == "" && pend != nil {
		o.Username = pend.Username
	}
	if o.Username == "" && haveCode && !e.tty {
		return nil, usagef("no pending password reset for profile %s: start with %s", profile, restart)
	}
	if err := e.answer(ctx, &o.Username, "", "Username: ", "a username", "--username", false); err != nil {
		return nil, err
	}
	return pend, nil
}

// sendCode sends a reset code (ForgotPassword) and keeps the reset pending:
// without a terminal it is reported (reported true), on one the code is asked
// for.
func (o *passwordResetOptions) sendCode(ctx context.Context, cc *cognito.Client, ps *pendings, profile string) (pend *pendingStep, code string, reported bool, err error) {
	e := o.env
	var d *cognito.CodeDelivery
	if err := e.call(ctx, func(ctx context.Context) (err error) {
		d, err = cc.ForgotPassword(ctx, o.Username, nil)
		return err
	}); err != nil {
		return nil, "", false, err
	}
	now := e.now()
	pend = &pendingStep{Command: pendReset, Step: "FORGOT_PASSWORD", Username: o.Username, Created: now, ExpiresAt: now.Add(resetCodeLife)}
	if d != nil {
		pend.Destination, pend.Medium = d.Destination, d.Medium
	}
	if err := e.call(ctx, func(ctx context.Context) error { return ps.put(ctx, pendReset, pend) }); err != nil {
		return nil, "", false, fmt.Errorf("keeping the pending reset: %w", err)
	}
	if !e.tty {
		return pend, "", true, reportPending(e.IO, o.Output, profile, pend, now, "", "")
	}
	fmt.Fprintln(e.IO.ErrOut, deliveryLine(d))
	if err := e.answer(ctx, &code, "", "Reset code: ", "the reset code", "--code", false); err != nil {
		return nil, "", false, err
	}
	return pend, code, false, nil
}

// setPassword sets the new password with the reset code, and drops the pending
// reset; a pending reset stays on a wrong code and goes with an expired one.
func (o *passwordResetOptions) setPassword(ctx context.Context, cc *cognito.Client, ps *pendings, pend *pendingStep, code, profile, restart string) error {
	e := o.env
	pw, err := e.readNewPassword(ctx, o.NewPasswordStdin)
	if err != nil {
		return err
	}
	err = e.call(ctx, func(ctx context.Context) error {
		return cc.ConfirmForgotPassword(ctx, cognito.ConfirmForgotPasswordInput{Username: o.Username, Code: jwt.Secret(code), NewPassword: jwt.Secret(pw)})
	})
	switch {
	case err == nil:
		return ps.drop(ctx, pendReset)
	case pend == nil:
		return err
	case errors.Is(err, cognito.ErrExpiredCode):
		_ = ps.drop(ctx, pendReset)
		return &humanized{msg: "that code has expired: send a new one with " + restart, err: err}
	}
	next := "cogauth password reset --profile " + profile + " --username " + o.Username + " --code CODE --new-password-stdin"
	return wrongCodeKept(err, next)
}

type passwordChangeOptions struct {
	env    accountEnv
	Output string
}

func newCmdPasswordChange(a *app, runF func(*passwordChangeOptions) error) *cobra.Command {
	o := &passwordChangeOptions{}
	cmd := &cobra.Command{
		Use:   "change",
		Short: "Change the signed-in user's password (COGAUTH_PASSWORD, COGAUTH_NEW_PASSWORD, else prompts)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.env = a.accountEnv(cmd.Context())
			if runF != nil {
				return runF(o)
			}
			return passwordChangeRun(cmd.Context(), o)
		},
	}
	addOutputFlag(cmd, &o.Output)
	return cmd
}

func passwordChangeRun(ctx context.Context, o *passwordChangeOptions) error {
	e := o.env
	if err := checkTextOrJSON(o.Output); err != nil {
		return err
	}
	p, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer p.Close()
	var old, pw string
	if err := e.answer(ctx, &old, "COGAUTH_PASSWORD", "Current password: ", "the current password", "COGAUTH_PASSWORD", true); err != nil {
		return err
	}
	if err := e.answer(ctx, &pw, "COGAUTH_NEW_PASSWORD", "New password: ", "a new password", "COGAUTH_NEW_PASSWORD", true); err != nil {
		return err
	}
	if err := e.call(ctx, func(ctx context.Context) error {
		return mapNotSignedIn(p.mgr.Account().ChangePassword(ctx, secret.String(old), secret.String(pw)))
	}); err != nil {
		return err
	}
	if o.Output == "json" {
		return writeJSON(e.IO.Out, doneJSON{Status: "done", Profile: p.cfg.Profile, Username: p.user})
	}
	fmt.Fprintln(e.IO.Out, "password changed")
	return nil
}
