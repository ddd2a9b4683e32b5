package emulator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Server is an Emulator listening on a TCP address, like httptest.Server.
type Server struct {
	*Emulator
	URL string // base URL, e.g. http://127.0.0.1:39123

	ln       net.Listener
	srv      *http.Server
	done     chan error
	stopOnce sync.Once
	stopErr  error
}

// NewServer starts an emulator on a free loopback port. It is for tests: like
// httptest.NewServer it panics when it cannot start. Close it when done.
func NewServer(opts Options) *Server {
	s, err := Listen("127.0.0.1:0", opts)
	if err != nil {
		panic(fmt.Sprintf("emulator: NewServer: %v", err))
	}
	return s
}

// Listen starts an emulator on addr ("127.0.0.1:9229"; port 0 picks a free one).
// With Options.SelfIssuer the tokens' issuer is the server's own URL.
func Listen(addr string, opts Options) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("emulator: %w", err)
	}
	url := "http://" + ln.Addr().String()
	if opts.SelfIssuer && opts.IssuerBaseURL == "" {
		opts.IssuerBaseURL = url
	}
	e, err := New(opts)
	if err != nil {
		ln.Close()
		return nil, err
	}
	s := &Server{
		Emulator: e,
		URL:      url,
		ln:       ln,
		srv:      &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second},
		done:     make(chan error, 1),
	}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Shutdown stops accepting requests, waits for those under way (until ctx ends),
// and saves the state file when one is configured.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopOnce.Do(func() { s.stopErr = s.shutdown(ctx) })
	return s.stopErr
}

func (s *Server) shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	s.lambdaHTTP.CloseIdleConnections()
	if serr := <-s.done; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if s.opts.StateFile != "" {
		if serr := s.SaveState(s.opts.StateFile); serr != nil && err == nil {
			err = serr
		}
	}
	return err
}

// Close shuts the server down, giving requests under way five seconds.
func (s *Server) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		s.logger().Error("emulator: close", "err", err.Error())
	}
}

// PoolID returns the ID of the seeded user pool named name ("" when none).
func (s *Server) PoolID(name string) string {
	if s.seeded == nil {
		return ""
	}
	return s.seeded.UserPools[name].ID
}

// AppClient returns the ID and secret of a seeded app client (named for what it
// returns: unlike httptest.Server.Client, no *http.Client).
func (s *Server) AppClient(pool, client string) SeededClient {
	if s.seeded == nil {
		return SeededClient{}
	}
	return s.seeded.UserPools[pool].Clients[client]
}

// isLoopback tells whether a request came from this machine.
func isLoopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	host = strings.Trim(host, "[]")
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
