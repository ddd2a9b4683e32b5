package emulator

// The stand-in for Google, Facebook, Login with Amazon and Sign in with Apple,
// served by the emulator under /_social/{google,facebook,loginwithamazon,
// signinwithapple}/: an authorize page where one picks a user signed in before
// or types one (e-mail and name; for Apple, whether to hide the e-mail behind
// a private relay address), and the token, userinfo (attributes_url) and JWKS
// endpoints, answering in each provider's claim shapes:
//
//   - Google: id token and userinfo with sub (21 digits), email,
//     email_verified (boolean), name, given_name, family_name;
//   - Facebook: no id token; /me answers id (digits), name, email;
//   - Login with Amazon: no id token; the profile answers user_id
//     (amzn1.account.…), name, email;
//   - Sign in with Apple: id token only, with sub (000123.{32 hex}.1234),
//     email (a …@privaterelay.appleid.com address when hidden),
//     email_verified and is_private_email as the strings Apple sends.
//
// The subjects are derived from the e-mail address, so the same address is
// the same user every time. The stand-in only sends the browser back to this
// emulator's /oauth2/idpresponse; its codes and access tokens live in memory
// (5 minutes and 1 hour, at most 1,000 of each).

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"html/template"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	standInPrefix   = "/_social/"
	standInCodeTTL  = 5 * time.Minute
	standInTokenTTL = time.Hour
	maxStandIn      = 1000
)

var standInTypes = []string{"Google", "Facebook", "LoginWithAmazon", "SignInWithApple"}

func standInHasIDToken(typ string) bool { return typ == "Google" || typ == "SignInWithApple" }

// standInIssuer is the iss of the stand-in's id tokens: the provider's own.
func standInIssuer(typ, _ string) string { return socialDefaults[typ]["oidc_issuer"] }

// standInState is the stand-in's memory.
type standInState struct {
	mu     sync.Mutex
	key    *rsa.PrivateKey
	kid    string
	codes  map[string]*standInGrant // by code
	tokens map[string]*standInGrant // by access token
	users  map[string][]standInUser // by type: users signed in before, newest last
}

type standInUser struct{ Email, Name string }

type standInGrant struct {
	Type, ClientID, RedirectURI, Nonce string
	Profile                            map[string]any
	Expires                            time.Time
}

// standInProfile is the user's claims in typ's shapes.
func standInProfile(typ string, u standInUser, hide bool) map[string]any {
	sum := sha256.Sum256([]byte(strings.ToLower(typ + "|" + u.Email)))
	digits := func(n int) string {
		v := new(big.Int).SetBytes(sum[:])
		s := v.String()
		return "1" + s[:n-1]
	}
	given, family, _ := strings.Cut(u.Name, " ")
	switch typ {
	case "Google":
		return map[string]any{"sub": digits(21), "email": u.Email, "email_verified": true, "name": u.Name, "given_name": given, "family_name": family}
	case "Facebook":
		return map[string]any{"id": digits(17), "name": u.Name, "email": u.Email}
	case "LoginWithAmazon":
		return map[string]any{"user_id": "amzn1.account." + base32.StdEncoding.EncodeToString(sum[:])[:28], "name": u.Name, "email": u.Email}
	default: // SignInWithApple
		email, private := u.Email, "false"
		if hide {
			email, private = strings.ToLower(base32.StdEncoding.EncodeToString(sum[8:]))[:10]+"@privaterelay.appleid.com", "true"
		}
		return map[string]any{"sub": fmt.Sprintf("000%03d.%s.%04d", binary.BigEndian.Uint16(sum[0:2])%1000, hex.EncodeToString(sum[2:18]), binary.BigEndian.Uint16(sum[18:20])%10000),
			"email": email, "email_verified": "true", "is_private_email": private}
	}
}

func (e *Emulator) standInRoutes(mux *http.ServeMux) {
	for _, typ := range standInTypes {
		p := standInPrefix + strings.ToLower(typ)
		mux.Handle("GET "+p+"/authorize", e.standInHandler(typ, (*Emulator).standInAuthorizePage))
		mux.Handle("POST "+p+"/authorize", e.standInHandler(typ, (*Emulator).standInAuthorizeSubmit))
		mux.Handle(p+"/token", e.standInHandler(typ, (*Emulator).standInToken))
		mux.Handle(p+"/userinfo", e.standInHandler(typ, (*Emulator).standInUserInfo))
		mux.Handle("GET "+p+"/jwks", e.standInHandler(typ, (*Emulator).standInJWKS))
	}
}

