package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/jwt"
)

// The tests here are issue 11's: what a newcomer meets when something goes wrong,
// and the conventions of gh, aws and gcloud. Each runs the built binary; TestBinary
// calls them with it.

// ptyRun is a cogauth started on a fresh pseudo-terminal, as in a user's shell:
// its own session, the terminal as its controlling one, so that Ctrl-C typed on
// it becomes SIGINT for the process.
type ptyRun struct {
	t    *testing.T
	cmd  *exec.Cmd
	term *ptyTerm
	tty  *os.File // the process's side, kept open to read its modes after exit
	done chan error
}

func startOnPTY(t *testing.T, b *binary, args ...string) *ptyRun {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ptmx.Close(); tty.Close() })
	cmd := exec.Command(b.path, args...)
	cmd.Env = b.env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	r := &ptyRun{t: t, cmd: cmd, term: &ptyTerm{t: t, f: ptmx}, tty: tty, done: make(chan error, 1)}
	go func() { _, _ = io.Copy(&r.term.out, ptmx) }()
	go func() { r.done <- cmd.Wait() }()
	return r
}

// echo reports whether the terminal echoes what is typed.
func (r *ptyRun) echo() bool {
	r.t.Helper()
	tio, err := unix.IoctlGetTermios(int(r.tty.Fd()), ioctlGetTermios)
	if err != nil {
		r.t.Fatal(err)
	}
	return tio.Lflag&unix.ECHO != 0
}

// interrupt types Ctrl-C and returns the exit code and how long the process took
// to end after it.
func (r *ptyRun) interrupt() (int, time.Duration) {
	r.t.Helper()
	start := time.Now()
	if _, err := r.term.f.Write([]byte{3}); err != nil {
		r.t.Fatal(err)
	}
	select {
	case err := <-r.done:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			r.t.Fatal(err)
		}
		return r.cmd.ProcessState.ExitCode(), time.Since(start)
	case <-time.After(10 * time.Second):
		r.t.Fatalf("Ctrl-C did not end cogauth:\n%s", r.term.out.String())
	}
	return 0, 0
}

func testBinaryCtrlC(t *testing.T, newBinary func(t *testing.T, endpoint, pool, client string) *binary) {
	// MFA is required: alice, who has none, is asked to set up an authenticator.
	p := newTestPool(t, func(sp *emulator.SeedUserPool) { sp.MFA = "ON" })
	b := newBinary(t, p.srv.URL, p.pool, p.client)
	for _, tc := range []struct {
		name    string
		args    []string
		answers [][2]string // prompt, answer
		prompt  string      // where Ctrl-C is typed
		noEcho  bool        // the prompt reads a secret
	}{
		{"username", []string{"login"}, nil, "Username: ", false},
		{"password", []string{"login", "-u", "alice"}, nil, "Password: ", true},
		{"new password", []string{"login", "-u", "newbie"}, [][2]string{{"Password: ", "Temp-Passw0rd!"}}, "New password: ", true},
		{"repeat new password", []string{"login", "-u", "newbie"}, [][2]string{{"Password: ", "Temp-Passw0rd!"}, {"New password: ", "Newbie-Passw0rd!"}}, "Repeat new password: ", true},
		{"authenticator code", []string{"login", "-u", "alice"}, [][2]string{{"Password: ", alicePW}}, "Code from the app: ", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := startOnPTY(t, b, tc.args...)
			for _, a := range tc.answers {
				r.term.answer(a[0], a[1])
			}
			r.term.waitFor(tc.prompt)
			// Echo is off before a secret's prompt is written: a password
			// typed the moment the prompt shows must not be echoed.
			if tc.noEcho && r.echo() {
				t.Fatal("the secret prompt is on the screen while the terminal still echoes what is typed")
			}
			code, took := r.interrupt()
			t.Logf("Ctrl-C at %q: exit %d after %v", tc.prompt, code, took.Round(time.Millisecond))
			if code != exitInterrupts || took > time.Second {
				t.Fatalf("Ctrl-C at %q: exit %d after %v, want 130 within a second\n%s", tc.prompt, code, took, r.term.out.String())
			}
			if !r.echo() {
				t.Fatalf("echo is still off after Ctrl-C at %q", tc.prompt)
			}
			if strings.Contains(r.term.out.String(), "empty username") {
				t.Fatalf("Ctrl-C read as an empty answer:\n%s", r.term.out.String())
			}
		})
	}
}

