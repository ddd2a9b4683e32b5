package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/cogauth/cogauth/identity"
)

type execOptions struct {
	IO    IOStreams
	Guest bool
	Argv  []string
	// Environ is the parent environment the child's starts from.
	Environ []string
	creds   credsFunc
	// stopGrace is how long a child told to stop (SIGTERM) has before it is
	// killed; defaultStopGrace when zero.
	stopGrace time.Duration
}

func newExecCmd(a *app) *cobra.Command {
	o := &execOptions{}
	cmd := &cobra.Command{
		Use:   "exec [--guest] -- COMMAND [ARGS...]",
		Short: "Run a command with AWS credentials from the identity pool",
		Long: `Run COMMAND with the identity pool's AWS credentials in its environment
(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_CREDENTIAL_EXPIRATION,
AWS_REGION and AWS_DEFAULT_REGION). Variables that could make its AWS SDK pick other
credentials, another profile or another region (AWS_PROFILE, AWS_SECURITY_TOKEN,
AWS_ROLE_ARN, container credentials, ...) are removed. The exit code is the command's
own (128+N when signal N ended it).

  cogauth exec -- aws s3 ls s3://my-bucket

The credentials are fetched once, when the command starts; they last as long as the
identity pool gives them (an hour on Cognito). When cogauth is interrupted (Ctrl-C,
SIGTERM) the command gets SIGTERM, and is killed if it is still running ` +
			defaultStopGrace.String() + ` later.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.IO, o.Argv = a.IO, args
			// Only fetching the credentials is a network step; the command
			// runs as long as it runs.
			o.creds = func(ctx context.Context, guest bool) (identity.Credentials, string, error) {
				ctx, done := a.netStep(ctx)
				defer done()
				return a.awsCredentials(ctx, guest)
			}
			if a.Environ != nil {
				o.Environ = a.Environ()
			}
			return runExec(cmd.Context(), o)
		},
	}
	// Everything after the command name is the command's, flags included.
	cmd.Flags().SetInterspersed(false)
	cmd.Flags().BoolVar(&o.Guest, "guest", false, "unauthenticated (guest) credentials; no sign-in needed")
	return cmd
}

// exitStatus passes a child's exit code through Main, which prints nothing for it:
// the child has said what it had to say.
type exitStatus struct{ code int }

func (e *exitStatus) Error() string { return fmt.Sprintf("the command exited with status %d", e.code) }

func runExec(ctx context.Context, o *execOptions) error {
	if len(o.Argv) == 0 || o.Argv[0] == "" {
		return usagef("no command: cogauth exec -- COMMAND [ARGS...]")
	}
	c, region, err := o.creds(ctx, o.Guest)
	if err != nil {
		return err
	}
	// Ctrl-C or SIGTERM to cogauth ends ctx: Exec tells the child to stop as a
	// signal would (a terminal's Ctrl-C reaches it directly as well), and kills it
	// only if it has not stopped after the grace period.
	code, err := runWithCredentials(ctx, c, region, o.Argv, childOptions{
		Stdin: o.IO.In, Stdout: o.IO.Out, Stderr: o.IO.ErrOut,
		Env:       o.Environ,
		StopGrace: o.stopGrace,
	})
	if err != nil {
		return startError(o.Argv[0], err)
	}
	if code == 0 {
		return nil
	}
	return &exitStatus{code: code}
}

// Exit codes of a command that could not be started, as shells and env(1) use
// them.
const (
	exitNotFound  = 127 // no such program
	exitCannotRun = 126 // found, but not executable (permissions, not a program)
)

// startFailure is a command exec could not start; its exit code is 127 or 126.
type startFailure struct {
	code int
	msg  string
	err  error
}

func (e *startFailure) Error() string { return e.msg }
func (e *startFailure) Unwrap() error { return e.err }

// startError classifies why name did not start.
func startError(name string, err error) error {
	switch {
	case errors.Is(err, exec.ErrNotFound), errors.Is(err, fs.ErrNotExist):
		return &startFailure{exitNotFound, fmt.Sprintf("exec: %s: command not found", name), err}
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.ENOEXEC), errors.Is(err, exec.ErrDot), errors.Is(err, syscall.EISDIR):
		return &startFailure{exitCannotRun, fmt.Sprintf("exec: %s: cannot run it (%v)", name, innermost(err)), err}
	}
	return err
}

// innermost is the error at the bottom of err's chain ("permission denied").
func innermost(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}
