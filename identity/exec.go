package identity

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// ExecEnv returns parent with every credential-, profile- and region-selecting AWS
// variable removed and c's added (see Env).
func ExecEnv(parent []string, c Credentials, region string) []string {
	out := make([]string, 0, len(parent)+7)
	for _, kv := range parent {
		name, _, _ := strings.Cut(kv, "=")
		if isStale(name) {
			continue
		}
		out = append(out, kv)
	}
	return append(out, Env(c, region)...)
}

// isStale tells whether a parent variable could make a child's AWS SDK use other
// credentials, another profile or another region than the ones Exec hands it.
// Endpoint and config-file settings stay: they say where to talk, not as whom.
func isStale(name string) bool {
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

// ExecOptions configure Exec. Nil streams are the process's own.
type ExecOptions struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Env is the parent environment to start from; os.Environ() when nil.
	Env []string
	// Dir is the working directory; the current one when empty.
	Dir string
}

// Exec runs argv[0] with argv[1:] and c in its environment (ExecEnv), waits, and
// returns its exit code: the child's own, or 128+signal when a signal ended it, as
// shells report. err is set only when the command could not be run at all.
// Cancelling ctx kills the child.
func Exec(ctx context.Context, c Credentials, region string, argv []string, opts ExecOptions) (int, error) {
	if len(argv) == 0 || argv[0] == "" {
		return 0, errors.New("identity: exec: no command")
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return 0, fmt.Errorf("identity: exec: %w", errNoKeys)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	env := opts.Env
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = ExecEnv(env, c, region)
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
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ee.ExitCode(), nil
	default:
		// The error names the program, never the environment.
		return 0, fmt.Errorf("identity: exec: %w", err)
	}
}
