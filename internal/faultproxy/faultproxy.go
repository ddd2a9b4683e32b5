// Package faultproxy is a real loopback HTTP server that sits between a client and
// an upstream (the emulator, moto) and answers each request as a test tells it:
// pass it through, refuse the connection, reset it, hang, answer with an error page
// or a Cognito error, cut the answer short, stream a huge one, trickle it, or
// rewrite the upstream's JSON. It is what the networks between a client and
// Cognito do every day, made repeatable.
//
//	p := faultproxy.Start(t, emu.URL)
//	client := newClient(p.URL())
//	p.Set("GetTokensFromRefreshToken", faultproxy.HTML(502))
//	... // the refresh meets a load balancer's 502 page
//	p.Clear() // everything passes through again
//
// Faults are chosen per operation: the part of X-Amz-Target after the last dot
// ("InitiateAuth", "GetCredentialsForIdentity") or, for other requests, the URL path
// ("/oauth2/token"). The operation "" matches every request that has no fault of
// its own. The proxy counts the requests of each operation, faulted or not.
package faultproxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Any is the operation that matches every request without a fault of its own.
const Any = ""

// Proxy is a running fault proxy. Its methods are safe for concurrent use.
type Proxy struct {
	t        testing.TB
	upstream string
	addr     string
	srv      *http.Server
	tr       *http.Transport
	done     chan struct{} // closed when the proxy stops: hung answers end

	mu     sync.Mutex
	ln     net.Listener // nil while refusing connections
	faults map[string]*entry
	counts map[string]int
	conns  map[net.Conn]struct{}
	closed bool
}

type entry struct {
	f    Fault
	left int // answers still to fault; <0: no limit
}

// Start runs a proxy on a loopback port in front of upstream (a base URL such as
// "http://127.0.0.1:1234") and stops it when the test ends. Every request passes
// through until Set says otherwise.
func Start(t testing.TB, upstream string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("faultproxy: listen: %v", err)
	}
	p := &Proxy{
		t:        t,
		upstream: strings.TrimRight(upstream, "/"),
		addr:     ln.Addr().String(),
		tr:       &http.Transport{Proxy: nil, DisableCompression: true, MaxIdleConnsPerHost: 16},
		done:     make(chan struct{}),
		faults:   map[string]*entry{},
		counts:   map[string]int{},
		conns:    map[net.Conn]struct{}{},
	}
	p.srv = &http.Server{
		Handler:     http.HandlerFunc(p.serve),
		ConnState:   p.connState,
		ReadTimeout: time.Minute,
		ErrorLog:    nil,
	}
	p.serveOn(ln)
	t.Cleanup(p.Close)
	return p
}

// URL is the proxy's base URL ("http://127.0.0.1:port"): the endpoint to give the
// client under test.
func (p *Proxy) URL() string { return "http://" + p.addr }

// Set makes the proxy answer requests of op with f, until Set or Clear changes it.
// op is an X-Amz-Target operation name, a URL path, or Any.
func (p *Proxy) Set(op string, f Fault) {
	p.mu.Lock()
	p.faults[op] = &entry{f: f, left: f.times}
	p.mu.Unlock()
	p.updateListener()
}

// Clear removes every fault: all requests pass through again, and a proxy that
// was refusing connections listens again on the same address.
func (p *Proxy) Clear() {
	p.mu.Lock()
	clear(p.faults)
	p.mu.Unlock()
	p.updateListener()
}

// Count returns how many requests of op reached the proxy (faulted or passed).
// Count(Any) is the total.
func (p *Proxy) Count(op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if op == Any {
		n := 0
		for _, c := range p.counts {
			n += c
		}
		return n
	}
	return p.counts[op]
}

// ResetCounts sets every count back to zero.
func (p *Proxy) ResetCounts() {
	p.mu.Lock()
	clear(p.counts)
	p.mu.Unlock()
}

// Close stops the proxy: hung answers end, every connection closes. Start
// registers it with t.Cleanup; calling it again does nothing.
func (p *Proxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.done)
	ln := p.ln
	p.ln = nil
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
	p.srv.Close()
	p.tr.CloseIdleConnections()
}

func (p *Proxy) serveOn(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go p.srv.Serve(ln) //nolint:errcheck // ends when the listener closes
}

// updateListener closes the listener (and every open connection, so no kept-alive
// connection lets a request through) while some fault refuses connections, and
// listens again on the same address once none does.
func (p *Proxy) updateListener() {
	p.mu.Lock()
	refuse := false
	for _, e := range p.faults {
		if e.f.refuse {
			refuse = true
		}
	}
	if p.closed {
		p.mu.Unlock()
		return
	}
	switch {
	case refuse && p.ln != nil:
		ln := p.ln
		p.ln = nil
		for c := range p.conns {
			c.Close()
		}
		clear(p.conns)
		p.mu.Unlock()
		ln.Close()
		return
	case !refuse && p.ln == nil:
		p.mu.Unlock()
		ln, err := net.Listen("tcp", p.addr)
		if err != nil {
			p.t.Errorf("faultproxy: listen again on %s: %v", p.addr, err)
			return
		}
		p.serveOn(ln)
		return
	}
	p.mu.Unlock()
}

