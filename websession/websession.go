package websession

import (
	"context"
	"crypto/cipher"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/hostedui"
	"github.com/cogauth/cogauth/internal/errkind"
	"github.com/cogauth/cogauth/internal/redact"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/secret"
	"github.com/cogauth/cogauth/session"
	"github.com/cogauth/cogauth/store"
)

// Config configures Sessions.
type Config struct {
	// Session is what every web session's Manager is made of (see
	// session.Config). Session.Cognito, the user pool API client of the app
	// client users sign in to, is required: websession reads the pool and
	// client from it and never calls it itself. RefreshBefore (default 5
	// minutes), Credentials (identity.NewSessionCredentials: AWS credentials
	// for each user; see User.Credentials), Breakers, RefreshTimeout, Backoff
	// and the waits after a failure apply to every session.
	//
	// websession sets each Manager's Store (the session's sealed record),
	// Username, HostedUI (the Domain's token endpoint), Clock and Logger (this
	// Config's), and bounds the records' lives itself (RefreshTokenValidity
	// below): New refuses a Session that sets any of them.
	//
	// When Session.Breakers is nil, Sessions on the system clock share the
	// process's (session.DefaultBreakers), and Sessions given a Clock get
	// breakers of their own on it, shared by all their sessions.
	Session session.Config
	// Domain is the hosted UI's (managed login's) base URL: the user pool
	// domain, a custom domain, or the emulator's URL. Required.
	Domain string
	// ClientSecret is the app client's secret, if it has one.
	ClientSecret jwt.Secret
	// Verifier checks the id token of every sign-in (signature, issuer, client).
	// Required.
	Verifier *jwt.Verifier
	// BaseURL is the app's public origin, e.g. "https://app.example.com": the
	// callback URL (BaseURL + Paths.Callback) must be one of the app client's
	// callback URLs. https, except http://localhost and http://127.0.0.1 for
	// development, where the cookie cannot be Secure. Required.
	BaseURL string
	// Secret keys the session names and sealed cookies: at least 32 random bytes,
	// the same on every replica. Changing it ends every session.
	Secret secret.Bytes
	// Store keeps the sessions; shared by all replicas (store/redis,
	// store/dynamodb). A new memory store when nil. A store that is also a
	// store.Locker (Redis, DynamoDB, memory) makes a session's refresh happen once
	// across every replica.
	Store store.Store
	// CookieKeys, with Store nil, selects the cookie-only mode: no server store,
	// the session (tokens packed in binary) sealed with AES-GCM in the browser's
	// cookies "<name>.0", "<name>.1", … (each under 4096 bytes). The first key
	// seals, every key opens: to rotate, put a new key first and drop the old
	// one when its cookies have been rewritten (at the next refresh or idle
	// extension). Each at least 32 random bytes, the same on every replica.
	// Cookies that do not open are refused (ErrCookieRefused) as signed out.
	// Strict and SignOutUser need a store and are not available. With a Bus
	// shared by the replicas (redisbus), a logout is refused on every replica
	// for a copy of the cookies taken before it, until the cookie's absolute
	// end; without one, a logout is local to this replica plus a RevokeToken at
	// Cognito: cookies copied before it keep working on other replicas until
	// their access token expires.
	CookieKeys []secret.Bytes
	// Bus carries sign-outs and revocations to every replica and resource
	// server (NewRevocations); a MemoryBus (this process only) when nil. Use
	// websession/redisbus with several replicas: it also keeps revocations for
	// replicas that start later (RetainingBus).
	Bus Bus
	// Strict reads the session's record from the store on every request, so that
	// a sign-out anywhere takes effect at once even if the Bus lost the message.
	// It costs one store round trip per request.
	Strict bool
	// CacheSize bounds the live sessions this replica keeps in memory; default
	// 10,000.
	CacheSize int
	// IdleTimeout ends a session not used for this long; default 1 hour. The
	// store is written at most once per IdleTimeout/8 to extend it.
	IdleTimeout time.Duration
	// AbsoluteTimeout ends a session this long after sign-in, however busy;
	// default 24 hours, and never longer than RefreshTokenValidity.
	AbsoluteTimeout time.Duration
	// RefreshTokenValidity is the app client's refresh token validity (Cognito's
	// default: 30 days), counted from sign-in: a session cannot outlive its
	// refresh token, so its records never do either. Default 30 days.
	//
	// Every record a session keeps in the Store expires when the session ends:
	// at its idle deadline (extended at most every IdleTimeout/8), its absolute
	// one, or this, whichever comes first; each write sets that expiry anew,
	// and the user's index expires with the last of their sessions.
	RefreshTokenValidity time.Duration
	// LoginTimeout bounds the time from the login redirect to the callback;
	// default 10 minutes.
	LoginTimeout time.Duration
	// Paths are where the routes answer; see Paths.
	Paths Paths
	// AfterLogout is where Cognito's /logout sends the browser back (its
	// logout_uri, one of the app client's sign-out URLs); default BaseURL + "/".
	AfterLogout string
	// Scopes to ask for at sign-in; "openid" is needed (the id token). None means
	// every scope the client is allowed.
	Scopes []string
	// RefreshWait bounds how long a request waits for its session's refresh;
	// zero means the default, 2 seconds, and a negative value is refused by
	// New. While the access token is still valid, a request that finds the
	// refresh due waits at most this long and is then served with that token,
	// the refresh going on in the background (still once per session across
	// replicas). Once it has expired, a refresh that fails transiently or is not
	// back within RefreshWait answers 503 with Retry-After (JSON for API
	// requests, a short page for navigations); the session is kept. The
	// request's own context still bounds the wait: a client that goes away
	// stops it sooner. See session.FetchOptions.MaxWait.
	RefreshWait time.Duration
	// TrustedOrigins may send cross-origin requests that change state (another
	// front end of the same app); none by default.
	TrustedOrigins []string
	// HTTPClient sends the hosted UI's requests; http.DefaultClient when nil.
	HTTPClient *http.Client
	// Clock is the local clock; the system clock when nil.
	Clock clock.Clock
	// Logger receives failures (never a token, cookie or session ID);
	// slog.Default when nil.
	Logger *slog.Logger
	// MeterProvider and TracerProvider receive OpenTelemetry metrics (cache hits,
	// sign-ins, sign-outs by reason, refreshes by result class, refresh and lock
	// durations) and spans (callback, logout, refresh, lock); otel's global
	// providers when nil. No attribute holds a token, cookie, session ID or
	// username.
	MeterProvider  metric.MeterProvider
	TracerProvider trace.TracerProvider
}

