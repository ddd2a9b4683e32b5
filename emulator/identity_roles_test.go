package emulator_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ci "github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	citypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/emulator"
)

const (
	roleAuth    = "arn:aws:iam::123456789012:role/signed-in"
	roleUnauth  = "arn:aws:iam::123456789012:role/guest"
	roleAdmins  = "arn:aws:iam::123456789012:role/admins"
	roleEditors = "arn:aws:iam::123456789012:role/team/editors" // a role with a path
	roleReaders = "arn:aws:iam::123456789012:role/readers"
	roleSales   = "arn:aws:iam::123456789012:role/sales"
	roleOrg     = "arn:aws:iam::123456789012:role/org"
)

func int32p(v int32) *int32 { return &v }

// rolesEnv: a user pool whose groups have roles (admins precedence 1, editors
// 2, readers and writers both 5, so a member of only those two has no
// preferred role), users in several groups, and an identity pool made through
// the SDK as infrastructure code makes it.
type rolesEnv struct {
	*idpEnv
	pool string // identity pool ID
	key  string // role-mapping key of the trusted client
}

func newRolesEnv(t *testing.T) *rolesEnv {
	t.Helper()
	seed := &emulator.Seed{UserPools: []emulator.SeedUserPool{{
		Name:    "users",
		Clients: []emulator.SeedClient{{Name: "app"}, {Name: "other"}},
		Groups: []emulator.SeedGroup{
			{Name: "admins", Precedence: int32p(1), RoleArn: roleAdmins},
			{Name: "editors", Precedence: int32p(2), RoleArn: roleEditors},
			{Name: "readers", Precedence: int32p(5), RoleArn: roleReaders},
			{Name: "writers", Precedence: int32p(5), RoleArn: roleSales},
		},
		Users: []emulator.SeedUser{
			{Username: "alice", Password: idpPassword, Groups: []string{"admins", "editors"},
				Attributes: map[string]string{"email": "alice@example.org", "custom:dept": "engineering"}},
			{Username: "bob", Password: idpPassword, Groups: []string{"readers", "writers"},
				Attributes: map[string]string{"email": "bob@example.com", "custom:dept": "sales"}},
			{Username: "carol", Password: idpPassword,
				Attributes: map[string]string{"email": "carol@example.com", "custom:dept": "support"}},
		},
	}}}
	v := &rolesEnv{idpEnv: newIdpEnvOpts(t, emulator.Options{Seed: seed})}
	v.userPool = v.srv.PoolID("users")
	v.app, v.other = v.srv.AppClient("users", "app").ID, v.srv.AppClient("users", "other").ID
	out, err := v.ident.CreateIdentityPool(context.Background(), &ci.CreateIdentityPoolInput{
		IdentityPoolName:               aws.String("roles"),
		AllowUnauthenticatedIdentities: true,
		CognitoIdentityProviders: []citypes.CognitoIdentityProvider{
			{ProviderName: aws.String(emulator.ProviderName(v.userPool)), ClientId: aws.String(v.app)},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	v.pool = aws.ToString(out.IdentityPoolId)
	v.key = emulator.ProviderName(v.userPool) + ":" + v.app
	return v
}

func (v *rolesEnv) setRoles(t *testing.T, m *citypes.RoleMapping) {
	t.Helper()
	in := &ci.SetIdentityPoolRolesInput{
		IdentityPoolId: aws.String(v.pool),
		Roles:          map[string]string{"authenticated": roleAuth, "unauthenticated": roleUnauth},
	}
	if m != nil {
		in.RoleMappings = map[string]citypes.RoleMapping{v.key: *m}
	}
	if _, err := v.ident.SetIdentityPoolRoles(context.Background(), in); err != nil {
		t.Fatal(err)
	}
}

// credsFor signs user in and asks for credentials (custom: CustomRoleArn).
func (v *rolesEnv) credsFor(t *testing.T, user, custom string) (*citypes.Credentials, error) {
	t.Helper()
	logins := v.logins(v.idToken(t, v.app, user))
	id, err := v.getID(v.pool, logins)
	if err != nil {
		t.Fatalf("GetId of %s: %v", user, err)
	}
	in := &ci.GetCredentialsForIdentityInput{IdentityId: aws.String(id), Logins: logins}
	if custom != "" {
		in.CustomRoleArn = aws.String(custom)
	}
	out, err := v.ident.GetCredentialsForIdentity(context.Background(), in)
	if err != nil {
		return nil, err
	}
	return out.Credentials, nil
}

// callerARN asks STS GetCallerIdentity, through aws-sdk-go-v2's STS client
// signing with the credentials, who they are.
func callerARN(t *testing.T, srv *emulator.Server, c *citypes.Credentials) string {
	t.Helper()
	arn, err := callerIdentity(srv, aws.ToString(c.AccessKeyId), aws.ToString(c.SecretKey), aws.ToString(c.SessionToken))
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	return arn
}

func callerIdentity(srv *emulator.Server, key, secret, token string) (string, error) {
	client := sts.New(sts.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: key, SecretAccessKey: secret, SessionToken: token}, nil
		}),
		Retryer: aws.NopRetryer{},
	})
	out, err := client.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", err
	}
	if !strings.HasSuffix(aws.ToString(out.UserId), ":CognitoIdentityCredentials") && !strings.HasSuffix(aws.ToString(out.Arn), ":root") {
		return "", fmt.Errorf("UserId %q", aws.ToString(out.UserId))
	}
	return aws.ToString(out.Arn), nil
}

