package hostedui

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzBearerChallenge: WWW-Authenticate headers from the server never panic the
// parser, and what it keeps is short and printable.
func FuzzBearerChallenge(f *testing.F) {
	f.Add(`Bearer error="invalid_token", error_description="Access token is expired"`)
	f.Add(`Bearer realm="x",error=insufficient_scope`)
	f.Add("Bearer error=\"\x00\x1b[31m\"")
	f.Fuzz(func(t *testing.T, h string) {
		code, desc := bearerChallenge(h)
		for _, s := range []string{code, desc} {
			if strings.ContainsAny(s, "\x00\r\n\x1b") {
				t.Fatalf("control characters kept: %q", s)
			}
		}
		if len(code) > 64+len("…") || len(desc) > 200+len("…") {
			t.Fatalf("unbounded: %d %d", len(code), len(desc))
		}
	})
}

// FuzzTokenAnswer: whatever the token endpoint answers, the client neither panics
// nor puts the answer's text (which may hold tokens) into an error, except the
// bounded OAuth error code and description.
func FuzzTokenAnswer(f *testing.F) {
	f.Add(200, `{"access_token":"eyJ.a.b","expires_in":3600,"token_type":"Bearer"}`)
	f.Add(400, `{"error":"invalid_grant"}`)
	f.Add(200, `{"access_token":""}`)
	f.Add(500, `<html>secret-ish</html>`)
	f.Add(200, `[1,2`)
	var status int
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	c, err := New(Options{Domain: srv.URL, ClientID: "c", RedirectURI: "http://127.0.0.1:1/callback"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, st int, b string) {
		if st < 200 || st > 599 {
			st = 200 + (st%400+400)%400
		}
		status, body = st, b
		tok, err := c.Refresh(context.Background(), "r")
		if err == nil {
			if st != 200 || tok.AccessToken == "" {
				t.Fatalf("accepted status %d with access token %t", st, tok.AccessToken != "")
			}
			return
		}
		msg := err.Error()
		if len(b) >= 8 && strings.Contains(msg, b) {
			t.Fatalf("the error quotes the answer: %q", msg)
		}
		if strings.ContainsAny(msg, "\x00\r\n\x1b") {
			t.Fatalf("control characters in the error: %q", msg)
		}
	})
}