// DefaultRefreshWait is Config.RefreshWait's default.
const DefaultRefreshWait = 2 * time.Second

// Paths name the routes. Empty ones take the defaults.
type Paths struct {
	Login    string // GET: to the hosted UI; default "/auth/login" (?return_to=/path)
	Callback string // GET: the redirect back; default "/auth/callback"
	Logout   string // POST: sign out; default "/auth/logout"
	Me       string // GET: the user's claims as JSON; default "/auth/me"
}

// Sessions serves web sessions; see the package documentation. Safe for
// concurrent use. Close it to stop listening on the Bus.
type Sessions struct {
	// cfg is the Config as New was given it (its defaults set), boxed: a
	// pointer to a pointer, which fmt never follows, so that no printing of a
	// Sessions, or of a User holding one, reaches its Secret, CookieKeys or
	// ClientSecret.
	cfg          redact.Box[*Config]
	pool, client string
	keys         *keys
	cookieAEADs  []cipher.AEAD // cookie-only mode when set
	chunkSize    int           // cookie-only: base64 characters per chunk
	store        store.Store
	bus          Bus
	hosted       *hostedui.Client
	refresher    session.Refresher
	clk          clock.Clock
	log          *slog.Logger
	cache        *cache
	cop          *http.CrossOriginProtection
	secure       bool
	cookieName   string
	loginPrefix  string
	redirectURI  string
	logoutURL    string
	revs         *Revocations // sign-outs heard on the Bus, until their cookies and tokens expire
	unsubscribe  func()
	closeOnce    sync.Once
	counts       counters
	tel          *telemetry
}

// counters are what tests and metrics read.
type counters struct {
	storeWrites atomic.Int64 // web records written (touches included)
	touches     atomic.Int64
}

