package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/internal/config"
	"github.com/cogauth/cogauth/store"
	"github.com/cogauth/cogauth/store/keyring"
)

// Exit codes scripts can rely on.
const (
	exitOK         = 0
	exitError      = 1
	exitUsage      = 2
	exitSignedOut  = 3 // not signed in, or the session ended: log in again
	exitInterrupts = 130
)

// IOStreams are a command's input and outputs. Tests pass buffers; main passes the
// process's files.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// isTerminal reports whether r or w is an interactive terminal.
func isTerminal(f any) bool {
	fd, ok := f.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(fd.Fd()))
}

// env is what the CLI reads from its process, injected so that tests run commands
// side by side without touching the real environment or home directory.
type env struct {
	IO     IOStreams
	Getenv func(string) string
	// Environ is the whole environment, which `exec` hands on to its command;
	// nil means the process's own.
	Environ  func() []string
	WorkDir  string
	UserHome string
	Clock    clock.Clock
	// Version is what `cogauth version` prints first.
	Version string
	// keyring replaces the OS keyring (tests); nil means the real one.
	keyring keyring.Backend
	// isTTY reports whether a stream is an interactive terminal; tests that drive
	// prompts through a pipe set it.
	isTTY func(any) bool
}

// globalFlags are the persistent flags every command shares.
type globalFlags struct {
	config.Values
	Profile       string
	AmplifyConfig string
	// Quiet drops progress and informational lines on stderr; errors, warnings
	// and prompts stay.
	Quiet bool
	// Debug adds the operation, exception, HTTP status and request ID to errors.
	Debug bool
}

// app is one invocation: the environment plus the global flags, from which each
// command takes its configuration, store and session manager.
type app struct {
	env
	flags globalFlags
	cfg   *config.Config
	// stores are the session stores opened so far, by kind (one per kind: every
	// profile shares $COGAUTH_HOME).
	stores map[string]store.Store
	// http is the client every service client of this invocation shares.
	http *http.Client
	// cancel ends the bounded context of a command that is one network step.
	cancel func()
}

// annotBounded marks a command whose whole run is bounded by the timeout.
const annotBounded = "cogauth/bounded"

// bounded marks cmd as one network step (see annotBounded) and returns it.
func bounded(cmd *cobra.Command) *cobra.Command {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[annotBounded] = "true"
	return cmd
}

// usageError is a mistake in how the command was called (exit code 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// config resolves the configuration once per invocation.
func (a *app) config() (*config.Config, error) {
	if a.cfg != nil {
		return a.cfg, nil
	}
	c, err := a.configFor(a.flags.Profile)
	if err != nil {
		return nil, err
	}
	a.cfg = c
	return c, nil
}

// configFor resolves the configuration of profile ("": the one chosen by
// COGAUTH_PROFILE, else the default), with this invocation's flags and
// environment over it, as `--profile NAME` would.
func (a *app) configFor(profile string) (*config.Config, error) {
	return config.Resolve(config.Input{
		Flags:         a.flags.Values,
		Profile:       profile,
		AmplifyConfig: a.flags.AmplifyConfig,
		Getenv:        a.Getenv,
		WorkDir:       a.WorkDir,
		UserHome:      a.UserHome,
	})
}

