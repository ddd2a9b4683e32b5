package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/identity"
)

// newIdentityTestPool is an emulator seeded with a user pool, its app client, two
// users and an identity pool trusting that client (guests allowed or not).
func newIdentityTestPool(t testing.TB, allowGuests bool) *testPool {
	t.Helper()
	srv := emulator.NewServer(emulator.Options{Seed: &emulator.Seed{
		UserPools: []emulator.SeedUserPool{{
			Name:    "test",
			Clients: []emulator.SeedClient{{Name: "cli"}},
			Groups:  []emulator.SeedGroup{{Name: "admins"}},
			Users: []emulator.SeedUser{
				{Username: "alice", Password: alicePW, Groups: []string{"admins"}, Attributes: map[string]string{"email": "alice@example.com"}},
				{Username: "bob", Password: bobPW},
			},
		}},
		IdentityPools: []emulator.SeedIdentityPool{{Name: "ids", AllowUnauthenticatedIdentities: allowGuests, UserPool: "test", Clients: []string{"cli"}}},
	}})
	t.Cleanup(srv.Close)
	res := srv.Seeded()
	if res == nil || res.IdentityPools["ids"] == "" {
		t.Fatalf("seed: %+v", res)
	}
	up := res.UserPools["test"]
	return &testPool{srv: srv, pool: up.ID, client: up.Clients["cli"].ID, identityPool: res.IdentityPools["ids"]}
}

func (c *cli) credentialsJSON(args ...string) credentialsJSONOut {
	c.t.Helper()
	r := c.ok("", append([]string{"credentials", "--format", "json"}, args...)...)
	var out credentialsJSONOut
	if err := json.Unmarshal([]byte(r.out), &out); err != nil {
		c.t.Fatalf("credentials --format json: %v\n%s", err, r.out)
	}
	return out
}

