package emulator_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ci "github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	citypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"
	"github.com/aws/smithy-go"
	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/emulator"
)

const devProvider = "login.example.app"

// devEnv: an emulator that checks SigV4 (the developer operations are admin
// calls), a user pool, and an identity pool with a developer provider and
// roles, made through the SDK.
type devEnv struct {
	*rolesEnv
	admin *ci.Client // signed with the configured access key
}

func newDevEnv(t *testing.T) *devEnv {
	t.Helper()
	seed := &emulator.Seed{
		UserPools: []emulator.SeedUserPool{{
			Name: "users", Clients: []emulator.SeedClient{{Name: "app"}, {Name: "other"}},
			Users: []emulator.SeedUser{{Username: "alice", Password: idpPassword}},
		}},
		AccessKeys: []emulator.SeedAccessKey{{AccessKeyID: "AKIDDEVELOPER", SecretAccessKey: "developer-secret"}},
	}
	clk := clock.NewFake(time.Now().UTC().Truncate(time.Second)) // SigV4 checks the signing time
	srv := emulator.NewServer(emulator.Options{Seed: seed, Clock: clk, AccountID: "123456789012"})
	t.Cleanup(srv.Close)
	iv := &idpEnv{clk: clk}
	iv.use(srv)
	iv.userPool, iv.app, iv.other = srv.PoolID("users"), srv.AppClient("users", "app").ID, srv.AppClient("users", "other").ID
	v := &devEnv{rolesEnv: &rolesEnv{idpEnv: iv}}
	v.admin = ci.New(ci.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Retryer: aws.NopRetryer{},
		Credentials: credentials.NewStaticCredentialsProvider("AKIDDEVELOPER", "developer-secret", ""),
	})
	out, err := v.admin.CreateIdentityPool(context.Background(), &ci.CreateIdentityPoolInput{
		IdentityPoolName:               aws.String("developers"),
		AllowUnauthenticatedIdentities: true,
		DeveloperProviderName:          aws.String(devProvider),
		CognitoIdentityProviders: []citypes.CognitoIdentityProvider{
			{ProviderName: aws.String(emulator.ProviderName(v.userPool)), ClientId: aws.String(v.app)},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.DeveloperProviderName) != devProvider {
		t.Fatalf("DeveloperProviderName echoed %q", aws.ToString(out.DeveloperProviderName))
	}
	v.pool = aws.ToString(out.IdentityPoolId)
	if _, err := v.admin.SetIdentityPoolRoles(context.Background(), &ci.SetIdentityPoolRolesInput{IdentityPoolId: aws.String(v.pool),
		Roles: map[string]string{"authenticated": roleAuth, "unauthenticated": roleUnauth}}); err != nil {
		t.Fatal(err)
	}
	return v
}

func (v *devEnv) devToken(t *testing.T, identityID string, logins map[string]string, tags map[string]string, dur int64) (*ci.GetOpenIdTokenForDeveloperIdentityOutput, error) {
	t.Helper()
	in := &ci.GetOpenIdTokenForDeveloperIdentityInput{IdentityPoolId: aws.String(v.pool), Logins: logins, PrincipalTags: tags}
	if identityID != "" {
		in.IdentityId = aws.String(identityID)
	}
	if dur != 0 {
		in.TokenDuration = aws.Int64(dur)
	}
	return v.admin.GetOpenIdTokenForDeveloperIdentity(context.Background(), in)
}

func (v *devEnv) mustDevToken(t *testing.T, identityID, user string) (id, tok string) {
	t.Helper()
	out, err := v.devToken(t, identityID, map[string]string{devProvider: user}, nil, 0)
	if err != nil {
		t.Fatalf("GetOpenIdTokenForDeveloperIdentity %s: %v", user, err)
	}
	return aws.ToString(out.IdentityId), aws.ToString(out.Token)
}

// credsWithToken is the app's side: unsigned GetCredentialsForIdentity with the
// OpenID token as the cognito-identity.amazonaws.com login.
func (v *devEnv) credsWithToken(id, tok string) (*citypes.Credentials, error) {
	out, err := v.ident.GetCredentialsForIdentity(context.Background(), &ci.GetCredentialsForIdentityInput{
		IdentityId: aws.String(id), Logins: map[string]string{"cognito-identity.amazonaws.com": tok}})
	if err != nil {
		return nil, err
	}
	return out.Credentials, nil
}

// verifyWithJWKS checks tok with the emulator's cognito-identity JWKS, found
// through its OpenID configuration, and returns the claims.
func verifyWithJWKS(t *testing.T, srv *emulator.Server, tok string) gojwt.MapClaims {
	t.Helper()
	get := func(url string, v any) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(v) != nil {
			t.Fatalf("GET %s: %d", url, resp.StatusCode)
		}
	}
	var conf struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	get(srv.URL+"/.well-known/openid-configuration", &conf)
	if conf.Issuer != "https://cognito-identity.amazonaws.com" {
		t.Errorf("issuer %q", conf.Issuer)
	}
	var set struct {
		Keys []struct{ Kid, N, E, Alg, Kty string } `json:"keys"`
	}
	get(conf.JWKSURI, &set)
	claims := gojwt.MapClaims{}
	_, err := gojwt.ParseWithClaims(tok, claims, func(tk *gojwt.Token) (any, error) {
		for _, k := range set.Keys {
			if k.Kid == tk.Header["kid"] && k.Alg == "RS256" && k.Kty == "RSA" {
				return jwkToKey(t, k.N, k.E), nil
			}
		}
		return nil, errors.New("no key for kid")
	}, gojwt.WithValidMethods([]string{"RS256"}), gojwt.WithIssuer("https://cognito-identity.amazonaws.com"), gojwt.WithTimeFunc(srv.Now))
	if err != nil {
		t.Fatalf("token does not verify with the JWKS: %v", err)
	}
	return claims
}

