// Command grpcapp is a runnable example of grpcauth: a client signed in on
// Cognito calls a gRPC server that checks the access token's scope. With no
// flags it starts an embedded Cognito emulator, a server over TLS on loopback
// (a certificate made at start), signs alice in and makes three calls:
//
//	go run ./examples/grpcapp
//
// Whoami needs the aws.cognito.signin.user.admin scope (alice's access token has
// it), Orders.Create needs orders/write (it has not: PermissionDenied), and the
// health service is open. -endpoint, -user-pool-id, -client-id, -username and
// -password (and -issuer when it is not the pool's Cognito issuer) point it at
// another pool: a `cogauth emulator --self-issuer` or a real one.
//
// The service is written by hand with a JSON codec, so the example needs no
// protoc; generated code plugs into the same interceptors.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"time"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/grpcauth"
	"github.com/cogauth/cogauth/httpauth"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/secret"
	"github.com/cogauth/cogauth/session"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

type options struct {
	endpoint, userPoolID, clientID, issuer, username, password string
	out                                                        io.Writer
}

func main() {
	o := options{out: os.Stdout}
	flag.StringVar(&o.endpoint, "endpoint", "", "Cognito endpoint (empty: an embedded emulator)")
	flag.StringVar(&o.userPoolID, "user-pool-id", "", "user pool ID")
	flag.StringVar(&o.clientID, "client-id", "", "app client ID (public, with USER_PASSWORD_AUTH)")
	flag.StringVar(&o.issuer, "issuer", "", "token issuer (default: the pool's Cognito issuer)")
	flag.StringVar(&o.username, "username", "alice", "user to sign in")
	flag.StringVar(&o.password, "password", "", "password")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "grpcapp:", err)
		os.Exit(1)
	}
}

// The service: two unary methods whose messages are JSON.
const (
	whoamiMethod = "/example.v1.Orders/Whoami"
	createMethod = "/example.v1.Orders/Create"
)

type reply struct {
	Text string `json:"text"`
}

type jsonCodec struct{}

func (jsonCodec) Marshal(v any) ([]byte, error)   { return json.Marshal(v) }
func (jsonCodec) Unmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
func (jsonCodec) Name() string                    { return "json" }
func init()                                       { encoding.RegisterCodec(jsonCodec{}) }
func callJSON() grpc.CallOption                   { return grpc.CallContentSubtype("json") }
func handle(name string, f func(ctx context.Context) (string, error)) grpc.MethodDesc {
	return grpc.MethodDesc{MethodName: name, Handler: func(_ any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
		var in struct{}
		if err := dec(&in); err != nil {
			return nil, err
		}
		h := func(ctx context.Context, _ any) (any, error) {
			s, err := f(ctx)
			if err != nil {
				return nil, err
			}
			return &reply{Text: s}, nil
		}
		if ic == nil {
			return h(ctx, &in)
		}
		return ic(ctx, &in, &grpc.UnaryServerInfo{FullMethod: "/example.v1.Orders/" + name}, h)
	}}
}

var ordersDesc = grpc.ServiceDesc{
	ServiceName: "example.v1.Orders",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{
		handle("Whoami", func(ctx context.Context) (string, error) {
			c, _ := httpauth.ClaimsFrom(ctx) // the interceptor verified the token
			return "hello " + c.Username, nil
		}),
		handle("Create", func(ctx context.Context) (string, error) { return "created", nil }),
	},
}

func run(ctx context.Context, o options) error {
	if o.endpoint == "" {
		emu, err := embed(&o)
		if err != nil {
			return err
		}
		defer emu.Close()
	}
	// The server side: a verifier of the pool's access tokens, and the policy.
	if o.issuer == "" {
		o.issuer = jwt.CognitoIssuer(o.userPoolID)
	}
	v, err := jwt.NewVerifier(jwt.VerifierOptions{Issuers: []string{o.issuer}, ClientIDs: []string{o.clientID}, TokenUse: jwt.AccessToken})
	if err != nil {
		return err
	}
	policy := []grpcauth.ServerOption{
		grpcauth.PublicHealthAndReflection(),
		grpcauth.Method(whoamiMethod, grpcauth.Policy{Scopes: []string{"aws.cognito.signin.user.admin"}}),
		grpcauth.Method(createMethod, grpcauth.Policy{Scopes: []string{"orders/write"}}),
	}
	serverTLS, clientTLS, err := selfSigned()
	if err != nil {
		return err
	}
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(serverTLS)),
		grpc.ChainUnaryInterceptor(grpcauth.UnaryServerInterceptor(v, policy...)),
		grpc.ChainStreamInterceptor(grpcauth.StreamServerInterceptor(v, policy...)))
	srv.RegisterService(&ordersDesc, struct{}{})
	healthpb.RegisterHealthServer(srv, health.NewServer())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()

	// The client side: a session signed in on the pool, its tokens on every RPC.
	cc, err := cognito.New(cognito.Options{UserPoolID: o.userPoolID, ClientID: o.clientID, Endpoint: o.endpoint})
	if err != nil {
		return err
	}
	mgr, err := session.New(session.Config{Cognito: cc})
	if err != nil {
		return err
	}
	if _, err := mgr.SignIn(ctx, cognito.SignInInput{Username: o.username, Password: secret.String(o.password)}); err != nil {
		return fmt.Errorf("sign-in: %w", err)
	}
	conn, err := grpc.NewClient(lis.Addr().String(),
		grpc.WithTransportCredentials(credentials.NewTLS(clientTLS)),
		grpc.WithUnaryInterceptor(grpcauth.UnaryClientInterceptor(mgr)),
		grpc.WithStreamInterceptor(grpcauth.StreamClientInterceptor(mgr)))
	if err != nil {
		return err
	}
	defer conn.Close()

	var r reply
	if err := conn.Invoke(ctx, whoamiMethod, &struct{}{}, &r, callJSON()); err != nil {
		return fmt.Errorf("whoami: %w", err)
	}
	fmt.Fprintf(o.out, "Whoami: %s\n", r.Text)
	err = conn.Invoke(ctx, createMethod, &struct{}{}, &r, callJSON())
	if status.Code(err) == 0 {
		return errors.New("create: let through without orders/write")
	}
	fmt.Fprintf(o.out, "Create: %s (%s)\n", status.Code(err), status.Convert(err).Message())
	h, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	fmt.Fprintf(o.out, "health: %s\n", h.GetStatus())
	return nil
}

// embed starts the embedded Cognito with a pool, a client and alice.
func embed(o *options) (*emulator.Server, error) {
	if o.password == "" {
		var b [12]byte
		_, _ = rand.Read(b[:])
		o.password = fmt.Sprintf("Grpc-%x-1a", b)
	}
	emu, err := emulator.Listen("127.0.0.1:0", emulator.Options{SelfIssuer: true})
	if err != nil {
		return nil, err
	}
	pool, err := emu.CreateUserPool(emulator.SeedUserPool{
		Name:    "grpcapp",
		Clients: []emulator.SeedClient{{Name: "cli"}},
		Users:   []emulator.SeedUser{{Username: o.username, Password: o.password}},
	})
	if err != nil {
		emu.Close()
		return nil, err
	}
	o.endpoint, o.userPoolID, o.clientID = emu.URL, pool.ID, pool.Clients["cli"].ID
	o.issuer = emu.Issuer(pool.ID) // SelfIssuer: the keys are served at the emulator's address
	return emu, nil
}

// selfSigned makes a certificate for 127.0.0.1 and the TLS configurations of
// both ends.
func selfSigned() (server, client *tls.Config, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12},
		&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}
