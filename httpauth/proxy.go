package httpauth

import (
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
)

// ProxyOptions configure NewProxy.
type ProxyOptions struct {
	// Upstream is where requests go; its path is a prefix of theirs.
	Upstream *url.URL
	// Source provides the token for each request.
	Source TokenProvider
	// Scheme of the Authorization header (Bearer by default).
	Scheme Scheme
	// Base carries requests upstream; http.DefaultTransport when nil.
	Base http.RoundTripper
	// ErrorLog receives proxy errors (never tokens); the standard logger when nil.
	ErrorLog *log.Logger
}

// NewProxy returns a reverse proxy that adds the current token to every request,
// replacing any Authorization header the client sent, so that tools that know
// nothing of Cognito can call a protected API. Bodies stream in both directions;
// WebSocket and other protocol upgrades pass through (the Upgrade exchange carries
// the token too). A request the proxy cannot get a token for is answered 502.
func NewProxy(opts ProxyOptions) (*httputil.ReverseProxy, error) {
	if opts.Upstream == nil || opts.Upstream.Scheme == "" || opts.Upstream.Host == "" {
		return nil, errors.New("httpauth: NewProxy: upstream must be an absolute URL")
	}
	if opts.Source == nil {
		return nil, errors.New("httpauth: NewProxy: no token source")
	}
	up := opts.Upstream
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(up)
			pr.SetXForwarded()
			// Whatever the client sent is replaced by the session's token.
			pr.Out.Header.Del("Authorization")
		},
		Transport: &Transport{Source: opts.Source, Scheme: opts.Scheme, Base: opts.Base},
		// Flush at once: server-sent events, long polls and chunked downloads
		// must not wait in our buffer.
		FlushInterval: -1,
		BufferPool:    newBufferPool(),
		ErrorLog:      opts.ErrorLog,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			logf(opts.ErrorLog, "cogauth proxy: %s %s: %v", r.Method, r.URL.Path, err)
			status := http.StatusBadGateway
			msg := "upstream unreachable"
			if errors.Is(err, ErrToken) {
				msg = fmt.Sprintf("cannot get a token: %v", err)
			}
			http.Error(w, "cogauth proxy: "+msg, status)
		},
	}, nil
}

// bufferPool reuses the proxy's copy buffers; without it every request
// allocates a fresh 32 KiB one.
type bufferPool struct{ p sync.Pool }

func newBufferPool() *bufferPool {
	return &bufferPool{p: sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}}
}

func (b *bufferPool) Get() []byte  { return *b.p.Get().(*[]byte) }
func (b *bufferPool) Put(x []byte) { b.p.Put(&x) }

func logf(l *log.Logger, format string, args ...any) {
	if l != nil {
		l.Printf(format, args...)
		return
	}
	log.Printf(format, args...)
}
