package connectauth_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/cogauth/cogauth/grpcauth"
	"github.com/cogauth/cogauth/internal/bearer/bearertest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/status"
)

func init() { encoding.RegisterCodec(stringCodec{}) }

// TestGRPCGoClient: a grpc-go client with grpcauth's interceptor calls the
// Connect handlers over HTTP/2 and TLS. The packages agree: the token is read,
// the codes map one to one, and 30 calls refused together share one refresh.
func TestGRPCGoClient(t *testing.T) {
	b := newBench(t)
	pool := x509.NewCertPool()
	pool.AddCert(b.cert)
	conn, err := grpc.NewClient(strings.TrimPrefix(b.url, "https://"),
		grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})),
		grpc.WithUnaryInterceptor(grpcauth.UnaryClientInterceptor(b.Session)),
		grpc.WithDefaultCallOptions(grpc.CallContentSubtype("cogauthtest")))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	call := func(proc string) (string, error) {
		out := new(msg)
		err := conn.Invoke(ctx, proc, &msg{}, out)
		return out.S, err
	}
	if got, err := call(pWhoami); err != nil || got != bearertest.User {
		t.Fatalf("Whoami: %q %v", got, err)
	}
	if _, err := call(pAdmin); status.Code(err) != codes.PermissionDenied || status.Convert(err).Message() != "required scope missing" {
		t.Fatalf("Admin: %v", err)
	}
	b.RevokeCurrent()
	before := b.Refreshes()
	var wg sync.WaitGroup
	errs := make(chan error, 30)
	for range 30 {
		wg.Go(func() {
			if got, err := call(pWhoami); err != nil || got != bearertest.User {
				errs <- errors.Join(err, errors.New("got "+got))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := b.Refreshes() - before; n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
}
