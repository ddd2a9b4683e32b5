package grpcauth

import (
	"context"
	"sync/atomic"

	"github.com/cogauth/cogauth/httpauth"
	"github.com/cogauth/cogauth/internal/bearer"
	"github.com/cogauth/cogauth/internal/redact"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// TokenProvider supplies the token for an RPC: the same interface httpauth
// takes (session.Manager is one; httpauth.FromTokenSource adapts an
// oauth2.TokenSource).
type TokenProvider = httpauth.TokenProvider

// ErrToken matches failures to get a token for an RPC, or to refresh one the
// server refused; it is httpauth.ErrToken. Such failures carry
// codes.Unauthenticated.
var ErrToken = bearer.ErrToken

// ClientOption configures the client side.
type ClientOption func(*clientOptions)

type clientOptions struct {
	plaintext bool
}

// AllowPlaintext lets the token go over a connection without transport security
// (RequireTransportSecurity false): for loopback and tests only, since anyone
// on the path could replay the token.
func AllowPlaintext() ClientOption { return func(o *clientOptions) { o.plaintext = true } }

func clientOpts(opts []ClientOption) clientOptions {
	var o clientOptions
	for _, f := range opts {
		f(&o)
	}
	return o
}

// NewPerRPCCredentials returns credentials that put src's current token on every
// RPC as "authorization: Bearer <token>", for grpc.WithPerRPCCredentials. They
// cannot see the answer, so they never refresh on Unauthenticated; the
// interceptors do. Use one or the other: with both, an RPC carries two
// authorization values, which the server interceptor refuses.
func NewPerRPCCredentials(src TokenProvider, opts ...ClientOption) credentials.PerRPCCredentials {
	return &perRPC{src: src, secure: !clientOpts(opts).plaintext}
}

type perRPC struct {
	src    TokenProvider
	secure bool
	last   lastMD
}

func (c *perRPC) GetRequestMetadata(ctx context.Context, _ ...string) (map[string]string, error) {
	tok, err := c.src.Token(ctx, false)
	if err != nil {
		return nil, tokenError(&bearer.TokenError{Err: err})
	}
	return c.last.metadata(tok).md, nil
}

func (c *perRPC) RequireTransportSecurity() bool { return c.secure }

// tokenCreds is one token, attached to one call by the interceptors, so that
// grpc applies RequireTransportSecurity to it as to any credentials. Its
// metadata is boxed (a pointer to a pointer, which fmt never follows), so a
// logging interceptor that prints a call's options shows no token.
type tokenCreds struct {
	md     redact.Box[*map[string]string]
	secure bool
}

func (c tokenCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return *c.md.Get(), nil
}

func (c tokenCreds) RequireTransportSecurity() bool { return c.secure }

// client is the state the interceptors of one source share.
type client struct {
	r      *bearer.Refresher
	secure bool
	last   lastMD
}

func newClient(src TokenProvider, opts []ClientOption) *client {
	return &client{r: &bearer.Refresher{Source: src}, secure: !clientOpts(opts).plaintext}
}

func (c *client) creds(tok string) grpc.CallOption {
	return grpc.PerRPCCredentials(tokenCreds{md: c.last.metadata(tok).boxed, secure: c.secure})
}

// UnaryClientInterceptor puts src's token on every unary RPC and, when the server
// answers codes.Unauthenticated, refreshes the token once and retries the RPC
// once; any other code goes to the caller as it came. RPCs refused at the same
// time share one refresh. If the source has nothing newer, the refusal goes to
// the caller; if it cannot refresh, a codes.Unauthenticated error matching
// ErrToken and the source's error.
func UnaryClientInterceptor(src TokenProvider, opts ...ClientOption) grpc.UnaryClientInterceptor {
	c := newClient(src, opts)
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, callOpts ...grpc.CallOption) error {
		tok, err := c.r.Token(ctx)
		if err != nil {
			return tokenError(&bearer.TokenError{Err: err})
		}
		err = invoker(ctx, method, req, reply, cc, append(callOpts, c.creds(tok))...)
		if status.Code(err) != codes.Unauthenticated {
			return err
		}
		fresh, rerr := c.r.Refresh(ctx, tok)
		if rerr != nil {
			return tokenError(&bearer.TokenError{Err: rerr, Refused: err})
		}
		if fresh == tok {
			return err
		}
		return invoker(ctx, method, req, reply, cc, append(callOpts, c.creds(fresh))...)
	}
}

