package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/internal/config"
	"github.com/cogauth/cogauth/jwt"
)

// The account commands: signup and confirm (here), password reset|change
// (password.go), attributes get|set|verify|delete (attributes.go), mfa status|setup
// totp|prefer (mfa.go), account delete (here). Every prompt has a flag or variable:
// COGAUTH_USERNAME, COGAUTH_PASSWORD, COGAUTH_NEW_PASSWORD, COGAUTH_CODE. A code
// sent when there is no terminal to type it on is a pending step (pending.go),
// finished by the same command with --code. Prompts are outside the network steps.

func addAccountCommands(a *app, root *cobra.Command) {
	root.AddCommand(newCmdSignup(a, nil), newCmdConfirm(a, nil), newPasswordCmd(a), newAttributesCmd(a), newMFACmd(a), newAccountCmd(a), newPasskeysCmd(a))
}

// accountEnv is what every account command takes from the app: its streams, the
// environment, prompts, network steps, and the profile's configuration, Cognito
// client and pending steps.
type accountEnv struct {
	IO     IOStreams
	getenv func(string) string
	now    func() time.Time
	tty    bool
	prompt func(ctx context.Context) *prompter
	// call runs one network step.
	call func(ctx context.Context, fn func(context.Context) error) error
	// client is the user-pool client, with the configuration it was built from.
	client func() (*cognito.Client, *config.Config, error)
	// pend opens the profile's pending steps.
	pend func(ctx context.Context, c *config.Config) (*pendings, error)
	// open opens the profile's signed-in session.
	open func(ctx context.Context) (*profileSession, error)
}

func (a *app) accountEnv(ctx context.Context) accountEnv {
	return accountEnv{
		IO: a.IO, getenv: a.Getenv, now: a.Clock.Now, tty: a.prompter(ctx).tty,
		prompt: a.prompter, call: a.call, pend: a.pendings, open: a.open,
		client: func() (*cognito.Client, *config.Config, error) {
			c, err := a.config()
			if err != nil {
				return nil, nil, err
			}
			cc, err := a.cognitoClient(c)
			return cc, c, err
		},
	}
}

// answer is a value from a flag, else the variable, else a prompt (secret
// without echo).
func (e accountEnv) answer(ctx context.Context, v *string, envVar, label, what, flag string, secret bool) error {
	if *v != "" {
		return nil
	}
	if envVar != "" {
		if *v = e.getenv(envVar); *v != "" {
			return nil
		}
	}
	p := e.prompt(ctx)
	var err error
	if secret {
		*v, err = p.secret(label)
	} else {
		*v, err = p.ask(label)
	}
	if err != nil {
		return answerErr(err, what, flag, envVar)
	}
	if *v == "" {
		return usagef("empty %s", what)
	}
	return nil
}

// call runs one network step.
func (a *app) call(ctx context.Context, fn func(context.Context) error) error {
	sctx, done := a.netStep(ctx)
	defer done()
	return fn(sctx)
}

func parseAttributes(args []string) (map[string]string, error) {
	m := map[string]string{}
	for _, kv := range args {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usagef("attribute %q is not NAME=VALUE", kv)
		}
		m[k] = v
	}
	return m, nil
}

func deliveryLine(d *cognito.CodeDelivery) string {
	if d == nil {
		return "no code was sent (the pool verifies no address; an administrator confirms)"
	}
	return fmt.Sprintf("code sent by %s to %s", strings.ToLower(d.Medium), d.Destination)
}

type deliveryJSON struct {
	Destination   string `json:"destination"`
	Medium        string `json:"medium"`
	AttributeName string `json:"attributeName"`
}

func deliveryOut(d *cognito.CodeDelivery) *deliveryJSON {
	if d == nil {
		return nil
	}
	return &deliveryJSON{Destination: d.Destination, Medium: d.Medium, AttributeName: d.AttributeName}
}

// doneJSON is what an account command that finished prints under -o json.
type doneJSON struct {
	Status   string `json:"status"` // "done"
	Profile  string `json:"profile,omitempty"`
	Username string `json:"username,omitempty"`
}

