package emulator

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The Hosted UI (managed login) and OAuth 2.0 endpoints of a user pool domain:
// /oauth2/authorize, /login, /oauth2/token (authorization_code with PKCE,
// refresh_token, client_credentials), /oauth2/revoke, /oauth2/userInfo and /logout.
// Real Cognito serves them on the pool's domain
// (https://{prefix}.auth.{region}.amazoncognito.com); the emulator serves them on
// its own URL, both at the root (the client ID names the pool) and under
// /{poolId}/ (where the OpenID configuration of a self-issuing emulator points).

const (
	// oauthExtKey names the OAuth state in the "extensions" of older state files.
	oauthExtKey = "oauth2"
	// codeTTL is how long an authorization code may be redeemed, as in Cognito.
	codeTTL = 5 * time.Minute
	// loginTTL is how long the hosted UI's session cookie signs the user in again
	// without a password, as Cognito's one-hour "cognito" cookie does.
	loginTTL = time.Hour
	// loginCookie is the hosted UI session cookie's name (Cognito's).
	loginCookie = "cognito"
	// csrfCookie and the form field of the same name guard the sign-in form
	// against cross-site posts (double submit), as Cognito's XSRF-TOKEN does.
	csrfCookie = "XSRF-TOKEN"
	csrfField  = "_csrf"
)

// standardScopes are the OIDC and Cognito scopes a client may be allowed. Custom
// scopes (resource-server/scope) are any others containing a slash: the emulator
// has no resource servers, so a client's AllowedOAuthScopes is taken as their
// definition.
var standardScopes = []string{"openid", "email", "phone", "profile", adminScope}

// oauthState is what the OAuth endpoints keep (state.OAuth). The scope a sign-in
// was granted lives on its origin (origin.Scope).
type oauthState struct {
	Codes  map[string]*authCode     `json:"codes"`  // by hashToken(code)
	Logins map[string]*loginSession `json:"logins"` // by hashToken(cookie)
}

// scope is the scope claim of the origin's access tokens.
func (o *origin) scope() string {
	if o.Scope != "" {
		return o.Scope
	}
	return adminScope
}

// authCode is one authorization code: single-use, short-lived, bound to the client,
// redirect URI and PKCE challenge it was issued for.
type authCode struct {
	PoolID      string    `json:"poolId"`
	ClientID    string    `json:"clientId"`
	Username    string    `json:"username"`
	RedirectURI string    `json:"redirectUri"`
	Scope       string    `json:"scope"`
	Nonce       string    `json:"nonce,omitempty"`
	Challenge   string    `json:"codeChallenge,omitempty"`
	AuthTime    time.Time `json:"authTime"`
	Expires     time.Time `json:"expires"`
}

// loginSession is the hosted UI's memory of a signed-in browser.
type loginSession struct {
	PoolID   string    `json:"poolId"`
	Username string    `json:"username"`
	AuthTime time.Time `json:"authTime"`
	Expires  time.Time `json:"expires"`
}

// oauth returns the OAuth endpoints' state, made on first use; e.mu must be held.
func (e *Emulator) oauth() *oauthState {
	if e.st.OAuth == nil {
		e.st.OAuth = &oauthState{}
	}
	s := e.st.OAuth
	s.ensureMaps()
	return s
}

func (s *oauthState) ensureMaps() {
	if s.Codes == nil {
		s.Codes = map[string]*authCode{}
	}
	if s.Logins == nil {
		s.Logins = map[string]*loginSession{}
	}
}

// prune drops codes and hosted UI sessions that have expired and tells whether
// it dropped any.
func (s *oauthState) prune(now time.Time) bool {
	n := len(s.Codes) + len(s.Logins)
	for k, c := range s.Codes {
		if now.After(c.Expires) {
			delete(s.Codes, k)
		}
	}
	for k, l := range s.Logins {
		if now.After(l.Expires) {
			delete(s.Logins, k)
		}
	}
	return len(s.Codes)+len(s.Logins) != n
}

// oauthRoute splits an OAuth path into the pool it names (empty at the root) and
// the endpoint; ok is false for paths that are not OAuth endpoints.
func oauthRoute(path string) (poolID, endpoint string, ok bool) {
	rest := path
	if i := strings.IndexByte(strings.TrimPrefix(path, "/"), '/'); i > 0 && strings.Contains(path[1:i+1], "_") {
		poolID, rest = path[1:i+1], path[i+1:]
	}
	switch rest {
	case "/oauth2/authorize", "/oauth2/token", "/oauth2/revoke", "/oauth2/userInfo", "/login", "/logout", "/error":
		return poolID, rest, true
	}
	return "", "", false
}

