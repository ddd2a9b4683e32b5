package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/session"
)

type importOptions struct {
	IO           IOStreams
	AccessToken  string
	IDToken      string
	RefreshToken string
	Output       string
	open         func(ctx context.Context) (*profileSession, error)
}

func newImportCmd(a *app) *cobra.Command {
	o := &importOptions{}
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Keep a session from tokens another backend issued",
		Long: `Import tokens a custom sign-in backend issued for this pool and app client. They are
checked (well-formed, this pool's issuer, this client, one user) and then refreshed
like any session. Give them as flags, or (better: they stay out of the process list)
as JSON on standard input, in Cognito's, Amplify's or OAuth's spelling:

  echo '{"AccessToken":"…","IdToken":"…","RefreshToken":"…"}' | cogauth import`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.IO = a.IO
			o.open = a.openForSignIn
			return runImport(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.AccessToken, "access-token", "", "access token (else JSON on standard input)")
	f.StringVar(&o.IDToken, "id-token", "", "id token")
	f.StringVar(&o.RefreshToken, "refresh-token", "", "refresh token (without it the session ends when the access token expires)")
	addOutputFlag(cmd, &o.Output)
	return bounded(cmd)
}

// importJSON accepts Cognito's AuthenticationResult names, Amplify's camelCase and
// OAuth's snake_case.
type importJSON struct {
	AccessToken   string `json:"AccessToken"`
	IDToken       string `json:"IdToken"`
	RefreshToken  string `json:"RefreshToken"`
	AccessToken2  string `json:"access_token"`
	IDToken2      string `json:"id_token"`
	RefreshToken2 string `json:"refresh_token"`
}

// parseImportJSON reads tokens from JSON, optionally wrapped in
// {"AuthenticationResult": …} as InitiateAuth returns it.
func parseImportJSON(b []byte) (access, id, refresh string, err error) {
	var wrapped struct {
		AuthenticationResult *importJSON `json:"AuthenticationResult"`
	}
	var d importJSON
	if err := json.Unmarshal(b, &wrapped); err == nil && wrapped.AuthenticationResult != nil {
		d = *wrapped.AuthenticationResult
	} else if err := json.Unmarshal(b, &d); err != nil {
		// The JSON error may quote input; say where, not what.
		return "", "", "", usagef("standard input is not a JSON object of tokens")
	}
	first := func(a, b string) string {
		if a != "" {
			return a
		}
		return b
	}
	// encoding/json matches names case-insensitively, so "accessToken" lands in
	// AccessToken too.
	return first(d.AccessToken, d.AccessToken2), first(d.IDToken, d.IDToken2), first(d.RefreshToken, d.RefreshToken2), nil
}

func runImport(ctx context.Context, o *importOptions) error {
	if err := checkTextOrJSON(o.Output); err != nil {
		return err
	}
	access, id, refresh := o.AccessToken, o.IDToken, o.RefreshToken
	if access == "" {
		b, err := io.ReadAll(io.LimitReader(o.IO.In, 1<<20))
		if err != nil {
			return fmt.Errorf("reading standard input: %w", err)
		}
		if access, id, refresh, err = parseImportJSON(b); err != nil {
			return err
		}
	}
	if access == "" {
		return usagef("no access token: use --access-token or JSON on standard input")
	}
	p, err := o.open(ctx)
	if err != nil {
		return err
	}
	defer p.Close()
	sess, err := p.mgr.Import(ctx, session.ImportInput{AccessToken: jwt.Secret(access), IDToken: jwt.Secret(id), RefreshToken: jwt.Secret(refresh)})
	if err != nil {
		return err
	}
	if err := p.signedInAs(ctx, sess.Username); err != nil {
		return err
	}
	if o.Output == "json" {
		return writeJSON(o.IO.Out, signInOut(p.cfg.Profile, sess))
	}
	fmt.Fprintf(o.IO.ErrOut, "Imported the session of %s (profile %s).\n", sess.Username, p.cfg.Profile)
	return nil
}
