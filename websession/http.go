package websession

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/textproto"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/cogauth/cogauth/internal/errkind"
	"github.com/cogauth/cogauth/internal/refresh"
	"github.com/cogauth/cogauth/session"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

func writeJSON(rw http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		b.Reset()
		b.WriteString(`{"error":"internal"}` + "\n")
	}
	h := rw.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	rw.WriteHeader(status)
	_, _ = rw.Write(b.Bytes())
}

func writeJSONError(rw http.ResponseWriter, status int, code, msg string) {
	writeJSON(rw, status, map[string]string{"error": code, "message": msg})
}

// wantsJSON tells fetch/XHR requests (answered 401 JSON) from navigations
// (redirected to the login page).
func wantsJSON(r *http.Request) bool {
	if m := r.Header.Get("Sec-Fetch-Mode"); m != "" {
		return m != "navigate"
	}
	if r.Header.Get("X-Requested-With") != "" {
		return true
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return true
	}
	return !strings.Contains(r.Header.Get("Accept"), "text/html")
}

// Handler serves the routes at Config.Paths and passes every other request to
// app, with the session loaded (UserFrom) and cross-origin requests that change
// state refused. Wrap handlers that need a user in Require.
//
// A request whose path is clean and names no route goes to app directly; the
// routes' ServeMux sees the rest (the routes, and the paths it would redirect),
// so the routing is the mux's but costs the app's requests nothing.
func (w *Sessions) Handler(app http.Handler) http.Handler {
	mux := http.NewServeMux()
	w.register(mux)
	mux.Handle("/", app)
	return w.Middleware(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if w.appPath(r) {
			app.ServeHTTP(rw, r)
			return
		}
		mux.ServeHTTP(rw, r)
	}))
}

// appPath reports whether Handler's mux would give r to the app's "/" as it
// is: not CONNECT (which the mux routes by its raw host and path), a path that
// is absolute and clean (the mux redirects others) and none of the routes'.
func (w *Sessions) appPath(r *http.Request) bool {
	p := r.URL.Path
	if r.Method == http.MethodConnect || p == "" || p[0] != '/' {
		return false
	}
	if w.isRoute(p) {
		return false
	}
	// path.Clean, as the mux applies it, keeping a trailing slash; it
	// allocates only for a path it changes.
	c := path.Clean(p)
	if p[len(p)-1] == '/' && c != "/" {
		c += "/"
	}
	return c == p
}

// isRoute reports whether p is one of the routes' paths.
func (w *Sessions) isRoute(p string) bool {
	rp := &w.cfg.Get().Paths
	return p == rp.Login || p == rp.Callback || p == rp.Logout || p == rp.Me
}

// Routes returns the routes alone, for mounting in another router (chi, echo,
// gin) under the same paths. Put Middleware in front of them, or of the whole
// router: the routes need its CSRF check.
func (w *Sessions) Routes() http.Handler {
	mux := http.NewServeMux()
	w.register(mux)
	return mux
}

func (w *Sessions) register(mux *http.ServeMux) {
	p := w.cfg.Get().Paths
	mux.HandleFunc("GET "+p.Login, w.login)
	mux.HandleFunc("GET "+p.Callback, w.callback)
	mux.HandleFunc("POST "+p.Logout, w.logout)
	mux.HandleFunc("GET "+p.Me, w.me)
	// Other methods get 405 rather than falling through to the app's "/".
	for path, allow := range map[string]string{p.Login: "GET, HEAD", p.Callback: "GET, HEAD", p.Logout: "POST", p.Me: "GET, HEAD"} {
		mux.HandleFunc(path, func(rw http.ResponseWriter, r *http.Request) {
			rw.Header().Set("Allow", allow)
			writeJSONError(rw, http.StatusMethodNotAllowed, "method_not_allowed", "use "+allow)
		})
	}
}

// Middleware loads the request's session, refreshing it when due, and refuses
// cross-origin requests that change state (http.CrossOriginProtection) with 403.
// A request without a session goes on without a user; Require turns those away.
func (w *Sessions) Middleware(next http.Handler) http.Handler {
	return w.cop.Handler(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if w.isRoute(r.URL.Path) {
			// The routes load what they need: a sign-in or sign-out needs no
			// tokens, so it must not wait for, or fail with, a refresh.
			next.ServeHTTP(rw, r)
			return
		}
		u, err := w.userOf(rw, r)
		switch {
		case err == nil && u != nil:
			r = r.WithContext(u)
		case errors.Is(err, errNoSession):
			w.clearCookie(rw, r)
		case err != nil:
			w.unavailable(rw, r, err)
			return
		}
		next.ServeHTTP(rw, r)
	}))
}

// Unavailable answers a request as the middleware does when the user's session
// is kept but cannot be served now: for a handler whose User.Token or
// User.Session failed with a retryable error (the refresh still under way, the
// token endpoint held), so that the client gets the same 503 with Retry-After,
// never a 401 or a 502.
func (w *Sessions) Unavailable(rw http.ResponseWriter, r *http.Request, err error) {
	w.unavailable(rw, r, err)
}

