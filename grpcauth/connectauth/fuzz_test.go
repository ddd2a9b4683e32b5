package connectauth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/grpcauth/connectauth"
	"github.com/cogauth/cogauth/httpauth"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/jwt/jwttest"
)

// FuzzHandlerHeader feeds the handler interceptor any Authorization headers: it
// never panics, lets a call through only with verified claims, answers only
// the documented codes, and never echoes the header.
func FuzzHandlerHeader(f *testing.F) {
	iss := jwttest.NewIssuer(f)
	now := time.Now()
	v, err := jwt.NewVerifier(jwt.VerifierOptions{Issuers: []string{iss.URL}, AnyClient: true, Clock: clock.NewFake(now)})
	if err != nil {
		f.Fatal(err)
	}
	good := iss.Sign(f, iss.Claims("access", "c", now))
	ic := connectauth.HandlerInterceptor(v, connectauth.Default(connectauth.Policy{Scopes: []string{"aws.cognito.signin.user.admin"}}))
	var claims bool
	h := ic.WrapUnary(func(ctx context.Context, _ connect.AnyRequest) (connect.AnyResponse, error) {
		_, claims = httpauth.ClaimsFrom(ctx)
		return nil, nil
	})
	f.Add("Bearer "+good, "", uint8(1))
	f.Add(good, good, uint8(2))
	f.Add("Bearer "+good[:len(good)-1], "", uint8(1))
	f.Add("Basic x", "", uint8(1))
	f.Add("", "", uint8(0))
	f.Fuzz(func(t *testing.T, a, b string, n uint8) {
		req := connect.NewRequest(&msg{})
		for _, val := range []string{a, b}[:n%3] {
			req.Header().Add("Authorization", val)
		}
		claims = false
		_, err := h(context.Background(), req)
		switch code := connect.CodeOf(err); {
		case err == nil:
			if !claims {
				t.Fatal("let through without claims")
			}
		case code == connect.CodeUnauthenticated, code == connect.CodePermissionDenied, code == connect.CodeUnavailable:
			var ce *connect.Error
			if !errors.As(err, &ce) || len(ce.Message()) > 40 {
				t.Fatalf("%v", err)
			}
			for _, val := range []string{a, b} {
				if len(strings.TrimSpace(val)) >= 8 && strings.Contains(err.Error(), strings.TrimSpace(val)) {
					t.Fatalf("%q echoes the header", err.Error())
				}
			}
		default:
			t.Fatalf("code %s: %v", code, err)
		}
	})
}
