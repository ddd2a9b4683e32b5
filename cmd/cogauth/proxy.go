package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/cogauth/cogauth/httpauth"
)

type proxyOptions struct {
	IO          IOStreams
	Listen      string
	AllowRemote bool
	Upstream    string
	Token       string // id or access
	Scheme      string // bearer or raw
	Quiet       bool
	open        func(ctx context.Context) (*profileSession, error)
	// ready, when set, is called with the listening address (tests).
	ready func(addr string)
}

func newProxyCmd(a *app) *cobra.Command {
	o := &proxyOptions{}
	cmd := &cobra.Command{
		Use:   "proxy --upstream URL [--listen 127.0.0.1:8080] [--token id|access] [--scheme bearer|raw]",
		Short: "Run a local reverse proxy that adds the session's token to every request",
		Long: `Run a reverse proxy on loopback that forwards every request to --upstream with the
profile's current token in the Authorization header (refreshed as needed; on a 401 the
token is refreshed once and the request retried), so that curl, browsers and tools
that know nothing of Cognito can call a protected API:

  cogauth proxy --upstream https://api.example.com &
  curl http://127.0.0.1:8080/items

Bodies stream both ways and WebSocket upgrades pass through. Anyone who can reach the
listening address acts as the signed-in user, so it must be a loopback address unless
--allow-remote is given. Ctrl-C or SIGTERM stops it cleanly.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.IO, o.open, o.Quiet = a.IO, a.open, a.flags.Quiet
			return runProxy(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Listen, "listen", "127.0.0.1:8080", "address to listen on")
	f.BoolVar(&o.AllowRemote, "allow-remote", false, "allow a non-loopback --listen address (whoever connects uses your session)")
	f.StringVar(&o.Upstream, "upstream", "", "URL of the API to forward to (required)")
	f.StringVar(&o.Token, "token", "access", "token to send: access or id")
	f.StringVar(&o.Scheme, "scheme", "bearer", "Authorization header form: bearer (\"Bearer <token>\") or raw (\"<token>\", as API Gateway's Cognito authorizers take it)")
	_ = cmd.RegisterFlagCompletionFunc("token", cobra.FixedCompletions([]string{"access", "id"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("scheme", cobra.FixedCompletions([]string{"bearer", "raw"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// parseUpstream checks that u is an absolute http(s) URL.
func parseUpstream(u string) (*url.URL, error) {
	if u == "" {
		return nil, usagef("--upstream is required")
	}
	up, err := url.Parse(u)
	if err != nil || (up.Scheme != "http" && up.Scheme != "https") || up.Host == "" {
		return nil, usagef("--upstream must be an http(s) URL, got %q", u)
	}
	return up, nil
}

func runProxy(ctx context.Context, o *proxyOptions) error {
	up, scheme, err := o.check()
	if err != nil {
		return err
	}
	p, err := o.open(ctx)
	if err != nil {
		return err
	}
	defer p.Close()
	// Fail now, not on the first request, when there is no usable session.
	s, err := p.fetch(ctx, false)
	if err != nil {
		return err
	}
	if o.Token == "id" && s.Tokens.ID == nil {
		return errors.New("the session has no id token: use --token access")
	}
	errLog := log.New(o.IO.ErrOut, "", log.LstdFlags)
	rp, err := httpauth.NewProxy(httpauth.ProxyOptions{Upstream: up, Source: proxyTokens(p, o.Token), Scheme: scheme, ErrorLog: errLog})
	if err != nil {
		return err
	}
	var h http.Handler = rp
	if !o.Quiet {
		h = accessLog(rp, errLog)
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return listenError(o.Listen, "--listen", err)
	}
	banner := fmt.Sprintf("(the %s token of %s, %s scheme)", o.Token, s.Username, o.Scheme)
	return o.serve(ctx, ln, h, errLog, up.Redacted()+" "+banner)
}

// check checks the flags before anything is opened: the upstream, the scheme,
// the token and a loopback address (unless --allow-remote).
func (o *proxyOptions) check() (*url.URL, httpauth.Scheme, error) {
	up, err := parseUpstream(o.Upstream)
	if err != nil {
		return nil, 0, err
	}
	scheme, err := httpauth.ParseScheme(o.Scheme)
	if err != nil {
		return nil, 0, usagef("--scheme %q: use bearer or raw", o.Scheme)
	}
	if o.Token != "access" && o.Token != "id" {
		return nil, 0, usagef("--token %q: use access or id", o.Token)
	}
	if err := checkLoopback(o.Listen, o.AllowRemote, "proxy"); err != nil {
		return nil, 0, err
	}
	return up, scheme, nil
}

// proxyTokens gives the proxy the session's access or id token, fetched (and
// renewed when due, or forced) per request.
func proxyTokens(p *profileSession, which string) httpauth.TokenProviderFunc {
	return func(ctx context.Context, force bool) (string, error) {
		s, err := p.fetch(ctx, force)
		if err != nil {
			return "", err
		}
		if which != "id" {
			return s.Tokens.Access.Raw(), nil
		}
		if s.Tokens.ID == nil {
			return "", errors.New("the session has no id token")
		}
		return s.Tokens.ID.Raw(), nil
	}
}

// serve serves h on ln until ctx ends (Ctrl-C) or serving fails; to is what
// the banner says the proxy forwards to.
func (o *proxyOptions) serve(ctx context.Context, ln net.Listener, h http.Handler, errLog *log.Logger, to string) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: errLog}
	failed := make(chan error, 1)
	go func() { failed <- fmt.Errorf("proxy: %w", srv.Serve(ln)) }()
	addr := ln.Addr().String()
	fmt.Fprintf(o.IO.ErrOut, "Proxy on http://%s -> %s. Ctrl-C stops it.\n", addr, to)
	if o.ready != nil {
		o.ready(addr)
	}
	err := serveUntilDone(ctx, failed, func(stopCtx context.Context) error {
		if err := srv.Shutdown(stopCtx); err != nil {
			// Hijacked connections (WebSockets) and slow streams: cut them.
			srv.Close()
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(o.IO.ErrOut, "Proxy stopped.")
	return nil
}

// accessLog logs one line per request: method, path, status and time. Never the
// query (it may hold secrets) nor any header.
func accessLog(next http.Handler, l *log.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		l.Printf("%s %s %d %s", r.Method, r.URL.Path, sw.status, time.Since(start).Round(time.Millisecond))
	})
}

// statusWriter records the status code. Unwrap lets the proxy reach the real
// writer's Flush and Hijack through http.ResponseController.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	// 1xx answers (100 Continue, 103 Early Hints) come before the real one.
	if !w.wrote && code >= 200 {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

// Hijack is how the proxy switches protocols (WebSockets): it writes the 101 on
// the hijacked connection itself, so this is where the log learns of it.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil {
		w.status, w.wrote = http.StatusSwitchingProtocols, true
	}
	return conn, brw, err
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
