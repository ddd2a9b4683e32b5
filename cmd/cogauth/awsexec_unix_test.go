//go:build unix

package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// readyWriter collects a child's output and closes ready once the child has
// printed "ready", i.e. has set up its traps.
type readyWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	once  sync.Once
	ready chan struct{}
}

func (w *readyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if strings.Contains(w.buf.String(), "ready\n") {
		w.once.Do(func() { close(w.ready) })
	}
	return n, err
}

func (w *readyWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestExecStopsChildWhenCtxEnds: cancelling ctx asks the child to stop with the
// stop signal, kills it only after the grace period, and reports the status the
// child ended with.
func TestExecStopsChildWhenCtxEnds(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	// The loops sleep in short steps: sh runs a trap only between commands.
	for _, tc := range []struct {
		name   string
		script string
		opts   childOptions
		code   int
		out    string
	}{
		{
			name:   "trapped SIGTERM: the child cleans up and picks its code",
			script: `trap 'echo cleaned up; exit 42' TERM; echo ready; while :; do sleep 0.05; done`,
			opts:   childOptions{StopGrace: time.Minute},
			code:   42, out: "ready\ncleaned up\n",
		},
		{
			name:   "default: SIGTERM ends the child",
			script: `echo ready; exec sleep 60`,
			code:   128 + int(syscall.SIGTERM), out: "ready\n",
		},
		{
			name:   "ignored SIGTERM: killed after the grace period",
			script: `trap '' TERM; echo ready; while :; do sleep 0.05; done`,
			opts:   childOptions{StopGrace: 200 * time.Millisecond},
			code:   128 + int(syscall.SIGKILL), out: "ready\n",
		},
		{
			name:   "another stop signal",
			script: `trap 'echo hung up; exit 3' HUP; trap 'echo wrong signal; exit 4' TERM; echo ready; while :; do sleep 0.05; done`,
			opts:   childOptions{StopSignal: syscall.SIGHUP, StopGrace: time.Minute},
			code:   3, out: "ready\nhung up\n",
		},
		{
			name:   "negative grace: killed at once, no signal to trap",
			script: `trap 'echo trapped; exit 42' TERM; echo ready; while :; do sleep 0.05; done`,
			opts:   childOptions{StopGrace: -1},
			code:   128 + int(syscall.SIGKILL), out: "ready\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := &readyWriter{ready: make(chan struct{})}
			opts := tc.opts
			opts.Env, opts.Stdin, opts.Stdout, opts.Stderr = []string{"PATH=" + os.Getenv("PATH")}, strings.NewReader(""), out, out
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			type result struct {
				code int
				err  error
			}
			done := make(chan result, 1)
			go func() {
				code, err := runWithCredentials(ctx, execTestCreds(), "us-west-2", []string{sh, "-c", tc.script}, opts)
				done <- result{code, err}
			}()
			select {
			case <-out.ready:
			case r := <-done:
				t.Fatalf("the child ended before it was ready: exit %d, %v, output %q", r.code, r.err, out.String())
			}
			cancel()
			r := <-done
			if r.err != nil {
				t.Fatal(r.err)
			}
			if r.code != tc.code || out.String() != tc.out {
				t.Fatalf("exit %d, output %q; want %d, %q", r.code, out.String(), tc.code, tc.out)
			}
		})
	}
}

// TestExecCancelledBeforeStart: a ctx that has already ended runs nothing.
func TestExecCancelledBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	_, err := runWithCredentials(ctx, execTestCreds(), "", []string{"sh", "-c", "echo ran"}, childOptions{Stdout: &out, Env: []string{}})
	if err == nil || out.Len() != 0 {
		t.Fatalf("err %v, output %q; want an error and nothing run", err, out.String())
	}
}

// TestExecInheritsProcessEnvironment: with no Env the child starts from the
// process's environment, still without its stale AWS variables.
func TestExecInheritsProcessEnvironment(t *testing.T) {
	t.Setenv("COGAUTH_EXEC_TEST", "inherited")
	t.Setenv("AWS_PROFILE", "stale")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "stale")
	var out bytes.Buffer
	code, err := runWithCredentials(context.Background(), execTestCreds(), "eu-west-1",
		[]string{"sh", "-c", `printf '%s %s %s' "$COGAUTH_EXEC_TEST" "${AWS_PROFILE-unset}" "$AWS_SECRET_ACCESS_KEY"`},
		childOptions{Stdout: &out, Stdin: strings.NewReader("")})
	if err != nil || code != 0 {
		t.Fatalf("exit %d, %v", code, err)
	}
	if want := "inherited unset " + execTestSecret; out.String() != want {
		t.Fatalf("child saw %q, want %q", out.String(), want)
	}
}
