package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/identity"
	"github.com/cogauth/cogauth/internal/peers"
)

// binary runs the built cogauth with a clean environment of its own.
type binary struct {
	t    *testing.T
	path string
	env  []string
}

func (b *binary) run(stdin string, args ...string) result {
	b.t.Helper()
	cmd := exec.Command(b.path, args...)
	cmd.Env = b.env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		b.t.Fatal(err)
	}
	return result{out.String(), errOut.String(), code}
}

// start runs cogauth in the background, for commands that run until signalled; the
// process is killed if the test ends first.
func (b *binary) start(args ...string) (cmd *exec.Cmd, out, errOut *safeBuffer) {
	b.t.Helper()
	cmd = exec.Command(b.path, args...)
	cmd.Env = b.env
	out, errOut = &safeBuffer{}, &safeBuffer{}
	cmd.Stdout, cmd.Stderr = out, errOut
	if err := cmd.Start(); err != nil {
		b.t.Fatal(err)
	}
	// Kill answers os.ErrProcessDone for one the test has already waited for.
	b.t.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd, out, errOut
}

func (b *binary) ok(stdin string, args ...string) result {
	b.t.Helper()
	r := b.run(stdin, args...)
	if r.code != 0 {
		b.t.Fatalf("cogauth %s: exit %d, stderr %q", strings.Join(args, " "), r.code, r.err)
	}
	return r
}