// TestDeveloperAuthenticatedIdentities: the developer flow end to end with
// aws-sdk-go-v2 — a backend registers a user (SigV4-signed), gets a token that
// verifies with the cognito-identity JWKS, and the app trades it for
// credentials of the authenticated role carrying the principal tags; the same
// user gets the same identity; lookups both ways; a user registered to
// another identity is refused.
func TestDeveloperAuthenticatedIdentities(t *testing.T) {
	v := newDevEnv(t)
	out, err := v.devToken(t, "", map[string]string{devProvider: "user-1"}, map[string]string{"team": "blue"}, 3600)
	if err != nil {
		t.Fatal(err)
	}
	id, tok := aws.ToString(out.IdentityId), aws.ToString(out.Token)
	cl := verifyWithJWKS(t, v.srv, tok)
	amr := cl["amr"].([]any)
	if cl["sub"] != id || cl["aud"] != v.pool || len(amr) != 3 || amr[0] != "authenticated" || amr[1] != devProvider ||
		amr[2] != devProvider+":"+v.pool+":user-1" || cl["exp"].(float64)-cl["iat"].(float64) != 3600 {
		t.Errorf("claims %v", cl)
	}
	if again, _ := v.mustDevToken(t, "", "user-1"); again != id {
		t.Errorf("same user, identity %s then %s", id, again)
	}
	c, err := v.credsWithToken(id, tok)
	if err != nil {
		t.Fatal(err)
	}
	if got := callerARN(t, v.srv, c); got != assumed(roleAuth) {
		t.Errorf("caller %s", got)
	}
	if info, _ := v.srv.Credentials(aws.ToString(c.AccessKeyId)); info.PrincipalTags["team"] != "blue" || !info.Authenticated {
		t.Errorf("credentials %+v", info)
	}
	desc, err := v.admin.DescribeIdentity(context.Background(), &ci.DescribeIdentityInput{IdentityId: aws.String(id)})
	if err != nil || !slices.Equal(desc.Logins, []string{devProvider}) {
		t.Errorf("DescribeIdentity: %v %v", desc, err)
	}
	ctx := context.Background()
	look, err := v.admin.LookupDeveloperIdentity(ctx, &ci.LookupDeveloperIdentityInput{IdentityPoolId: aws.String(v.pool), DeveloperUserIdentifier: aws.String("user-1")})
	if err != nil || aws.ToString(look.IdentityId) != id || !slices.Equal(look.DeveloperUserIdentifierList, []string{"user-1"}) {
		t.Errorf("lookup by user: %+v %v", look, err)
	}
	look, err = v.admin.LookupDeveloperIdentity(ctx, &ci.LookupDeveloperIdentityInput{IdentityPoolId: aws.String(v.pool), IdentityId: aws.String(id), MaxResults: aws.Int32(10)})
	if err != nil || !slices.Equal(look.DeveloperUserIdentifierList, []string{"user-1"}) {
		t.Errorf("lookup by identity: %+v %v", look, err)
	}
	other, _ := v.mustDevToken(t, "", "user-2")
	_, err = v.admin.LookupDeveloperIdentity(ctx, &ci.LookupDeveloperIdentityInput{IdentityPoolId: aws.String(v.pool), IdentityId: aws.String(other), DeveloperUserIdentifier: aws.String("user-1")})
	wantAPIError(t, err, "ResourceConflictException", "user-1")
	_, err = v.admin.LookupDeveloperIdentity(ctx, &ci.LookupDeveloperIdentityInput{IdentityPoolId: aws.String(v.pool), DeveloperUserIdentifier: aws.String("nobody")})
	wantAPIError(t, err, "ResourceNotFoundException", "nobody")
	_, err = v.devToken(t, other, map[string]string{devProvider: "user-1"}, nil, 0)
	wantAPIError(t, err, "DeveloperUserAlreadyRegisteredException", "This developer user identifier is already registered with Cognito.")
	// The token is for its identity only, unsigned-with-AWS by the app.
	_, err = v.credsWithToken(other, tok)
	wantAPIError(t, err, "NotAuthorizedException", "Logins don't match")
	// A forged or tampered token.
	parts := strings.Split(tok, ".")
	_, err = v.credsWithToken(id, parts[0]+"."+parts[1]+"."+strings.Repeat("A", len(parts[2])))
	wantAPIError(t, err, "NotAuthorizedException", "Not a valid OpenId Connect identity token")
	// A GetId with the identity's own token is not a public provider.
	_, err = v.getID(v.pool, map[string]string{"cognito-identity.amazonaws.com": tok})
	wantAPIError(t, err, "NotAuthorizedException", "not from a supported provider")
	// The token expires after its TokenDuration (the default is 15 minutes).
	_, short := v.mustDevToken(t, "", "user-1")
	v.clk.Advance(15*time.Minute + time.Second)
	_, err = v.credsWithToken(id, short)
	wantAPIError(t, err, "NotAuthorizedException", "Token expired")
	if _, err := v.credsWithToken(id, tok); err != nil {
		t.Errorf("the hour-long token after 15 minutes: %v", err)
	}
}

