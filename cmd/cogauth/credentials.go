package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/cogauth/cogauth/identity"
	"github.com/cogauth/cogauth/internal/config"
	"github.com/cogauth/cogauth/jwt"
)

// credsFunc returns AWS credentials and the region they are meant for: the
// signed-in user's, or with guest an unauthenticated identity's.
type credsFunc func(ctx context.Context, guest bool) (identity.Credentials, string, error)

type credentialsOptions struct {
	IO     IOStreams
	Format string // process, env or json
	Guest  bool
	creds  credsFunc
}

func newCredentialsCmd(a *app) *cobra.Command {
	o := &credentialsOptions{}
	cmd := &cobra.Command{
		Use:   "credentials [--format process|env|json] [--guest]",
		Short: "Print AWS credentials from the identity pool",
		Long: `Print temporary AWS credentials from the profile's Cognito identity pool, for the
signed-in user (or, with --guest, for an unauthenticated identity where the pool allows
them). They come from the session, renewed ahead of their real expiry.

  --format process   the AWS credential_process JSON (the default), for ~/.aws/config:
                       [profile cognito]
                       credential_process = cogauth credentials --format process --profile NAME
  --format env       export lines:  eval "$(cogauth credentials --format env)"
  --format json      keys, expiry, identity ID and region as JSON

The output holds secret keys: do not paste it anywhere.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.IO, o.creds = a.IO, a.awsCredentials
			return runCredentials(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Format, "format", "process", "output format: process, env or json")
	f.BoolVar(&o.Guest, "guest", false, "unauthenticated (guest) credentials; no sign-in needed")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"process", "env", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return bounded(cmd)
}

// credentialsJSONOut is `credentials --format json`.
type credentialsJSONOut struct {
	AccessKeyID     string    `json:"accessKeyId"`
	SecretAccessKey string    `json:"secretAccessKey"`
	SessionToken    string    `json:"sessionToken,omitempty"`
	Expiration      time.Time `json:"expiration"`
	IdentityID      string    `json:"identityId"`
	Region          string    `json:"region"`
	Guest           bool      `json:"guest"`
}

func runCredentials(ctx context.Context, o *credentialsOptions) error {
	switch o.Format {
	case "process", "env", "json":
	default:
		return usagef("unknown format %q: use process, env or json", o.Format)
	}
	c, region, err := o.creds(ctx, o.Guest)
	if err != nil {
		return err
	}
	var out []byte
	switch o.Format {
	case "process":
		if out, err = identity.ProcessJSON(c); err != nil {
			return err
		}
		out = append(out, '\n')
	case "env":
		out = []byte(awsEnvLines(c, region))
	case "json":
		j := credentialsJSONOut{
			AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey.Reveal(), SessionToken: c.SessionToken.Reveal(),
			Expiration: c.Expiration.UTC(), IdentityID: c.IdentityID, Region: region, Guest: c.Guest,
		}
		if out, err = json.MarshalIndent(j, "", "  "); err != nil {
			return err
		}
		out = append(out, '\n')
	}
	_, err = o.IO.Out.Write(out)
	return err
}

// errNoCredentials: the session has tokens but the identity pool gave nothing, and
// asking again did not say why (it cannot happen with a working pool).
var errNoCredentials = errors.New("the identity pool returned no credentials")

// awsCredentials is the credsFunc of the CLI: it takes the configuration, the
// store and the session of the invocation.
func (a *app) awsCredentials(ctx context.Context, guest bool) (identity.Credentials, string, error) {
	c, err := a.config()
	if err != nil {
		return identity.Credentials{}, "", err
	}
	if err := c.Require("identity-pool-id"); err != nil {
		return identity.Credentials{}, "", err
	}
	if guest {
		s, err := a.profileStore(ctx, c)
		if err != nil {
			return identity.Credentials{}, "", err
		}
		ids, err := a.identityClient(c, s)
		if err != nil {
			return identity.Credentials{}, "", err
		}
		// The guest identity ID is kept in the store: the same guest comes back
		// each time, and is carried into the user's identity at sign-in.
		cr, err := ids.Credentials(ctx, "")
		if err != nil {
			return identity.Credentials{}, "", fmt.Errorf("guest credentials from identity pool %s: %w", c.IdentityPoolID, err)
		}
		return cr, credentialsRegion(c, ids), nil
	}
	p, err := a.open(ctx)
	if err != nil {
		return identity.Credentials{}, "", err
	}
	defer p.Close()
	cr, err := p.credentials(ctx)
	if err != nil {
		return identity.Credentials{}, "", err
	}
	return cr, credentialsRegion(c, p.ids), nil
}

// credentials returns the session's AWS credentials, renewed when due. The
// Manager keeps them with the identity pool they came from and never serves
// another pool's, so a profile whose identity pool changed gets new ones here
// (and keeps them in the session for later commands).
func (p *profileSession) credentials(ctx context.Context) (identity.Credentials, error) {
	s, err := p.fetch(ctx, false)
	if err != nil {
		return identity.Credentials{}, err
	}
	aws, id := s.Credentials, s.IdentityID
	if aws == nil {
		// The Manager keeps serving still-valid tokens when the identity pool
		// fails (so that token users are not hurt) and reports the failure only
		// as an event. Ask once more, directly, to have the reason.
		if aws, id, err = identity.NewSessionCredentials(p.ids).Credentials(ctx, s); err != nil {
			return identity.Credentials{}, err
		}
		if aws == nil {
			return identity.Credentials{}, errNoCredentials
		}
	}
	return identity.Credentials{
		AccessKeyID:     aws.AccessKeyID,
		SecretAccessKey: jwt.Secret(aws.SecretAccessKey),
		SessionToken:    jwt.Secret(aws.SessionToken),
		Expiration:      aws.Expires,
		IdentityID:      id,
	}, nil
}

// credentialsRegion is the region AWS tools should use with the credentials: the
// one the user chose, else the identity pool's (rather than the user pool's,
// which config takes as the default region: the credentials are the identity
// pool's, and the two are almost always the same anyway).
func credentialsRegion(c *config.Config, ids *identity.Client) string {
	switch c.Sources["region"] {
	case config.FromFlag, config.FromEnv, config.FromProfile, config.FromAmplify:
		return c.Region
	}
	return ids.Region()
}