func TestCredentialsCommand(t *testing.T) {
	p := newIdentityTestPool(t, true)
	c := newCLI(t, p)

	if r := c.run("", "credentials"); r.code != exitSignedOut {
		t.Fatalf("credentials before login: exit %d %q", r.code, r.err)
	}
	p.srv.ResetCounters()
	c.ok(alicePW+"\n", "login", "-u", "alice", "--password-stdin")

	// process: what the AWS SDKs read from credential_process.
	r := c.ok("", "credentials", "--format", "process")
	var raw map[string]any
	if err := json.Unmarshal([]byte(r.out), &raw); err != nil {
		t.Fatal(err)
	}
	if raw["Version"] != float64(1) {
		t.Fatalf("Version = %v", raw["Version"])
	}
	pc, err := identity.ParseProcessJSON([]byte(r.out))
	if err != nil {
		t.Fatal(err)
	}
	if exp, ok := raw["Expiration"].(string); !ok || !strings.HasSuffix(exp, "Z") {
		t.Fatalf("Expiration = %v, want RFC 3339 UTC", raw["Expiration"])
	}
	if d := pc.Expiration.Sub(p.srv.Now()); d < 55*time.Minute || d > time.Hour {
		t.Fatalf("credentials expire in %v, want about the pool's hour", d)
	}
	if pc.SessionToken == "" {
		t.Fatal("no session token")
	}

	// Sign-in got them, and the session keeps them: commands make no call.
	j := c.credentialsJSON()
	if j.AccessKeyID != pc.AccessKeyID || j.SecretAccessKey != pc.SecretAccessKey.Reveal() || j.Guest || j.Region != "us-east-1" {
		t.Fatalf("json credentials %+v differ from process ones", j)
	}
	if n := p.srv.Requests("GetCredentialsForIdentity"); n != 1 {
		t.Fatalf("%d GetCredentialsForIdentity calls for a login and two commands, want 1", n)
	}
	var sj sessionJSON
	if err := json.Unmarshal([]byte(c.ok("", "session", "-o", "json").out), &sj); err != nil {
		t.Fatal(err)
	}
	if sj.IdentityID == "" || sj.IdentityID != j.IdentityID || sj.Credentials == nil || sj.Credentials.AccessKeyID != j.AccessKeyID {
		t.Fatalf("session shows identity %q %+v; credentials said %q", sj.IdentityID, sj.Credentials, j.IdentityID)
	}

	// env: export lines for eval.
	r = c.ok("", "credentials", "--format", "env")
	for _, want := range []string{
		"export AWS_ACCESS_KEY_ID='" + j.AccessKeyID + "'\n",
		"export AWS_SECRET_ACCESS_KEY='" + j.SecretAccessKey + "'\n",
		"export AWS_SESSION_TOKEN='" + j.SessionToken + "'\n",
		"export AWS_REGION='us-east-1'\n",
		"export AWS_CREDENTIAL_EXPIRATION='" + j.Expiration.Format(time.RFC3339) + "'\n",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("env output lacks %q:\n%s", want, r.out)
		}
	}
	// An explicit region is the one tools should use.
	if r := c.ok("", "--region", "eu-west-1", "credentials", "--format", "env"); !strings.Contains(r.out, "export AWS_REGION='eu-west-1'") {
		t.Errorf("--region not honoured:\n%s", r.out)
	}

	// Past the credentials' expiry (and the tokens'), new ones come.
	p.srv.Advance(61 * time.Minute)
	c.clk.Advance(61 * time.Minute)
	j2 := c.credentialsJSON()
	if j2.AccessKeyID == j.AccessKeyID || !j2.Expiration.After(j.Expiration) || j2.IdentityID != j.IdentityID {
		t.Fatalf("after expiry: %+v, before %+v", j2, j)
	}

	// Guests: their own identity, the same one each time (kept in the store).
	g := c.credentialsJSON("--guest")
	if !g.Guest || g.IdentityID == "" || g.IdentityID == j.IdentityID || g.AccessKeyID == j2.AccessKeyID {
		t.Fatalf("guest credentials %+v", g)
	}
	if g2 := c.credentialsJSON("--guest"); g2.IdentityID != g.IdentityID {
		t.Fatalf("second guest identity %q, first %q", g2.IdentityID, g.IdentityID)
	}

	// Secrets go to stdout only, never to stderr.
	for _, args := range [][]string{{"credentials"}, {"credentials", "--format", "env"}, {"credentials", "--guest"}} {
		if r := c.ok("", args...); strings.Contains(r.err, j2.SecretAccessKey) || jwtRE.MatchString(r.err) {
			t.Errorf("%v wrote a secret to stderr: %q", args, r.err)
		}
	}

	c.ok("", "logout")
	if r := c.run("", "credentials"); r.code != exitSignedOut {
		t.Fatalf("credentials after logout: exit %d %q", r.code, r.err)
	}
	// Signing in again on this machine, which has a guest identity, merges the
	// guest into the user's identity, as Cognito does: the user's stays.
	c.ok(alicePW+"\n", "login", "-u", "alice", "--password-stdin")
	if j3 := c.credentialsJSON(); j3.IdentityID != j.IdentityID || j3.Guest {
		t.Fatalf("identity after signing in again %q, want %q", j3.IdentityID, j.IdentityID)
	}
}

// TestLogoutForgetsIdentityID: the identity ID goes with the session, so the next
// sign-in asks GetId again (and gets the same identity, which is the user's).
func TestLogoutForgetsIdentityID(t *testing.T) {
	p := newIdentityTestPool(t, false)
	c := newCLI(t, p)
	c.ok(alicePW+"\n", "login", "-u", "alice", "--password-stdin")
	first := c.credentialsJSON()
	c.ok("", "refresh", "--force")
	if n := p.srv.Requests("GetId"); n != 1 {
		t.Fatalf("GetId calls for a login and a refresh: %d, want 1 (the ID is kept)", n)
	}
	c.ok("", "logout")
	c.ok(alicePW+"\n", "login", "-u", "alice", "--password-stdin")
	if n := p.srv.Requests("GetId"); n != 2 {
		t.Fatalf("GetId calls after logout and login: %d, want 2", n)
	}
	if again := c.credentialsJSON(); again.IdentityID != first.IdentityID {
		t.Fatalf("identity after signing in again %q, want %q", again.IdentityID, first.IdentityID)
	}
}

