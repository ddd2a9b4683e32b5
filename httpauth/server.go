package httpauth

import (
	"context"
	"net/http"
	"strings"

	"github.com/cogauth/cogauth/internal/bearer"
	"github.com/cogauth/cogauth/jwt"
)

// Verifier checks a token; *jwt.Verifier is one.
type Verifier interface {
	Verify(ctx context.Context, raw string) (*jwt.Token, error)
}

// TokenFrom returns the verified token the middleware put in the context. It is
// jwt.FromContext, the accessor grpcauth's interceptors fill too, so it works in
// a gRPC or Connect handler as well.
func TokenFrom(ctx context.Context) (*jwt.Token, bool) { return jwt.FromContext(ctx) }

// ClaimsFrom returns the verified token's claims the middleware put in the
// context (jwt.ClaimsFromContext; it works behind grpcauth too).
func ClaimsFrom(ctx context.Context) (*jwt.Claims, bool) { return jwt.ClaimsFromContext(ctx) }

// WithToken returns a context carrying t, as the middleware does; for tests of
// handlers that run behind it (jwt.NewContext).
func WithToken(ctx context.Context, t *jwt.Token) context.Context { return jwt.NewContext(ctx, t) }

// TokenFromHeader takes the token from an Authorization header value: "Bearer
// <token>" (scheme case-insensitive) or the bare token. It returns "" when there
// is none (a scheme alone is none).
func TokenFromHeader(h string) string { return bearer.FromHeader(h) }

// Middleware verifies the token of every request and puts it in the request
// context (TokenFrom, ClaimsFrom). A request without a valid token gets 401 with a
// WWW-Authenticate challenge naming the failed rule; when the issuer's keys cannot
// be fetched the answer is 503, because the token may well be fine and the client
// should not throw it away.
func Middleware(v Verifier) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			raw := TokenFromHeader(r.Header.Get("Authorization"))
			if raw == "" {
				w.Header().Set("WWW-Authenticate", "Bearer")
				http.Error(w, bearer.MsgMissing, http.StatusUnauthorized)
				return
			}
			tok, err := v.Verify(r.Context(), raw)
			if err != nil {
				writeVerifyError(w, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(WithToken(r.Context(), tok)))
		})
	}
}

func writeVerifyError(w http.ResponseWriter, err error) {
	vd := bearer.VerifyVerdict(err)
	if vd.Code == bearer.Unavailable {
		http.Error(w, vd.Msg, http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="`+vd.Msg+`"`)
	http.Error(w, vd.Msg, http.StatusUnauthorized)
}

// RequireGroups lets a request through only if the verified user is in at least
// one of groups; otherwise 403. Put it behind Middleware.
func RequireGroups(groups ...string) func(http.Handler) http.Handler {
	return require(func(c *jwt.Claims) bool {
		for _, g := range groups {
			if c.InGroup(g) {
				return true
			}
		}
		return false
	}, "", "required group missing")
}

// RequireScopes lets a request through only if the token has at least one of
// scopes; otherwise 403 with error="insufficient_scope" (RFC 6750).
func RequireScopes(scopes ...string) func(http.Handler) http.Handler {
	return require(func(c *jwt.Claims) bool {
		for _, s := range scopes {
			if c.HasScope(s) {
				return true
			}
		}
		return false
	}, `Bearer error="insufficient_scope", scope="`+quoteSafe(strings.Join(scopes, " "))+`"`, "required scope missing")
}

func require(ok func(*jwt.Claims) bool, challenge, msg string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, found := ClaimsFrom(r.Context())
			if !found {
				// Middleware is missing in front: fail closed.
				w.Header().Set("WWW-Authenticate", "Bearer")
				http.Error(w, "not authenticated", http.StatusUnauthorized)
				return
			}
			if !ok(c) {
				if challenge != "" {
					w.Header().Set("WWW-Authenticate", challenge)
				}
				http.Error(w, msg, http.StatusForbidden)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// quoteSafe drops characters that cannot appear in an HTTP quoted-string
// unescaped.
func quoteSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < 0x20 || r > 0x7e {
			return -1
		}
		return r
	}, s)
}