// readNewPassword reads the new password: the next line of standard input with
// --new-password-stdin, else COGAUTH_NEW_PASSWORD, else a prompt without echo.
func (e accountEnv) readNewPassword(ctx context.Context, fromStdin bool) (string, error) {
	if fromStdin {
		pw, err := readLine(e.IO.In)
		if err != nil || pw == "" {
			return "", usagef("--new-password-stdin: no new password on standard input")
		}
		return pw, nil
	}
	var pw string
	err := e.answer(ctx, &pw, "COGAUTH_NEW_PASSWORD", "New password: ", "a new password", "--new-password-stdin", true)
	return pw, err
}

// signup

type signupOptions struct {
	env          accountEnv
	Username     string
	Attributes   []string
	Confirm      bool
	Passwordless bool
	Code         string
	Output       string
}

// signupJSON is what `signup -o json` prints: the user, and the confirmation
// left pending when there was no code to confirm with.
type signupJSON struct {
	Status       string        `json:"status"` // "done" or "pending"
	Profile      string        `json:"profile"`
	Username     string        `json:"username"`
	UserSub      string        `json:"userSub"`
	Confirmed    bool          `json:"confirmed"`
	CodeDelivery *deliveryJSON `json:"codeDelivery"`
	Step         string        `json:"step,omitempty"`
	ExpiresAt    *time.Time    `json:"expiresAt,omitempty"`
	Next         string        `json:"next,omitempty"`
}

