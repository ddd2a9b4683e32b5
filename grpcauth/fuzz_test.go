package grpcauth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/grpcauth"
	"github.com/cogauth/cogauth/httpauth"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/jwt/jwttest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// FuzzServerMetadata feeds the server interceptor any authorization metadata and
// method name: it never panics, answers only the codes it documents, lets a
// call through only with verified claims in the context (or on a public
// method), and never echoes what it was sent.
func FuzzServerMetadata(f *testing.F) {
	iss := jwttest.NewIssuer(f)
	now := time.Now()
	v, err := jwt.NewVerifier(jwt.VerifierOptions{Issuers: []string{iss.URL}, AnyClient: true, Clock: clock.NewFake(now)})
	if err != nil {
		f.Fatal(err)
	}
	good := iss.Sign(f, iss.Claims("access", "c", now))
	noScope := iss.Claims("access", "c", now)
	noScope["scope"] = "other"
	ic := grpcauth.UnaryServerInterceptor(v, policy()...)
	f.Add(mWhoami, "Bearer "+good, "", uint8(1))
	f.Add(mAdmin, "bearer "+good, "", uint8(1))
	f.Add(mWhoami, "Bearer "+iss.Sign(f, noScope), "", uint8(1))
	f.Add(mWhoami, good, good, uint8(2))
	f.Add(mOpen, "Bearer x.y.z", "", uint8(1))
	f.Add("/grpc.health.v1.Health/Check", "", "", uint8(0))
	f.Add("/grpc.health.v1.Health", "", "", uint8(0))
	f.Add(mWhoami, "Bearer "+good[:len(good)-2], "", uint8(1))
	f.Add("", "Bearer eyJhbGciOiJub25lIn0.e30.", "", uint8(1))
	f.Fuzz(func(t *testing.T, method, a, b string, n uint8) {
		md := metadata.MD{}
		for _, val := range []string{a, b}[:n%3] {
			md.Append("authorization", val)
		}
		ctx := metadata.NewIncomingContext(context.Background(), md)
		var claims bool
		_, err := ic(ctx, nil, &grpc.UnaryServerInfo{FullMethod: method}, func(ctx context.Context, _ any) (any, error) {
			_, claims = httpauth.ClaimsFrom(ctx)
			return nil, nil
		})
		st := status.Convert(err)
		switch st.Code() {
		case codes.OK:
			public := method == mOpen || strings.HasPrefix(method, grpcauth.HealthService) ||
				strings.HasPrefix(method, grpcauth.ReflectionService) || strings.HasPrefix(method, grpcauth.ReflectionServiceV1Alpha)
			if !public && !claims {
				t.Fatalf("%q let through without claims", method)
			}
		case codes.Unauthenticated, codes.PermissionDenied, codes.Unavailable:
			if len(st.Message()) > 40 {
				t.Fatalf("long message %q", st.Message())
			}
			for _, val := range []string{a, b} {
				if len(val) >= 8 && strings.Contains(st.Message(), strings.TrimSpace(val)) {
					t.Fatalf("message %q echoes the metadata", st.Message())
				}
			}
		default:
			t.Fatalf("code %s: %v", st.Code(), err)
		}
	})
}
