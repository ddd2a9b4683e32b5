package httpauth

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func startProxy(t testing.TB, upstream string, src TokenProvider, scheme Scheme) *httptest.Server {
	t.Helper()
	u, _ := url.Parse(upstream)
	p, err := NewProxy(ProxyOptions{Upstream: u, Source: src, Scheme: scheme, ErrorLog: log.New(io.Discard, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return srv
}

func static(tok string) TokenProvider {
	return TokenProviderFunc(func(context.Context, bool) (string, error) { return tok, nil })
}

func TestProxyAddsTokenAndReplacesClients(t *testing.T) {
	var seen http.Header
	var path string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, path = r.Header.Clone(), r.URL.RequestURI()
		body, _ := io.ReadAll(r.Body)
		_, _ = fmt.Fprintf(w, "got %s", body)
	}))
	defer up.Close()
	px := startProxy(t, up.URL+"/api", static("tok"), Raw)
	req, _ := http.NewRequest(http.MethodPost, px.URL+"/items?x=1", strings.NewReader("hello"))
	req.Header.Set("Authorization", "Bearer client-supplied")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "got hello" || seen.Get("Authorization") != "tok" || path != "/api/items?x=1" {
		t.Fatalf("body %q, auth %q, path %q", body, seen.Get("Authorization"), path)
	}
	if seen.Get("X-Forwarded-For") == "" {
		t.Error("no X-Forwarded-For")
	}
}

func TestProxyTokenFailureIs502(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { t.Error("upstream reached") }))
	defer up.Close()
	px := startProxy(t, up.URL, TokenProviderFunc(func(context.Context, bool) (string, error) {
		return "", errors.New("session signed out")
	}), Bearer)
	resp, err := http.Get(px.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), "session signed out") {
		t.Fatalf("status %d body %q", resp.StatusCode, body)
	}
}

// TestProxyStreams checks that the proxy passes each chunk on as it comes: the
// upstream waits for the client to have read the first chunk before sending the
// second, which would deadlock if the proxy buffered.
func TestProxyStreams(t *testing.T) {
	next := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: one\n\n")
		w.(http.Flusher).Flush()
		<-next
		_, _ = io.WriteString(w, "data: two\n\n")
	}))
	defer up.Close()
	px := startProxy(t, up.URL, static("tok"), Bearer)
	resp, err := http.Get(px.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	line, err := r.ReadString('\n')
	if err != nil || line != "data: one\n" {
		t.Fatalf("first chunk %q, %v", line, err)
	}
	close(next)
	rest, _ := io.ReadAll(r)
	if string(rest) != "\ndata: two\n\n" {
		t.Fatalf("rest %q", rest)
	}
}

// TestProxyUpgrade passes a protocol upgrade (as WebSocket does) through the proxy
// and talks over the upgraded connection both ways.
func TestProxyUpgrade(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "echo" || r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "want upgrade with token", http.StatusBadRequest)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		_ = brw.Flush()
		line, _ := brw.ReadString('\n')
		_, _ = brw.WriteString("echo: " + line)
		_ = brw.Flush()
	}))
	defer up.Close()
	px := startProxy(t, up.URL, static("tok"), Bearer)
	conn, err := net.Dial("tcp", strings.TrimPrefix(px.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d", resp.StatusCode)
	}
	_, _ = io.WriteString(conn, "ping\n")
	line, err := br.ReadString('\n')
	if err != nil || line != "echo: ping\n" {
		t.Fatalf("got %q, %v", line, err)
	}
}

func TestNewProxyRefusesBadOptions(t *testing.T) {
	rel, _ := url.Parse("/relative")
	abs, _ := url.Parse("http://127.0.0.1:1")
	for _, o := range []ProxyOptions{{Source: static("t")}, {Upstream: rel, Source: static("t")}, {Upstream: abs}} {
		if _, err := NewProxy(o); err == nil {
			t.Errorf("NewProxy(%+v) accepted", o)
		}
	}
}

// BenchmarkProxy compares a small GET made directly to the upstream with the same
// GET through the proxy, both over loopback with keep-alive.
func BenchmarkProxy(b *testing.B) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	defer up.Close()
	px := startProxy(b, up.URL, static("tok"), Bearer)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	get := func(b *testing.B, u string) {
		resp, err := client.Get(u)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			get(b, up.URL)
		}
	})
	b.Run("via-proxy", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			get(b, px.URL)
		}
	})
}
