package emulator

// The social identity providers (Google, Facebook, LoginWithAmazon,
// SignInWithApple) through the hosted UI. Their ProviderDetails are Cognito's:
// client_id, client_secret (Apple: team_id, key_id, private_key) and
// authorize_scopes given; authorize_url, token_url, attributes_url,
// token_request_method, attributes_url_add_attributes (and oidc_issuer for
// Google and Apple) added by Cognito, with the provider's own URLs.
//
// With those URLs (the defaults) the emulator cannot reach the provider, so it
// stands in for it (social_standin.go): its own authorize page, where one picks
// or types a user, and token, userinfo and JWKS endpoints that answer in that
// provider's claim shapes. Given other URLs (any OAuth 2.0 / OIDC server), the
// emulator federates with them as Cognito would with the provider. Either way
// the sign-in runs through federation.go over real HTTP: code exchange, id
// token checks (Google, Apple), the attributes_url answer, the attribute
// mapping, AdminLinkProviderForUser links, the user {Type}_{subject}.

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// socialDefaults are the details Cognito adds to each social provider.
var socialDefaults = map[string]map[string]string{
	"Google": {
		"authorize_url": "https://accounts.google.com/o/oauth2/v2/auth", "token_url": "https://www.googleapis.com/oauth2/v4/token",
		"attributes_url": "https://people.googleapis.com/v1/people/me?personFields=", "attributes_url_add_attributes": "true",
		"oidc_issuer": "https://accounts.google.com", "token_request_method": "POST",
	},
	"Facebook": {
		"authorize_url": "https://www.facebook.com/v17.0/dialog/oauth", "token_url": "https://graph.facebook.com/v17.0/oauth/access_token",
		"attributes_url": "https://graph.facebook.com/v17.0/me?fields=", "attributes_url_add_attributes": "true",
		"token_request_method": "GET",
	},
	"LoginWithAmazon": {
		"authorize_url": "https://www.amazon.com/ap/oa", "token_url": "https://api.amazon.com/auth/o2/token",
		"attributes_url": "https://api.amazon.com/user/profile", "attributes_url_add_attributes": "false",
		"token_request_method": "POST",
	},
	"SignInWithApple": {
		"authorize_url": "https://appleid.apple.com/auth/authorize", "token_url": "https://appleid.apple.com/auth/token",
		"oidc_issuer": "https://appleid.apple.com", "attributes_url_add_attributes": "false", "token_request_method": "POST",
	},
}

var facebookVersion = regexp.MustCompile(`^v[0-9]{1,2}\.[0-9]{1,2}$`)

// appleKeyKind is the pool's hidden record of each Sign in with Apple
// provider's private_key, which Describe does not show (as in Cognito).
const appleKeyKind = "applePrivateKey"

// socialSubject is the claim each provider names its user by (Cognito's
// default username mapping).
var socialSubject = map[string]string{"Google": "sub", "Facebook": "id", "LoginWithAmazon": "user_id", "SignInWithApple": "sub"}

// socialDetails validates a social provider's ProviderDetails as Cognito does
// and adds the details Cognito adds; the URLs may be given to point the
// provider elsewhere (any OAuth 2.0 or OIDC server), jwks_uri too.
func socialDetails(typ, name string, in map[string]string) (map[string]string, error) {
	if name != typ {
		return nil, errInvalidParameter("The ProviderName of a %s identity provider must be %s.", typ, typ)
	}
	need := []string{"client_id", "client_secret", "authorize_scopes"}
	if typ == "SignInWithApple" {
		need = []string{"client_id", "team_id", "key_id", "private_key", "authorize_scopes"}
	}
	for _, k := range need {
		if strings.TrimSpace(in[k]) == "" {
			return nil, errInvalidParameter("%s is required for %s identity providers.", k, typ)
		}
	}
	d := maps.Clone(in)
	for k, v := range socialDefaults[typ] {
		if typ == "Facebook" && d["api_version"] != "" {
			// The Graph API version the URLs name (v17.0 by default).
			if !facebookVersion.MatchString(d["api_version"]) {
				return nil, errInvalidParameter("api_version must be a Graph API version such as v17.0.")
			}
			v = strings.ReplaceAll(v, "v17.0", d["api_version"])
		}
		if d[k] == "" {
			d[k] = v
		}
	}
	for _, k := range []string{"oidc_issuer", "authorize_url", "token_url", "attributes_url", "jwks_uri"} {
		if v, ok := d[k]; ok && !httpURL(v) {
			return nil, errInvalidParameter("%s must be an http or https URL.", k)
		}
	}
	if m := d["token_request_method"]; m != "GET" && m != "POST" {
		return nil, errInvalidParameter("token_request_method must be GET or POST.")
	}
	return d, nil
}

