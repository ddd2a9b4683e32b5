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
)

// readmeLocalLines returns the README's three local commands (the sh block after
// "The demo ends with the next step"), each as its arguments, with the password its
// comment names.
func readmeLocalLines(t *testing.T) (cmds [][]string, password string) {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "The demo ends with the next step")
	if !ok {
		t.Fatal("README: no \"The demo ends with the next step\"")
	}
	_, block, _ := strings.Cut(rest, "```sh\n")
	block, _, _ = strings.Cut(block, "```")
	for _, line := range strings.Split(block, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if i := strings.Index(line, "# password: "); i >= 0 {
			password = strings.TrimSpace(line[i+len("# password: "):])
			line = line[:i]
		}
		f := strings.Fields(strings.TrimSuffix(strings.TrimSpace(line), "&"))
		if len(f) == 0 || f[0] != "cogauth" {
			t.Fatalf("README local line %q is not a cogauth command", line)
		}
		cmds = append(cmds, f[1:])
	}
	if len(cmds) != 3 || password == "" {
		t.Fatalf("README local block: %d commands, password %q", len(cmds), password)
	}
	return cmds, password
}

// The README's three local lines, run as written (the emulator on a free port that
// the later lines are pointed at), then `cogauth credentials --profile local`
// prints the seeded identity pool's credentials for alice.
func TestReadmeLocalLinesThenCredentials(t *testing.T) {
	cmds, password := readmeLocalLines(t)
	emu := cmds[0]
	if emu[0] != "emulator" {
		t.Fatalf("first README line %q is not the emulator", emu)
	}
	for i, a := range emu {
		if a == "examples/local-seed.json" {
			emu[i] = filepath.Join("..", "..", a)
		}
	}
	c := newCLI(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	exited := make(chan int, 1)
	go func() {
		code := Main(ctx, c.environment(strings.NewReader(""), pw, io.Discard), append(emu, "--listen", "127.0.0.1:0"))
		pw.Close()
		exited <- code
	}()
	lines := bufio.NewScanner(pr)
	url := ""
	for url == "" && lines.Scan() {
		url, _ = strings.CutPrefix(lines.Text(), "Cognito emulator listening on ")
	}
	if url == "" {
		t.Fatalf("the emulator did not start (exit %d)", <-exited)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	defer func() {
		cancel()
		if code := <-exited; code != 0 {
			t.Errorf("emulator exit %d", code)
		}
	}()
	fix := func(args []string) []string {
		out := make([]string, len(args))
		for i, a := range args {
			out[i] = strings.ReplaceAll(a, "http://127.0.0.1:9229", url)
		}
		return out
	}
	c.ok("", fix(cmds[1])...)
	c.env["COGAUTH_PASSWORD"] = password // no terminal: the answer the comment gives
	c.ok("", fix(cmds[2])...)
	delete(c.env, "COGAUTH_PASSWORD")
	r := c.ok("", "credentials", "--profile", "local")
	var creds struct {
		Version         int
		AccessKeyID     string `json:"AccessKeyId"`
		SecretAccessKey string
		SessionToken    string
		Expiration      string
	}
	if err := json.Unmarshal([]byte(r.out), &creds); err != nil || creds.Version != 1 || creds.AccessKeyID == "" || creds.SecretAccessKey == "" || creds.SessionToken == "" || creds.Expiration == "" {
		t.Fatalf("credentials --profile local: %v\n%s", err, r.out)
	}
}
