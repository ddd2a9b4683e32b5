package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cogauth/cogauth/emulator"
)

func TestCheckLoopback(t *testing.T) {
	for _, tt := range []struct {
		addr  string
		allow bool
		ok    bool
	}{
		{"127.0.0.1:9229", false, true},
		{"[::1]:9229", false, true},
		{"localhost:0", false, true},
		{"0.0.0.0:9229", false, false},
		{":9229", false, false},
		{"10.1.2.3:9229", false, false},
		{"0.0.0.0:9229", true, true},
		{"no-port", true, false},
	} {
		err := checkLoopback(tt.addr, tt.allow, "emulator")
		if (err == nil) != tt.ok {
			t.Errorf("checkLoopback(%q, %v) = %v", tt.addr, tt.allow, err)
		}
		if err != nil && exitCode(err) != exitUsage {
			t.Errorf("%q: exit code %d, want usage", tt.addr, exitCode(err))
		}
	}
}

func TestEmulatorCommand(t *testing.T) {
	dir := t.TempDir()
	seed := filepath.Join(dir, "seed.json")
	os.WriteFile(seed, []byte(`{"userPools":[{"name":"dev","id":"us-east-1_Dev","clients":[{"name":"web","id":"webclient"}],
		"users":[{"username":"dana","password":"Dana-Passw0rd!"}]}]}`), 0o600)
	state := filepath.Join(dir, "state.json")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut bytes.Buffer
	done := make(chan error, 1)
	ready := make(chan *emulator.Server, 1)
	go func() {
		done <- runEmulator(ctx, &emulatorOptions{IO: IOStreams{Out: &out, ErrOut: &errOut}, Listen: "127.0.0.1:0",
			SeedFile: seed, StateFile: state, ready: func(s *emulator.Server) { ready <- s }})
	}()
	var srv *emulator.Server
	select {
	case srv = <-ready:
	case err := <-done:
		t.Fatalf("emulator did not start: %v", err)
	}
	for _, want := range []string{"listening on " + srv.URL, "user pool dev: us-east-1_Dev", "app client web: webclient"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	// The CLI signs in against it.
	c := newCLI(t, &testPool{srv: srv, pool: "us-east-1_Dev", client: "webclient"})
	c.env["COGAUTH_STORE"] = "memory"
	c.ok("Dana-Passw0rd!\n", "login", "-u", "dana", "--password-stdin")

	cancel() // SIGINT
	if err := <-done; err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, err := os.Stat(state); err != nil {
		t.Fatalf("state file not written on stop: %v", err)
	}
	if r := newCLI(t, nil).run("", "emulator", "--listen", "0.0.0.0:0"); r.code != exitUsage || !strings.Contains(r.err, "--allow-remote to expose the emulator") {
		t.Fatalf("non-loopback: exit %d %q", r.code, r.err)
	}
}
