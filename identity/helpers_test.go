package identity_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/identity"
	"github.com/cogauth/cogauth/store"
)

const testPassword = "Identity-Test-1"

// testSeed: a user pool with two users and an app client; an identity pool that
// allows guests ("open") and one that does not ("closed").
func testSeed() *emulator.Seed {
	return &emulator.Seed{
		UserPools: []emulator.SeedUserPool{{
			Name:    "users",
			Clients: []emulator.SeedClient{{Name: "app"}},
			Users: []emulator.SeedUser{
				{Username: "alice", Password: testPassword},
				{Username: "bob", Password: testPassword},
			},
		}},
		IdentityPools: []emulator.SeedIdentityPool{
			{Name: "open", AllowUnauthenticatedIdentities: true, UserPool: "users", Clients: []string{"app"}},
			{Name: "closed", UserPool: "users", Clients: []string{"app"}},
		},
	}
}

type env struct {
	srv    *emulator.Server
	clk    *clock.Fake
	open   string
	closed string
	app    string
	idp    *cip.Client
}

// newEnv starts a seeded emulator on a fake clock set to the current second, so
// that the credentials' times also make sense to code that reads the real clock
// (aws.CredentialsCache, S3 signing).
func newEnv(t testing.TB) *env {
	t.Helper()
	clk := clock.NewFake(time.Now().UTC().Truncate(time.Second))
	srv := emulator.NewServer(emulator.Options{Seed: testSeed(), Clock: clk})
	t.Cleanup(srv.Close)
	return &env{
		srv:    srv,
		clk:    clk,
		open:   srv.Seeded().IdentityPools["open"],
		closed: srv.Seeded().IdentityPools["closed"],
		app:    srv.AppClient("users", "app").ID,
		idp: cip.New(cip.Options{
			Region:       "us-east-1",
			BaseEndpoint: aws.String(srv.URL),
			Credentials:  aws.AnonymousCredentials{},
		}),
	}
}

// idToken signs user in and returns the id token.
func (v *env) idToken(t testing.TB, user string) string {
	t.Helper()
	out, err := v.idp.InitiateAuth(context.Background(), &cip.InitiateAuthInput{
		AuthFlow:       ciptypes.AuthFlowTypeUserPasswordAuth,
		ClientId:       aws.String(v.app),
		AuthParameters: map[string]string{"USERNAME": user, "PASSWORD": testPassword},
	})
	if err != nil || out.AuthenticationResult == nil {
		t.Fatalf("sign-in of %s: %v", user, err)
	}
	return aws.ToString(out.AuthenticationResult.IdToken)
}

// client returns an identity client for pool on the emulator.
func (v *env) client(t testing.TB, pool string, st store.Store) *identity.Client {
	t.Helper()
	c, err := identity.New(identity.Options{IdentityPoolID: pool, Endpoint: v.srv.URL, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// counts returns the emulator's GetId and GetCredentialsForIdentity counters.
func (v *env) counts() (getID, getCreds int) {
	return v.srv.Requests("GetId"), v.srv.Requests("GetCredentialsForIdentity")
}

func (v *env) wantCounts(t testing.TB, getID, getCreds int) {
	t.Helper()
	if a, b := v.counts(); a != getID || b != getCreds {
		t.Fatalf("requests: GetId %d, GetCredentialsForIdentity %d; want %d, %d", a, b, getID, getCreds)
	}
}

// login is a LoginSource a test switches between users and signed out.
type login struct{ tok atomic.Pointer[string] }

func (l *login) set(tok string) { l.tok.Store(&tok) }
func (l *login) signOut()       { l.tok.Store(nil) }

func (l *login) IDToken(context.Context) (string, error) {
	if p := l.tok.Load(); p != nil {
		return *p, nil
	}
	return "", identity.ErrNotSignedIn
}