// TestDeveloperIdentityLinking: a guest identity and a user-pool login are
// linked to a developer user (IdentityId given, or several logins at once);
// merging moves a user and its identity's logins into another identity;
// unlinking the last user makes the identity unreachable.
func TestDeveloperIdentityLinking(t *testing.T) {
	v := newDevEnv(t)
	ctx := context.Background()
	guest, err := v.getID(v.pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := v.mustDevToken(t, guest, "user-g"); id != guest {
		t.Errorf("guest %s linked as %s", guest, id)
	}
	// A developer user and alice's user-pool login at once: one identity, which
	// GetId with alice's token then finds.
	logins := v.logins(v.idToken(t, v.app, "alice"))
	both := map[string]string{devProvider: "user-a"}
	for k, tok := range logins {
		both[k] = tok
	}
	out, err := v.devToken(t, "", both, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	alice := aws.ToString(out.IdentityId)
	if id, err := v.getID(v.pool, logins); err != nil || id != alice {
		t.Errorf("GetId of alice: %s %v, want %s", id, err, alice)
	}
	// Merge user-g (the former guest) into user-a: one identity with both.
	m, err := v.admin.MergeDeveloperIdentities(ctx, &ci.MergeDeveloperIdentitiesInput{IdentityPoolId: aws.String(v.pool),
		DeveloperProviderName: aws.String(devProvider), SourceUserIdentifier: aws.String("user-g"), DestinationUserIdentifier: aws.String("user-a")})
	if err != nil || aws.ToString(m.IdentityId) != alice {
		t.Fatalf("merge: %v %v", m, err)
	}
	look, err := v.admin.LookupDeveloperIdentity(ctx, &ci.LookupDeveloperIdentityInput{IdentityPoolId: aws.String(v.pool), IdentityId: aws.String(alice), MaxResults: aws.Int32(1)})
	if err != nil || !slices.Equal(look.DeveloperUserIdentifierList, []string{"user-a"}) || aws.ToString(look.NextToken) == "" {
		t.Fatalf("page 1: %+v %v", look, err)
	}
	look, err = v.admin.LookupDeveloperIdentity(ctx, &ci.LookupDeveloperIdentityInput{IdentityPoolId: aws.String(v.pool), IdentityId: aws.String(alice), MaxResults: aws.Int32(1), NextToken: look.NextToken})
	if err != nil || !slices.Equal(look.DeveloperUserIdentifierList, []string{"user-g"}) || look.NextToken != nil {
		t.Fatalf("page 2: %+v %v", look, err)
	}
	_, err = v.admin.DescribeIdentity(ctx, &ci.DescribeIdentityInput{IdentityId: aws.String(guest)})
	wantAPIError(t, err, "ResourceNotFoundException", guest)
	_, err = v.admin.MergeDeveloperIdentities(ctx, &ci.MergeDeveloperIdentitiesInput{IdentityPoolId: aws.String(v.pool),
		DeveloperProviderName: aws.String(devProvider), SourceUserIdentifier: aws.String("user-a"), DestinationUserIdentifier: aws.String("nobody")})
	wantAPIError(t, err, "ResourceNotFoundException", "nobody")
	_, err = v.admin.MergeDeveloperIdentities(ctx, &ci.MergeDeveloperIdentitiesInput{IdentityPoolId: aws.String(v.pool),
		DeveloperProviderName: aws.String("login.other.app"), SourceUserIdentifier: aws.String("user-a"), DestinationUserIdentifier: aws.String("user-g")})
	wantAPIError(t, err, "InvalidParameterException", "login.other.app")

	// Unlink both users and alice's login: the identity is unreachable.
	_, tok := v.mustDevToken(t, alice, "user-a")
	for _, u := range []string{"user-a", "user-g"} {
		if _, err := v.admin.UnlinkDeveloperIdentity(ctx, &ci.UnlinkDeveloperIdentityInput{IdentityId: aws.String(alice), IdentityPoolId: aws.String(v.pool),
			DeveloperProviderName: aws.String(devProvider), DeveloperUserIdentifier: aws.String(u)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = v.admin.UnlinkDeveloperIdentity(ctx, &ci.UnlinkDeveloperIdentityInput{IdentityId: aws.String(alice), IdentityPoolId: aws.String(v.pool),
		DeveloperProviderName: aws.String(devProvider), DeveloperUserIdentifier: aws.String("user-a")})
	wantAPIError(t, err, "ResourceNotFoundException", "user-a")
	if _, err := v.ident.UnlinkIdentity(ctx, &ci.UnlinkIdentityInput{IdentityId: aws.String(alice), Logins: logins,
		LoginsToRemove: []string{emulator.ProviderName(v.userPool)}}); err != nil {
		t.Fatal(err)
	}
	_, err = v.credsWithToken(alice, tok)
	wantAPIError(t, err, "NotAuthorizedException", "Access to Identity '"+alice+"' is forbidden.")
	// Unlinked users are new identities next time they are seen.
	if id, _ := v.mustDevToken(t, "", "user-a"); id == alice {
		t.Error("an unlinked user came back to the unreachable identity")
	}
}

// TestDeveloperIdentityRefusals: what the developer operations refuse, and
// that they are admin calls (SigV4) while the app's calls stay unsigned.
func TestDeveloperIdentityRefusals(t *testing.T) {
	v := newDevEnv(t)
	ctx := context.Background()
	_, err := v.ident.GetOpenIdTokenForDeveloperIdentity(ctx, &ci.GetOpenIdTokenForDeveloperIdentityInput{IdentityPoolId: aws.String(v.pool),
		Logins: map[string]string{devProvider: "user-1"}})
	wantAPIError(t, err, "MissingAuthenticationTokenException", "Missing Authentication Token")
	for _, tc := range []struct {
		name    string
		logins  map[string]string
		dur     int64
		errName string
		msg     string
	}{
		{"another provider name", map[string]string{"login.other.app": "u"}, 0, "NotAuthorizedException", "not from a supported provider"},
		{"empty user", map[string]string{devProvider: ""}, 0, "ValidationException", "logins"},
		{"user too long", map[string]string{devProvider: strings.Repeat("u", 1025)}, 0, "ValidationException", "1024"},
		{"no logins", map[string]string{}, 0, "NotAuthorizedException", "not from a supported provider"},
		{"duration below 1", map[string]string{devProvider: "u"}, -1, "ValidationException", "between 1 and 86400"},
		{"duration over a day", map[string]string{devProvider: "u"}, 86401, "ValidationException", "between 1 and 86400"},
	} {
		_, err := v.devToken(t, "", tc.logins, nil, tc.dur)
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != tc.errName || !strings.Contains(ae.ErrorMessage(), tc.msg) {
			t.Errorf("%s: %v, want %s %q", tc.name, err, tc.errName, tc.msg)
		}
	}
	// The developer provider name is checked and, once set, fixed.
	_, err = v.admin.UpdateIdentityPool(ctx, &ci.UpdateIdentityPoolInput{IdentityPoolId: aws.String(v.pool), IdentityPoolName: aws.String("developers"),
		AllowUnauthenticatedIdentities: true, DeveloperProviderName: aws.String("login.renamed.app")})
	wantAPIError(t, err, "InvalidParameterException", "cannot be changed")
	_, err = v.admin.CreateIdentityPool(ctx, &ci.CreateIdentityPoolInput{IdentityPoolName: aws.String("bad"), DeveloperProviderName: aws.String("no spaces allowed")})
	wantAPIError(t, err, "ValidationException", "developerProviderName")
	plain, err := v.admin.CreateIdentityPool(ctx, &ci.CreateIdentityPoolInput{IdentityPoolName: aws.String("plain"), AllowUnauthenticatedIdentities: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.admin.LookupDeveloperIdentity(ctx, &ci.LookupDeveloperIdentityInput{IdentityPoolId: plain.IdentityPoolId, DeveloperUserIdentifier: aws.String("u")})
	wantAPIError(t, err, "InvalidParameterException", "no developer provider name")
	_, err = v.admin.LookupDeveloperIdentity(ctx, &ci.LookupDeveloperIdentityInput{IdentityPoolId: aws.String(v.pool)})
	wantAPIError(t, err, "InvalidParameterException", "IdentityId or DeveloperUserIdentifier")
}

// FuzzOpenIDLogin: no string as a cognito-identity.amazonaws.com login makes
// an internal error.
func FuzzOpenIDLogin(f *testing.F) {
	e, err := emulator.New(emulator.Options{Clock: clock.NewFake(idpT0), Seed: &emulator.Seed{
		IdentityPools: []emulator.SeedIdentityPool{{Name: "p", AllowUnauthenticatedIdentities: true}}}})
	if err != nil {
		f.Fatal(err)
	}
	pool := e.Seeded().IdentityPools["p"]
	if code, body := serve(e, "AWSCognitoIdentityService.UpdateIdentityPool", `{"IdentityPoolId":"`+pool+`","IdentityPoolName":"p","AllowUnauthenticatedIdentities":true,"DeveloperProviderName":"dev"}`); code != 200 {
		f.Fatal(body)
	}
	_, body := serve(e, "AWSCognitoIdentityService.GetOpenIdTokenForDeveloperIdentity", `{"IdentityPoolId":"`+pool+`","Logins":{"dev":"u"}}`)
	var out struct{ IdentityId, Token string }
	if json.Unmarshal([]byte(body), &out) != nil || out.Token == "" {
		f.Fatal(body)
	}
	f.Add(out.Token)
	f.Add("e30.e30.e30")
	f.Add(strings.Replace(out.Token, ".", "x.", 1))
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		in, _ := json.Marshal(map[string]any{"IdentityId": out.IdentityId, "Logins": map[string]string{"cognito-identity.amazonaws.com": tok}})
		code, body := serve(e, "AWSCognitoIdentityService.GetCredentialsForIdentity", string(in))
		if code >= 500 {
			t.Fatalf("token %q: %d %s", tok, code, body)
		}
	})
}

// TestDeveloperIdentitiesSurviveRestart: with a state file, a restarted
// emulator still accepts a token it signed before (the OpenID key persists),
// finds the developer user's identity, and applies the stored role mapping.
func TestDeveloperIdentitiesSurviveRestart(t *testing.T) {
	v := newDevEnv(t)
	if _, err := v.admin.SetIdentityPoolRoles(context.Background(), &ci.SetIdentityPoolRolesInput{IdentityPoolId: aws.String(v.pool),
		Roles: map[string]string{"authenticated": roleAuth},
		RoleMappings: map[string]citypes.RoleMapping{emulator.ProviderName(v.userPool) + ":" + v.app: {Type: citypes.RoleMappingTypeRules,
			AmbiguousRoleResolution: citypes.AmbiguousRoleResolutionTypeDeny, RulesConfiguration: &citypes.RulesConfigurationType{Rules: []citypes.MappingRule{
				{Claim: aws.String("cognito:username"), MatchType: citypes.MappingRuleMatchTypeEquals, Value: aws.String("alice"), RoleARN: aws.String(roleSales)}}}}}}); err != nil {
		t.Fatal(err)
	}
	id, tok := v.mustDevToken(t, "", "user-1")
	path := t.TempDir() + "/state.json"
	if err := v.srv.SaveState(path); err != nil {
		t.Fatal(err)
	}
	srv2 := emulator.NewServer(emulator.Options{StateFile: path, Clock: v.clk})
	t.Cleanup(srv2.Close)
	v.use(srv2)
	if _, err := v.credsWithToken(id, tok); err != nil {
		t.Fatalf("a token from before the restart: %v", err)
	}
	alice, err := v.getID(v.pool, v.logins(v.idToken(t, v.app, "alice")))
	if err != nil {
		t.Fatal(err)
	}
	out, err := v.ident.GetCredentialsForIdentity(context.Background(), &ci.GetCredentialsForIdentityInput{IdentityId: aws.String(alice), Logins: v.logins(v.idToken(t, v.app, "alice"))})
	if err != nil {
		t.Fatal(err)
	}
	if got := callerARN(t, srv2, out.Credentials); got != assumed(roleSales) {
		t.Errorf("rules mapping after restart: %s", got)
	}
	// At most 20 logins on one identity.
	admin := ci.New(ci.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv2.URL), Retryer: aws.NopRetryer{}, Credentials: aws.AnonymousCredentials{}})
	for i := 2; i <= 21; i++ {
		_, err := admin.GetOpenIdTokenForDeveloperIdentity(context.Background(), &ci.GetOpenIdTokenForDeveloperIdentityInput{IdentityPoolId: aws.String(v.pool),
			IdentityId: aws.String(id), Logins: map[string]string{devProvider: fmt.Sprintf("user-%d", i)}})
		if i <= 20 && err != nil {
			t.Fatalf("login %d: %v", i, err)
		}
		if i == 21 {
			wantAPIError(t, err, "InvalidParameterException", "at most 20")
		}
	}
}
