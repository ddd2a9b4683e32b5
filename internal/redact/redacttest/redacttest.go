// Package redacttest renders values every way a program may print, marshal or
// log them, for tests that check no secret shows.
package redacttest

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"log"
	"log/slog"
	"strings"
	"testing"
)

// Renderings returns v rendered by every fmt verb, json.Marshal, MarshalText
// (when v has it), slog's text and JSON handlers and the log package, keyed by
// how.
func Renderings(v any) map[string]string {
	out := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		out[verb] = fmt.Sprintf(verb, v)
	}
	out["Sprint"] = fmt.Sprint(v)
	out["Sprintln"] = fmt.Sprintln(v)
	if b, err := json.Marshal(v); err == nil {
		out["json"] = string(b)
	} else {
		out["json"] = "error: " + err.Error()
	}
	if b, err := json.Marshal(map[string]any{"nested": v}); err == nil {
		out["json nested"] = string(b)
	}
	if tm, ok := v.(encoding.TextMarshaler); ok {
		b, _ := tm.MarshalText()
		out["text"] = string(b)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("m", "v", v)
	out["slog text"] = buf.String()
	buf.Reset()
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("m", "v", v)
	out["slog json"] = buf.String()
	buf.Reset()
	slog.New(slog.NewTextHandler(&buf, nil)).Info("m", slog.Group("g", "v", v))
	out["slog group"] = buf.String()
	buf.Reset()
	l := log.New(&buf, "", 0)
	l.Print(v)
	l.Printf("%+v", v)
	out["log"] = buf.String()
	return out
}

// NoSecrets fails t when any rendering of v contains any of secrets.
func NoSecrets(t testing.TB, name string, v any, secrets ...string) {
	t.Helper()
	for how, s := range Renderings(v) {
		for _, secret := range secrets {
			if secret != "" && strings.Contains(s, secret) {
				t.Errorf("%s: %s shows a secret: %s", name, how, s)
			}
		}
	}
}