func newCmdSignup(a *app, runF func(*signupOptions) error) *cobra.Command {
	o := &signupOptions{}
	cmd := &cobra.Command{
		Use:   "signup --username NAME [--attribute NAME=VALUE]... [--passwordless] [--confirm] [--code CODE]",
		Short: "Register a new user (SignUp); the code it sends is confirmed with --code or cogauth confirm",
		Long: `Register a new user with a password (COGAUTH_PASSWORD, else a prompt without echo) and
attributes. The pool sends a code: with --code (or COGAUTH_CODE) it is confirmed at
once; with --confirm on a terminal it is asked for; otherwise the confirmation is
kept pending for the profile and 'cogauth confirm --code CODE' finishes it. With
--passwordless the user gets no password and signs in with one-time codes (login
--flow user-auth); the pool must allow EMAIL_OTP or SMS_OTP and verify the address
given automatically.`,
		Example: `  COGAUTH_PASSWORD=… cogauth signup --username alice --attribute email=alice@example.com
  cogauth confirm --code 123456`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.env = a.accountEnv(cmd.Context())
			if runF != nil {
				return runF(o)
			}
			return signupRun(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Username, "username", "", "the new user's name (env COGAUTH_USERNAME)")
	f.StringArrayVar(&o.Attributes, "attribute", nil, "an attribute NAME=VALUE (repeatable), e.g. email=alice@example.com")
	f.BoolVar(&o.Confirm, "confirm", false, "on a terminal, ask for the confirmation code and confirm at once")
	f.BoolVar(&o.Passwordless, "passwordless", false, "sign up without a password, to sign in with one-time codes (login --flow user-auth)")
	f.StringVar(&o.Code, "code", "", "the confirmation code, to confirm at once (env COGAUTH_CODE; - reads standard input)")
	addOutputFlag(cmd, &o.Output)
	return cmd
}

func signupRun(ctx context.Context, o *signupOptions) error {
	e := o.env
	if err := checkTextOrJSON(o.Output); err != nil {
		return err
	}
	m, err := parseAttributes(o.Attributes)
	if err != nil {
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
	password, code, err := o.answers(ctx)
	if err != nil {
		return err
	}
	var res *cognito.SignUpResult
	if err := e.call(ctx, func(ctx context.Context) (err error) {
		res, err = cc.SignUp(ctx, cognito.SignUpInput{Username: o.Username, Password: jwt.Secret(password), Passwordless: o.Passwordless, Attributes: m})
		return err
	}); err != nil {
		return err
	}
	out := signupJSON{Status: "done", Profile: c.Profile, Username: o.Username, UserSub: res.UserSub, Confirmed: res.Confirmed, CodeDelivery: deliveryOut(res.Delivery)}
	if !res.Confirmed && res.Delivery != nil {
		if ended, err := o.confirm(ctx, cc, ps, &out, res, code); ended || err != nil {
			return err
		}
	}
	if o.Output == "json" {
		return writeJSON(e.IO.Out, out)
	}
	if out.Confirmed {
		fmt.Fprintf(e.IO.Out, "signed up %s (confirmed); log in with 'cogauth login --profile %s --username %s'\n", o.Username, c.Profile, o.Username)
		return nil
	}
	fmt.Fprintf(e.IO.Out, "signed up %s; %s\n", o.Username, deliveryLine(res.Delivery))
	return nil
}

// answers settles the user name and the password (none with --passwordless),
// and reads the confirmation code given up front (--code, COGAUTH_CODE).
func (o *signupOptions) answers(ctx context.Context) (password, code string, err error) {
	e := o.env
	if err := e.answer(ctx, &o.Username, "COGAUTH_USERNAME", "Username: ", "a username", "--username", false); err != nil {
		return "", "", err
	}
	if !o.Passwordless {
		if err := e.answer(ctx, &password, "COGAUTH_PASSWORD", "Password: ", "a password", "COGAUTH_PASSWORD", true); err != nil {
			return "", "", err
		}
	}
	code, err = codeAnswer(o.Code, e.getenv, e.IO.In)
	return password, code, err
}

// confirm confirms the new user with code (asked for with --confirm on a
// terminal), or keeps the confirmation pending and reports it; ended: nothing is
// left to print (it was reported, or failed).
func (o *signupOptions) confirm(ctx context.Context, cc *cognito.Client, ps *pendings, out *signupJSON, res *cognito.SignUpResult, code string) (ended bool, err error) {
	e := o.env
	if code == "" && o.Confirm && e.tty {
		fmt.Fprintln(e.IO.ErrOut, deliveryLine(res.Delivery))
		if err := e.answer(ctx, &code, "", "Confirmation code: ", "the confirmation code", "--code", false); err != nil {
			return true, err
		}
	}
	now := e.now()
	pend := &pendingStep{Command: pendConfirm, Step: "CONFIRM_SIGN_UP", Username: o.Username, Destination: res.Delivery.Destination,
		Medium: res.Delivery.Medium, Created: now, ExpiresAt: now.Add(confirmCodeLife), Session: res.Session.Reveal()}
	if code == "" {
		return true, o.keepPending(ctx, ps, out, pend, now)
	}
	if err := e.call(ctx, func(ctx context.Context) error {
		_, err := cc.ConfirmSignUp(ctx, cognito.ConfirmSignUpInput{Username: o.Username, Code: jwt.Secret(code), Session: res.Session})
		return err
	}); err != nil {
		// The code can still be given to cogauth confirm.
		_ = e.call(ctx, func(ctx context.Context) error { return ps.put(ctx, pendConfirm, pend) })
		return true, wrongCodeKept(err, finishCommand(out.Profile, pend))
	}
	out.Confirmed = true
	return false, nil
}

// keepPending keeps the confirmation for cogauth confirm and reports it.
func (o *signupOptions) keepPending(ctx context.Context, ps *pendings, out *signupJSON, pend *pendingStep, now time.Time) error {
	e := o.env
	if err := e.call(ctx, func(ctx context.Context) error { return ps.put(ctx, pendConfirm, pend) }); err != nil {
		return fmt.Errorf("keeping the pending confirmation: %w", err)
	}
	if o.Output == "json" {
		exp := pend.ExpiresAt.UTC()
		out.Status, out.Step, out.ExpiresAt, out.Next = "pending", pend.Step, &exp, finishCommand(out.Profile, pend)
		return writeJSON(e.IO.Out, *out)
	}
	fmt.Fprintf(e.IO.Out, "signed up %s\n", o.Username)
	return reportPending(e.IO, o.Output, out.Profile, pend, now, "", "")
}

// confirm

type confirmOptions struct {
	env      accountEnv
	Username string
	Code     string
	Resend   bool
	Output   string
}

func newCmdConfirm(a *app, runF func(*confirmOptions) error) *cobra.Command {
	o := &confirmOptions{}
	cmd := &cobra.Command{
		Use:   "confirm [--username NAME] [--code CODE | --resend]",
		Short: "Confirm a new user with the code sign-up sent (--resend sends a new one)",
		Long: `Confirm the user signup registered with the code it sent (--code, COGAUTH_CODE, - for
standard input, else a prompt). The user is the one of the profile's pending
confirmation unless --username names another. --resend sends a new code (and keeps
the confirmation pending).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.env = a.accountEnv(cmd.Context())
			if runF != nil {
				return runF(o)
			}
			return confirmRun(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Username, "username", "", "the user (env COGAUTH_USERNAME; default: the pending confirmation's)")
	f.StringVar(&o.Code, "code", "", "the confirmation code (env COGAUTH_CODE; - reads standard input)")
	f.BoolVar(&o.Resend, "resend", false, "send a new confirmation code instead")
	cmd.MarkFlagsMutuallyExclusive("code", "resend")
	addOutputFlag(cmd, &o.Output)
	return cmd
}

func confirmRun(ctx context.Context, o *confirmOptions) error {
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
	pend, err := o.pending(ctx, ps, c.Profile)
	if err != nil {
		return err
	}
	if o.Resend {
		return o.resend(ctx, cc, ps, c.Profile, pend)
	}
	code, err := codeAnswer(o.Code, e.getenv, e.IO.In)
	if err != nil {
		return err
	}
	if code == "" && !e.tty && pend != nil {
		// Nothing to confirm with: say again what is pending (nothing is sent).
		pend.again = true
		return reportPending(e.IO, o.Output, c.Profile, pend, e.now(), "", "")
	}
	if err := e.answer(ctx, &code, "", "Confirmation code: ", "the confirmation code", "--code", false); err != nil {
		return err
	}
	if err := o.confirm(ctx, cc, ps, c.Profile, pend, code); err != nil {
		return err
	}
	if o.Output == "json" {
		return writeJSON(e.IO.Out, doneJSON{Status: "done", Profile: c.Profile, Username: o.Username})
	}
	fmt.Fprintf(e.IO.Out, "confirmed %s; log in with 'cogauth login --profile %s --username %s'\n", o.Username, c.Profile, o.Username)
	return nil
}

// pending settles the user (--username, COGAUTH_USERNAME, the pending
// confirmation's, else a prompt) and returns the profile's pending confirmation
// when it is that user's (nil otherwise: another user's stays pending).
func (o *confirmOptions) pending(ctx context.Context, ps *pendings, profile string) (*pendingStep, error) {
	e := o.env
	if o.Username == "" {
		o.Username = e.getenv("COGAUTH_USERNAME")
	}
	pend, err := ps.get(ctx, pendConfirm, "cogauth confirm --profile "+profile+" --username NAME --resend")
	if err != nil {
		return nil, err
	}
	if pend != nil && o.Username != "" && o.Username != pend.Username {
		pend = nil // another user's confirmation: that one stays pending
	}
	if o.Username == "" && pend != nil {
		o.Username = pend.Username
	}
	if err := e.answer(ctx, &o.Username, "", "Username: ", "a username", "--username", false); err != nil {
		return nil, err
	}
	return pend, nil
}

// resend sends a new confirmation code and keeps the confirmation pending (with
// the sign-up's session, when one was pending).
func (o *confirmOptions) resend(ctx context.Context, cc *cognito.Client, ps *pendings, profile string, pend *pendingStep) error {
	e := o.env
	var d *cognito.CodeDelivery
	if err := e.call(ctx, func(ctx context.Context) (err error) {
		d, err = cc.ResendConfirmationCode(ctx, o.Username, nil)
		return err
	}); err != nil {
		return err
	}
	if d == nil {
		return errors.New("the user pool sent no code (it verifies no address; an administrator confirms)")
	}
	now := e.now()
	np := &pendingStep{Command: pendConfirm, Step: "CONFIRM_SIGN_UP", Username: o.Username, Destination: d.Destination, Medium: d.Medium,
		Created: now, ExpiresAt: now.Add(confirmCodeLife)}
	if pend != nil {
		np.Session = pend.Session
	}
	if err := e.call(ctx, func(ctx context.Context) error { return ps.put(ctx, pendConfirm, np) }); err != nil {
		return fmt.Errorf("keeping the pending confirmation: %w", err)
	}
	return reportPending(e.IO, o.Output, profile, np, now, "", "")
}

// confirm confirms the sign-up with code (in the pending step's session, if
// any). A pending step is dropped once confirmed or expired, and kept on a wrong
// code.
func (o *confirmOptions) confirm(ctx context.Context, cc *cognito.Client, ps *pendings, profile string, pend *pendingStep, code string) error {
	in := cognito.ConfirmSignUpInput{Username: o.Username, Code: jwt.Secret(code)}
	if pend != nil {
		in.Session = secretOf(pend.Session)
	}
	err := o.env.call(ctx, func(ctx context.Context) error {
		_, err := cc.ConfirmSignUp(ctx, in)
		return err
	})
	switch {
	case pend == nil:
		return err
	case err == nil:
		return ps.drop(ctx, pendConfirm)
	case errors.Is(err, cognito.ErrExpiredCode):
		_ = ps.drop(ctx, pendConfirm)
		return &humanized{msg: "that code has expired: send a new one with cogauth confirm --profile " + profile + " --username " + o.Username + " --resend", err: err}
	}
	return wrongCodeKept(err, finishCommand(profile, pend))
}

// account delete

type accountDeleteOptions struct {
	env    accountEnv
	Yes    bool
	Output string
}

func newAccountCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "account delete", Short: "Delete the signed-in user", Args: cobra.NoArgs}
	o := &accountDeleteOptions{}
	del := &cobra.Command{
		Use:   "delete [--yes]",
		Short: "Delete the signed-in user at the pool and end the session (asks unless --yes)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.env = a.accountEnv(cmd.Context())
			return accountDeleteRun(cmd.Context(), o)
		},
	}
	del.Flags().BoolVar(&o.Yes, "yes", false, "do not ask")
	addOutputFlag(del, &o.Output)
	cmd.AddCommand(del)
	return cmd
}

func accountDeleteRun(ctx context.Context, o *accountDeleteOptions) error {
	e := o.env
	if err := checkTextOrJSON(o.Output); err != nil {
		return err
	}
	p, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer p.Close()
	user := p.user
	if !o.Yes {
		ok, err := e.prompt(ctx).confirm(fmt.Sprintf("Delete user %s for good?", user), false)
		if err != nil {
			if errors.Is(err, errNoTerminal) {
				return usagef("deleting the user needs --yes when there is no terminal to ask on")
			}
			return err
		}
		if !ok {
			return usagef("not deleted")
		}
	}
	if err := e.call(ctx, func(ctx context.Context) error { return mapNotSignedIn(p.mgr.Account().Delete(ctx)) }); err != nil {
		return err
	}
	if err := p.signedInAs(ctx, ""); err != nil {
		return err
	}
	if o.Output == "json" {
		return writeJSON(e.IO.Out, struct {
			doneJSON
			Deleted bool `json:"deleted"`
		}{doneJSON{Status: "done", Profile: p.cfg.Profile, Username: user}, true})
	}
	fmt.Fprintf(e.IO.Out, "deleted user %s; signed out\n", user)
	return nil
}

func secretOf(s string) jwt.Secret { return jwt.Secret(s) }