// stalledServer accepts connections and never answers, as a hung endpoint does;
// accepted counts the connections so far.
func stalledServer(t *testing.T) (endpoint string, accepted func() int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() { _, _ = io.Copy(io.Discard, c) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String(), func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(conns)
	}
}

func testBinaryStalledEndpoint(t *testing.T, newBinary func(t *testing.T, endpoint, pool, client string) *binary) {
	p := newTestPool(t, nil)
	b := newBinary(t, p.srv.URL, p.pool, p.client)
	b.ok(alicePW+"\n", "login", "-u", "alice", "--password-stdin")
	stalled, accepted := stalledServer(t)
	const timeout = 2 * time.Second
	for _, tc := range []struct {
		stdin string
		args  []string
	}{
		{"", []string{"refresh", "--force"}},
		{"", []string{"status"}},
		{alicePW + "\n", []string{"login", "-u", "alice", "--password-stdin"}},
		{"", []string{"logout"}},
	} {
		args := append([]string{"--endpoint", stalled, "--timeout", timeout.String()}, tc.args...)
		start := time.Now()
		r := b.run(tc.stdin, args...)
		took := time.Since(start)
		t.Logf("%s against a stalled endpoint, --timeout %v: exit %d after %v", tc.args[0], timeout, r.code, took.Round(time.Millisecond))
		msg := r.out + r.err
		if r.code == 0 || took > timeout+time.Second {
			t.Errorf("%s against a stalled endpoint: exit %d after %v, want an error within %v\n%s", tc.args[0], r.code, took, timeout+time.Second, msg)
		}
		if !strings.Contains(msg, "no answer from "+stalled+" within 2s") || !strings.Contains(msg, "--endpoint / COGAUTH_ENDPOINT") || !strings.Contains(msg, "--timeout") {
			t.Errorf("%s: the error does not name the endpoint and the settings:\n%s", tc.args[0], msg)
		}
		if strings.Contains(r.err, "Waiting for") {
			t.Errorf("%s: progress shown on a pipe: %q", tc.args[0], r.err)
		}
	}
	// The sign-out the service never confirmed still removed the local session.
	if r := b.run("", "token"); r.code != exitSignedOut {
		t.Fatalf("token after the unconfirmed logout: exit %d %q", r.code, r.err)
	}
	b.ok(alicePW+"\n", "login", "-u", "alice", "--password-stdin")
	// On a terminal, a step slower than a second says what it waits for; not
	// with --quiet.
	for _, quiet := range []bool{false, true} {
		args := []string{"--endpoint", stalled, "--timeout", timeout.String(), "refresh", "--force"}
		if quiet {
			args = append(args, "--quiet")
		}
		r := startOnPTY(t, b, args...)
		select {
		case <-r.done:
		case <-time.After(10 * time.Second):
			t.Fatal("refresh on a terminal did not end")
		}
		// The terminal's output is complete once the copy has drained it; the
		// error line comes last.
		r.term.waitFor("cogauth: ")
		shown := strings.Contains(r.term.out.String(), "Waiting for "+stalled+" (up to 2s)…")
		if shown == quiet {
			t.Errorf("quiet %v: progress shown %v:\n%s", quiet, shown, r.term.out.String())
		}
	}
	// Ctrl-C while a step waits on the network ends it at once: 130.
	before := accepted()
	cmd, _, errOut := b.start("--endpoint", stalled, "--timeout", "30s", "refresh", "--force")
	for deadline := time.Now().Add(10 * time.Second); accepted() == before; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("refresh never reached the stalled endpoint")
		}
	}
	start := time.Now()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupts || time.Since(start) > time.Second || !strings.Contains(errOut.String(), "cogauth: interrupted") {
		t.Fatalf("SIGINT during a network step: exit %d after %v: %q", code, time.Since(start), errOut.String())
	}
	// COGAUTH_TIMEOUT is the same setting.
	b.env = append(b.env, "COGAUTH_ENDPOINT="+stalled, "COGAUTH_TIMEOUT=1")
	start = time.Now()
	if r := b.run(alicePW+"\n", "login", "-u", "alice", "--password-stdin"); r.code != exitError || !strings.Contains(r.err, "within 1s") || time.Since(start) > 2*time.Second {
		t.Fatalf("login with COGAUTH_TIMEOUT=1: exit %d after %v: %q", r.code, time.Since(start), r.err)
	}
}

