package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/internal/config"
	"github.com/cogauth/cogauth/secret"
	"github.com/cogauth/cogauth/session"
)

type loginOptions struct {
	IO            IOStreams
	Username      string
	PasswordStdin bool
	Flow          string // srp, password, custom or user-auth
	// Challenge is user-auth's preferred first factor (login_userauth.go).
	Challenge string
	password  string // kept for a SELECT_CHALLENGE that picks a password factor
	// Answers given up front, for scripts: used when a challenge asks for them.
	NewPassword string
	Code        string
	// CodeFlag is --code: the answer to a pending step ("-": standard input).
	CodeFlag string
	// Answer is --answer: a custom challenge's answer.
	Answer           string
	NewPasswordStdin bool
	MFAType          string
	Attributes       map[string]string
	RememberDevice   bool
	DeviceName       string
	Output           string

	open   func(ctx context.Context) (*profileSession, error)
	prompt *prompter
	// probePool asks the service whether the configured user pool exists (its
	// public JWKS), to tell a wrong pool from a wrong password under SRP; nil:
	// never asked.
	probePool func(ctx context.Context, c *config.Config) (exists bool, err error)
	// choseSRP: the user-auth choice was the SRP password factor.
	choseSRP bool
	getenv   func(string) string
	now      func() time.Time
	// net bounds one network step (and shows progress when it is slow); time at
	// a prompt is never in one. Nil: no bound.
	net func(ctx context.Context) (context.Context, func())
}

// step is o.net, or an unbounded step when none is set.
func (o *loginOptions) step(ctx context.Context) (context.Context, func()) {
	if o.net == nil {
		return ctx, func() {}
	}
	return o.net(ctx)
}

// confirm answers a challenge in one network step.
func (o *loginOptions) confirm(ctx context.Context, p *profileSession, ch *cognito.Challenge, ans cognito.Answer) (*session.SignInResult, error) {
	ctx, done := o.step(ctx)
	defer done()
	return p.mgr.ConfirmSignIn(ctx, ch, ans)
}

