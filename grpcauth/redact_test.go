package grpcauth_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cogauth/cogauth/grpcauth"
	"github.com/cogauth/cogauth/httpauth"
	"github.com/cogauth/cogauth/internal/redact/redacttest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestNoTokenInAnyRendering renders what grpcauth hands to grpc and to callers —
// the credentials, the call options its interceptor adds, its errors, the
// server's refusals — and looks for the token's signature.
func TestNoTokenInAnyRendering(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tok, err := e.Session.Token(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	sig := tok[strings.LastIndexByte(tok, '.')+1:]
	creds := grpcauth.NewPerRPCCredentials(e.Session)
	if _, err := creds.GetRequestMetadata(ctx); err != nil {
		t.Fatal(err)
	}
	redacttest.NoSecrets(t, "PerRPCCredentials", creds, sig)
	var seen []grpc.CallOption
	ic := grpcauth.UnaryClientInterceptor(e.Session)
	err = ic(ctx, mWhoami, nil, nil, nil, func(_ context.Context, _ string, _, _ any, _ *grpc.ClientConn, opts ...grpc.CallOption) error {
		seen = opts
		return status.Error(codes.PermissionDenied, "no")
	})
	if status.Code(err) != codes.PermissionDenied || len(seen) == 0 {
		t.Fatalf("%v, %d options", err, len(seen))
	}
	redacttest.NoSecrets(t, "call options", seen, sig)
	failing := httpauth.TokenProviderFunc(func(context.Context, bool) (string, error) { return "", errors.New("offline") })
	err = grpcauth.UnaryClientInterceptor(failing)(ctx, mWhoami, nil, nil, nil, nil)
	if status.Code(err) != codes.Unauthenticated || !errors.Is(err, grpcauth.ErrToken) {
		t.Fatalf("token failure: %v", err)
	}
	redacttest.NoSecrets(t, "token error", err, sig)
	ss := grpcauth.UnaryServerInterceptor(e.Verifier, policy()...)
	_, err = ss(withAuth(ctx, "Bearer "+tok[:len(tok)-3]+"AAA"), nil, &grpc.UnaryServerInfo{FullMethod: mWhoami}, nil)
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("tampered: %v", err)
	}
	redacttest.NoSecrets(t, "server refusal", err, sig[:len(sig)-3])
}
