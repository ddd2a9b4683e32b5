package grpcauth_test

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"testing"
	"time"

	"github.com/cogauth/cogauth/grpcauth"
	"github.com/cogauth/cogauth/internal/bearer/bearertest"
	"github.com/cogauth/cogauth/jwt"
	gojwt "github.com/golang-jwt/jwt/v5"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// The peer, as teams write it today: go-grpc-middleware v2's auth interceptor
// with an AuthFunc around golang-jwt v5 and a JWKS fetched once and cached
// (kid → key), checking what cogauth checks: RS256, issuer, expiry, token_use
// and client_id.

type jwksDoc struct {
	Keys []struct {
		Kid, N, E string
	} `json:"keys"`
}

func fetchJWKS(tb testing.TB, url string) map[string]*rsa.PublicKey {
	tb.Helper()
	resp, err := http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var doc jwksDoc
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		tb.Fatal(err)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range doc.Keys {
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil {
			tb.Fatal("bad JWKS")
		}
		keys[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	return keys
}

type peerClaims struct {
	gojwt.RegisteredClaims
	TokenUse string `json:"token_use"`
	ClientID string `json:"client_id"`
}

type peerKey struct{}

func peerInterceptor(keys map[string]*rsa.PublicKey, issuer, clientID string, now func() time.Time) grpc.UnaryServerInterceptor {
	parser := gojwt.NewParser(gojwt.WithValidMethods([]string{"RS256"}), gojwt.WithIssuer(issuer), gojwt.WithExpirationRequired(),
		gojwt.WithTimeFunc(now))
	keyFunc := func(t *gojwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if k := keys[kid]; k != nil {
			return k, nil
		}
		return nil, errors.New("unknown kid")
	}
	return auth.UnaryServerInterceptor(func(ctx context.Context) (context.Context, error) {
		raw, err := auth.AuthFromMD(ctx, "bearer")
		if err != nil {
			return nil, err
		}
		var c peerClaims
		if _, err := parser.ParseWithClaims(raw, &c, keyFunc); err != nil {
			return nil, status.Error(codes.Unauthenticated, "invalid token")
		}
		if c.TokenUse != "access" || c.ClientID != clientID {
			return nil, status.Error(codes.Unauthenticated, "invalid token")
		}
		return context.WithValue(ctx, peerKey{}, &c), nil
	})
}

// BenchmarkServerInterceptor: one unary RPC through the server interceptor, on a
// token the verifier has seen (cogauth) and with a cached JWKS (the peer).
func BenchmarkServerInterceptor(b *testing.B) {
	e := bearertest.New(b)
	ctx := context.Background()
	tok, err := e.Session.Token(ctx, false)
	if err != nil {
		b.Fatal(err)
	}
	iss, client := e.Srv.Issuer("app"), e.Srv.ClientID("app", "web")
	v, err := jwt.NewVerifier(jwt.VerifierOptions{
		Issuers: []string{iss}, JWKSURLs: map[string]string{iss: e.Srv.JWKSURL("app")},
		TokenUse: jwt.AccessToken, ClientIDs: []string{client}, Clock: e.Srv.Clock(),
	})
	if err != nil {
		b.Fatal(err)
	}
	in := metadata.NewIncomingContext(ctx, metadata.Pairs("authorization", "Bearer "+tok))
	info := &grpc.UnaryServerInfo{FullMethod: mWhoami}
	handler := func(ctx context.Context, _ any) (any, error) { return nil, nil }
	for name, ic := range map[string]grpc.UnaryServerInterceptor{
		"cogauth":            grpcauth.UnaryServerInterceptor(v, policy()...),
		"go-grpc-middleware": peerInterceptor(fetchJWKS(b, e.Srv.JWKSURL("app")), iss, client, e.Srv.Clock().Now),
	} {
		if _, err := ic(in, nil, info, handler); err != nil {
			b.Fatalf("%s: %v", name, err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ic(in, nil, info, handler); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := ic(in, nil, info, handler); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// staticCreds is the hand-written PerRPCCredentials the client side is measured
// against: one token, fixed, its metadata built per call (as grpc's own
// oauth.TokenSource does).
type staticCreds struct{ token string }

func (c staticCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + c.token}, nil
}
func (staticCreds) RequireTransportSecurity() bool { return false }

// prebuiltCreds returns one map built once: the floor.
type prebuiltCreds struct{ md map[string]string }

func (c prebuiltCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return c.md, nil
}
func (prebuiltCreds) RequireTransportSecurity() bool { return false }

// BenchmarkClientCredentials: what the client adds to one RPC on a cached token:
// GetRequestMetadata of grpcauth's credentials over a signed-in session.Manager,
// against a hand-written one that returns a static token; and the unary client
// interceptor with a no-op invoker.
func BenchmarkClientCredentials(b *testing.B) {
	e := bearertest.New(b)
	ctx := context.Background()
	tok, err := e.Session.Token(ctx, false)
	if err != nil {
		b.Fatal(err)
	}
	for name, c := range map[string]credentials.PerRPCCredentials{
		"cogauth":         grpcauth.NewPerRPCCredentials(e.Session),
		"static":          staticCreds{tok},
		"static-prebuilt": prebuiltCreds{map[string]string{"authorization": "Bearer " + tok}},
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				md, err := c.GetRequestMetadata(ctx)
				if err != nil || len(md["authorization"]) < 10 {
					b.Fatal(err)
				}
			}
		})
	}
	ic := grpcauth.UnaryClientInterceptor(e.Session)
	invoker := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, opts ...grpc.CallOption) error {
		return nil
	}
	b.Run("cogauth-interceptor", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := ic(ctx, mWhoami, nil, nil, nil, invoker); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkUnaryRPC: whole unary RPCs over bufconn, to put the interceptors'
// costs beside an RPC's. server=…: the client sends the session's token with
// grpcauth's credentials, the server checks it with cogauth or the peer.
// client=…: the server is cogauth's, the client attaches the token each way.
func BenchmarkUnaryRPC(b *testing.B) {
	e := bearertest.New(b)
	ctx := context.Background()
	tok, err := e.Session.Token(ctx, false)
	if err != nil {
		b.Fatal(err)
	}
	iss, client := e.Srv.Issuer("app"), e.Srv.ClientID("app", "web")
	v, err := jwt.NewVerifier(jwt.VerifierOptions{
		Issuers: []string{iss}, JWKSURLs: map[string]string{iss: e.Srv.JWKSURL("app")},
		TokenUse: jwt.AccessToken, ClientIDs: []string{client}, Clock: e.Srv.Clock(),
	})
	if err != nil {
		b.Fatal(err)
	}
	serve := func(ic grpc.UnaryServerInterceptor) grpc.DialOption {
		s := grpc.NewServer(grpc.UnaryInterceptor(ic))
		s.RegisterService(&echoDesc, struct{}{})
		return bufServer(b, &server{Server: s})
	}
	ours := serve(grpcauth.UnaryServerInterceptor(v, policy()...))
	peer := serve(peerInterceptor(fetchJWKS(b, e.Srv.JWKSURL("app")), iss, client, e.Srv.Clock().Now))
	creds := grpc.WithPerRPCCredentials(grpcauth.NewPerRPCCredentials(e.Session, grpcauth.AllowPlaintext()))
	for _, c := range []struct {
		name string
		conn *grpc.ClientConn
	}{
		{"server=cogauth", dialBuf(b, ours, creds)},
		{"server=go-grpc-middleware", dialBuf(b, peer, creds)},
		{"client=static", dialBuf(b, ours, grpc.WithPerRPCCredentials(staticCreds{tok}))},
		{"client=cogauth-creds", dialBuf(b, ours, creds)},
		{"client=cogauth-interceptor", dialBuf(b, ours, grpc.WithUnaryInterceptor(grpcauth.UnaryClientInterceptor(e.Session, grpcauth.AllowPlaintext())))},
	} {
		if _, err := call(ctx, c.conn, mWhoami); err != nil {
			b.Fatalf("%s: %v", c.name, err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := call(ctx, c.conn, mWhoami); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
