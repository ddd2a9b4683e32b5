package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/cogauth/cogauth/emulator"
)

type emulatorOptions struct {
	IO          IOStreams
	Listen      string
	AllowRemote bool
	SeedFile    string
	StateFile   string
	SelfIssuer  bool
	ShortTokens bool
	// LambdaEndpoint is the Lambda Invoke API that runs the pools' triggers.
	LambdaEndpoint string
	LambdaTimeout  time.Duration
	Region         string
	AccountID      string
	StrictRegion   bool
	// ready, when set, receives the server once it listens (tests).
	ready func(*emulator.Server)
}

func newEmulatorCmd(a *app) *cobra.Command {
	o := &emulatorOptions{}
	cmd := &cobra.Command{
		Use:   "emulator [--listen 127.0.0.1:9229] [--seed FILE] [--state FILE]",
		Short: "Run a Cognito-compatible server for offline development and tests",
		Long: `Run the Cognito emulator: user pools and identity pools that the AWS SDKs, boto3, the AWS
CLI and Amplify talk to as to Cognito (point their endpoint at the printed URL). It
listens on loopback unless --allow-remote is given, creates what --seed describes,
keeps its state in --state across restarts, and stops cleanly on Ctrl-C or SIGTERM.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.IO = a.IO
			// --region (global): of pools made by unsigned requests; signed ones
			// take their credential scope's.
			o.Region = a.flags.Region
			return runEmulator(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Listen, "listen", "127.0.0.1:9229", "address to listen on")
	f.BoolVar(&o.AllowRemote, "allow-remote", false, "allow a non-loopback --listen address (signatures are checked only when the seed lists accessKeys)")
	f.StringVar(&o.SeedFile, "seed", "", "JSON file of pools, clients, users and identity pools to create")
	f.StringVar(&o.StateFile, "state", "", "file to keep the state in across restarts")
	f.BoolVar(&o.SelfIssuer, "self-issuer", false, "issue tokens with the emulator's own URL as issuer, so OIDC discovery reaches it")
	f.BoolVar(&o.ShortTokens, "allow-short-lifetimes", false, "allow token lifetimes below Cognito's minimums (demos)")
	f.StringVar(&o.LambdaEndpoint, "lambda-endpoint", "", "AWS Lambda Invoke API URL that runs the pools' trigger functions (sam local start-lambda: http://127.0.0.1:3001)")
	f.StringVar(&o.AccountID, "account-id", "000000000000", "AWS account ID in ARNs")
	f.BoolVar(&o.StrictRegion, "strict-region", false, "refuse calls naming a pool of another region than the one signed for, as Cognito does")
	f.DurationVar(&o.LambdaTimeout, "lambda-timeout", emulator.DefaultLambdaTimeout, "how long a trigger function may take, as Cognito's 5 seconds")
	return cmd
}

func runEmulator(ctx context.Context, o *emulatorOptions) error {
	opts, err := o.options()
	if err != nil {
		return err
	}
	srv, err := emulator.Listen(o.Listen, opts)
	if err != nil {
		return listenError(o.Listen, "--listen", err)
	}
	fmt.Fprintf(o.IO.Out, "Cognito emulator listening on %s\n", srv.URL)
	if res := srv.Seeded(); res != nil {
		printSeeded(o.IO.Out, res)
	}
	fmt.Fprintf(o.IO.Out, "Try: cogauth --endpoint %s --user-pool-id POOL --client-id CLIENT login\n", srv.URL)
	if o.ready != nil {
		o.ready(srv)
	}
	if err := serveUntilDone(ctx, nil, srv.Shutdown); err != nil {
		return fmt.Errorf("stopping the emulator: %w", err)
	}
	fmt.Fprintln(o.IO.ErrOut, "Emulator stopped.")
	return nil
}

// options checks every flag, before the emulator listens, so a mistake is told
// as the flag's, not as a listen failure or a half-started server; and reads
// the seed.
func (o *emulatorOptions) options() (emulator.Options, error) {
	opts := emulator.Options{StateFile: o.StateFile, SelfIssuer: o.SelfIssuer, AllowShortLifetimes: o.ShortTokens,
		LambdaEndpoint: o.LambdaEndpoint, LambdaTimeout: o.LambdaTimeout,
		Region: o.Region, AccountID: o.AccountID, StrictRegion: o.StrictRegion}
	if err := checkLoopback(o.Listen, o.AllowRemote, "emulator"); err != nil {
		return opts, err
	}
	if o.LambdaEndpoint != "" && !isHTTPURL(o.LambdaEndpoint) {
		return opts, usagef("--lambda-endpoint %q: want the http(s) URL of a Lambda Invoke API, e.g. http://127.0.0.1:3001", o.LambdaEndpoint)
	}
	if o.LambdaTimeout < 0 {
		return opts, usagef("--lambda-timeout %s: want a positive duration, e.g. 5s", o.LambdaTimeout)
	}
	if o.SeedFile != "" {
		seed, err := emulator.LoadSeedFile(o.SeedFile)
		if err != nil {
			return opts, err
		}
		opts.Seed = seed
	}
	if o.StateFile != "" {
		if fi, err := os.Stat(o.StateFile); err == nil && fi.IsDir() {
			return opts, usagef("--state %q is a directory: give a file", o.StateFile)
		}
	}
	return opts, nil
}

// isHTTPURL: s is an absolute http or https URL with a host.
func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// printSeeded lists what the seed created (pools and their clients, identity
// pools, in name order), then the same as one JSON line.
func printSeeded(w io.Writer, res *emulator.SeedResult) {
	for _, n := range slices.Sorted(maps.Keys(res.UserPools)) {
		p := res.UserPools[n]
		fmt.Fprintf(w, "user pool %s: %s\n", n, p.ID)
		for _, c := range slices.Sorted(maps.Keys(p.Clients)) {
			fmt.Fprintf(w, "  app client %s: %s\n", c, p.Clients[c].ID)
		}
	}
	for _, n := range slices.Sorted(maps.Keys(res.IdentityPools)) {
		fmt.Fprintf(w, "identity pool %s: %s\n", n, res.IdentityPools[n])
	}
	if b, err := json.Marshal(res); err == nil {
		fmt.Fprintf(w, "seeded: %s\n", b)
	}
}
