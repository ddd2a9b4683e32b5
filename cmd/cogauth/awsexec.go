package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/cogauth/cogauth/identity"
)

// awsExecEnv returns parent with every credential-, profile- and region-selecting AWS
// variable removed and c's added (see Env).
func awsExecEnv(parent []string, c identity.Credentials, region string) []string {
	out := make([]string, 0, len(parent)+7)
	for _, kv := range parent {
		name, _, _ := strings.Cut(kv, "=")
		if isStaleAWSVar(name) {
			continue
		}
		out = append(out, kv)
	}
	return append(out, awsEnv(c, region)...)
}

// isStaleAWSVar tells whether a parent variable could make a child's AWS SDK use other
// credentials, another profile or another region than the ones Exec hands it.
// Endpoint and config-file settings stay: they say where to talk, not as whom.
func isStaleAWSVar(name string) bool {
	switch name {
	case "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
		"AWS_CREDENTIAL_EXPIRATION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION",
		"AWS_DEFAULT_REGION", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_ACCOUNT_ID":
		return true
	}
	return false
}

// defaultStopGrace is how long Exec gives a child told to stop before it kills it.
// Ten seconds is what docker stop and systemd-style supervisors give by default
// (systemd's own is 90): enough to flush and close, short enough that a user who
// pressed Ctrl-C is not left waiting.
const defaultStopGrace = 10 * time.Second

// childOptions configure Exec. Nil streams are the process's own.
type childOptions struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Env is the parent environment to start from; os.Environ() when nil.
	Env []string
	// Dir is the working directory; the current one when empty.
	Dir string
	// StopSignal is sent to the child when ctx ends, so it can clean up as it
	// would when a terminal or supervisor asks it to stop; SIGTERM when nil.
	// Where signals cannot be sent (Windows) the child is killed at once.
	StopSignal os.Signal
	// StopGrace is how long the child has, after StopSignal, before it is killed
	// and its output pipes closed; defaultStopGrace when zero. A negative grace
	// kills the child at once, sending no StopSignal.
	StopGrace time.Duration
}

// Exec runs argv[0] with argv[1:] and c in its environment (awsExecEnv), waits, and
// returns its exit code: the child's own, or 128+signal when a signal ended it, as
// shells report. err is set only when the command could not be run at all.
//
// When ctx ends the child is asked to stop with opts.StopSignal and killed if it
// has not exited after opts.StopGrace; the exit code is still the child's (143
// when SIGTERM ended it, 137 when it had to be killed, its own when it trapped the
// signal and exited).
func runWithCredentials(ctx context.Context, c identity.Credentials, region string, argv []string, opts childOptions) (int, error) {
	if len(argv) == 0 || argv[0] == "" {
		return 0, errors.New("exec: no command")
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return 0, errors.New("exec: the credentials have no keys")
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	opts.setUp(cmd, c, region)
	opts.stopGracefully(cmd)
	if err := cmd.Start(); err != nil {
		// The error names the program, never the environment.
		return 0, fmt.Errorf("identity: exec: %w", err)
	}
	werr := cmd.Wait()
	if cmd.ProcessState == nil {
		return 0, fmt.Errorf("identity: exec: %w", werr)
	}
	// Otherwise Wait's error only says what the status already tells (the exit
	// code, ctx's end) or that pipes were closed after the grace; the caller
	// asked for the child's status.
	return childExitCode(cmd.ProcessState), nil
}

// setUp gives cmd its environment (opts.Env, else this process's, with c and
// region: awsExecEnv), directory and standard streams (this process's unless
// set).
func (opts childOptions) setUp(cmd *exec.Cmd, c identity.Credentials, region string) {
	env := opts.Env
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = awsExecEnv(env, c, region)
	cmd.Dir = opts.Dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = opts.Stdin, opts.Stdout, opts.Stderr
	if cmd.Stdin == nil {
		cmd.Stdin = os.Stdin
	}
	if cmd.Stdout == nil {
		cmd.Stdout = os.Stdout
	}
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
}

// stopGracefully makes the end of cmd's context send opts.StopSignal (SIGTERM)
// and kill the child opts.StopGrace later; a negative grace leaves os/exec's
// immediate kill.
func (opts childOptions) stopGracefully(cmd *exec.Cmd) {
	sig, grace := opts.StopSignal, opts.StopGrace
	if sig == nil {
		sig = syscall.SIGTERM
	}
	if grace == 0 {
		grace = defaultStopGrace
	}
	if grace < 0 {
		return
	}
	// os/exec calls Cancel when ctx ends and kills the child (closing the
	// pipes it copies through) WaitDelay later if it is still running.
	cmd.Cancel = func() error {
		err := cmd.Process.Signal(sig)
		if err != nil && !errors.Is(err, os.ErrProcessDone) {
			return cmd.Process.Kill()
		}
		return err
	}
	cmd.WaitDelay = grace
}

// childExitCode is the status a shell would report for ps: the exit code, or 128+N
// when signal N ended the process.
func childExitCode(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// awsEnv returns the environment variables that hand c to AWS SDKs and tools, as
// NAME=value pairs: the keys, the session token, the expiration, and the region
// (both AWS_REGION and AWS_DEFAULT_REGION, since botocore reads only the latter)
// when region is not empty.
func awsEnv(c identity.Credentials, region string) []string {
	env := []string{
		"AWS_ACCESS_KEY_ID=" + c.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + c.SecretAccessKey.Reveal(),
	}
	if c.SessionToken != "" {
		env = append(env, "AWS_SESSION_TOKEN="+c.SessionToken.Reveal())
	}
	if !c.Expiration.IsZero() {
		env = append(env, "AWS_CREDENTIAL_EXPIRATION="+c.Expiration.UTC().Format(time.RFC3339))
	}
	if region != "" {
		env = append(env, "AWS_REGION="+region, "AWS_DEFAULT_REGION="+region)
	}
	return env
}

// awsEnvLines renders awsEnv as POSIX shell `export NAME='value'` lines, for
// `eval "$(cogauth credentials --format env)"`.
func awsEnvLines(c identity.Credentials, region string) string {
	var b strings.Builder
	for _, kv := range awsEnv(c, region) {
		name, value, _ := strings.Cut(kv, "=")
		b.WriteString("export ")
		b.WriteString(name)
		b.WriteByte('=')
		b.WriteString(shellQuote(value))
		b.WriteByte('\n')
	}
	return b.String()
}

// shellQuote quotes s for a POSIX shell: single quotes, with embedded ones closed,
// escaped and reopened. Credentials never hold quotes, but a region from a
// config file might hold anything.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
