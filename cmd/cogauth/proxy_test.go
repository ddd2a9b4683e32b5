package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// upstream records the Authorization header of each request and answers 401 to
// the first n requests that carry a token in reject.
type upstream struct {
	mu     sync.Mutex
	auth   []string
	reject map[string]bool
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Upgrade") == "echo" {
		u.echo(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	a := r.Header.Get("Authorization")
	u.mu.Lock()
	u.auth = append(u.auth, a)
	rejected := u.reject[a]
	u.mu.Unlock()
	if rejected {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.Header().Set("X-Path", r.URL.Path)
	io.WriteString(w, "echo:"+string(body))
}

// echo switches to a protocol that echoes lines, once the token is checked, as a
// WebSocket server would after its handshake.
func (u *upstream) echo(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	u.auth = append(u.auth, r.Header.Get("Authorization"))
	u.mu.Unlock()
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer conn.Close()
	rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
	rw.Flush()
	line, err := rw.ReadString('\n')
	if err != nil {
		return
	}
	rw.WriteString("echo " + line)
	rw.Flush()
}

func (u *upstream) headers() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.auth...)
}

// startProxy runs the proxy command of c until the test ends, and returns its URL.
func startProxy(t *testing.T, c *cli, o *proxyOptions) (string, *safeBuffer, func() error) {
	t.Helper()
	var errOut safeBuffer
	a := &app{env: c.environment(strings.NewReader(""), io.Discard, &errOut)}
	o.IO, o.open = a.IO, a.open
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	addr := make(chan string, 1)
	o.ready = func(s string) { addr <- s }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runProxy(ctx, o) }()
	stop := func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("the proxy did not stop")
			return nil
		}
	}
	t.Cleanup(func() { cancel() })
	select {
	case s := <-addr:
		return "http://" + s, &errOut, stop
	case err := <-done:
		t.Fatalf("proxy: %v (%s)", err, errOut.String())
	case <-time.After(10 * time.Second):
		t.Fatal("the proxy did not start")
	}
	return "", nil, nil
}

func TestProxyCommand(t *testing.T) {
	p := newTestPool(t, nil)
	c := newCLI(t, p)
	c.ok(alicePW+"\n", "login", "-u", "alice", "--password-stdin")
	access := strings.TrimSpace(c.ok("", "token").out)

	up := &upstream{reject: map[string]bool{}}
	srv := httptest.NewServer(up)
	defer srv.Close()

	base, log, stop := startProxy(t, c, &proxyOptions{Upstream: srv.URL + "/api", Token: "access", Scheme: "bearer"})
	req, _ := http.NewRequest(http.MethodPost, base+"/items?x=1", strings.NewReader("hello"))
	req.Header.Set("Authorization", "Bearer forged-by-the-client")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "echo:hello" || resp.Header.Get("X-Path") != "/api/items" {
		t.Fatalf("through the proxy: %d %q path %q", resp.StatusCode, body, resp.Header.Get("X-Path"))
	}
	if h := up.headers(); len(h) != 1 || h[0] != "Bearer "+access {
		t.Fatalf("upstream saw Authorization %q, want the session's access token", h)
	}

	// The upstream refuses the token: the proxy refreshes once and retries with
	// the new one, and the client never sees the 401.
	up.mu.Lock()
	up.reject["Bearer "+access] = true
	up.mu.Unlock()
	resp, err = http.Get(base + "/again")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := up.headers()
	if resp.StatusCode != http.StatusOK || len(h) != 3 || h[1] != "Bearer "+access || h[2] == h[1] || !jwtRE.MatchString(h[2]) {
		t.Fatalf("after a 401: status %d, upstream saw %d requests", resp.StatusCode, len(h))
	}
	if now := strings.TrimSpace(c.ok("", "token").out); "Bearer "+now != h[2] {
		t.Fatal("the refreshed token was not stored in the profile's session")
	}

	// A protocol upgrade (as WebSockets do) passes through, token and all, with
	// the request log in the way.
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err = http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	io.WriteString(conn, "ping\n")
	if line, err := br.ReadString('\n'); err != nil || line != "echo ping\n" {
		t.Fatalf("over the upgraded connection: %q %v", line, err)
	}
	if h := up.headers(); !strings.HasPrefix(h[len(h)-1], "Bearer ") || !jwtRE.MatchString(h[len(h)-1]) {
		t.Fatal("the upgrade request carried no token")
	}
	conn.Close()
	// The line is logged when the upgraded connection ends, after the close.
	waitFor(t, log, "GET /ws 101")

	if err := stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	out := log.String()
	for _, want := range []string{"Proxy on http://127.0.0.1:", "access token of alice", "POST /items 200", "GET /again 200", "GET /ws 101", "Proxy stopped."} {
		if !strings.Contains(out, want) {
			t.Errorf("proxy log lacks %q:\n%s", want, out)
		}
	}
	if jwtRE.MatchString(out) || strings.Contains(out, "x=1") {
		t.Fatalf("the log holds a token or a query:\n%s", out)
	}
	if _, err := http.Get(base + "/"); err == nil {
		t.Fatal("the proxy still answers after stopping")
	}

	// The raw id token, as API Gateway's Cognito authorizers take it.
	id := strings.TrimSpace(c.ok("", "token", "--id").out)
	base, _, stop = startProxy(t, c, &proxyOptions{Upstream: srv.URL, Token: "id", Scheme: "raw", Quiet: true})
	resp, err = http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h = up.headers()
	if got := h[len(h)-1]; got != id {
		t.Fatalf("raw id token: upstream saw a different header (JWT: %v)", jwtRE.MatchString(got))
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestProxyErrors(t *testing.T) {
	p := newTestPool(t, nil)
	tests := []struct {
		name   string
		signIn bool
		args   []string
		code   int
		want   string
	}{
		{"no upstream", true, []string{"proxy"}, exitUsage, "--upstream is required"},
		{"relative upstream", true, []string{"proxy", "--upstream", "/api"}, exitUsage, "http(s) URL"},
		{"bad scheme", true, []string{"proxy", "--upstream", "http://x", "--scheme", "basic"}, exitUsage, "--scheme"},
		{"bad token", true, []string{"proxy", "--upstream", "http://x", "--token", "refresh"}, exitUsage, "--token"},
		{"remote listen", true, []string{"proxy", "--upstream", "http://x", "--listen", "0.0.0.0:0"}, exitUsage, "--allow-remote to expose the proxy"},
		{"not signed in", false, []string{"proxy", "--upstream", "http://x", "--listen", "127.0.0.1:0"}, exitSignedOut, "not signed in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI(t, p)
			c.env["COGAUTH_STORE"] = "file"
			if tt.signIn {
				c.ok(alicePW+"\n", "login", "-u", "alice", "--password-stdin")
			}
			r := c.run("", tt.args...)
			if r.code != tt.code || !strings.Contains(r.err, tt.want) {
				t.Fatalf("exit %d %q; want %d and %q", r.code, r.err, tt.code, tt.want)
			}
		})
	}
}