// New returns Sessions for cfg.
func New(cfg Config) (*Sessions, error) {
	if err := checkRequired(&cfg); err != nil {
		return nil, err
	}
	k, err := deriveKeys(cfg.Secret.Reveal())
	if err != nil {
		return nil, err
	}
	origin, secure, err := parseOrigin(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	aeads, err := cookieMode(&cfg)
	if err != nil {
		return nil, err
	}
	cfg.setTimeDefaults()
	if err := cfg.setRefreshDefaults(); err != nil {
		return nil, err
	}
	if err := setPaths(&cfg.Paths); err != nil {
		return nil, err
	}
	if cfg.AfterLogout == "" {
		cfg.AfterLogout = origin + "/"
	}
	w := &Sessions{
		cfg: redact.NewBox(&cfg), pool: cfg.Session.Cognito.UserPoolID(), client: cfg.Session.Cognito.ClientID(), keys: k, cookieAEADs: aeads, chunkSize: chunkData,
		store: cfg.Store, bus: cfg.Bus, clk: cfg.Clock, log: cfg.Logger,
		cache: newCache(cfg.CacheSize), secure: secure, revs: newRevocations(cfg.Clock),
		redirectURI: origin + cfg.Paths.Callback,
	}
	if secure {
		w.cookieName, w.loginPrefix = "__Host-cogauth", "__Host-cogauth-login-"
	} else {
		w.cookieName, w.loginPrefix = "cogauth", "cogauth-login-"
	}
	if err := w.initHostedUI(); err != nil {
		return nil, err
	}
	if err := w.initCrossOrigin(); err != nil {
		return nil, err
	}
	w.unsubscribe = w.bus.Subscribe(w.invalidated)
	return w, nil
}

// config is the Config New was given, with its defaults set: what a replica is
// made from.
func (w *Sessions) config() Config { return *w.cfg.Get() }

// checkRequired refuses a Config without its Cognito client or Verifier, or
// whose Session sets what websession sets itself.
func checkRequired(cfg *Config) error {
	s := &cfg.Session
	if s.Cognito == nil {
		return errors.New("websession: Config.Session.Cognito is required")
	}
	for _, f := range []struct {
		set  bool
		name string
	}{
		{s.Store != nil, "Store (set Config.Store)"},
		{s.Username != "", "Username (each session's user)"},
		{s.HostedUI != nil, "HostedUI (websession refreshes at Config.Domain)"},
		{s.Clock != nil, "Clock (set Config.Clock)"},
		{s.Logger != nil, "Logger (set Config.Logger)"},
		{s.RefreshTokenValidity != 0, "RefreshTokenValidity (set Config.RefreshTokenValidity)"},
	} {
		if f.set {
			return fmt.Errorf("websession: Config.Session.%s is websession's to set: leave it zero", f.name)
		}
	}
	if cfg.Verifier == nil {
		return errors.New("websession: Config.Verifier is required (the id token of every sign-in is verified)")
	}
	return nil
}

// parseOrigin reads Config.BaseURL: the origin, and whether cookies are Secure.
func parseOrigin(baseURL string) (origin string, secure bool, err error) {
	base, err := url.Parse(baseURL)
	if err != nil || base.Host == "" || (base.Path != "" && base.Path != "/") || base.RawQuery != "" || base.User != nil || base.Fragment != "" {
		return "", false, fmt.Errorf("websession: Config.BaseURL %q must be an origin such as https://app.example.com", baseURL)
	}
	secure = true
	switch h := base.Hostname(); {
	case base.Scheme == "https":
	case base.Scheme == "http" && (h == "localhost" || h == "127.0.0.1" || h == "::1"):
		// Development on loopback: browsers do not keep Secure cookies of plain
		// http everywhere, and nothing crosses a network.
		secure = false
	default:
		return "", false, fmt.Errorf("websession: Config.BaseURL %q must use https (http is allowed on localhost only)", baseURL)
	}
	return base.Scheme + "://" + base.Host, secure, nil
}

// cookieMode returns the AEADs of Config.CookieKeys (none: server-side mode).
func cookieMode(cfg *Config) ([]cipher.AEAD, error) {
	if len(cfg.CookieKeys) == 0 {
		return nil, nil
	}
	if cfg.Store != nil || cfg.Strict {
		return nil, errors.New("websession: Config.CookieKeys (cookie-only mode) excludes Store and Strict")
	}
	return cookieAEADs(cfg.CookieKeys)
}

// setTimeDefaults fills the clock, store, bus, cache size and timeouts left zero.
func (cfg *Config) setTimeDefaults() {
	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}
	if cfg.Store == nil {
		cfg.Store = &store.Memory{Clock: cfg.Clock}
	}
	if cfg.Bus == nil {
		cfg.Bus = NewMemoryBus()
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = 10000
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = time.Hour
	}
	if cfg.AbsoluteTimeout <= 0 {
		cfg.AbsoluteTimeout = 24 * time.Hour
	}
	if cfg.RefreshTokenValidity <= 0 {
		cfg.RefreshTokenValidity = 30 * 24 * time.Hour
	}
	cfg.AbsoluteTimeout = min(cfg.AbsoluteTimeout, cfg.RefreshTokenValidity)
	if cfg.LoginTimeout <= 0 {
		cfg.LoginTimeout = 10 * time.Minute
	}
}

