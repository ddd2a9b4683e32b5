// Command roundrobin is the smallest load balancer that shows replicas of
// examples/webapp as one app: it sends each request to the next backend in
// turn, as a round-robin proxy would, and says which one answered in an
// X-Backend header (package lb).
//
//	go run ./examples/roundrobin -listen localhost:8080 localhost:8081 localhost:8082 localhost:8083
//
// A backend that refuses the connection is skipped for that request (nginx's
// proxy_next_upstream error); anything else it answers goes back as it is.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/cogauth/cogauth/examples/roundrobin/lb"
)

func main() {
	listen := flag.String("listen", "localhost:8080", "listen address")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "roundrobin: name at least one backend (HOST:PORT)")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(os.Stderr, "roundrobin: cannot listen on %s: %v\n", *listen, err)
		os.Exit(1)
	}
	if err := serve(ctx, l, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "roundrobin:", err)
		os.Exit(1)
	}
}

// serve proxies l's requests round robin to backends until ctx ends.
func serve(ctx context.Context, l net.Listener, backends []string) error {
	h, err := lb.New(backends)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(slog.Default().Handler(), slog.LevelWarn)}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