// serveOAuth2 answers the hosted UI and OAuth 2.0 endpoints. It reports false when
// the path is none of them.
func (e *Emulator) serveOAuth2(w http.ResponseWriter, r *http.Request) bool {
	poolID, endpoint, ok := oauthRoute(r.URL.Path)
	if !ok {
		return false
	}
	// Browsers and OAuth clients must never cache these answers (RFC 6749 5.1).
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	e.mu.Lock()
	e.counts[strings.TrimPrefix(endpoint, "/")]++
	e.mu.Unlock()
	o := &oauthReq{e: e, w: w, r: r, poolID: poolID, base: strings.TrimSuffix(r.URL.Path, endpoint)}
	switch {
	case endpoint == "/oauth2/authorize" && r.Method == http.MethodGet:
		o.authorize()
	case endpoint == "/login" && r.Method == http.MethodGet:
		o.loginPage()
	case endpoint == "/login" && r.Method == http.MethodPost:
		o.loginSubmit()
	case endpoint == "/oauth2/token" && r.Method == http.MethodPost:
		o.token()
	case endpoint == "/oauth2/revoke" && r.Method == http.MethodPost:
		o.revoke()
	case endpoint == "/oauth2/userInfo" && (r.Method == http.MethodGet || r.Method == http.MethodPost):
		o.userInfo()
	case endpoint == "/logout" && r.Method == http.MethodGet:
		o.logout()
	case endpoint == "/error" && r.Method == http.MethodGet:
		o.errorPage(http.StatusBadRequest, r.URL.Query().Get("error"))
	default:
		w.Header().Set("Allow", "GET, POST")
		writeJSONStatus(w, http.StatusMethodNotAllowed, map[string]string{"error": "invalid_request"})
	}
	return true
}

// oauthReq is one request to an OAuth endpoint.
type oauthReq struct {
	e      *Emulator
	w      http.ResponseWriter
	r      *http.Request
	poolID string // from a /{poolId}/ prefix, else empty
	base   string // the path prefix, "" or "/{poolId}"
}

// oauthErr is an OAuth error answer: {"error": Code} with Status.
type oauthErr struct {
	Code   string
	Status int
	Desc   string // error_description, for the endpoints that send one
}

func (e *oauthErr) Error() string { return e.Code }

func errOAuth(code string) *oauthErr { return &oauthErr{Code: code, Status: http.StatusBadRequest} }

// locked runs fn with the emulator locked, then drops what has expired and saves
// the state file when anything changed.
func (o *oauthReq) locked(fn func(s *oauthState, now time.Time) error) error {
	e := o.e
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.base.Now().Add(e.offset)
	s := e.oauth()
	if err := fn(s, now); err != nil {
		return err
	}
	if s.prune(now) {
		e.dirty = true
	}
	if e.dirty && e.opts.StateFile != "" {
		e.dirty = false
		if serr := e.saveLocked(e.opts.StateFile); serr != nil {
			e.saveErr = serr
			e.logger().Error("emulator: saving state failed", "err", serr.Error())
		}
	}
	return nil
}

// client finds an app client, within the path's pool when it names one.
func (o *oauthReq) client(id string) (*userPool, *appClient, bool) {
	if id == "" {
		return nil, nil, false
	}
	p, c, err := o.e.clientByID(id)
	if err != nil || (o.poolID != "" && p.ID != o.poolID) {
		return nil, nil, false
	}
	return p, c, true
}

