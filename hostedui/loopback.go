package hostedui

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// CallbackPath is the path the loopback receiver answers on.
const CallbackPath = "/callback"

// Receiver is a one-shot HTTP server on the loopback interface that receives the
// authorization server's redirect (RFC 8252 7.3) and shows the browser a page
// saying the window may be closed.
type Receiver struct {
	// RedirectURI is the URI to register with the app client and pass to
	// AuthCodeURL: http://127.0.0.1:PORT/callback (or the host ReceiverOptions
	// names).
	RedirectURI string

	ln   net.Listener
	srv  *http.Server
	once sync.Once
	got  chan url.Values
}

// ReceiverOptions adjust Listen.
type ReceiverOptions struct {
	// Port to listen on; 0 picks a free one. Cognito matches callback URLs
	// exactly, so a client registered with a fixed port needs that port here.
	Port int
	// Host names the loopback host in the redirect URI: "127.0.0.1" (default) or
	// "localhost", whichever the app client registered. The listener is always
	// on 127.0.0.1.
	Host string
}

// Listen starts a receiver. Close it when done.
func Listen(o ReceiverOptions) (*Receiver, error) {
	host := o.Host
	switch host {
	case "":
		host = "127.0.0.1"
	case "127.0.0.1", "localhost":
	default:
		return nil, fmt.Errorf("hostedui: the redirect host must be 127.0.0.1 or localhost, not %q", host)
	}
	if o.Port < 0 || o.Port > 65535 {
		return nil, fmt.Errorf("hostedui: port %d out of range", o.Port)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(o.Port)))
	if err != nil {
		return nil, fmt.Errorf("hostedui: listening for the redirect: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	r := &Receiver{
		RedirectURI: "http://" + net.JoinHostPort(host, strconv.Itoa(port)) + CallbackPath,
		ln:          ln,
		got:         make(chan url.Values, 1),
	}
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

// serve takes the first callback that carries a code or an error; browsers also
// ask for /favicon.ico and may reload, which must not disturb the result.
func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path != CallbackPath || req.Method != http.MethodGet {
		http.NotFound(w, req)
		return
	}
	q := req.URL.Query()
	if q.Get("code") == "" && q.Get("error") == "" {
		http.Error(w, "This address receives sign-in answers only.", http.StatusBadRequest)
		return
	}
	r.once.Do(func() { r.got <- q })
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// The page must not leak the code through the Referer of anything it loads:
	// it loads nothing, and says so.
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	title, msg := "Signed in", "You are signed in. You may close this window and return to the terminal."
	if q.Get("error") != "" {
		title, msg = "Sign-in failed", "The sign-in did not complete. You may close this window; the terminal tells what happened."
	}
	fmt.Fprintf(w, `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>%s</title>
<style>body{font-family:sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}</style></head>
<body><h1 id="title">%s</h1><p id="message">%s</p></body></html>
`, title, title, msg)
}

// Wait returns the callback's query once the browser arrives, or ctx's error.
func (r *Receiver) Wait(ctx context.Context) (url.Values, error) {
	select {
	case q := <-r.got:
		return q, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("hostedui: waiting for the browser: %w", ctx.Err())
	}
}

// Close stops the receiver, giving a page being written a moment to finish.
func (r *Receiver) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := r.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return r.srv.Close()
	}
	return nil
}

// LoginOptions adjust Login.
type LoginOptions struct {
	AuthorizeOptions
	ReceiverOptions
	// Open shows the authorize URL to the user: opens a browser, or prints it.
	// Required.
	Open func(ctx context.Context, authorizeURL string) error
}

// Login runs the browser sign-in: it starts a loopback receiver, hands the
// authorize URL to Open, waits for the redirect (until ctx ends) and exchanges
// the code. AuthorizeOptions.RedirectURI is ignored: the receiver's is used.
func (c *Client) Login(ctx context.Context, o LoginOptions) (*Tokens, error) {
	if o.Open == nil {
		return nil, errors.New("hostedui: LoginOptions.Open is required")
	}
	rcv, err := Listen(o.ReceiverOptions)
	if err != nil {
		return nil, err
	}
	defer rcv.Close()
	ao := o.AuthorizeOptions
	ao.RedirectURI = rcv.RedirectURI
	req, err := c.AuthCodeURL(ao)
	if err != nil {
		return nil, err
	}
	if err := o.Open(ctx, req.URL); err != nil {
		return nil, err
	}
	q, err := rcv.Wait(ctx)
	if err != nil {
		return nil, err
	}
	return c.Exchange(ctx, req, q)
}