func (p *Proxy) connState(c net.Conn, s http.ConnState) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch s {
	case http.StateNew:
		if p.closed || p.ln == nil {
			c.Close()
			return
		}
		p.conns[c] = struct{}{}
	case http.StateClosed:
		delete(p.conns, c)
	}
}

// operation names a request: the X-Amz-Target operation, else the URL path.
func operation(r *http.Request) string {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		return t[strings.LastIndexByte(t, '.')+1:]
	}
	return r.URL.Path
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	op := operation(r)
	p.mu.Lock()
	p.counts[op]++
	e := p.faults[op]
	if e == nil {
		e = p.faults[Any]
	}
	var f Fault
	if e != nil {
		switch {
		case e.left < 0:
			f = e.f
		case e.left > 0:
			f = e.f
			e.left--
		}
	}
	p.mu.Unlock()
	if f.serve == nil {
		f = Pass()
	}
	f.serve(p, w, r)
}

// forward sends r upstream and returns the answer with its body read (upstream is
// a test server, trusted to answer in reasonable size).
func (p *Proxy) forward(r *http.Request) (*http.Response, []byte, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, nil, err
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, p.upstream+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header = r.Header.Clone()
	req.Host = ""
	resp, err := p.tr.RoundTrip(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	return resp, b, nil
}

// forwardOr502 forwards r, answering 502 itself when the upstream cannot be reached.
func (p *Proxy) forwardOr502(w http.ResponseWriter, r *http.Request) (*http.Response, []byte, bool) {
	resp, body, err := p.forward(r)
	if err != nil {
		http.Error(w, "faultproxy: upstream: "+err.Error(), http.StatusBadGateway)
		return nil, nil, false
	}
	return resp, body, true
}

func copyHeader(dst, src http.Header) {
	for k, v := range src {
		if k == "Content-Length" || k == "Transfer-Encoding" || k == "Connection" {
			continue
		}
		dst[k] = v
	}
}

// hijack takes the connection over from the server.
func hijack(w http.ResponseWriter) (net.Conn, bool) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil, false
	}
	c, _, err := hj.Hijack()
	if err != nil {
		return nil, false
	}
	return c, true
}

// rawAnswer renders a whole HTTP/1.1 answer as bytes, with the Content-Length
// it declares (which may be more than body holds).
func rawAnswer(status int, h http.Header, body []byte, declared int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	h = h.Clone()
	h.Del("Transfer-Encoding")
	h.Set("Content-Length", strconv.Itoa(declared))
	h.Set("Connection", "close")
	h.Write(&b) //nolint:errcheck // a bytes.Buffer does not fail
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

// Fault is how the proxy answers a request. The zero Fault passes the request
// through. Faults are values: build them once in a table and Set them per row.
type Fault struct {
	name   string
	serve  func(p *Proxy, w http.ResponseWriter, r *http.Request)
	refuse bool
	times  int
}

// String names the fault, for test names.
func (f Fault) String() string {
	if f.name == "" {
		return "pass"
	}
	return f.name
}

// Times limits the fault to the next n requests of its operation; later ones pass
// through. n <= 0 means no limit.
func (f Fault) Times(n int) Fault {
	f.times = n
	if n <= 0 {
		f.times = -1
	}
	return f
}

func fault(name string, serve func(p *Proxy, w http.ResponseWriter, r *http.Request)) Fault {
	return Fault{name: name, serve: serve, times: -1}
}

// Pass sends the request upstream and its answer back unchanged.
func Pass() Fault {
	return fault("pass", func(p *Proxy, w http.ResponseWriter, r *http.Request) {
		resp, body, ok := p.forwardOr502(w, r)
		if !ok {
			return
		}
		copyHeader(w.Header(), resp.Header)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(resp.StatusCode)
		w.Write(body) //nolint:errcheck // the client may have gone
	})
}

// Refuse closes the proxy's listener, so that every connection attempt is refused
// (ECONNREFUSED) and kept-alive connections are closed — whatever the operation
// it is Set for, since a refused connection never names one. Clear, or Set for the
// same operation with another fault, opens the listener again.
func Refuse() Fault {
	f := fault("refuse", func(p *Proxy, w http.ResponseWriter, r *http.Request) {
		// A request on a connection accepted just before the listener closed.
		if c, ok := hijack(w); ok {
			reset(c)
		}
	})
	f.refuse = true
	return f
}

// Reset reads the request and then resets the connection (TCP RST) without
// answering.
func Reset() Fault {
	return fault("reset", func(p *Proxy, w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) //nolint:errcheck // any error ends the request anyway
		if c, ok := hijack(w); ok {
			reset(c)
		}
	})
}

