package bearer

import (
	"strconv"
	"strings"

	"github.com/cogauth/cogauth/jwt"
)

// Policy is what one method requires of a call.
type Policy struct {
	// Public lets calls through without a token; the token, if one is sent, is
	// not read and no claims are put in the context.
	Public bool
	// Scopes, if any, requires at least one of them in the token's scope claim.
	Scopes []string
	// Groups, if any, requires membership of at least one of them. With both
	// set, a call needs one of each.
	Groups []string
}

// Allows applies the scope and group requirements to verified claims.
func (p Policy) Allows(c *jwt.Claims) Verdict {
	if len(p.Scopes) > 0 && !anyOf(p.Scopes, c.HasScope) {
		return Verdict{Code: PermissionDenied, Msg: MsgNoScope, Scopes: p.Scopes}
	}
	if len(p.Groups) > 0 && !anyOf(p.Groups, c.InGroup) {
		return Verdict{Code: PermissionDenied, Msg: MsgNoGroup}
	}
	return Verdict{}
}

func anyOf(want []string, has func(string) bool) bool {
	for _, w := range want {
		if has(w) {
			return true
		}
	}
	return false
}

// Well-known services that are usually left open.
const (
	HealthService     = "/grpc.health.v1.Health/"
	ReflectionV1      = "/grpc.reflection.v1.ServerReflection/"
	ReflectionV1Alpha = "/grpc.reflection.v1alpha.ServerReflection/"
)

// Rules map full method names ("/pkg.Service/Method", as gRPC and Connect name a
// procedure) to policies. An entry ending in "/" ("/pkg.Service/") covers every
// method of the service; an exact method beats its service; anything else gets
// Default, which requires a valid token and nothing more unless changed.
type Rules struct {
	Default  Policy
	methods  map[string]Policy
	services map[string]Policy
}

// Set gives method (or a whole service, when it ends in "/") the policy p. A
// name that is not "/service/method" or "/service/" panics, as http.ServeMux
// does on a bad pattern: a misspelt name would otherwise never match, and the
// method it meant would get the default policy without a word.
func (r *Rules) Set(method string, p Policy) {
	if !validName(method) {
		panic("cogauth: policy for " + strconv.Quote(method) + `: want "/package.Service/Method" or "/package.Service/"`)
	}
	if strings.HasSuffix(method, "/") {
		if r.services == nil {
			r.services = map[string]Policy{}
		}
		r.services[method] = p
		return
	}
	if r.methods == nil {
		r.methods = map[string]Policy{}
	}
	r.methods[method] = p
}

func validName(m string) bool {
	svc, rest, ok := strings.Cut(strings.TrimPrefix(m, "/"), "/")
	return ok && strings.HasPrefix(m, "/") && svc != "" && !strings.Contains(rest, "/") &&
		!strings.ContainsAny(m, " \t\n")
}

// For returns the policy of a full method name.
func (r *Rules) For(method string) Policy {
	if p, ok := r.methods[method]; ok {
		return p
	}
	if len(r.services) > 0 {
		if i := strings.LastIndexByte(method, '/'); i > 0 {
			if p, ok := r.services[method[:i+1]]; ok {
				return p
			}
		}
	}
	return r.Default
}
