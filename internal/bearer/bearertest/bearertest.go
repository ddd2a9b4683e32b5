// Package bearertest is the test bench grpcauth and connectauth share: a session
// signed in on the emulator, a verifier of its tokens that can be told to refuse
// the tokens issued so far, the emulator's refresh count, and a self-signed TLS
// certificate for loopback.
package bearertest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/emulator/emulatortest"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/session"
)

// User, Password and Group are the seeded user's; ScopeSignIn is the scope of
// her access tokens.
const (
	User        = "alice"
	Password    = "Correct-Horse-1"
	Group       = "staff"
	ScopeSignIn = "aws.cognito.signin.user.admin"
)

// Env is a signed-in session on the emulator and a verifier of its tokens.
type Env struct {
	Srv      *emulatortest.Server
	Cognito  *cognito.Client
	Session  *session.Manager
	Verifier *jwt.Verifier

	revokedBefore atomic.Int64 // Unix seconds; tokens issued before are refused
}

// New starts the emulator, signs alice in and makes the verifier.
func New(t testing.TB) *Env {
	t.Helper()
	srv := emulatortest.StartWith(t, emulator.Options{
		Clock: clock.NewFake(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)),
		Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
			Name:    "app",
			Clients: []emulator.SeedClient{{Name: "web"}},
			Groups:  []emulator.SeedGroup{{Name: Group}},
			Users:   []emulator.SeedUser{{Username: User, Password: Password, Groups: []string{Group}}},
		}}},
	})
	e := &Env{Srv: srv}
	e.Session, e.Cognito = NewSession(t, srv)
	v, err := jwt.NewVerifier(jwt.VerifierOptions{
		Issuers:   []string{srv.Issuer("app")},
		JWKSURLs:  map[string]string{srv.Issuer("app"): srv.JWKSURL("app")},
		TokenUse:  jwt.AccessToken,
		ClientIDs: []string{srv.ClientID("app", "web")},
		Clock:     srv.Clock(),
		Check: func(tok *jwt.Token) error {
			if cut := e.revokedBefore.Load(); cut != 0 && tok.Claims().Iat.Unix() < cut {
				return errors.New("revoked")
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.Verifier = v
	return e
}

// NewSession signs alice in on srv with a session of its own.
func NewSession(t testing.TB, srv *emulatortest.Server) (*session.Manager, *cognito.Client) {
	t.Helper()
	cc, err := cognito.New(cognito.Options{UserPoolID: srv.PoolID("app"), ClientID: srv.ClientID("app", "web"), Endpoint: srv.URL, Clock: srv.Clock()})
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := session.New(session.Config{Cognito: cc, Clock: srv.Clock()})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := mgr.SignIn(context.Background(), cognito.SignInInput{Username: User, Password: Password}); err != nil || res.Session == nil {
		t.Fatalf("sign-in: %v", err)
	}
	return mgr, cc
}

// Refreshes counts the emulator's token refreshes.
func (e *Env) Refreshes() int {
	return e.Srv.Requests("GetTokensFromRefreshToken") + e.Srv.Requests("InitiateAuth")
}

// RevokeCurrent makes the verifier refuse every token issued so far (as a global
// sign-out would) and moves the emulator's clock on, so that the next token is
// issued after the cut.
func (e *Env) RevokeCurrent() {
	now := e.Srv.Clock().Now()
	e.revokedBefore.Store(now.Unix() + 1)
	e.Srv.Advance(2 * time.Second)
}

// TLS makes a self-signed certificate for 127.0.0.1 and returns the server's
// and the client's configurations.
func TLS(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "cogauth test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
	client = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return server, client
}
