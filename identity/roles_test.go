package identity_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/identity"
)

// TestProviderMappedRole: a Provider's credentials are for the role the
// identity pool's token-based mapping chooses (the user's preferred group
// role), or for Options.CustomRoleARN among the user's roles; a role outside
// them is refused with Cognito's error. STS GetCallerIdentity, through
// aws-sdk-go-v2's STS client signing with the credentials, names the role.
func TestProviderMappedRole(t *testing.T) {
	const (
		admins  = "arn:aws:iam::123456789012:role/admins"
		editors = "arn:aws:iam::123456789012:role/editors"
		authed  = "arn:aws:iam::123456789012:role/signed-in"
	)
	one, two := int32(1), int32(2)
	clk := clock.NewFake(time.Now().UTC().Truncate(time.Second))
	srv := emulator.NewServer(emulator.Options{Clock: clk, Seed: &emulator.Seed{
		UserPools: []emulator.SeedUserPool{{
			Name:    "users",
			Clients: []emulator.SeedClient{{Name: "app"}},
			Groups: []emulator.SeedGroup{
				{Name: "admins", Precedence: &one, RoleArn: admins},
				{Name: "editors", Precedence: &two, RoleArn: editors},
			},
			Users: []emulator.SeedUser{{Username: "alice", Password: testPassword, Groups: []string{"admins", "editors"}}},
		}},
		IdentityPools: []emulator.SeedIdentityPool{{
			Name: "mapped", UserPool: "users", Clients: []string{"app"},
			Roles:       map[string]string{"authenticated": authed},
			RoleMapping: &emulator.SeedRoleMapping{Type: "Token", AmbiguousRoleResolution: "Deny"},
		}},
	}})
	t.Cleanup(srv.Close)
	v := &env{srv: srv, clk: clk, app: srv.AppClient("users", "app").ID, idp: cip.New(cip.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: aws.AnonymousCredentials{},
	})}
	tok := v.idToken(t, "alice")
	pool := srv.Seeded().IdentityPools["mapped"]

	for _, tc := range []struct {
		custom, want string
	}{
		{"", admins},       // cognito:preferred_role
		{editors, editors}, // chosen among cognito:roles
		{authed, ""},       // not one of hers: refused
	} {
		c, err := identity.New(identity.Options{IdentityPoolID: pool, Endpoint: srv.URL, CustomRoleARN: tc.custom})
		if err != nil {
			t.Fatal(err)
		}
		p := identity.NewProvider(c, identity.ProviderOptions{Clock: clk,
			Logins: identity.LoginFunc(func(context.Context) (string, error) { return tok, nil })})
		creds, err := p.Retrieve(context.Background())
		if tc.want == "" {
			var ce *cognito.Error
			if !errors.As(err, &ce) || ce.Name != "NotAuthorizedException" {
				t.Errorf("custom role %s: %v, want NotAuthorizedException", tc.custom, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("custom role %q: %v", tc.custom, err)
		}
		out, err := sts.New(sts.Options{
			Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Retryer: aws.NopRetryer{},
			Credentials: aws.NewCredentialsCache(p),
		}).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		want := "arn:aws:sts::123456789012:assumed-role/" + tc.want[len("arn:aws:iam::123456789012:role/"):] + "/CognitoIdentityCredentials"
		if aws.ToString(out.Arn) != want || aws.ToString(out.Account) != "123456789012" {
			t.Errorf("custom role %q: caller %s (%s), want %s", tc.custom, aws.ToString(out.Arn), aws.ToString(out.Account), want)
		}
		if info, ok := srv.Credentials(creds.AccessKeyID); !ok || info.RoleARN != tc.want {
			t.Errorf("emulator says %+v", info)
		}
	}
}
