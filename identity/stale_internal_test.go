package identity

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/store"
)

// A stored identity ID that no longer fits (deleted, or the pool recreated) is
// replaced through GetId, once, instead of failing forever.
func TestStaleStoredIdentityIsReplaced(t *testing.T) {
	srv := emulator.NewServer(emulator.Options{Clock: clock.NewFake(time.Now()), Seed: &emulator.Seed{
		UserPools: []emulator.SeedUserPool{{Name: "u", Clients: []emulator.SeedClient{{Name: "app"}},
			Users: []emulator.SeedUser{{Username: "alice", Password: "Stale-Identity-1"}}}},
		IdentityPools: []emulator.SeedIdentityPool{{Name: "p", AllowUnauthenticatedIdentities: true, UserPool: "u", Clients: []string{"app"}}},
	}})
	defer srv.Close()
	idp := cip.New(cip.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: aws.AnonymousCredentials{}})
	out, err := idp.InitiateAuth(context.Background(), &cip.InitiateAuthInput{
		AuthFlow: ciptypes.AuthFlowTypeUserPasswordAuth, ClientId: aws.String(srv.AppClient("u", "app").ID),
		AuthParameters: map[string]string{"USERNAME": "alice", "PASSWORD": "Stale-Identity-1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	tok := aws.ToString(out.AuthenticationResult.IdToken)
	ctx := context.Background()
	const gone = "us-east-1:00000000-0000-4000-8000-000000000000"

	for _, tc := range []struct {
		name  string
		token string
	}{{"user", tok}, {"guest", ""}} {
		t.Run(tc.name, func(t *testing.T) {
			srv.ResetCounters()
			c, err := New(Options{IdentityPoolID: srv.Seeded().IdentityPools["p"], Endpoint: srv.URL, Store: store.NewMemory()})
			if err != nil {
				t.Fatal(err)
			}
			l, err := c.login(jwt.Secret(tc.token))
			if err != nil {
				t.Fatal(err)
			}
			c.remember(ctx, l, gone)
			creds, err := c.Credentials(ctx, jwt.Secret(tc.token))
			if err != nil {
				t.Fatal(err)
			}
			if creds.IdentityID == gone {
				t.Fatal("the stale identity was kept")
			}
			if stored, _ := c.cachedID(ctx, l); stored != creds.IdentityID {
				t.Fatalf("stored %q, want %q", stored, creds.IdentityID)
			}
			if a, b := srv.Requests("GetId"), srv.Requests("GetCredentialsForIdentity"); a != 1 || b != 2 {
				t.Fatalf("GetId %d, GetCredentialsForIdentity %d; want 1 and 2", a, b)
			}
		})
	}
}
