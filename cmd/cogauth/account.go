package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cogauth/cogauth/cognito"
)

// The account commands: signup, confirm, password reset|change, attributes
// get|set|verify|delete, mfa status|setup totp|prefer, account delete. Every
// prompt has a flag or variable: COGAUTH_USERNAME, COGAUTH_PASSWORD,
// COGAUTH_NEW_PASSWORD, COGAUTH_CODE. Prompts are outside the network steps.

func addAccountCommands(a *app, root *cobra.Command) {
	root.AddCommand(newSignupCmd(a), newConfirmCmd(a), newPasswordCmd(a), newAttributesCmd(a), newMFACmd(a), newAccountCmd(a), newPasskeysCmd(a))
}

// answer is a value from a flag, else the variable, else a prompt (secret
// without echo).
func (a *app) answer(ctx context.Context, v *string, envVar, label, what, flag string, secret bool) error {
	if *v != "" {
		return nil
	}
	if *v = a.Getenv(envVar); *v != "" {
		return nil
	}
	p := a.prompter(ctx)
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

func (a *app) accountClient() (*cognito.Client, error) {
	c, err := a.config()
	if err != nil {
		return nil, err
	}
	return a.cognitoClient(c)
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

func newSignupCmd(a *app) *cobra.Command {
	var username, code, output string
	var attrs []string
	var confirm, passwordless bool
	cmd := &cobra.Command{
		Use:   "signup --username NAME [--attribute NAME=VALUE]... [--passwordless] [--confirm]",
		Short: "Register a new user (SignUp); --confirm then asks for the code",
		Long: `Register a new user with a password (COGAUTH_PASSWORD, else a prompt without echo) and
attributes. The pool sends a code; confirm with --confirm (asks for it, or --code /
COGAUTH_CODE) or later with 'cogauth confirm'. With --passwordless the user gets no
password and signs in with one-time codes (login --flow user-auth); the pool must
allow EMAIL_OTP or SMS_OTP and verify the address given automatically.`,
		Example: `  COGAUTH_PASSWORD=… cogauth signup --username alice --attribute email=alice@example.com --confirm`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if err := checkTextOrJSON(output); err != nil {
				return err
			}
			m, err := parseAttributes(attrs)
			if err != nil {
				return err
			}
			cc, err := a.accountClient()
			if err != nil {
				return err
			}
			if err := a.answer(ctx, &username, "COGAUTH_USERNAME", "Username: ", "a username", "--username", false); err != nil {
				return err
			}
			var password string
			if !passwordless {
				if err := a.answer(ctx, &password, "COGAUTH_PASSWORD", "Password: ", "a password", "COGAUTH_PASSWORD", true); err != nil {
					return err
				}
			}
			var res *cognito.SignUpResult
			if err := a.call(ctx, func(ctx context.Context) (err error) {
				res, err = cc.SignUp(ctx, cognito.SignUpInput{Username: username, Password: password, Passwordless: passwordless, Attributes: m})
				return err
			}); err != nil {
				return err
			}
			confirmed := res.Confirmed
			if confirm && !confirmed && res.Delivery != nil {
				fmt.Fprintln(a.IO.ErrOut, deliveryLine(res.Delivery))
				if err := a.answer(ctx, &code, "COGAUTH_CODE", "Confirmation code: ", "the confirmation code", "--code", false); err != nil {
					return err
				}
				if err := a.call(ctx, func(ctx context.Context) error {
					_, err := cc.ConfirmSignUp(ctx, cognito.ConfirmSignUpInput{Username: username, Code: code, Session: res.Session})
					return err
				}); err != nil {
					return err
				}
				confirmed = true
			}
			if output == "json" {
				return writeJSON(a.IO.Out, map[string]any{"username": username, "userSub": res.UserSub, "confirmed": confirmed, "codeDelivery": deliveryOut(res.Delivery)})
			}
			if confirmed {
				fmt.Fprintf(a.IO.Out, "signed up %s (confirmed); log in with 'cogauth login --username %s'\n", username, username)
				return nil
			}
			fmt.Fprintf(a.IO.Out, "signed up %s; %s; confirm with 'cogauth confirm --username %s'\n", username, deliveryLine(res.Delivery), username)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&username, "username", "", "the new user's name (env COGAUTH_USERNAME)")
	f.StringArrayVar(&attrs, "attribute", nil, "an attribute NAME=VALUE (repeatable), e.g. email=alice@example.com")
	f.BoolVar(&confirm, "confirm", false, "ask for the confirmation code and confirm at once")
	f.BoolVar(&passwordless, "passwordless", false, "sign up without a password, to sign in with one-time codes (login --flow user-auth)")
	f.StringVar(&code, "code", "", "the confirmation code, with --confirm (env COGAUTH_CODE)")
	addOutputFlag(cmd, &output)
	return cmd
}

func newConfirmCmd(a *app) *cobra.Command {
	var username, code string
	var resend bool
	cmd := &cobra.Command{
		Use:   "confirm --username NAME [--code CODE | --resend]",
		Short: "Confirm a new user with the code sign-up sent (--resend sends a new one)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cc, err := a.accountClient()
			if err != nil {
				return err
			}
			if err := a.answer(ctx, &username, "COGAUTH_USERNAME", "Username: ", "a username", "--username", false); err != nil {
				return err
			}
			if resend {
				var d *cognito.CodeDelivery
				if err := a.call(ctx, func(ctx context.Context) (err error) {
					d, err = cc.ResendConfirmationCode(ctx, username, nil)
					return err
				}); err != nil {
					return err
				}
				fmt.Fprintln(a.IO.Out, deliveryLine(d))
				return nil
			}
			if err := a.answer(ctx, &code, "COGAUTH_CODE", "Confirmation code: ", "the confirmation code", "--code", false); err != nil {
				return err
			}
			if err := a.call(ctx, func(ctx context.Context) error {
				_, err := cc.ConfirmSignUp(ctx, cognito.ConfirmSignUpInput{Username: username, Code: code})
				return err
			}); err != nil {
				return err
			}
			fmt.Fprintf(a.IO.Out, "confirmed %s\n", username)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&username, "username", "", "the user (env COGAUTH_USERNAME)")
	f.StringVar(&code, "code", "", "the confirmation code (env COGAUTH_CODE)")
	f.BoolVar(&resend, "resend", false, "send a new confirmation code instead")
	return cmd
}

func newPasswordCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "password reset|change",
		Short: "Reset a forgotten password, or change the signed-in user's",
		Args:  cobra.NoArgs,
	}
	var username, code string
	reset := &cobra.Command{
		Use:   "reset --username NAME [--code CODE]",
		Short: "Send a reset code (ForgotPassword), then set the new password with it",
		Long: `Send a password-reset code to the user's verified address, then set the new password
(COGAUTH_NEW_PASSWORD, else a prompt without echo) with the code (--code,
COGAUTH_CODE, else a prompt). With --code the code is not sent again.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cc, err := a.accountClient()
			if err != nil {
				return err
			}
			if err := a.answer(ctx, &username, "COGAUTH_USERNAME", "Username: ", "a username", "--username", false); err != nil {
				return err
			}
			if code == "" {
				var d *cognito.CodeDelivery
				if err := a.call(ctx, func(ctx context.Context) (err error) {
					d, err = cc.ForgotPassword(ctx, username, nil)
					return err
				}); err != nil {
					return err
				}
				fmt.Fprintln(a.IO.ErrOut, deliveryLine(d))
				if err := a.answer(ctx, &code, "COGAUTH_CODE", "Reset code: ", "the reset code", "--code", false); err != nil {
					return err
				}
			}
			var pw string
			if err := a.answer(ctx, &pw, "COGAUTH_NEW_PASSWORD", "New password: ", "a new password", "COGAUTH_NEW_PASSWORD", true); err != nil {
				return err
			}
			if err := a.call(ctx, func(ctx context.Context) error {
				return cc.ConfirmForgotPassword(ctx, cognito.ConfirmForgotPasswordInput{Username: username, Code: code, NewPassword: pw})
			}); err != nil {
				return err
			}
			fmt.Fprintf(a.IO.Out, "password of %s reset; log in with the new one\n", username)
			return nil
		},
	}
	reset.Flags().StringVar(&username, "username", "", "the user (env COGAUTH_USERNAME)")
	reset.Flags().StringVar(&code, "code", "", "the reset code already received (env COGAUTH_CODE)")
	change := &cobra.Command{
		Use:   "change",
		Short: "Change the signed-in user's password (COGAUTH_PASSWORD, COGAUTH_NEW_PASSWORD, else prompts)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			p, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer p.Close()
			var old, pw string
			if err := a.answer(ctx, &old, "COGAUTH_PASSWORD", "Current password: ", "the current password", "COGAUTH_PASSWORD", true); err != nil {
				return err
			}
			if err := a.answer(ctx, &pw, "COGAUTH_NEW_PASSWORD", "New password: ", "a new password", "COGAUTH_NEW_PASSWORD", true); err != nil {
				return err
			}
			if err := a.call(ctx, func(ctx context.Context) error { return mapNotSignedIn(p.mgr.ChangePassword(ctx, old, pw)) }); err != nil {
				return err
			}
			fmt.Fprintln(a.IO.Out, "password changed")
			return nil
		},
	}
	cmd.AddCommand(reset, change)
	return cmd
}

func newAttributesCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "attributes get|set|verify|delete",
		Short: "Read, change, verify or delete the signed-in user's attributes",
		Args:  cobra.NoArgs,
	}
	var output string
	get := bounded(&cobra.Command{
		Use:   "get [-o text|json]",
		Short: "Print the user's attributes (GetUser)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkTextOrJSON(output); err != nil {
				return err
			}
			p, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			defer p.Close()
			u, err := p.mgr.User(cmd.Context())
			if err != nil {
				return mapNotSignedIn(err)
			}
			if output == "json" {
				return writeJSON(a.IO.Out, map[string]any{"username": u.Username, "attributes": u.Attributes})
			}
			names := make([]string, 0, len(u.Attributes))
			for n := range u.Attributes {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				fmt.Fprintf(a.IO.Out, "%s=%s\n", n, u.Attributes[n])
			}
			return nil
		},
	})
	addOutputFlag(get, &output)
	set := &cobra.Command{
		Use:   "set NAME=VALUE...",
		Short: "Set attributes; a changed email or phone_number gets a code (verify it with 'attributes verify')",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := parseAttributes(args)
			if err != nil {
				return err
			}
			p, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			defer p.Close()
			var ds []cognito.CodeDelivery
			if err := a.call(cmd.Context(), func(ctx context.Context) (err error) {
				ds, err = p.mgr.UpdateUserAttributes(ctx, m)
				return mapNotSignedIn(err)
			}); err != nil {
				return err
			}
			fmt.Fprintf(a.IO.Out, "updated %d attribute(s)\n", len(m))
			for i := range ds {
				fmt.Fprintf(a.IO.Out, "%s: %s; verify with 'cogauth attributes verify %s'\n", ds[i].AttributeName, deliveryLine(&ds[i]), ds[i].AttributeName)
			}
			return nil
		},
	}
	var code string
	verify := &cobra.Command{
		Use:   "verify email|phone_number [--code CODE]",
		Short: "Verify an email or phone number: without --code a new code is sent and asked for",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			p, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer p.Close()
			name := args[0]
			if code == "" && a.Getenv("COGAUTH_CODE") == "" {
				var d *cognito.CodeDelivery
				if err := a.call(ctx, func(ctx context.Context) (err error) {
					d, err = p.mgr.SendAttributeVerificationCode(ctx, name)
					return mapNotSignedIn(err)
				}); err != nil {
					return err
				}
				fmt.Fprintln(a.IO.ErrOut, deliveryLine(d))
			}
			if err := a.answer(ctx, &code, "COGAUTH_CODE", "Verification code: ", "the verification code", "--code", false); err != nil {
				return err
			}
			if err := a.call(ctx, func(ctx context.Context) error { return mapNotSignedIn(p.mgr.VerifyUserAttribute(ctx, name, code)) }); err != nil {
				return err
			}
			fmt.Fprintf(a.IO.Out, "%s verified\n", name)
			return nil
		},
	}
	verify.Flags().StringVar(&code, "code", "", "the code already received (env COGAUTH_CODE)")
	del := bounded(&cobra.Command{
		Use:   "delete NAME...",
		Short: "Delete attributes of the user",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			defer p.Close()
			if err := p.mgr.DeleteUserAttributes(cmd.Context(), args); err != nil {
				return mapNotSignedIn(err)
			}
			fmt.Fprintf(a.IO.Out, "deleted %s\n", strings.Join(args, ", "))
			return nil
		},
	})
	cmd.AddCommand(get, set, verify, del)
	return cmd
}

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
	var output string
	status := bounded(&cobra.Command{
		Use:   "status [-o text|json]",
		Short: "The MFA methods enabled and the preferred one",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkTextOrJSON(output); err != nil {
				return err
			}
			p, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			defer p.Close()
			u, err := p.mgr.User(cmd.Context())
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
			if output == "json" {
				return writeJSON(a.IO.Out, map[string]any{"enabled": enabled, "preferred": preferred})
			}
			if len(enabled) == 0 {
				fmt.Fprintln(a.IO.Out, "no MFA method enabled")
				return nil
			}
			fmt.Fprintf(a.IO.Out, "enabled: %s\n", strings.Join(enabled, ", "))
			if preferred != "" {
				fmt.Fprintf(a.IO.Out, "preferred: %s\n", preferred)
			}
			return nil
		},
	})
	addOutputFlag(status, &output)
	var code, device string
	setup := &cobra.Command{
		Use:   "setup totp [--code CODE]",
		Short: "Set up an authenticator app: prints the secret, then checks its first code",
		Long: `Start TOTP set-up (AssociateSoftwareToken): the secret and an otpauth:// URI for the
authenticator app are printed on standard error, then the app's first code is read
(--code, COGAUTH_CODE, else a prompt) and checked. Make TOTP preferred with
'cogauth mfa prefer totp'.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] != "totp" {
				return usagef("only totp can be set up here (SMS and e-mail need a verified phone number or address)")
			}
			ctx := cmd.Context()
			p, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer p.Close()
			var secret string
			var user string
			if err := a.call(ctx, func(ctx context.Context) error {
				s, err := p.mgr.SetUpTOTP(ctx)
				if err != nil {
					return mapNotSignedIn(err)
				}
				secret = s.Reveal()
				sess, err := p.fetch(ctx, false)
				if err == nil {
					user = sess.Username
				}
				return nil
			}); err != nil {
				return err
			}
			uri := (&url.URL{Scheme: "otpauth", Host: "totp", Path: "/cogauth:" + user,
				RawQuery: url.Values{"secret": {secret}, "issuer": {"cogauth"}}.Encode()}).String()
			fmt.Fprintf(a.IO.ErrOut, "secret: %s\n%s\n", secret, uri)
			if err := a.answer(ctx, &code, "COGAUTH_CODE", "Code from the app: ", "the app's code", "--code", false); err != nil {
				return err
			}
			if err := a.call(ctx, func(ctx context.Context) error { return mapNotSignedIn(p.mgr.VerifyTOTPSetup(ctx, code, device)) }); err != nil {
				return err
			}
			fmt.Fprintln(a.IO.Out, "TOTP enabled; make it preferred with 'cogauth mfa prefer totp'")
			return nil
		},
	}
	setup.Flags().StringVar(&code, "code", "", "the authenticator app's current code (env COGAUTH_CODE)")
	setup.Flags().StringVar(&device, "device-name", "", "a name for the authenticator")
	prefer := bounded(&cobra.Command{
		Use:   "prefer totp|sms|email|none",
		Short: "Make one MFA method enabled and preferred (none disables all three)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var pref cognito.MFAPreference
			switch args[0] {
			case "totp":
				pref = cognito.MFAPreference{TOTP: cognito.MFAPreferred}
			case "sms":
				pref = cognito.MFAPreference{SMS: cognito.MFAPreferred}
			case "email":
				pref = cognito.MFAPreference{Email: cognito.MFAPreferred}
			case "none":
				pref = cognito.MFAPreference{TOTP: cognito.MFADisabled, SMS: cognito.MFADisabled, Email: cognito.MFADisabled}
			default:
				return usagef("unknown MFA method %q (totp, sms, email, none)", args[0])
			}
			p, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			defer p.Close()
			if err := p.mgr.SetMFAPreference(cmd.Context(), pref); err != nil {
				return mapNotSignedIn(err)
			}
			fmt.Fprintf(a.IO.Out, "MFA preference: %s\n", args[0])
			return nil
		},
	})
	cmd.AddCommand(status, setup, prefer)
	return cmd
}

func newAccountCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "account delete", Short: "Delete the signed-in user", Args: cobra.NoArgs}
	var yes bool
	del := &cobra.Command{
		Use:   "delete [--yes]",
		Short: "Delete the signed-in user at the pool and end the session (asks unless --yes)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			p, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer p.Close()
			if !yes {
				ok, err := a.prompter(ctx).confirm(fmt.Sprintf("Delete user %s for good?", p.user), false)
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
			if err := a.call(ctx, func(ctx context.Context) error { return mapNotSignedIn(p.mgr.DeleteUser(ctx)) }); err != nil {
				return err
			}
			user := p.user
			if err := p.signedInAs(ctx, ""); err != nil {
				return err
			}
			fmt.Fprintf(a.IO.Out, "deleted user %s; signed out\n", user)
			return nil
		},
	}
	del.Flags().BoolVar(&yes, "yes", false, "do not ask")
	cmd.AddCommand(del)
	return cmd
}