func newLoginCmd(a *app) *cobra.Command {
	o := &loginOptions{}
	var hosted *hostedUIOptions // login_hostedui.go
	cmd := &cobra.Command{
		Use:   "login [--username U] [--password-stdin] [--flow srp|password|custom]",
		Short: "Sign in to the user pool and keep the session",
		Long: `Sign in (SRP by default: the password never leaves this machine) and store the
session for the profile. Missing answers are asked for on the terminal (the password
without echo), and every challenge the pool poses is walked through: a new password
with required attributes, a TOTP, SMS or e-mail code, choosing an MFA type, setting up
an authenticator app, and the pool's own custom challenges (--flow custom: CUSTOM_AUTH,
the question shown as the pool's Lambda trigger worded it; with a password given by
--password-stdin or COGAUTH_PASSWORD it starts with SRP, CUSTOM_WITH_SRP). Without a
terminal, give the answers as flags or variables:

  printf '%s' "$PASSWORD" | cogauth login --username alice --password-stdin
  COGAUTH_PASSWORD=… COGAUTH_MFA_CODE=123456 cogauth login --username alice

A step that sends a code (e-mail or SMS MFA, a one-time code), asks for a new password,
the authenticator's code or a custom answer, with no terminal to ask on, is kept for the
profile (as long as Cognito's session, 3 minutes): login says what was sent and exits 0,
and the same command finishes it:

  cogauth login --flow user-auth --challenge email-otp -u alice   # sends the code
  cogauth login --code 12345678                                   # finishes the sign-in
  COGAUTH_NEW_PASSWORD=… cogauth login                            # a new password required
  cogauth login --answer ANSWER                                   # a custom challenge`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkTextOrJSON(o.Output); err != nil {
				return err
			}
			if hosted.Enabled {
				hosted.Output = o.Output
				return runHostedUILogin(cmd.Context(), a, hosted)
			}
			o.IO = a.IO
			o.prompt = a.prompter(cmd.Context())
			if o.Username == "" {
				o.Username = a.Getenv("COGAUTH_USERNAME")
			}
			if o.NewPassword == "" {
				o.NewPassword = a.Getenv("COGAUTH_NEW_PASSWORD")
			}
			if o.Code == "" {
				o.Code = a.Getenv("COGAUTH_MFA_CODE")
			}
			o.getenv, o.now = a.Getenv, a.Clock.Now
			password := ""
			if !o.PasswordStdin {
				password = a.Getenv("COGAUTH_PASSWORD")
			}
			o.open = func(ctx context.Context) (*profileSession, error) { return a.openForSignIn(ctx) }
			o.probePool = a.poolExists
			o.net = a.netStep
			return runLogin(cmd.Context(), o, password)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.Username, "username", "u", "", "user name, e-mail or phone number (env COGAUTH_USERNAME)")
	f.BoolVar(&o.PasswordStdin, "password-stdin", false, "read the password from the first line of standard input (else env COGAUTH_PASSWORD, else a prompt)")
	f.StringVar(&o.Flow, "flow", "srp", "authentication flow: srp (USER_SRP_AUTH), password (USER_PASSWORD_AUTH), custom (CUSTOM_AUTH: the pool's Lambda challenges) or user-auth (USER_AUTH: choice-based, passwordless)")
	f.StringVar(&o.Challenge, "challenge", "", "with --flow user-auth, the first factor: email-otp, sms-otp, password or password-srp (else the pool's choices are offered)")
	f.StringVar(&o.NewPassword, "new-password", "", "answer to a new-password challenge (env COGAUTH_NEW_PASSWORD)")
	f.StringVar(&o.Code, "mfa-code", "", "answer to an MFA code or the first custom challenge (env COGAUTH_MFA_CODE)")
	f.StringVar(&o.CodeFlag, "code", "", "the code that finishes a pending sign-in step (an e-mail or SMS code, the authenticator's); - reads it from standard input (env COGAUTH_CODE)")
	f.StringVar(&o.Answer, "answer", "", "the answer to the pool's custom challenge, finishing a pending step")
	f.BoolVar(&o.NewPasswordStdin, "new-password-stdin", false, "read the new password a pending step asks for from standard input (after the password, with --password-stdin)")
	f.StringVar(&o.MFAType, "mfa-type", "", "MFA type to choose when asked: totp, sms or email")
	f.StringToStringVar(&o.Attributes, "attribute", nil, "required attribute for a new-password challenge, NAME=VALUE (repeatable)")
	f.BoolVar(&o.RememberDevice, "remember-device", false, "remember this device when the pool offers it")
	f.StringVar(&o.DeviceName, "device-name", "cogauth", "name of a remembered device or authenticator")
	hosted = addHostedUIFlags(f)
	addOutputFlag(cmd, &o.Output)
	_ = cmd.RegisterFlagCompletionFunc("flow", cobra.FixedCompletions([]string{"srp", "password", "custom", "user-auth"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("challenge", cobra.FixedCompletions(userAuthChallengeWords, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("mfa-type", cobra.FixedCompletions([]string{"totp", "sms", "email"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// openForSignIn opens a manager not yet bound to a user: the sign-in binds it.
func (a *app) openForSignIn(ctx context.Context) (*profileSession, error) {
	return a.openUser(ctx, "", true)
}

// loginFlows maps --flow to Cognito's flow ("" is the default, SRP).
var loginFlows = map[string]cognito.Flow{
	"":          cognito.FlowSRP,
	"srp":       cognito.FlowSRP,
	"password":  cognito.FlowPassword,
	"custom":    cognito.FlowCustom,
	"user-auth": cognito.FlowUserAuth,
}

func loginFlow(name string) (cognito.Flow, error) {
	flow, ok := loginFlows[name]
	if !ok {
		return flow, usagef("unknown flow %q: use srp, password, custom or user-auth", name)
	}
	return flow, nil
}

func runLogin(ctx context.Context, o *loginOptions, password string) error {
	flow, err := loginFlow(o.Flow)
	if err != nil {
		return err
	}
	preferred, err := o.preferredChallenge(flow)
	if err != nil {
		return err
	}
	// The configuration and the store are checked before anyone types a
	// password, and before a sign-in whose session could not be kept.
	p, err := o.open(ctx)
	if err != nil {
		return err
	}
	defer p.Close()
	ps := &pendings{s: p.store, cfg: p.cfg, now: o.clockNow}
	if err := o.readAnswers(); err != nil {
		return err
	}
	// A pending step of this profile, and an answer for it: finish it.
	pend, err := ps.get(ctx, pendLogin, "cogauth login --profile "+p.cfg.Profile+" -u NAME")
	if err != nil {
		return err
	}
	if o.resumes(pend) {
		return o.resume(ctx, p, ps, pend)
	}
	if err := o.askUsername(p.cfg.Profile); err != nil {
		return err
	}
	if password, err = o.readPassword(password, flow, preferred); err != nil {
		return err
	}
	// A new sign-in replaces a pending one.
	if pend != nil {
		if err := ps.drop(ctx, pendLogin); err != nil {
			return err
		}
	}
	res, err := o.signIn(ctx, p, ps, cognito.SignInInput{Username: o.Username, Password: secret.String(password), Flow: flow, PreferredChallenge: preferred})
	if err != nil {
		return o.signInError(ctx, p.cfg, err, usesSRP(flow, password, preferred))
	}
	if res == nil {
		return nil // a step is pending: walk said so
	}
	return o.signedIn(ctx, p, res)
}

// signIn starts the sign-in in one network step and walks its challenges.
func (o *loginOptions) signIn(ctx context.Context, p *profileSession, ps *pendings, in cognito.SignInInput) (*session.SignInResult, error) {
	sctx, done := o.step(ctx)
	o.password = in.Password.Reveal()
	res, err := p.mgr.SignIn(sctx, in)
	done()
	return o.walk(ctx, p, ps, res, err)
}

// usesSRP reports whether the sign-in proves the password with SRP (a user-auth
// choice of the SRP factor is told later, by o.choseSRP).
func usesSRP(flow cognito.Flow, password, preferred string) bool {
	return flow == cognito.FlowSRP || (flow == cognito.FlowCustom && password != "") || preferred == cognito.FactorPasswordSRP
}

// answered: an answer to a pending step was given (a code, a custom answer or
// a new password).
func (o *loginOptions) answered() bool {
	return o.Code != "" || o.Answer != "" || o.NewPassword != ""
}

// resumes reports whether this command finishes the pending step pend: an
// answer is given, no new password on standard input starts over, and the user
// (if named) is the step's.
func (o *loginOptions) resumes(pend *pendingStep) bool {
	if pend == nil || !o.answered() || o.PasswordStdin {
		return false
	}
	return o.Username == "" || o.Username == pend.Username || (pend.Challenge != nil && o.Username == pend.Challenge.Login)
}

// askUsername asks for the user name when none was given; an answer with no
// user, no pending step and no terminal is a usage error.
func (o *loginOptions) askUsername(profile string) error {
	if o.Username != "" {
		return nil
	}
	if o.answered() && !o.prompt.tty {
		return usagef("no pending sign-in step for profile %s (it finished, or was never started): start with cogauth login --profile %s -u NAME", profile, profile)
	}
	var err error
	if o.Username, err = o.prompt.ask("Username: "); err != nil {
		return answerErr(err, "a username", "--username", "COGAUTH_USERNAME")
	}
	if o.Username == "" {
		return usagef("empty username")
	}
	return nil
}

// readPassword reads the password (and the new password after it) from
// standard input with --password-stdin, else asks for it when the flow needs
// one and none was given (COGAUTH_PASSWORD).
func (o *loginOptions) readPassword(password string, flow cognito.Flow, preferred string) (string, error) {
	if o.PasswordStdin {
		var err error
		if password, err = o.readStdinPasswords(); err != nil {
			return "", err
		}
	}
	// The custom flow needs no password: the pool's challenges decide. One given
	// anyway starts it with SRP (CUSTOM_WITH_SRP).
	if password != "" || flow == cognito.FlowCustom || (flow == cognito.FlowUserAuth && !needsPassword(preferred)) {
		return password, nil
	}
	password, err := o.prompt.secret("Password: ")
	if err != nil {
		return "", answerErr(err, "a password", "--password-stdin", "COGAUTH_PASSWORD")
	}
	return password, nil
}

// readStdinPasswords reads --password-stdin's line, and --new-password-stdin's
// after it.
func (o *loginOptions) readStdinPasswords() (string, error) {
	password, err := o.prompt.read(func() (string, error) { return readLine(o.IO.In) })
	if errors.Is(err, errInterrupted) {
		return "", err
	} else if err != nil {
		return "", fmt.Errorf("reading the password from standard input: %w", err)
	}
	if o.NewPasswordStdin {
		if o.NewPassword, err = readLine(o.IO.In); err != nil || o.NewPassword == "" {
			return "", usagef("--new-password-stdin: no new password on standard input after the password")
		}
	}
	return password, nil
}

// signInError words a refused sign-in: under SRP, "Incorrect username or
// password" may be a wrong pool (wrongPoolOrPassword).
func (o *loginOptions) signInError(ctx context.Context, c *config.Config, err error, srp bool) error {
	srp = srp || o.choseSRP
	if srp && o.probePool != nil && errors.Is(err, cognito.ErrNotAuthorized) && strings.Contains(err.Error(), "Incorrect username or password") {
		return o.wrongPoolOrPassword(ctx, c, err)
	}
	return err
}

func (o *loginOptions) clockNow() time.Time {
	if o.now == nil {
		return time.Now()
	}
	return o.now()
}

// readAnswers resolves --code (COGAUTH_CODE, - for standard input) over
// --mfa-code, and --new-password-stdin alone on standard input (with
// --password-stdin it is the second line, read after the password).
func (o *loginOptions) readAnswers() error {
	getenv := o.getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	code, err := codeAnswer(o.CodeFlag, getenv, o.IO.In)
	if err != nil {
		return err
	}
	if code != "" {
		o.Code = code
	}
	if o.NewPasswordStdin && !o.PasswordStdin {
		if o.NewPassword, err = readLine(o.IO.In); err != nil || o.NewPassword == "" {
			return usagef("--new-password-stdin: no new password on standard input")
		}
	}
	return nil
}

// errPending is how a challenge that needs an answer nobody can type ends the
// walk: the step is kept and reported, and login exits 0.
type errPending struct {
	ch     *cognito.Challenge
	secret string // MFA_SETUP: the TOTP secret, shown once
	uri    string
}

func (e *errPending) Error() string { return "pending: " + e.ch.Name }

// walk answers challenges until the sign-in ends: the result, an error, or (nil,
// nil) when a step was left pending (and reported).
func (o *loginOptions) walk(ctx context.Context, p *profileSession, ps *pendings, res *session.SignInResult, err error) (*session.SignInResult, error) {
	for err == nil && res.Session == nil {
		if res.Next == nil {
			return nil, errors.New("sign-in ended with neither a session nor a challenge")
		}
		res, err = o.challenge(ctx, p, res.Next)
	}
	var pe *errPending
	if !errors.As(err, &pe) {
		return res, err
	}
	if p.cfg.Store == config.StoreMemory {
		// Nothing outlives this command: the answer must come up front.
		return nil, answerUpFront(pe.ch.Name)
	}
	now := o.clockNow()
	step := &pendingStep{Command: pendLogin, Step: pe.ch.Name, Username: pe.ch.Username, Created: now, ExpiresAt: now.Add(challengeSession),
		Challenge: keepChallenge(pe.ch), RememberDevice: o.RememberDevice, DeviceName: o.DeviceName,
		Destination: pe.ch.Parameters["CODE_DELIVERY_DESTINATION"], Medium: pe.ch.Parameters["CODE_DELIVERY_DELIVERY_MEDIUM"]}
	if pe.ch.Name == cognito.ChallengeCustom {
		step.Question = pe.ch.CustomParameters()
	}
	if pe.ch.Name == cognito.ChallengeMFASetup {
		step.Step = cognito.ChallengeMFASetup
	}
	sctx, done := o.step(ctx)
	err = ps.put(sctx, pendLogin, step)
	done()
	if err != nil {
		return nil, fmt.Errorf("keeping the pending sign-in step: %w", err)
	}
	if pe.secret != "" && o.Output != "json" {
		fmt.Fprintf(o.IO.ErrOut, "Set up an authenticator app (the user pool requires MFA).\n  Secret: %s\n  URI:    %s\n", pe.secret, pe.uri)
	}
	return nil, reportPending(o.IO, o.Output, p.cfg.Profile, step, now, pe.secret, pe.uri)
}

// answerUpFront is the usage error of a challenge that a memory store cannot
// keep pending: the flag that answers it up front.
func answerUpFront(challenge string) error {
	switch challenge {
	case cognito.ChallengeNewPasswordRequired:
		return needFlag("a new password", "--new-password", "COGAUTH_NEW_PASSWORD")
	case cognito.ChallengeCustom:
		return needFlag("an answer to the custom challenge", "--answer", "")
	case cognito.ChallengeMFASetup:
		return usagef("the pool requires setting up an authenticator app: run cogauth login on a terminal, or with a store that keeps the step (--store file)")
	}
	return needFlag("an MFA code", "--mfa-code", "COGAUTH_MFA_CODE")
}

// resume finishes the pending sign-in step with the answer given, then walks on.
func (o *loginOptions) resume(ctx context.Context, p *profileSession, ps *pendings, pend *pendingStep) error {
	if pend.Challenge == nil {
		_ = ps.drop(ctx, pendLogin)
		return usagef("the pending sign-in of profile %s cannot be resumed: start again with cogauth login -u NAME", p.cfg.Profile)
	}
	ch := pend.Challenge.challenge()
	o.takePending(pend, ch)
	var (
		res *session.SignInResult
		err error
	)
	if ch.Name == cognito.ChallengeMFASetup {
		res, err = o.verifySetup(ctx, p, ch)
	} else {
		res, err = o.challenge(ctx, p, ch)
	}
	if stop := o.settlePending(ctx, p, ps, pend, err); stop != nil {
		return stop
	}
	res, err = o.walk(ctx, p, ps, res, err)
	if err != nil || res == nil {
		return err
	}
	return o.signedIn(ctx, p, res)
}

// takePending takes the user, the device choice and (for a custom challenge)
// --answer from the pending step.
func (o *loginOptions) takePending(pend *pendingStep, ch *cognito.Challenge) {
	o.Username = pend.Username
	o.RememberDevice = o.RememberDevice || pend.RememberDevice
	if pend.DeviceName != "" && o.DeviceName == "cogauth" {
		o.DeviceName = pend.DeviceName
	}
	if o.Answer != "" && ch.Name == cognito.ChallengeCustom {
		o.Code = o.Answer
	}
}

// settlePending decides the pending step's fate once its answer (err) is
// known: answered, it is dropped (a newer step, the next challenge, may replace
// it) and nil is returned; a wrong code or a retryable failure keeps it; an
// expired or failed step is dropped and the error returned. A next step that
// is pending itself (errPending) returns nil: walk keeps it.
func (o *loginOptions) settlePending(ctx context.Context, p *profileSession, ps *pendings, pend *pendingStep, err error) error {
	var pe *errPending
	switch {
	case err == nil:
		return ps.drop(ctx, pendLogin)
	case errors.Is(err, cognito.ErrCodeMismatch), errors.Is(err, cognito.ErrEnableSoftwareTokenMFA), retryable(err):
		return wrongCodeKept(err, finishCommand(p.cfg.Profile, pend)) // the step stays pending
	case stepExpired(err):
		_ = ps.drop(ctx, pendLogin)
		return &humanized{msg: "the pending sign-in step expired (Cognito keeps it 3 minutes): start again with cogauth login --profile " + p.cfg.Profile + " -u " + pend.Username, err: err}
	case errors.As(err, &pe):
		return nil
	}
	_ = ps.drop(ctx, pendLogin)
	return err
}

// signedIn records the finished sign-in, remembers the device when asked, and
// says so.
func (o *loginOptions) signedIn(ctx context.Context, p *profileSession, res *session.SignInResult) error {
	sess := res.Session
	sctx, done := o.step(ctx)
	err := p.signedInAs(sctx, sess.Username)
	done()
	if err != nil {
		return err
	}
	if res.NewDevice != nil {
		remember := o.RememberDevice
		if !remember && o.prompt.tty {
			if remember, err = o.prompt.confirm("Remember this device (skip MFA next time)?", false); err != nil {
				return err
			}
		}
		if remember {
			sctx, done := o.step(ctx)
			err := p.mgr.Devices().Remember(sctx, *res.NewDevice, o.DeviceName)
			done()
			if err != nil {
				return fmt.Errorf("remembering the device: %w", err)
			}
			fmt.Fprintln(o.IO.ErrOut, "Device remembered.")
		}
	}
	if o.Output == "json" {
		return writeJSON(o.IO.Out, signInOut(p.cfg.Profile, sess))
	}
	fmt.Fprintf(o.IO.ErrOut, "Signed in as %s (profile %s).\n", sess.Username, p.cfg.Profile)
	return nil
}

// answerErr turns "no terminal" into a usage error naming the flag and variable.
func answerErr(err error, what, flag, envVar string) error {
	if errors.Is(err, errNoTerminal) {
		return needFlag(what, flag, envVar)
	}
	return err
}

// challenge answers one challenge and returns the next step.
func (o *loginOptions) challenge(ctx context.Context, p *profileSession, ch *cognito.Challenge) (*session.SignInResult, error) {
	switch ch.Name {
	case cognito.ChallengeNewPasswordRequired:
		return o.newPassword(ctx, p, ch)
	case cognito.ChallengeSelectChallenge:
		return o.selectChallenge(ctx, p, ch)
	case cognito.ChallengeSoftwareTokenMFA, cognito.ChallengeSMSMFA, cognito.ChallengeEmailOTP, cognito.ChallengeSMSOTP:
		code, err := o.code(ch)
		if err != nil {
			return nil, err
		}
		return o.confirm(ctx, p, ch, cognito.Answer{Code: secret.String(code)})
	case cognito.ChallengeSelectMFAType:
		t, err := o.chooseMFA(ch.MFAOptions())
		if err != nil {
			return nil, err
		}
		return o.confirm(ctx, p, ch, cognito.Answer{MFAType: t})
	case cognito.ChallengeMFASetup:
		return o.setupMFA(ctx, p, ch)
	case cognito.ChallengeCustom:
		return o.custom(ctx, p, ch)
	}
	return nil, fmt.Errorf("the pool asks for %s, which cogauth login cannot answer", ch.Name)
}

// custom answers the pool's custom challenge: with --mfa-code or --answer once,
// else the question shown and the answer asked for on the terminal.
func (o *loginOptions) custom(ctx context.Context, p *profileSession, ch *cognito.Challenge) (*session.SignInResult, error) {
	code := o.Code
	if code == "" && !o.prompt.tty {
		return nil, &errPending{ch: ch}
	}
	if code == "" {
		// Show what the pool's CreateAuthChallenge made public (the question).
		fmt.Fprintln(o.prompt.out, "The pool asks a custom challenge:")
		for _, k := range ch.CustomParameterNames() {
			fmt.Fprintf(o.prompt.out, "  %s: %s\n", k, ch.CustomParameters()[k])
		}
		var err error
		if code, err = o.prompt.ask("Answer: "); err != nil {
			return nil, answerErr(err, "an answer to the custom challenge", "--mfa-code", "COGAUTH_MFA_CODE")
		}
	}
	o.Code = ""
	res, err := o.confirm(ctx, p, ch, cognito.Answer{Code: secret.String(code)})
	if errors.Is(err, cognito.ErrNotAuthorized) {
		// Cognito words a refused custom answer as a wrong password.
		return nil, &humanized{msg: "the user pool's custom challenge refused the answer: start again with cogauth login --flow custom", err: err}
	}
	return res, err
}

func (o *loginOptions) newPassword(ctx context.Context, p *profileSession, ch *cognito.Challenge) (*session.SignInResult, error) {
	pw := o.NewPassword
	if pw == "" && !o.prompt.tty {
		return nil, &errPending{ch: ch}
	}
	if pw == "" {
		fmt.Fprintln(o.prompt.out, "A new password is required.")
		var err error
		if pw, err = o.prompt.secret("New password: "); err != nil {
			return nil, answerErr(err, "a new password", "--new-password", "COGAUTH_NEW_PASSWORD")
		}
		again, err := o.prompt.secret("Repeat new password: ")
		if err != nil {
			return nil, err
		}
		if again != pw {
			return nil, usagef("the new passwords do not match")
		}
	}
	o.NewPassword = "" // a refused password must not be sent again
	attrs := map[string]string{}
	for _, name := range ch.RequiredAttributes() {
		v, ok := o.Attributes[name]
		if !ok {
			var err error
			if v, err = o.prompt.ask(fmt.Sprintf("%s: ", name)); err != nil {
				return nil, answerErr(err, "required attribute "+name, "--attribute "+name+"=VALUE", "")
			}
		}
		attrs[name] = v
	}
	return o.confirm(ctx, p, ch, cognito.Answer{NewPassword: secret.String(pw), Attributes: attrs})
}

// code returns the code for an MFA challenge, from --mfa-code once, then a prompt.
func (o *loginOptions) code(ch *cognito.Challenge) (string, error) {
	if o.Code != "" {
		c := o.Code
		o.Code = "" // a wrong code must not be sent again
		return c, nil
	}
	if !o.prompt.tty {
		return "", &errPending{ch: ch}
	}
	label := "Code from your authenticator app: "
	switch ch.Name {
	case cognito.ChallengeSMSMFA, cognito.ChallengeEmailOTP, cognito.ChallengeSMSOTP:
		medium := "SMS"
		if ch.Name == cognito.ChallengeEmailOTP {
			medium = "e-mail"
		}
		if d := ch.Parameters["CODE_DELIVERY_DESTINATION"]; d != "" {
			label = fmt.Sprintf("Code sent by %s to %s: ", medium, d)
		} else {
			label = fmt.Sprintf("Code sent by %s: ", medium)
		}
	}
	c, err := o.prompt.ask(label)
	if err != nil {
		return "", answerErr(err, "an MFA code", "--mfa-code", "COGAUTH_MFA_CODE")
	}
	return c, nil
}

// verifySetup answers MFA_SETUP (after AssociateSoftwareToken) with the app's
// first code, then goes on with the sign-in.
func (o *loginOptions) verifySetup(ctx context.Context, p *profileSession, next *cognito.Challenge) (*session.SignInResult, error) {
	code := o.Code
	o.Code = ""
	if code == "" {
		return nil, usagef("the authenticator app's code is needed: give --code CODE")
	}
	sctx, done := o.step(ctx)
	after, err := p.cc.VerifySoftwareToken(sctx, next, secret.String(code), o.DeviceName)
	done()
	if err != nil {
		return nil, err
	}
	return o.confirm(ctx, p, after, cognito.Answer{})
}

// otpauthURI is the otpauth:// URI an authenticator app reads (as a QR code, or
// pasted) for user's TOTP secret.
func otpauthURI(user, secret string) string {
	const issuer = "cogauth"
	return (&url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + issuer + ":" + user,
		RawQuery: url.Values{"secret": {secret}, "issuer": {issuer}}.Encode()}).String()
}

// mfaName maps what users type to Cognito's names.
func mfaName(s string) (string, bool) {
	switch strings.ToLower(s) {
	case "totp", "software_token_mfa":
		return cognito.ChallengeSoftwareTokenMFA, true
	case "sms", "sms_mfa":
		return cognito.ChallengeSMSMFA, true
	case "email", "email_otp":
		return cognito.ChallengeEmailOTP, true
	}
	return "", false
}

func mfaLabel(name string) string {
	switch name {
	case cognito.ChallengeSoftwareTokenMFA:
		return "totp (authenticator app)"
	case cognito.ChallengeSMSMFA:
		return "sms"
	case cognito.ChallengeEmailOTP:
		return "email"
	}
	return name
}

func (o *loginOptions) chooseMFA(options []string) (string, error) {
	if o.MFAType != "" {
		t, ok := mfaName(o.MFAType)
		if !ok || !slices.Contains(options, t) {
			return "", usagef("--mfa-type %q is not offered; the pool offers %s", o.MFAType, strings.Join(options, ", "))
		}
		return t, nil
	}
	if len(options) == 1 {
		return options[0], nil
	}
	fmt.Fprintln(o.prompt.out, "Choose how to receive your code:")
	for i, opt := range options {
		fmt.Fprintf(o.prompt.out, "  %d) %s\n", i+1, mfaLabel(opt))
	}
	for {
		s, err := o.prompt.ask("Choice: ")
		if err != nil {
			return "", answerErr(err, "an MFA type", "--mfa-type", "")
		}
		if t, ok := mfaName(s); ok && slices.Contains(options, t) {
			return t, nil
		}
		var n int
		if _, err := fmt.Sscan(s, &n); err == nil && n >= 1 && n <= len(options) {
			return options[n-1], nil
		}
		fmt.Fprintln(o.prompt.out, "Please type a number from the list.")
	}
}

// setupMFA walks MFA_SETUP: an authenticator app (TOTP) when the pool allows it,
// else e-mail.
func (o *loginOptions) setupMFA(ctx context.Context, p *profileSession, ch *cognito.Challenge) (*session.SignInResult, error) {
	opts := ch.MFAOptions()
	if len(opts) == 0 || slices.Contains(opts, cognito.ChallengeSoftwareTokenMFA) {
		cc, err := p.cognito()
		if err != nil {
			return nil, err
		}
		sctx, done := o.step(ctx)
		secret, next, err := cc.AssociateSoftwareToken(sctx, ch)
		done()
		if err != nil {
			return nil, err
		}
		uri := otpauthURI(ch.Username, secret.Reveal())
		if !o.prompt.tty {
			// The user sets the app up from the secret, then finishes with
			// its first code (login --code).
			return nil, &errPending{ch: next, secret: secret.Reveal(), uri: uri}
		}
		fmt.Fprintf(o.prompt.out, "Set up an authenticator app (multi-factor authentication is required).\n  Secret: %s\n  URI:    %s\n", secret.Reveal(), uri)
		showQR(o.prompt.out, uri)
		if o.Code, err = o.prompt.ask("Code from the app: "); err != nil {
			return nil, err
		}
		return o.verifySetup(ctx, p, next)
	}
	if slices.Contains(opts, cognito.ChallengeEmailOTP) {
		addr, err := o.prompt.ask("E-mail address for sign-in codes: ")
		if err != nil {
			return nil, answerErr(err, "an e-mail address for MFA", "a terminal", "")
		}
		return o.confirm(ctx, p, ch, cognito.Answer{MFAType: cognito.ChallengeEmailOTP, Responses: map[string]secret.String{"EMAIL": secret.String(addr)}})
	}
	return nil, fmt.Errorf("the pool requires MFA set-up of a kind cogauth cannot do here (%s)", strings.Join(opts, ", "))
}

// wrongPoolOrPassword words an SRP refusal. SRP proves the password against the
// pool ID, so a --user-pool-id that is not the app client's pool fails exactly as
// a wrong password does; the pool's public keys tell a pool that does not exist.
func (o *loginOptions) wrongPoolOrPassword(ctx context.Context, c *config.Config, err error) error {
	pctx, done := o.step(ctx)
	exists, perr := o.probePool(pctx, c)
	done()
	switch {
	case perr != nil:
		return err
	case !exists:
		return &humanized{msg: noPool(c, nil) + " (the app client belongs to another pool: under SRP that fails as a wrong password would)", err: err}
	}
	return &humanized{msg: "incorrect username or password (under SRP, a --user-pool-id other than the app client's pool fails the same way)", err: err}
}

// poolExists asks the user pool's public JWKS whether the configured pool exists:
// 404 is no, 200 yes; anything else is an error (nothing learnt).
func (a *app) poolExists(ctx context.Context, c *config.Config) (bool, error) {
	base := strings.TrimRight(c.Endpoint, "/")
	if base == "" {
		region := c.Region
		if region == "" {
			region, _, _ = strings.Cut(c.UserPoolID, "_")
		}
		base = "https://cognito-idp." + region + ".amazonaws.com"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/"+url.PathEscape(c.UserPoolID)+"/.well-known/jwks.json", nil)
	if err != nil {
		return false, err
	}
	resp, err := a.httpClient().Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch resp.StatusCode {
	case http.StatusOK:
		return true, nil
	case http.StatusNotFound:
		return false, nil
	}
	return false, fmt.Errorf("jwks: HTTP %d", resp.StatusCode)
}

// retryable reports whether err is a Cognito error worth trying again (throttling,
// the service's trouble, no answer): a pending step survives it.
func retryable(err error) bool {
	var ce *cognito.Error
	return errors.As(err, &ce) && ce.Retryable
}
