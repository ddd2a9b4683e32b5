package websession

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cogauth/cogauth/hostedui"
	"github.com/cogauth/cogauth/internal/errkind"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/session"
	"github.com/cogauth/cogauth/store"
)

// maxReturnTo bounds the return_to path kept through a sign-in.
const maxReturnTo = 2048

// safeReturnTo reports whether p is a path on this site: it starts with one "/",
// names no scheme or host (no "//", no "/\"), and has no control characters.
func safeReturnTo(p string) bool {
	if p == "" || len(p) > maxReturnTo || p[0] != '/' || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return false
	}
	if strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return false
	}
	u, err := url.Parse(p)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil && strings.HasPrefix(u.Path, "/")
}

func queryEscape(s string) string { return url.QueryEscape(s) }

// loginState is what the short-lived sign-in cookie carries, sealed: the PKCE
// verifier, state and nonce of one sign-in, and where to go afterwards.
type loginState struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	ReturnTo string `json:"r"`
	Started  int64  `json:"t"` // unix nanoseconds
}

// validState bounds the state parameter: hostedui makes 32 base64url characters.
func validState(s string) bool {
	if len(s) < 16 || len(s) > 64 {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_')
	})
}

// loginCookie names the sign-in cookie of one state, so that sign-ins started in
// two tabs do not overwrite each other.
func (w *Sessions) loginCookie(state string) string { return w.loginPrefix + state[:16] }