func assumed(role string) string {
	return "arn:aws:sts::123456789012:assumed-role/" + role[strings.LastIndexByte(role, '/')+1:] + "/CognitoIdentityCredentials"
}

// TestTokenRoleMapping: a token-based mapping gives each user the role of
// cognito:preferred_role; CustomRoleArn picks among cognito:roles (and is
// refused outside them); a user with no preferred role gets the authenticated
// role or is denied, as AmbiguousRoleResolution says. STS GetCallerIdentity,
// through the SDK, reports the role the credentials are for.
func TestTokenRoleMapping(t *testing.T) {
	v := newRolesEnv(t)
	for _, res := range []citypes.AmbiguousRoleResolutionType{citypes.AmbiguousRoleResolutionTypeAuthenticatedRole, citypes.AmbiguousRoleResolutionTypeDeny} {
		t.Run(string(res), func(t *testing.T) {
			v.setRoles(t, &citypes.RoleMapping{Type: citypes.RoleMappingTypeToken, AmbiguousRoleResolution: res})
			for _, tc := range []struct {
				user, custom, role string
				deny               string // error message when refused
			}{
				{user: "alice", role: roleAdmins},                       // preferred: best precedence
				{user: "alice", custom: roleEditors, role: roleEditors}, // another of her roles
				{user: "alice", custom: roleReaders, deny: "forbidden"}, // not one of hers
				{user: "bob", custom: roleReaders, role: roleReaders},   // chooses among a tie
				{user: "bob", role: roleAuth, deny: "ambiguous"},        // a tie: no preferred role
				{user: "carol", role: roleAuth, deny: "ambiguous"},      // no roles at all
				{user: "carol", custom: roleAdmins, deny: "forbidden"},  // none to choose from
			} {
				c, err := v.credsFor(t, tc.user, tc.custom)
				wantDeny := tc.deny == "forbidden" || (tc.deny == "ambiguous" && res == citypes.AmbiguousRoleResolutionTypeDeny)
				if wantDeny {
					msg := "The ambiguous role mapping rules for: " + v.key + " denied this request."
					if tc.deny == "forbidden" {
						msg = "Access to Role '" + tc.custom + "' is forbidden."
					}
					wantAPIError(t, err, "NotAuthorizedException", msg)
					continue
				}
				if err != nil {
					t.Fatalf("%s %q: %v", tc.user, tc.custom, err)
				}
				if got := callerARN(t, v.srv, c); got != assumed(tc.role) {
					t.Errorf("%s %q: caller %s, want %s", tc.user, tc.custom, got, assumed(tc.role))
				}
				info, ok := v.srv.Credentials(aws.ToString(c.AccessKeyId))
				if !ok || info.RoleARN != tc.role || !info.Authenticated || info.IdentityPoolID != v.pool {
					t.Errorf("%s: Credentials = %+v, %v", tc.user, info, ok)
				}
			}
		})
	}
}

