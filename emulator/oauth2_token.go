package emulator

// The token-side OAuth 2.0 endpoints: /oauth2/token (authorization_code,
// refresh_token, client_credentials), /oauth2/revoke and /oauth2/userInfo.
// Routing, state and the browser-side endpoints are in oauth2.go.

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

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
	if c.Secret != "" && !c.secretMatches(secret) {
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
	ts.issued = &e.issued
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
		body = userInfoClaims(u, c, scopes)
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

// userInfoClaims is userInfo's answer for u: sub, username and the attributes
// client c may read that the access token's scopes release. openid alone
// releases every attribute the client may read; email, phone and profile
// narrow that to theirs (profile includes custom attributes).
func userInfoClaims(u *user, c *appClient, scopes []string) map[string]string {
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
	body := map[string]string{"sub": u.Sub, "username": u.Username}
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
	return body
}

// checkOAuthAccess verifies an access token the emulator issued, whatever its
// scopes, and returns its pool, user and client; bad is an OAuth error code.
func (e *Emulator) checkOAuthAccess(token string, now time.Time) (u *user, cl *accessClaims, c *appClient, bad string) {
	p, claims, ok := e.signedAccessClaims(token)
	if !ok {
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
	return u, claims, c, ""
}

// bearerError answers as RFC 6750 says, which Cognito's userInfo follows.
func (o *oauthReq) bearerError(status int, code, desc string) {
	o.w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer error=%q, error_description=%q`, code, desc))
	writeJSONStatus(o.w, status, map[string]string{"error": code, "error_description": desc})
}
