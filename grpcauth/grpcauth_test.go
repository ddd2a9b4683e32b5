package grpcauth_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cogauth/cogauth/grpcauth"
	"github.com/cogauth/cogauth/httpauth"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/session"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// TestOverTLS: a session signed in on the emulator calls a server over loopback
// TCP with TLS, once with PerRPCCredentials and once with the interceptors; the
// handler reads the user through httpauth.ClaimsFrom.
func TestOverTLS(t *testing.T) {
	e := newEnv(t)
	serverTLS, clientTLS := testTLS(t)
	s := newServer(e.Verifier, serverTLS, policy()...)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	ctx := context.Background()
	for name, opt := range map[string][]grpc.DialOption{
		"PerRPCCredentials": {grpc.WithPerRPCCredentials(grpcauth.NewPerRPCCredentials(e.Session))},
		"interceptors": {grpc.WithUnaryInterceptor(grpcauth.UnaryClientInterceptor(e.Session)),
			grpc.WithStreamInterceptor(grpcauth.StreamClientInterceptor(e.Session))},
	} {
		t.Run(name, func(t *testing.T) {
			conn, err := grpc.NewClient(lis.Addr().String(), append(opt, grpc.WithTransportCredentials(clientTLS),
				grpc.WithDefaultCallOptions(grpc.CallContentSubtype("cogauthtest")))...)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if got, err := call(ctx, conn, mWhoami); err != nil || got != "alice" {
				t.Fatalf("Whoami = %q, %v", got, err)
			}
			if _, err := call(ctx, conn, mAdmin); status.Code(err) != codes.PermissionDenied {
				t.Fatalf("Admin: %v, want PermissionDenied", err)
			}
			st, err := conn.NewStream(ctx, &echoDesc.Streams[0], mCount)
			if err != nil {
				t.Fatal(err)
			}
			if err := st.SendMsg(&msg{"x"}); err != nil {
				t.Fatal(err)
			}
			_ = st.CloseSend()
			if got := recvAll(t, st); strings.Join(got, ",") != "alice x,alice x,alice x" {
				t.Fatalf("Count: %q", got)
			}
		})
	}
}

func recvAll(t *testing.T, st grpc.ClientStream) []string {
	t.Helper()
	var got []string
	for {
		m := new(msg)
		err := st.RecvMsg(m)
		if err == io.EOF {
			return got
		}
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		got = append(got, m.S)
	}
}

// staticToken sends one token whatever it is asked, as a hand-written
// PerRPCCredentials or an oauth2.TokenSource would.
func staticToken(tok string) grpcauth.TokenProvider {
	return httpauth.TokenProviderFunc(func(context.Context, bool) (string, error) { return tok, nil })
}

