package emulator

// The app client's OAuth 2.0 model: the settings CreateUserPoolClient and
// UpdateUserPoolClient take (clientOAuth), their validation, and what the
// endpoints in oauth2.go derive from them (redirect URIs, grantable scopes).

import (
	"net/url"
	"slices"
	"strings"
)

// oauthSettings are a client's OAuth rules as the endpoints apply them.
type oauthSettings struct {
	configured   bool // the client was given OAuth fields
	enabled      bool // AllowedOAuthFlowsUserPoolClient
	flows        []string
	scopes       []string
	callbackURLs []string
	logoutURLs   []string
	providers    []string
}

func settingsOf(c *appClient) oauthSettings {
	o := c.OAuth
	if o == nil {
		// Deviation: a client created without any OAuth setting may use the code
		// flow with the standard scopes and a loopback redirect, so that
		// `cogauth login --hosted-ui` works against an emulator seeded without
		// OAuth settings. Real Cognito refuses such a client; give the client any
		// OAuth field to get Cognito's rules.
		return oauthSettings{enabled: true, flows: []string{"code"}, scopes: standardScopes, providers: []string{"COGNITO"}}
	}
	return oauthSettings{
		configured:   true,
		enabled:      o.Enabled != nil && *o.Enabled,
		flows:        o.Flows,
		scopes:       o.Scopes,
		callbackURLs: o.CallbackURLs,
		logoutURLs:   o.LogoutURLs,
		providers:    o.Providers,
	}
}

// empty tells that a request gave none of the OAuth fields.
func (o *clientOAuth) empty() bool {
	return o.Enabled == nil && o.Flows == nil && o.Scopes == nil && o.CallbackURLs == nil &&
		o.LogoutURLs == nil && o.DefaultRedirectURI == nil && o.Providers == nil
}

// mergeInto returns a client's OAuth settings after a Create or Update request
// that gave o: the fields o has replace those of old (nil when neither has any).
func (o clientOAuth) mergeInto(old *clientOAuth) *clientOAuth {
	if o.empty() {
		return old
	}
	next := clientOAuth{}
	if old != nil {
		next = *old
	}
	if o.Enabled != nil {
		next.Enabled = o.Enabled
	}
	if o.DefaultRedirectURI != nil {
		next.DefaultRedirectURI = o.DefaultRedirectURI
	}
	for _, f := range []struct{ dst, src *[]string }{
		{&next.Flows, &o.Flows}, {&next.Scopes, &o.Scopes}, {&next.CallbackURLs, &o.CallbackURLs},
		{&next.LogoutURLs, &o.LogoutURLs}, {&next.Providers, &o.Providers},
	} {
		if *f.src != nil {
			*f.dst = *f.src
		}
	}
	return &next
}

// describe adds the fields the client was given to a UserPoolClientType.
func (o *clientOAuth) describe(out map[string]any) {
	if o == nil {
		return
	}
	if o.Enabled != nil {
		out["AllowedOAuthFlowsUserPoolClient"] = *o.Enabled
	}
	if o.DefaultRedirectURI != nil {
		out["DefaultRedirectURI"] = *o.DefaultRedirectURI
	}
	for name, v := range map[string][]string{
		"AllowedOAuthFlows": o.Flows, "AllowedOAuthScopes": o.Scopes, "CallbackURLs": o.CallbackURLs,
		"LogoutURLs": o.LogoutURLs, "SupportedIdentityProviders": o.Providers,
	} {
		if v != nil {
			out[name] = v
		}
	}
}

// oauthFlowTypes is Cognito's OAuthFlowType enum.
var oauthFlowTypes = []string{"code", "implicit", "client_credentials"}

