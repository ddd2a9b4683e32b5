package main

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/cogauth/cogauth/emulator"
)

// TestExitCodes: the documented exit codes, command by command: 0 done or
// pending, 1 error, 2 usage, 3 not signed in or the session ended (with the
// command that signs in), 130 interrupted.
func TestExitCodes(t *testing.T) {
	p := newTestPool(t, nil)
	c := newCLI(t, p)
	c.env["COGAUTH_STORE"] = "file"
	other := newCLI(t, p) // another machine of the same users
	other.env["COGAUTH_STORE"] = "file"
	busy, _ := busyPort(t)
	steps := []struct {
		who   *cli
		stdin string
		args  []string
		code  int
		say   string // in stderr
	}{
		{c, "", []string{"version"}, exitOK, ""},
		{c, "", []string{"token"}, exitSignedOut, "run cogauth login --profile default"},
		{c, "", []string{"whoami"}, exitSignedOut, "run cogauth login --profile default"},
		{c, "", []string{"status"}, exitSignedOut, ""},
		{c, "", []string{"token", "--bogus"}, exitUsage, "unknown flag: --bogus"},
		{c, "", []string{"token", "-o", "yaml"}, exitUsage, "unknown output format"},
		{c, "", []string{"login", "--flow", "magic"}, exitUsage, "unknown flow"},
		{c, "", []string{"login", "-u", "alice"}, exitUsage, "--password-stdin"},
		{c, "", []string{"--user-pool-id", "", "--client-id", "", "--profile", "nosuch", "token"}, exitUsage, `profile "nosuch" not found`},
		{c, "Wrong-Passw0rd!\n", []string{"login", "-u", "alice", "--password-stdin"}, exitError, "incorrect username or password"},
		{c, "", []string{"emulator", "--listen", busy}, exitError, "choose another with --listen"},
		{c, alicePW + "\n", []string{"login", "-u", "alice", "--password-stdin"}, exitOK, "Signed in as alice"},
		{c, "", []string{"account", "delete"}, exitUsage, "--yes"},
		// Signed out everywhere from another machine: the refresh is refused.
		{other, alicePW + "\n", []string{"login", "-u", "alice", "--password-stdin"}, exitOK, ""},
		{other, "", []string{"logout", "--global"}, exitOK, ""},
		{c, "", []string{"refresh", "--force"}, exitSignedOut, "its refresh token was revoked"},
		{c, "", []string{"token"}, exitSignedOut, "run cogauth login --profile default"},
		// The user deleted from another machine: this session ended.
		{c, bobPW + "\n", []string{"login", "-u", "bob", "--password-stdin"}, exitOK, ""},
		{other, bobPW + "\n", []string{"login", "-u", "bob", "--password-stdin"}, exitOK, ""},
		{other, "", []string{"account", "delete", "--yes"}, exitOK, "deleted user bob"},
		{c, "", []string{"attributes", "get"}, exitSignedOut, "run cogauth login --profile default"},
		{c, "", []string{"refresh", "--force"}, exitSignedOut, "run cogauth login --profile default"},
	}
	for _, s := range steps {
		r := s.who.run(s.stdin, s.args...)
		if r.code != s.code || !strings.Contains(r.out+r.err, s.say) {
			t.Fatalf("cogauth %s: exit %d, stderr %q; want exit %d and %q", strings.Join(s.args, " "), r.code, r.err, s.code, s.say)
		}
	}
	// 130: interrupted at a prompt (Ctrl-C cancels the context).
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c.tty = true
	pr, _ := io.Pipe()
	var errOut safeBuffer
	if code := Main(ctx, c.environment(pr, io.Discard, &errOut), []string{"login"}); code != exitInterrupts || !strings.Contains(errOut.String(), "cogauth: interrupted") {
		t.Fatalf("interrupted login: exit %d %q", code, errOut.String())
	}
}

// A session the service no longer knows (the emulator restarted without its
// state): every command that uses it exits 3 with the command that signs in.
func TestSessionUnknownAfterRestart(t *testing.T) {
	seed := emulator.SeedUserPool{Name: "p", ID: "us-east-1_Restart9", Clients: []emulator.SeedClient{{Name: "cli", ID: "restartclient9"}},
		Users: []emulator.SeedUser{{Username: "alice", Password: alicePW}}}
	first := emulator.NewServer(emulator.Options{})
	if _, err := first.CreateUserPool(seed); err != nil {
		t.Fatal(err)
	}
	c := newCLI(t, &testPool{srv: first, pool: seed.ID, client: "restartclient9"})
	c.env["COGAUTH_STORE"] = "file"
	c.ok(alicePW+"\n", "login", "-u", "alice", "--password-stdin")
	first.Close()
	second := emulator.NewServer(emulator.Options{})
	t.Cleanup(second.Close)
	if _, err := second.CreateUserPool(seed); err != nil {
		t.Fatal(err)
	}
	c.env["COGAUTH_ENDPOINT"] = second.URL
	for _, args := range [][]string{{"attributes", "get"}, {"refresh", "--force"}, {"token"}} {
		if r := c.run("", args...); r.code != exitSignedOut || !strings.Contains(r.err, "run cogauth login --profile default") {
			t.Fatalf("cogauth %s after the restart: exit %d %q", strings.Join(args, " "), r.code, r.err)
		}
	}
}
