package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/secret"
)

func newAttributesCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "attributes get|set|verify|delete",
		Short: "Read, change, verify or delete the signed-in user's attributes",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newCmdAttributesGet(a, nil), newCmdAttributesSet(a, nil), newCmdAttributesVerify(a, nil), newCmdAttributesDelete(a, nil))
	return cmd
}

// verifySlot is where the pending verification of attribute name is kept.
func verifySlot(name string) string { return pendVerify + " " + name }

type attributesOptions struct {
	env    accountEnv
	Args   []string
	Code   string
	Resend bool
	Output string
}

func newCmdAttributesGet(a *app, runF func(*attributesOptions) error) *cobra.Command {
	o := &attributesOptions{}
	cmd := bounded(&cobra.Command{
		Use:   "get [-o text|json]",
		Short: "Print the user's attributes (GetUser)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.env = a.accountEnv(cmd.Context())
			if runF != nil {
				return runF(o)
			}
			return attributesGetRun(cmd.Context(), o)
		},
	})
	addOutputFlag(cmd, &o.Output)
	return cmd
}

func attributesGetRun(ctx context.Context, o *attributesOptions) error {
	if err := checkTextOrJSON(o.Output); err != nil {
		return err
	}
	p, err := o.env.open(ctx)
	if err != nil {
		return err
	}
	defer p.Close()
	u, err := p.mgr.Account().User(ctx)
	if err != nil {
		return mapNotSignedIn(err)
	}
	if o.Output == "json" {
		return writeJSON(o.env.IO.Out, map[string]any{"username": u.Username, "attributes": u.Attributes})
	}
	names := make([]string, 0, len(u.Attributes))
	for n := range u.Attributes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(o.env.IO.Out, "%s=%s\n", n, u.Attributes[n])
	}
	return nil
}

func newCmdAttributesSet(a *app, runF func(*attributesOptions) error) *cobra.Command {
	o := &attributesOptions{}
	cmd := &cobra.Command{
		Use:   "set NAME=VALUE...",
		Short: "Set attributes; a changed email or phone_number gets a code, verified with 'attributes verify NAME --code CODE'",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.env, o.Args = a.accountEnv(cmd.Context()), args
			if runF != nil {
				return runF(o)
			}
			return attributesSetRun(cmd.Context(), o)
		},
	}
	addOutputFlag(cmd, &o.Output)
	return cmd
}

// attributesSetJSON is what `attributes set -o json` prints: the attributes
// updated, and a pending verification for each code sent.
type attributesSetJSON struct {
	Status  string        `json:"status"` // "done", or "pending" when a code was sent
	Updated []string      `json:"updated"`
	Pending []pendingJSON `json:"pending,omitempty"`
}

func attributesSetRun(ctx context.Context, o *attributesOptions) error {
	e := o.env
	if err := checkTextOrJSON(o.Output); err != nil {
		return err
	}
	m, err := parseAttributes(o.Args)
	if err != nil {
		return err
	}
	p, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer p.Close()
	ps := &pendings{s: p.store, cfg: p.cfg, now: e.now}
	var ds []cognito.CodeDelivery
	if err := e.call(ctx, func(ctx context.Context) (err error) {
		ds, err = p.mgr.Account().UpdateAttributes(ctx, m)
		return mapNotSignedIn(err)
	}); err != nil {
		return err
	}
	out := attributesSetJSON{Status: "done", Updated: sortedKeys(m)}
	now := e.now()
	var steps []*pendingStep
	for _, d := range ds {
		step := &pendingStep{Command: pendVerify, Step: "VERIFY_ATTRIBUTE", Username: p.user, Attribute: d.AttributeName,
			Destination: d.Destination, Medium: d.Medium, Created: now, ExpiresAt: now.Add(confirmCodeLife)}
		if err := e.call(ctx, func(ctx context.Context) error { return ps.put(ctx, verifySlot(d.AttributeName), step) }); err != nil {
			return fmt.Errorf("keeping the pending verification: %w", err)
		}
		steps = append(steps, step)
		out.Status = "pending"
		out.Pending = append(out.Pending, pendingJSON{Status: "pending", Profile: p.cfg.Profile, Command: pendVerify, Step: step.Step, Username: p.user,
			Destination: d.Destination, Medium: d.Medium, Attribute: d.AttributeName, ExpiresAt: step.ExpiresAt.UTC(), Next: finishCommand(p.cfg.Profile, step)})
	}
	if o.Output == "json" {
		return writeJSON(e.IO.Out, out)
	}
	fmt.Fprintf(e.IO.Out, "updated %s\n", strings.Join(out.Updated, ", "))
	for _, step := range steps {
		if err := reportPending(e.IO, "text", p.cfg.Profile, step, now, "", ""); err != nil {
			return err
		}
	}
	return nil
}

