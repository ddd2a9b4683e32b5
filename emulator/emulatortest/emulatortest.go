// Package emulatortest starts a Cognito emulator for one test, on loopback, in
// one line, and stops it when the test ends — as httptest and miniredis do:
//
//	srv := emulatortest.Start(t, &emulator.Seed{UserPools: …})
//	c, _ := cognito.New(cognito.Options{UserPoolID: srv.PoolID("app"), ClientID: srv.ClientID("app", "web"), Endpoint: srv.URL})
//
// The helpers find what the seed made by the names it gave.
package emulatortest

import (
	"testing"

	"github.com/cogauth/cogauth/emulator"
)

// Server is a running emulator with lookup helpers.
type Server struct {
	*emulator.Server
}

// Start runs an emulator with seed (nil for none) until t ends.
func Start(t testing.TB, seed *emulator.Seed) *Server {
	t.Helper()
	return StartWith(t, emulator.Options{Seed: seed})
}

// StartWith runs an emulator with opts until t ends; a seed or state file that
// cannot be applied fails the test.
func StartWith(t testing.TB, opts emulator.Options) *Server {
	t.Helper()
	srv, err := emulator.Listen("127.0.0.1:0", opts)
	if err != nil {
		t.Fatalf("emulatortest: %v", err)
	}
	t.Cleanup(srv.Close)
	return &Server{srv}
}

// ClientID is the ID of the seeded app client named client of pool.
func (s *Server) ClientID(pool, client string) string { return s.AppClient(pool, client).ID }

// IdentityPoolID is the ID of the seeded identity pool named name ("" when none).
func (s *Server) IdentityPoolID(name string) string {
	if res := s.Seeded(); res != nil {
		return res.IdentityPools[name]
	}
	return ""
}

// Issuer is the iss claim of the tokens of the seeded pool named pool.
func (s *Server) Issuer(pool string) string { return s.Emulator.Issuer(s.PoolID(pool)) }

// JWKSURL is where this emulator serves the signing keys of the seeded pool named
// pool (the issuer's /.well-known/jwks.json, on the emulator's own address).
func (s *Server) JWKSURL(pool string) string {
	return s.URL + "/" + s.PoolID(pool) + "/.well-known/jwks.json"
}

// OpenIDConfigurationURL is the pool's discovery document on the emulator.
func (s *Server) OpenIDConfigurationURL(pool string) string {
	return s.URL + "/" + s.PoolID(pool) + "/.well-known/openid-configuration"
}
