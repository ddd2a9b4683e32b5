package connectauth_test

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"connectrpc.com/connect"
	"github.com/cogauth/cogauth/grpcauth/connectauth"
	"github.com/cogauth/cogauth/httpauth"
	"github.com/cogauth/cogauth/internal/bearer/bearertest"
	"github.com/cogauth/cogauth/session"
)

type msg struct{ S string }

// stringCodec carries msg as its bytes, so the test service needs no protoc.
type stringCodec struct{}

func (stringCodec) Name() string                  { return "cogauthtest" }
func (stringCodec) Marshal(v any) ([]byte, error) { return []byte(v.(*msg).S), nil }
func (stringCodec) Unmarshal(b []byte, v any) error {
	m, ok := v.(*msg)
	if !ok {
		return errors.New("not a *msg")
	}
	m.S = string(b)
	return nil
}

const (
	svc     = "/cogauth.test.Echo/"
	pWhoami = svc + "Whoami"
	pAdmin  = svc + "Admin"
	pStaff  = svc + "Staff"
	pOpen   = svc + "Open"
	pCount  = svc + "Count"
	pChat   = svc + "Chat"
	pSum    = svc + "Sum"
)

func whoami(ctx context.Context) string {
	if c, ok := httpauth.ClaimsFrom(ctx); ok {
		return c.Username
	}
	return "-"
}

// bench is the emulator's session, a Connect server over TLS and HTTP/2 whose
// handlers check tokens, and a client per protocol.
type bench struct {
	*bearertest.Env
	url    string
	client *http.Client
	cert   *x509.Certificate
	seen   atomic.Int64 // calls that reached the handler interceptor
}

type counter struct{ n *atomic.Int64 }

func (c counter) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		c.n.Add(1)
		return next(ctx, req)
	}
}
func (c counter) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}
func (c counter) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		c.n.Add(1)
		return next(ctx, conn)
	}
}

func newBench(t *testing.T) *bench {
	b := &bench{Env: bearertest.New(t)}
	opts := connect.WithHandlerOptions(connect.WithCodec(stringCodec{}), connect.WithInterceptors(counter{&b.seen},
		connectauth.HandlerInterceptor(b.Verifier,
			connectauth.Method(pWhoami, connectauth.Policy{Scopes: []string{bearertest.ScopeSignIn}}),
			connectauth.Method(pAdmin, connectauth.Policy{Scopes: []string{"orders/write"}}),
			connectauth.Method(pStaff, connectauth.Policy{Groups: []string{bearertest.Group}}),
			connectauth.Public(pOpen),
			connectauth.PublicHealthAndReflection())))
	mux := http.NewServeMux()
	who := func(ctx context.Context, _ *connect.Request[msg]) (*connect.Response[msg], error) {
		return connect.NewResponse(&msg{whoami(ctx)}), nil
	}
	for _, p := range []string{pWhoami, pAdmin, pStaff, pOpen} {
		mux.Handle(p, connect.NewUnaryHandler(p, who, opts))
	}
	mux.Handle(pCount, connect.NewServerStreamHandler(pCount, func(ctx context.Context, req *connect.Request[msg], st *connect.ServerStream[msg]) error {
		for range 3 {
			if err := st.Send(&msg{whoami(ctx) + " " + req.Msg.S}); err != nil {
				return err
			}
		}
		return nil
	}, opts))
	mux.Handle(pSum, connect.NewClientStreamHandler(pSum, func(ctx context.Context, st *connect.ClientStream[msg]) (*connect.Response[msg], error) {
		n := 0
		for st.Receive() {
			n++
		}
		return connect.NewResponse(&msg{whoami(ctx) + " " + string(rune('0'+n))}), st.Err()
	}, opts))
	mux.Handle(pChat, connect.NewBidiStreamHandler(pChat, func(ctx context.Context, st *connect.BidiStream[msg, msg]) error {
		if err := st.Send(&msg{"hello " + whoami(ctx) + " " + st.RequestHeader().Get("X-Trace")}); err != nil {
			return err
		}
		for {
			in, err := st.Receive()
			if err != nil {
				return nil // io.EOF: the client is done
			}
			if err := st.Send(in); err != nil {
				return err
			}
		}
	}, opts))
	srv := httptest.NewUnstartedServer(mux)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	b.url, b.client, b.cert = srv.URL, srv.Client(), srv.Certificate()
	return b
}