func testBinaryConventions(t *testing.T, newBinary func(t *testing.T, endpoint, pool, client string) *binary) {
	p := newTestPool(t, nil)
	b := newBinary(t, p.srv.URL, p.pool, p.client)

	// --version is `version`.
	v := b.ok("", "version").out
	if got := b.ok("", "--version").out; got != v || !strings.HasPrefix(v, "cogauth ") {
		t.Fatalf("--version %q, version %q", got, v)
	}
	var vj versionJSON
	decodeJSON(t, b.ok("", "version", "-o", "json").out, &vj)
	if vj.Version == "" || vj.Go == "" || !strings.Contains(v, vj.Version) {
		t.Fatalf("version -o json: %+v", vj)
	}

	// status before and after signing in; exit 3, then 0.
	r := b.run("", "status")
	if r.code != exitSignedOut || !strings.Contains(r.out, "Not signed in") {
		t.Fatalf("status signed out: exit %d %q %q", r.code, r.out, r.err)
	}
	var lj signInJSON
	decodeJSON(t, b.ok(alicePW+"\n", "login", "-u", "alice", "--password-stdin", "-o", "json").out, &lj)
	if lj.Username != "alice" || lj.Profile != "default" || lj.Source != "user-pool" || lj.AccessTokenExpiresAt.IsZero() {
		t.Fatalf("login -o json: %+v", lj)
	}
	p.srv.ResetCounters()
	var sj struct{ Profiles []statusJSON }
	decodeJSON(t, b.ok("", "status", "-o", "json").out, &sj)
	if len(sj.Profiles) != 1 || sj.Profiles[0].State != stateSignedIn || sj.Profiles[0].ServerCheck != checkAccepted ||
		sj.Profiles[0].Username != "alice" || sj.Profiles[0].AccessTokenExpiresAt == nil || !sj.Profiles[0].RefreshToken {
		t.Fatalf("status -o json: %+v", sj)
	}
	if n := p.srv.Requests("GetUser"); n != 1 {
		t.Fatalf("status made %d GetUser calls, want 1", n)
	}
	if r := b.ok("", "status"); !strings.Contains(r.out, "Signed in as alice") || !strings.Contains(r.out, "Server check:  accepted") {
		t.Fatalf("status: %q", r.out)
	}

	// token, refresh, whoami, session, profiles: JSON with the documented names.
	var tj tokenJSONOut
	decodeJSON(t, b.ok("", "token", "-o", "json").out, &tj)
	if tj.TokenUse != "access" || !jwtRE.MatchString(tj.Token) || tj.Username != "alice" {
		t.Fatalf("token -o json: %+v", tj)
	}
	if bare := strings.TrimSpace(b.ok("", "token").out); bare != tj.Token {
		t.Fatal("token without -o is not the bare token")
	}
	var rj refreshJSON
	decodeJSON(t, b.ok("", "refresh", "--force", "-o", "json").out, &rj)
	if !rj.Refreshed || rj.Username != "alice" {
		t.Fatalf("refresh -o json: %+v", rj)
	}
	var pj struct{ Profiles []profileJSON }
	decodeJSON(t, b.ok("", "profiles", "-o", "json").out, &pj)
	if len(pj.Profiles) != 1 || !pj.Profiles[0].SignedIn || pj.Profiles[0].Username != "alice" || !pj.Profiles[0].Current {
		t.Fatalf("profiles -o json: %+v", pj)
	}
	for _, args := range [][]string{{"whoami"}, {"session"}, {"configure", "list"}, {"verify", tj.Token}} {
		out := b.ok("", append(args, "-o", "json")...).out
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Errorf("%s -o json is not JSON: %v\n%s", args[0], err, out)
		}
	}
	if r := b.run("", "token", "-o", "yaml"); r.code != exitUsage {
		t.Fatalf("-o yaml: exit %d", r.code)
	}

	// The server ends the session (GlobalSignOut elsewhere): status says so, 3.
	cc, err := cognito.New(cognito.Options{UserPoolID: p.pool, ClientID: p.client, Endpoint: p.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := cc.GlobalSignOut(context.Background(), jwt.Secret(tj.Token)); err != nil {
		t.Fatal(err)
	}
	if r := b.run("", "status"); r.code != exitSignedOut || !strings.Contains(r.out, "no longer accepts the session") {
		t.Fatalf("status after a global sign-out elsewhere: exit %d %q", r.code, r.out)
	}
	var lo logoutJSON
	decodeJSON(t, b.ok("", "logout", "-o", "json").out, &lo)
	if !lo.SignedOut || lo.Username != "alice" {
		t.Fatalf("logout -o json: %+v", lo)
	}

	// Profiles: listed, completed, deleted.
	b.ok("", "configure", "--profile", "dev", "--user-pool-id", p.pool, "--client-id", p.client, "--endpoint", p.srv.URL)
	b.ok("", "configure", "--profile", "prod", "--user-pool-id", "eu-west-1_Prod", "--client-id", "prodclient")
	if r := b.ok("", "profiles"); !strings.Contains(r.out, "dev") || !strings.Contains(r.out, "prod") || !strings.Contains(r.out, "* default") {
		t.Fatalf("profiles: %q", r.out)
	}
	if got := completions(t, b, "token", "--profile", ""); strings.Join(got, ",") != "default,dev,prod" {
		t.Fatalf("completion of --profile: %q", got)
	}
	if got := completions(t, b, "status", "--profile", "d"); strings.Join(got, ",") != "default,dev" {
		t.Fatalf("completion of --profile d: %q", got)
	}
	for flag, want := range map[string]string{
		"--flow": "srp,password,custom,user-auth", "--challenge": "email-otp,sms-otp,password,password-srp", "--store": "keyring,file,memory", "-o": "text,json",
	} {
		if got := completions(t, b, "login", flag, ""); strings.Join(got, ",") != want {
			t.Errorf("completion of login %s: %q, want %s", flag, got, want)
		}
	}
	if got := completions(t, b, "credentials", "--format", ""); strings.Join(got, ",") != "process,env,json" {
		t.Errorf("completion of credentials --format: %q", got)
	}
	if got := completions(t, b, "configure", "delete", ""); strings.Join(got, ",") != "default,dev,prod" {
		t.Errorf("completion of configure delete: %q", got)
	}
	b.ok(alicePW+"\n", "--profile", "dev", "login", "-u", "alice", "--password-stdin")
	if r := b.run("", "configure", "delete", "dev"); r.code != exitError || !strings.Contains(r.err, "logout --profile dev") {
		t.Fatalf("delete of a signed-in profile: exit %d %q", r.code, r.err)
	}
	b.ok("", "configure", "delete", "prod")
	if r := b.ok("", "configure", "list"); strings.Contains(r.out, "prod") || !strings.Contains(r.out, "signed in as alice") {
		t.Fatalf("configure list after delete: %q", r.out)
	}
	if r := b.run("", "configure", "delete", "nosuch"); r.code != exitUsage {
		t.Fatalf("delete of a missing profile: exit %d %q", r.code, r.err)
	}

	// exec: 127 for a missing program, 126 for one that cannot run.
	notExec := filepath.Join(t.TempDir(), "tool")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ip := newIdentityTestPool(t, true)
	eb := newBinary(t, ip.srv.URL, ip.pool, ip.client)
	eb.env = append(eb.env, "COGAUTH_IDENTITY_POOL_ID="+ip.identityPool)
	if r := eb.run("", "exec", "--guest", "--", "no-such-program-cogauth"); r.code != 127 || !strings.Contains(r.err, "command not found") {
		t.Fatalf("exec of a missing program: exit %d %q", r.code, r.err)
	}
	if r := eb.run("", "exec", "--guest", "--", notExec); r.code != 126 || !strings.Contains(r.err, "permission denied") {
		t.Fatalf("exec of a file that cannot run: exit %d %q", r.code, r.err)
	}
}

func testBinaryErrors(t *testing.T, newBinary func(t *testing.T, endpoint, pool, client string) *binary) {
	p := newTestPool(t, nil)
	sc, err := p.srv.CreateUserPoolClient(p.pool, emulator.SeedClient{Name: "secret", Secret: "the-secret"})
	if err != nil {
		t.Fatal(err)
	}
	b := newBinary(t, "http://127.0.0.1:1", p.pool, p.client)
	r := b.run(alicePW+"\n", "login", "-u", "alice", "--password-stdin")
	if want := "cogauth: cannot reach http://127.0.0.1:1 (connection refused): check --endpoint / COGAUTH_ENDPOINT\n"; r.err != want || r.code != exitError {
		t.Fatalf("connection refused: exit %d %q, want %q", r.code, r.err, want)
	}
	b = newBinary(t, p.srv.URL, p.pool, sc.ID)
	if r := b.run(alicePW+"\n", "login", "-u", "alice", "--password-stdin"); r.code != exitError || !strings.Contains(r.err, "--client-secret") {
		t.Fatalf("a client with a secret, none given: exit %d %q", r.code, r.err)
	}
	if r := b.run(alicePW+"\n", "--client-secret", "wrong", "login", "-u", "alice", "--password-stdin"); r.code != exitError || !strings.Contains(r.err, "check --client-secret") {
		t.Fatalf("a wrong client secret: exit %d %q", r.code, r.err)
	}
	b.ok(alicePW+"\n", "--client-secret", "the-secret", "login", "-u", "alice", "--password-stdin")
}

// completions asks the binary for shell completions, as the scripts do.
func completions(t *testing.T, b *binary, args ...string) []string {
	t.Helper()
	r := b.ok("", append([]string{"__complete"}, args...)...)
	var out []string
	sc := bufio.NewScanner(strings.NewReader(r.out))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, ":") {
			break
		}
		name, _, _ := strings.Cut(line, "\t")
		out = append(out, name)
	}
	return out
}

