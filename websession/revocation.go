package websession

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cogauth/cogauth/clock"
)

// A revocation says that a session ended before what it handed out did: its
// cookies (cookie mode carries the whole session in them, so a copy would
// otherwise live on) and its tokens (the origin_jti every token of one sign-in
// carries, for resource servers). On the Bus it is the message
//
//	r1 <store name> <until, Unix ms> <origin_jti or ->
//
// and every receiver keeps it until then: the latest of the cookie's absolute
// end and the access token's expiry.
type revocation struct {
	name      string // the session's store name, 64 hex digits
	originJTI string // "" when unknown
	until     time.Time
}

const (
	revocationTag = "r1 "
	// maxOriginJTI bounds what a revocation may name: Cognito's are UUIDs.
	maxOriginJTI = 128
)

func (r revocation) String() string {
	jti := r.originJTI
	if jti == "" {
		jti = "-"
	}
	return revocationTag + r.name + " " + strconv.FormatInt(r.until.UnixMilli(), 10) + " " + jti
}

// parseRevocation reads a Bus message (outside input) as a revocation.
func parseRevocation(msg string) (revocation, bool) {
	rest, ok := strings.CutPrefix(msg, revocationTag)
	if !ok || len(rest) > 64+1+20+1+maxOriginJTI {
		return revocation{}, false
	}
	name, rest, ok1 := strings.Cut(rest, " ")
	ms, jti, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || !validName(name) || !validOriginJTI(jti) {
		return revocation{}, false
	}
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != ms {
		return revocation{}, false
	}
	r := revocation{name: name, until: time.UnixMilli(n)}
	if jti != "-" {
		r.originJTI = jti
	}
	return r, true
}

// validOriginJTI: "-" (none) or up to maxOriginJTI of [A-Za-z0-9_-].
func validOriginJTI(s string) bool {
	if s == "" || len(s) > maxOriginJTI {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// RetainingBus is a Bus that also keeps a message for a while, and hands every
// message still kept to each new subscriber before the live ones, so that a
// replica started after a sign-out still refuses the session's cookies and
// tokens. websession/redisbus is one; MemoryBus is one within its process.
type RetainingBus interface {
	Bus
	// PublishFor publishes msg like Publish and keeps it for keep (counted on
	// the bus's clock: Redis's for redisbus, so replicas' clocks need not agree).
	PublishFor(ctx context.Context, msg string, keep time.Duration) error
}

// maxRevocations bounds what a replica keeps: past it, the revocations that end
// soonest go first.
const maxRevocations = 1 << 20

// Revocations is the set of sessions signed out before their cookies and tokens
// expire, as the Bus reports them. It is a jwt.RevocationSource: give it to the
// jwt.Verifier of a resource server (httpauth.Middleware) behind the same Bus as
// the web app, and a signed-out session's access tokens are refused there as
// soon as the sign-out's message arrives (milliseconds on Redis), with no call to
// Cognito per request. Each revocation is kept until the token it names expires.
// Safe for concurrent use; Close it when done.
type Revocations struct {
	clk    clock.Clock
	mu     sync.RWMutex
	names  map[sessionName]time.Time // store name → until
	jtis   map[string]time.Time      // origin_jti → until
	swept  int
	cancel func()
}

// NewRevocations subscribes to bus (a RetainingBus also hands over the
// revocations published before) and returns the set; clk tells when revocations
// lapse (the system clock when nil).
func NewRevocations(bus Bus, clk clock.Clock) *Revocations {
	r := newRevocations(clk)
	r.cancel = bus.Subscribe(func(msg string) {
		if rv, ok := parseRevocation(msg); ok {
			r.add(rv)
		}
	})
	return r
}

func newRevocations(clk clock.Clock) *Revocations {
	if clk == nil {
		clk = clock.System{}
	}
	return &Revocations{clk: clk, names: map[sessionName]time.Time{}, jtis: map[string]time.Time{}, cancel: func() {}}
}

// Close stops listening to the Bus.
func (r *Revocations) Close() error {
	r.cancel()
	return nil
}

// Revoked implements jwt.RevocationSource.
func (r *Revocations) Revoked(originJTI string) bool {
	r.mu.RLock()
	until, ok := r.jtis[originJTI]
	r.mu.RUnlock()
	return ok && r.clk.Now().Before(until)
}

// revokedName reports whether the session with this store name was signed out.
func (r *Revocations) revokedName(n sessionName) bool {
	r.mu.RLock()
	until, ok := r.names[n]
	r.mu.RUnlock()
	return ok && r.clk.Now().Before(until)
}

func (r *Revocations) add(rv revocation) {
	now := r.clk.Now()
	if !now.Before(rv.until) {
		return
	}
	n, ok := parseName(rv.name)
	if !ok {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.names[n]; !ok || old.Before(rv.until) {
		r.names[n] = rv.until
	}
	if rv.originJTI != "" {
		if old, ok := r.jtis[rv.originJTI]; !ok || old.Before(rv.until) {
			r.jtis[rv.originJTI] = rv.until
		}
	}
	if n := len(r.names) + len(r.jtis); n >= 2*max(r.swept, 1024) || n > maxRevocations {
		r.sweep(now)
	}
}

// sweep drops lapsed revocations and, past maxRevocations, the ones that end
// soonest. The caller holds mu.
func (r *Revocations) sweep(now time.Time) {
	r.names = sweepMap(r.names, now, maxRevocations/2)
	r.jtis = sweepMap(r.jtis, now, maxRevocations/2)
	r.swept = len(r.names) + len(r.jtis)
}

// sweepMap drops m's lapsed entries and, while it holds more than limit, the
// one that ends soonest.
func sweepMap[K comparable](m map[K]time.Time, now time.Time, limit int) map[K]time.Time {
	for k, until := range m {
		if !now.Before(until) {
			delete(m, k)
		}
	}
	for len(m) > limit {
		var first K
		var at time.Time
		found := false
		for k, until := range m {
			if !found || until.Before(at) {
				first, at, found = k, until, true
			}
		}
		delete(m, first)
	}
	return m
}

// publishRevocation tells every replica, and every Revocations on the Bus, that
// the session ended: kept until rv.until on a RetainingBus. This replica's own
// set learns it at once, whatever the Bus does.
func (w *Sessions) publishRevocation(ctx context.Context, rv revocation) error {
	w.revs.add(rv)
	if rb, ok := w.bus.(RetainingBus); ok {
		return rb.PublishFor(ctx, rv.String(), rv.until.Sub(w.clk.Now()))
	}
	return w.bus.Publish(ctx, rv.String())
}

// revocationOf is the revocation of the session named name with web record m:
// kept until the later of the cookie's absolute end and the expiry of the last
// access token it can have been given (now plus the tokens' lifetime).
func (w *Sessions) revocationOf(name string, m *meta) revocation {
	until := m.created().Add(w.cfg.Get().AbsoluteTimeout)
	if m.AccessLife > 0 {
		until = latest(until, w.clk.Now().Add(time.Duration(m.AccessLife)*time.Second))
	}
	return revocation{name: name, originJTI: m.OriginJTI, until: until}
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Revocations returns the sign-outs this replica knows of: a
// jwt.RevocationSource for a resource server in the same process (one in
// another process uses NewRevocations on the same Bus).
func (w *Sessions) Revocations() *Revocations { return w.revs }
