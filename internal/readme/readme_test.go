package readme

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// quickStart returns the first ```go block under README.md's "Library quick
// start" heading.
func quickStart(t *testing.T, readme string) string {
	t.Helper()
	_, after, ok := strings.Cut(readme, "\n## Library quick start\n")
	if !ok {
		t.Fatal(`README.md has no "## Library quick start" section`)
	}
	if next := strings.Index(after, "\n## "); next >= 0 {
		after = after[:next]
	}
	_, code, ok := strings.Cut(after, "```go\n")
	if !ok {
		t.Fatal("the quick start has no ```go block")
	}
	code, _, ok = strings.Cut(code, "\n```")
	if !ok {
		t.Fatal("the quick start's ```go block is not closed")
	}
	return code + "\n"
}

// TestQuickStartCompiles builds README.md's quick start as a program of this
// module, as a reader pasting it would.
func TestQuickStartCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	code := quickStart(t, string(b))
	if !strings.HasPrefix(code, "package main\n") {
		t.Fatalf("the quick start is not a whole program: it starts %q", code[:min(40, len(code))])
	}
	// Inside the module, so that its imports resolve to this checkout.
	dir, err := os.MkdirTemp(".", "quickstart-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(code), 0o600); err != nil {
		t.Fatal(err)
	}
	gofmt := exec.Command(filepath.Join(goroot(), "bin", "gofmt"), "-l", dir)
	if out, err := gofmt.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("the quick start is not gofmt'd: %s %v", out, err)
	}
	build := exec.Command(filepath.Join(goroot(), "bin", "go"), "build", "-o", filepath.Join(t.TempDir(), "quickstart"), "./"+filepath.Base(dir))
	build.Env = append(os.Environ(), "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("README's quick start does not build:\n%s", out)
	}
}

func goroot() string {
	if out, err := exec.Command("go", "env", "GOROOT").Output(); err == nil {
		return strings.TrimSpace(string(out))
	}
	return "/usr/local/go"
}
