package main

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

var hiddenRe = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// TestWebapp runs the example as its one command would, signs in through the
// hosted UI page as a browser does, and uses the page's three buttons.
func TestWebapp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ready := make(chan [2]string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, options{addr: "127.0.0.1:0", out: io.Discard}, func(base, pw string) { ready <- [2]string{base, pw} })
	}()
	var base, pw string
	select {
	case r := <-ready:
		base, pw = r[0], r[1]
	case err := <-done:
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	get := func(u string) (*http.Response, string) {
		t.Helper()
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	_, home := get(base + "/")
	if !strings.Contains(home, `id="login"`) {
		t.Fatalf("home page before sign-in: %s", home)
	}
	resp, form := get(base + "/auth/login?return_to=/")
	vals := url.Values{"username": {"alice"}, "password": {pw}}
	for _, m := range hiddenRe.FindAllStringSubmatch(form, -1) {
		vals.Add(m[1], html.UnescapeString(m[2]))
	}
	action := *resp.Request.URL
	action.RawQuery = ""
	resp, err := c.PostForm(action.String(), vals)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "Signed in as <b>alice</b>") {
		t.Fatalf("after sign-in: %s", b)
	}
	for path, want := range map[string]string{
		"/auth/me":  `"username":"alice"`,
		"/api/call": "the API saw a valid access token of alice",
		"/api/aws":  "AWS access key ",
	} {
		if resp, body := get(base + path); resp.StatusCode != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