func decodeJSON(t *testing.T, s string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%v in %s", err, s)
	}
}

func testBinaryPasteBack(t *testing.T, newBinary func(t *testing.T, endpoint, pool, client string) *binary) {
	p := newTestPool(t, nil)
	b := newBinary(t, p.srv.URL, p.pool, p.client)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// login prints the URL; the "browser" elsewhere signs in and ends at the
	// redirect, which never reaches this machine's receiver: the user pastes it.
	paste := func(mangle func(string) string) result {
		t.Helper()
		cmd := exec.CommandContext(ctx, b.path, "login", "--hosted-ui", "--no-browser")
		cmd.Env = b.env
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		var out, errOut safeBuffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, &errOut, "paste it here")
		u := authorizeRE.FindString(errOut.String())
		redirect, err := signInRedirect(ctx, u, "alice", alicePW)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(stdin, "not a URL")
		waitFor(t, &errOut, "not the redirect URL of this sign-in")
		fmt.Fprintln(stdin, mangle(redirect))
		err = cmd.Wait()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return result{out.String(), errOut.String(), cmd.ProcessState.ExitCode()}
	}
	// Another sign-in's answer (its state) is refused, and nothing is stored.
	r := paste(func(s string) string {
		u, _ := url.Parse(s)
		q := u.Query()
		q.Set("state", "forged")
		u.RawQuery = q.Encode()
		return u.String()
	})
	if r.code != exitError || !strings.Contains(r.err, "state") {
		t.Fatalf("a pasted redirect with another state: exit %d %q", r.code, r.err)
	}
	if r := b.run("", "token"); r.code != exitSignedOut {
		t.Fatalf("token after the refused paste: exit %d", r.code)
	}
	r = paste(func(s string) string { return "  " + s + "  " })
	if r.code != 0 || !strings.Contains(r.err, "Signed in as alice through the hosted UI") {
		t.Fatalf("pasted redirect: exit %d %q", r.code, r.err)
	}
	if tok := strings.TrimSpace(b.ok("", "token").out); !jwtRE.MatchString(tok) {
		t.Fatalf("token after the paste-back: %q", tok)
	}
}

