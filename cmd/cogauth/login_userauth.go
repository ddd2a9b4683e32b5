package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/secret"
	"github.com/cogauth/cogauth/session"
)

// login --flow user-auth: choice-based sign-in (USER_AUTH). --challenge names
// the first factor; without it the pool's choices for the user are offered
// (SELECT_CHALLENGE), or --challenge answers that question when the preferred
// factor is not available.

var userAuthChallengeWords = []string{"email-otp", "sms-otp", "password", "password-srp"}

// factorOf maps a --challenge word (or the factor's own name) to the factor.
func factorOf(word string) (string, bool) {
	switch strings.ToLower(strings.ReplaceAll(word, "_", "-")) {
	case "email-otp", "email":
		return cognito.FactorEmailOTP, true
	case "sms-otp", "sms":
		return cognito.FactorSMSOTP, true
	case "password":
		return cognito.FactorPassword, true
	case "password-srp", "srp":
		return cognito.FactorPasswordSRP, true
	}
	return "", false
}

func needsPassword(factor string) bool {
	return factor == cognito.FactorPassword || factor == cognito.FactorPasswordSRP
}

// preferredChallenge checks --challenge against the flow.
func (o *loginOptions) preferredChallenge(flow cognito.Flow) (string, error) {
	if o.Challenge == "" {
		return "", nil
	}
	if flow != cognito.FlowUserAuth {
		return "", usagef("--challenge needs --flow user-auth")
	}
	f, ok := factorOf(o.Challenge)
	if !ok {
		return "", usagef("unknown challenge %q: use %s", o.Challenge, strings.Join(userAuthChallengeWords, ", "))
	}
	return f, nil
}

// selectChallenge answers SELECT_CHALLENGE: --challenge when it is offered, else
// the only choice, else the user's choice on the terminal; a password factor
// then takes the password (given, or asked without echo).
func (o *loginOptions) selectChallenge(ctx context.Context, p *profileSession, ch *cognito.Challenge) (*session.SignInResult, error) {
	var offered []string
	for _, a := range ch.Available {
		if a == cognito.FactorWebAuthn {
			continue // passkeys need an authenticator, which the CLI is not
		}
		offered = append(offered, a)
	}
	if len(offered) == 0 {
		return nil, fmt.Errorf("the pool offers no sign-in factor cogauth login can use (%s)", strings.Join(ch.Available, ", "))
	}
	choice := ""
	if f, ok := factorOf(o.Challenge); ok {
		if !contains(offered, f) {
			return nil, usagef("the pool does not offer %s for this user (it offers %s)", o.Challenge, words(offered))
		}
		choice = f
	}
	if choice == "" && len(offered) == 1 {
		choice = offered[0]
	}
	if choice == "" {
		fmt.Fprintf(o.prompt.out, "Sign in with: %s\n", words(offered))
		ans, err := o.prompt.ask("Choice: ")
		if err != nil {
			return nil, answerErr(err, "a sign-in factor", "--challenge", "")
		}
		f, ok := factorOf(ans)
		if !ok || !contains(offered, f) {
			return nil, usagef("%q is not one of %s", ans, words(offered))
		}
		choice = f
	}
	o.choseSRP = choice == cognito.FactorPasswordSRP
	ans := cognito.Answer{FirstFactor: choice}
	if needsPassword(choice) {
		if o.password == "" {
			pw, err := o.prompt.secret("Password: ")
			if err != nil {
				return nil, answerErr(err, "a password", "--password-stdin", "COGAUTH_PASSWORD")
			}
			o.password = pw
		}
		ans.Password = secret.String(o.password)
	}
	return o.confirm(ctx, p, ch, ans)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// words renders factors as --challenge words.
func words(factors []string) string {
	out := make([]string, len(factors))
	for i, f := range factors {
		out[i] = strings.ToLower(strings.ReplaceAll(f, "_", "-"))
	}
	return strings.Join(out, ", ")
}