func TestCredentialsErrors(t *testing.T) {
	noGuests := newIdentityTestPool(t, false)
	plain := newTestPool(t, nil)
	tests := []struct {
		name string
		pool *testPool
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"bad format", noGuests, nil, []string{"credentials", "--format", "yaml"}, exitUsage, "unknown format"},
		{"no identity pool", plain, nil, []string{"credentials"}, exitUsage, "--identity-pool-id"},
		{"no identity pool, exec", plain, nil, []string{"exec", "--", "true"}, exitUsage, "COGAUTH_IDENTITY_POOL_ID"},
		{"malformed identity pool", plain, map[string]string{"COGAUTH_IDENTITY_POOL_ID": "nope"}, []string{"credentials", "--guest"}, exitUsage, "not of the form"},
		{"guests not allowed", noGuests, nil, []string{"credentials", "--guest"}, exitError, "gives no guest credentials"},
		{"unknown identity pool", noGuests, map[string]string{"COGAUTH_IDENTITY_POOL_ID": "us-east-1:00000000-0000-0000-0000-000000000000"}, []string{"credentials", "--guest"}, exitError, "no identity pool us-east-1:00000000-0000-0000-0000-000000000000 — check --identity-pool-id"},
		{"exec without command", noGuests, nil, []string{"exec"}, exitUsage, "requires at least 1 arg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI(t, tt.pool)
			for k, v := range tt.env {
				c.env[k] = v
			}
			r := c.run("", tt.args...)
			if r.code != tt.code || !strings.Contains(r.err, tt.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", r.code, r.err, tt.code, tt.want)
			}
			if r.out != "" {
				t.Fatalf("printed %q on failure", r.out)
			}
		})
	}
}

func TestExecCommand(t *testing.T) {
	p := newIdentityTestPool(t, true)
	c := newCLI(t, p)
	c.ok(alicePW+"\n", "login", "-u", "alice", "--password-stdin")
	want := c.credentialsJSON()

	c.environ = []string{
		"PATH=" + os.Getenv("PATH"), "KEEP_ME=yes", "AWS_ENDPOINT_URL=http://127.0.0.1:1",
		"AWS_PROFILE=stale", "AWS_DEFAULT_PROFILE=stale", "AWS_SECURITY_TOKEN=stale", "AWS_ACCESS_KEY_ID=stale",
		"AWS_SESSION_TOKEN=stale", "AWS_REGION=ap-south-1", "AWS_ROLE_ARN=stale", "AWS_CONTAINER_CREDENTIALS_FULL_URI=stale",
	}
	// The child prints its environment and exits 7; its flags are its own.
	r := c.run("", "exec", "--", "sh", "-c", `env | sort; exit "$1"`, "sh", "7")
	if r.code != 7 {
		t.Fatalf("exit %d, want the child's 7; stderr %q", r.code, r.err)
	}
	if r.err != "" {
		t.Fatalf("cogauth added to the child's stderr: %q", r.err)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(r.out), "\n") {
		k, v, _ := strings.Cut(line, "=")
		got[k] = v
	}
	expect := map[string]string{
		"AWS_ACCESS_KEY_ID": want.AccessKeyID, "AWS_SECRET_ACCESS_KEY": want.SecretAccessKey, "AWS_SESSION_TOKEN": want.SessionToken,
		"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "KEEP_ME": "yes", "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
		"AWS_CREDENTIAL_EXPIRATION": want.Expiration.Format(time.RFC3339),
	}
	for k, v := range expect {
		if got[k] != v {
			t.Errorf("child's %s = %q, want %q", k, got[k], v)
		}
	}
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		if v, ok := got[k]; ok {
			t.Errorf("stale %s=%q reached the child", k, v)
		}
	}

	// Success is 0; stdin reaches the child; --guest works without the session.
	if r := c.ok("hello", "exec", "--guest", "--", "sh", "-c", `read x; test "$x" = hello && test -n "$AWS_SESSION_TOKEN"`); r.out != "" {
		t.Fatalf("output %q", r.out)
	}
	// As shells and env(1): 127 for a program that is not there (by path or on
	// PATH), 126 for one that cannot run.
	notExec := filepath.Join(t.TempDir(), "script.sh")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\necho hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		argv []string
		code int
		want string
	}{
		{[]string{"/nonexistent/program"}, 127, "/nonexistent/program: command not found"},
		{[]string{"no-such-program-cogauth"}, 127, "no-such-program-cogauth: command not found"},
		{[]string{notExec}, 126, "cannot run it (permission denied)"},
		{[]string{t.TempDir()}, 126, "cannot run it"},
	} {
		if r := c.run("", append([]string{"exec", "--"}, tc.argv...)...); r.code != tc.code || !strings.Contains(r.err, tc.want) {
			t.Errorf("exec %s: exit %d %q, want %d and %q", tc.argv[0], r.code, r.err, tc.code, tc.want)
		}
	}
	if r := c.run("", "exec", "--", "sh", "-c", "kill -KILL $$"); r.code != 128+9 {
		t.Fatalf("child killed by SIGKILL: exit %d, want 137", r.code)
	}
}