func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0) //nolint:errcheck // the close below still ends it
	}
	c.Close()
}

// Hang accepts the request and never answers, until the client gives up or the
// proxy stops.
func Hang() Fault {
	return fault("hang", func(p *Proxy, w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-p.done:
		}
		// No answer at all: returning would let net/http send an empty 200
		// before Close reaches the connection.
		panic(http.ErrAbortHandler)
	})
}

// Answer answers with status, content type and body, never asking the upstream.
func Answer(status int, contentType, body string) Fault {
	return fault(fmt.Sprintf("answer %d %s", status, contentType), func(p *Proxy, w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) //nolint:errcheck // the answer does not depend on it
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		io.WriteString(w, body) //nolint:errcheck // the client may have gone
	})
}

// JSONContentType is the content type of Cognito's JSON 1.1 answers.
const JSONContentType = "application/x-amz-json-1.1"

// CognitoError answers as Cognito does when it refuses a call: status, a JSON body
// with __type and message, and the x-amzn-ErrorType header.
func CognitoError(status int, name, message string) Fault {
	body, _ := json.Marshal(map[string]string{"__type": name, "message": message})
	return fault(fmt.Sprintf("cognito %d %s", status, name), func(p *Proxy, w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) //nolint:errcheck // the answer does not depend on it
		w.Header().Set("Content-Type", JSONContentType)
		w.Header().Set("x-amzn-ErrorType", name+":")
		w.Header().Set("x-amzn-ErrorMessage", message)
		w.Header().Set("x-amzn-RequestId", "faultproxy")
		w.WriteHeader(status)
		w.Write(body) //nolint:errcheck // the client may have gone
	})
}

// HTML answers with status and an HTML error page, as a load balancer, proxy or
// moto does — not Cognito's JSON.
func HTML(status int) Fault {
	page := fmt.Sprintf("<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n</body>\r\n</html>\r\n",
		status, http.StatusText(status), status, http.StatusText(status))
	f := Answer(status, "text/html", page)
	f.name = fmt.Sprintf("html %d", status)
	return f
}

// Throttle is Cognito's own throttling answer: 400 TooManyRequestsException.
func Throttle() Fault {
	return CognitoError(http.StatusBadRequest, "TooManyRequestsException", "Rate exceeded")
}

// TooManyRequests is a 429 as a gateway in front of the service answers it.
func TooManyRequests() Fault {
	f := Answer(http.StatusTooManyRequests, "application/json", `{"message":"Too Many Requests"}`)
	f.name = "429"
	return f
}

// Truncate passes the request through but sends only the first keep bytes of the
// upstream's answer body while declaring its full Content-Length, then closes the
// connection. keep <= 0 or past the end sends half the body.
func Truncate(keep int) Fault {
	return partialBody(fmt.Sprintf("truncate %d", keep), keep, func(*Proxy, net.Conn) {})
}

// Stall passes the request through, sends the upstream's status, headers and the
// first keep bytes of its body (half when keep <= 0 or past the end), and then
// sends nothing more until the client gives up or the proxy stops: a read that
// times out mid-body.
func Stall(keep int) Fault {
	return partialBody(fmt.Sprintf("stall %d", keep), keep, waitClosed)
}

// partialBody forwards the request, writes the upstream's status and headers with
// the full Content-Length but only keep bytes of the body (half when keep <= 0 or
// past the end), then runs after on the connection before closing it.
func partialBody(name string, keep int, after func(p *Proxy, c net.Conn)) Fault {
	return fault(name, func(p *Proxy, w http.ResponseWriter, r *http.Request) {
		resp, body, ok := p.forwardOr502(w, r)
		if !ok {
			return
		}
		k := keep
		if k <= 0 || k >= len(body) {
			k = len(body) / 2
		}
		c, ok := hijack(w)
		if !ok {
			return
		}
		defer c.Close()
		if _, err := c.Write(rawAnswer(resp.StatusCode, resp.Header, body[:k], len(body))); err != nil {
			return // the client has gone
		}
		after(p, c)
	})
}

// waitClosed blocks until the peer closes c or the proxy stops.
func waitClosed(p *Proxy, c net.Conn) {
	gone := make(chan struct{})
	go func() {
		io.Copy(io.Discard, c) //nolint:errcheck // ends when the peer closes
		close(gone)
	}()
	select {
	case <-gone:
	case <-p.done:
	}
}

