package emulator_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/cogauth/cogauth/emulator"
)

// lockedBuffer is a log sink shared by the server's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestFederationProviderEchoNeverReachesTheApp: a provider that echoes what it
// was sent (the emulator's client secret for it included) in its error answers,
// at the authorize step and at the token endpoint, gets a fixed message to the
// app's redirect URI; the detail is in the log, bounded, the secret redacted.
func TestFederationProviderEchoNeverReachesTheApp(t *testing.T) {
	logs := &lockedBuffer{}
	f := newFedFixture(t, func(o *emulator.Options) { o.Logger = slog.New(slog.NewTextHandler(logs, nil)) })
	h := newHostileIdP(t)
	const secret = "s3cret+at/idp=="
	mustCall(t, f.srv, "UpdateIdentityProvider", map[string]any{"UserPoolId": f.app, "ProviderName": fedProvider,
		"ProviderDetails": map[string]string{"client_id": "app-at-idp", "client_secret": secret, "authorize_scopes": "openid", "oidc_issuer": h.srv.URL}})
	var echoed string
	h.mu.Lock()
	h.token = func(string) (int, string) {
		// Set by the handler below: the form the emulator posted, verbatim.
		return 400, `{"error":"invalid_client","error_description":"you sent ` + strings.ReplaceAll(echoed, `"`, `'`) + strings.Repeat(" padding", 200) + `"}`
	}
	h.mu.Unlock()
	// Wrap the provider's token endpoint to capture what the emulator sent.
	inner := h.srv.Config.Handler
	h.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			body, _ := io.ReadAll(r.Body)
			h.mu.Lock()
			echoed = string(body)
			h.mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		inner.ServeHTTP(w, r)
	})

	// The token endpoint echoes the form, client_secret and all.
	c := browser(t)
	q := mustURL(t, follow(t, c, fedAuthorizeURL(f, nil))).Query()
	landed := follow(t, c, q.Get("redirect_uri")+"?"+url.Values{"code": {"c0de"}, "state": {q.Get("state")}}.Encode())
	if !strings.Contains(echoed, url.QueryEscape(secret)) {
		t.Fatalf("the emulator did not send the secret the test expects to see echoed: %q", echoed)
	}
	lq := mustURL(t, landed).Query()
	if lq.Get("error") != "invalid_client" || lq.Get("error_description") != "Upstream Error - 400 invalid_client" {
		t.Fatalf("landed on %s, want the fixed message", landed)
	}

	// The authorize step's error answer echoes it too, in error and error_description.
	q = mustURL(t, follow(t, c, fedAuthorizeURL(f, nil))).Query()
	landed = follow(t, c, q.Get("redirect_uri")+"?"+url.Values{"error": {"access_denied " + secret}, "error_description": {"echo: " + secret}, "state": {q.Get("state")}}.Encode())
	lq = mustURL(t, landed).Query()
	if lq.Get("error") != "invalid_request" || lq.Get("error_description") != "Upstream Error - invalid_request" {
		t.Fatalf("landed on %s, want the fixed message", landed)
	}
	for _, form := range []string{secret, url.QueryEscape(secret), "s3cret"} {
		if strings.Contains(landed, form) {
			t.Fatalf("the secret reached the app: %s", landed)
		}
	}

	// The log keeps the detail: bounded, redacted.
	out := logs.String()
	if strings.Contains(out, "s3cret") {
		t.Fatalf("the secret reached the log:\n%s", out)
	}
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "identity provider refused") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 2 || !strings.Contains(lines[0], "[redacted]") || !strings.Contains(lines[0], "step=token") ||
		!strings.Contains(lines[1], "echo: [redacted]") || !strings.Contains(lines[1], "step=authorize") {
		t.Fatalf("provider errors in the log:\n%s", strings.Join(lines, "\n"))
	}
	for _, l := range lines {
		if len(l) > 700 {
			t.Fatalf("unbounded log line of %d bytes: %.200s", len(l), l)
		}
	}
}
