package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeProfiles writes config.toml of c's home with a profile per name, each on
// p's pool and client.
func writeProfiles(t *testing.T, c *cli, p *testPool, names ...string) {
	t.Helper()
	var b strings.Builder
	for _, n := range names {
		b.WriteString("[profiles." + n + "]\nendpoint = \"" + p.srv.URL + "\"\nuser_pool_id = \"" + p.pool + "\"\nclient_id = \"" + p.client + "\"\n\n")
	}
	home := c.env["COGAUTH_HOME"]
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "config.toml"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A single profile is the default; with several, `profiles use` chooses one,
// shown by profiles and status; --profile and COGAUTH_PROFILE override it.
func TestDefaultProfile(t *testing.T) {
	p := newTestPool(t, nil)
	c := newCLI(t, nil)
	writeProfiles(t, c, p, "local")
	c.ok(alicePW+"\n", "login", "-u", "alice", "--password-stdin")
	if r := c.ok("", "token", "-o", "json"); !strings.Contains(r.out, `"profile": "local"`) {
		t.Fatalf("token with a single profile: %s", r.out)
	}

	writeProfiles(t, c, p, "local", "work")
	// Two profiles and no default_profile: "default", which nothing configures.
	if r := c.run("", "token"); r.code != exitUsage || !strings.Contains(r.err, `profile "default"`) {
		t.Fatalf("token with two profiles and no default: exit %d %q", r.code, r.err)
	}
	if r := c.run("", "profiles", "use", "nosuch"); r.code != exitUsage || !strings.Contains(r.err, `no profile "nosuch"`) {
		t.Fatalf("profiles use nosuch: exit %d %q", r.code, r.err)
	}
	if r := c.ok("", "profiles", "use", "local"); r.err != "Default profile is now local (--profile and COGAUTH_PROFILE still choose another).\n" {
		t.Fatalf("profiles use said %q", r.err)
	}
	if r := c.ok("", "whoami"); !strings.Contains(r.out, "alice") {
		t.Fatalf("whoami on the default profile: %q", r.out)
	}
	r := c.ok("", "profiles")
	want := "* local            " + pad(p.pool, 28) + " signed in as alice (default)\n" +
		"  work             " + pad(p.pool, 28) + " not signed in\n"
	if r.out != want {
		t.Fatalf("profiles:\n%s\nwant:\n%s", r.out, want)
	}
	var pj struct{ Profiles []profileJSON }
	if err := json.Unmarshal([]byte(c.ok("", "profiles", "-o", "json").out), &pj); err != nil || len(pj.Profiles) != 2 || !pj.Profiles[0].Default || pj.Profiles[1].Default {
		t.Fatalf("profiles -o json: %v %+v", err, pj)
	}
	if r := c.run("", "status"); !strings.Contains(r.out, "local (default)\n  Signed in as alice") || !strings.Contains(r.out, "\nwork\n  Not signed in") {
		t.Fatalf("status:\n%s", r.out)
	}
	// --profile and COGAUTH_PROFILE choose another.
	if r := c.run("", "whoami", "--profile", "work"); r.code != exitSignedOut {
		t.Fatalf("whoami --profile work: exit %d %q", r.code, r.err)
	}
	c.env["COGAUTH_PROFILE"] = "work"
	if r := c.run("", "whoami"); r.code != exitSignedOut {
		t.Fatalf("COGAUTH_PROFILE=work whoami: exit %d %q", r.code, r.err)
	}
	if r := c.ok("", "profiles", "-o", "json"); !strings.Contains(r.out, `"name": "work",
      "current": true,
      "default": false`) {
		t.Fatalf("profiles under COGAUTH_PROFILE=work: %s", r.out)
	}
	delete(c.env, "COGAUTH_PROFILE")
	r = c.ok("", "profiles", "use", "work", "-o", "json")
	var uj profilesUseJSON
	if err := json.Unmarshal([]byte(r.out), &uj); err != nil || uj.Default != "work" {
		t.Fatalf("profiles use -o json: %v %s", err, r.out)
	}
	if r := c.run("", "whoami"); r.code != exitSignedOut {
		t.Fatalf("whoami after profiles use work: exit %d", r.code)
	}
	// Configure keeps the default.
	c.ok("", "configure", "--profile", "third", "--user-pool-id", p.pool, "--client-id", p.client, "--endpoint", p.srv.URL)
	if r := c.ok("", "profiles"); !strings.Contains(r.out, "* work") || !strings.Contains(r.out, "not signed in (default)") {
		t.Fatalf("profiles after configure:\n%s", r.out)
	}
}

func pad(s string, n int) string { return s + strings.Repeat(" ", max(0, n-len(s))) }
