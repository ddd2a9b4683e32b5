package grpcauth_test

import (
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"

	"github.com/cogauth/cogauth/grpcauth"
	"github.com/cogauth/cogauth/httpauth"
	"github.com/cogauth/cogauth/internal/bearer/bearertest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/test/bufconn"
)

// The test service is written by hand (no protoc): messages are strings, carried
// by a codec registered under its own content subtype.
type msg struct{ S string }

type stringCodec struct{}

func (stringCodec) Marshal(v any) ([]byte, error) { return []byte(v.(*msg).S), nil }
func (stringCodec) Unmarshal(b []byte, v any) error {
	m, ok := v.(*msg)
	if !ok {
		return errors.New("stringCodec: not a *msg")
	}
	m.S = string(b)
	return nil
}
func (stringCodec) Name() string { return "cogauthtest" }

func init() { encoding.RegisterCodec(stringCodec{}) }

const (
	svc         = "/cogauth.test.Echo/"
	mWhoami     = svc + "Whoami"
	mAdmin      = svc + "Admin"
	mStaff      = svc + "Staff"
	mOpen       = svc + "Open"
	mFail       = svc + "Fail"
	mCount      = svc + "Count"
	mSum        = svc + "Sum"
	mChat       = svc + "Chat"
	mQuiet      = svc + "Quiet"
	scopeSignIn = bearertest.ScopeSignIn
)

// whoami is what every handler answers: the username the shared accessor
// (httpauth.ClaimsFrom) finds in the context, or "-" without claims.
func whoami(ctx context.Context) string {
	c, ok := httpauth.ClaimsFrom(ctx)
	if !ok {
		return "-"
	}
	return c.Username
}

func unary(f func(ctx context.Context, in *msg) (*msg, error), name string) grpc.MethodDesc {
	return grpc.MethodDesc{MethodName: name, Handler: func(srv any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
		in := new(msg)
		if err := dec(in); err != nil {
			return nil, err
		}
		info := &grpc.UnaryServerInfo{Server: srv, FullMethod: svc + name}
		h := func(ctx context.Context, req any) (any, error) { return f(ctx, req.(*msg)) }
		if ic == nil {
			return h(ctx, in)
		}
		return ic(ctx, in, info, h)
	}}
}

var errFail = errors.New("fail")

var echoDesc = grpc.ServiceDesc{
	ServiceName: "cogauth.test.Echo",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{
		unary(func(ctx context.Context, in *msg) (*msg, error) { return &msg{whoami(ctx)}, nil }, "Whoami"),
		unary(func(ctx context.Context, in *msg) (*msg, error) { return &msg{whoami(ctx)}, nil }, "Admin"),
		unary(func(ctx context.Context, in *msg) (*msg, error) { return &msg{whoami(ctx)}, nil }, "Staff"),
		unary(func(ctx context.Context, in *msg) (*msg, error) { return &msg{whoami(ctx)}, nil }, "Open"),
		unary(func(ctx context.Context, in *msg) (*msg, error) { return nil, errFail }, "Fail"),
	},
	Streams: []grpc.StreamDesc{
		// Count: server streaming, answers "<user> <in>" three times.
		{StreamName: "Count", ServerStreams: true, Handler: func(_ any, ss grpc.ServerStream) error {
			in := new(msg)
			if err := ss.RecvMsg(in); err != nil {
				return err
			}
			for range 3 {
				if err := ss.SendMsg(&msg{whoami(ss.Context()) + " " + in.S}); err != nil {
					return err
				}
			}
			return nil
		}},
		// Sum: client streaming, answers how many messages came.
		{StreamName: "Sum", ClientStreams: true, Handler: func(_ any, ss grpc.ServerStream) error {
			n := 0
			for {
				if err := ss.RecvMsg(new(msg)); err == io.EOF {
					break
				} else if err != nil {
					return err
				}
				n++
			}
			return ss.SendMsg(&msg{whoami(ss.Context()) + " " + string(rune('0'+n))})
		}},
		// Chat: bidi, greets with the username, then echoes.
		{StreamName: "Chat", ServerStreams: true, ClientStreams: true, Handler: func(_ any, ss grpc.ServerStream) error {
			if err := ss.SendMsg(&msg{"hello " + whoami(ss.Context())}); err != nil {
				return err
			}
			for {
				in := new(msg)
				if err := ss.RecvMsg(in); err == io.EOF {
					return nil
				} else if err != nil {
					return err
				}
				if err := ss.SendMsg(in); err != nil {
					return err
				}
			}
		}},
		// Quiet: bidi that echoes without greeting.
		{StreamName: "Quiet", ServerStreams: true, ClientStreams: true, Handler: func(_ any, ss grpc.ServerStream) error {
			for {
				in := new(msg)
				if err := ss.RecvMsg(in); err == io.EOF {
					return nil
				} else if err != nil {
					return err
				}
				if err := ss.SendMsg(in); err != nil {
					return err
				}
			}
		}},
	},
}