// ---- client OAuth settings ----

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
func (o *clientOAuth) check(poolID string, hasSecret bool) error {
	if o == nil {
		return nil
	}
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
	for _, sc := range o.Scopes {
		// Without resource servers, any resource-server/scope name is taken as a
		// custom scope; anything else must be a standard scope.
		if !slices.Contains(standardScopes, sc) && !strings.Contains(sc, "/") {
			return newErr("ScopeDoesNotExistException", "Invalid scope requested: %s", clip(sc))
		}
	}
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
	for _, p := range o.Providers {
		if p != "COGNITO" {
			// No federation: the emulator's pools have no identity providers.
			return errInvalidParameter("The provider %s does not exist for User Pool %s", clip(p), poolID)
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

// ---- /oauth2/authorize and /login ----

// authParams are the authorize request's parameters, carried through the login
// form unchanged.
type authParams struct {
	ResponseType, ClientID, RedirectURI, State, Scope string
	IdentityProvider, Nonce, Challenge, Method        string
}

func readAuthParams(v url.Values) authParams {
	return authParams{
		ResponseType: v.Get("response_type"), ClientID: v.Get("client_id"), RedirectURI: v.Get("redirect_uri"),
		State: v.Get("state"), Scope: v.Get("scope"), IdentityProvider: v.Get("identity_provider"),
		Nonce: v.Get("nonce"), Challenge: v.Get("code_challenge"), Method: v.Get("code_challenge_method"),
	}
}

func (a authParams) values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("response_type", a.ResponseType)
	set("client_id", a.ClientID)
	set("redirect_uri", a.RedirectURI)
	set("state", a.State)
	set("scope", a.Scope)
	set("identity_provider", a.IdentityProvider)
	set("nonce", a.Nonce)
	set("code_challenge", a.Challenge)
	set("code_challenge_method", a.Method)
	return v
}

// checked is an authorize request that passed validation.
type checked struct {
	p     *userPool
	c     *appClient
	scope string
}

// validate checks an authorize request as Cognito does. A bad client or redirect
// URI is answered on the emulator's error page (never by redirecting to an
// unverified URI); anything else by redirecting to the redirect URI with error=.
func (o *oauthReq) validate(a authParams) (*checked, *oauthErr, bool) {
	p, c, ok := o.client(a.ClientID)
	if !ok {
		return nil, &oauthErr{Code: "invalid_request", Desc: "unknown client_id", Status: http.StatusBadRequest}, false
	}
	s := settingsOf(c)
	if !s.allowsRedirect(a.RedirectURI) {
		return nil, &oauthErr{Code: "redirect_mismatch", Status: http.StatusBadRequest}, false
	}
	switch {
	case a.ResponseType != "code" && a.ResponseType != "token":
		return nil, errOAuth("unsupported_response_type"), true
	case !s.enabled || !slices.Contains(s.flows, a.ResponseType) && !(a.ResponseType == "token" && slices.Contains(s.flows, "implicit")):
		return nil, errOAuth("unauthorized_client"), true
	case a.Challenge != "" && a.Method != "S256":
		// Cognito supports S256 only.
		return nil, &oauthErr{Code: "invalid_request", Desc: "unsupported code_challenge_method", Status: http.StatusBadRequest}, true
	case a.Method != "" && a.Challenge == "":
		return nil, &oauthErr{Code: "invalid_request", Desc: "code_challenge is missing", Status: http.StatusBadRequest}, true
	case a.IdentityProvider != "" && a.IdentityProvider != "COGNITO":
		// The emulator federates with no outside identity provider.
		return nil, &oauthErr{Code: "invalid_request", Desc: "identity provider " + clip(a.IdentityProvider) + " is not configured", Status: http.StatusBadRequest}, true
	case !slices.Contains(s.providers, "COGNITO"):
		// The sign-in page is the COGNITO provider; a client without it has no
		// way to sign in here.
		return nil, &oauthErr{Code: "invalid_request", Desc: "COGNITO is not among the client's SupportedIdentityProviders", Status: http.StatusBadRequest}, true
	}
	scope, ok := s.grantScopes(a.Scope, false)
	if !ok {
		return nil, errOAuth("invalid_scope"), true
	}
	return &checked{p: p, c: c, scope: scope}, nil, false
}

// fail answers an authorize or login request that validate refused.
func (o *oauthReq) fail(a authParams, oe *oauthErr, redirect bool) {
	if !redirect {
		o.errorPage(oe.Status, oe.Code)
		return
	}
	v := url.Values{"error": {oe.Code}}
	if oe.Desc != "" {
		v.Set("error_description", oe.Desc)
	}
	if a.State != "" {
		v.Set("state", a.State)
	}
	o.redirectTo(a.RedirectURI, v, false)
}

// redirectTo sends the browser to uri with v added to its query (or, for the
// implicit grant, in its fragment).
func (o *oauthReq) redirectTo(uri string, v url.Values, fragment bool) {
	u, err := url.Parse(uri)
	if err != nil {
		o.errorPage(http.StatusBadRequest, "redirect_mismatch")
		return
	}
	if fragment {
		u.Fragment = v.Encode()
	} else {
		q := u.Query()
		for k, vs := range v {
			q[k] = vs
		}
		u.RawQuery = q.Encode()
	}
	http.Redirect(o.w, o.r, u.String(), http.StatusFound)
}

func (o *oauthReq) authorize() {
	a := readAuthParams(o.r.URL.Query())
	var (
		chk      *checked
		oe       *oauthErr
		redirect bool
		login    *loginSession
	)
	err := o.locked(func(s *oauthState, now time.Time) error {
		chk, oe, redirect = o.validate(a)
		if oe != nil {
			return nil
		}
		login = o.currentLogin(s, chk.p, now)
		return nil
	})
	if err != nil {
		o.internal(err)
		return
	}
	if oe != nil {
		o.fail(a, oe, redirect)
		return
	}
	if login == nil {
		// As Cognito: the sign-in page lives at /login with the same parameters.
		http.Redirect(o.w, o.r, o.base+"/login?"+a.values().Encode(), http.StatusFound)
		return
	}
	o.complete(a, login.Username, login.AuthTime)
}

// currentLogin returns the browser's hosted UI session for pool p, if any.
func (o *oauthReq) currentLogin(s *oauthState, p *userPool, now time.Time) *loginSession {
	ck, err := o.r.Cookie(loginCookie)
	if err != nil || ck.Value == "" {
		return nil
	}
	l := s.Logins[hashToken(ck.Value)]
	if l == nil || l.PoolID != p.ID || now.After(l.Expires) {
		return nil
	}
	u := p.Users[p.userKey(l.Username)]
	if u == nil || !u.Enabled {
		return nil
	}
	return l
}

// complete ends a successful sign-in: a code (or, for the implicit grant, tokens)
// to the redirect URI.
func (o *oauthReq) complete(a authParams, username string, authTime time.Time) {
	var (
		code string
		out  *tokenResponse
		oe   *oauthErr
		redi bool
	)
	err := o.locked(func(s *oauthState, now time.Time) error {
		chk, bad, r := o.validate(a)
		if bad != nil {
			oe, redi = bad, r
			return nil
		}
		if a.ResponseType == "token" {
			u := chk.p.Users[chk.p.userKey(username)]
			if u == nil {
				oe, redi = errOAuth("access_denied"), true
				return nil
			}
			var err error
			if out, err = o.e.oauthSession(s, chk.p, chk.c, u, chk.scope, a.Nonce, authTime, now); err != nil {
				return err
			}
			out.RefreshToken = "" // the implicit grant hands out no refresh token
			return nil
		}
		code = o.e.uuid()
		o.e.dirty = true
		s.Codes[hashToken(code)] = &authCode{
			PoolID: chk.p.ID, ClientID: chk.c.ID, Username: username, RedirectURI: a.RedirectURI,
			Scope: chk.scope, Nonce: a.Nonce, Challenge: a.Challenge, AuthTime: authTime, Expires: now.Add(codeTTL),
		}
		return nil
	})
	if err == nil && out != nil {
		err = out.sign()
	}
	if err != nil {
		o.internal(err)
		return
	}
	if oe != nil {
		o.fail(a, oe, redi)
		return
	}
	v := url.Values{}
	if a.State != "" {
		v.Set("state", a.State)
	}
	if out != nil {
		v.Set("access_token", out.AccessToken)
		if out.IDToken != "" {
			v.Set("id_token", out.IDToken)
		}
		v.Set("token_type", out.TokenType)
		v.Set("expires_in", fmt.Sprint(out.ExpiresIn))
		o.redirectTo(a.RedirectURI, v, true)
		return
	}
	v.Set("code", code)
	o.redirectTo(a.RedirectURI, v, false)
}

func (o *oauthReq) loginPage() {
	a := readAuthParams(o.r.URL.Query())
	var (
		oe       *oauthErr
		redirect bool
	)
	if err := o.locked(func(*oauthState, time.Time) error {
		_, oe, redirect = o.validate(a)
		return nil
	}); err != nil {
		o.internal(err)
		return
	}
	if oe != nil {
		o.fail(a, oe, redirect)
		return
	}
	o.renderLogin(a, "", http.StatusOK)
}

func (o *oauthReq) loginSubmit() {
	o.r.Body = http.MaxBytesReader(o.w, o.r.Body, 64<<10)
	if err := o.r.ParseForm(); err != nil {
		o.errorPage(http.StatusBadRequest, "invalid_request")
		return
	}
	f := o.r.PostForm
	a := readAuthParams(f)
	if ck, err := o.r.Cookie(csrfCookie); err != nil || ck.Value == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(f.Get(csrfField))) != 1 {
		o.errorPage(http.StatusForbidden, "invalid_request")
		return
	}
	var (
		oe       *oauthErr
		redirect bool
		message  string
		username string
		authTime time.Time
		cookie   string
	)
	err := o.locked(func(s *oauthState, now time.Time) error {
		var chk *checked
		chk, oe, redirect = o.validate(a)
		if oe != nil {
			return nil
		}
		u := chk.p.findUser(strings.TrimSpace(f.Get("username")))
		if u == nil || !passwordMatches(chk.p, u, f.Get("password")) {
			message = "Incorrect username or password."
			return nil
		}
		if err := checkCanSignIn(u, now); err != nil {
			message = "Your account cannot sign in now."
			if ae, ok := err.(*Error); ok {
				message = ae.Message
			}
			return nil
		}
		switch {
		case u.Status == "FORCE_CHANGE_PASSWORD":
			message = "This user must change a temporary password, which the emulator's sign-in page does not do: sign in once through the API (cogauth login)."
			return nil
		case chk.p.MFA == "ON" || chk.p.MFA == "OPTIONAL" && (u.MFA.TOTPEnabled || u.MFA.SMSEnabled || u.MFA.EmailEnabled):
			message = "This user signs in with MFA, which the emulator's sign-in page does not ask for."
			return nil
		}
		username, authTime = u.Username, now
		cookie = o.e.randomB64(32)
		o.e.dirty = true
		s.Logins[hashToken(cookie)] = &loginSession{PoolID: chk.p.ID, Username: u.Username, AuthTime: now, Expires: now.Add(loginTTL)}
		return nil
	})
	if err != nil {
		o.internal(err)
		return
	}
	switch {
	case oe != nil:
		o.fail(a, oe, redirect)
	case message != "":
		o.renderLogin(a, message, http.StatusOK)
	default:
		http.SetCookie(o.w, &http.Cookie{Name: loginCookie, Value: cookie, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: int(loginTTL / time.Second)})
		o.complete(a, username, authTime)
	}
}

// ---- /oauth2/token ----

// tokenResponse is the token endpoint's answer.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`

	ts *tokenSet // tokens still to sign, outside the lock
}

