package grpcauth_test

import (
	"context"

	"github.com/cogauth/cogauth/grpcauth"
	"github.com/cogauth/cogauth/httpauth"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/session"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// A client whose RPCs carry the session's access token, refreshed once when the
// server answers Unauthenticated.
func ExampleUnaryClientInterceptor() {
	var mgr *session.Manager // signed in
	conn, err := grpc.NewClient("orders.example.com:443",
		grpc.WithTransportCredentials(credentials.NewTLS(nil)),
		grpc.WithUnaryInterceptor(grpcauth.UnaryClientInterceptor(mgr)),
		grpc.WithStreamInterceptor(grpcauth.StreamClientInterceptor(mgr)))
	if err != nil {
		return
	}
	defer conn.Close()
}

// A server that verifies Cognito access tokens, leaves health and reflection
// open, and wants a scope for one method.
func ExampleUnaryServerInterceptor() {
	v, err := jwt.NewVerifier(jwt.VerifierOptions{
		Issuers:   []string{jwt.CognitoIssuer("eu-west-1_example")},
		ClientIDs: []string{"client-id"},
		TokenUse:  jwt.AccessToken,
	})
	if err != nil {
		return
	}
	opts := []grpcauth.ServerOption{
		grpcauth.PublicHealthAndReflection(),
		grpcauth.Method("/orders.v1.Orders/Create", grpcauth.Policy{Scopes: []string{"orders/write"}}),
		grpcauth.Method("/orders.v1.Admin/", grpcauth.Policy{Groups: []string{"admins"}}),
	}
	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(grpcauth.UnaryServerInterceptor(v, opts...)),
		grpc.ChainStreamInterceptor(grpcauth.StreamServerInterceptor(v, opts...)))
	_ = srv
	// In a handler, the verified claims:
	handler := func(ctx context.Context) string {
		c, _ := httpauth.ClaimsFrom(ctx) // or jwt.ClaimsFromContext
		return c.Username
	}
	_ = handler
}