// signInRedirect is a browser on another machine: it opens the sign-in URL, fills
// in the emulator's form, and returns the URL it is sent to next (the CLI's
// loopback callback, which it cannot reach), without following it.
func signInRedirect(ctx context.Context, signInURL, user, password string) (string, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return "", err
	}
	var last string
	browser := &http.Client{Jar: jar, Timeout: 20 * time.Second, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasSuffix(req.URL.Path, "/callback") {
			last = req.URL.String()
			return http.ErrUseLastResponse
		}
		return nil
	}}
	get, err := http.NewRequestWithContext(ctx, http.MethodGet, signInURL, nil)
	if err != nil {
		return "", err
	}
	resp, err := browser.Do(get)
	if err != nil {
		return "", err
	}
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("sign-in page: %s %v", resp.Status, err)
	}
	form := url.Values{"username": {user}, "password": {password}}
	for _, m := range hiddenInputRE.FindAllStringSubmatch(string(page), -1) {
		form.Add(m[1], html.UnescapeString(m[2]))
	}
	action := *resp.Request.URL
	action.RawQuery = ""
	post, err := http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err = browser.Do(post); err != nil {
		return "", err
	}
	resp.Body.Close()
	if last == "" {
		if loc := resp.Header.Get("Location"); strings.Contains(loc, "/callback") {
			last = loc
		}
	}
	if last == "" {
		return "", fmt.Errorf("the sign-in did not redirect to the callback (%s)", resp.Status)
	}
	return last, nil
}