func (t *tokenResponse) sign() error {
	if t.ts == nil {
		return nil
	}
	if err := t.ts.sign(); err != nil {
		return err
	}
	t.AccessToken, t.IDToken = t.ts.AccessToken, t.ts.IDToken
	t.ts = nil
	return nil
}

// clientAuth reads the client's credentials: HTTP Basic, else client_id (and
// client_secret) in the form, as Cognito accepts both.
func clientAuth(r *http.Request) (id, secret string, basic bool) {
	if u, p, ok := r.BasicAuth(); ok {
		// RFC 6749 2.3.1: both parts are form-urlencoded inside Basic.
		if du, err := url.QueryUnescape(u); err == nil {
			u = du
		}
		if dp, err := url.QueryUnescape(p); err == nil {
			p = dp
		}
		return u, p, true
	}
	return r.PostForm.Get("client_id"), r.PostForm.Get("client_secret"), false
}

// authenticateClient checks the client's secret where it has one.
func (o *oauthReq) authenticateClient() (*userPool, *appClient, *oauthErr) {
	id, secret, basic := clientAuth(o.r)
	if basic && o.r.PostForm.Get("client_id") != "" && o.r.PostForm.Get("client_id") != id {
		return nil, nil, errOAuth("invalid_request")
	}
	p, c, ok := o.client(id)
	if !ok {
		return nil, nil, errOAuth("invalid_client")
	}
	if c.Secret != "" && subtle.ConstantTimeCompare([]byte(secret), []byte(c.Secret)) != 1 {
		return nil, nil, errOAuth("invalid_client")
	}
	return p, c, nil
}