// TestExecStopsChildGracefully: when cogauth is told to stop (ctx ends, as on
// SIGTERM), the child gets SIGTERM and may clean up, rather than being killed; one
// that ignores it is killed after the grace period.
func TestExecStopsChildGracefully(t *testing.T) {
	p := newIdentityTestPool(t, true)
	c := newCLI(t, p)
	for _, tt := range []struct {
		name   string
		script string
		grace  time.Duration
		code   int
		rest   string // printed after "ready"
	}{
		{"trapped", `trap 'echo cleaned up; exit 42' TERM; echo ready; while :; do sleep 0.05; done`, 20 * time.Second, 42, "cleaned up\n"},
		{"ignored", `trap '' TERM; echo ready; while :; do sleep 0.05; done`, 100 * time.Millisecond, 128 + 9, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pr, pw := io.Pipe()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			o := &execOptions{
				IO:    IOStreams{In: strings.NewReader(""), Out: pw, ErrOut: io.Discard},
				Guest: true,
				Argv:  []string{"sh", "-c", tt.script},
				creds: func(ctx context.Context, guest bool) (identity.Credentials, string, error) {
					a := &app{env: c.environment(nil, io.Discard, io.Discard)}
					return a.awsCredentials(ctx, guest)
				},
				stopGrace: tt.grace,
			}
			done := make(chan error, 1)
			go func() { done <- runExec(ctx, o); pw.Close() }()
			out := bufio.NewReader(pr)
			if line, err := out.ReadString('\n'); line != "ready\n" {
				t.Fatalf("child said %q (%v)", line, err)
			}
			cancel()
			rest, _ := io.ReadAll(out)
			err := <-done
			es, ok := err.(*exitStatus)
			if !ok || es.code != tt.code || string(rest) != tt.rest {
				t.Fatalf("runExec = %v, then %q; want the child's exit status %d, then %q", err, rest, tt.code, tt.rest)
			}
		})
	}
}