// newRootCmd builds the command tree for one invocation.
func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "cogauth",
		Short: "Amazon Cognito sessions from the command line",
		Long: `cogauth signs in to an Amazon Cognito user pool once and keeps the session fresh,
so that every later command, curl call or AWS tool gets current tokens and credentials.

Settings come from flags, then COGAUTH_* environment variables, then a profile in
$COGAUTH_HOME/config.toml, then an Amplify amplify_outputs.json or aws-exports JSON.

Exit codes: 0 done (or a step pending: see --code), 1 error, 2 usage, 3 not signed in
or the session ended (run cogauth login), 130 interrupted; exec passes on its
command's own.`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetIn(a.IO.In)
	root.SetOut(a.IO.Out)
	root.SetErr(a.IO.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err.Error()} })

	pf := root.PersistentFlags()
	pf.StringVar(&a.flags.Profile, "profile", "", "profile in $COGAUTH_HOME/config.toml (env COGAUTH_PROFILE; default \"default\")")
	pf.StringVar(&a.flags.Region, "region", "", "AWS region (env COGAUTH_REGION; default: the user pool's)")
	pf.StringVar(&a.flags.UserPoolID, "user-pool-id", "", "Cognito user pool ID (env COGAUTH_USER_POOL_ID)")
	pf.StringVar(&a.flags.ClientID, "client-id", "", "app client ID (env COGAUTH_CLIENT_ID)")
	pf.StringVar(&a.flags.ClientSecret, "client-secret", "", "app client secret, if the client has one (env COGAUTH_CLIENT_SECRET)")
	pf.StringVar(&a.flags.IdentityPoolID, "identity-pool-id", "", "Cognito identity pool ID (env COGAUTH_IDENTITY_POOL_ID)")
	pf.StringVar(&a.flags.Endpoint, "endpoint", "", "user pool endpoint URL: the emulator, moto, a VPC endpoint (env COGAUTH_ENDPOINT)")
	pf.StringVar(&a.flags.IdentityEndpoint, "identity-endpoint", "", "identity pool endpoint URL (env COGAUTH_IDENTITY_ENDPOINT; default: --endpoint)")
	pf.StringVar(&a.flags.Domain, "domain", "", "hosted UI domain URL, e.g. https://myapp.auth.us-east-1.amazoncognito.com (env COGAUTH_DOMAIN; login --hosted-ui defaults to --endpoint, for the emulator)")
	pf.StringVar(&a.flags.Scopes, "scopes", "", "OAuth scopes login --hosted-ui asks for, comma-separated (env COGAUTH_SCOPES; default: all the app client allows)")
	pf.StringVar(&a.flags.Store, "store", "", "where sessions live: keyring, file or memory (env COGAUTH_STORE; default keyring)")
	pf.StringVar(&a.flags.RefreshOperation, "refresh-operation", "", "how refreshes go out: auto, GetTokensFromRefreshToken or InitiateAuth (env COGAUTH_REFRESH_OPERATION; default auto)")
	pf.StringVar(&a.flags.AmplifyConfig, "amplify-config", "", "Amplify amplify_outputs.json or aws-exports JSON to read settings from")
	pf.StringVar(&a.flags.Timeout, "timeout", "", "bound on each network step, e.g. 10s (env COGAUTH_TIMEOUT; default 30s)")
	pf.BoolVarP(&a.flags.Quiet, "quiet", "q", false, "no progress or informational messages on stderr (errors and prompts stay)")
	pf.BoolVar(&a.flags.Debug, "debug", false, "errors add the service's operation, exception, HTTP status and request ID (env COGAUTH_DEBUG=1); never a token, code or secret")

	_ = root.RegisterFlagCompletionFunc("profile", a.completeProfiles)
	_ = root.RegisterFlagCompletionFunc("refresh-operation", cobra.FixedCompletions([]string{"auto", "GetTokensFromRefreshToken", "InitiateAuth"}, cobra.ShellCompDirectiveNoFileComp))
	_ = root.RegisterFlagCompletionFunc("store", cobra.FixedCompletions([]string{config.StoreKeyring, config.StoreFile, config.StoreMemory}, cobra.ShellCompDirectiveNoFileComp))

	root.Version = a.Version
	if root.Version == "" {
		root.Version = "(devel)"
	}
	root.SetVersionTemplate(versionLine(root.Version) + "\n")
	// A command marked bounded is one network step as a whole: its context ends
	// after the timeout, so a stalled endpoint cannot hang it.
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if cmd.Annotations[annotBounded] == "" {
			return nil
		}
		_, _ = a.config() // the profile's timeout counts; an error shows in the command
		ctx, done := a.netStep(cmd.Context())
		a.cancel = done
		cmd.SetContext(ctx)
		return nil
	}

	root.AddCommand(
		newVersionCmd(a),
		newCompletionCmd(a, root),
		newDecodeCmd(a),
		newConfigureCmd(a),
	)
	addSessionCommands(a, root)
	addAccountCommands(a, root)
	return root
}

