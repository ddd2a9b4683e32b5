// Package connectauth is grpcauth for connectrpc.com/connect: an interceptor for
// clients that puts the session's token on every call and refreshes once on
// connect.CodeUnauthenticated, and one for handlers that verifies the token and
// applies a per-method policy, with the semantics and the code of httpauth and
// grpcauth (internal/bearer).
//
// It is a package of its own, and does not import grpcauth, so that a gRPC
// program links no Connect code and a Connect program no grpc-go: Go links every
// package a program imports, whatever it calls.
package connectauth

import (
	"context"
	"errors"
	"net/http"

	"connectrpc.com/connect"
	"github.com/cogauth/cogauth/httpauth"
	"github.com/cogauth/cogauth/internal/bearer"
)

// TokenProvider supplies the token for a call: httpauth's (session.Manager is one).
type TokenProvider = httpauth.TokenProvider

// Verifier checks a token: httpauth's (a *jwt.Verifier).
type Verifier = httpauth.Verifier

// Policy is what a procedure requires: Public, or at least one of Scopes and at
// least one of Groups (one of each when both are set).
type Policy = bearer.Policy

// ErrToken matches failures to get a token for a call, or to refresh one the
// server refused (httpauth.ErrToken); they carry connect.CodeUnauthenticated.
var ErrToken = bearer.ErrToken

// Procedure prefixes usually left open (connectrpc.com/grpchealth and
// grpcreflect serve them).
const (
	HealthService            = bearer.HealthService
	ReflectionService        = bearer.ReflectionV1
	ReflectionServiceV1Alpha = bearer.ReflectionV1Alpha
)

// ClientInterceptor puts src's token on every call as "Authorization: Bearer
// <token>". When the server answers connect.CodeUnauthenticated it refreshes
// once and retries once: a unary call always, a stream only while it has
// exchanged nothing (no message received, at most its first sent, which is sent
// again). Calls refused at the same time share one refresh. No other code is
// retried. The token goes wherever the client's URL says: use https.
func ClientInterceptor(src TokenProvider) connect.Interceptor {
	return &clientInterceptor{r: &bearer.Refresher{Source: src}}
}

type clientInterceptor struct{ r *bearer.Refresher }

func tokenError(e *bearer.TokenError) error { return connect.NewError(connect.CodeUnauthenticated, e) }

func setToken(h http.Header, tok string) { h.Set("Authorization", "Bearer "+tok) }

func (i *clientInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if !req.Spec().IsClient {
			return next(ctx, req)
		}
		tok, err := i.r.Token(ctx)
		if err != nil {
			return nil, tokenError(&bearer.TokenError{Err: err})
		}
		setToken(req.Header(), tok)
		resp, err := next(ctx, req)
		if connect.CodeOf(err) != connect.CodeUnauthenticated {
			return resp, err
		}
		fresh, rerr := i.r.Refresh(ctx, tok)
		if rerr != nil {
			return nil, tokenError(&bearer.TokenError{Err: rerr, Refused: err})
		}
		if fresh == tok {
			return resp, err
		}
		setToken(req.Header(), fresh)
		return next(ctx, req)
	}
}

func (i *clientInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		tok, err := i.r.Token(ctx)
		if err != nil {
			return &failedConn{StreamingClientConn: next(ctx, spec), err: tokenError(&bearer.TokenError{Err: err})}
		}
		first := next(ctx, spec)
		setToken(first.RequestHeader(), tok)
		c := &replayConn{first: first}
		open := func(ctx context.Context, tok string) (bearer.Stream, error) {
			prev := c.cur()
			conn := next(ctx, spec)
			// Headers the caller set on the first attempt go on the next.
			for k, v := range prev.RequestHeader() {
				conn.RequestHeader()[k] = append([]string(nil), v...)
			}
			setToken(conn.RequestHeader(), tok)
			_ = prev.CloseResponse()
			return connStream{conn}, nil
		}
		unauth := func(err error) bool { return connect.CodeOf(err) == connect.CodeUnauthenticated }
		c.p = bearer.NewReplay(ctx, connStream{first}, tok, i.r, open, unauth)
		return c
	}
}

