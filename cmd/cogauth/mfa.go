package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/secret"
)

// mfaWord is an MFA method's word on the command line.
func mfaWord(method string) string {
	switch method {
	case cognito.ChallengeSoftwareTokenMFA:
		return "totp"
	case cognito.ChallengeSMSMFA:
		return "sms"
	case cognito.ChallengeEmailOTP:
		return "email"
	}
	return strings.ToLower(method)
}

func newMFACmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mfa status|setup totp|prefer totp|sms|email|none",
		Short: "Show, set up or choose the signed-in user's MFA",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newCmdMFAStatus(a, nil), newCmdMFASetup(a, nil), newCmdMFAPrefer(a, nil))
	return cmd
}

type mfaOptions struct {
	env        accountEnv
	Method     string
	Code       string
	DeviceName string
	Output     string
}

func newCmdMFAStatus(a *app, runF func(*mfaOptions) error) *cobra.Command {
	o := &mfaOptions{}
	cmd := bounded(&cobra.Command{
		Use:   "status [-o text|json]",
		Short: "The MFA methods enabled and the preferred one",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.env = a.accountEnv(cmd.Context())
			if runF != nil {
				return runF(o)
			}
			return mfaStatusRun(cmd.Context(), o)
		},
	})
	addOutputFlag(cmd, &o.Output)
	return cmd
}

func mfaStatusRun(ctx context.Context, o *mfaOptions) error {
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
	enabled := []string{}
	for _, m := range u.MFAs {
		enabled = append(enabled, mfaWord(m))
	}
	preferred := ""
	if u.PreferredMFA != "" {
		preferred = mfaWord(u.PreferredMFA)
	}
	out := o.env.IO.Out
	if o.Output == "json" {
		return writeJSON(out, map[string]any{"enabled": enabled, "preferred": preferred})
	}
	if len(enabled) == 0 {
		fmt.Fprintln(out, "no MFA method enabled")
		return nil
	}
	fmt.Fprintf(out, "enabled: %s\n", strings.Join(enabled, ", "))
	if preferred != "" {
		fmt.Fprintf(out, "preferred: %s\n", preferred)
	}
	return nil
}

