package readme

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// goBlock is one ```go block of README.md: the heading it sits under and its code.
type goBlock struct {
	heading string
	code    string
}

// goBlocks returns every ```go block of readme, in order, with the "## " or
// "### " heading above it.
func goBlocks(t *testing.T, readme string) []goBlock {
	t.Helper()
	var blocks []goBlock
	heading := "(top)"
	lines := strings.Split(readme, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		switch {
		case strings.HasPrefix(line, "## "), strings.HasPrefix(line, "### "):
			heading = strings.TrimLeft(line, "# ")
		case line == "```go":
			var code []string
			for i++; i < len(lines) && lines[i] != "```"; i++ {
				code = append(code, lines[i])
			}
			if i == len(lines) {
				t.Fatalf("the ```go block under %q is not closed", heading)
			}
			blocks = append(blocks, goBlock{heading: heading, code: strings.Join(code, "\n") + "\n"})
		}
	}
	return blocks
}

func TestGoBlocks(t *testing.T) {
	b := goBlocks(t, "# x\n## A\n```go\npackage main\n```\ntext\n### B\n```sh\nls\n```\n```go\nfunc f() {}\n```\n")
	if len(b) != 2 || b[0].heading != "A" || b[0].code != "package main\n" || b[1].heading != "B" || b[1].code != "func f() {}\n" {
		t.Fatalf("goBlocks = %+v", b)
	}
}

// quickStarts are the README sections whose every ```go block must be a whole
// program (and there must be one).
var quickStarts = map[string]bool{
	"Library quick start":                         true,
	"Web sessions for Go backends (`websession`)": true,
}

// TestReadmeProgramsCompile builds every ```go block of README.md that is a whole
// program as a program of this module, as a reader pasting it would. The quick
// starts must be whole programs.
func TestReadmeProgramsCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds programs")
	}
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := goBlocks(t, string(b))
	programs := map[string]bool{}
	for _, bl := range blocks {
		if strings.HasPrefix(bl.code, "package main\n") {
			programs[bl.heading] = true
		}
	}
	for want := range quickStarts {
		if !programs[want] {
			t.Errorf("README.md has no ```go program under %q", want)
		}
	}
	// Inside the module, so that the imports resolve to this checkout.
	dir, err := os.MkdirTemp(".", "readme-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	var pkgs []string
	for i, bl := range blocks {
		if !strings.HasPrefix(bl.code, "package main\n") {
			// A fragment (a few lines of a section that is not a quick start) is
			// not built; its package's Examples are the runnable form.
			if quickStarts[bl.heading] {
				t.Errorf("the ```go block under %q is not a whole program: it starts %q", bl.heading, bl.code[:min(40, len(bl.code))])
			}
			continue
		}
		sub := filepath.Join(dir, fmt.Sprint("block", i))
		if err := os.Mkdir(sub, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sub, "main.go"), []byte(bl.code), 0o600); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, "./"+filepath.ToSlash(sub))
	}
	if len(pkgs) == 0 {
		t.Fatal("no program to build")
	}
	gofmt := exec.Command(filepath.Join(goroot(), "bin", "gofmt"), "-l", dir)
	if out, err := gofmt.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("README programs not gofmt'd: %s %v", out, err)
	}
	// go vet builds them all in one run (and checks them as the project's code is).
	vet := exec.Command(filepath.Join(goroot(), "bin", "go"), append([]string{"vet"}, pkgs...)...)
	vet.Env = append(os.Environ(), "GOWORK=off")
	if out, err := vet.CombinedOutput(); err != nil {
		t.Fatalf("README's programs do not build:\n%s", out)
	}
}

func goroot() string {
	if out, err := exec.Command("go", "env", "GOROOT").Output(); err == nil {
		return strings.TrimSpace(string(out))
	}
	return "/usr/local/go"
}
