package secret_test

import (
	"encoding/json"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cogauth/cogauth/internal/redact/redacttest"
	"github.com/cogauth/cogauth/secret"
)

func TestRedactedEverywhere(t *testing.T) {
	const value = "hunter2-S3CR3T"
	type holder struct {
		S  secret.String
		B  secret.Bytes
		PS *secret.String
		M  map[string]secret.String
		L  []secret.Bytes
	}
	s, b := secret.String(value), secret.Bytes(value)
	h := holder{S: s, B: b, PS: &s, M: map[string]secret.String{"k": s}, L: []secret.Bytes{b}}
	for name, v := range map[string]any{"String": s, "Bytes": b, "holder": h, "*holder": &h} {
		redacttest.NoSecrets(t, name, v, value, strings.Trim(strconv.Quote(value), `"`), "6875", "104 117")
	}
	for _, c := range []struct {
		got, want string
	}{
		{s.String(), "[redacted]"}, {b.String(), "[redacted]"},
		{secret.String("").String(), "[empty]"}, {secret.Bytes(nil).String(), "[empty]"},
		{s.GoString(), "secret.String([redacted])"}, {b.GoString(), "secret.Bytes([redacted])"},
		{s.Reveal(), value}, {string(b.Reveal()), value},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// TestUnmarshal: a String reads a JSON string and a Bytes reads base64, as a
// string and a []byte do, so configuration and stored values still load.
func TestUnmarshal(t *testing.T) {
	var v struct {
		S secret.String
		B secret.Bytes
	}
	if err := json.Unmarshal([]byte(`{"S":"pw","B":"a2V5"}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.S.Reveal() != "pw" || string(v.B.Reveal()) != "key" {
		t.Fatalf("unmarshalled %q %q", v.S.Reveal(), v.B.Reveal())
	}
	out, err := json.Marshal(v)
	if err != nil || string(out) != `{"S":"[redacted]","B":"[redacted]"}` {
		t.Fatalf("marshalled %s %v", out, err)
	}
}

// TestImportsNothingOfTheModule: srp, the lowest package, imports secret, so
// secret imports only the standard library.
func TestImportsNothingOfTheModule(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); strings.Contains(p, ".") {
				t.Errorf("%s imports %s", name, p)
			}
		}
	}
}