// parseForm reads a form body of a POST endpoint; OAuth endpoints take
// application/x-www-form-urlencoded only.
func (o *oauthReq) parseForm() bool {
	ct := o.r.Header.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	if !strings.EqualFold(strings.TrimSpace(ct), "application/x-www-form-urlencoded") {
		o.writeOAuthErr(errOAuth("invalid_request"))
		return false
	}
	o.r.Body = http.MaxBytesReader(o.w, o.r.Body, 64<<10)
	if err := o.r.ParseForm(); err != nil {
		o.writeOAuthErr(errOAuth("invalid_request"))
		return false
	}
	return true
}

func (o *oauthReq) token() {
	if !o.parseForm() {
		return
	}
	f := o.r.PostForm
	var out *tokenResponse
	var oe *oauthErr
	err := o.locked(func(s *oauthState, now time.Time) error {
		p, c, bad := o.authenticateClient()
		if bad != nil {
			oe = bad
			return nil
		}
		switch f.Get("grant_type") {
		case "authorization_code":
			out, oe = o.e.redeemCode(s, p, c, f, now)
		case "refresh_token":
			out, oe = o.e.oauthRefresh(o.r, p, c, f.Get("refresh_token"), now)
		case "client_credentials":
			out, oe = o.e.clientCredentials(p, c, f.Get("scope"), now)
		case "":
			oe = errOAuth("invalid_request")
		default:
			oe = errOAuth("unsupported_grant_type")
		}
		return nil
	})
	if err == nil && out != nil {
		err = out.sign()
	}
	if err != nil {
		o.internal(err)
		return
	}
	if oe != nil {
		o.writeOAuthErr(oe)
		return
	}
	writeJSONStatus(o.w, http.StatusOK, out)
}

