package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// -update rewrites the golden files from what the commands print now; review the
// diff: it is the wording change.
var update = flag.Bool("update", false, "rewrite testdata/golden from the current output")

// scrub replaces what differs from run to run (pool and client IDs, URLs, request
// IDs, times) with names, so that a golden file holds only wording.
type scrub []struct{ from, to string }

var (
	uuidRE    = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	loopURLRE = regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+`)
	rfc3339RE = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`)
	clockRE   = regexp.MustCompile(`(\d{4}-\d\d-\d\d )?\d\d:\d\d(:\d\d)? UTC`)
)

func (s scrub) apply(text string) string {
	for _, r := range s {
		if r.from != "" {
			text = strings.ReplaceAll(text, r.from, r.to)
		}
	}
	text = uuidRE.ReplaceAllString(text, "UUID")
	text = loopURLRE.ReplaceAllString(text, "http://127.0.0.1:PORT")
	text = clockRE.ReplaceAllString(text, "TIME UTC")
	return rfc3339RE.ReplaceAllString(text, "TIME")
}

// poolScrub names p's IDs.
func poolScrub(p *testPool) scrub {
	return scrub{{p.pool, "POOL"}, {p.client, "CLIENT"}}
}

// checkGolden compares got with testdata/golden/NAME.golden (or writes it with
// -update).
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to write it)", err, t.Name())
	}
	if string(want) != got {
		t.Fatalf("%s differs from %s:\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}

// transcript is what a golden file holds for a run of commands: each command, its
// exit code, stdout and stderr.
type transcript struct{ b strings.Builder }

func (tr *transcript) add(args []string, r result) {
	tr.b.WriteString("$ cogauth " + strings.Join(args, " ") + "\n")
	if r.out != "" {
		tr.b.WriteString("[stdout]\n" + r.out)
		if !strings.HasSuffix(r.out, "\n") {
			tr.b.WriteString("\n")
		}
	}
	if r.err != "" {
		tr.b.WriteString("[stderr]\n" + r.err)
		if !strings.HasSuffix(r.err, "\n") {
			tr.b.WriteString("\n")
		}
	}
	tr.b.WriteString("[exit " + strconv.Itoa(r.code) + "]\n\n")
}

// TestHumanOutputGolden: the human output of an ordinary day, as one golden
// transcript, so that a change of wording shows in review.
func TestHumanOutputGolden(t *testing.T) {
	p := newTestPool(t, nil)
	c := newCLI(t, nil)
	c.env["COGAUTH_STORE"] = "file"
	var tr transcript
	step := func(stdin string, args ...string) {
		t.Helper()
		tr.add(args, c.run(stdin, args...))
	}
	step("", "configure", "--profile", "local", "--endpoint", p.srv.URL, "--user-pool-id", p.pool, "--client-id", p.client)
	step("", "profiles")
	step(alicePW+"\n", "login", "-u", "alice", "--password-stdin")
	step("", "configure", "--profile", "work", "--endpoint", p.srv.URL, "--user-pool-id", p.pool, "--client-id", p.client)
	step("", "profiles")
	step("", "profiles", "use", "local")
	step("", "status")
	step("", "whoami")
	step("", "attributes", "get")
	step("", "mfa", "status")
	step("", "account", "delete")
	step("", "logout")
	step("", "token")
	home := c.env["COGAUTH_HOME"]
	checkGolden(t, "human", append(poolScrub(p), struct{ from, to string }{home, "$COGAUTH_HOME"}).apply(tr.b.String()))
}
