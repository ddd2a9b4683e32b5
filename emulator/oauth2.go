package emulator

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
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
	// Federations are sign-ins sent to an identity provider (federation.go), by
	// hashToken(state).
	Federations map[string]*fedRequest `json:"federations,omitempty"`
	// SAMLSeen remembers the SAML assertions signed in with, by hashToken of
	// issuer and ID, until they expire (saml.go): a replay is refused.
	SAMLSeen map[string]time.Time `json:"samlSeen,omitempty"`
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
	// A sign-in through a SAML provider (saml.go) keeps what its single
	// logout needs.
	SAMLProvider     string `json:"samlProvider,omitempty"`
	SAMLNameID       string `json:"samlNameId,omitempty"`
	SAMLNameIDFormat string `json:"samlNameIdFormat,omitempty"`
	SAMLSessionIndex string `json:"samlSessionIndex,omitempty"`
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
	if s.Federations == nil {
		s.Federations = map[string]*fedRequest{}
	}
	if s.SAMLSeen == nil {
		s.SAMLSeen = map[string]time.Time{}
	}
}

// prune drops codes and hosted UI sessions that have expired and tells whether
// it dropped any.
func (s *oauthState) prune(now time.Time) bool {
	n := len(s.Codes) + len(s.Logins) + len(s.Federations) + len(s.SAMLSeen)
	for k, exp := range s.SAMLSeen {
		if now.After(exp) {
			delete(s.SAMLSeen, k)
		}
	}
	for k, f := range s.Federations {
		if now.After(f.Expires) {
			delete(s.Federations, k)
		}
	}
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
	return len(s.Codes)+len(s.Logins)+len(s.Federations)+len(s.SAMLSeen) != n
}

// oauthRoutes registers the hosted UI and OAuth 2.0 endpoints, at the root and
// under /{pool}/ (where a self-issuing emulator's OpenID configuration points).
// Each path also gets a method-less pattern, less specific than its method ones,
// that answers other methods with OAuth's JSON 405.
func (e *Emulator) oauthRoutes(mux *http.ServeMux) {
	for _, rt := range []struct {
		methods  []string
		endpoint string
		serve    func(o *oauthReq)
	}{
		{[]string{"GET"}, "/oauth2/authorize", (*oauthReq).authorize},
		{[]string{"GET"}, "/login", (*oauthReq).loginPage},
		{[]string{"POST"}, "/login", (*oauthReq).loginSubmit},
		{[]string{"POST"}, "/oauth2/token", (*oauthReq).token},
		{[]string{"POST"}, "/oauth2/revoke", (*oauthReq).revoke},
		{[]string{"GET", "POST"}, "/oauth2/userInfo", (*oauthReq).userInfo},
		{[]string{"GET"}, "/logout", (*oauthReq).logout},
		{[]string{"GET"}, "/oauth2/idpresponse", (*oauthReq).idpResponse},
		{[]string{"GET"}, "/error", func(o *oauthReq) { o.errorPage(http.StatusBadRequest, o.r.URL.Query().Get("error")) }},
	} {
		for _, prefix := range []string{"", "/{pool}"} {
			for _, m := range rt.methods {
				mux.Handle(m+" "+prefix+rt.endpoint, e.oauthHandler(rt.endpoint, rt.serve))
			}
		}
	}
	// The social providers' stand-in (social_standin.go).
	e.standInRoutes(mux)
	// SAML's endpoints (saml.go), on the domain's root as Cognito's are.
	mux.Handle("POST /saml2/idpresponse", e.oauthHandler("/saml2/idpresponse", (*oauthReq).samlIdpResponse))
	mux.Handle("POST /saml2/logout", e.oauthHandler("/saml2/logout", (*oauthReq).samlLogoutResponse))
	for _, endpoint := range []string{"/oauth2/authorize", "/login", "/oauth2/token", "/oauth2/revoke", "/oauth2/userInfo", "/logout", "/oauth2/idpresponse", "/error"} {
		for _, prefix := range []string{"", "/{pool}"} {
			mux.Handle(prefix+endpoint, e.oauthHandler(endpoint, func(o *oauthReq) {
				o.w.Header().Set("Allow", "GET, POST")
				writeJSONStatus(o.w, http.StatusMethodNotAllowed, map[string]string{"error": "invalid_request"})
			}))
		}
	}
}