// TestIdentityEndpointDefault: without --identity-endpoint the identity pool is
// reached at --endpoint; an explicit one wins.
func TestIdentityEndpointDefault(t *testing.T) {
	p := newIdentityTestPool(t, true)
	c := newCLI(t, p)
	c.ok("", "credentials", "--guest")
	c.env["COGAUTH_IDENTITY_ENDPOINT"] = "http://127.0.0.1:1"
	if r := c.run("", "credentials", "--guest"); r.code != exitError || !strings.Contains(r.err, "127.0.0.1:1") {
		t.Fatalf("explicit identity endpoint not used: exit %d %q", r.code, r.err)
	}
	// The profile file may name it too.
	delete(c.env, "COGAUTH_IDENTITY_ENDPOINT")
	home := c.env["COGAUTH_HOME"]
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "config.toml"), []byte("[profiles.x]\nidentity_endpoint = \"http://127.0.0.1:1\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := c.run("", "--profile", "x", "credentials", "--guest"); r.code != exitError || !strings.Contains(r.err, "127.0.0.1:1") {
		t.Fatalf("profile identity endpoint not used: exit %d %q", r.code, r.err)
	}
}

// TestCredentialsServiceFailure: when the identity pool fails, sign-in and tokens
// still work (the session is not lost over credentials), and `credentials` says
// what the service answered; once the pool works again, credentials come.
func TestCredentialsServiceFailure(t *testing.T) {
	p := newIdentityTestPool(t, false)
	c := newCLI(t, p)
	p.srv.InjectFault("GetCredentialsForIdentity", emulator.Fault{ErrName: "InternalErrorException", Message: "pool on fire", Status: 500})
	c.ok(alicePW+"\n", "login", "-u", "alice", "--password-stdin")
	c.ok("", "token")
	r := c.run("", "credentials")
	if r.code != exitError || !strings.Contains(r.err, "the identity pool had an internal error") || !strings.Contains(r.err, "pool on fire") || r.out != "" {
		t.Fatalf("credentials while the pool fails: exit %d, out %q, err %q", r.code, r.out, r.err)
	}
	if r := c.run("", "exec", "--", "true"); r.code != exitError || !strings.Contains(r.err, "the identity pool had an internal error") {
		t.Fatalf("exec while the pool fails: exit %d %q", r.code, r.err)
	}
	p.srv.ClearFaults()
	if j := c.credentialsJSON(); j.AccessKeyID == "" || j.IdentityID == "" {
		t.Fatalf("after recovery: %+v", j)
	}
}

// TestCredentialsFollowTheProfilesIdentityPool: a signed-in profile whose identity
// pool changes gets the new pool's credentials, not the ones the session holds.
func TestCredentialsFollowTheProfilesIdentityPool(t *testing.T) {
	p := newIdentityTestPool(t, false)
	other, err := p.srv.CreateIdentityPool(emulator.IdentityPoolConfig{Name: "other",
		CognitoIdentityProviders: []emulator.CognitoIdentityProvider{{ProviderName: emulator.ProviderName(p.pool), ClientID: p.client}}})
	if err != nil {
		t.Fatal(err)
	}
	c := newCLI(t, p)
	c.ok(alicePW+"\n", "login", "-u", "alice", "--password-stdin")
	first := c.credentialsJSON()
	p.srv.ResetCounters()
	if again := c.credentialsJSON(); again != first || len(p.srv.RequestCounts()) != 0 {
		t.Fatalf("same pool: %+v then %+v, calls %v", first, again, p.srv.RequestCounts())
	}
	c.env["COGAUTH_IDENTITY_POOL_ID"] = other
	second := c.credentialsJSON()
	if second.IdentityID == first.IdentityID || second.AccessKeyID == first.AccessKeyID {
		t.Fatalf("after switching identity pools: %+v, before %+v", second, first)
	}
	// The session now holds the new pool's: no more calls, and `session` agrees.
	p.srv.ResetCounters()
	if again := c.credentialsJSON(); again != second || len(p.srv.RequestCounts()) != 0 {
		t.Fatalf("new pool again: %+v then %+v, calls %v", second, again, p.srv.RequestCounts())
	}
	var sj sessionJSON
	if err := json.Unmarshal([]byte(c.ok("", "session", "-o", "json").out), &sj); err != nil || sj.IdentityID != second.IdentityID {
		t.Fatalf("session shows identity %q, want %q (%v)", sj.IdentityID, second.IdentityID, err)
	}
}