// TestRulesRoleMapping: rules are tried in order and the first that matches
// chooses the role; each MatchType; cognito:groups matches on any of its
// values; a user no rule matches gets the authenticated role or is denied;
// CustomRoleArn must be the role of a rule that matches.
func TestRulesRoleMapping(t *testing.T) {
	v := newRolesEnv(t)
	rules := []citypes.MappingRule{
		{Claim: aws.String("custom:dept"), MatchType: citypes.MappingRuleMatchTypeEquals, Value: aws.String("sales"), RoleARN: aws.String(roleSales)},
		{Claim: aws.String("cognito:groups"), MatchType: citypes.MappingRuleMatchTypeContains, Value: aws.String("dmin"), RoleARN: aws.String(roleAdmins)},
		{Claim: aws.String("email"), MatchType: citypes.MappingRuleMatchTypeContains, Value: aws.String("@example.org"), RoleARN: aws.String(roleOrg)},
		{Claim: aws.String("custom:dept"), MatchType: citypes.MappingRuleMatchTypeStartsWith, Value: aws.String("eng"), RoleARN: aws.String(roleEditors)},
		{Claim: aws.String("custom:dept"), MatchType: citypes.MappingRuleMatchTypeNotEqual, Value: aws.String("support"), RoleARN: aws.String(roleReaders)},
		{Claim: aws.String("custom:missing"), MatchType: citypes.MappingRuleMatchTypeNotEqual, Value: aws.String("x"), RoleARN: aws.String(roleReaders)},
	}
	for _, res := range []citypes.AmbiguousRoleResolutionType{citypes.AmbiguousRoleResolutionTypeAuthenticatedRole, citypes.AmbiguousRoleResolutionTypeDeny} {
		t.Run(string(res), func(t *testing.T) {
			v.setRoles(t, &citypes.RoleMapping{Type: citypes.RoleMappingTypeRules, AmbiguousRoleResolution: res,
				RulesConfiguration: &citypes.RulesConfigurationType{Rules: rules}})
			for _, tc := range []struct {
				user, custom, role string
				deny               bool
			}{
				{user: "bob", role: roleSales},                          // rule 1 (and rule 5) match
				{user: "alice", role: roleAdmins},                       // rule 2 before 3, 4, 5
				{user: "alice", custom: roleEditors, role: roleEditors}, // rule 4 also matches
				{user: "alice", custom: roleSales, deny: true},          // rule 1 does not match her
				{user: "carol", role: roleAuth},                         // none: NotEqual support fails, missing claim never matches
			} {
				c, err := v.credsFor(t, tc.user, tc.custom)
				switch {
				case tc.deny:
					wantAPIError(t, err, "NotAuthorizedException", "Access to Role '"+tc.custom+"' is forbidden.")
				case tc.role == roleAuth && res == citypes.AmbiguousRoleResolutionTypeDeny:
					wantAPIError(t, err, "NotAuthorizedException", "The ambiguous role mapping rules for: "+v.key+" denied this request.")
				case err != nil:
					t.Fatalf("%s: %v", tc.user, err)
				default:
					if got := callerARN(t, v.srv, c); got != assumed(tc.role) {
						t.Errorf("%s %q: caller %s, want %s", tc.user, tc.custom, got, assumed(tc.role))
					}
				}
			}
		})
	}
}

