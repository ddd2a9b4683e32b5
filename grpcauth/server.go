package grpcauth

import (
	"context"

	"github.com/cogauth/cogauth/httpauth"
	"github.com/cogauth/cogauth/internal/bearer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Verifier checks a token: what httpauth.Middleware takes, a *jwt.Verifier (JWKS
// cached, issuer, client, token_use, expiry).
type Verifier = httpauth.Verifier

// Policy is what a method requires: Public, or at least one of Scopes and at
// least one of Groups (one of each when both are set).
type Policy = bearer.Policy

// Service prefixes that servers usually leave open (see Public).
const (
	HealthService     = bearer.HealthService
	ReflectionService = bearer.ReflectionV1
	// ReflectionServiceV1Alpha is the older reflection service, which grpcurl
	// still asks first.
	ReflectionServiceV1Alpha = bearer.ReflectionV1Alpha
)

// ServerOption configures the per-method policy of the server interceptors.
type ServerOption struct{ apply func(*bearer.Rules) }

// Method sets the policy of a full method name ("/pkg.Service/Method"), or of
// every method of a service when it ends in "/" ("/pkg.Service/"). An exact
// method beats its service. Any other name panics when the interceptor is made.
func Method(fullMethod string, p Policy) ServerOption {
	return ServerOption{func(r *bearer.Rules) { r.Set(fullMethod, p) }}
}

// Public leaves methods or services (as Method names them) open: no token is
// read, and no claims are in the context.
func Public(methods ...string) ServerOption {
	return ServerOption{func(r *bearer.Rules) {
		for _, m := range methods {
			r.Set(m, Policy{Public: true})
		}
	}}
}

// PublicHealthAndReflection leaves the health service and both reflection
// services open.
func PublicHealthAndReflection() ServerOption {
	return Public(HealthService, ReflectionService, ReflectionServiceV1Alpha)
}

// Default sets the policy of methods no other option names. Without it they
// need a valid token and nothing more: a method nobody thought of is never
// open.
func Default(p Policy) ServerOption {
	return ServerOption{func(r *bearer.Rules) { r.Default = p }}
}

func rules(opts []ServerOption) *bearer.Rules {
	r := &bearer.Rules{}
	for _, o := range opts {
		if o.apply != nil {
			o.apply(r)
		}
	}
	return r
}

var statusCodes = [...]codes.Code{
	bearer.OK:               codes.OK,
	bearer.Unauthenticated:  codes.Unauthenticated,
	bearer.PermissionDenied: codes.PermissionDenied,
	bearer.Unavailable:      codes.Unavailable,
}

// authorize checks the call's token against the method's policy and returns the
// context carrying the verified token.
func authorize(ctx context.Context, v Verifier, r *bearer.Rules, method string) (context.Context, error) {
	p := r.For(method)
	if p.Public {
		return ctx, nil
	}
	// ValueFromIncomingContext copies the one key, not the whole metadata.
	ctx, vd := bearer.Check(ctx, v, metadata.ValueFromIncomingContext(ctx, "authorization"), p)
	if vd.Code != bearer.OK {
		return ctx, status.Error(statusCodes[vd.Code], vd.Msg)
	}
	return ctx, nil
}

// UnaryServerInterceptor verifies the bearer token of every unary RPC (v does:
// signature against the issuer's keys, issuer, client, token_use, expiry) and
// applies the method's policy. A missing, malformed or expired token is
// codes.Unauthenticated, a missing scope or group codes.PermissionDenied, keys
// that cannot be fetched codes.Unavailable. The handler finds the verified
// token with httpauth.ClaimsFrom or jwt.ClaimsFromContext.
func UnaryServerInterceptor(v Verifier, opts ...ServerOption) grpc.UnaryServerInterceptor {
	r := rules(opts)
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := authorize(ctx, v, r, info.FullMethod)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamServerInterceptor is UnaryServerInterceptor for streams: the token is
// checked once, when the stream opens.
func StreamServerInterceptor(v Verifier, opts ...ServerOption) grpc.StreamServerInterceptor {
	r := rules(opts)
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, err := authorize(ss.Context(), v, r, info.FullMethod)
		if err != nil {
			return err
		}
		if ctx != ss.Context() {
			ss = &serverStream{ServerStream: ss, ctx: ctx}
		}
		return handler(srv, ss)
	}
}

type serverStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *serverStream) Context() context.Context { return s.ctx }