func (b *bench) newClient(p string, src connectauth.TokenProvider, extra ...connect.ClientOption) *connect.Client[msg, msg] {
	opts := []connect.ClientOption{connect.WithCodec(stringCodec{})}
	if src != nil {
		opts = append(opts, connect.WithInterceptors(connectauth.ClientInterceptor(src)))
	}
	return connect.NewClient[msg, msg](b.client, b.url+p, append(opts, extra...)...)
}

var protocols = map[string][]connect.ClientOption{"connect": nil, "grpc": {connect.WithGRPC()}, "grpcweb": {connect.WithGRPCWeb()}}

// TestUnary: each protocol carries the session's token; the handler reads the
// user through httpauth.ClaimsFrom; refusals carry their codes.
func TestUnary(t *testing.T) {
	b := newBench(t)
	ctx := context.Background()
	good, err := b.Session.Token(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	for name, extra := range protocols {
		t.Run(name, func(t *testing.T) {
			res, err := b.newClient(pWhoami, b.Session, extra...).CallUnary(ctx, connect.NewRequest(&msg{}))
			if err != nil || res.Msg.S != bearertest.User {
				t.Fatalf("Whoami: %v %v", res, err)
			}
			if res, err := b.newClient(pStaff, b.Session, extra...).CallUnary(ctx, connect.NewRequest(&msg{})); err != nil || res.Msg.S != bearertest.User {
				t.Fatalf("Staff: %v", err)
			}
			for _, c := range []struct {
				name, proc string
				src        connectauth.TokenProvider
				code       connect.Code
				msg        string
			}{
				{"no token", pWhoami, nil, connect.CodeUnauthenticated, "missing bearer token"},
				{"garbage", pWhoami, staticToken("x.y.z"), connect.CodeUnauthenticated, "malformed token"},
				{"scope", pAdmin, b.Session, connect.CodePermissionDenied, "required scope missing"},
			} {
				_, err := b.newClient(c.proc, c.src, extra...).CallUnary(ctx, connect.NewRequest(&msg{}))
				var ce *connect.Error
				if !errors.As(err, &ce) || ce.Code() != c.code || ce.Message() != c.msg {
					t.Fatalf("%s: %v, want %s %q", c.name, err, c.code, c.msg)
				}
				if strings.Contains(err.Error(), good[:20]) {
					t.Fatalf("%s: the error holds the token", c.name)
				}
			}
			if res, err := b.newClient(pOpen, nil, extra...).CallUnary(ctx, connect.NewRequest(&msg{})); err != nil || res.Msg.S != "-" {
				t.Fatalf("Open: %v %v", res, err)
			}
		})
	}
	// The plain HTTP answer to a request without a token is a 401 with a challenge.
	req, _ := http.NewRequest(http.MethodPost, b.url+pWhoami, strings.NewReader("x"))
	req.Header.Set("Content-Type", "application/cogauthtest")
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != "Bearer" {
		t.Fatalf("raw request: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}

func staticToken(tok string) connectauth.TokenProvider {
	return httpauth.TokenProviderFunc(func(context.Context, bool) (string, error) { return tok, nil })
}

// TestRefreshOnce: 100 concurrent calls meet CodeUnauthenticated after the
// server starts refusing the token; they share one refresh and all succeed.
func TestRefreshOnce(t *testing.T) {
	b := newBench(t)
	ctx := context.Background()
	c := b.newClient(pWhoami, b.Session)
	if _, err := c.CallUnary(ctx, connect.NewRequest(&msg{})); err != nil {
		t.Fatal(err)
	}
	b.RevokeCurrent()
	before, seen := b.Refreshes(), b.seen.Load()
	const n = 100
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			res, err := c.CallUnary(ctx, connect.NewRequest(&msg{}))
			if err == nil && res.Msg.S != bearertest.User {
				err = errors.New("got " + res.Msg.S)
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := b.Refreshes() - before; got != 1 {
		t.Fatalf("%d refreshes for %d refused calls, want 1", got, n)
	}
	if calls := b.seen.Load() - seen; calls < n+1 || calls > 2*n {
		t.Fatalf("%d calls reached the handler", calls)
	}
	// No retry on another code.
	seen, before = b.seen.Load(), b.Refreshes()
	if _, err := b.newClient(pAdmin, b.Session).CallUnary(ctx, connect.NewRequest(&msg{})); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Fatal(err)
	}
	if b.seen.Load()-seen != 1 || b.Refreshes() != before {
		t.Fatal("PermissionDenied was retried")
	}
}

// TestStreams: server, client and bidi streams carry the token; a server stream
// and a bidi stream refused before their first message are opened again once.
func TestStreams(t *testing.T) {
	b := newBench(t)
	ctx := context.Background()
	count := func() string {
		st, err := b.newClient(pCount, b.Session).CallServerStream(ctx, connect.NewRequest(&msg{"n"}))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var got []string
		for st.Receive() {
			got = append(got, st.Msg().S)
		}
		if err := st.Err(); err != nil {
			t.Fatalf("Count after %q: %v", got, err)
		}
		return strings.Join(got, ",")
	}
	chat := func() string {
		st := b.newClient(pChat, b.Session).CallBidiStream(ctx)
		st.RequestHeader().Set("X-Trace", "t1")
		if err := st.Send(nil); err != nil { // Connect sends the headers on the first Send
			t.Fatal(err)
		}
		var got []string
		m, err := st.Receive()
		if err != nil {
			t.Fatalf("greeting: %v", err)
		}
		got = append(got, m.S)
		for _, w := range []string{"a", "b"} {
			if err := st.Send(&msg{w}); err != nil {
				t.Fatal(err)
			}
			if m, err = st.Receive(); err != nil {
				t.Fatal(err)
			}
			got = append(got, m.S)
		}
		_ = st.CloseRequest()
		_ = st.CloseResponse()
		return strings.Join(got, ",")
	}
	sum := func() string {
		st := b.newClient(pSum, b.Session).CallClientStream(ctx)
		for range 3 {
			if err := st.Send(&msg{"x"}); err != nil {
				t.Fatal(err)
			}
		}
		res, err := st.CloseAndReceive()
		if err != nil {
			t.Fatal(err)
		}
		return res.Msg.S
	}
	if got := sum(); got != "alice 3" {
		t.Fatalf("Sum: %q", got)
	}
	for name, c := range map[string]struct {
		run  func() string
		want string
	}{"Count": {count, "alice n,alice n,alice n"}, "Chat": {chat, "hello alice t1,a,b"}} {
		if got := c.run(); got != c.want {
			t.Fatalf("%s: %q", name, got)
		}
		b.RevokeCurrent()
		before, seen := b.Refreshes(), b.seen.Load()
		if got := c.run(); got != c.want {
			t.Fatalf("%s after revocation: %q", name, got)
		}
		if n := b.Refreshes() - before; n != 1 {
			t.Fatalf("%s: %d refreshes", name, n)
		}
		if n := b.seen.Load() - seen; n != 2 {
			t.Fatalf("%s: %d attempts, want 2", name, n)
		}
	}
}

// TestRefreshFails: a revoked refresh token gives CodeUnauthenticated matching
// ErrToken and session.ErrSignedOut.
func TestRefreshFails(t *testing.T) {
	b := newBench(t)
	ctx := context.Background()
	s, err := b.Session.Fetch(ctx, session.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Cognito.RevokeToken(ctx, s.Tokens.Refresh); err != nil {
		t.Fatal(err)
	}
	b.RevokeCurrent()
	_, err = b.newClient(pWhoami, b.Session).CallUnary(ctx, connect.NewRequest(&msg{}))
	if connect.CodeOf(err) != connect.CodeUnauthenticated || !errors.Is(err, connectauth.ErrToken) || !errors.Is(err, session.ErrSignedOut) {
		t.Fatalf("%v", err)
	}
}
