package emulatortest_test

import (
	"context"
	"testing"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/emulator/emulatortest"
	"github.com/cogauth/cogauth/session"
)

// testSignIn is a test of your own code against the emulator: Start takes the
// test's t, serves on loopback, and stops when the test ends. (go test runs
// this one as TestExampleStart.)
func testSignIn(t *testing.T) {
	srv := emulatortest.Start(t, &emulator.Seed{UserPools: []emulator.SeedUserPool{{
		Name:    "app",
		Clients: []emulator.SeedClient{{Name: "web"}},
		Users:   []emulator.SeedUser{{Username: "alice", Password: "Corr3ct-Horse!"}},
	}}})
	c, err := cognito.New(cognito.Options{UserPoolID: srv.PoolID("app"), ClientID: srv.ClientID("app", "web"), Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	m, err := session.New(session.Config{Cognito: c})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	res, err := m.SignIn(context.Background(), cognito.SignInInput{Username: "alice", Password: "Corr3ct-Horse!"})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Session.Tokens.Access.Claims().Iss; got != srv.Issuer("app") {
		t.Errorf("issuer %q, want %q", got, srv.Issuer("app"))
	}
}

// A test starts the emulator in one line, as httptest.NewServer and
// miniredis.RunT do; the whole file is the example.
func ExampleStart() {
	// In a _test.go file of yours:
	//
	//	func TestSignIn(t *testing.T) { testSignIn(t) }
}