// TestBinary builds cogauth once and runs it as a user would.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	path := filepath.Join(t.TempDir(), "cogauth")
	build := exec.Command("go", "build", "-o", path, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	newBinary := func(t *testing.T, endpoint, pool, client string) *binary {
		return &binary{t: t, path: path, env: []string{
			"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
			"COGAUTH_HOME=" + filepath.Join(t.TempDir(), "home"), "COGAUTH_STORE=file",
			"COGAUTH_ENDPOINT=" + endpoint, "COGAUTH_USER_POOL_ID=" + pool, "COGAUTH_CLIENT_ID=" + client,
		}}
	}

	t.Run("ctrl-c at prompts", func(t *testing.T) { testBinaryCtrlC(t, newBinary) })
	t.Run("stalled endpoint", func(t *testing.T) { testBinaryStalledEndpoint(t, newBinary) })
	t.Run("conventions", func(t *testing.T) { testBinaryConventions(t, newBinary) })
	t.Run("errors", func(t *testing.T) { testBinaryErrors(t, newBinary) })
	t.Run("paste-back", func(t *testing.T) { testBinaryPasteBack(t, newBinary) })
	t.Run("demo next step", func(t *testing.T) {
		testBinaryDemoNextStep(t, &binary{t: t, path: path, env: []string{
			"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "COGAUTH_HOME=" + filepath.Join(t.TempDir(), "home"),
		}})
	})

	t.Run("pending steps against cogauth emulator --seed", func(t *testing.T) {
		testBinaryPendingSteps(t, &binary{t: t, path: path, env: []string{
			"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "COGAUTH_HOME=" + filepath.Join(t.TempDir(), "home"), "COGAUTH_STORE=file",
		}})
	})

	t.Run("emulator", func(t *testing.T) {
		p := newTestPool(t, nil)
		b := newBinary(t, p.srv.URL, p.pool, p.client)
		b.ok(alicePW+"\n", "login", "--username", "alice", "--password-stdin")
		tok := strings.TrimSpace(b.ok("", "token").out)
		var sj sessionJSON
		if err := json.Unmarshal([]byte(b.ok("", "session", "-o", "json").out), &sj); err != nil {
			t.Fatal(err)
		}
		if sj.Username != "alice" || sj.Tokens.AccessToken.ExpiresAt.IsZero() {
			t.Fatalf("session: %+v", sj)
		}
		if r := b.ok(tok, "decode", "-"); !strings.Contains(r.out, `"username": "alice"`) {
			t.Fatalf("decode: %s", r.out)
		}
		if r := b.ok("", "whoami"); !strings.Contains(r.out, "alice@example.com") || !strings.Contains(r.out, "admins") {
			t.Fatalf("whoami: %s", r.out)
		}
		b.ok("", "refresh", "--force")
		if now := strings.TrimSpace(b.ok("", "token").out); now == tok {
			t.Fatal("refresh --force kept the token")
		}
		b.ok("", "logout")
		if r := b.run("", "token"); r.code != exitSignedOut {
			t.Fatalf("token after logout: exit %d %q", r.code, r.err)
		}
		if r := b.ok("", "demo"); !strings.Contains(r.out, "Done in") {
			t.Fatalf("demo: %s", r.out)
		}
	})

	t.Run("moto", func(t *testing.T) {
		mp := peers.NewMotoPool(t, peers.MotoPoolOptions{Users: []peers.MotoUser{{Name: "carol", Password: "Carol-Passw0rd!"}}})
		b := newBinary(t, mp.Endpoint, mp.PoolID, mp.ClientID)
		// moto answers GetTokensFromRefreshToken with a 500 HTML page, a fault
		// rather than Cognito's "unknown operation": refresh with REFRESH_TOKEN_AUTH.
		b.env = append(b.env, "COGAUTH_REFRESH_OPERATION=InitiateAuth")
		b.ok("Carol-Passw0rd!\n", "login", "-u", "carol", "--password-stdin", "--flow", "password")
		tok := strings.TrimSpace(b.ok("", "token").out)
		if !jwtRE.MatchString(tok) {
			t.Fatalf("token from moto: %q", tok)
		}
		b.ok("", "refresh", "--force")
		// moto answers RevokeToken with a 500 too, so sign out globally.
		b.ok("", "logout", "--global")
		if r := b.run("", "token"); r.code != exitSignedOut {
			t.Fatalf("token after logout: exit %d %q", r.code, r.err)
		}
	})

	t.Run("credentials exec verify", func(t *testing.T) {
		p := newIdentityTestPool(t, true)
		b := newBinary(t, p.srv.URL, p.pool, p.client)
		b.env = append(b.env, "COGAUTH_IDENTITY_POOL_ID="+p.identityPool, "AWS_PROFILE=stale", "AWS_SECURITY_TOKEN=stale")
		b.ok(alicePW+"\n", "login", "-u", "alice", "--password-stdin")
		pc, err := identity.ParseProcessJSON([]byte(b.ok("", "credentials", "--format", "process").out))
		if err != nil {
			t.Fatal(err)
		}
		r := b.run("", "exec", "--", "sh", "-c", `echo "$AWS_ACCESS_KEY_ID ${AWS_PROFILE-unset} ${AWS_SECURITY_TOKEN-unset} $AWS_REGION"; exit 5`)
		if r.code != 5 || strings.TrimSpace(r.out) != pc.AccessKeyID+" unset unset us-east-1" {
			t.Fatalf("exec: exit %d, %q", r.code, r.out)
		}
		// SIGTERM to cogauth reaches the command, which cleans up and chooses the
		// exit code cogauth passes on.
		cmd, out, _ := b.start("exec", "--", "sh", "-c", `trap 'echo cleaned up; exit 42' TERM; echo ready; while :; do sleep 0.05; done`)
		waitFor(t, out, "ready\n")
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); cmd.ProcessState.ExitCode() != 42 || out.String() != "ready\ncleaned up\n" {
			t.Fatalf("exec stopped by SIGTERM: %v, output %q; want exit 42 after the trap", err, out.String())
		}
		if r := b.ok("", "credentials", "--guest", "--format", "env"); !strings.Contains(r.out, "export AWS_SESSION_TOKEN=") {
			t.Fatalf("guest env: %q", r.out)
		}
		tok := strings.TrimSpace(b.ok("", "token", "--id").out)
		if r := b.ok(tok, "verify", "--token-use", "id"); !strings.Contains(r.out, `"cognito:username": "alice"`) {
			t.Fatalf("verify: %s", r.out)
		}
		if r := b.run(tok, "verify", "--token-use", "access"); r.code != exitError || !strings.Contains(r.err, "rule token_use") {
			t.Fatalf("verify of the wrong use: exit %d %q", r.code, r.err)
		}
	})

	// boto3 with a ~/.aws/config profile whose credential_process is the built
	// cogauth (as the README shows), listing a bucket on moto's S3 with the
	// emulator identity pool's credentials.
	t.Run("boto3 credential_process", func(t *testing.T) {
		motoURL := peers.Moto(t)
		p := newIdentityTestPool(t, false)
		home := filepath.Join(t.TempDir(), "home")
		b := &binary{t: t, path: path, env: []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "COGAUTH_HOME=" + home, "COGAUTH_STORE=file"}}
		// Everything about the pool lives in the profile; nothing in the
		// environment but where cogauth keeps its files.
		b.ok("", "configure", "--profile", "s3demo", "--endpoint", p.srv.URL, "--user-pool-id", p.pool,
			"--client-id", p.client, "--identity-pool-id", p.identityPool)
		b.ok(alicePW+"\n", "--profile", "s3demo", "login", "-u", "alice", "--password-stdin")

		got := peers.Boto3S3ViaCredentialProcess(t, motoURL, path+" credentials --format process --profile s3demo", "cogauth-cli", "hello.txt", b.env)
		var want credentialsJSONOut
		if err := json.Unmarshal([]byte(b.ok("", "--profile", "s3demo", "credentials", "--format", "json").out), &want); err != nil {
			t.Fatal(err)
		}
		if got.AccessKeyID != want.AccessKeyID || !got.HasToken || strings.Join(got.Keys, ",") != "hello.txt" {
			t.Fatalf("boto3 saw %+v; want the identity pool's key %s, a session token and the object", got, want.AccessKeyID)
		}
	})

	// The proxy of the built binary stops cleanly on SIGINT and on SIGTERM.
	t.Run("proxy signals", func(t *testing.T) {
		p := newTestPool(t, nil)
		b := newBinary(t, p.srv.URL, p.pool, p.client)
		b.ok(alicePW+"\n", "login", "-u", "alice", "--password-stdin")
		up := &upstream{reject: map[string]bool{}}
		srv := httptest.NewServer(up)
		defer srv.Close()
		for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
			cmd, _, errOut := b.start("proxy", "--listen", "127.0.0.1:0", "--upstream", srv.URL)
			waitFor(t, errOut, "Ctrl-C stops it.")
			m := regexp.MustCompile(`Proxy on (http://127\.0\.0\.1:\d+)`).FindStringSubmatch(errOut.String())
			if m == nil {
				t.Fatalf("no address in %q", errOut.String())
			}
			resp, err := http.Get(m[1] + "/x")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			waited := make(chan error, 1)
			go func() { waited <- cmd.Wait() }()
			select {
			case err := <-waited:
				if err != nil || !strings.Contains(errOut.String(), "Proxy stopped.") {
					t.Fatalf("after %v: %v\n%s", sig, err, errOut.String())
				}
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("the proxy did not stop on %v", sig)
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("through the proxy: %d", resp.StatusCode)
			}
		}
	})

	t.Run("pty", func(t *testing.T) {
		p := newTestPool(t, func(sp *emulator.SeedUserPool) { sp.MFA = "ON" })
		b := newBinary(t, p.srv.URL, p.pool, p.client)

		login := func(answers func(term *ptyTerm)) string {
			cmd := exec.Command(b.path, "login")
			cmd.Env = b.env
			f, err := pty.Start(cmd)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			term := &ptyTerm{t: t, f: f}
			copied := make(chan struct{})
			go func() { io.Copy(&term.out, f); close(copied) }()
			answers(term)
			waitErr := make(chan error, 1)
			go func() { waitErr <- cmd.Wait() }()
			select {
			case err := <-waitErr:
				if err != nil {
					t.Fatalf("login on a terminal: %v\n%s", err, term.out.String())
				}
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("login did not finish:\n%s", term.out.String())
			}
			// The copy ends when the terminal closes with the process: then the
			// output is complete.
			select {
			case <-copied:
			case <-time.After(5 * time.Second):
			}
			return term.out.String()
		}

		// First sign-in: temporary password → new password → TOTP set-up.
		out := login(func(term *ptyTerm) {
			term.answer("Username: ", "newbie")
			term.answer("Password: ", "Temp-Passw0rd!")
			term.answer("New password: ", "Newbie-Passw0rd!")
			term.answer("Repeat new password: ", "Newbie-Passw0rd!")
			term.waitFor("Code from the app: ")
			m := regexp.MustCompile(`Secret: ([A-Z2-7]+)`).FindStringSubmatch(term.out.String())
			if m == nil {
				t.Fatalf("no TOTP secret shown:\n%s", term.out.String())
			}
			code, err := emulator.TOTP(m[1], p.srv.Now())
			if err != nil {
				t.Fatal(err)
			}
			term.send(code)
		})
		if strings.Contains(out, "Temp-Passw0rd!") || strings.Contains(out, "Newbie-Passw0rd!") {
			t.Fatalf("a password was echoed:\n%s", out)
		}
		if !strings.Contains(out, "Signed in as newbie") {
			t.Fatalf("no success line:\n%s", out)
		}

		// Second sign-in: a TOTP challenge.
		p.srv.Advance(time.Minute)
		out = login(func(term *ptyTerm) {
			term.answer("Username: ", "newbie")
			term.answer("Password: ", "Newbie-Passw0rd!")
			term.waitFor("Code from your authenticator app: ")
			code, err := emulator.TOTP(p.srv.TOTPSecret(p.pool, "newbie"), p.srv.Now())
			if err != nil {
				t.Fatal(err)
			}
			term.send(code)
		})
		if !strings.Contains(out, "Signed in as newbie") {
			t.Fatalf("TOTP sign-in:\n%s", out)
		}
		if r := b.ok("", "whoami"); !strings.Contains(r.out, "newbie") {
			t.Fatalf("whoami: %s", r.out)
		}
	})
}

// ptyTerm is the user's side of a pseudo-terminal.
type ptyTerm struct {
	t    *testing.T
	f    *os.File
	out  safeBuffer
	seen int // output up to here has been read by waitFor
}

// waitFor waits for prompt in the output not yet read, so an answered prompt is
// never found again.
func (p *ptyTerm) waitFor(prompt string) {
	p.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		s := p.out.String()
		if i := strings.Index(s[p.seen:], prompt); i >= 0 {
			p.seen += i + len(prompt)
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("no %q prompt; output so far:\n%s", prompt, s)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (p *ptyTerm) send(line string) {
	p.t.Helper()
	if _, err := io.WriteString(p.f, line+"\r"); err != nil {
		p.t.Fatal(err)
	}
}

// answer waits for a prompt and types line.
func (p *ptyTerm) answer(prompt, line string) {
	p.t.Helper()
	p.waitFor(prompt)
	p.send(line)
}