// redeemCode serves grant_type=authorization_code. The code is spent by the first
// attempt, whatever its outcome, so a code can never be tried twice.
func (e *Emulator) redeemCode(s *oauthState, p *userPool, c *appClient, f url.Values, now time.Time) (*tokenResponse, *oauthErr) {
	code := f.Get("code")
	if code == "" {
		return nil, errOAuth("invalid_request")
	}
	ac := s.Codes[hashToken(code)]
	if ac == nil || now.After(ac.Expires) {
		return nil, errOAuth("invalid_grant")
	}
	delete(s.Codes, hashToken(code))
	e.dirty = true
	switch {
	case ac.ClientID != c.ID || ac.PoolID != p.ID:
		return nil, errOAuth("invalid_grant")
	case f.Get("redirect_uri") != ac.RedirectURI:
		return nil, errOAuth("invalid_grant")
	case ac.Challenge != "" && !pkceMatches(f.Get("code_verifier"), ac.Challenge):
		return nil, errOAuth("invalid_grant")
	}
	u := p.Users[p.userKey(ac.Username)]
	if u == nil || !u.Enabled {
		return nil, errOAuth("invalid_grant")
	}
	out, err := e.oauthSession(s, p, c, u, ac.Scope, ac.Nonce, ac.AuthTime, now)
	if err != nil {
		return nil, &oauthErr{Code: "server_error", Status: http.StatusInternalServerError}
	}
	return out, nil
}

// pkceMatches checks an RFC 7636 S256 verifier against its challenge.
func pkceMatches(verifier, challenge string) bool {
	// RFC 7636 4.1: 43 to 128 unreserved characters.
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	for i := 0; i < len(verifier); i++ {
		ch := verifier[i]
		if !(ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
			return false
		}
	}
	sum := sha256.Sum256([]byte(verifier))
	want := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) == 1
}

// oauthSession starts a sign-in from the hosted UI and returns its tokens.
func (e *Emulator) oauthSession(s *oauthState, p *userPool, c *appClient, u *user, scope, nonce string, authTime, now time.Time) (*tokenResponse, error) {
	ts, err := e.startSession(p, c, u, "", now)
	if err != nil {
		return nil, err
	}
	e.tokenTrigger(ts, &call{ctx: context.Background(), op: "oauth2/token", now: now}, p, c, u, tokenSourceHostedAuth)
	if rec := p.Refresh[hashToken(ts.RefreshToken)]; rec != nil {
		if og := p.Origins[rec.Origin]; og != nil {
			og.Scope = scope
			if !authTime.IsZero() {
				// The sign-in happened at the login page, perhaps before this
				// code was redeemed: auth_time stays that moment across refreshes.
				og.AuthTime = authTime
			}
		}
	}
	shapeOAuthTokens(ts, scope, nonce, authTime)
	return &tokenResponse{RefreshToken: ts.RefreshToken, TokenType: "Bearer", ExpiresIn: ts.ExpiresIn, ts: ts}, nil
}

// shapeOAuthTokens turns API-style claims into those of the token endpoint: the
// granted scopes in the access token, version 2, the nonce in the id token, and no
// id token without the openid scope.
func shapeOAuthTokens(ts *tokenSet, scope, nonce string, authTime time.Time) {
	openid := slices.Contains(strings.Fields(scope), "openid")
	kept := ts.pending[:0]
	for _, pj := range ts.pending {
		switch pj.dst {
		case &ts.AccessToken:
			pj.claims["scope"] = scope
			pj.claims["version"] = 2
		case &ts.IDToken:
			if !openid {
				continue
			}
			if nonce != "" {
				pj.claims["nonce"] = nonce
			}
		}
		if !authTime.IsZero() {
			pj.claims["auth_time"] = authTime.Unix()
		}
		kept = append(kept, pj)
	}
	ts.pending = kept
}

// oauthRefresh serves grant_type=refresh_token.
func (e *Emulator) oauthRefresh(r *http.Request, p *userPool, c *appClient, token string, now time.Time) (*tokenResponse, *oauthErr) {
	if token == "" {
		return nil, errOAuth("invalid_request")
	}
	rec := p.Refresh[hashToken(token)]
	if rec == nil || rec.ClientID != c.ID {
		return nil, errOAuth("invalid_grant")
	}
	call := &call{ctx: r.Context(), op: "oauth2/token", now: now}
	ts, err := e.refresh(call, p, c, token, "", func(*user) error { return nil }, c.Rotation)
	if err != nil {
		if _, ok := err.(*Error); ok {
			return nil, errOAuth("invalid_grant")
		}
		return nil, &oauthErr{Code: "server_error", Status: http.StatusInternalServerError}
	}
	scope := adminScope // a refresh token from the API keeps the API's scope
	if og := p.Origins[rec.Origin]; og != nil {
		scope = og.scope()
	}
	shapeOAuthTokens(ts, scope, "", time.Time{})
	return &tokenResponse{RefreshToken: ts.RefreshToken, TokenType: "Bearer", ExpiresIn: ts.ExpiresIn, ts: ts}, nil
}