// setRefreshDefaults checks RefreshWait and fills it, the breakers and the logger.
func (cfg *Config) setRefreshDefaults() error {
	switch {
	case cfg.RefreshWait < 0:
		return fmt.Errorf("websession: Config.RefreshWait %v must be positive (zero means the default, %v)", cfg.RefreshWait, DefaultRefreshWait)
	case cfg.RefreshWait == 0:
		cfg.RefreshWait = DefaultRefreshWait
	}
	if cfg.Session.Breakers == nil {
		if _, system := cfg.Clock.(clock.System); cfg.Clock != nil && !system {
			cfg.Session.Breakers = session.NewBreakers(session.BreakerOptions{Clock: cfg.Clock, Logger: cfg.Logger, MeterProvider: cfg.MeterProvider})
		} else {
			cfg.Session.Breakers = session.DefaultBreakers()
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return nil
}

// setPaths fills the routes' default paths and checks them.
func setPaths(p *Paths) error {
	for _, f := range []struct {
		v   *string
		def string
	}{{&p.Login, "/auth/login"}, {&p.Callback, "/auth/callback"}, {&p.Logout, "/auth/logout"}, {&p.Me, "/auth/me"}} {
		if *f.v == "" {
			*f.v = f.def
		}
		if !strings.HasPrefix(*f.v, "/") || strings.ContainsAny(*f.v, " {}?#") {
			return fmt.Errorf("websession: path %q must be a plain absolute path", *f.v)
		}
	}
	return nil
}

// initHostedUI builds the hosted UI client, the telemetry, the refresher and the logout URL.
func (w *Sessions) initHostedUI() error {
	cfg := w.cfg.Get()
	var err error
	w.hosted, err = hostedui.New(hostedui.Options{
		Domain: cfg.Domain, ClientID: w.client, ClientSecret: cfg.ClientSecret,
		RedirectURI: w.redirectURI, Scopes: cfg.Scopes, HTTPClient: cfg.HTTPClient, Clock: cfg.Clock,
	})
	if err != nil {
		return fmt.Errorf("websession: %w", err)
	}
	if w.tel, err = newTelemetry(cfg.MeterProvider, cfg.TracerProvider); err != nil {
		return fmt.Errorf("websession: %w", err)
	}
	w.refresher = tracedRefresher{next: hostedui.NewRefresher(w.hosted), t: w.tel}
	w.logoutURL = strings.TrimRight(cfg.Domain, "/") + "/logout?" + url.Values{"client_id": {w.client}, "logout_uri": {cfg.AfterLogout}}.Encode()
	return nil
}

// initCrossOrigin sets up the cross-origin protection of the routes.
func (w *Sessions) initCrossOrigin() error {
	w.cop = http.NewCrossOriginProtection()
	for _, o := range w.cfg.Get().TrustedOrigins {
		if err := w.cop.AddTrustedOrigin(o); err != nil {
			return fmt.Errorf("websession: %w", err)
		}
	}
	w.cop.SetDenyHandler(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		writeJSONError(rw, http.StatusForbidden, "cross_origin", "cross-origin request refused")
	}))
	return nil
}

// Close stops listening on the Bus and closes the cached sessions' Managers. The
// sessions stay in the store.
func (w *Sessions) Close() error {
	w.closeOnce.Do(func() {
		w.unsubscribe()
		for _, l := range w.cache.drain() {
			l.mgr.Close()
		}
	})
	return nil
}

