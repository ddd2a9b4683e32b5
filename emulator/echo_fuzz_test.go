package emulator

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// echoParams are the request fields handlers most often echo in errors.
var echoParams = []string{"UserPoolId", "Username", "ClientId", "GroupName", "ProviderName", "AuthFlow",
	"IdentityPoolId", "IdentityId", "JobId", "TermsId", "ClientSecretId", "Identifier", "Domain",
	"AttributeName", "ResourceArn", "ChallengeName", "DeletionProtection", "MfaConfiguration"}

// logSink keeps every log line the emulator writes.
type logSink struct {
	mu    sync.Mutex
	lines bytes.Buffer
}

func (l *logSink) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lines.Write(b)
}

// checkEchoBounds fails when a value of the request longer than the bound reaches
// an error answer's body or headers, any header, or the log whole (more than
// maxEcho of its bytes in a row), or an error message exceeds maxErrorMessage.
func checkEchoBounds(t *testing.T, rec *httptest.ResponseRecorder, logs *logSink, inputs ...string) {
	t.Helper()
	var headers strings.Builder
	for k, vs := range rec.Header() {
		for _, v := range vs {
			if len(v) > maxErrorMessage {
				t.Fatalf("header %s is %d bytes", k, len(v))
			}
			headers.WriteString(v + "\n")
		}
	}
	logs.mu.Lock()
	logged := logs.lines.String()
	logs.lines.Reset()
	logs.mu.Unlock()
	places := []string{headers.String(), logged}
	if rec.Code != http.StatusOK {
		var out struct{ Message string }
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		if len(out.Message) > maxErrorMessage {
			t.Fatalf("error message is %d bytes", len(out.Message))
		}
		places = append(places, rec.Body.String())
	}
	for _, in := range inputs {
		if len(in) <= maxEcho {
			continue
		}
		for _, where := range places {
			// Any maxEcho+1 bytes of the value, taken at a few offsets (the
			// emulator may have cut a prefix or a suffix of it).
			for _, off := range []int{0, (len(in) - maxEcho - 1) / 2, len(in) - maxEcho - 1} {
				if piece := in[off : off+maxEcho+1]; strings.Contains(where, piece) {
					t.Fatalf("%d bytes of a %d-byte request value were echoed", maxEcho+1, len(in))
				}
			}
		}
	}
}

// FuzzEchoBounds sends arbitrary X-Amz-Target headers and arbitrary body keys
// (and values, under the keys handlers echo) to the API: nothing from the request
// reaches a header, an error or the log beyond the bound.
func FuzzEchoBounds(f *testing.F) {
	e, ops, _, _ := fuzzEmulator(f)
	logs := &logSink{}
	e.opts.Logger = slog.New(slog.NewTextHandler(logs, nil))
	long := strings.Repeat("A", 900_000) // the 900 KB target
	f.Add(idpService+long, "k", "v")
	f.Add(long, "k", "v")
	f.Add("AWSCognitoIdentityProviderService.NoSuchThing", strings.Repeat("key", 200), strings.Repeat("v", 5000))
	for i, op := range ops {
		f.Add(op, strings.Repeat("k", 300+i), strings.Repeat("x", 257+i))
		f.Add(op, "Username", strings.Repeat("é", 300))
	}
	f.Fuzz(func(t *testing.T, target, key, value string) {
		body := map[string]any{key: value}
		for _, p := range echoParams {
			if p != key {
				body[p] = value
			}
		}
		raw, _ := json.Marshal(body)
		for _, tgt := range []string{target, ops[len(target)%len(ops)]} {
			req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(raw))
			req.Header.Set("X-Amz-Target", tgt)
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			checkEchoBounds(t, rec, logs, target, key, value)
		}
		// A key holding a value of the wrong type: the decoder's error names the field.
		raw, _ = json.Marshal(map[string]any{key: map[string]any{key: 1}, "AuthParameters": map[string]any{key: 1}})
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(raw))
		req.Header.Set("X-Amz-Target", ops[len(key)%len(ops)])
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		checkEchoBounds(t, rec, logs, key)
	})
}