// testBinaryDemoNextStep runs the three commands the demo ends with, as printed
// (on another port), and signs in on a terminal with the password it names.
func testBinaryDemoNextStep(t *testing.T, b *binary) {
	out := b.ok("", "demo").out
	var cmds [][]string
	password := ""
	for _, line := range strings.Split(out, "\n") {
		rest, ok := strings.CutPrefix(line, "  cogauth ")
		if !ok {
			continue
		}
		if i := strings.Index(rest, "# password: "); i >= 0 {
			password = strings.TrimSpace(rest[i+len("# password: "):])
			rest = rest[:i]
		}
		cmds = append(cmds, strings.Fields(strings.TrimSuffix(strings.TrimSpace(rest), "&")))
	}
	if len(cmds) != 3 || password == "" {
		t.Fatalf("the demo does not end with three commands and a password:\n%s", out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	fix := func(args []string) []string {
		out := make([]string, len(args))
		for i, a := range args {
			a = strings.ReplaceAll(a, "127.0.0.1:9229", fmt.Sprintf("127.0.0.1:%d", port))
			if a == "examples/local-seed.json" {
				a = filepath.Join(root, a)
			}
			out[i] = a
		}
		return out
	}
	emu := fix(cmds[0])
	if emu[0] != "emulator" {
		t.Fatalf("first command %q", cmds[0])
	}
	_, emuOut, _ := b.start(append(emu, "--listen", fmt.Sprintf("127.0.0.1:%d", port))...)
	waitFor(t, emuOut, "Cognito emulator listening")
	b.ok("", fix(cmds[1])...)
	r := startOnPTY(t, b, fix(cmds[2])...)
	r.term.answer("Password: ", password)
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(cmds[2], " "), err, r.term.out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("login did not finish:\n%s", r.term.out.String())
	}
	if r := b.ok("", "status", "--profile", "local"); !strings.Contains(r.out, "Signed in as alice") {
		t.Fatalf("status after the next step: %q", r.out)
	}
}