// oauthHandler serves one endpoint; a {pool} segment that is no pool ID shape
// (region_id) is not an OAuth path.
func (e *Emulator) oauthHandler(endpoint string, serve func(o *oauthReq)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		poolID := r.PathValue("pool")
		if poolID != "" && !strings.Contains(poolID, "_") {
			if r.Method == http.MethodPost {
				e.serveAPI(w, r)
			} else {
				e.unknownPath(w, r)
			}
			return
		}
		// Browsers and OAuth clients must never cache these answers (RFC 6749 5.1).
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Pragma", "no-cache")
		key := strings.TrimPrefix(endpoint, "/")
		e.mu.Lock()
		e.counts[key]++
		fault, hit := e.hitFault(key)
		e.mu.Unlock()
		run := func(w http.ResponseWriter) {
			serve(&oauthReq{e: e, w: w, r: r, poolID: poolID, base: strings.TrimSuffix(r.URL.Path, endpoint)})
		}
		if !hit {
			run(w)
			return
		}
		serveWithFault(w, r, fault, writeOAuthFault, run)
	})
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

// ---- /oauth2/authorize and /login ----

// authParams are the authorize request's parameters, carried through the login
// form unchanged.
type authParams struct {
	ResponseType, ClientID, RedirectURI, State, Scope string
	IdentityProvider, Nonce, Challenge, Method        string
	IdpIdentifier                                     string
}

