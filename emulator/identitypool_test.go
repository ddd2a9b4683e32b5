package emulator_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ci "github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	citypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/emulator"
)

var idpT0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

const idpPassword = "Identity-Pool-1"

// idpSeed: one user pool with two clients (one trusted by the identity pools, one
// not), two users, a pool that allows guests and one that does not.
func idpSeed() *emulator.Seed {
	return &emulator.Seed{
		UserPools: []emulator.SeedUserPool{{
			Name:    "users",
			Clients: []emulator.SeedClient{{Name: "app"}, {Name: "other"}},
			Users: []emulator.SeedUser{
				{Username: "alice", Password: idpPassword},
				{Username: "bob", Password: idpPassword},
			},
		}},
		IdentityPools: []emulator.SeedIdentityPool{
			{Name: "open", AllowUnauthenticatedIdentities: true, UserPool: "users", Clients: []string{"app"}},
			{Name: "closed", UserPool: "users", Clients: []string{"app"}, CredentialsLifetimeSeconds: 900},
		},
	}
}

type idpEnv struct {
	srv      *emulator.Server
	clk      *clock.Fake
	open     string // identity pool IDs
	closed   string
	userPool string
	app      string // trusted client
	other    string // untrusted client
	ident    *ci.Client
	idp      *cip.Client
}

func newIdpEnv(t *testing.T) *idpEnv {
	t.Helper()
	return newIdpEnvOpts(t, emulator.Options{Seed: idpSeed()})
}

// newIdpEnvOpts starts a server with opts on a fake clock at idpT0.
func newIdpEnvOpts(t *testing.T, opts emulator.Options) *idpEnv {
	t.Helper()
	clk := clock.NewFake(idpT0)
	opts.Clock = clk
	srv := emulator.NewServer(opts)
	t.Cleanup(srv.Close)
	v := &idpEnv{clk: clk}
	v.use(srv)
	if res := srv.Seeded(); res != nil && res.IdentityPools != nil {
		v.open, v.closed = res.IdentityPools["open"], res.IdentityPools["closed"]
		v.userPool = srv.PoolID("users")
		v.app, v.other = srv.AppClient("users", "app").ID, srv.AppClient("users", "other").ID
	}
	return v
}

// use points the environment's SDK clients at srv.
func (v *idpEnv) use(srv *emulator.Server) {
	v.srv = srv
	v.ident = ci.New(ci.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  aws.AnonymousCredentials{},
		Retryer:      aws.NopRetryer{},
	})
	v.idp = sdk(srv)
}

// signIn signs user in through client with the password.
func (v *idpEnv) signIn(t *testing.T, client, user string) *ciptypes.AuthenticationResultType {
	t.Helper()
	out, err := v.idp.InitiateAuth(context.Background(), &cip.InitiateAuthInput{
		AuthFlow:       ciptypes.AuthFlowTypeUserPasswordAuth,
		ClientId:       aws.String(client),
		AuthParameters: map[string]string{"USERNAME": user, "PASSWORD": idpPassword},
	})
	if err != nil || out.AuthenticationResult == nil {
		t.Fatalf("sign-in of %s: %v", user, err)
	}
	return out.AuthenticationResult
}

// idToken signs user in through client and returns the id token.
func (v *idpEnv) idToken(t *testing.T, client, user string) string {
	t.Helper()
	return aws.ToString(v.signIn(t, client, user).IdToken)
}

func (v *idpEnv) logins(tok string) map[string]string {
	return map[string]string{emulator.ProviderName(v.userPool): tok}
}

func (v *idpEnv) getID(pool string, logins map[string]string) (string, error) {
	out, err := v.ident.GetId(context.Background(), &ci.GetIdInput{IdentityPoolId: aws.String(pool), Logins: logins})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.IdentityId), nil
}

func (v *idpEnv) creds(id string, logins map[string]string) (*ci.GetCredentialsForIdentityOutput, error) {
	return v.ident.GetCredentialsForIdentity(context.Background(), &ci.GetCredentialsForIdentityInput{IdentityId: aws.String(id), Logins: logins})
}