// TestRefusals: each way a call can be wrong gets its code and a short message
// that never holds the token.
func TestRefusals(t *testing.T) {
	e := newEnv(t)
	s := newServer(e.Verifier, nil, policy()...)
	dialer := bufServer(t, s)
	ctx := context.Background()
	good, err := e.Session.Token(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	idTok := func() string {
		sess, err := e.Session.Fetch(ctx, session.FetchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return sess.Tokens.ID.Raw()
	}()
	plain := dialBuf(t, dialer)
	with := func(vals ...string) context.Context {
		md := metadata.MD{}
		for _, v := range vals {
			md.Append("authorization", v)
		}
		return metadata.NewOutgoingContext(ctx, md)
	}
	tampered := good[:len(good)-4] + "AAAA"
	if tampered == good {
		tampered = good[:len(good)-4] + "BBBB"
	}
	for _, c := range []struct {
		name   string
		ctx    context.Context
		method string
		code   codes.Code
		msg    string
	}{
		{"no token", ctx, mWhoami, codes.Unauthenticated, "missing bearer token"},
		{"empty bearer", with("Bearer "), mWhoami, codes.Unauthenticated, "missing bearer token"},
		{"other scheme", with("Basic " + good), mWhoami, codes.Unauthenticated, "missing bearer token"},
		{"garbage", with("Bearer not.a.token"), mWhoami, codes.Unauthenticated, "malformed token"},
		{"tampered", with("Bearer " + tampered), mWhoami, codes.Unauthenticated, "invalid signature"},
		{"id token", with("Bearer " + idTok), mWhoami, codes.Unauthenticated, "wrong token use"},
		{"two values", with("Bearer "+good, "Bearer "+good), mWhoami, codes.Unauthenticated, "more than one authorization value"},
		{"missing scope", with("Bearer " + good), mAdmin, codes.PermissionDenied, "required scope missing"},
		{"group", with("Bearer " + good), mStaff, codes.OK, ""},
		{"bare token", with(good), mWhoami, codes.OK, ""},
		{"unlisted method needs a token", ctx, mFail, codes.Unauthenticated, "missing bearer token"},
		{"public", ctx, mOpen, codes.OK, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := call(c.ctx, plain, c.method)
			st := status.Convert(err)
			if st.Code() != c.code || (c.msg != "" && st.Message() != c.msg) {
				t.Fatalf("%s: %v, want %s %q", c.method, err, c.code, c.msg)
			}
			if strings.Contains(st.Message(), good[:20]) {
				t.Fatalf("the message holds the token: %q", st.Message())
			}
		})
	}
	// Health is open; its stream too.
	hc := healthpb.NewHealthClient(plain)
	if _, err := hc.Check(ctx, &healthpb.HealthCheckRequest{}, grpc.CallContentSubtype("proto")); err != nil {
		t.Fatalf("health without a token: %v", err)
	}
	w, err := hc.Watch(ctx, &healthpb.HealthCheckRequest{}, grpc.CallContentSubtype("proto"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Recv(); err != nil {
		t.Fatalf("health Watch (a stream) without a token: %v", err)
	}
	// An expired token: the verifier's clock (the emulator's) moves past it.
	e.Srv.Advance(2 * time.Hour)
	if _, err := call(with("Bearer "+good), plain, mWhoami); status.Code(err) != codes.Unauthenticated || status.Convert(err).Message() != "token expired" {
		t.Fatalf("expired: %v", err)
	}
	// A group the user is not in, with groups on a whole service.
	s2 := newServer(e.Verifier, nil, grpcauth.Method(svc, grpcauth.Policy{Groups: []string{"admins"}}))
	conn2 := dialBuf(t, bufServer(t, s2), grpc.WithUnaryInterceptor(grpcauth.UnaryClientInterceptor(e.Session, grpcauth.AllowPlaintext())))
	if _, err := call(ctx, conn2, mWhoami); status.Code(err) != codes.PermissionDenied || status.Convert(err).Message() != "required group missing" {
		t.Fatalf("group: %v", err)
	}
}

// TestUnavailable: keys that cannot be fetched are Unavailable, not
// Unauthenticated, so the client keeps its token; and no refresh is forced.
func TestUnavailable(t *testing.T) {
	e := newEnv(t)
	// The emulator serves the keys; stop it after sign-in, before any fetch.
	s := newServer(e.Verifier, nil, policy()...)
	conn := dialBuf(t, bufServer(t, s), grpc.WithUnaryInterceptor(grpcauth.UnaryClientInterceptor(e.Session, grpcauth.AllowPlaintext())))
	if _, err := e.Session.Token(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	before := e.Refreshes()
	e.Srv.Close()
	_, err := call(context.Background(), conn, mWhoami)
	if status.Code(err) != codes.Unavailable || status.Convert(err).Message() != "cannot verify tokens right now" {
		t.Fatalf("keys unavailable: %v", err)
	}
	if n := e.Refreshes() - before; n != 0 {
		t.Fatalf("%d refreshes for an Unavailable answer", n)
	}
}

// TestTransportSecurity: without AllowPlaintext no token goes over a plaintext
// connection, whether by PerRPCCredentials or by the interceptors.
func TestTransportSecurity(t *testing.T) {
	e := newEnv(t)
	s := newServer(e.Verifier, nil, policy()...)
	dialer := bufServer(t, s)
	ctx := context.Background()
	for name, opt := range map[string]grpc.DialOption{
		"PerRPCCredentials": grpc.WithPerRPCCredentials(grpcauth.NewPerRPCCredentials(e.Session)),
		"interceptor":       grpc.WithUnaryInterceptor(grpcauth.UnaryClientInterceptor(e.Session)),
	} {
		t.Run(name, func(t *testing.T) {
			before := s.seen.Load()
			// grpc refuses credentials that need security on a plaintext
			// connection when it is made, or else on the call.
			conn, err := grpc.NewClient("passthrough:///bufnet", dialer, opt, grpc.WithTransportCredentials(insecure.NewCredentials()),
				grpc.WithDefaultCallOptions(grpc.CallContentSubtype("cogauthtest")))
			if err == nil {
				defer conn.Close()
				_, err = call(ctx, conn, mWhoami)
			}
			if err == nil || !strings.Contains(err.Error(), "transport") {
				t.Fatalf("plaintext call: %v, want a transport security error", err)
			}
			if s.seen.Load() != before {
				t.Fatal("the call reached the server")
			}
		})
	}
	if !grpcauth.NewPerRPCCredentials(e.Session).RequireTransportSecurity() || grpcauth.NewPerRPCCredentials(e.Session, grpcauth.AllowPlaintext()).RequireTransportSecurity() {
		t.Fatal("RequireTransportSecurity does not follow AllowPlaintext")
	}
	conn := dialBuf(t, dialer, grpc.WithPerRPCCredentials(grpcauth.NewPerRPCCredentials(e.Session, grpcauth.AllowPlaintext())))
	if got, err := call(ctx, conn, mWhoami); err != nil || got != "alice" {
		t.Fatalf("with AllowPlaintext: %q %v", got, err)
	}
}

// TestRefreshOnce: the server starts refusing the session's token (as after a
// global sign-out of older tokens); 100 concurrent RPCs all meet
// Unauthenticated, share one refresh at the emulator, and all succeed on retry.
func TestRefreshOnce(t *testing.T) {
	e := newEnv(t)
	s := newServer(e.Verifier, nil, policy()...)
	conn := dialBuf(t, bufServer(t, s), grpc.WithUnaryInterceptor(grpcauth.UnaryClientInterceptor(e.Session, grpcauth.AllowPlaintext())))
	ctx := context.Background()
	if got, err := call(ctx, conn, mWhoami); err != nil || got != "alice" {
		t.Fatalf("first call: %q %v", got, err)
	}
	for round := range 3 {
		e.RevokeCurrent()
		before, seen := e.Refreshes(), s.seen.Load()
		const n = 100
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			wg.Go(func() {
				if got, err := call(ctx, conn, mWhoami); err != nil || got != "alice" {
					errs <- errors.Join(err, errors.New("got "+got))
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("round %d: %v", round, err)
		}
		if got := e.Refreshes() - before; got != 1 {
			t.Fatalf("round %d: %d refreshes at the emulator for %d refused RPCs, want 1", round, got, n)
		}
		if calls := s.seen.Load() - seen; calls < n+1 || calls > 2*n {
			t.Fatalf("round %d: %d calls reached the server, want between %d and %d", round, calls, n+1, 2*n)
		}
	}
}

// TestNoRetryOnOtherCodes: PermissionDenied, Unknown and Unavailable are not
// retried and force no refresh.
func TestNoRetryOnOtherCodes(t *testing.T) {
	e := newEnv(t)
	s := newServer(e.Verifier, nil, policy()...)
	conn := dialBuf(t, bufServer(t, s), grpc.WithUnaryInterceptor(grpcauth.UnaryClientInterceptor(e.Session, grpcauth.AllowPlaintext())))
	ctx := context.Background()
	if _, err := call(ctx, conn, mWhoami); err != nil {
		t.Fatal(err)
	}
	before := e.Refreshes()
	for _, c := range []struct {
		method string
		code   codes.Code
	}{{mAdmin, codes.PermissionDenied}, {mFail, codes.Unknown}} {
		seen := s.seen.Load()
		if _, err := call(ctx, conn, c.method); status.Code(err) != c.code {
			t.Fatalf("%s: %v, want %s", c.method, err, c.code)
		}
		if got := s.seen.Load() - seen; got != 1 {
			t.Fatalf("%s was sent %d times", c.method, got)
		}
	}
	if n := e.Refreshes() - before; n != 0 {
		t.Fatalf("%d refreshes", n)
	}
}

// TestNothingNewToTry: a source that hands back the refused token gets the
// refusal, after one attempt.
func TestNothingNewToTry(t *testing.T) {
	e := newEnv(t)
	s := newServer(e.Verifier, nil, policy()...)
	dialer := bufServer(t, s)
	ctx := context.Background()
	tok, err := e.Session.Token(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	e.RevokeCurrent()
	conn := dialBuf(t, dialer, grpc.WithUnaryInterceptor(grpcauth.UnaryClientInterceptor(staticToken(tok), grpcauth.AllowPlaintext())))
	seen := s.seen.Load()
	_, err = call(ctx, conn, mWhoami)
	if status.Code(err) != codes.Unauthenticated || status.Convert(err).Message() != "token rejected" {
		t.Fatalf("%v, want the server's refusal", err)
	}
	if got := s.seen.Load() - seen; got != 1 {
		t.Fatalf("sent %d times", got)
	}
}

// TestRefreshFails: when the refresh token is revoked too, the caller gets
// Unauthenticated matching ErrToken and session.ErrSignedOut.
func TestRefreshFails(t *testing.T) {
	e := newEnv(t)
	s := newServer(e.Verifier, nil, policy()...)
	conn := dialBuf(t, bufServer(t, s), grpc.WithUnaryInterceptor(grpcauth.UnaryClientInterceptor(e.Session, grpcauth.AllowPlaintext())))
	ctx := context.Background()
	sess, err := e.Session.Fetch(ctx, session.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Cognito.RevokeToken(ctx, sess.Tokens.Refresh); err != nil {
		t.Fatal(err)
	}
	e.RevokeCurrent()
	_, err = call(ctx, conn, mWhoami)
	if status.Code(err) != codes.Unauthenticated || !errors.Is(err, grpcauth.ErrToken) || !errors.Is(err, httpauth.ErrToken) || !errors.Is(err, session.ErrSignedOut) {
		t.Fatalf("%v (code %s), want Unauthenticated matching ErrToken and session.ErrSignedOut", err, status.Code(err))
	}
}

// revokedSet is a jwt.RevocationSource: the origin_jti of sessions signed out.
type revokedSet struct{ m sync.Map }

func (r *revokedSet) Revoked(originJTI string) bool { _, ok := r.m.Load(originJTI); return ok }

// TestRevokedSession: the verifier's revocation source says alice's session was
// signed out. Every token of that sign-in carries its origin_jti, the refreshed
// one too: the call is refused with "token revoked", refreshed once, retried
// once, and the refusal reaches the caller — no loop.
func TestRevokedSession(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	revoked := &revokedSet{}
	v, err := jwt.NewVerifier(jwt.VerifierOptions{
		Issuers:     []string{e.Srv.Issuer("app")},
		JWKSURLs:    map[string]string{e.Srv.Issuer("app"): e.Srv.JWKSURL("app")},
		TokenUse:    jwt.AccessToken,
		ClientIDs:   []string{e.Srv.ClientID("app", "web")},
		Clock:       e.Srv.Clock(),
		Revocations: revoked,
	})
	if err != nil {
		t.Fatal(err)
	}
	s := newServer(v, nil, policy()...)
	conn := dialBuf(t, bufServer(t, s), grpc.WithUnaryInterceptor(grpcauth.UnaryClientInterceptor(e.Session, grpcauth.AllowPlaintext())))
	if got, err := call(ctx, conn, mWhoami); err != nil || got != "alice" {
		t.Fatalf("before: %q %v", got, err)
	}
	sess, err := e.Session.Fetch(ctx, session.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	jti := sess.Tokens.Access.Claims().OriginJTI
	if jti == "" {
		t.Fatal("the emulator's access token has no origin_jti")
	}
	revoked.m.Store(jti, true)
	e.Srv.Advance(time.Second) // so the refreshed token differs
	before, seen := e.Refreshes(), s.seen.Load()
	_, err = call(ctx, conn, mWhoami)
	if status.Code(err) != codes.Unauthenticated || status.Convert(err).Message() != "token revoked" {
		t.Fatalf("revoked: %v", err)
	}
	if n, m := e.Refreshes()-before, s.seen.Load()-seen; n != 1 || m != 2 {
		t.Fatalf("%d refreshes and %d attempts, want 1 and 2", n, m)
	}
}