func (i *clientInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

// connStream adapts a connect.StreamingClientConn to bearer.Stream.
type connStream struct{ connect.StreamingClientConn }

func (s connStream) Recv(m any) error { return s.Receive(m) }
func (s connStream) CloseSend() error { return s.CloseRequest() }

// replayConn is the connect.StreamingClientConn the caller holds; every method
// goes to the attempt in use.
type replayConn struct {
	first connect.StreamingClientConn
	p     *bearer.Replay
}

func (c *replayConn) cur() connect.StreamingClientConn {
	if c.p == nil {
		return c.first
	}
	return c.p.Current().(connStream).StreamingClientConn
}

func (c *replayConn) Spec() connect.Spec           { return c.first.Spec() }
func (c *replayConn) Peer() connect.Peer           { return c.first.Peer() }
func (c *replayConn) Send(m any) error             { return c.p.Send(m) }
func (c *replayConn) RequestHeader() http.Header   { return c.cur().RequestHeader() }
func (c *replayConn) CloseRequest() error          { return c.p.CloseSend() }
func (c *replayConn) Receive(m any) error          { return c.p.Recv(m) }
func (c *replayConn) ResponseHeader() http.Header  { return c.cur().ResponseHeader() }
func (c *replayConn) ResponseTrailer() http.Header { return c.cur().ResponseTrailer() }
func (c *replayConn) CloseResponse() error         { return c.cur().CloseResponse() }

// failedConn is a stream that could not get a token: it sends nothing.
type failedConn struct {
	connect.StreamingClientConn
	err error
}

func (c *failedConn) Send(any) error      { return c.err }
func (c *failedConn) Receive(any) error   { return c.err }
func (c *failedConn) CloseRequest() error { return nil }
func (c *failedConn) CloseResponse() error {
	return nil
}

// Option configures the handler interceptor's per-procedure policy.
type Option struct{ apply func(*bearer.Rules) }

// Method sets the policy of a procedure ("/pkg.Service/Method"), or of every
// procedure of a service when it ends in "/". An exact procedure beats its
// service. Any other name panics when the interceptor is made.
func Method(procedure string, p Policy) Option {
	return Option{func(r *bearer.Rules) { r.Set(procedure, p) }}
}

// Public leaves procedures or services open: no token is read, no claims are in
// the context.
func Public(procedures ...string) Option {
	return Option{func(r *bearer.Rules) {
		for _, m := range procedures {
			r.Set(m, Policy{Public: true})
		}
	}}
}

// PublicHealthAndReflection leaves the health and reflection services open.
func PublicHealthAndReflection() Option {
	return Public(HealthService, ReflectionService, ReflectionServiceV1Alpha)
}

// Default sets the policy of procedures no other option names; without it they
// need a valid token and nothing more.
func Default(p Policy) Option { return Option{func(r *bearer.Rules) { r.Default = p }} }

// HandlerInterceptor verifies the bearer token of every call a handler serves
// (v does: signature, issuer, client, token_use, expiry) and applies the
// procedure's policy: a missing, malformed or expired token is
// connect.CodeUnauthenticated (with a WWW-Authenticate challenge on the Connect
// protocol, whose errors are HTTP statuses), a missing
// scope or group connect.CodePermissionDenied, keys that cannot be fetched
// connect.CodeUnavailable. The handler reads the claims with httpauth.ClaimsFrom
// or jwt.ClaimsFromContext.
func HandlerInterceptor(v Verifier, opts ...Option) connect.Interceptor {
	r := &bearer.Rules{}
	for _, o := range opts {
		if o.apply != nil {
			o.apply(r)
		}
	}
	return &handlerInterceptor{v: v, r: r}
}

type handlerInterceptor struct {
	v Verifier
	r *bearer.Rules
}

var connectCodes = [...]connect.Code{
	bearer.Unauthenticated:  connect.CodeUnauthenticated,
	bearer.PermissionDenied: connect.CodePermissionDenied,
	bearer.Unavailable:      connect.CodeUnavailable,
}

func (h *handlerInterceptor) check(ctx context.Context, spec connect.Spec, peer connect.Peer, header http.Header) (context.Context, error) {
	procedure := spec.Procedure
	p := h.r.For(procedure)
	if p.Public {
		return ctx, nil
	}
	ctx, vd := bearer.Check(ctx, h.v, header.Values("Authorization"), p)
	if vd.Code == bearer.OK {
		return ctx, nil
	}
	err := connect.NewError(connectCodes[vd.Code], errors.New(vd.Msg))
	if peer.Protocol != connect.ProtocolConnect {
		// gRPC and gRPC-Web carry error metadata in trailers, where net/http
		// refuses WWW-Authenticate (and logs each time).
		return ctx, err
	}
	switch {
	case vd.Code == bearer.Unauthenticated && vd.Msg == bearer.MsgMissing:
		err.Meta().Set("WWW-Authenticate", "Bearer")
	case vd.Code == bearer.Unauthenticated:
		err.Meta().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="`+vd.Msg+`"`)
	}
	return ctx, err
}

func (h *handlerInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if req.Spec().IsClient {
			return next(ctx, req)
		}
		ctx, err := h.check(ctx, req.Spec(), req.Peer(), req.Header())
		if err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

func (h *handlerInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (h *handlerInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		ctx, err := h.check(ctx, conn.Spec(), conn.Peer(), conn.RequestHeader())
		if err != nil {
			return err
		}
		return next(ctx, conn)
	}
}