// TestPoolRoles: without a mapping, signed-in users get the authenticated
// role and guests the unauthenticated one; a pool that lacks the role a call
// needs answers InvalidIdentityPoolConfigurationException; a pool given no
// roles at all gets the console's default role names (a documented deviation).
func TestPoolRoles(t *testing.T) {
	v := newRolesEnv(t)
	ctx := context.Background()
	guest := func() (*citypes.Credentials, error) {
		id, err := v.getID(v.pool, nil)
		if err != nil {
			t.Fatal(err)
		}
		out, err := v.ident.GetCredentialsForIdentity(ctx, &ci.GetCredentialsForIdentityInput{IdentityId: aws.String(id)})
		if err != nil {
			return nil, err
		}
		return out.Credentials, nil
	}
	c, err := guest()
	if err != nil {
		t.Fatal(err)
	}
	if got := callerARN(t, v.srv, c); got != "arn:aws:sts::000000000000:assumed-role/Cognito_rolesUnauth_Role/CognitoIdentityCredentials" {
		t.Errorf("no roles set, guest: %s", got)
	}
	v.setRoles(t, nil)
	if c, err = guest(); err != nil {
		t.Fatal(err)
	}
	if got := callerARN(t, v.srv, c); got != assumed(roleUnauth) {
		t.Errorf("guest: %s", got)
	}
	if c, err = v.credsFor(t, "alice", ""); err != nil {
		t.Fatal(err)
	}
	if got := callerARN(t, v.srv, c); got != assumed(roleAuth) {
		t.Errorf("alice without a mapping: %s", got)
	}
	if _, err := v.ident.SetIdentityPoolRoles(ctx, &ci.SetIdentityPoolRolesInput{IdentityPoolId: aws.String(v.pool),
		Roles: map[string]string{"authenticated": roleAuth}}); err != nil {
		t.Fatal(err)
	}
	_, err = guest()
	wantAPIError(t, err, "InvalidIdentityPoolConfigurationException", "Invalid identity pool configuration. Check assigned IAM roles for this pool.")
	if _, err := v.ident.SetIdentityPoolRoles(ctx, &ci.SetIdentityPoolRolesInput{IdentityPoolId: aws.String(v.pool),
		Roles: map[string]string{"unauthenticated": roleUnauth}}); err != nil {
		t.Fatal(err)
	}
	_, err = v.credsFor(t, "alice", "")
	wantAPIError(t, err, "InvalidIdentityPoolConfigurationException", "Check assigned IAM roles")
	// A token mapping whose ambiguity falls back to a role the pool lacks.
	if _, err := v.ident.SetIdentityPoolRoles(ctx, &ci.SetIdentityPoolRolesInput{IdentityPoolId: aws.String(v.pool),
		Roles: map[string]string{"unauthenticated": roleUnauth},
		RoleMappings: map[string]citypes.RoleMapping{v.key: {Type: citypes.RoleMappingTypeToken,
			AmbiguousRoleResolution: citypes.AmbiguousRoleResolutionTypeAuthenticatedRole}}}); err != nil {
		t.Fatal(err)
	}
	if c, err = v.credsFor(t, "alice", ""); err != nil {
		t.Fatalf("alice's preferred role needs no pool role: %v", err)
	}
	if got := callerARN(t, v.srv, c); got != assumed(roleAdmins) {
		t.Errorf("alice by token: %s", got)
	}
	_, err = v.credsFor(t, "carol", "")
	wantAPIError(t, err, "InvalidIdentityPoolConfigurationException", "Check assigned IAM roles")
	// CustomRoleArn is checked for shape before anything else.
	_, err = v.credsFor(t, "alice", "short")
	wantAPIError(t, err, "ValidationException", "customRoleArn")
}