// env is the shared bench: a session on the emulator and a verifier.
type env = bearertest.Env

func newEnv(t testing.TB) *env { return bearertest.New(t) }

// policy is the server's: Whoami and streams need a valid token, Admin a scope
// alice lacks, Staff a group she has, Open and health are public.
func policy() []grpcauth.ServerOption {
	return []grpcauth.ServerOption{
		grpcauth.Method(mWhoami, grpcauth.Policy{Scopes: []string{scopeSignIn}}),
		grpcauth.Method(mAdmin, grpcauth.Policy{Scopes: []string{"orders/write"}}),
		grpcauth.Method(mStaff, grpcauth.Policy{Groups: []string{"staff"}}),
		grpcauth.Public(mOpen),
		grpcauth.PublicHealthAndReflection(),
	}
}

// server is a gRPC server with the interceptors, the test service and the health
// service. seen counts the calls that reached the interceptors.
type server struct {
	*grpc.Server
	seen atomic.Int64
}

func newServer(v grpcauth.Verifier, creds credentials.TransportCredentials, opts ...grpcauth.ServerOption) *server {
	s := &server{}
	count := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		s.seen.Add(1)
		return h(ctx, req)
	}
	countStream := func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		s.seen.Add(1)
		return h(srv, ss)
	}
	sopts := []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(count, grpcauth.UnaryServerInterceptor(v, opts...)),
		grpc.ChainStreamInterceptor(countStream, grpcauth.StreamServerInterceptor(v, opts...)),
	}
	if creds != nil {
		sopts = append(sopts, grpc.Creds(creds))
	}
	s.Server = grpc.NewServer(sopts...)
	s.RegisterService(&echoDesc, struct{}{})
	healthpb.RegisterHealthServer(s.Server, health.NewServer())
	return s
}

// bufServer serves s over bufconn and returns a dial option for it.
func bufServer(t testing.TB, s *server) grpc.DialOption {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	return grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) })
}

// dialBuf connects over bufconn without transport security.
func dialBuf(t testing.TB, dialer grpc.DialOption, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	opts = append([]grpc.DialOption{dialer, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.CallContentSubtype("cogauthtest"))}, opts...)
	conn, err := grpc.NewClient("passthrough:///bufnet", opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// testTLS returns transport credentials on a self-signed loopback certificate.
func testTLS(t testing.TB) (server, client credentials.TransportCredentials) {
	sc, cc := bearertest.TLS(t)
	return credentials.NewTLS(sc), credentials.NewTLS(cc)
}

func call(ctx context.Context, conn *grpc.ClientConn, method string, opts ...grpc.CallOption) (string, error) {
	out := new(msg)
	err := conn.Invoke(ctx, method, &msg{"hi"}, out, opts...)
	return out.S, err
}

// withAuth is an incoming context with one authorization value.
func withAuth(ctx context.Context, v string) context.Context {
	return metadata.NewIncomingContext(ctx, metadata.Pairs("authorization", v))
}
