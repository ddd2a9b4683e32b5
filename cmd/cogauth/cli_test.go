package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	gokeyring "github.com/zalando/go-keyring"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/internal/config"
	"github.com/cogauth/cogauth/store/keyring"
)

// testPool is an emulator with one pool, one client and a few users.
type testPool struct {
	srv    *emulator.Server
	pool   string
	client string
	// identityPool is set by newIdentityTestPool.
	identityPool string
}

const (
	alicePW = "Alice-Passw0rd!"
	bobPW   = "Bob-Passw0rd!"
)

func newTestPool(t testing.TB, mutate func(*emulator.SeedUserPool)) *testPool {
	t.Helper()
	srv := emulator.NewServer(emulator.Options{})
	t.Cleanup(srv.Close)
	sp := emulator.SeedUserPool{
		Name:    "test",
		Clients: []emulator.SeedClient{{Name: "cli"}},
		Groups:  []emulator.SeedGroup{{Name: "admins"}, {Name: "readers"}},
		Users: []emulator.SeedUser{
			{Username: "alice", Password: alicePW, Groups: []string{"admins"},
				Attributes: map[string]string{"email": "alice@example.com", "email_verified": "true", "custom:team": "blue"}},
			{Username: "bob", Password: bobPW, Attributes: map[string]string{"email": "bob@example.com"}},
			{Username: "newbie", TemporaryPassword: "Temp-Passw0rd!"},
		},
	}
	if mutate != nil {
		mutate(&sp)
	}
	p, err := srv.CreateUserPool(sp)
	if err != nil {
		t.Fatal(err)
	}
	return &testPool{srv: srv, pool: p.ID, client: p.Clients["cli"].ID}
}

// cli runs commands in-process with one COGAUTH_HOME and one fake keyring, as a
// user's successive shell commands would.
type cli struct {
	t       testing.TB
	env     map[string]string
	keyring *memKeyring
	tty     bool
	clk     *offsetClock // moved with the emulator's clock
	// environ is the whole environment `exec` hands on; PATH only by default.
	environ []string
}

func newCLI(t testing.TB, p *testPool) *cli {
	c := &cli{t: t, env: map[string]string{"COGAUTH_HOME": filepath.Join(t.TempDir(), "home")}, keyring: &memKeyring{m: map[string]string{}},
		clk: &offsetClock{base: clock.System{}}}
	if p != nil {
		c.env["COGAUTH_ENDPOINT"] = p.srv.URL
		c.env["COGAUTH_USER_POOL_ID"] = p.pool
		c.env["COGAUTH_CLIENT_ID"] = p.client
		if p.identityPool != "" {
			c.env["COGAUTH_IDENTITY_POOL_ID"] = p.identityPool
		}
	}
	return c
}

type result struct {
	out, err string
	code     int
}

func (c *cli) run(stdin string, args ...string) result {
	c.t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), c.environment(strings.NewReader(stdin), &out, &errOut), args)
	return result{out.String(), errOut.String(), code}
}

// environment is what Main gets for one command of this user.
func (c *cli) environment(in io.Reader, out, errOut io.Writer) env {
	var kb keyring.Backend
	if c.keyring != nil {
		kb = c.keyring
	}
	environ := c.environ
	if environ == nil {
		environ = []string{"PATH=" + os.Getenv("PATH")}
	}
	return env{
		IO:       IOStreams{In: in, Out: out, ErrOut: errOut},
		Getenv:   func(k string) string { return c.env[k] },
		Environ:  func() []string { return environ },
		WorkDir:  c.t.TempDir(),
		UserHome: "/nonexistent",
		Version:  "v-test",
		Clock:    c.clk,
		keyring:  kb,
		isTTY:    func(any) bool { return c.tty },
	}
}

func (c *cli) ok(stdin string, args ...string) result {
	c.t.Helper()
	r := c.run(stdin, args...)
	if r.code != 0 {
		c.t.Fatalf("cogauth %s: exit %d, stderr %q", strings.Join(args, " "), r.code, r.err)
	}
	return r
}