// clientCredentials serves grant_type=client_credentials: an access token for the
// client itself, with custom scopes only.
func (e *Emulator) clientCredentials(p *userPool, c *appClient, requested string, now time.Time) (*tokenResponse, *oauthErr) {
	s := settingsOf(c)
	if c.Secret == "" {
		return nil, errOAuth("invalid_client")
	}
	if !s.configured || !s.enabled || !slices.Contains(s.flows, "client_credentials") {
		return nil, errOAuth("unauthorized_client")
	}
	scope, ok := s.grantScopes(requested, true)
	if !ok || scope == "" {
		return nil, errOAuth("invalid_scope")
	}
	if err := e.ensureKeys(p); err != nil {
		return nil, &oauthErr{Code: "server_error", Status: http.StatusInternalServerError}
	}
	ts := &tokenSet{ExpiresIn: int64(c.AccessValidity / time.Second), TokenType: "Bearer"}
	ts.pending = append(ts.pending, pendingJWT{dst: &ts.AccessToken, key: p.Keys.access, kid: p.Keys.AccessKID, claims: jwt.MapClaims{
		"sub":       c.ID,
		"token_use": "access",
		"scope":     scope,
		"auth_time": now.Unix(),
		"iss":       e.issuer(p),
		"exp":       now.Add(c.AccessValidity).Unix(),
		"iat":       now.Unix(),
		"version":   2,
		"jti":       e.uuid(),
		"client_id": c.ID,
	}})
	e.tokenTrigger(ts, &call{ctx: context.Background(), op: "oauth2/token", now: now}, p, c, nil, tokenSourceM2M)
	return &tokenResponse{TokenType: "Bearer", ExpiresIn: ts.ExpiresIn, ts: ts}, nil
}

// ---- /oauth2/revoke ----

func (o *oauthReq) revoke() {
	if !o.parseForm() {
		return
	}
	var oe *oauthErr
	err := o.locked(func(s *oauthState, now time.Time) error {
		p, c, bad := o.authenticateClient()
		if bad != nil {
			oe = bad
			return nil
		}
		tok := o.r.PostForm.Get("token")
		switch {
		case tok == "":
			oe = errOAuth("invalid_request")
			return nil
		case !c.EnableTokenRevoction:
			oe = &oauthErr{Code: "unsupported_operation", Status: http.StatusBadRequest}
			return nil
		case strings.Count(tok, ".") == 2:
			// Only refresh tokens can be revoked, as Cognito says.
			oe = errOAuth("unsupported_token_type")
			return nil
		}
		rec := p.Refresh[hashToken(tok)]
		if rec == nil {
			return nil // RFC 7009: an unknown token is revoked already
		}
		if rec.ClientID != c.ID {
			oe = errOAuth("invalid_request")
			return nil
		}
		if og := p.Origins[rec.Origin]; og != nil && !og.Revoked {
			og.Revoked = true
			o.e.dirty = true
		}
		return nil
	})
	if err != nil {
		o.internal(err)
		return
	}
	if oe != nil {
		o.writeOAuthErr(oe)
		return
	}
	o.w.WriteHeader(http.StatusOK)
}

// ---- /oauth2/userInfo ----

// userInfoScopes maps a scope to the attributes it releases (openid alone releases
// every attribute the client may read).
var userInfoScopes = map[string][]string{
	"email":   {"email", "email_verified"},
	"phone":   {"phone_number", "phone_number_verified"},
	"profile": {"name", "family_name", "given_name", "middle_name", "nickname", "preferred_username", "profile", "picture", "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at", "address"},
}

func (o *oauthReq) userInfo() {
	auth := o.r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || strings.TrimSpace(tok) == "" {
		o.bearerError(http.StatusBadRequest, "invalid_request", "Access token is missing.")
		return
	}
	var (
		body   map[string]string
		status int
		code   string
	)
	err := o.locked(func(_ *oauthState, now time.Time) error {
		u, cl, c, bad := o.e.checkOAuthAccess(strings.TrimSpace(tok), now)
		if bad != "" {
			status, code = http.StatusUnauthorized, bad
			return nil
		}
		scopes := strings.Fields(cl.Scope)
		if !slices.Contains(scopes, "openid") {
			// Cognito's userInfo needs an access token with the openid scope, which
			// API sign-ins never carry.
			status, code = http.StatusUnauthorized, "invalid_token"
			return nil
		}
		// openid alone releases every attribute the client may read; email, phone
		// and profile narrow that to theirs (profile includes custom attributes).
		narrow, allow, custom := false, map[string]bool{}, false
		for _, sc := range scopes {
			if names, ok := userInfoScopes[sc]; ok {
				narrow = true
				for _, a := range names {
					allow[a] = true
				}
				custom = custom || sc == "profile"
			}
		}
		body = map[string]string{"sub": u.Sub, "username": u.Username}
		for name, v := range u.Attributes {
			if name == "sub" || !clientReads(c, name) {
				continue
			}
			if narrow && !allow[name] && !(custom && strings.HasPrefix(name, "custom:")) {
				continue
			}
			// Cognito answers "true"/"false" strings here, unlike the id token.
			body[name] = v
		}
		return nil
	})
	if err != nil {
		o.internal(err)
		return
	}
	if code != "" {
		o.bearerError(status, code, "Access token is expired, disabled, or deleted, or the user has globally signed out.")
		return
	}
	writeJSONStatus(o.w, http.StatusOK, body)
}