func readAuthParams(v url.Values) authParams {
	return authParams{
		ResponseType: v.Get("response_type"), ClientID: v.Get("client_id"), RedirectURI: v.Get("redirect_uri"),
		State: v.Get("state"), Scope: v.Get("scope"), IdentityProvider: v.Get("identity_provider"),
		Nonce: v.Get("nonce"), Challenge: v.Get("code_challenge"), Method: v.Get("code_challenge_method"),
		IdpIdentifier: v.Get("idp_identifier"),
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
	set("idp_identifier", a.IdpIdentifier)
	return v
}

// checked is an authorize request that passed validation.
type checked struct {
	p     *userPool
	c     *appClient
	scope string
	// provider is the external identity provider the request names (by
	// identity_provider or idp_identifier), "" for the sign-in page.
	provider string
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
	if oe := checkAuthorizeFlow(a, s); oe != nil {
		return nil, oe, true
	}
	provider := p.providerNamed(a, o.e)
	if oe := checkAuthorizeProvider(p, s, provider); oe != nil {
		return nil, oe, true
	}
	scope, ok := s.grantScopes(a.Scope, false)
	if !ok {
		return nil, errOAuth("invalid_scope"), true
	}
	if provider == "COGNITO" {
		provider = ""
	}
	return &checked{p: p, c: c, scope: scope, provider: provider}, nil, false
}

// checkAuthorizeFlow refuses a response_type the client's flows do not allow
// and a PKCE challenge other than S256.
func checkAuthorizeFlow(a authParams, s oauthSettings) *oauthErr {
	switch {
	case a.ResponseType != "code" && a.ResponseType != "token":
		return errOAuth("unsupported_response_type")
	case !s.enabled || !slices.Contains(s.flows, a.ResponseType) && !(a.ResponseType == "token" && slices.Contains(s.flows, "implicit")):
		return errOAuth("unauthorized_client")
	case a.Challenge != "" && a.Method != "S256":
		// Cognito supports S256 only.
		return &oauthErr{Code: "invalid_request", Desc: "unsupported code_challenge_method", Status: http.StatusBadRequest}
	case a.Method != "" && a.Challenge == "":
		return &oauthErr{Code: "invalid_request", Desc: "code_challenge is missing", Status: http.StatusBadRequest}
	}
	return nil
}

// checkAuthorizeProvider refuses an identity provider the pool does not have or
// the client does not support ("" or COGNITO is the sign-in page).
func checkAuthorizeProvider(p *userPool, s oauthSettings, provider string) *oauthErr {
	switch {
	case provider != "" && provider != "COGNITO":
		// An external provider: one of the pool's that the client supports.
		if p.identityProvider(provider) == nil || !slices.Contains(s.providers, provider) {
			return &oauthErr{Code: "invalid_request", Desc: "identity provider " + clip(provider) + " is not configured", Status: http.StatusBadRequest}
		}
	case !slices.Contains(s.providers, "COGNITO"):
		// The sign-in page is the COGNITO provider; a client without it has no
		// way to sign in here.
		return &oauthErr{Code: "invalid_request", Desc: "COGNITO is not among the client's SupportedIdentityProviders", Status: http.StatusBadRequest}
	}
	return nil
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
	if chk.provider != "" {
		// Federation: the provider signs the user in (federation.go).
		o.federate(a, chk, chk.provider)
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
		var u *user
		if u, message = signInPageUser(chk.p, f.Get("username"), f.Get("password"), now); message != "" {
			return nil
		}
		// Pre- and PostAuthentication, with the lock released meanwhile (triggers.go).
		if u, message = o.e.hostedUISignInTriggers(o.r.Context(), chk.p, chk.c, u, now); message != "" {
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

// signInPageUser is the user the sign-in page's form names, or the message the
// page shows instead: a wrong password, a user who cannot sign in now, or a
// sign-in the page does not carry through (a temporary password, MFA).
func signInPageUser(p *userPool, username, password string, now time.Time) (*user, string) {
	u := p.findUser(strings.TrimSpace(username))
	if u == nil || !passwordMatches(p, u, password) {
		return nil, "Incorrect username or password."
	}
	if err := checkCanSignIn(u, now); err != nil {
		message := "Your account cannot sign in now."
		if ae, ok := err.(*Error); ok {
			message = ae.Message
		}
		return nil, message
	}
	switch {
	case u.Status == "FORCE_CHANGE_PASSWORD":
		return nil, "This user must change a temporary password, which the emulator's sign-in page does not do: sign in once through the API (cogauth login)."
	case p.MFA == "ON" || p.MFA == "OPTIONAL" && (u.MFA.TOTPEnabled || u.MFA.SMSEnabled || u.MFA.EmailEnabled):
		return nil, "This user signs in with MFA, which the emulator's sign-in page does not ask for."
	}
	return u, ""
}

// ---- /logout ----

func (o *oauthReq) logout() {
	q := o.r.URL.Query()
	var (
		target string
		oe     *oauthErr
		saml   *loginSession
	)
	err := o.locked(func(s *oauthState, now time.Time) error {
		_, c, ok := o.client(q.Get("client_id"))
		if !ok {
			oe = errOAuth("invalid_request")
			return nil
		}
		if target, oe = o.logoutTarget(q, settingsOf(c)); oe != nil {
			return nil
		}
		if ck, err := o.r.Cookie(loginCookie); err == nil {
			if l := s.Logins[hashToken(ck.Value)]; l != nil && l.SAMLProvider != "" {
				saml = l
			}
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
	if saml != nil && o.samlLogout(saml, target) {
		// Single logout: through the SAML IdP first (saml.go).
		return
	}
	http.SetCookie(o.w, &http.Cookie{Name: loginCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true})
	http.Redirect(o.w, o.r, target, http.StatusFound)
}

// logoutTarget is where /logout sends the browser: the logout_uri, which must
// be one of the client's sign-out URLs, or (with redirect_uri and the authorize
// parameters) the sign-in page again.
func (o *oauthReq) logoutTarget(q url.Values, st oauthSettings) (string, *oauthErr) {
	switch {
	case q.Get("logout_uri") != "":
		target := q.Get("logout_uri")
		if st.configured && !slices.Contains(st.logoutURLs, target) || !st.configured && !st.allowsRedirect(target) {
			return "", errOAuth("redirect_mismatch")
		}
		return target, nil
	case q.Get("redirect_uri") != "":
		a := readAuthParams(q)
		if a.ResponseType == "" {
			a.ResponseType = "code"
		}
		if _, bad, _ := o.validate(a); bad != nil {
			return "", bad
		}
		// This form signs out and shows the sign-in page again.
		return o.base + "/login?" + a.values().Encode(), nil
	}
	return "", errOAuth("invalid_request")
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
	o.e.logger().Error("emulator: oauth2 endpoint failed", "path", clipLog(o.r.URL.Path), "err", clipLog(err.Error()))
	writeJSONStatus(o.w, http.StatusInternalServerError, map[string]string{"error": "server_error"})
}