// StreamClientInterceptor puts src's token on every stream. A stream the server
// refuses with codes.Unauthenticated before it exchanged a message (nothing
// received yet, at most the first message sent, and sent without error) is
// opened again once with a refreshed token, and that first message sent again;
// later refusals and other codes reach the caller as they came.
func StreamClientInterceptor(src TokenProvider, opts ...ClientOption) grpc.StreamClientInterceptor {
	c := newClient(src, opts)
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, callOpts ...grpc.CallOption) (grpc.ClientStream, error) {
		tok, err := c.r.Token(ctx)
		if err != nil {
			return nil, tokenError(&bearer.TokenError{Err: err})
		}
		open := func(ctx context.Context, tok string) (bearer.Stream, error) {
			s, err := streamer(ctx, desc, cc, method, append(callOpts, c.creds(tok))...)
			if err != nil {
				return nil, err
			}
			return grpcStream{s}, nil
		}
		first, err := open(ctx, tok)
		if err != nil {
			if status.Code(err) != codes.Unauthenticated {
				return nil, err
			}
			fresh, rerr := c.r.Refresh(ctx, tok)
			if rerr != nil {
				return nil, tokenError(&bearer.TokenError{Err: rerr, Refused: err})
			}
			if fresh == tok {
				return nil, err
			}
			if first, err = open(ctx, fresh); err != nil {
				return nil, err
			}
			tok = fresh
		}
		unauth := func(err error) bool { return status.Code(err) == codes.Unauthenticated }
		return &replayStream{bearer.NewReplay(ctx, first, tok, c.r, open, unauth)}, nil
	}
}

// grpcStream adapts a grpc.ClientStream to bearer.Stream.
type grpcStream struct{ grpc.ClientStream }

func (s grpcStream) Send(m any) error { return s.SendMsg(m) }
func (s grpcStream) Recv(m any) error { return s.RecvMsg(m) }

// replayStream is the grpc.ClientStream the caller holds; every method goes to
// the attempt in use.
type replayStream struct{ p *bearer.Replay }

func (s *replayStream) cur() grpc.ClientStream { return s.p.Current().(grpcStream).ClientStream }

func (s *replayStream) Header() (metadata.MD, error) { return s.cur().Header() }
func (s *replayStream) Trailer() metadata.MD         { return s.cur().Trailer() }
func (s *replayStream) CloseSend() error             { return s.p.CloseSend() }
func (s *replayStream) Context() context.Context     { return s.cur().Context() }
func (s *replayStream) SendMsg(m any) error          { return s.p.Send(m) }
func (s *replayStream) RecvMsg(m any) error          { return s.p.Recv(m) }

// tokenErr gives a TokenError the status codes.Unauthenticated.
type tokenErr struct{ *bearer.TokenError }

func (e tokenErr) GRPCStatus() *status.Status {
	return status.New(codes.Unauthenticated, e.Error())
}

func (e tokenErr) Unwrap() error { return e.TokenError }

func tokenError(e *bearer.TokenError) error { return tokenErr{e} }

// lastMD keeps the metadata of the last token, so that an RPC on a cached token
// allocates nothing. grpc only reads the map (it copies it into the headers).
type lastMD struct{ p atomic.Pointer[mdEntry] }

type mdEntry struct {
	tok   string
	md    map[string]string
	boxed redact.Box[*map[string]string] // md, for tokenCreds
}

func (l *lastMD) metadata(tok string) *mdEntry {
	if e := l.p.Load(); e != nil && e.tok == tok {
		return e
	}
	e := &mdEntry{tok: tok, md: map[string]string{"authorization": "Bearer " + tok}}
	e.boxed = redact.NewBox(&e.md)
	l.p.Store(e)
	return e
}
