package main

import (
	"encoding/json"
	"io"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/cogauth/cogauth/emulator"
)

// noJSON are the commands without -o json, and why: a new command that prints or
// changes anything must take -o json or be listed here (TestJSONOnEveryCommand).
var noJSON = map[string]string{
	"completion":  "prints a shell script",
	"credentials": "--format process|env|json: the AWS formats",
	"demo":        "a walkthrough for people",
	"emulator":    "a server; its start-up lines include seeded: JSON",
	"exec":        "the command's own output",
	"proxy":       "a server; logs requests",
	"passkeys":    "prints help only (list, delete)",
}

// runnablePaths are the command paths ("attributes set") of every command that
// runs.
func runnablePaths() []string {
	var out []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Runnable() && c.HasParent() {
			out = append(out, strings.TrimPrefix(c.CommandPath(), "cogauth "))
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(newRootCmd(&app{}))
	sort.Strings(out)
	return out
}

// TestJSONOnEveryCommand runs every command with -o json against the emulator, in
// one table over all commands (so that a new one cannot forget it): on success
// stdout is one JSON value; on failure stdout is empty and stderr is the error as a
// JSON object with the exit code.
func TestJSONOnEveryCommand(t *testing.T) {
	p := newTestPool(t, func(sp *emulator.SeedUserPool) { sp.MFA = "OPTIONAL" })
	c := newCLI(t, nil)
	c.env["COGAUTH_STORE"] = "file"
	var access string
	type row struct {
		path  string // the command, as runnablePaths names it
		stdin string
		args  func() []string
		code  int
		env   map[string]string
		check func(t *testing.T, out map[string]any)
	}
	args := func(a ...string) func() []string { return func() []string { return a } }
	rows := []row{
		{path: "version", args: args("version")},
		{path: "configure", args: args("configure", "--endpoint", p.srv.URL, "--user-pool-id", p.pool, "--client-id", p.client)},
		{path: "configure list", args: args("configure", "list")},
		{path: "profiles", args: args("profiles")},
		{path: "profiles use", args: args("profiles", "use", "default")},
		{path: "signup", args: args("signup", "--username", "carol", "--attribute", "email=carol@example.com"), env: map[string]string{"COGAUTH_PASSWORD": "Carol-Passw0rd!"},
			check: wantStatus("pending")},
		{path: "confirm", args: func() []string { return []string{"confirm", "--code", routeCode(t, p, "carol", "SIGN_UP")} }, check: wantStatus("done")},
		{path: "login", stdin: alicePW + "\n", args: args("login", "-u", "alice", "--password-stdin"), check: wantStatus("done")},
		{path: "session", args: args("session")},
		{path: "token", args: args("token"), check: func(t *testing.T, out map[string]any) { access, _ = out["token"].(string) }},
		{path: "import", args: func() []string { return []string{"import", "--access-token", access} }, check: wantStatus("done")},
		{path: "whoami", args: args("whoami")},
		{path: "refresh", args: args("refresh")},
		{path: "status", args: args("status")},
		{path: "decode", args: func() []string { return []string{"decode", access} }},
		{path: "verify", args: func() []string { return []string{"verify", access} }},
		{path: "attributes get", args: args("attributes", "get")},
		{path: "attributes set", args: args("attributes", "set", "nickname=al")},
		{path: "attributes verify", args: args("attributes", "verify", "email"), check: wantStatus("pending")},
		{path: "attributes delete", args: args("attributes", "delete", "nickname"), check: wantStatus("done")},
		{path: "mfa status", args: args("mfa", "status")},
		{path: "mfa setup", args: args("mfa", "setup", "totp"), check: wantStatus("pending")},
		{path: "mfa prefer", args: args("mfa", "prefer", "none"), check: wantStatus("done")},
		{path: "devices list", args: args("devices", "list")},
		{path: "devices forget", args: args("devices", "forget"), code: exitUsage},
		{path: "devices remember", args: args("devices", "remember"), code: exitUsage},
		{path: "devices unremember", args: args("devices", "unremember", "us-east-1_nosuchdevice"), code: exitError},
		{path: "passkeys list", args: args("passkeys", "list")},
		{path: "passkeys delete", args: args("passkeys", "delete", "nosuchkey", "--yes"), code: exitError},
		{path: "password change", args: args("password", "change"), env: map[string]string{"COGAUTH_PASSWORD": alicePW, "COGAUTH_NEW_PASSWORD": "Alice-Passw0rd!2"}, check: wantStatus("done")},
		{path: "password reset", args: args("password", "reset", "--username", "alice"), check: wantStatus("pending")},
		{path: "logout", args: args("logout")},
		{path: "account delete", args: args("account", "delete", "--yes"), code: exitSignedOut}, // signed out: the error as JSON
		{path: "login", stdin: "Alice-Passw0rd!2\n", args: args("login", "-u", "alice", "--password-stdin")},
		{path: "account delete", args: args("account", "delete", "--yes"), check: wantStatus("done")},
		{path: "configure delete", args: args("configure", "delete", "default")},
	}
	covered := map[string]bool{}
	for _, r := range rows {
		covered[r.path] = true
	}
	for _, path := range runnablePaths() {
		if !covered[path] && noJSON[path] == "" {
			t.Errorf("command %q takes no -o json and is not in noJSON with a reason", path)
		}
		if covered[path] && noJSON[path] != "" {
			t.Errorf("command %q is both tested with -o json and listed in noJSON", path)
		}
	}
	for _, r := range rows {
		for k, v := range r.env {
			c.env[k] = v
		}
		argv := append(r.args(), "-o", "json")
		res := c.run(r.stdin, argv...)
		for k := range r.env {
			delete(c.env, k)
		}
		name := strings.Join(argv, " ")
		if res.code != r.code {
			t.Fatalf("cogauth %s: exit %d, want %d\nstdout %s\nstderr %s", name, res.code, r.code, res.out, res.err)
		}
		if res.code != 0 {
			var ej errorJSON
			dec := json.NewDecoder(strings.NewReader(res.err))
			if err := dec.Decode(&ej); err != nil || ej.Error == "" || ej.ExitCode != res.code || res.out != "" || dec.Decode(new(any)) != io.EOF {
				t.Errorf("cogauth %s: exit %d: stderr is not one JSON error (%v): %q, stdout %q", name, res.code, err, res.err, res.out)
			}
			continue
		}
		var v any
		dec := json.NewDecoder(strings.NewReader(res.out))
		if err := dec.Decode(&v); err != nil || dec.Decode(new(any)) != io.EOF {
			t.Errorf("cogauth %s: stdout is not one JSON value (%v): %q", name, err, res.out)
			continue
		}
		if r.check != nil {
			obj, _ := v.(map[string]any)
			r.check(t, obj)
		}
	}
}

func wantStatus(s string) func(t *testing.T, out map[string]any) {
	return func(t *testing.T, out map[string]any) {
		t.Helper()
		if out["status"] != s {
			t.Errorf("status %v, want %q: %v", out["status"], s, out)
		}
	}
}
