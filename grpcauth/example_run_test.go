package grpcauth_test

import (
	"context"
	"fmt"
	"log"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/grpcauth"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/session"
)

// Both ends on loopback against the in-process emulator: a server whose every
// method needs a valid access token (the health service stands in for yours),
// a call without a token, and one from a signed-in session's interceptor.
func Example() {
	emu := emulator.NewServer(emulator.Options{SelfIssuer: true, Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
		Name:    "app",
		Clients: []emulator.SeedClient{{Name: "cli"}},
		Users:   []emulator.SeedUser{{Username: "alice", Password: "Corr3ct-Horse!"}},
	}}}})
	defer emu.Close()
	pool, client := emu.PoolID("app"), emu.AppClient("app", "cli").ID

	// Server: verify Cognito access tokens of this pool and client.
	v, err := jwt.NewVerifier(jwt.VerifierOptions{Issuers: []string{emu.Issuer(pool)}, ClientIDs: []string{client}, TokenUse: jwt.AccessToken})
	if err != nil {
		log.Fatal(err)
	}
	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(grpcauth.UnaryServerInterceptor(v)))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	defer srv.Stop()

	// Without a token.
	ctx := context.Background()
	bare, err := grpc.NewClient(l.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatal(err)
	}
	defer bare.Close()
	_, err = healthpb.NewHealthClient(bare).Check(ctx, &healthpb.HealthCheckRequest{})
	fmt.Println("without a token:", status.Code(err))

	// With a signed-in session: the interceptor sends its access token (and
	// refreshes once on Unauthenticated). Plaintext is for loopback only.
	c, err := cognito.New(cognito.Options{UserPoolID: pool, ClientID: client, Endpoint: emu.URL})
	if err != nil {
		log.Fatal(err)
	}
	m, err := session.New(session.Config{Cognito: c})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	if _, err := m.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: "Corr3ct-Horse!"}); err != nil {
		log.Fatal(err)
	}
	conn, err := grpc.NewClient(l.Addr().String(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUnaryInterceptor(grpcauth.UnaryClientInterceptor(m, grpcauth.AllowPlaintext())))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	res, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("as alice:", res.GetStatus())
	// Output:
	// without a token: Unauthenticated
	// as alice: SERVING
}