// live is one session this replica serves: its Manager and web record.
type live struct {
	key      sessionName  // the cache's key
	name     string       // key in hex: the store's and the Bus's name
	used     atomic.Bool  // looked up since the cache's clock hand last passed
	st       *sealedStore // the sealed view of the session's records
	mgr      *session.Manager
	rec      atomic.Pointer[metaState]
	touching atomic.Bool
	ck       *cookieLive // cookie-only mode
	// ended is set by the first end: concurrent requests that all find the
	// session over end it once.
	ended atomic.Bool
}

type metaState struct {
	m       *meta
	version uint64
}

// invalidated handles a Bus message: another replica (or this one) ended the
// session; it is dropped from the cache, and a revocation is kept.
func (w *Sessions) invalidated(name string) {
	if rv, ok := parseRevocation(name); ok {
		w.revs.add(rv)
		name = rv.name
	}
	n, ok := parseName(name)
	if !ok {
		return
	}
	if l := w.cache.remove(n, nil); l != nil {
		l.mgr.Close()
	}
}

// validName reports whether s is a store name (64 lower-case hex digits): Bus
// messages are outside input.
func validName(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// newManager makes the Manager of one session from Config.Session.
func (w *Sessions) newManager(st store.Store, username string) (*session.Manager, error) {
	c := w.cfg.Get().Session
	c.Store, c.Username, c.HostedUI, c.Clock, c.Logger = st, username, w.refresher, w.clk, w.log
	return session.New(c)
}

// errNoSession: the cookie names no live session (never existed, ended, forged).
var errNoSession = errkind.New("websession: no session", false)

// errUnavailable wraps store failures that keep the session but cannot serve it.
type unavailableError struct{ err error }

func (e *unavailableError) Error() string {
	return "websession: the session store is unavailable: " + e.err.Error()
}
func (e *unavailableError) Unwrap() error { return e.err }

// RetryableError is true unless the cause says otherwise: the session is kept,
// and a later request may be served.
func (e *unavailableError) RetryableError() bool {
	return !errkind.Answers(e.err) || errkind.Retryable(e.err)
}

// lookup returns the live session of id, from the cache or the store.
func (w *Sessions) lookup(ctx context.Context, id sessionID) (*live, error) {
	key := w.keys.name(id)
	if l := w.cache.get(key); l != nil {
		w.tel.cacheResult(ctx, cacheHit)
		if !w.cfg.Get().Strict {
			return l, nil
		}
		if err := w.reload(ctx, l); err != nil {
			return nil, err
		}
		return l, nil
	}
	aead, err := w.keys.sessionAEAD(id)
	if err != nil {
		return nil, err
	}
	name := key.String()
	st, mst := w.sealed(name, aead)
	ms, err := w.readMeta(ctx, st)
	if errors.Is(err, errNoSession) {
		w.tel.cacheResult(ctx, cacheNone)
	} else if err == nil {
		w.tel.cacheResult(ctx, cacheMiss)
	}
	if err != nil {
		return nil, err
	}
	mgr, err := w.newManager(mst, ms.m.User)
	if err != nil {
		return nil, err
	}
	l := &live{key: key, name: name, st: st, mgr: mgr}
	l.rec.Store(ms)
	got, evicted := w.cache.add(l)
	if got != l {
		mgr.Close()
	}
	for _, e := range evicted {
		e.mgr.Close()
	}
	return got, nil
}

// sealed returns the sealed view of a session's records and its Manager's
// store, whose lock waits are measured.
func (w *Sessions) sealed(name string, aead cipher.AEAD) (*sealedStore, store.Store) {
	return w.sealedIn(w.store, name, aead)
}

func (w *Sessions) sealedIn(inner store.Store, name string, aead cipher.AEAD) (*sealedStore, store.Store) {
	st, mst := newSealedStore(inner, name, aead, lifetime{clk: w.clk, idle: w.cfg.Get().IdleTimeout, absolute: w.cfg.Get().AbsoluteTimeout})
	// Cookie mode's memory store is packed by the cookie format, record by
	// record.
	st.bundled = w.cookieAEADs == nil
	if ls, ok := mst.(*lockingStore); ok {
		ls.locker = timedLocker{Locker: ls.locker, t: w.tel}
	}
	return st, mst
}

// readMeta reads a session's web record.
func (w *Sessions) readMeta(ctx context.Context, st *sealedStore) (*metaState, error) {
	e, err := st.get(ctx, st.metaKey(w.pool, w.client))
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrCorrupt):
		// Corrupt: sealed under another ID's key, or damaged; either way this
		// cookie opens nothing.
		return nil, errNoSession
	case err != nil:
		return nil, &unavailableError{err}
	}
	m, err := decodeMeta(e.Data)
	if err != nil {
		return nil, errNoSession
	}
	return &metaState{m: m, version: e.Version}, nil
}

