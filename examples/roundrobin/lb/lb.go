// Package lb is the round-robin balancer behind examples/roundrobin, apart so
// that tests can put it in front of replicas of examples/webapp.
package lb

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"time"
)

// Balancer sends each request to the next backend in turn and names the one
// that answered in an X-Backend header. A backend that refuses the connection
// is skipped for that request (nginx's proxy_next_upstream error); anything
// else it answers goes back as it is.
type Balancer struct {
	next    atomic.Uint64
	proxies []*httputil.ReverseProxy
	names   []string
}

// refused marks a request whose backend refused the connection, so that the
// balancer tries the next one.
type refused struct{}

// New returns a Balancer over backends, each HOST:PORT.
func New(backends []string) (*Balancer, error) {
	if len(backends) == 0 {
		return nil, errors.New("lb: no backends")
	}
	b := &Balancer{}
	tr := &http.Transport{DialContext: (&net.Dialer{Timeout: 2 * time.Second}).DialContext, MaxIdleConnsPerHost: 64}
	for _, a := range backends {
		u, err := url.Parse("http://" + a)
		if err != nil || u.Host == "" || u.Path != "" {
			return nil, fmt.Errorf("lb: backend %q: want HOST:PORT", a)
		}
		p := &httputil.ReverseProxy{
			Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(u); r.Out.Host = r.In.Host; r.SetXForwarded() },
			Transport: tr,
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				var op *net.OpError
				if errors.As(err, &op) && op.Op == "dial" {
					if f, ok := r.Context().Value(refused{}).(*bool); ok {
						*f = true
						return
					}
				}
				http.Error(w, "bad gateway", http.StatusBadGateway)
			},
		}
		b.proxies, b.names = append(b.proxies, p), append(b.names, a)
	}
	return b, nil
}

func (b *Balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := b.next.Add(1)
	for i := range b.proxies {
		n := int((start + uint64(i)) % uint64(len(b.proxies)))
		var skip bool
		w.Header().Set("X-Backend", b.names[n])
		b.proxies[n].ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), refused{}, &skip)))
		if !skip {
			return
		}
	}
	w.Header().Del("X-Backend")
	http.Error(w, "no backend answered", http.StatusBadGateway)
}