func (e *Emulator) standInHandler(typ string, fn func(*Emulator, string, http.ResponseWriter, *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		if err := r.ParseForm(); err != nil {
			writeJSONStatus(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
			return
		}
		fn(e, typ, w, r)
	})
}

// standInRedirectOK tells whether uri is this emulator's idpresponse URL: the
// stand-in sends the browser nowhere else.
func standInRedirectOK(r *http.Request, uri string) bool {
	u, err := url.Parse(uri)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host == r.Host && u.Path == "/oauth2/idpresponse" && u.RawQuery == "" && u.User == nil
}

var standInTemplate = template.Must(template.New("standin").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} (cogauth stand-in)</title>
<style>body{font-family:sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem}label,input,button{display:block;width:100%;margin:.4rem 0}input,button{padding:.5rem;font-size:1rem;box-sizing:border-box}.pick{background:#eef}.note{color:#666;font-size:.85rem}</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="note">A stand-in for {{.Title}} served by the cogauth emulator: no account leaves this machine.</p>
{{range .Known}}<form method="post" action="{{$.Action}}">{{range $k, $vs := $.Params}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">{{end}}{{end}}<input type="hidden" name="email" value="{{.Email}}"><input type="hidden" name="name" value="{{.Name}}"><button class="pick" type="submit" name="pick">{{.Name}} &lt;{{.Email}}&gt;</button></form>
{{end}}<form method="post" action="{{.Action}}" id="standInForm">
{{range $k, $vs := .Params}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">
{{end}}{{end}}<label for="email">E-mail</label>
<input id="email" name="email" type="email" required autofocus>
<label for="name">Name</label>
<input id="name" name="name" type="text">
{{if .Apple}}<label><input id="hide" name="hide" type="checkbox" value="true" checked style="display:inline;width:auto"> Hide my e-mail</label>
{{end}}<button type="submit" id="standInSubmit">Continue</button>
</form>
</body>
</html>
`))

var standInTitles = map[string]string{"Google": "Sign in with Google", "Facebook": "Log in with Facebook", "LoginWithAmazon": "Login with Amazon", "SignInWithApple": "Sign in with Apple"}

// standInParams are the authorize parameters carried through the page.
func standInParams(v url.Values) url.Values {
	out := url.Values{}
	for _, k := range []string{"client_id", "redirect_uri", "state", "nonce", "scope", "response_type"} {
		if s := v.Get(k); s != "" && len(s) <= 2048 {
			out.Set(k, s)
		}
	}
	return out
}

func (e *Emulator) standInAuthorizePage(typ string, w http.ResponseWriter, r *http.Request) {
	q := standInParams(r.Form)
	if !standInRedirectOK(r, q.Get("redirect_uri")) || q.Get("client_id") == "" || q.Get("response_type") != "code" {
		http.Error(w, "The stand-in only answers this emulator's /oauth2/idpresponse with a code.", http.StatusBadRequest)
		return
	}
	e.standIn.mu.Lock()
	known := slices.Clone(e.standIn.users[typ])
	e.standIn.mu.Unlock()
	slices.Reverse(known)
	var buf bytes.Buffer
	if err := standInTemplate.Execute(&buf, struct {
		Title, Action string
		Params        url.Values
		Known         []standInUser
		Apple         bool
	}{standInTitles[typ], r.URL.Path, q, known, typ == "SignInWithApple"}); err != nil {
		http.Error(w, "template", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	_, _ = w.Write(buf.Bytes())
}

func (e *Emulator) standInAuthorizeSubmit(typ string, w http.ResponseWriter, r *http.Request) {
	q := standInParams(r.PostForm)
	email, name := strings.TrimSpace(r.PostForm.Get("email")), strings.TrimSpace(r.PostForm.Get("name"))
	if !standInRedirectOK(r, q.Get("redirect_uri")) || q.Get("client_id") == "" || email == "" || len(email) > 256 || len(name) > 256 || !strings.Contains(email, "@") {
		http.Error(w, "The stand-in needs an e-mail address and this emulator's /oauth2/idpresponse.", http.StatusBadRequest)
		return
	}
	if name == "" {
		name, _, _ = strings.Cut(email, "@")
	}
	u := standInUser{Email: email, Name: name}
	code := base64.RawURLEncoding.EncodeToString(randomStandIn(24))
	now := e.Now()
	s := &e.standIn
	s.mu.Lock()
	s.pruneLocked(now)
	if s.codes == nil {
		s.codes, s.tokens, s.users = map[string]*standInGrant{}, map[string]*standInGrant{}, map[string][]standInUser{}
	}
	if len(s.codes) >= maxStandIn {
		s.mu.Unlock()
		http.Error(w, "Too many sign-ins under way.", http.StatusServiceUnavailable)
		return
	}
	s.codes[code] = &standInGrant{Type: typ, ClientID: q.Get("client_id"), RedirectURI: q.Get("redirect_uri"), Nonce: q.Get("nonce"),
		Profile: standInProfile(typ, u, r.PostForm.Get("hide") == "true"), Expires: now.Add(standInCodeTTL)}
	list := slices.DeleteFunc(s.users[typ], func(k standInUser) bool { return k.Email == u.Email })
	if list = append(list, u); len(list) > 20 {
		list = list[len(list)-20:]
	}
	s.users[typ] = list
	s.mu.Unlock()
	v := url.Values{"code": {code}}
	if st := q.Get("state"); st != "" {
		v.Set("state", st)
	}
	http.Redirect(w, r, q.Get("redirect_uri")+"?"+v.Encode(), http.StatusFound)
}

func (s *standInState) pruneLocked(now time.Time) {
	for k, g := range s.codes {
		if now.After(g.Expires) {
			delete(s.codes, k)
		}
	}
	for k, g := range s.tokens {
		if now.After(g.Expires) {
			delete(s.tokens, k)
		}
	}
}

func randomStandIn(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("emulator: random source failed")
	}
	return b
}

// signingKey returns the stand-in's id token key, made on first use.
func (s *standInState) signingKey() (*rsa.PrivateKey, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.key == nil {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, "", err
		}
		s.key, s.kid = k, keyID(&k.PublicKey)
	}
	return s.key, s.kid, nil
}

func (e *Emulator) standInToken(typ string, w http.ResponseWriter, r *http.Request) {
	code := r.Form.Get("code")
	now := e.Now()
	s := &e.standIn
	s.mu.Lock()
	g := s.codes[code]
	delete(s.codes, code)
	ok := g != nil && g.Type == typ && !now.After(g.Expires) && g.ClientID == r.Form.Get("client_id") && g.RedirectURI == r.Form.Get("redirect_uri")
	if ok && len(s.tokens) >= maxStandIn {
		s.pruneLocked(now)
		ok = len(s.tokens) < maxStandIn
	}
	var at string
	if ok {
		at = base64.RawURLEncoding.EncodeToString(randomStandIn(32))
		s.tokens[at] = &standInGrant{Type: typ, ClientID: g.ClientID, Profile: g.Profile, Expires: now.Add(standInTokenTTL)}
	}
	s.mu.Unlock()
	if !ok {
		writeJSONStatus(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
		return
	}
	out := map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": int(standInTokenTTL / time.Second)}
	if standInHasIDToken(typ) {
		key, kid, err := s.signingKey()
		if err != nil {
			writeJSONStatus(w, http.StatusInternalServerError, map[string]string{"error": "server_error"})
			return
		}
		claims := jwt.MapClaims{"iss": standInIssuer(typ, ""), "aud": g.ClientID, "iat": now.Unix(), "exp": now.Add(standInTokenTTL).Unix(), "auth_time": now.Unix()}
		if g.Nonce != "" {
			claims["nonce"] = g.Nonce
		}
		for k, v := range g.Profile {
			claims[k] = v
		}
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
		tok.Header["kid"] = kid
		if out["id_token"], err = tok.SignedString(key); err != nil {
			writeJSONStatus(w, http.StatusInternalServerError, map[string]string{"error": "server_error"})
			return
		}
	}
	writeJSONStatus(w, http.StatusOK, out)
}

func (e *Emulator) standInUserInfo(typ string, w http.ResponseWriter, r *http.Request) {
	at := r.Form.Get("access_token")
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		at = strings.TrimPrefix(h, "Bearer ")
	}
	now := e.Now()
	e.standIn.mu.Lock()
	g := e.standIn.tokens[at]
	e.standIn.mu.Unlock()
	if g == nil || g.Type != typ || now.After(g.Expires) {
		writeJSONStatus(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
		return
	}
	out := map[string]any{}
	fields := r.Form.Get("fields") // Facebook's fields=id,name,email
	for k, v := range g.Profile {
		if fields == "" || slices.Contains(strings.Split(fields, ","), k) {
			out[k] = v
		}
	}
	writeJSONStatus(w, http.StatusOK, out)
}

func (e *Emulator) standInJWKS(typ string, w http.ResponseWriter, r *http.Request) {
	key, kid, err := e.standIn.signingKey()
	if err != nil {
		writeJSONStatus(w, http.StatusInternalServerError, map[string]string{"error": "server_error"})
		return
	}
	writeJSONStatus(w, http.StatusOK, map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
		"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()), "e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
	}}})
}