// reload refreshes l's web record from the store; a session gone there is
// dropped here.
func (w *Sessions) reload(ctx context.Context, l *live) error {
	ms, err := w.readMeta(ctx, l.st)
	if errors.Is(err, errNoSession) {
		w.drop(l)
		return err
	}
	if err != nil {
		return err
	}
	l.rec.Store(ms)
	return nil
}

// drop forgets l in this replica only.
func (w *Sessions) drop(l *live) {
	if w.cache.remove(l.key, l) != nil {
		l.mgr.Close()
	}
}

// check applies the timeouts to l at now, extending the idle deadline when due.
// It returns errNoSession for a session that has timed out (and ends it).
func (w *Sessions) check(ctx context.Context, l *live, now time.Time) error {
	ms := l.rec.Load()
	if !now.Before(ms.m.created().Add(w.cfg.Get().AbsoluteTimeout)) {
		w.end(ctx, l, ms.m, false, "absolute_timeout")
		return errNoSession
	}
	if !now.Before(ms.m.seen().Add(w.cfg.Get().IdleTimeout)) {
		// Another replica may have extended it: look before ending it.
		if err := w.reload(ctx, l); err != nil {
			return err
		}
		if ms = l.rec.Load(); !now.Before(ms.m.seen().Add(w.cfg.Get().IdleTimeout)) {
			w.end(ctx, l, ms.m, false, "idle_timeout")
			return errNoSession
		}
	}
	if now.Sub(ms.m.seen()) >= w.cfg.Get().IdleTimeout/8 && l.touching.CompareAndSwap(false, true) {
		defer l.touching.Store(false)
		w.touch(ctx, l, now)
	}
	return nil
}

// touch writes the web record with Seen = now. A conflict means another replica
// wrote it: its version is adopted, and that write counts as the extension.
func (w *Sessions) touch(ctx context.Context, l *live, now time.Time) {
	ms := l.rec.Load()
	m := *ms.m
	m.Seen = now.UnixNano()
	v, err := w.putMeta(ctx, l.st, &m, ms.version)
	switch {
	case err == nil:
		w.counts.touches.Add(1)
		l.rec.Store(&metaState{m: &m, version: v})
	case errors.Is(err, store.ErrConflict):
		_ = w.reload(ctx, l)
	default:
		// The store is down: the session goes on; the next request tries again.
		w.log.LogAttrs(ctx, slog.LevelWarn, "cogauth: could not extend a web session's idle deadline", slog.String("error", err.Error()))
	}
}

func (w *Sessions) putMeta(ctx context.Context, st *sealedStore, m *meta, ifVersion uint64) (uint64, error) {
	data, err := jsonMarshal(m)
	if err != nil {
		return 0, err
	}
	w.counts.storeWrites.Add(1)
	return st.put(ctx, st.metaKey(w.pool, w.client), data, ifVersion)
}

// end ends a session everywhere: revokes its refresh token (when revoke is set),
// deletes its records, removes it from its user's index and tells every replica.
// Failures are logged: the session is gone from this replica whatever happens.
// The sign-out is counted under reason, once per session on this replica; an
// empty reason counts nothing (another replica ended it and counted it). Later
// calls on the same live session do nothing unless they revoke.
func (w *Sessions) end(ctx context.Context, l *live, m *meta, revoke bool, reason string) error {
	first := l.ended.CompareAndSwap(false, true)
	if !first && !revoke {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	if first && reason != "" {
		w.tel.count(ctx, w.tel.signOuts, "reason", reason)
	}
	w.drop(l)
	// Every replica (and every resource server's Revocations) refuses the
	// session's cookies and tokens from now until they expire.
	pubErr := w.publishRevocation(ctx, w.revocationOf(l.name, m))
	if !revoke {
		return w.logEnd(ctx, errors.Join(pubErr, w.removeRecords(ctx, l, m)))
	}
	// RevokeToken waits for a refresh under way and for Cognito, which may
	// hang: the sign-out waits for it at most RefreshWait, then the revocation
	// and the records' removal (which must come after it: it reads the
	// record) go on in the background, bounded by revokeTimeout. The session
	// is refused everywhere already.
	done := make(chan error, 1)
	go func() {
		bctx, cancel := context.WithTimeout(ctx, revokeTimeout)
		defer cancel()
		err := l.mgr.SignOut(bctx, session.SignOutOptions{})
		done <- w.logEnd(ctx, errors.Join(pubErr, err, w.removeRecords(ctx, l, m)))
	}()
	t := time.NewTimer(w.cfg.Get().RefreshWait)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return nil
	}
}