// checkOAuthAccess verifies an access token the emulator issued, whatever its
// scopes, and returns its pool, user and client; bad is an OAuth error code.
func (e *Emulator) checkOAuthAccess(token string, now time.Time) (u *user, cl *accessClaims, c *appClient, bad string) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, nil, nil, "invalid_token"
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, nil, nil, "invalid_token"
	}
	var claims accessClaims
	if json.Unmarshal(payload, &claims) != nil {
		return nil, nil, nil, "invalid_token"
	}
	p := e.poolOfIssuer(claims.Iss)
	if p == nil || p.Keys.access == nil {
		return nil, nil, nil, "invalid_token"
	}
	if _, err := jwt.Parse(token, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if k := p.Keys.publicKey("access", kid); k != nil {
			return k, nil
		}
		return nil, errors.New("unknown kid")
	},
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation()); err != nil {
		return nil, nil, nil, "invalid_token"
	}
	if claims.TokenUse != "access" || now.Unix() >= claims.Exp {
		return nil, nil, nil, "invalid_token"
	}
	if og := p.Origins[claims.OriginJTI]; og == nil || og.Revoked {
		return nil, nil, nil, "invalid_token"
	}
	u = p.Users[p.userKey(claims.Username)]
	if u == nil || u.Sub != claims.Sub || !u.Enabled {
		return nil, nil, nil, "invalid_token"
	}
	c = p.Clients[claims.ClientID]
	if c == nil {
		return nil, nil, nil, "invalid_token"
	}
	return u, &claims, c, ""
}

// bearerError answers as RFC 6750 says, which Cognito's userInfo follows.
func (o *oauthReq) bearerError(status int, code, desc string) {
	o.w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer error=%q, error_description=%q`, code, desc))
	writeJSONStatus(o.w, status, map[string]string{"error": code, "error_description": desc})
}

// ---- /logout ----

func (o *oauthReq) logout() {
	q := o.r.URL.Query()
	var (
		target string
		oe     *oauthErr
	)
	err := o.locked(func(s *oauthState, now time.Time) error {
		_, c, ok := o.client(q.Get("client_id"))
		if !ok {
			oe = errOAuth("invalid_request")
			return nil
		}
		st := settingsOf(c)
		switch {
		case q.Get("logout_uri") != "":
			target = q.Get("logout_uri")
			if st.configured && !slices.Contains(st.logoutURLs, target) || !st.configured && !st.allowsRedirect(target) {
				oe = errOAuth("redirect_mismatch")
				return nil
			}
		case q.Get("redirect_uri") != "":
			a := readAuthParams(q)
			if a.ResponseType == "" {
				a.ResponseType = "code"
			}
			if _, bad, _ := o.validate(a); bad != nil {
				oe = bad
				return nil
			}
			// This form signs out and shows the sign-in page again.
			target = o.base + "/login?" + a.values().Encode()
		default:
			oe = errOAuth("invalid_request")
			return nil
		}
		if ck, err := o.r.Cookie(loginCookie); err == nil {
			delete(s.Logins, hashToken(ck.Value))
			o.e.dirty = true
		}
		return nil
	})
	if err != nil {
		o.internal(err)
		return
	}
	if oe != nil {
		o.errorPage(http.StatusBadRequest, oe.Code)
		return
	}
	http.SetCookie(o.w, &http.Cookie{Name: loginCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true})
	http.Redirect(o.w, o.r, target, http.StatusFound)
}

// ---- answers ----

func (o *oauthReq) writeOAuthErr(oe *oauthErr) {
	body := map[string]string{"error": oe.Code}
	if oe.Desc != "" {
		body["error_description"] = oe.Desc
	}
	writeJSONStatus(o.w, oe.Status, body)
}

func (o *oauthReq) internal(err error) {
	o.e.logger().Error("emulator: oauth2 endpoint failed", "path", o.r.URL.Path, "err", err.Error())
	writeJSONStatus(o.w, http.StatusInternalServerError, map[string]string{"error": "server_error"})
}