// wantAPIError checks err is the service exception name with a message containing
// msg.
func wantAPIError(t *testing.T, err error, name, msg string) {
	t.Helper()
	var api smithy.APIError
	if !errors.As(err, &api) {
		t.Fatalf("err = %v, want %s", err, name)
	}
	if api.ErrorCode() != name || !strings.Contains(api.ErrorMessage(), msg) {
		t.Fatalf("err = %s: %q, want %s containing %q", api.ErrorCode(), api.ErrorMessage(), name, msg)
	}
}

var identityIDPattern = regexp.MustCompile(`^us-east-1:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestIdentityPoolSetUpWithSDK(t *testing.T) {
	v := newIdpEnv(t)
	ctx := context.Background()
	// Set-up calls are signed in real life; the emulator accepts any signature.
	admin := ci.New(ci.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(v.srv.URL),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "secret"}, nil
		}),
	})
	created, err := admin.CreateIdentityPool(ctx, &ci.CreateIdentityPoolInput{
		IdentityPoolName:               aws.String("made by sdk"),
		AllowUnauthenticatedIdentities: true,
		CognitoIdentityProviders: []citypes.CognitoIdentityProvider{{
			ProviderName: aws.String(emulator.ProviderName(v.userPool)),
			ClientId:     aws.String(v.app),
		}},
		IdentityPoolTags: map[string]string{"team": "auth"},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(created.IdentityPoolId)
	if !identityIDPattern.MatchString(id) {
		t.Fatalf("identity pool ID %q is not {region}:{uuid}", id)
	}
	desc, err := admin.DescribeIdentityPool(ctx, &ci.DescribeIdentityPoolInput{IdentityPoolId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(desc.IdentityPoolName) != "made by sdk" || !desc.AllowUnauthenticatedIdentities ||
		len(desc.CognitoIdentityProviders) != 1 || aws.ToString(desc.CognitoIdentityProviders[0].ClientId) != v.app ||
		desc.IdentityPoolTags["team"] != "auth" {
		t.Fatalf("DescribeIdentityPool = %+v", desc)
	}
	if _, err := admin.SetIdentityPoolRoles(ctx, &ci.SetIdentityPoolRolesInput{
		IdentityPoolId: aws.String(id),
		Roles:          map[string]string{"authenticated": "arn:aws:iam::000000000000:role/auth"},
	}); err != nil {
		t.Fatal(err)
	}
	roles, err := admin.GetIdentityPoolRoles(ctx, &ci.GetIdentityPoolRolesInput{IdentityPoolId: aws.String(id)})
	if err != nil || roles.Roles["authenticated"] != "arn:aws:iam::000000000000:role/auth" {
		t.Fatalf("GetIdentityPoolRoles = %+v, %v", roles, err)
	}

	// Paging through all three pools two at a time.
	var names []string
	var token *string
	for {
		page, err := admin.ListIdentityPools(ctx, &ci.ListIdentityPoolsInput{MaxResults: aws.Int32(2), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page.IdentityPools {
			names = append(names, aws.ToString(p.IdentityPoolName))
		}
		if token = page.NextToken; token == nil {
			break
		}
	}
	if len(names) != 3 {
		t.Fatalf("ListIdentityPools names = %v, want 3", names)
	}
	if _, err := admin.ListIdentityPools(ctx, &ci.ListIdentityPoolsInput{MaxResults: aws.Int32(0)}); err == nil {
		t.Fatal("ListIdentityPools with MaxResults 0: no error")
	}

	if _, err := admin.DeleteIdentityPool(ctx, &ci.DeleteIdentityPoolInput{IdentityPoolId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	_, err = admin.DescribeIdentityPool(ctx, &ci.DescribeIdentityPoolInput{IdentityPoolId: aws.String(id)})
	wantAPIError(t, err, "ResourceNotFoundException", "IdentityPool '"+id+"' not found.")
}

func TestGetIdGuests(t *testing.T) {
	v := newIdpEnv(t)
	a, err := v.getID(v.open, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := v.getID(v.open, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !identityIDPattern.MatchString(a) || a == b {
		t.Fatalf("guest identities %q, %q: want two distinct {region}:{uuid}", a, b)
	}
	_, err = v.getID(v.closed, nil)
	wantAPIError(t, err, "NotAuthorizedException", "Unauthenticated access is not supported for this identity pool.")
	_, err = v.getID("us-east-1:00000000-0000-4000-8000-000000000000", nil)
	wantAPIError(t, err, "ResourceNotFoundException", "not found")
	_, err = v.getID("not a pool id", nil)
	wantAPIError(t, err, "ValidationException", "identityPoolId")
}

func TestGetIdStablePerUser(t *testing.T) {
	v := newIdpEnv(t)
	alice1 := v.idToken(t, v.app, "alice")
	v.clk.Advance(time.Minute)
	alice2 := v.idToken(t, v.app, "alice") // another sign-in, same user
	bob := v.idToken(t, v.app, "bob")

	id1, err := v.getID(v.open, v.logins(alice1))
	if err != nil {
		t.Fatal(err)
	}
	id2, err := v.getID(v.open, v.logins(alice2))
	if err != nil {
		t.Fatal(err)
	}
	idBob, err := v.getID(v.open, v.logins(bob))
	if err != nil {
		t.Fatal(err)
	}
	if id1 != id2 {
		t.Fatalf("alice got %s then %s: want one stable identity", id1, id2)
	}
	if idBob == id1 {
		t.Fatal("bob got alice's identity")
	}
	// The same user in another identity pool is another identity.
	idClosed, err := v.getID(v.closed, v.logins(alice1))
	if err != nil {
		t.Fatal(err)
	}
	if idClosed == id1 {
		t.Fatal("identity shared across identity pools")
	}
	providers, ok := v.srv.IdentityLogins(id1)
	if !ok || len(providers) != 1 || providers[0] != emulator.ProviderName(v.userPool) {
		t.Fatalf("IdentityLogins = %v, %v", providers, ok)
	}
}

func TestGetIdChecksLogins(t *testing.T) {
	v := newIdpEnv(t)
	good := v.idToken(t, v.app, "alice")
	untrusted := v.idToken(t, v.other, "alice")
	access := aws.ToString(v.signIn(t, v.app, "alice").AccessToken)
	parts := strings.Split(good, ".")
	sig := []byte(parts[2])
	sig[5] ^= 1
	forged := parts[0] + "." + parts[1] + "." + string(sig)
	// A token whose claims were changed after signing.
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	payload = bytes.Replace(payload, []byte(`"token_use":"id"`), []byte(`"token_use":"id" `), 1)
	altered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2]

	for _, tc := range []struct {
		name   string
		logins map[string]string
		msg    string
	}{
		{"client not trusted by the pool", v.logins(untrusted), "Incorrect token audience."},
		{"access token", v.logins(access), "Not a valid OpenId Connect identity token."},
		{"forged signature", v.logins(forged), "Not a valid OpenId Connect identity token."},
		{"altered claims", v.logins(altered), "Not a valid OpenId Connect identity token."},
		{"garbage", v.logins("not-a-jwt"), "Not a valid OpenId Connect identity token."},
		{"unknown provider", map[string]string{"cognito-idp.us-east-1.amazonaws.com/us-east-1_Nope": good}, "not from a supported provider"},
		{"other provider", map[string]string{"accounts.google.com": good}, "not from a supported provider"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.getID(v.open, tc.logins)
			wantAPIError(t, err, "NotAuthorizedException", tc.msg)
		})
	}

	t.Run("expired", func(t *testing.T) {
		v.clk.Advance(time.Hour) // the id token's default lifetime
		_, err := v.getID(v.open, v.logins(good))
		wantAPIError(t, err, "NotAuthorizedException", "Invalid login token. Token expired:")
	})
}

func TestGetCredentialsForIdentity(t *testing.T) {
	v := newIdpEnv(t)
	tok := v.idToken(t, v.app, "alice")
	id, err := v.getID(v.closed, v.logins(tok))
	if err != nil {
		t.Fatal(err)
	}
	out, err := v.creds(id, v.logins(tok))
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	if !regexp.MustCompile(`^ASIA[A-Z0-9]{16}$`).MatchString(aws.ToString(c.AccessKeyId)) {
		t.Errorf("AccessKeyId = %q, want ASIA + 16", aws.ToString(c.AccessKeyId))
	}
	if len(aws.ToString(c.SecretKey)) != 40 || len(aws.ToString(c.SessionToken)) < 100 {
		t.Errorf("secret key or session token of unexpected size")
	}
	// The closed pool's seeded lifetime is 15 minutes, on the emulator clock.
	if want := idpT0.Add(15 * time.Minute); !c.Expiration.Equal(want) {
		t.Errorf("Expiration = %v, want %v", c.Expiration, want)
	}
	if aws.ToString(out.IdentityId) != id {
		t.Errorf("IdentityId = %q, want %q", aws.ToString(out.IdentityId), id)
	}

	again, err := v.creds(id, v.logins(tok))
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(again.Credentials.AccessKeyId) == aws.ToString(c.AccessKeyId) {
		t.Error("two calls gave the same access key")
	}

	// The default lifetime is Cognito's hour.
	openID, err := v.getID(v.open, v.logins(tok))
	if err != nil {
		t.Fatal(err)
	}
	openOut, err := v.creds(openID, v.logins(tok))
	if err != nil {
		t.Fatal(err)
	}
	if want := idpT0.Add(time.Hour); !openOut.Credentials.Expiration.Equal(want) {
		t.Errorf("default Expiration = %v, want %v", openOut.Credentials.Expiration, want)
	}

	bob := v.idToken(t, v.app, "bob")
	for _, tc := range []struct {
		name      string
		id        string
		logins    map[string]string
		errName   string
		errSubstr string
	}{
		{"authenticated identity without logins", id, nil, "NotAuthorizedException", "Access to Identity '" + id + "' is forbidden."},
		{"another user's login", id, v.logins(bob), "NotAuthorizedException", "Logins don't match."},
		{"unknown identity", "us-east-1:00000000-0000-4000-8000-000000000000", nil, "ResourceNotFoundException", "not found"},
		{"malformed identity", "nope", nil, "ValidationException", "identityId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.creds(tc.id, tc.logins)
			wantAPIError(t, err, tc.errName, tc.errSubstr)
		})
	}
}

func TestGuestSignsIn(t *testing.T) {
	v := newIdpEnv(t)
	guest, err := v.getID(v.open, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.creds(guest, nil); err != nil {
		t.Fatalf("guest credentials: %v", err)
	}
	// Alice signs in on the guest's device: the guest identity becomes hers.
	alice := v.idToken(t, v.app, "alice")
	out, err := v.creds(guest, v.logins(alice))
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.IdentityId); got != guest {
		t.Fatalf("linked identity = %s, want the guest's %s", got, guest)
	}
	if id, err := v.getID(v.open, v.logins(alice)); err != nil || id != guest {
		t.Fatalf("GetId after linking = %s, %v; want %s", id, err, guest)
	}
	// Without the login, the identity is no longer a guest's.
	_, err = v.creds(guest, nil)
	wantAPIError(t, err, "NotAuthorizedException", "is forbidden")

	// A second guest identity presenting Alice's login is merged into hers.
	guest2, err := v.getID(v.open, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err = v.creds(guest2, v.logins(alice))
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.IdentityId); got != guest {
		t.Fatalf("merged identity = %s, want %s", got, guest)
	}
	if _, ok := v.srv.IdentityLogins(guest2); ok {
		t.Fatal("the merged guest identity still exists")
	}
}

func TestGetOpenIdToken(t *testing.T) {
	v := newIdpEnv(t)
	alice := v.idToken(t, v.app, "alice")
	id, err := v.getID(v.open, v.logins(alice))
	if err != nil {
		t.Fatal(err)
	}
	out, err := v.ident.GetOpenIdToken(context.Background(), &ci.GetOpenIdTokenInput{IdentityId: aws.String(id), Logins: v.logins(alice)})
	if err != nil {
		t.Fatal(err)
	}
	key, kid, err := v.srv.OpenIDTokenKey()
	if err != nil || key == nil {
		t.Fatalf("OpenIDTokenKey: %v", err)
	}
	claims := gojwt.MapClaims{}
	tok, err := gojwt.ParseWithClaims(aws.ToString(out.Token), claims, func(tk *gojwt.Token) (any, error) { return key, nil },
		gojwt.WithValidMethods([]string{"RS256"}), gojwt.WithTimeFunc(func() time.Time { return idpT0 }),
		gojwt.WithIssuer("https://cognito-identity.amazonaws.com"), gojwt.WithAudience(v.open))
	if err != nil {
		t.Fatalf("OpenID token does not verify: %v", err)
	}
	if tok.Header["kid"] != kid || claims["sub"] != id {
		t.Fatalf("kid %v sub %v; want %s, %s", tok.Header["kid"], claims["sub"], kid, id)
	}
	amr, _ := claims["amr"].([]any)
	if len(amr) < 2 || amr[0] != "authenticated" || amr[1] != emulator.ProviderName(v.userPool) {
		t.Fatalf("amr = %v", claims["amr"])
	}
	exp, _ := claims.GetExpirationTime()
	if exp == nil || !exp.Time.Equal(idpT0.Add(10*time.Minute)) {
		t.Fatalf("exp = %v, want ten minutes", exp)
	}

	guest, err := v.getID(v.open, nil)
	if err != nil {
		t.Fatal(err)
	}
	gout, err := v.ident.GetOpenIdToken(context.Background(), &ci.GetOpenIdTokenInput{IdentityId: aws.String(guest)})
	if err != nil {
		t.Fatal(err)
	}
	gc := gojwt.MapClaims{}
	if _, err := gojwt.ParseWithClaims(aws.ToString(gout.Token), gc, func(*gojwt.Token) (any, error) { return key, nil },
		gojwt.WithTimeFunc(func() time.Time { return idpT0 })); err != nil {
		t.Fatal(err)
	}
	if amr, _ := gc["amr"].([]any); len(amr) != 1 || amr[0] != "unauthenticated" {
		t.Fatalf("guest amr = %v", gc["amr"])
	}
}

func TestServerSideTokenCheck(t *testing.T) {
	v := newIdpEnv(t)
	pool, err := v.srv.CreateIdentityPool(emulator.IdentityPoolConfig{
		Name: "checked",
		CognitoIdentityProviders: []emulator.CognitoIdentityProvider{{
			ProviderName: emulator.ProviderName(v.userPool), ClientID: v.app, ServerSideTokenCheck: true,
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	auth := v.signIn(t, v.app, "alice")
	logins := v.logins(aws.ToString(auth.IdToken))
	if _, err := v.getID(pool, logins); err != nil {
		t.Fatal(err)
	}
	if _, err := v.idp.GlobalSignOut(context.Background(), &cip.GlobalSignOutInput{AccessToken: auth.AccessToken}); err != nil {
		t.Fatal(err)
	}
	_, err = v.getID(pool, logins)
	wantAPIError(t, err, "NotAuthorizedException", "revoked")
	// Without the check, the id token stands until it expires, as in Cognito.
	if _, err := v.getID(v.open, logins); err != nil {
		t.Fatalf("pool without ServerSideTokenCheck: %v", err)
	}
}

func TestSelfIssuerLogins(t *testing.T) {
	v := newIdpEnvOpts(t, emulator.Options{Seed: idpSeed(), SelfIssuer: true})
	srv := v.srv
	tok := v.idToken(t, v.app, "alice")
	// A client that takes the provider name from the token's iss sends the
	// emulator's own address; Cognito's name works too, for the same identity.
	selfName := strings.TrimPrefix(srv.Issuer(v.userPool), "http://")
	a, err := v.getID(v.open, map[string]string{selfName: tok})
	if err != nil {
		t.Fatal(err)
	}
	b, err := v.getID(v.open, v.logins(tok))
	if err != nil || a != b {
		t.Fatalf("self-issuer login %s, Cognito-name login %s (%v): want one identity", a, b, err)
	}
}

func TestIdentityPoolStateSurvivesRestart(t *testing.T) {
	v := newIdpEnv(t)
	tok := v.idToken(t, v.app, "alice")
	id, err := v.getID(v.open, v.logins(tok))
	if err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/state.json"
	if err := v.srv.SaveState(path); err != nil {
		t.Fatal(err)
	}
	srv2 := emulator.NewServer(emulator.Options{StateFile: path, Clock: v.clk})
	t.Cleanup(srv2.Close)
	v.use(srv2)
	again, err := v.getID(v.open, v.logins(tok))
	if err != nil || again != id {
		t.Fatalf("after restart GetId = %s, %v; want %s", again, err, id)
	}
}

func TestIdentityPoolFaultsAndCounters(t *testing.T) {
	v := newIdpEnv(t)
	v.srv.InjectFault("GetCredentialsForIdentity", emulator.Fault{ErrName: "TooManyRequestsException", Message: "Rate exceeded"})
	id, err := v.getID(v.open, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.creds(id, nil)
	wantAPIError(t, err, "TooManyRequestsException", "Rate exceeded")
	if n := v.srv.Requests("GetCredentialsForIdentity"); n != 1 {
		t.Fatalf("counter = %d, want 1", n)
	}
}

// FuzzIdentityPoolRequest feeds arbitrary bodies to all 23 identity-pool operations:
// no input may crash the server or produce an internal error.
func FuzzIdentityPoolRequest(f *testing.F) {
	ops := []string{"CreateIdentityPool", "DescribeIdentityPool", "UpdateIdentityPool", "DeleteIdentityPool", "ListIdentityPools",
		"SetIdentityPoolRoles", "GetIdentityPoolRoles", "DescribeIdentity", "GetId", "GetCredentialsForIdentity", "GetOpenIdToken",
		"GetOpenIdTokenForDeveloperIdentity", "LookupDeveloperIdentity", "MergeDeveloperIdentities", "UnlinkDeveloperIdentity",
		"ListIdentities", "DeleteIdentities", "UnlinkIdentity", "TagResource", "UntagResource", "ListTagsForResource",
		"SetPrincipalTagAttributeMap", "GetPrincipalTagAttributeMap"}
	for _, s := range []string{
		`{}`, `{"IdentityPoolId":"us-east-1:00000000-0000-4000-8000-000000000000"}`,
		`{"IdentityPoolName":"x","AllowUnauthenticatedIdentities":true,"CognitoIdentityProviders":[{"ProviderName":"cognito-idp.us-east-1.amazonaws.com/us-east-1_x","ClientId":"c"}]}`,
		`{"IdentityPoolId":"a:b","Logins":{"cognito-idp.us-east-1.amazonaws.com/us-east-1_x":"a.b.c"}}`,
		`{"IdentityId":"us-east-1:0","Logins":{"x/y_z":"e30.e30.e30"}}`, `{"MaxResults":5,"NextToken":"zz"}`, `[`, `null`,
		`{"IdentityPoolId":"us-east-1:00000000-0000-4000-8000-000000000000","Logins":{"dev":"u"},"TokenDuration":5}`,
		`{"SourceUserIdentifier":"a","DestinationUserIdentifier":"b","DeveloperProviderName":"dev","IdentityPoolId":"a:b"}`,
	} {
		for op := range len(ops) {
			f.Add(uint8(op), []byte(s))
		}
	}
	e, err := emulator.New(emulator.Options{Seed: idpSeed(), Clock: clock.NewFake(idpT0)})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("X-Amz-Target", "AWSCognitoIdentityService."+ops[int(op)%len(ops)])
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
	})
}

// TestLegacyStateFileLoads: a state file written when identity-pool state was kept
// as JSON under "extensions" still loads — same identity for the same login, same
// OpenID signing key — and is written back in the current shape.
func TestLegacyStateFileLoads(t *testing.T) {
	const (
		poolID     = "us-east-1_Legacy01"
		client     = "legacyappclient0000000000a"
		identPool  = "us-east-1:82bfe965-743c-460b-b909-bb011010cd1b"
		identityID = "us-east-1:a9190089-7182-4e7c-b1de-6e8954dfd04e"
		openIDKid  = "ykf8S04UEgeGSAjTuIM5wyhbshZMNOxsE7PnVywykV8="
	)
	data, err := os.ReadFile("testdata/state-extensions-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	v := newIdpEnvOpts(t, emulator.Options{StateFile: path})
	v.userPool = poolID
	srv := v.srv
	if _, kid, err := srv.OpenIDTokenKey(); err != nil || kid != openIDKid {
		t.Fatalf("OpenID key %q, %v; want the file's %q", kid, err, openIDKid)
	}
	if providers, ok := srv.IdentityLogins(identityID); !ok || len(providers) != 1 || providers[0] != emulator.ProviderName(poolID) {
		t.Fatalf("identity logins %v %v", providers, ok)
	}
	got, err := v.getID(identPool, v.logins(v.idToken(t, client, "alice")))
	if err != nil || got != identityID {
		t.Fatalf("GetId = %s, %v; want the file's %s", got, err, identityID)
	}

	if err := srv.SaveState(path); err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	data, _ = os.ReadFile(path)
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if _, old := doc["extensions"]; old {
		t.Error("state written back with an extensions block")
	}
	if !bytes.Contains(doc["identityPools"], []byte(identityID)) {
		t.Error("identity pools not under a top-level identityPools key")
	}
}
