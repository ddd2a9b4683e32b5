package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/internal/config"
	"github.com/cogauth/cogauth/jwt"
)

type verifyOptions struct {
	IO       IOStreams
	Clock    clock.Clock
	Token    string // "" or "-": read from In
	TokenUse string // id, access, or "" for either
	// Issuers accepted; the configured user pool's issuer when empty.
	Issuers []string
	// JWKSURL overrides where the (single) issuer's keys come from.
	JWKSURL   string
	AnyClient bool
	Groups    []string
	Scopes    []string
	Leeway    time.Duration
	Output    string // json (default) or text
	// cfg gives the user pool, app client and endpoint.
	cfg        *config.Config
	httpClient *http.Client
}

func newVerifyCmd(a *app) *cobra.Command {
	o := &verifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify [TOKEN|-] [--token-use id|access] [--issuer URL]...",
		Short: "Verify a token's signature and Cognito claims; print its claims",
		Long: `Verify a Cognito JWT as a service receiving it would: signature against the issuer's
published keys (JWKS), issuer, token_use, app client, expiry, and optionally groups and
scopes. On success the verified claims are printed as JSON; otherwise the rule the token
failed is named and the exit code is 1. The token is read from standard input when it
is "-" or absent, so it need not appear in the process list:

  cogauth token | cogauth verify --token-use access

The issuer is the configured user pool's (--user-pool-id) unless --issuer is given
(repeatable: several pools at once); the client is --client-id unless --any-client.
With --endpoint (the emulator, moto), keys are fetched from the endpoint's
/POOL_ID/.well-known/jwks.json; --jwks-url overrides.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.config()
			if err != nil {
				return err
			}
			o.IO, o.Clock, o.cfg = a.IO, a.Clock, c
			if o.httpClient == nil {
				o.httpClient = a.httpClient()
			}
			if len(args) == 1 {
				o.Token = args[0]
			}
			return runVerify(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.Output, "output", "o", "json", "output format: json (the claims) or text (a summary and the claims)")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	f.StringVar(&o.TokenUse, "token-use", "", "required token_use: id or access (default: either)")
	_ = cmd.RegisterFlagCompletionFunc("token-use", cobra.FixedCompletions([]string{"id", "access"}, cobra.ShellCompDirectiveNoFileComp))
	f.StringArrayVar(&o.Issuers, "issuer", nil, "accepted issuer URL (repeatable; default: the user pool's)")
	f.StringVar(&o.JWKSURL, "jwks-url", "", "where to fetch the issuer's keys (default: ISSUER/.well-known/jwks.json)")
	f.BoolVar(&o.AnyClient, "any-client", false, "accept tokens of any app client")
	f.StringArrayVar(&o.Groups, "group", nil, "require membership of this group (repeatable: any of them)")
	f.StringArrayVar(&o.Scopes, "scope", nil, "require this scope (repeatable: any of them)")
	f.DurationVar(&o.Leeway, "leeway", 0, "clock difference tolerated in exp, nbf and iat")
	return bounded(cmd)
}

// verifierOptions turns the command's flags and configuration into the
// verifier's options.
func (o *verifyOptions) verifierOptions() (jwt.VerifierOptions, error) {
	v := jwt.VerifierOptions{
		Issuers: o.Issuers, AnyClient: o.AnyClient, Groups: o.Groups, Scopes: o.Scopes,
		Leeway: o.Leeway, Clock: o.Clock, HTTPClient: o.httpClient,
		// One token, one verification: nothing to remember.
		CacheSize: -1,
	}
	switch o.TokenUse {
	case "":
	case "id", "access":
		v.TokenUse = jwt.TokenUse(o.TokenUse)
	default:
		return v, usagef("--token-use %q: use id or access", o.TokenUse)
	}
	if o.Leeway < 0 {
		return v, usagef("--leeway must not be negative")
	}
	c := o.cfg
	poolIssuer := ""
	if c.UserPoolID != "" {
		poolIssuer = jwt.CognitoIssuer(c.UserPoolID)
	}
	if len(v.Issuers) == 0 {
		if poolIssuer == "" {
			return v, usagef("no issuer: give --user-pool-id (env COGAUTH_USER_POOL_ID) or --issuer URL")
		}
		v.Issuers = []string{poolIssuer}
	}
	switch {
	case o.JWKSURL != "":
		if len(v.Issuers) != 1 {
			return v, usagef("--jwks-url needs exactly one --issuer")
		}
		v.JWKSURLs = map[string]string{v.Issuers[0]: o.JWKSURL}
	case c.Endpoint != "" && poolIssuer != "":
		// The emulator and moto issue tokens in the name of the real Cognito
		// issuer but publish the keys themselves.
		for _, iss := range v.Issuers {
			if iss == poolIssuer {
				v.JWKSURLs = map[string]string{iss: strings.TrimRight(c.Endpoint, "/") + "/" + c.UserPoolID + "/.well-known/jwks.json"}
			}
		}
	}
	if !v.AnyClient {
		if c.ClientID == "" {
			return v, usagef("no app client to check: give --client-id (env COGAUTH_CLIENT_ID), or --any-client")
		}
		v.ClientIDs = []string{c.ClientID}
	}
	return v, nil
}

func runVerify(ctx context.Context, o *verifyOptions) error {
	if o.Output == "" {
		o.Output = "json"
	}
	if err := checkTextOrJSON(o.Output); err != nil {
		return err
	}
	vopts, err := o.verifierOptions()
	if err != nil {
		return err
	}
	raw, err := tokenArg(o.Token, o.IO.In)
	if err != nil {
		return err
	}
	v, err := jwt.NewVerifier(vopts)
	if err != nil {
		return usagef("%v", err)
	}
	t, err := v.Verify(ctx, raw)
	if err != nil {
		var ve *jwt.VerifyError
		if errors.As(err, &ve) {
			msg := ve.Reason
			if ve.Err != nil {
				msg += ": " + ve.Err.Error()
			}
			return fmt.Errorf("token rejected by rule %s: %s", ve.Rule, msg)
		}
		return err
	}
	cl := t.Claims()
	summary := fmt.Sprintf("Verified: %s token of %s (client %s), expires %s.\n", cl.TokenUse, cl.Username, cl.Client(), inWords(cl.Exp, o.Clock.Now()))
	if o.Output == "text" {
		pb, err := json.MarshalIndent(cl.Raw(), "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(o.IO.Out, "%sClaims:\n%s\n", summary, pb)
		return err
	}
	if err := writeJSON(o.IO.Out, cl.Raw()); err != nil {
		return err
	}
	fmt.Fprint(o.IO.ErrOut, summary)
	return nil
}