func newCmdAttributesVerify(a *app, runF func(*attributesOptions) error) *cobra.Command {
	o := &attributesOptions{}
	cmd := &cobra.Command{
		Use:   "verify email|phone_number [--code CODE | --resend]",
		Short: "Verify an email or phone number with the code sent for it (--resend sends a new one)",
		Long: `Verify the email or phone_number with the code that 'attributes set' (or an earlier
verify) sent: --code, COGAUTH_CODE, - for standard input, else a prompt on a terminal.
Without a code, the pending verification is shown and nothing is sent; when none is
pending a code is sent first. --resend always sends a new one.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.env, o.Args = a.accountEnv(cmd.Context()), args
			if runF != nil {
				return runF(o)
			}
			return attributesVerifyRun(cmd.Context(), o)
		},
	}
	cmd.Flags().StringVar(&o.Code, "code", "", "the code received (env COGAUTH_CODE; - reads standard input)")
	cmd.Flags().BoolVar(&o.Resend, "resend", false, "send a new code")
	cmd.MarkFlagsMutuallyExclusive("code", "resend")
	addOutputFlag(cmd, &o.Output)
	return cmd
}

func attributesVerifyRun(ctx context.Context, o *attributesOptions) error {
	e := o.env
	if err := checkTextOrJSON(o.Output); err != nil {
		return err
	}
	name := o.Args[0]
	if name != "email" && name != "phone_number" {
		return usagef("only email and phone_number are verified with a code, not %q", name)
	}
	p, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer p.Close()
	ps := &pendings{s: p.store, cfg: p.cfg, now: e.now}
	code, pend, err := o.given(ctx, p, ps, name)
	if err != nil {
		return err
	}
	if code == "" {
		var reported bool
		if code, pend, reported, err = o.obtainCode(ctx, p, ps, name, pend); err != nil || reported {
			return err
		}
	}
	if err := o.verify(ctx, p, ps, name, pend, code); err != nil {
		return err
	}
	if o.Output == "json" {
		return writeJSON(e.IO.Out, struct {
			doneJSON
			Attribute string `json:"attribute"`
			Verified  bool   `json:"verified"`
		}{doneJSON{Status: "done", Profile: p.cfg.Profile, Username: p.user}, name, true})
	}
	fmt.Fprintf(e.IO.Out, "%s verified\n", name)
	return nil
}

// given is the code given up front (none with --resend) and the pending
// verification of attribute name (not needed with --resend: a broken one is
// replaced).
func (o *attributesOptions) given(ctx context.Context, p *profileSession, ps *pendings, name string) (string, *pendingStep, error) {
	e := o.env
	code, err := codeAnswer(o.Code, e.getenv, e.IO.In)
	if err != nil {
		return "", nil, err
	}
	if o.Resend {
		code = ""
	}
	pend, err := ps.get(ctx, verifySlot(name), "cogauth attributes verify "+name+" --profile "+p.cfg.Profile+" --resend")
	if err != nil && !o.Resend {
		return "", nil, err
	}
	return code, pend, nil
}

// obtainCode gets a code when none was given: a new one is sent unless one is
// pending (always with --resend); without a terminal the pending verification
// is reported (reported true), on one the code is asked for.
func (o *attributesOptions) obtainCode(ctx context.Context, p *profileSession, ps *pendings, name string, pend *pendingStep) (code string, _ *pendingStep, reported bool, err error) {
	e := o.env
	shownAgain := pend != nil && !o.Resend
	if pend == nil || o.Resend {
		if pend, err = o.sendCode(ctx, p, ps, name); err != nil {
			return "", nil, false, err
		}
	}
	if !e.tty {
		pend.again = shownAgain
		return "", pend, true, reportPending(e.IO, o.Output, p.cfg.Profile, pend, e.now(), "", "")
	}
	code, err = o.askCode(ctx, pend)
	return code, pend, false, err
}

// sendCode sends a verification code for attribute name and keeps the
// verification pending.
func (o *attributesOptions) sendCode(ctx context.Context, p *profileSession, ps *pendings, name string) (*pendingStep, error) {
	e := o.env
	var d *cognito.CodeDelivery
	if err := e.call(ctx, func(ctx context.Context) (err error) {
		d, err = p.mgr.Account().SendVerificationCode(ctx, name)
		return mapNotSignedIn(err)
	}); err != nil {
		return nil, err
	}
	now := e.now()
	pend := &pendingStep{Command: pendVerify, Step: "VERIFY_ATTRIBUTE", Username: p.user, Attribute: name, Created: now, ExpiresAt: now.Add(confirmCodeLife)}
	if d != nil {
		pend.Destination, pend.Medium = d.Destination, d.Medium
	}
	if err := e.call(ctx, func(ctx context.Context) error { return ps.put(ctx, verifySlot(name), pend) }); err != nil {
		return nil, fmt.Errorf("keeping the pending verification: %w", err)
	}
	return pend, nil
}

// askCode says where the code went and asks for it on the terminal.
func (o *attributesOptions) askCode(ctx context.Context, pend *pendingStep) (string, error) {
	e := o.env
	if pend.Destination != "" {
		fmt.Fprintf(e.IO.ErrOut, "code sent by %s to %s\n", strings.ToLower(pend.Medium), pend.Destination)
	}
	var code string
	err := e.answer(ctx, &code, "", "Verification code: ", "the verification code", "--code", false)
	return code, err
}

// verify verifies attribute name with code and drops the pending verification;
// a pending one stays on a wrong code and goes with an expired one.
func (o *attributesOptions) verify(ctx context.Context, p *profileSession, ps *pendings, name string, pend *pendingStep, code string) error {
	err := o.env.call(ctx, func(ctx context.Context) error {
		return mapNotSignedIn(p.mgr.Account().VerifyAttribute(ctx, name, secret.String(code)))
	})
	switch {
	case err == nil:
		return ps.drop(ctx, verifySlot(name))
	case pend == nil:
		return err
	case errors.Is(err, cognito.ErrExpiredCode):
		_ = ps.drop(ctx, verifySlot(name))
		return &humanized{msg: "that code has expired: send a new one with cogauth attributes verify " + name + " --profile " + p.cfg.Profile + " --resend", err: err}
	}
	return wrongCodeKept(err, finishCommand(p.cfg.Profile, pend))
}

func newCmdAttributesDelete(a *app, runF func(*attributesOptions) error) *cobra.Command {
	o := &attributesOptions{}
	cmd := bounded(&cobra.Command{
		Use:   "delete NAME...",
		Short: "Delete attributes of the user",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.env, o.Args = a.accountEnv(cmd.Context()), args
			if runF != nil {
				return runF(o)
			}
			return attributesDeleteRun(cmd.Context(), o)
		},
	})
	addOutputFlag(cmd, &o.Output)
	return cmd
}

func attributesDeleteRun(ctx context.Context, o *attributesOptions) error {
	if err := checkTextOrJSON(o.Output); err != nil {
		return err
	}
	p, err := o.env.open(ctx)
	if err != nil {
		return err
	}
	defer p.Close()
	if err := p.mgr.Account().DeleteAttributes(ctx, o.Args); err != nil {
		return mapNotSignedIn(err)
	}
	if o.Output == "json" {
		return writeJSON(o.env.IO.Out, struct {
			doneJSON
			Deleted []string `json:"deleted"`
		}{doneJSON{Status: "done", Profile: p.cfg.Profile, Username: p.user}, o.Args})
	}
	fmt.Fprintf(o.env.IO.Out, "deleted %s\n", strings.Join(o.Args, ", "))
	return nil
}