// check refuses OAuth settings Cognito refuses at CreateUserPoolClient and
// UpdateUserPoolClient. Messages are the emulator's own where Cognito's are not
// documented; the exception names are Cognito's.
func (o *clientOAuth) check(p *userPool, hasSecret bool) error {
	if o == nil {
		return nil
	}
	for _, check := range []func() error{
		func() error { return o.checkFlows(hasSecret) },
		o.checkScopes,
		o.checkRedirectURLs,
		func() error { return o.checkProviders(p) },
	} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// checkFlows refuses an unknown AllowedOAuthFlows value, and client_credentials
// beside a user flow or on a client without a secret.
func (o *clientOAuth) checkFlows(hasSecret bool) error {
	for _, f := range o.Flows {
		if !slices.Contains(oauthFlowTypes, f) {
			return errInvalidParameter("1 validation error detected: Value '[%s]' at 'allowedOAuthFlows' failed to satisfy constraint: Member must satisfy enum value set: [implicit, client_credentials, code]", clip(f))
		}
	}
	machine := slices.Contains(o.Flows, "client_credentials")
	switch {
	case machine && (slices.Contains(o.Flows, "code") || slices.Contains(o.Flows, "implicit")):
		return newErr("InvalidOAuthFlowException", "client_credentials flow can not be selected along with code flow or implicit flow.")
	case machine && !hasSecret:
		return newErr("InvalidOAuthFlowException", "client_credentials flow can not be selected if client does not have a client secret.")
	}
	return nil
}

// checkScopes refuses a scope that is neither standard nor a
// resource-server/scope name. Without resource servers, any such name is taken
// as a custom scope.
func (o *clientOAuth) checkScopes() error {
	for _, sc := range o.Scopes {
		if !slices.Contains(standardScopes, sc) && !strings.Contains(sc, "/") {
			return newErr("ScopeDoesNotExistException", "Invalid scope requested: %s", clip(sc))
		}
	}
	return nil
}

// checkRedirectURLs refuses a callback or sign-out URL Cognito refuses, and a
// DefaultRedirectURI that is not one of the CallbackURLs.
func (o *clientOAuth) checkRedirectURLs() error {
	for _, list := range [][]string{o.CallbackURLs, o.LogoutURLs} {
		for _, u := range list {
			if !validRedirectURL(u) {
				return errInvalidParameter("Invalid redirect URL %s: it must be absolute and have no fragment.", clip(u))
			}
		}
	}
	if o.DefaultRedirectURI != nil && *o.DefaultRedirectURI != "" && !slices.Contains(o.CallbackURLs, *o.DefaultRedirectURI) {
		return errInvalidParameter("DefaultRedirectURI must be one of the CallbackURLs.")
	}
	return nil
}

// checkProviders refuses a SupportedIdentityProviders name the pool does not have.
func (o *clientOAuth) checkProviders(p *userPool) error {
	for _, name := range o.Providers {
		if name != "COGNITO" && p.identityProvider(name) == nil {
			return errInvalidParameter("The provider %s does not exist for User Pool %s", clip(name), p.ID)
		}
	}
	return nil
}

// validRedirectURL is Cognito's rule for callback and sign-out URLs: absolute
// (custom schemes such as myapp:// too) and without a fragment.
func validRedirectURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.IsAbs() && u.Fragment == "" && !strings.Contains(s, "#") && len(s) <= 1024
}

// allowsRedirect tells whether uri may receive codes: one of CallbackURLs exactly,
// or, for an unconfigured client, any loopback http URL.
func (s oauthSettings) allowsRedirect(uri string) bool {
	if uri == "" {
		return false
	}
	if s.configured {
		return slices.Contains(s.callbackURLs, uri)
	}
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "http" || u.User != nil {
		return false
	}
	h := u.Hostname()
	return h == "localhost" || h == "127.0.0.1" || h == "::1"
}

// grantScopes checks the requested scopes against the client's and returns what is
// granted: every allowed scope when none are asked for. machine is the
// client_credentials grant, which may hold custom (resource-server) scopes only.
func (s oauthSettings) grantScopes(requested string, machine bool) (string, bool) {
	var allowed []string
	for _, sc := range s.scopes {
		if !machine || strings.Contains(sc, "/") {
			allowed = append(allowed, sc)
		}
	}
	req := strings.Fields(requested)
	if len(req) == 0 {
		return strings.Join(allowed, " "), len(allowed) > 0
	}
	var out []string
	for _, sc := range req {
		if !slices.Contains(allowed, sc) {
			return "", false
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return strings.Join(out, " "), true
}