// unavailable answers a request whose session is kept but cannot be served now
// (store or Cognito unreachable or late, tokens dead meanwhile): 503 with
// Retry-After, as JSON for API requests and as a short page for navigations.
// It is never a 401 and never ends the session.
func (w *Sessions) unavailable(rw http.ResponseWriter, r *http.Request, err error) {
	level := slog.LevelWarn
	if held := (*refresh.HeldError)(nil); errors.As(err, &held) || errors.Is(err, session.ErrRefreshPending) {
		// The breaker logged the outage once; one line per request would not
		// say more.
		level = slog.LevelDebug
	}
	w.log.LogAttrs(r.Context(), level, "cogauth: web session unavailable", slogErr(err))
	secs := retryAfter(err)
	h := rw.Header()
	h.Set("Retry-After", strconv.Itoa(secs))
	if wantsJSON(r) {
		writeJSON(rw, http.StatusServiceUnavailable, unavailableBody{
			Error: "temporarily_unavailable", Message: "the session is kept but cannot be served right now; try again",
			Temporary: true, RetryAfter: secs,
		})
		return
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	rw.WriteHeader(http.StatusServiceUnavailable)
	_, _ = io.WriteString(rw, unavailablePage)
}

// unavailableBody is the JSON of a 503.
type unavailableBody struct {
	Error      string `json:"error"`
	Message    string `json:"message"`
	Temporary  bool   `json:"temporary"`
	RetryAfter int    `json:"retry_after"`
}

// unavailablePage is what a navigation gets with a 503: nothing of the request
// is echoed.
const unavailablePage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Try again in a moment</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><h1>Try again in a moment</h1>
<p>We could not load your session just now. You are still signed in: reload this page in a few seconds.</p>
</body></html>
`

// retryAfter is the Retry-After of a 503, in whole seconds from 1 to 30: the
// breaker's hold when the token endpoint is held, 1 for a refresh still under
// way, else 5.
func retryAfter(err error) int {
	secs := 5
	var held *refresh.HeldError
	switch {
	case errors.As(err, &held):
		secs = int((held.RetryAfter + time.Second - 1) / time.Second)
	case errors.Is(err, session.ErrRefreshPending):
		secs = 1
	}
	return min(max(secs, 1), 30)
}

// Require passes requests with a signed-in user to next; others get 401 JSON
// (fetch, XHR) or a redirect to the login route that comes back here
// (navigations).
func (w *Sessions) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if _, ok := UserFrom(r.Context()); ok {
			next.ServeHTTP(rw, r)
			return
		}
		w.unauthenticated(rw, r)
	})
}

func (w *Sessions) unauthenticated(rw http.ResponseWriter, r *http.Request) {
	if wantsJSON(r) {
		rw.Header().Set("WWW-Authenticate", `Cookie realm="cogauth"`)
		writeJSON(rw, http.StatusUnauthorized, map[string]string{"error": "unauthenticated", "message": "sign in first", "login": w.cfg.Get().Paths.Login})
		return
	}
	to := w.cfg.Get().Paths.Login
	if rt := r.URL.RequestURI(); safeReturnTo(rt) {
		to += "?return_to=" + queryEscape(rt)
	}
	rw.Header().Set("Cache-Control", "no-store")
	http.Redirect(rw, r, to, http.StatusSeeOther)
}

// liveOf returns the request's live session from its cookie, without its
// tokens: (nil, nil, nil) when there is no cookie, errNoSession when the
// cookie names no session that lives.
func (w *Sessions) liveOf(r *http.Request) (*live, *cookieState, error) {
	if c, ok := r.Context().(*userCtx); ok {
		return c.u.l, nil, nil
	}
	if u, ok := UserFrom(r.Context()); ok {
		return u.l, nil, nil
	}
	ctx := r.Context()
	if w.cookieAEADs != nil {
		cs, err := w.openChunks(r)
		var l *live
		if err == nil && cs != nil {
			l, err = w.lookupCookie(ctx, cs)
		}
		if errors.Is(err, ErrCookieRefused) {
			w.log.LogAttrs(ctx, slog.LevelInfo, "cogauth: signed out", slogErr(err))
			return nil, nil, errNoSession
		}
		if err != nil || cs == nil {
			return nil, nil, err
		}
		return l, cs, nil
	}
	v, ok := cookieValue(r, w.cookieName)
	if !ok {
		return nil, nil, nil
	}
	id, ok := parseSessionID(v)
	if !ok {
		return nil, nil, errNoSession
	}
	l, err := w.lookup(ctx, id)
	return l, nil, err
}

// userOf returns the request's user, as a context carrying it: from the
// context when Middleware ran, else from the cookie. (nil, nil): no cookie.
func (w *Sessions) userOf(rw http.ResponseWriter, r *http.Request) (*userCtx, error) {
	if c, ok := r.Context().(*userCtx); ok {
		return c, nil
	}
	if u, ok := UserFrom(r.Context()); ok {
		return &userCtx{Context: r.Context(), u: *u}, nil
	}
	ctx := r.Context()
	l, cs, err := w.liveOf(r)
	if l == nil || err != nil {
		return nil, err
	}
	// The wait for a refresh is real time (a timer), whatever clock decides
	// expiry: the request's RefreshWait starts here.
	start := time.Now()
	if err := w.check(ctx, l, w.clk.Now()); err != nil {
		return nil, err
	}
	s, err := l.mgr.Fetch(ctx, session.FetchOptions{MaxWait: w.cfg.Get().RefreshWait})
	if err != nil {
		if errors.Is(err, session.ErrSignedOut) {
			// Cognito ended it (revoked, expired refresh token): end it here too.
			// Records already gone mean it was ended elsewhere (another replica
			// met Cognito's answer first, SignOutUser), which counted it: only
			// the clean-up is left to do.
			reason := "ended_by_service"
			if so := (*session.SignedOutError)(nil); errors.As(err, &so) && so.Reason == session.ReasonNone {
				reason = ""
			}
			w.end(ctx, l, l.rec.Load().m, false, reason)
			return nil, errNoSession
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !errkind.Retryable(err) {
			w.log.LogAttrs(ctx, slog.LevelWarn, "cogauth: web session refresh failed", slogErr(err))
		}
		return nil, &unavailableError{err}
	}
	if cs != nil {
		if err := w.syncCookies(ctx, rw, r, l, cs.gen); err != nil {
			// This request is served; the next one writes the cookies.
			w.log.LogAttrs(ctx, slog.LevelWarn, "cogauth: could not write the session cookies", slogErr(err))
		}
	}
	return w.newUser(ctx, l, s, start.Add(w.cfg.Get().RefreshWait)), nil
}

// newUser returns the request's context with its user: one allocation for both.
// waitUntil is the end of the request's RefreshWait.
func (w *Sessions) newUser(ctx context.Context, l *live, s *session.Session, waitUntil time.Time) *userCtx {
	c := &userCtx{Context: ctx, u: User{Username: s.Username, Sub: s.UserSub, Access: s.Tokens.Access.Claims(), w: w, l: l, waitUntil: waitUntil}}
	if s.Tokens.ID != nil {
		c.u.ID = s.Tokens.ID.Claims()
	}
	return c
}

// cookieValue is r.Cookie(name).Value without its allocations (a slice and a
// Cookie for every cookie of the request): the same parse, keeping only the
// first valid cookie of that name. Requests with many cookies go to r.Cookie
// itself, which also applies net/http's bound on their number.
func cookieValue(r *http.Request, name string) (string, bool) {
	lines := r.Header["Cookie"]
	n := 0
	for _, l := range lines {
		n += strings.Count(l, ";") + 1
	}
	if n > 64 {
		c, err := r.Cookie(name)
		if err != nil {
			return "", false
		}
		return c.Value, true
	}
	for _, line := range lines {
		line = textproto.TrimString(line)
		var part string
		for len(line) > 0 {
			part, line, _ = strings.Cut(line, ";")
			part = textproto.TrimString(part)
			if part == "" {
				continue
			}
			k, v, _ := strings.Cut(part, "=")
			if textproto.TrimString(k) != name {
				continue
			}
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			if validCookieValue(v) {
				return v, true
			}
		}
	}
	return "", false
}

// validCookieValue is net/http's test of a cookie value's bytes.
func validCookieValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if b := v[i]; b < 0x20 || b >= 0x7f || b == '"' || b == ';' || b == '\\' {
			return false
		}
	}
	return true
}

// setCookie sets the session cookie: __Host- (Secure, Path=/, no Domain),
// HttpOnly, SameSite=Lax, until the absolute timeout.
func (w *Sessions) setCookie(rw http.ResponseWriter, id sessionID) {
	http.SetCookie(rw, &http.Cookie{
		Name: w.cookieName, Value: id.cookieValue(), Path: "/",
		MaxAge: int(w.cfg.Get().AbsoluteTimeout / time.Second), Secure: w.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

func (w *Sessions) clearCookie(rw http.ResponseWriter, r *http.Request) {
	if w.cookieAEADs != nil {
		w.clearChunks(rw, r, 0)
		return
	}
	http.SetCookie(rw, &http.Cookie{Name: w.cookieName, Value: "", Path: "/", MaxAge: -1, Secure: w.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

func slogErr(err error) slog.Attr { return slog.String("error", err.Error()) }

const slogWarn = slog.LevelWarn

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// maxCookie bounds a cookie value decoded here.
const maxCookie = 4096

func unb64(s string) ([]byte, bool) {
	if len(s) > maxCookie {
		return nil, false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return b, err == nil
}