// Main runs the CLI with args (without the program name) and returns the exit code.
func Main(ctx context.Context, e env, args []string) int {
	a := &app{env: e}
	if a.Getenv == nil {
		a.Getenv = func(string) string { return "" }
	}
	if a.Clock == nil {
		a.Clock = clock.System{}
	}
	root := newRootCmd(a)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if a.cancel != nil {
		a.cancel()
	}
	if err == nil {
		return exitOK
	}
	var es *exitStatus
	if errors.As(err, &es) {
		return es.code
	}
	code := exitCode(err)
	if ctx.Err() != nil && code == exitError {
		// Ctrl-C or SIGTERM cut a step short: what failed is the interruption.
		code, err = exitInterrupts, errInterrupted
	}
	a.printError(cmd, humanError(err, a.cfg, a.timeout()), code)
	return code
}

// errorJSON is an error as a command run with -o json reports it, on stderr: the
// same words as the text, and the exit code; with --debug, what the service said.
type errorJSON struct {
	Error    string        `json:"error"`
	ExitCode int           `json:"exitCode"`
	Debug    *debugDetails `json:"debug,omitempty"`
}

// printError writes err on stderr: one line "cogauth: …", or under -o json one
// JSON object; --debug (COGAUTH_DEBUG=1) adds the operation, exception, HTTP
// status and request ID.
func (a *app) printError(cmd *cobra.Command, err error, code int) {
	// The libraries start their errors with their package's name; the user
	// needs the words after it.
	msg := oneLine(pkgPrefixRE.ReplaceAllString(err.Error(), "$1"))
	var dbg *debugDetails
	if a.debug() {
		dbg = debugOf(err)
	}
	if cmd != nil {
		if f := cmd.Flags().Lookup("output"); f != nil && f.Changed && f.Value.String() == "json" {
			_ = writeJSON(a.IO.ErrOut, errorJSON{Error: msg, ExitCode: code, Debug: dbg})
			return
		}
	}
	if dbg != nil {
		if d := dbg.String(); d != "" {
			msg += " [debug: " + d + "]"
		}
	}
	fmt.Fprintln(a.IO.ErrOut, "cogauth: "+msg)
}

// debug reports whether --debug or COGAUTH_DEBUG asks for the service's details
// in errors.
func (a *app) debug() bool {
	if a.flags.Debug {
		return true
	}
	v := strings.ToLower(a.Getenv("COGAUTH_DEBUG"))
	return v != "" && v != "0" && v != "false"
}

// exitCode maps an error to the documented exit codes.
func exitCode(err error) int {
	var ue *usageError
	var ce *config.UsageError
	var sf *startFailure
	switch {
	case errors.As(err, &sf):
		return sf.code
	case errors.As(err, &ue), errors.As(err, &ce), isCobraUsage(err):
		return exitUsage
	case errors.Is(err, errInterrupted):
		return exitInterrupts
	case signedOut(err), sessionEnded(err):
		return exitSignedOut
	}
	return exitError
}

// isCobraUsage recognises cobra's own argument errors, which are plain errors.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least", "requires at most", "invalid argument", "flag needs an argument", "if any flags in the group"} {
		if strings.HasPrefix(msg, p) || strings.Contains(msg, " "+p) {
			return true
		}
	}
	return false
}

// jwtLike matches anything shaped like a compact JWT. Errors from the libraries
// never hold tokens; this is the last line of defence for the one place the CLI
// prints errors it did not write.
var jwtLike = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`)

// oneLine makes an error message one line with no token in it.
func oneLine(s string) string {
	s = jwtLike.ReplaceAllString(s, "[token]")
	s = strings.Join(strings.Fields(s), " ")
	return s
}

func main() {
	ctx, stop := signalContext()
	defer stop()
	wd, _ := os.Getwd()
	home, _ := os.UserHomeDir()
	code := Main(ctx, env{
		IO:       IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr},
		Getenv:   os.Getenv,
		Environ:  os.Environ,
		WorkDir:  wd,
		UserHome: home,
		Version:  buildVersion(),
	}, os.Args[1:])
	stop()
	os.Exit(code)
}
