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

	"github.com/spf13/cobra"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/internal/config"
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
	NewPassword    string
	Code           string
	MFAType        string
	Attributes     map[string]string
	RememberDevice bool
	DeviceName     string
	Output         string

	open   func(ctx context.Context) (*profileSession, error)
	prompt *prompter
	// probePool asks the service whether the configured user pool exists (its
	// public JWKS), to tell a wrong pool from a wrong password under SRP; nil:
	// never asked.
	probePool func(ctx context.Context, c *config.Config) (exists bool, err error)
	// choseSRP: the user-auth choice was the SRP password factor.
	choseSRP bool
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
  COGAUTH_PASSWORD=… COGAUTH_MFA_CODE=123456 cogauth login --username alice`,
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

func runLogin(ctx context.Context, o *loginOptions, password string) error {
	var flow cognito.Flow
	switch o.Flow {
	case "srp", "":
		flow = cognito.FlowSRP
	case "password":
		flow = cognito.FlowPassword
	case "custom":
		flow = cognito.FlowCustom
	case "user-auth":
		flow = cognito.FlowUserAuth
	default:
		return usagef("unknown flow %q: use srp, password, custom or user-auth", o.Flow)
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
	if o.Username == "" {
		if o.Username, err = o.prompt.ask("Username: "); err != nil {
			return answerErr(err, "a username", "--username", "COGAUTH_USERNAME")
		}
		if o.Username == "" {
			return usagef("empty username")
		}
	}
	if o.PasswordStdin {
		if password, err = o.prompt.read(func() (string, error) { return readLine(o.IO.In) }); errors.Is(err, errInterrupted) {
			return err
		} else if err != nil {
			return fmt.Errorf("reading the password from standard input: %w", err)
		}
	}
	// The custom flow needs no password: the pool's challenges decide. One given
	// anyway starts it with SRP (CUSTOM_WITH_SRP).
	if password == "" && flow != cognito.FlowCustom && (flow != cognito.FlowUserAuth || needsPassword(preferred)) {
		if password, err = o.prompt.secret("Password: "); err != nil {
			return answerErr(err, "a password", "--password-stdin", "COGAUTH_PASSWORD")
		}
	}
	sctx, done := o.step(ctx)
	o.password = password
	res, err := p.mgr.SignIn(sctx, cognito.SignInInput{Username: o.Username, Password: password, Flow: flow, PreferredChallenge: preferred})
	done()
	for err == nil && res.Session == nil {
		if res.Next == nil {
			return errors.New("sign-in ended with neither a session nor a challenge")
		}
		res, err = o.challenge(ctx, p, res.Next)
	}
	if err != nil {
		srp := flow == cognito.FlowSRP || (flow == cognito.FlowCustom && password != "") || preferred == cognito.FactorPasswordSRP || o.choseSRP
		if srp && o.probePool != nil && errors.Is(err, cognito.ErrNotAuthorized) && strings.Contains(err.Error(), "Incorrect username or password") {
			return o.wrongPoolOrPassword(ctx, p.cfg, err)
		}
		return err
	}
	sess := res.Session
	sctx, done = o.step(ctx)
	err = p.signedInAs(sctx, sess.Username)
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
			err := p.mgr.RememberDevice(sctx, *res.NewDevice, o.DeviceName)
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
		return o.confirm(ctx, p, ch, cognito.Answer{Code: code})
	case cognito.ChallengeSelectMFAType:
		t, err := o.chooseMFA(ch.MFAOptions())
		if err != nil {
			return nil, err
		}
		return o.confirm(ctx, p, ch, cognito.Answer{MFAType: t})
	case cognito.ChallengeMFASetup:
		return o.setupMFA(ctx, p, ch)
	case cognito.ChallengeCustom:
		code := o.Code
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
		res, err := o.confirm(ctx, p, ch, cognito.Answer{Code: code})
		if errors.Is(err, cognito.ErrNotAuthorized) {
			// Cognito words a refused custom answer as a wrong password.
			return nil, &humanized{msg: "the user pool's custom challenge refused the answer: start again with cogauth login --flow custom", err: err}
		}
		return res, err
	}
	return nil, fmt.Errorf("the pool asks for %s, which cogauth login cannot answer", ch.Name)
}

func (o *loginOptions) newPassword(ctx context.Context, p *profileSession, ch *cognito.Challenge) (*session.SignInResult, error) {
	pw := o.NewPassword
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
	return o.confirm(ctx, p, ch, cognito.Answer{NewPassword: pw, Attributes: attrs})
}

// code returns the code for an MFA challenge, from --mfa-code once, then a prompt.
func (o *loginOptions) code(ch *cognito.Challenge) (string, error) {
	if o.Code != "" {
		c := o.Code
		o.Code = "" // a wrong code must not be sent again
		return c, nil
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
		if !o.prompt.tty {
			return nil, usagef("the pool requires setting up an authenticator app, which needs a terminal: run cogauth login interactively once")
		}
		issuer := "cogauth"
		uri := (&url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + issuer + ":" + ch.Username,
			RawQuery: url.Values{"secret": {secret.Reveal()}, "issuer": {issuer}}.Encode()}).String()
		fmt.Fprintf(o.prompt.out, "Set up an authenticator app (multi-factor authentication is required).\n  Secret: %s\n  URI:    %s\n", secret.Reveal(), uri)
		code, err := o.prompt.ask("Code from the app: ")
		if err != nil {
			return nil, err
		}
		sctx, done = o.step(ctx)
		after, err := cc.VerifySoftwareToken(sctx, next, code, o.DeviceName)
		done()
		if err != nil {
			return nil, err
		}
		return o.confirm(ctx, p, after, cognito.Answer{})
	}
	if slices.Contains(opts, cognito.ChallengeEmailOTP) {
		addr, err := o.prompt.ask("E-mail address for sign-in codes: ")
		if err != nil {
			return nil, answerErr(err, "an e-mail address for MFA", "a terminal", "")
		}
		return o.confirm(ctx, p, ch, cognito.Answer{MFAType: cognito.ChallengeEmailOTP, Responses: map[string]string{"EMAIL": addr}})
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