// socialStandIn tells whether the emulator stands in for prov: its authorize
// URL is still the provider's own.
func socialStandIn(prov *oidcProvider) bool {
	def, ok := socialDefaults[prov.Type]
	u := prov.Details["authorize_url"]
	if v := prov.Details["api_version"]; prov.Type == "Facebook" && v != "" {
		u = strings.ReplaceAll(u, "/"+v+"/", "/v17.0/")
	}
	return ok && (u == "" || u == def["authorize_url"])
}

// socialEndpoints are prov's URLs: the stand-in's on the emulator's own URL
// (base, e.g. http://127.0.0.1:PORT), else those of its details.
func socialEndpoints(prov *oidcProvider, base string) (oidcEndpoints, error) {
	d := prov.Details
	if socialStandIn(prov) {
		p := base + standInPrefix + strings.ToLower(prov.Type)
		ep := oidcEndpoints{Issuer: standInIssuer(prov.Type, base), Authorize: p + "/authorize", Token: p + "/token", UserInfo: p + "/userinfo"}
		if standInHasIDToken(prov.Type) {
			ep.JWKS = p + "/jwks"
		}
		return ep, nil
	}
	ep := oidcEndpoints{Issuer: d["oidc_issuer"], Authorize: d["authorize_url"], Token: d["token_url"], UserInfo: d["attributes_url"], JWKS: d["jwks_uri"]}
	for _, u := range []string{ep.Authorize, ep.Token} {
		if !httpURL(u) {
			return ep, fedFail("%s Error - the provider's endpoints are not URLs", prov.Name)
		}
	}
	if ep.UserInfo == "" && ep.JWKS == "" {
		return ep, fedFail("%s Error - neither attributes_url nor jwks_uri is set", prov.Name)
	}
	return ep, nil
}

// socialAttributesURL is the attributes_url as Cognito calls it: with
// attributes_url_add_attributes, the mapped claims appended (Facebook's
// fields=id,email,…; Google's personFields=).
func socialAttributesURL(prov *oidcProvider, u string) string {
	if prov.Details["attributes_url_add_attributes"] != "true" || !strings.HasSuffix(u, "=") {
		return u
	}
	fields := []string{socialSubject[prov.Type]}
	for _, claim := range prov.Mapping {
		if !slices.Contains(fields, claim) && len(fields) < 50 {
			fields = append(fields, claim)
		}
	}
	slices.Sort(fields[1:])
	return u + strings.Join(fields, ",")
}

// appleClientSecret is the client_secret Sign in with Apple's token endpoint
// takes: an ES256 JWT by the team's key (private_key, a PKCS #8 PEM), "" when
// the key is not one.
func appleClientSecret(prov *oidcProvider, aud string, now time.Time) string {
	d := prov.Details
	blk, _ := pem.Decode([]byte(d["private_key"]))
	if blk == nil {
		return ""
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	ek, ok := k.(*ecdsa.PrivateKey)
	if err != nil || !ok {
		return ""
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"iss": d["team_id"], "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "aud": aud, "sub": d["client_id"],
	})
	tok.Header["kid"] = d["key_id"]
	s, err := tok.SignedString(ek)
	if err != nil {
		return ""
	}
	return s
}

// socialClaims makes a social provider's claims usable by federatedUser: the
// subject claim becomes sub (a number as its digits).
func socialClaims(prov *oidcProvider, claims map[string]any) (map[string]any, error) {
	key := socialSubject[prov.Type]
	sub, ok := claimText(claims[key])
	if f, isNum := claims[key].(float64); isNum {
		sub = strconv.FormatFloat(f, 'f', -1, 64) // an ID sent as a JSON number
	}
	if !ok || sub == "" || len(sub) > 255 || strings.ContainsAny(sub, " \t\r\n") {
		return nil, fedFail("%s Error - the provider's answer has no usable %s", prov.Name, key)
	}
	claims["sub"] = sub
	return claims, nil
}