// revokeTimeout bounds a sign-out's revocation in the background: the wait for
// a refresh under way, then RevokeToken at Cognito (whose own calls are bounded
// by the client's timeout, 30 s by default).
const revokeTimeout = 30 * time.Second

// removeRecords deletes the session's records (its index entry too) and
// tells every replica's cache.
func (w *Sessions) removeRecords(ctx context.Context, l *live, m *meta) error {
	var errs []error
	if l.ck == nil { // cookie-only: nothing kept here; the caller clears the cookies
		errs = append(errs, w.deleteRecords(ctx, l.name))
		if validSub(m.Sub) {
			errs = append(errs, w.updateIndex(ctx, m.Sub, func(list []indexEntry) []indexEntry {
				return deleteEntry(list, l.name)
			}))
		}
	}
	return errors.Join(append(errs, w.bus.Publish(ctx, l.name))...)
}

// logEnd logs what failed in ending a session and returns it.
func (w *Sessions) logEnd(ctx context.Context, err error) error {
	if err != nil {
		w.log.LogAttrs(ctx, slog.LevelWarn, "cogauth: ending a web session", slog.String("error", err.Error()))
	}
	return err
}

// deleteRecords removes the session named name from the store (its one
// record, every part), without needing its key.
func (w *Sessions) deleteRecords(ctx context.Context, name string) error {
	return w.store.Delete(ctx, recordKey("", sessionNS+name, w.pool, w.client, metaUser).store(), store.AnyVersion)
}

func deleteEntry(list []indexEntry, name string) []indexEntry {
	out := list[:0]
	for _, e := range list {
		if e.Name != name {
			out = append(out, e)
		}
	}
	return out
}

// SignOutUser ends every web session of the user with this sub, on every
// replica, through the user-to-sessions index. It does not call Cognito: the
// refresh tokens are deleted with the sessions; to end the user's sessions
// elsewhere too, call AdminUserGlobalSignOut (it needs IAM credentials), or let
// the user sign out with SignOutOptions.Global through User.SignOut.
func (w *Sessions) SignOutUser(ctx context.Context, sub string) error {
	if w.cookieAEADs != nil {
		return errors.New("websession: SignOutUser needs a server store (not available in cookie-only mode)")
	}
	if !validSub(sub) {
		return fmt.Errorf("websession: invalid sub")
	}
	list, v, legacy, err := w.readIndex(ctx, sub)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range list {
		w.tel.count(ctx, w.tel.signOuts, "reason", "user_all")
		if n, ok := parseName(e.Name); ok {
			if l := w.cache.remove(n, nil); l != nil {
				l.mgr.Close()
			}
		}
		errs = append(errs, w.deleteRecords(ctx, e.Name), w.bus.Publish(ctx, e.Name))
		if validName(e.Name) && (e.OriginJTI == "" || validOriginJTI(e.OriginJTI)) {
			until := time.Unix(0, e.Expires)
			if e.AccessLife > 0 {
				until = latest(until, w.clk.Now().Add(time.Duration(e.AccessLife)*time.Second))
			}
			errs = append(errs, w.publishRevocation(ctx, revocation{name: e.Name, originJTI: e.OriginJTI, until: until}))
		}
	}
	if v != 0 || legacy {
		// The user's entries go (the bucket with them if they were its last),
		// and release 2's index of the user.
		errs = append(errs, w.updateIndex(ctx, sub, func([]indexEntry) []indexEntry { return nil }))
	}
	return errors.Join(errs...)
}