func (w *Sessions) login(rw http.ResponseWriter, r *http.Request) {
	rt := "/"
	if v, ok := r.URL.Query()["return_to"]; ok {
		if len(v) != 1 || !safeReturnTo(v[0]) {
			writeJSONError(rw, http.StatusBadRequest, "invalid_return_to", "return_to must be a path on this site")
			return
		}
		rt = v[0]
	}
	req, err := w.hosted.AuthCodeURL(hostedui.AuthorizeOptions{})
	if err != nil {
		w.log.LogAttrs(r.Context(), slogWarn, "cogauth: starting a sign-in", slogErr(err))
		writeJSONError(rw, http.StatusInternalServerError, "internal", "cannot start the sign-in")
		return
	}
	ls := loginState{State: req.State, Nonce: req.Nonce, Verifier: req.Verifier().Reveal(), ReturnTo: rt, Started: w.clk.Now().UnixNano()}
	plain, _ := json.Marshal(ls)
	name := w.loginCookie(req.State)
	sealed, err := seal(w.keys.cookie, plain, []byte(name))
	if err != nil {
		writeJSONError(rw, http.StatusInternalServerError, "internal", "cannot start the sign-in")
		return
	}
	http.SetCookie(rw, &http.Cookie{
		Name: name, Value: b64(sealed), Path: "/", MaxAge: int(w.cfg.Get().LoginTimeout / time.Second),
		Secure: w.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	rw.Header().Set("Cache-Control", "no-store")
	http.Redirect(rw, r, req.URL, http.StatusSeeOther)
}

// callbackError answers a failed callback: a short page with what went wrong and
// a link to start again. Nothing of the request is echoed.
func (w *Sessions) callbackError(rw http.ResponseWriter, r *http.Request, status int, code, msg string) {
	if wantsJSON(r) {
		writeJSONError(rw, status, code, msg)
		return
	}
	h := rw.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	rw.WriteHeader(status)
	_, _ = rw.Write([]byte("Sign-in failed: " + msg + "\nStart again at " + w.cfg.Get().Paths.Login + "\n"))
}

func (w *Sessions) callback(rw http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	ls, ok := w.loginStateOf(rw, r, q.Get("state"))
	if !ok {
		return
	}
	tok, err := w.hosted.Exchange(ctx, hostedui.ResumeAuthRequest(w.redirectURI, ls.State, ls.Nonce, jwt.Secret(ls.Verifier)), q)
	if err != nil {
		w.exchangeError(rw, r, err)
		return
	}
	sub, ok := w.signInSub(rw, r, tok)
	if !ok {
		return
	}
	// A session this browser had before (or one planted in it) ends here: the
	// new session gets a new ID, never the old one.
	w.endPrevious(r)
	w.startSession(rw, r, tok, sub, ls.ReturnTo)
}

// loginStateOf reads (and clears) the login cookie of state; it answers the
// request itself when it returns false.
func (w *Sessions) loginStateOf(rw http.ResponseWriter, r *http.Request, state string) (*loginState, bool) {
	if !validState(state) {
		w.callbackError(rw, r, http.StatusBadRequest, "invalid_state", "the callback has no valid state")
		return nil, false
	}
	name := w.loginCookie(state)
	c, err := r.Cookie(name)
	if err != nil {
		w.callbackError(rw, r, http.StatusBadRequest, "invalid_state", "this sign-in was not started in this browser, or it has expired")
		return nil, false
	}
	// One use only, whatever happens next.
	http.SetCookie(rw, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, Secure: w.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	var ls loginState
	sealed, ok := unb64(c.Value)
	var plain []byte
	if ok {
		plain, err = unseal(w.keys.cookie, sealed, []byte(name))
	}
	if !ok || err != nil || json.Unmarshal(plain, &ls) != nil || !safeReturnTo(ls.ReturnTo) {
		w.callbackError(rw, r, http.StatusBadRequest, "invalid_state", "the sign-in cookie is not valid")
		return nil, false
	}
	if age := w.clk.Now().Sub(time.Unix(0, ls.Started)); age < 0 || age > w.cfg.Get().LoginTimeout {
		w.callbackError(rw, r, http.StatusBadRequest, "login_expired", "the sign-in took too long; start again")
		return nil, false
	}
	return &ls, true
}

// exchangeError answers a callback whose code exchange failed.
func (w *Sessions) exchangeError(rw http.ResponseWriter, r *http.Request, err error) {
	ctx := r.Context()
	var he *hostedui.Error
	switch {
	case errors.Is(err, hostedui.ErrStateMismatch):
		w.callbackError(rw, r, http.StatusBadRequest, "invalid_state", "the callback's state does not match this sign-in")
	case errors.Is(err, hostedui.ErrNonceMismatch):
		w.callbackError(rw, r, http.StatusBadRequest, "invalid_nonce", "the id token's nonce does not match this sign-in")
	case errors.Is(err, hostedui.ErrInvalidGrant):
		w.callbackError(rw, r, http.StatusBadRequest, "invalid_grant", "the sign-in code was refused (used already, or expired)")
	case errkind.Retryable(err):
		w.log.LogAttrs(ctx, slogWarn, "cogauth: sign-in code exchange failed", slogErr(err))
		w.callbackError(rw, r, http.StatusBadGateway, "unavailable", "the sign-in service did not answer; try again")
	case errors.As(err, &he) && he.Endpoint == "authorize":
		w.callbackError(rw, r, http.StatusBadRequest, "access_denied", "the sign-in was not completed ("+he.Code+")")
	default:
		w.log.LogAttrs(ctx, slogWarn, "cogauth: sign-in code exchange failed", slogErr(err))
		w.callbackError(rw, r, http.StatusBadGateway, "exchange_failed", "the sign-in code could not be exchanged")
	}
}

// signInSub verifies the sign-in's id token and returns its sub; it answers
// the request itself when it returns false.
func (w *Sessions) signInSub(rw http.ResponseWriter, r *http.Request, tok *hostedui.Tokens) (string, bool) {
	ctx := r.Context()
	if tok.IDToken == "" {
		w.callbackError(rw, r, http.StatusBadGateway, "no_id_token", "the sign-in returned no id token (the openid scope is needed)")
		return "", false
	}
	idt, err := w.cfg.Get().Verifier.Verify(ctx, tok.IDToken.Reveal())
	if err == nil && (idt.Use() != jwt.IDToken || !containsString(idt.Claims().Aud, w.client)) {
		err = errors.New("not an id token of this app client")
	}
	if err != nil {
		w.log.LogAttrs(ctx, slogWarn, "cogauth: sign-in id token refused", slogErr(err))
		if errors.Is(err, jwt.ErrJWKSFetch) {
			w.callbackError(rw, r, http.StatusBadGateway, "unavailable", "the sign-in service's keys could not be read; try again")
		} else {
			w.callbackError(rw, r, http.StatusBadRequest, "invalid_id_token", "the id token of the sign-in is not valid")
		}
		return "", false
	}
	sub := idt.Claims().Sub
	if !validSub(sub) {
		w.callbackError(rw, r, http.StatusBadRequest, "invalid_id_token", "the id token has no valid sub")
		return "", false
	}
	return sub, true
}

// endPrevious ends the session the request's cookies name, if any.
func (w *Sessions) endPrevious(r *http.Request) {
	ctx := r.Context()
	if w.cookieAEADs != nil {
		if cs, err := w.openChunks(r); err == nil && cs != nil {
			if l, err := w.lookupCookie(ctx, cs); err == nil {
				w.end(ctx, l, l.rec.Load().m, true, "replaced_at_sign_in")
			}
		}
	} else if old, err := r.Cookie(w.cookieName); err == nil {
		if id, ok := parseSessionID(old.Value); ok {
			if l, err := w.lookup(ctx, id); err == nil {
				w.end(ctx, l, l.rec.Load().m, true, "replaced_at_sign_in")
			}
		}
	}
}

// startSession stores a new session for the sign-in's tokens, sets its
// cookies and sends the browser to returnTo.
func (w *Sessions) startSession(rw http.ResponseWriter, r *http.Request, tok *hostedui.Tokens, sub, returnTo string) {
	ctx := r.Context()
	id, err := newSessionID()
	if err != nil {
		w.callbackError(rw, r, http.StatusInternalServerError, "internal", "cannot create the session")
		return
	}
	l, err := w.create(r, id, tok, sub)
	if err != nil {
		switch {
		case errors.Is(err, session.ErrInvalidTokens):
			w.callbackError(rw, r, http.StatusBadRequest, "invalid_tokens", "the sign-in's tokens are not for this app")
		default:
			w.log.LogAttrs(ctx, slogWarn, "cogauth: storing a new web session", slogErr(err))
			w.callbackError(rw, r, http.StatusServiceUnavailable, "unavailable", "the session could not be stored; try again")
		}
		return
	}
	if l.ck != nil {
		if err := w.syncCookies(ctx, rw, r, l, 0); err != nil {
			w.log.LogAttrs(ctx, slogWarn, "cogauth: writing the session cookies", slogErr(err))
			w.callbackError(rw, r, http.StatusInternalServerError, "internal", "the session could not be written")
			return
		}
	} else {
		w.setCookie(rw, id)
	}
	rw.Header().Set("Cache-Control", "no-store")
	http.Redirect(rw, r, returnTo, http.StatusSeeOther)
}

// create stores a new session for the tokens of a sign-in.
func (w *Sessions) create(r *http.Request, id sessionID, tok *hostedui.Tokens, sub string) (*live, error) {
	ctx := r.Context()
	key := w.keys.name(id)
	name := key.String()
	aead, err := w.keys.sessionAEAD(id)
	if err != nil {
		return nil, err
	}
	var st *sealedStore
	var mst store.Store
	if w.cookieAEADs != nil {
		st, mst = w.sealedIn(store.NewMemory(), name, aead)
	} else {
		st, mst = w.sealed(name, aead)
		// A new random ID: its record cannot exist, so the first write needs
		// no read (were it there, the write's compare-and-swap would refuse).
		st.remember(&bundle{})
	}
	mgr, err := w.newManager(mst, "")
	if err != nil {
		return nil, err
	}
	s, err := mgr.Import(ctx, session.ImportInput{
		AccessToken: tok.AccessToken, IDToken: tok.IDToken, RefreshToken: tok.RefreshToken, Source: session.SourceHostedUI,
	})
	if err != nil {
		mgr.Close()
		return nil, err
	}
	if s.UserSub != sub {
		mgr.Close()
		_ = w.deleteRecords(ctx, name)
		return nil, session.ErrInvalidTokens
	}
	now := w.clk.Now()
	m := &meta{V: 1, User: s.Username, Sub: sub, Created: now.UnixNano(), Seen: now.UnixNano()}
	if c := s.Tokens.Access.Claims(); validOriginJTI(c.OriginJTI) {
		m.OriginJTI = c.OriginJTI
		m.AccessLife = int64(max(0, s.Tokens.Access.ExpiresAt().Sub(s.Tokens.Access.IssuedAt())) / time.Second)
	}
	v, err := w.putMeta(ctx, st, m, 0)
	if err != nil {
		mgr.Close()
		_ = w.deleteRecords(ctx, name)
		return nil, err
	}
	// Cookie-only sessions have no index (SignOutUser needs a store).
	if w.cookieAEADs == nil {
		if err := w.updateIndex(ctx, sub, func(list []indexEntry) []indexEntry {
			return append(list, indexEntry{Name: name, User: s.Username, Expires: now.Add(w.cfg.Get().AbsoluteTimeout).UnixNano(),
				OriginJTI: m.OriginJTI, AccessLife: m.AccessLife})
		}); err != nil {
			// The session works without; SignOutUser will not reach it.
			w.log.LogAttrs(ctx, slogWarn, "cogauth: could not index a new web session", slogErr(err))
		}
	}
	l := &live{key: key, name: name, st: st, mgr: mgr}
	if w.cookieAEADs != nil {
		l.ck = &cookieLive{id: id}
	}
	l.rec.Store(&metaState{m: m, version: v})
	got, evicted := w.cache.add(l)
	for _, e := range evicted {
		e.mgr.Close()
	}
	return got, nil
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (w *Sessions) logout(rw http.ResponseWriter, r *http.Request) {
	// The session's record, not its tokens: a sign-out needs no refresh, so
	// it works while Cognito is down (the revocation at Cognito is then
	// logged as failed and the session ends here all the same).
	l, _, err := w.liveOf(r)
	if err == nil && l != nil {
		if err = w.check(r.Context(), l, w.clk.Now()); err == nil {
			// Ended here and on every replica that heard; a failed revocation
			// or delete is logged by end, and the browser signs out all the
			// same.
			_ = w.end(r.Context(), l, l.rec.Load().m, true, "user")
		}
	}
	if err != nil && !errors.Is(err, errNoSession) {
		// The store is unreachable: the session cannot be deleted now. Say so
		// rather than pretend.
		w.unavailable(rw, r, err)
		return
	}
	w.clearCookie(rw, r)
	rw.Header().Set("Cache-Control", "no-store")
	http.Redirect(rw, r, w.logoutURL, http.StatusSeeOther)
}

// meView is what the me route answers: claims, never a token.
type meView struct {
	Username string         `json:"username"`
	Sub      string         `json:"sub"`
	Email    string         `json:"email,omitempty"`
	Groups   []string       `json:"groups"`
	Scope    string         `json:"scope,omitempty"`
	AuthTime int64          `json:"auth_time,omitempty"`
	Expires  int64          `json:"expires_at"`
	Claims   map[string]any `json:"claims,omitempty"` // the id token's
}

func (w *Sessions) me(rw http.ResponseWriter, r *http.Request) {
	uc, err := w.userOf(rw, r)
	u := uc.user()
	if err != nil && !errors.Is(err, errNoSession) {
		w.unavailable(rw, r, err)
		return
	}
	if u == nil {
		if errors.Is(err, errNoSession) {
			w.clearCookie(rw, r)
		}
		rw.Header().Set("WWW-Authenticate", `Cookie realm="cogauth"`)
		writeJSON(rw, http.StatusUnauthorized, map[string]string{"error": "unauthenticated", "message": "sign in first", "login": w.cfg.Get().Paths.Login})
		return
	}
	v := meView{Username: u.Username, Sub: u.Sub, Groups: u.Access.Groups, Scope: u.Access.Scope, Expires: u.Access.Exp.Unix()}
	if v.Groups == nil {
		v.Groups = []string{}
	}
	if u.ID != nil {
		v.Email = u.ID.Email
		if !u.ID.AuthTime.IsZero() {
			v.AuthTime = u.ID.AuthTime.Unix()
		}
		v.Claims = u.ID.Raw()
	}
	writeJSON(rw, http.StatusOK, v)
}