// TestSetIdentityPoolRolesValidation: what Cognito refuses in
// SetIdentityPoolRoles, through the SDK; the stored roles are unchanged after a
// refusal.
func TestSetIdentityPoolRolesValidation(t *testing.T) {
	v := newRolesEnv(t)
	ctx := context.Background()
	good := citypes.MappingRule{Claim: aws.String("email"), MatchType: citypes.MappingRuleMatchTypeEquals, Value: aws.String("a@b.c"), RoleARN: aws.String(roleSales)}
	rules := func(n int, edit func(*citypes.MappingRule)) *citypes.RoleMapping {
		rs := make([]citypes.MappingRule, n)
		for i := range rs {
			rs[i] = good
		}
		if edit != nil && n > 0 {
			edit(&rs[n-1])
		}
		return &citypes.RoleMapping{Type: citypes.RoleMappingTypeRules, AmbiguousRoleResolution: citypes.AmbiguousRoleResolutionTypeDeny,
			RulesConfiguration: &citypes.RulesConfigurationType{Rules: rs}}
	}
	v.setRoles(t, rules(25, nil)) // 25 rules are allowed
	for _, tc := range []struct {
		name     string
		roles    map[string]string
		mappings map[string]citypes.RoleMapping
		errName  string
		msg      string
	}{
		{"26 rules", nil, map[string]citypes.RoleMapping{v.key: *rules(26, nil)}, "ValidationException", "less than or equal to 25"},
		{"no rules", nil, map[string]citypes.RoleMapping{v.key: *rules(0, nil)}, "ValidationException", "greater than or equal to 1"},
		{"claim with a space", nil, map[string]citypes.RoleMapping{v.key: *rules(3, func(r *citypes.MappingRule) { r.Claim = aws.String("my claim") })}, "ValidationException", "rules.3.member.claim"},
		{"claim too long", nil, map[string]citypes.RoleMapping{v.key: *rules(1, func(r *citypes.MappingRule) { r.Claim = aws.String(strings.Repeat("c", 65)) })}, "ValidationException", "claim"},
		{"empty claim", nil, map[string]citypes.RoleMapping{v.key: *rules(1, func(r *citypes.MappingRule) { r.Claim = aws.String("") })}, "ValidationException", "claim' failed to satisfy constraint: Member must not be null"},
		{"value too long", nil, map[string]citypes.RoleMapping{v.key: *rules(1, func(r *citypes.MappingRule) { r.Value = aws.String(strings.Repeat("v", 129)) })}, "ValidationException", "value"},
		{"bad match type", nil, map[string]citypes.RoleMapping{v.key: *rules(1, func(r *citypes.MappingRule) { r.MatchType = "Like" })}, "ValidationException", "Equals, Contains, StartsWith, NotEqual"},
		{"bad rule role", nil, map[string]citypes.RoleMapping{v.key: *rules(1, func(r *citypes.MappingRule) { r.RoleARN = aws.String("arn:aws:s3:::a-bucket-name") })}, "InvalidParameterException", "Invalid role ARN"},
		{"rules without configuration", nil, map[string]citypes.RoleMapping{v.key: {Type: citypes.RoleMappingTypeRules, AmbiguousRoleResolution: citypes.AmbiguousRoleResolutionTypeDeny}}, "InvalidParameterException", "RulesConfiguration is required"},
		{"no ambiguous resolution", nil, map[string]citypes.RoleMapping{v.key: {Type: citypes.RoleMappingTypeToken}}, "InvalidParameterException", "AmbiguousRoleResolution"},
		{"bad type", nil, map[string]citypes.RoleMapping{v.key: {Type: "Groups", AmbiguousRoleResolution: citypes.AmbiguousRoleResolutionTypeDeny}}, "ValidationException", "Token, Rules"},
		{"untrusted client", nil, map[string]citypes.RoleMapping{emulator.ProviderName(v.userPool) + ":" + v.other: *rules(1, nil)}, "InvalidParameterException",
			"(" + emulator.ProviderName(v.userPool) + ":" + v.other + ") is not a valid RoleMapping ProviderName or is not a configured provider."},
		{"key without client", nil, map[string]citypes.RoleMapping{emulator.ProviderName(v.userPool): *rules(1, nil)}, "InvalidParameterException", "is not a valid RoleMapping ProviderName"},
		{"11 mappings", nil, func() map[string]citypes.RoleMapping {
			m := map[string]citypes.RoleMapping{}
			for i := range 11 {
				m[fmt.Sprintf("graph.example%d.com", i)] = *rules(1, nil)
			}
			return m
		}(), "ValidationException", "less than or equal to 10"},
		{"bad role key", map[string]string{"admin": roleAdmins}, nil, "InvalidParameterException", "Invalid role key"},
		{"role not an ARN", map[string]string{"authenticated": "Cognito_Auth_Role_Name"}, nil, "InvalidParameterException", "Invalid role ARN"},
	} {
		roles := tc.roles
		if roles == nil {
			roles = map[string]string{"authenticated": roleAuth}
		}
		_, err := v.ident.SetIdentityPoolRoles(ctx, &ci.SetIdentityPoolRolesInput{IdentityPoolId: aws.String(v.pool), Roles: roles, RoleMappings: tc.mappings})
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != tc.errName || !strings.Contains(ae.ErrorMessage(), tc.msg) {
			t.Errorf("%s: %v, want %s containing %q", tc.name, err, tc.errName, tc.msg)
		}
	}
	got, err := v.ident.GetIdentityPoolRoles(ctx, &ci.GetIdentityPoolRolesInput{IdentityPoolId: aws.String(v.pool)})
	if err != nil {
		t.Fatal(err)
	}
	if m := got.RoleMappings[v.key]; m.RulesConfiguration == nil || len(m.RulesConfiguration.Rules) != 25 || got.Roles["unauthenticated"] != roleUnauth {
		t.Errorf("stored roles changed by refused calls: %+v", got)
	}
}

