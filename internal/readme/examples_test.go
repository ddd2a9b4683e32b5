package readme

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
)

// TestEveryPublicPackageHasAnExample holds issue 19.8: each importable package
// of the module (not internal, not a command) has at least one Example function
// in its tests, which go test compiles and, with an Output comment, runs.
func TestEveryPublicPackageHasAnExample(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}\t{{.Name}}\t{{.Dir}}\t{{join .TestGoFiles \",\"}}\t{{join .XTestGoFiles \",\"}}", "../../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 5 {
			t.Fatalf("go list line %q", line)
		}
		path, name, dir := f[0], f[1], f[2]
		if name == "main" || strings.Contains(path+"/", "/internal/") || strings.HasPrefix(path, "github.com/cogauth/cogauth/examples/") {
			continue
		}
		checked++
		var files []string
		for _, list := range f[3:] {
			if list != "" {
				files = append(files, strings.Split(list, ",")...)
			}
		}
		if !hasExample(t, dir, files) {
			t.Errorf("%s has no Example function in its tests", path)
		}
	}
	if checked < 10 {
		t.Fatalf("only %d public packages found", checked)
	}
}

// hasExample reports whether one of the test files declares an example as go
// test finds them: Example, Example_suffix, ExampleF or ExampleT_M.
func hasExample(t *testing.T, dir string, files []string) bool {
	t.Helper()
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv != nil || fd.Type.Params.NumFields() != 0 {
				continue
			}
			rest, ok := strings.CutPrefix(fd.Name.Name, "Example")
			if ok && (rest == "" || rest[0] == '_' || unicode.IsUpper(rune(rest[0]))) {
				return true
			}
		}
	}
	return false
}