// Huge answers 200 with a JSON body of mib MiB in Cognito's content type, shaped
// like an authentication result whose AccessToken is the whole body. It is
// streamed in chunks without a Content-Length, so only a reader that stops reading
// is spared it; the proxy never holds it in memory.
func Huge(mib int) Fault {
	return fault(fmt.Sprintf("huge %d MiB", mib), func(p *Proxy, w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) //nolint:errcheck // the answer does not depend on it
		w.Header().Set("Content-Type", JSONContentType)
		w.WriteHeader(http.StatusOK)
		const head, tail = `{"AuthenticationResult":{"AccessToken":"`, `"}}`
		total := int64(mib) << 20
		if _, err := io.WriteString(w, head); err != nil {
			return
		}
		chunk := bytes.Repeat([]byte("a"), 64<<10)
		for left := total - int64(len(head)+len(tail)); left > 0; {
			n := min(left, int64(len(chunk)))
			if _, err := w.Write(chunk[:n]); err != nil {
				return
			}
			left -= n
		}
		io.WriteString(w, tail) //nolint:errcheck // the client may have gone
	})
}

// SlowLoris passes the request through and trickles the whole upstream answer,
// status line included, one byte every interval, until it is sent, the client
// gives up or the proxy stops.
func SlowLoris(interval time.Duration) Fault {
	return fault(fmt.Sprintf("slow-loris %v", interval), func(p *Proxy, w http.ResponseWriter, r *http.Request) {
		resp, body, ok := p.forwardOr502(w, r)
		if !ok {
			return
		}
		c, ok := hijack(w)
		if !ok {
			return
		}
		defer c.Close()
		raw := rawAnswer(resp.StatusCode, resp.Header, body, len(body))
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for i := range raw {
			if _, err := c.Write(raw[i : i+1]); err != nil {
				return
			}
			select {
			case <-tick.C:
			case <-p.done:
				return
			}
		}
	})
}

// Rewrite passes the request through and answers with what edit makes of the
// upstream's status, headers and body (Content-Length follows the new body).
func Rewrite(name string, edit func(status int, h http.Header, body []byte) (int, []byte)) Fault {
	return fault("rewrite "+name, func(p *Proxy, w http.ResponseWriter, r *http.Request) {
		resp, body, ok := p.forwardOr502(w, r)
		if !ok {
			return
		}
		h := resp.Header.Clone()
		status, body := edit(resp.StatusCode, h, body)
		copyHeader(w.Header(), h)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		w.Write(body) //nolint:errcheck // the client may have gone
	})
}

// SetJSON passes the request through and, on a 200 JSON answer, sets the field at
// the dotted path ("AuthenticationResult.AccessToken") to value — a non-JWT
// string, another user's token — creating objects on the way. Other answers pass
// unchanged.
func SetJSON(path string, value any) Fault {
	keys := strings.Split(path, ".")
	return Rewrite("set "+path, func(status int, h http.Header, body []byte) (int, []byte) {
		if status != http.StatusOK {
			return status, body
		}
		var m map[string]any
		if json.Unmarshal(body, &m) != nil || m == nil {
			return status, body
		}
		obj := m
		for _, k := range keys[:len(keys)-1] {
			next, ok := obj[k].(map[string]any)
			if !ok {
				next = map[string]any{}
				obj[k] = next
			}
			obj = next
		}
		obj[keys[len(keys)-1]] = value
		out, err := json.Marshal(m)
		if err != nil {
			return status, body
		}
		return status, out
	})
}

// DeleteJSON passes the request through and, on a 200 JSON answer, removes the
// field at the dotted path.
func DeleteJSON(path string) Fault {
	keys := strings.Split(path, ".")
	return Rewrite("delete "+path, func(status int, h http.Header, body []byte) (int, []byte) {
		if status != http.StatusOK {
			return status, body
		}
		var m map[string]any
		if json.Unmarshal(body, &m) != nil || m == nil {
			return status, body
		}
		obj := m
		for _, k := range keys[:len(keys)-1] {
			next, ok := obj[k].(map[string]any)
			if !ok {
				return status, body
			}
			obj = next
		}
		delete(obj, keys[len(keys)-1])
		out, err := json.Marshal(m)
		if err != nil {
			return status, body
		}
		return status, out
	})
}

// EmptyOK answers 200 with Cognito's content type and no body.
func EmptyOK() Fault {
	f := Answer(http.StatusOK, JSONContentType, "")
	f.name = "empty 200"
	return f
}

// MalformedOK answers 200 with Cognito's content type and JSON that stops midway.
func MalformedOK() Fault {
	f := Answer(http.StatusOK, JSONContentType, `{"AuthenticationResult":{"AccessToken":"eyJ`)
	f.name = "malformed 200"
	return f
}

// HTMLOK answers 200 with an HTML page, as a captive portal does.
func HTMLOK() Fault {
	f := Answer(http.StatusOK, "text/html", "<html><body>Please sign in to the network</body></html>")
	f.name = "html 200"
	return f
}