// TestSTSGetCallerIdentityRefuses: STS's answers to signatures that do not
// fit, through the SDK.
func TestSTSGetCallerIdentityRefuses(t *testing.T) {
	v := newRolesEnv(t)
	v.setRoles(t, nil)
	c, err := v.credsFor(t, "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	key, secret, tok := aws.ToString(c.AccessKeyId), aws.ToString(c.SecretKey), aws.ToString(c.SessionToken)
	for _, tc := range []struct {
		name, key, secret, token, code string
	}{
		{"wrong secret", key, secret + "x", tok, "SignatureDoesNotMatch"},
		{"unknown key", "ASIAUNKNOWNKEY000000", secret, tok, "InvalidClientTokenId"},
		{"wrong session token", key, secret, tok + "x", "InvalidClientTokenId"},
		{"no session token", key, secret, "", "InvalidClientTokenId"},
	} {
		_, err := callerIdentity(v.srv, tc.key, tc.secret, tc.token)
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
	// Unsigned.
	resp, err := http.Post(v.srv.URL+"/", "application/x-www-form-urlencoded", strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/xml") {
		t.Errorf("unsigned: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// A form posted to another path is no STS call.
	resp, err = http.Post(v.srv.URL+"/elsewhere", "application/x-www-form-urlencoded", strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("x-amzn-ErrorType") != "UnknownOperationException:" {
		t.Errorf("form to /elsewhere: %d %s", resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"))
	}
	// Expired on the emulator clock (an hour by default).
	v.clk.Advance(time.Hour + time.Second)
	_, err = callerIdentity(v.srv, key, secret, tok)
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ExpiredToken" {
		t.Errorf("expired: %v", err)
	}
}

// TestPrincipalTagsApplied: with an attribute map for the user pool, the
// credentials' session carries the mapped claims as principal tags (the
// defaults: username = sub, client = aud); without one, none.
func TestPrincipalTagsApplied(t *testing.T) {
	v := newRolesEnv(t)
	v.setRoles(t, nil)
	ctx := context.Background()
	c, err := v.credsFor(t, "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := v.srv.Credentials(aws.ToString(c.AccessKeyId)); len(info.PrincipalTags) != 0 {
		t.Errorf("tags without a map: %v", info.PrincipalTags)
	}
	sub := v.srv.UserSub(v.userPool, "alice")
	for _, tc := range []struct {
		in   *ci.SetPrincipalTagAttributeMapInput
		want map[string]string
	}{
		{&ci.SetPrincipalTagAttributeMapInput{UseDefaults: aws.Bool(true)}, map[string]string{"username": sub, "client": v.app}},
		{&ci.SetPrincipalTagAttributeMapInput{UseDefaults: aws.Bool(false),
			PrincipalTags: map[string]string{"dept": "custom:dept", "groups": "cognito:groups", "none": "custom:absent"}},
			map[string]string{"dept": "engineering", "groups": "admins:editors"}},
	} {
		tc.in.IdentityPoolId, tc.in.IdentityProviderName = aws.String(v.pool), aws.String(emulator.ProviderName(v.userPool))
		if _, err := v.ident.SetPrincipalTagAttributeMap(ctx, tc.in); err != nil {
			t.Fatal(err)
		}
		c, err := v.credsFor(t, "alice", "")
		if err != nil {
			t.Fatal(err)
		}
		info, _ := v.srv.Credentials(aws.ToString(c.AccessKeyId))
		if fmt.Sprint(info.PrincipalTags) != fmt.Sprint(tc.want) {
			t.Errorf("tags %v, want %v", info.PrincipalTags, tc.want)
		}
	}
	// The admin endpoint shows the same, and never a secret.
	resp, err := http.Get(v.srv.URL + "/_emulator/credentials/" + aws.ToString(c.AccessKeyId))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || got["roleArn"] != roleAuth || got["assumedRoleArn"] != assumed(roleAuth) {
		t.Errorf("admin endpoint: %v %v", got, err)
	}
	for k := range got {
		if strings.Contains(strings.ToLower(k), "secret") || strings.Contains(strings.ToLower(k), "token") {
			t.Errorf("admin endpoint shows %s", k)
		}
	}
}

// FuzzSetIdentityPoolRoles: any RoleMappings body is stored only if valid, and
// a credentials call afterwards never fails with an internal error.
func FuzzSetIdentityPoolRoles(f *testing.F) {
	f.Add(`{"K":{"Type":"Token","AmbiguousRoleResolution":"Deny"}}`)
	f.Add(`{"K":{"Type":"Rules","AmbiguousRoleResolution":"AuthenticatedRole","RulesConfiguration":{"Rules":[{"Claim":"email","MatchType":"Contains","Value":"x","RoleARN":"arn:aws:iam::123456789012:role/r"}]}}}`)
	f.Add(`{"K":{"Type":"Rules","RulesConfiguration":{"Rules":[{"Claim":"\u0000","MatchType":"Equals","Value":"","RoleARN":""}]}}}`)
	f.Add(`{"K":null}`)
	f.Add(`[]`)
	e, err := emulator.New(emulator.Options{Clock: clock.NewFake(idpT0), Seed: idpSeed()})
	if err != nil {
		f.Fatal(err)
	}
	pool := e.Seeded().IdentityPools["closed"]
	userPool := e.Seeded().UserPools["users"].ID
	key := emulator.ProviderName(userPool) + ":" + e.Seeded().UserPools["users"].Clients["app"].ID
	f.Fuzz(func(t *testing.T, mappings string) {
		body := `{"IdentityPoolId":"` + pool + `","Roles":{"authenticated":"arn:aws:iam::123456789012:role/a"},"RoleMappings":` +
			strings.ReplaceAll(mappings, `"K"`, `"`+key+`"`) + `}`
		code, _ := serve(e, "AWSCognitoIdentityService.SetIdentityPoolRoles", body)
		if code >= 500 {
			t.Fatalf("SetIdentityPoolRoles %s: %d", body, code)
		}
		code, _ = serve(e, "AWSCognitoIdentityService.GetIdentityPoolRoles", `{"IdentityPoolId":"`+pool+`"}`)
		if code != 200 {
			t.Fatalf("GetIdentityPoolRoles after %s: %d", body, code)
		}
	})
}

// serve sends one JSON 1.1 call to e's handler and returns the status and body.
func serve(e *emulator.Emulator, target, body string) (int, string) {
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// TestPrincipalTagAttributeMap: Set and Get through the SDK — off until set,
// the defaults (username = sub, client = aud), custom tags, turning it off
// again — and what Set refuses.
func TestPrincipalTagAttributeMap(t *testing.T) {
	v := newRolesEnv(t)
	ctx := context.Background()
	provider := emulator.ProviderName(v.userPool)
	get := func() *ci.GetPrincipalTagAttributeMapOutput {
		t.Helper()
		out, err := v.ident.GetPrincipalTagAttributeMap(ctx, &ci.GetPrincipalTagAttributeMapInput{IdentityPoolId: aws.String(v.pool), IdentityProviderName: aws.String(provider)})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	set := func(defaults bool, tags map[string]string) (*ci.SetPrincipalTagAttributeMapOutput, error) {
		return v.ident.SetPrincipalTagAttributeMap(ctx, &ci.SetPrincipalTagAttributeMapInput{IdentityPoolId: aws.String(v.pool),
			IdentityProviderName: aws.String(provider), UseDefaults: aws.Bool(defaults), PrincipalTags: tags})
	}
	if out := get(); aws.ToBool(out.UseDefaults) || len(out.PrincipalTags) != 0 || aws.ToString(out.IdentityProviderName) != provider {
		t.Errorf("before any Set: %+v", out)
	}
	out, err := set(true, nil)
	if err != nil || !aws.ToBool(out.UseDefaults) || fmt.Sprint(out.PrincipalTags) != "map[client:aud username:sub]" {
		t.Fatalf("defaults: %+v %v", out, err)
	}
	if g := get(); !aws.ToBool(g.UseDefaults) || fmt.Sprint(g.PrincipalTags) != "map[client:aud username:sub]" {
		t.Errorf("Get after defaults: %+v", g)
	}
	if _, err := set(false, map[string]string{"dept": "custom:dept"}); err != nil {
		t.Fatal(err)
	}
	if g := get(); aws.ToBool(g.UseDefaults) || fmt.Sprint(g.PrincipalTags) != "map[dept:custom:dept]" {
		t.Errorf("Get after custom: %+v", g)
	}
	if _, err := set(false, nil); err != nil {
		t.Fatal(err)
	}
	if g := get(); aws.ToBool(g.UseDefaults) || len(g.PrincipalTags) != 0 {
		t.Errorf("Get after turning off: %+v", g)
	}
	many := map[string]string{}
	for i := range 51 {
		many[fmt.Sprintf("t%d", i)] = "sub"
	}
	for _, tc := range []struct {
		name, provider string
		tags           map[string]string
		errName, msg   string
	}{
		{"51 tags", provider, many, "ValidationException", "less than or equal to 50"},
		{"long key", provider, map[string]string{strings.Repeat("k", 129): "sub"}, "ValidationException", "principalTags"},
		{"empty claim", provider, map[string]string{"k": ""}, "ValidationException", "principalTags"},
		{"unknown provider", "cognito-idp.us-east-1.amazonaws.com/us-east-1_Nowhere", map[string]string{"k": "sub"}, "InvalidParameterException", "is not a configured provider"},
	} {
		_, err := v.ident.SetPrincipalTagAttributeMap(ctx, &ci.SetPrincipalTagAttributeMapInput{IdentityPoolId: aws.String(v.pool),
			IdentityProviderName: aws.String(tc.provider), UseDefaults: aws.Bool(false), PrincipalTags: tc.tags})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != tc.errName || !strings.Contains(ae.ErrorMessage(), tc.msg) {
			t.Errorf("%s: %v, want %s %q", tc.name, err, tc.errName, tc.msg)
		}
	}
	_, err = v.ident.GetPrincipalTagAttributeMap(ctx, &ci.GetPrincipalTagAttributeMapInput{IdentityPoolId: aws.String("us-east-1:00000000-0000-4000-8000-000000000000"), IdentityProviderName: aws.String(provider)})
	wantAPIError(t, err, "ResourceNotFoundException", "not found")
}