// memKeyring is a working keyring, as on a desktop.
type memKeyring struct {
	mu sync.Mutex
	m  map[string]string
}

func (k *memKeyring) Get(s, u string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[s+"/"+u]
	if !ok {
		return "", gokeyring.ErrNotFound
	}
	return v, nil
}

func (k *memKeyring) Set(s, u, p string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.m[s+"/"+u] = p
	return nil
}

func (k *memKeyring) Delete(s, u string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.m[s+"/"+u]; !ok {
		return gokeyring.ErrNotFound
	}
	delete(k.m, s+"/"+u)
	return nil
}

var jwtRE = regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+`)

func TestSessionCommands(t *testing.T) {
	p := newTestPool(t, nil)
	c := newCLI(t, p)

	r := c.ok(alicePW+"\n", "login", "--username", "alice", "--password-stdin")
	if !strings.Contains(r.err, "Signed in as alice") {
		t.Fatalf("login said %q", r.err)
	}
	if len(c.keyring.m) == 0 {
		t.Fatal("the session did not go to the keyring")
	}

	access := strings.TrimSpace(c.ok("", "token").out)
	if !jwtRE.MatchString(access) || strings.Count(access, "\n") != 0 {
		t.Fatalf("token printed %q", access)
	}
	id := strings.TrimSpace(c.ok("", "token", "--id").out)
	if id == access || !jwtRE.MatchString(id) {
		t.Fatal("token --id did not print a different JWT")
	}
	if r := c.run("", "token", "--id", "--access"); r.code != exitUsage {
		t.Fatalf("--id --access: exit %d", r.code)
	}

	// decode reads the token from stdin and shows its claims.
	r = c.ok(access, "decode", "-o", "json")
	var dec struct {
		Header  map[string]any
		Payload map[string]any
	}
	if err := json.Unmarshal([]byte(r.out), &dec); err != nil {
		t.Fatal(err)
	}
	if dec.Payload["username"] != "alice" || dec.Payload["token_use"] != "access" || dec.Header["alg"] != "RS256" {
		t.Fatalf("decode: %+v", dec)
	}

	// session: tokens hidden unless asked for.
	r = c.ok("", "session", "-o", "json")
	if jwtRE.MatchString(r.out) {
		t.Fatal("session -o json printed a token without --show-tokens")
	}
	var sj sessionJSON
	if err := json.Unmarshal([]byte(r.out), &sj); err != nil {
		t.Fatal(err)
	}
	if sj.Username != "alice" || sj.UserSub != p.srv.UserSub(p.pool, "alice") || sj.Tokens.RefreshToken != "present" || sj.Tokens.IDToken == nil || sj.Profile != "default" {
		t.Fatalf("session json: %+v", sj)
	}
	r = c.ok("", "session", "--show-tokens", "-o", "json")
	if !strings.Contains(r.out, access) {
		t.Fatal("session --show-tokens does not show the access token")
	}
	r = c.ok("", "session")
	for _, want := range []string{"User:           alice", "expires 20", "(in 1 hour)", "Refresh token:  present"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("session text lacks %q:\n%s", want, r.out)
		}
	}

	r = c.ok("", "whoami", "-o", "json")
	var who whoamiJSON
	if err := json.Unmarshal([]byte(r.out), &who); err != nil {
		t.Fatal(err)
	}
	if who.Username != "alice" || who.Email != "alice@example.com" || !who.EmailVerified || len(who.Groups) != 1 || who.Groups[0] != "admins" || who.Custom["team"] != "blue" {
		t.Fatalf("whoami: %+v", who)
	}

	// refresh --force gets new tokens; plain refresh leaves fresh ones alone.
	r = c.ok("", "refresh")
	if !strings.Contains(r.err, "fresh") {
		t.Fatalf("refresh said %q", r.err)
	}
	c.ok("", "refresh", "--force")
	if now := strings.TrimSpace(c.ok("", "token").out); now == access {
		t.Fatal("refresh --force did not change the access token")
	}

	// Time passes beyond expiry: the next token is refreshed, not expired.
	before := strings.TrimSpace(c.ok("", "token").out)
	p.srv.Advance(2 * time.Hour)
	c.clk.Advance(2 * time.Hour)
	after := strings.TrimSpace(c.ok("", "token").out)
	if after == before {
		t.Fatal("token after expiry returned the expired token")
	}
	if r := c.ok("", "session"); !strings.Contains(r.out, "(in 1 hour)") {
		t.Fatalf("session after the automatic refresh:\n%s", r.out)
	}

	r = c.ok("", "logout")
	if !strings.Contains(r.err, "Signed out alice") {
		t.Fatalf("logout said %q", r.err)
	}
	for _, cmd := range [][]string{{"token"}, {"session"}, {"whoami"}, {"refresh"}} {
		r := c.run("", cmd...)
		if r.code != exitSignedOut || !strings.Contains(r.err, "not signed in") {
			t.Errorf("%v after logout: exit %d, %q; want 3", cmd, r.code, r.err)
		}
	}
	if r := c.ok("", "logout"); !strings.Contains(r.err, "Not signed in") {
		t.Fatalf("second logout said %q", r.err)
	}
}

func TestTwoProfilesSideBySide(t *testing.T) {
	p := newTestPool(t, nil)
	c := newCLI(t, p)
	// Profiles carry the pool; the environment only the endpoint.
	delete(c.env, "COGAUTH_USER_POOL_ID")
	delete(c.env, "COGAUTH_CLIENT_ID")
	c.env["COGAUTH_STORE"] = "file"
	for _, prof := range []string{"work", "home"} {
		c.ok("", "configure", "--profile", prof, "--user-pool-id", p.pool, "--client-id", p.client)
	}
	c.ok(alicePW+"\n", "--profile", "work", "login", "-u", "alice", "--password-stdin")
	c.ok(bobPW+"\n", "--profile", "home", "login", "-u", "bob", "--password-stdin")

	whoami := func(prof string) string {
		var w whoamiJSON
		if err := json.Unmarshal([]byte(c.ok("", "--profile", prof, "whoami", "-o", "json").out), &w); err != nil {
			t.Fatal(err)
		}
		return w.Username
	}
	if a, b := whoami("work"), whoami("home"); a != "alice" || b != "bob" {
		t.Fatalf("work is %q, home is %q", a, b)
	}
	c.env["COGAUTH_PROFILE"] = "home"
	if u := whoami("home"); u != "bob" {
		t.Fatalf("COGAUTH_PROFILE=home is %q", u)
	}
	delete(c.env, "COGAUTH_PROFILE")

	c.ok("", "--profile", "work", "refresh", "--force")
	c.ok("", "--profile", "work", "logout")
	if r := c.run("", "--profile", "work", "token"); r.code != exitSignedOut {
		t.Fatalf("work after logout: exit %d", r.code)
	}
	if u := whoami("home"); u != "bob" {
		t.Fatalf("home after work's logout is %q", u)
	}
	// The default profile never signed in, though both others share its client.
	if r := c.run("", "--user-pool-id", p.pool, "--client-id", p.client, "token"); r.code != exitSignedOut {
		t.Fatalf("default profile: exit %d, %q", r.code, r.err)
	}
	if r := c.run("", "--profile", "nope", "token"); r.code != exitUsage || !strings.Contains(r.err, `profile "nope" not found`) {
		t.Fatalf("unknown profile: %d %q", r.code, r.err)
	}
}

func TestLoginChallengesScripted(t *testing.T) {
	p := newTestPool(t, nil)
	c := newCLI(t, p)
	c.env["COGAUTH_STORE"] = "memory"

	// No terminal and no new password: the error names the flag and the variable.
	r := c.run("Temp-Passw0rd!\n", "login", "-u", "newbie", "--password-stdin")
	if r.code != exitUsage || !strings.Contains(r.err, "--new-password") || !strings.Contains(r.err, "COGAUTH_NEW_PASSWORD") {
		t.Fatalf("missing new password: exit %d, %q", r.code, r.err)
	}
	// No terminal and no password.
	r = c.run("", "login", "-u", "alice")
	if r.code != exitUsage || !strings.Contains(r.err, "--password-stdin") || !strings.Contains(r.err, "COGAUTH_PASSWORD") {
		t.Fatalf("missing password: exit %d, %q", r.code, r.err)
	}
	r = c.run("", "login")
	if r.code != exitUsage || !strings.Contains(r.err, "--username") {
		t.Fatalf("missing username: exit %d, %q", r.code, r.err)
	}

	c.env["COGAUTH_PASSWORD"] = "Temp-Passw0rd!"
	c.env["COGAUTH_NEW_PASSWORD"] = "Newbie-Passw0rd!"
	c.ok("", "login", "-u", "newbie")
	delete(c.env, "COGAUTH_NEW_PASSWORD")
	c.env["COGAUTH_PASSWORD"] = "Newbie-Passw0rd!"
	c.ok("", "login", "-u", "newbie", "--flow", "password")

	c.env["COGAUTH_PASSWORD"] = "wrong-Passw0rd!"
	r = c.run("", "login", "-u", "alice")
	if r.code != exitError || !strings.Contains(r.err, "incorrect username or password") || strings.Contains(r.err, "wrong-Passw0rd") {
		t.Fatalf("wrong password: exit %d, %q", r.code, r.err)
	}
	if r := c.run("", "login", "-u", "alice", "--flow", "magic"); r.code != exitUsage {
		t.Fatalf("bad flow: exit %d", r.code)
	}
}

// TestLoginPrompts drives the interactive prompts through a pipe that claims to be
// a terminal: new password with a required attribute, then TOTP set-up, then a TOTP
// challenge on the next sign-in.
func TestLoginPrompts(t *testing.T) {
	p := newTestPool(t, func(sp *emulator.SeedUserPool) { sp.MFA = "ON" })
	c := newCLI(t, p)
	c.env["COGAUTH_STORE"] = "file"
	c.tty = true

	// newbie: new password, then MFA set-up. The TOTP secret is shown on the
	// terminal; the test computes the code from it as an authenticator app would.
	pr, pw := io.Pipe()
	var out, errOut safeBuffer
	done := make(chan int)
	go func() {
		e := env{IO: IOStreams{In: pr, Out: &out, ErrOut: &errOut}, Getenv: func(k string) string { return c.env[k] },
			WorkDir: t.TempDir(), keyring: c.keyring, isTTY: func(any) bool { return true }}
		done <- Main(context.Background(), e, []string{"login"})
	}()
	answer := func(prompt, line string) {
		t.Helper()
		waitFor(t, &errOut, prompt)
		io.WriteString(pw, line+"\n")
	}
	answer("Username: ", "newbie")
	answer("Password: ", "Temp-Passw0rd!")
	answer("New password: ", "Newbie-Passw0rd!")
	answer("Repeat new password: ", "Newbie-Passw0rd!")
	waitFor(t, &errOut, "Code from the app: ")
	m := regexp.MustCompile(`Secret: ([A-Z2-7]+)`).FindStringSubmatch(errOut.String())
	if m == nil || !strings.Contains(errOut.String(), "otpauth://totp/cogauth:newbie?") {
		t.Fatalf("TOTP set-up did not show the secret and URI:\n%s", errOut.String())
	}
	code, err := emulator.TOTP(m[1], p.srv.Now())
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(pw, code+"\n")
	if rc := <-done; rc != 0 {
		t.Fatalf("interactive login: exit %d\n%s", rc, errOut.String())
	}
	if !strings.Contains(errOut.String(), "Signed in as newbie") {
		t.Fatalf("no success line:\n%s", errOut.String())
	}

	// Next sign-in: a TOTP challenge. Move past the used code's time step, as
	// Cognito refuses a code twice.
	p.srv.Advance(time.Minute)
	code, err = emulator.TOTP(p.srv.TOTPSecret(p.pool, "newbie"), p.srv.Now())
	if err != nil {
		t.Fatal(err)
	}
	c.tty = false
	// Without a terminal the TOTP step is kept pending (exit 0); a new sign-in
	// with the code given up front replaces it.
	r := c.run("Newbie-Passw0rd!\n", "login", "-u", "newbie", "--password-stdin")
	if r.code != 0 || !strings.Contains(r.err, "Finish with: cogauth login --profile default --code CODE") {
		t.Fatalf("TOTP without a terminal: exit %d, %q", r.code, r.err)
	}
	c.env["COGAUTH_MFA_CODE"] = code
	c.ok("Newbie-Passw0rd!\n", "login", "-u", "newbie", "--password-stdin")
	if u := strings.TrimSpace(c.ok("", "whoami").out); !strings.Contains(u, "newbie") {
		t.Fatalf("whoami after TOTP login: %q", u)
	}
}

// safeBuffer is a bytes.Buffer safe for a writer and a polling reader.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits until the output shows want (the prompt), polling: the writer is
// another goroutine doing network calls. It gives up after 10 seconds.
func waitFor(t *testing.T, b *safeBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(b.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q prompt; output so far:\n%s", want, b.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestImport(t *testing.T) {
	p := newTestPool(t, nil)
	c := newCLI(t, p)
	c.env["COGAUTH_STORE"] = "file"
	// Tokens from "another backend": a sign-in on a second CLI home.
	other := newCLI(t, p)
	other.env["COGAUTH_STORE"] = "file"
	other.ok(bobPW+"\n", "login", "-u", "bob", "--password-stdin")
	var sj sessionJSON
	json.Unmarshal([]byte(other.ok("", "session", "-o", "json", "--show-tokens").out), &sj)

	in, _ := json.Marshal(map[string]string{"accessToken": sj.Tokens.AccessToken.Token, "idToken": sj.Tokens.IDToken.Token, "refreshToken": sj.Tokens.RefreshToken})
	r := c.ok(string(in), "import")
	if !strings.Contains(r.err, "Imported the session of bob") {
		t.Fatalf("import said %q", r.err)
	}
	c.ok("", "refresh", "--force")
	if !strings.Contains(c.ok("", "whoami").out, "bob") {
		t.Fatal("whoami after import")
	}

	// Tokens of another pool are refused, without echoing them.
	p2 := newTestPool(t, nil)
	c2 := newCLI(t, p2)
	r = c2.run(string(in), "import")
	if r.code == 0 || jwtRE.MatchString(r.err) {
		t.Fatalf("foreign tokens: exit %d, %q", r.code, r.err)
	}
	if r := c2.run("not json", "import"); r.code != exitUsage {
		t.Fatalf("bad JSON: exit %d %q", r.code, r.err)
	}
}

func TestKeyringFallbackWarnsOnce(t *testing.T) {
	p := newTestPool(t, nil)
	c := newCLI(t, p)
	gokeyring.MockInitWithError(errBrokenKeyring)
	c.keyring = nil // the real go-keyring API, mocked to fail as on headless Linux
	t.Cleanup(gokeyring.MockInit)
	r := c.ok(alicePW+"\n", "login", "-u", "alice", "--password-stdin")
	if !strings.Contains(r.err, "warning: no OS keyring") {
		t.Fatalf("no fallback warning: %q", r.err)
	}
	path := config.SessionsPath(c.env["COGAUTH_HOME"])
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("fallback file: %v %v", fi, err)
	}
	r = c.ok("", "token")
	if strings.Contains(r.err, "warning") {
		t.Fatalf("warned twice: %q", r.err)
	}
}

type brokenKeyring struct{}

func (brokenKeyring) Error() string { return "org.freedesktop.DBus.Error.ServiceUnknown" }

var errBrokenKeyring error = brokenKeyring{}

func TestExitCodesAndErrors(t *testing.T) {
	p := newTestPool(t, nil)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"unknown command", nil, []string{"frobnicate"}, exitUsage, "unknown command"},
		{"unknown flag", nil, []string{"token", "--frob"}, exitUsage, "unknown flag"},
		{"extra argument", nil, []string{"whoami", "x"}, exitUsage, "unknown command"},
		{"missing pool", map[string]string{"COGAUTH_USER_POOL_ID": ""}, []string{"token"}, exitUsage, "--user-pool-id"},
		{"bad store", map[string]string{"COGAUTH_STORE": "redis"}, []string{"token"}, exitUsage, "unknown session store"},
		{"bad output", nil, []string{"session", "-o", "yaml"}, exitUsage, "unknown output format"},
		{"not signed in", nil, []string{"token"}, exitSignedOut, "not signed in"},
		{"not signed in, session", nil, []string{"session"}, exitSignedOut, "not signed in"},
		{"malformed token", nil, []string{"decode", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln.extra"}, exitError, "jwt"},
		{"no token", nil, []string{"decode"}, exitUsage, "no token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI(t, p)
			for k, v := range tt.env {
				c.env[k] = v
			}
			r := c.run("", tt.args...)
			if r.code != tt.code || !strings.Contains(r.err, tt.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", r.code, r.err, tt.code, tt.want)
			}
			if strings.Count(r.err, "\n") != 1 || !strings.HasPrefix(r.err, "cogauth: ") {
				t.Fatalf("error is not one line: %q", r.err)
			}
		})
	}
}

func TestOneLineRedactsTokens(t *testing.T) {
	tok := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
	got := oneLine("bad thing\nwith " + tok + "\tinside")
	if strings.Contains(got, "eyJ") || got != "bad thing with [token] inside" {
		t.Fatalf("oneLine = %q", got)
	}
}

func TestDecodeText(t *testing.T) {
	p := newTestPool(t, nil)
	c := newCLI(t, p)
	c.ok(alicePW+"\n", "login", "-u", "alice", "--password-stdin")
	id := strings.TrimSpace(c.ok("", "token", "--id").out)
	for _, args := range [][]string{{"decode", id}, {"decode", "-"}, {"decode"}} {
		r := c.ok("Bearer "+id+"\n", args...)
		for _, want := range []string{`"alg": "RS256"`, `"cognito:username": "alice"`, "Token use:  id", "Expires:    20", "(in 1 hour)", "Not verified"} {
			if !strings.Contains(r.out, want) {
				t.Errorf("%v: output lacks %q:\n%s", args, want, r.out)
			}
		}
		if strings.Contains(r.out, id) {
			t.Errorf("%v printed the token back", args)
		}
	}
}

func TestConfigureCommand(t *testing.T) {
	c := newCLI(t, nil)
	r := c.run("", "configure")
	if r.code != exitUsage || !strings.Contains(r.err, "nothing to configure") {
		t.Fatalf("configure without flags or terminal: %d %q", r.code, r.err)
	}
	c.ok("", "configure", "--profile", "dev", "--user-pool-id", "eu-west-1_Dev", "--client-id", "devc", "--client-secret", "s3cret")
	if r := c.run("", "configure", "--user-pool-id", "nopool"); r.code != exitUsage {
		t.Fatalf("bad pool accepted: %d", r.code)
	}
	// Interactive: the current values are the defaults; the secret is kept.
	c.tty = true
	c.ok("\n\nnewclient\n\n\n\n\nauth.example.com\nopenid email\nfile\n10s\n", "configure", "--profile", "dev")
	f, err := config.LoadFile(config.ConfigPath(c.env["COGAUTH_HOME"]))
	if err != nil {
		t.Fatal(err)
	}
	got := f.Profiles["dev"]
	want := config.Values{UserPoolID: "eu-west-1_Dev", ClientID: "newclient", ClientSecret: "s3cret", Domain: "https://auth.example.com", Scopes: "openid email", Store: "file", Timeout: "10s"}
	if got.Values != want {
		t.Fatalf("profile = %+v, want %+v", got.Values, want)
	}
	fi, err := os.Stat(config.ConfigPath(c.env["COGAUTH_HOME"]))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config.toml mode: %v %v", fi, err)
	}
}

func TestVersionAndCompletion(t *testing.T) {
	c := newCLI(t, nil)
	if r := c.ok("", "version"); !strings.HasPrefix(r.out, "cogauth v-test go") {
		t.Fatalf("version: %q", r.out)
	}
	for shell, want := range map[string]string{"bash": "__start_cogauth", "zsh": "#compdef cogauth", "fish": "complete -c cogauth", "powershell": "Register-ArgumentCompleter"} {
		if r := c.ok("", "completion", shell); !strings.Contains(r.out, want) {
			t.Errorf("completion %s lacks %q", shell, want)
		}
	}
	if r := c.run("", "completion", "tcsh"); r.code != exitUsage {
		t.Fatalf("completion tcsh: exit %d", r.code)
	}
}

func TestDemo(t *testing.T) {
	c := newCLI(t, nil)
	r := c.ok("", "demo")
	steps, next, ok := strings.Cut(r.out, "\nNext: ")
	lines := strings.Split(strings.TrimSpace(steps), "\n")
	if !ok || len(lines) != 10 || !strings.HasPrefix(lines[len(lines)-1], "Done in") || strings.Count(next, "\n  cogauth ") != 3 {
		t.Fatalf("demo output:\n%s", r.out)
	}
	for _, want := range []string{"SRP sign-in", "refreshed automatically (event token-refreshed)", "Forced refresh", "AWS credentials from the identity pool: identity us-east-1:", "access key ", "expire in 1 hour", "middleware verified the token of alice", "Signed out", "NotAuthorizedException"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if jwtRE.MatchString(r.out + r.err) {
		t.Fatal("the demo printed a token")
	}
}

func TestInWords(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	for d, want := range map[time.Duration]string{
		time.Hour - time.Second: "in 1 hour",
		90 * time.Second:        "in 2 minutes",
		-3 * time.Hour:          "3 hours ago",
		30 * time.Second:        "in 30 seconds",
		72 * time.Hour:          "in 3 days",
		0:                       "in less than a second",
	} {
		if got := inWords(now.Add(d), now); got != want {
			t.Errorf("inWords(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestRefreshForceReportsAPassingFailure: when the service fails for a passing
// reason, the session keeps its still-valid tokens (the failure policy) and
// `refresh --force` says the refresh did not go through, and why, rather than
// "Refreshed".
func TestRefreshForceReportsAPassingFailure(t *testing.T) {
	p := newTestPool(t, nil)
	c := newCLI(t, p)
	c.ok(alicePW+"\n", "login", "-u", "alice", "--password-stdin")
	before := strings.TrimSpace(c.ok("", "token").out)
	for _, op := range []string{"GetTokensFromRefreshToken", "InitiateAuth"} {
		p.srv.InjectFault(op, emulator.Fault{ErrName: "InternalErrorException", Message: "refresh on fire", Status: 500})
	}
	r := c.run("", "refresh", "--force")
	if r.code != exitError || !strings.Contains(r.err, "did not go through") || !strings.Contains(r.err, "refresh on fire") || strings.Contains(r.err, "Refreshed") {
		t.Fatalf("refresh --force while the service fails: exit %d, stderr %q", r.code, r.err)
	}
	if got := strings.TrimSpace(c.ok("", "token").out); got != before {
		t.Fatal("the still-valid token was not kept")
	}
	p.srv.ClearFaults()
	if r := c.ok("", "refresh", "--force"); !strings.Contains(r.err, "Refreshed") {
		t.Fatalf("refresh once the service is back: %q", r.err)
	}
}