func newCmdMFASetup(a *app, runF func(*mfaOptions) error) *cobra.Command {
	o := &mfaOptions{}
	cmd := &cobra.Command{
		Use:   "setup totp [--code CODE]",
		Short: "Set up an authenticator app: shows the secret, then the same command with --code checks its first code",
		Long: `Start TOTP set-up (AssociateSoftwareToken): the secret and an otpauth:// URI for the
authenticator app are shown (with a QR code on a terminal). On a terminal the app's
first code is then asked for; otherwise the set-up is kept pending for the profile and
finished by the same command with the code:

  cogauth mfa setup totp                 # prints the secret and the otpauth:// URI
  cogauth mfa setup totp --code 123456   # the app's current code: TOTP is enabled

With --code (COGAUTH_CODE, - for standard input) nothing new is associated. Make TOTP
preferred with 'cogauth mfa prefer totp'.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.env, o.Method = a.accountEnv(cmd.Context()), args[0]
			if runF != nil {
				return runF(o)
			}
			return mfaSetupRun(cmd.Context(), o)
		},
	}
	cmd.Flags().StringVar(&o.Code, "code", "", "the authenticator app's current code (env COGAUTH_CODE; - reads standard input)")
	cmd.Flags().StringVar(&o.DeviceName, "device-name", "", "a name for the authenticator")
	addOutputFlag(cmd, &o.Output)
	return cmd
}

func mfaSetupRun(ctx context.Context, o *mfaOptions) error {
	e := o.env
	if err := checkTextOrJSON(o.Output); err != nil {
		return err
	}
	if o.Method != "totp" {
		return usagef("only totp can be set up here (SMS and e-mail need a verified phone number or address)")
	}
	code, err := codeAnswer(o.Code, e.getenv, e.IO.In)
	if err != nil {
		return err
	}
	p, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer p.Close()
	ps := &pendings{s: p.store, cfg: p.cfg, now: e.now}
	pend, err := ps.get(ctx, pendMFASetup, "cogauth mfa setup totp --profile "+p.cfg.Profile)
	if err != nil {
		return err
	}
	if code == "" {
		var reported bool
		if pend, code, reported, err = o.associate(ctx, p, ps); err != nil || reported {
			return err
		}
	}
	device := o.DeviceName
	if device == "" && pend != nil {
		device = pend.DeviceName
	}
	if err := e.call(ctx, func(ctx context.Context) error {
		return mapNotSignedIn(p.mgr.MFA().VerifyTOTPSetup(ctx, secret.String(code), device))
	}); err != nil {
		return wrongCodeKept(err, "cogauth mfa setup totp --profile "+p.cfg.Profile+" --code CODE")
	}
	if err := ps.drop(ctx, pendMFASetup); err != nil {
		return err
	}
	if o.Output == "json" {
		return writeJSON(e.IO.Out, struct {
			doneJSON
			Enabled string `json:"enabled"`
		}{doneJSON{Status: "done", Profile: p.cfg.Profile, Username: p.user}, "totp"})
	}
	fmt.Fprintf(e.IO.Out, "TOTP enabled; make it preferred with 'cogauth mfa prefer totp --profile %s'\n", p.cfg.Profile)
	return nil
}

// associate starts TOTP set-up (a new secret) and keeps it pending for its
// first code: without a terminal the secret and the pending step are reported
// (reported true); on one the secret is shown (and a QR code) and the code
// asked for.
func (o *mfaOptions) associate(ctx context.Context, p *profileSession, ps *pendings) (pend *pendingStep, code string, reported bool, err error) {
	e := o.env
	var secret string
	if err := e.call(ctx, func(ctx context.Context) error {
		s, err := p.mgr.MFA().SetUpTOTP(ctx)
		if err != nil {
			return mapNotSignedIn(err)
		}
		secret = s.Reveal()
		return nil
	}); err != nil {
		return nil, "", false, err
	}
	uri := otpauthURI(p.user, secret)
	now := e.now()
	// The association waits for its first code; the record keeps no secret.
	pend = &pendingStep{Command: pendMFASetup, Step: "SOFTWARE_TOKEN_SETUP", Username: p.user, Created: now, ExpiresAt: now.Add(confirmCodeLife), DeviceName: o.DeviceName}
	if err := e.call(ctx, func(ctx context.Context) error { return ps.put(ctx, pendMFASetup, pend) }); err != nil {
		return nil, "", false, fmt.Errorf("keeping the pending set-up: %w", err)
	}
	if !e.tty {
		if o.Output != "json" {
			fmt.Fprintf(e.IO.ErrOut, "Add this account to your authenticator app:\n  Secret: %s\n  URI:    %s\n", secret, uri)
		}
		return pend, "", true, reportPending(e.IO, o.Output, p.cfg.Profile, pend, now, secret, uri)
	}
	fmt.Fprintf(e.IO.ErrOut, "Add this account to your authenticator app:\n  Secret: %s\n  URI:    %s\n", secret, uri)
	showQR(e.IO.ErrOut, uri)
	if err := e.answer(ctx, &code, "", "Code from the app: ", "the app's code", "--code", false); err != nil {
		return nil, "", false, err
	}
	return pend, code, false, nil
}

func newCmdMFAPrefer(a *app, runF func(*mfaOptions) error) *cobra.Command {
	o := &mfaOptions{}
	cmd := bounded(&cobra.Command{
		Use:   "prefer totp|sms|email|none",
		Short: "Make one MFA method enabled and preferred (none disables all three)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.env, o.Method = a.accountEnv(cmd.Context()), args[0]
			if runF != nil {
				return runF(o)
			}
			return mfaPreferRun(cmd.Context(), o)
		},
	})
	addOutputFlag(cmd, &o.Output)
	return cmd
}

func mfaPreferRun(ctx context.Context, o *mfaOptions) error {
	if err := checkTextOrJSON(o.Output); err != nil {
		return err
	}
	var pref cognito.MFAPreference
	switch o.Method {
	case "totp":
		pref = cognito.MFAPreference{TOTP: cognito.MFAPreferred}
	case "sms":
		pref = cognito.MFAPreference{SMS: cognito.MFAPreferred}
	case "email":
		pref = cognito.MFAPreference{Email: cognito.MFAPreferred}
	case "none":
		pref = cognito.MFAPreference{TOTP: cognito.MFADisabled, SMS: cognito.MFADisabled, Email: cognito.MFADisabled}
	default:
		return usagef("unknown MFA method %q (totp, sms, email, none)", o.Method)
	}
	p, err := o.env.open(ctx)
	if err != nil {
		return err
	}
	defer p.Close()
	if err := p.mgr.MFA().SetPreference(ctx, pref); err != nil {
		return mapNotSignedIn(err)
	}
	if o.Output == "json" {
		return writeJSON(o.env.IO.Out, struct {
			doneJSON
			Preferred string `json:"preferred"`
		}{doneJSON{Status: "done", Profile: p.cfg.Profile, Username: p.user}, o.Method})
	}
	fmt.Fprintf(o.env.IO.Out, "MFA preference: %s\n", o.Method)
	return nil
}
