package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/internal/errkind"
	"github.com/cogauth/cogauth/internal/redact"
	"github.com/cogauth/cogauth/internal/refresh"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/store"
)

// Session is what Fetch returns: the tokens of a signed-in user and, when a
// CredentialsSource is configured, AWS credentials. A Session is immutable; a
// refresh makes a new one. It prints without secrets.
type Session struct {
	Tokens Tokens
	// Credentials are nil without a CredentialsSource. The SDK's type does not
	// redact its secret parts, so JSON leaves them out and String summarises them.
	Credentials *aws.Credentials `json:"-"`
	IdentityID  string           // empty without a CredentialsSource
	UserSub     string
	Username    string // the service's username (the access token's username claim)
	// Source is how the session was obtained, and so where it is refreshed.
	Source Source
	// Domain is the hosted UI domain a SourceHostedUI session came from (where it
	// refreshes), when one was recorded.
	Domain string
}

// String summarises the session: user, source, tokens (redacted) and the AWS
// credentials' key ID. It is how a Session prints with %v and %s and how slog
// logs it, because Credentials, the SDK's type, would show its secret key
// through fmt's reflection.
func (s Session) String() string {
	creds := "none"
	if s.Credentials != nil {
		creds = "access_key_id=" + s.Credentials.AccessKeyID + " secret=[redacted]"
		if s.Credentials.CanExpire {
			creds += " expires=" + s.Credentials.Expires.UTC().Format(time.RFC3339)
		}
	}
	return fmt.Sprintf("session.Session{user=%s sub=%s source=%s access=%v id=%v refresh=%v identity=%s credentials={%s}}",
		s.Username, s.UserSub, s.Source, s.Tokens.Access, s.Tokens.ID, s.Tokens.Refresh, s.IdentityID, creds)
}

// Source says how a session was obtained, and so how it is refreshed.
type Source string

const (
	// SourceUserPool: signed in, or imported, through the user pool API; refreshed
	// with GetTokensFromRefreshToken (or InitiateAuth REFRESH_TOKEN_AUTH).
	SourceUserPool Source = "user-pool"
	// SourceHostedUI: obtained at the hosted UI's /oauth2/token; refreshed there
	// (grant_type=refresh_token) when Config.HostedUI is set, else through the user
	// pool API, which Cognito accepts for these refresh tokens too.
	SourceHostedUI Source = "hosted-ui"
)

// orDefault reads the Source of a record, where the user pool API's is empty.
func (s Source) orDefault() Source {
	if s == "" {
		return SourceUserPool
	}
	return s
}

// Tokens are a session's tokens. Access and ID print as redacted summaries and
// Refresh as "[redacted]"; use Access.Raw() or Refresh.Reveal() to send them.
type Tokens struct {
	Access    *jwt.Token
	ID        *jwt.Token // nil when the service issued none (or Import got none)
	Refresh   jwt.Secret
	DeviceKey string
}

// CredentialsSource turns a session's tokens into AWS credentials (a Cognito
// identity pool, usually): what the Manager needs of a credentials source.
// identity.NewSessionCredentials provides one. A source may also implement
// CredentialsPool and CredentialsForgetter.
type CredentialsSource interface {
	Credentials(ctx context.Context, s *Session) (creds *aws.Credentials, identityID string, err error)
}

// CredentialsPool is implemented by a CredentialsSource whose credentials belong to
// one identity pool. The Manager records the pool with the credentials it stores,
// and never hands out stored credentials of another pool (a configuration that
// changed its identity pool, a store shared with a program that uses another): it
// gets new ones from its own source instead.
type CredentialsPool interface {
	IdentityPoolID() string
}

// Backoff bounds the retries of a failing refresh.
type Backoff struct {
	Attempts int           // tries per refresh, at least 1; default 3
	Base     time.Duration // first wait; default 200ms, doubled each try, with jitter
	Max      time.Duration // longest wait; default 5s
}

// Config configures a Manager.
type Config struct {
	// Cognito speaks to the user pool. Required.
	Cognito *cognito.Client
	// Store keeps the session between calls and across processes; a new memory
	// store when nil.
	Store store.Store
	// RefreshTokenValidity is the app client's refresh token lifetime
	// (Cognito's RefreshTokenValidity, 30 days unless the client says
	// otherwise). When set, every write of the session's record expires it
	// in the store when its refresh token does: at the sign-in (the access
	// token's auth_time, which refreshes keep) plus this, so a store with
	// expiries (store/redis, store/dynamodb) keeps nothing of a session that
	// can no longer be refreshed. Zero: records do not expire, and only a
	// sign-out or the service's refusal removes them. Devices and identity
	// IDs, which outlive a session, never expire.
	RefreshTokenValidity time.Duration
	// Username names the user whose session this Manager handles. When empty, the
	// Manager uses the store's current user for the pool and client (set at each
	// sign-in and import), which is what a CLI profile wants.
	Username string
	// Clock is the local clock; the system clock when nil.
	Clock clock.Clock
	// RefreshBefore is how long before expiry a token is refreshed; default 5
	// minutes, never more than half a token's lifetime.
	RefreshBefore time.Duration
	// BackgroundRefresh refreshes ahead of the window, with jitter, so that Fetch
	// callers never wait on the network.
	BackgroundRefresh bool
	// RefreshTimeout bounds one shared refresh, retries included; default 30s. It
	// does not depend on any caller's context.
	RefreshTimeout time.Duration
	// Backoff bounds retries of transient failures.
	Backoff Backoff
	// RetryAfterFailure is how long Fetch keeps serving still-valid tokens after a
	// transient refresh failure before trying again; default 30s. Each further
	// consecutive failure doubles the wait (with jitter), up to
	// MaxRetryAfterFailure, and never past the tokens' expiry.
	RetryAfterFailure time.Duration
	// MaxRetryAfterFailure caps the wait between tries of a failing refresh;
	// default 5 minutes.
	MaxRetryAfterFailure time.Duration
	// Credentials, when set, fills Session.Credentials and IdentityID. They are
	// renewed ahead of their expiry, and when the session has none (the source
	// failed at sign-in, say) they are due at once: asked for again at most every
	// RetryAfterFailure, without refreshing tokens that are fresh. While the source
	// fails, Fetch serves the session with the credentials that are still valid, or
	// with none, and a RefreshFailed event says why.
	Credentials CredentialsSource
	// Refresher refreshes the sessions obtained through the user pool API;
	// UserPool(Cognito) when nil. A test may put an in-memory fake here.
	Refresher Refresher
	// HostedUI refreshes the sessions obtained at the hosted UI (Import with
	// SourceHostedUI) at its /oauth2/token, the way they were obtained:
	// hostedui.NewRefresher or hostedui.NewDomainRefresher (see HostedUIRefresher).
	// Other sessions, and these too when it is nil, are refreshed through Cognito.
	HostedUI Refresher
	// Logger receives refresh failures (never tokens); slog.Default when nil.
	Logger *slog.Logger
	// ConfirmDevices confirms the new device of every sign-in in a pool that
	// tracks devices, as Amplify does, keeping its key and secret: in a pool that
	// always remembers devices, the user's next sign-in skips MFA with nothing more
	// to do. In a pool that remembers only on the user's word, call
	// Devices.UpdateStatus once they said yes. Without it, SignInResult.NewDevice is
	// left to the caller (Devices.Confirm, Devices.Remember).
	ConfirmDevices bool
	// DeviceName names the devices ConfirmDevices confirms, in Devices.List.
	DeviceName string
	// Breakers hold a token endpoint after a transient failure, for every
	// Manager that shares them (see Breakers). When nil, a Manager on the system
	// clock shares the process's (DefaultBreakers), and a Manager given a Clock
	// (a test's fake clock) gets breakers of its own on that clock.
	Breakers *Breakers

	// afterFunc schedules background refreshes; tests replace it.
	afterFunc func(time.Duration, func()) func() bool
}

// FetchOptions adjust one Fetch.
type FetchOptions struct {
	// ForceRefresh refreshes even when the tokens are fresh. When the refresh
	// cannot go through for a transient reason (network, throttling, store), Fetch
	// reports the retryable error instead of quietly handing back the old tokens;
	// the session is kept, and a Fetch without ForceRefresh still serves it while
	// its tokens are valid.
	ForceRefresh bool
	// MaxWait, when positive, bounds how long Fetch waits for a refresh (the
	// shared flight, a store lock, the service). Past it, Fetch returns the
	// tokens it holds if they are still valid, and otherwise a retryable error
	// matching ErrRefreshPending; either way the refresh goes on in the
	// background and serves the next Fetch. It is the web tier's
	// RefreshWait. ctx still bounds the whole call: when ctx ends first, Fetch
	// returns ctx's error, valid tokens or not (give ctx a deadline later than
	// MaxWait to get the tokens instead). Zero waits as long as ctx allows.
	MaxWait time.Duration
}

// ErrRefreshPending matches the error of a Fetch whose MaxWait ran out while
// the tokens it holds have expired and their refresh is still under way. It is
// retryable; the session is kept.
var ErrRefreshPending = errkind.New("session: the tokens have expired and their refresh is still under way", true)

// pendingError is ErrRefreshPending, retryable.
type pendingError struct{ wait time.Duration }

func (e *pendingError) Error() string {
	return ErrRefreshPending.Error() + " (waited " + e.wait.String() + ")"
}

// Unwrap makes the error match ErrRefreshPending.
func (e *pendingError) Unwrap() error { return ErrRefreshPending }

// RetryableError reports true: the refresh is under way.
func (e *pendingError) RetryableError() bool { return true }

var (
	// ErrSignedOut: there is no session (never signed in, signed out, or ended by
	// the service). errors.As to *SignedOutError for the reason.
	ErrSignedOut = errkind.New("session: not signed in", false)
	// ErrInvalidTokens: Import was given tokens that are malformed or belong to
	// another pool or client.
	ErrInvalidTokens = errkind.New("session: invalid tokens", false)
)

// SignedOutError says why a session ended. It matches ErrSignedOut and wraps the
// service error that ended it, if any.
type SignedOutError struct {
	Reason Reason
	Err    error
}

func (e *SignedOutError) Error() string {
	if e.Err == nil {
		return "session: not signed in (" + e.Reason.String() + ")"
	}
	return "session: signed out (" + e.Reason.String() + "): " + e.Err.Error()
}

func (e *SignedOutError) Unwrap() []error { return []error{ErrSignedOut, e.Err} }

// RetryableError is false: the session is over, and asking again will not bring
// it back (aws-sdk-go-v2's behaviour, read by retry.IsErrorRetryable).
func (e *SignedOutError) RetryableError() bool { return false }

// snap is what the refresh cache holds for a session: the session served, the
// record it came from and where it is stored. The cache's Entry adds when it is
// due (RefreshAt, local clock), when its tokens die (ExpiresAt) and the transient
// failure that holds it, if any (Stale, which a forced refresh reports).
type snap struct {
	sess    *Session
	rec     *record
	key     sessionKey
	version uint64
	// tokensRefreshAt is RefreshAt for the tokens alone; later than RefreshAt
	// only when the credentials are due first.
	tokensRefreshAt time.Time
	credsExpireAt   time.Time // local clock; sess's credentials are dead from here on (zero: none that expire)
	// unsaved marks a state whose rec the store could not take: fresh tokens
	// from a refresh, held in memory over version until the store is back.
	unsaved bool
}

// candidate is a refresh token that came in an answer that failed validation.
// With rotation on, the service may already have spent the stored token for it,
// so it is tried first at the next refresh of the same stored version; it is
// never stored until an answer to it passes validation, and lives only in this
// process's memory.
type candidate struct {
	key     sessionKey
	version uint64
	token   redact.Box[jwt.Secret] // boxed: no printing of a Manager reaches it
}

// state is what the cached path reads: one pointer load gives the session and the
// local time until which it may be served without a network call.
type state = refresh.Entry[snap]

// Manager keeps one user's session fresh: it is the token cache. Fetch, Token
// and Retrieve read it (httpauth.TokenSource(m) is its oauth2.TokenSource); SignIn, ConfirmSignIn, AutoSignIn and Import
// fill it; SignOut empties it; Subscribe reports what happens to it. What the
// signed-in user does with their account goes through the views Account, MFA,
// Passkeys and Devices. Create one Manager per signed-in user; they are cheap (a
// few words plus subscribers), and the Store is the only place the session lives
// between calls. Safe for concurrent use.
type Manager struct {
	cfg      Config
	pool     string // the identity pool of cfg.Credentials, if it names one
	breakers *Breakers
	// brk is the breaker of the endpoint of the last refresh: while it is held,
	// a refresh fails at once, before the store is read or locked.
	brk   atomic.Pointer[refresh.Breaker]
	cur   *refresh.Cache[snap]
	user  atomic.Pointer[string] // bound username, set by Config, sign-in or import
	rmu   sync.Mutex             // one refresh at a time in this process, even across flight keys
	cand  candidate              // guarded by rmu
	subs  subscribers
	timer struct {
		sync.Mutex
		stop   func() bool
		closed bool
	}
}

// New returns a Manager. It does no I/O: the stored session is read on first use.
func New(cfg Config) (*Manager, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	m := &Manager{cfg: cfg, breakers: cfg.Breakers, cur: refresh.New[snap](cfg.Clock, refresh.Policy{
		RefreshBefore:        cfg.RefreshBefore,
		RetryAfterFailure:    cfg.RetryAfterFailure,
		MaxRetryAfterFailure: cfg.MaxRetryAfterFailure,
		Timeout:              cfg.RefreshTimeout,
	})}
	if p, ok := cfg.Credentials.(CredentialsPool); ok {
		m.pool = p.IdentityPoolID()
	}
	if cfg.Username != "" {
		u := cfg.Username
		m.user.Store(&u)
	}
	return m, nil
}

// check refuses a Config without its Cognito client, with a negative
// RefreshTokenValidity or with a hosted UI client of another app client.
func (cfg *Config) check() error {
	if cfg.Cognito == nil {
		return errors.New("session: Config.Cognito is required")
	}
	if cfg.RefreshTokenValidity < 0 {
		return fmt.Errorf("session: Config.RefreshTokenValidity %v is negative", cfg.RefreshTokenValidity)
	}
	if h, ok := cfg.HostedUI.(HostedUIRefresher); ok && h.ClientID() != cfg.Cognito.ClientID() {
		// The token endpoint would refuse every refresh token of this client with
		// invalid_grant, and that ends sessions.
		return errors.New("session: Config.HostedUI is not a hosted UI client of Config.Cognito's app client")
	}
	return nil
}

// setDefaults fills what is left zero: the store, refresher and breakers,
// then the clock, durations, logger and scheduler.
func (cfg *Config) setDefaults() {
	if cfg.Store == nil {
		cfg.Store = store.NewMemory()
	}
	if cfg.Refresher == nil {
		cfg.Refresher = UserPool(cfg.Cognito)
	}
	if cfg.Breakers == nil {
		if _, system := cfg.Clock.(clock.System); cfg.Clock == nil || system {
			cfg.Breakers = DefaultBreakers()
		} else {
			cfg.Breakers = NewBreakers(BreakerOptions{Clock: cfg.Clock, Logger: cfg.Logger})
		}
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}
	cfg.setDurations()
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.afterFunc == nil {
		cfg.afterFunc = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
}

// setDurations fills the refresh window, timeout, backoff and failure wait
// left zero (or negative).
func (cfg *Config) setDurations() {
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{
		{&cfg.RefreshBefore, 5 * time.Minute},
		{&cfg.RefreshTimeout, 30 * time.Second},
		{&cfg.Backoff.Base, 200 * time.Millisecond},
		{&cfg.Backoff.Max, 5 * time.Second},
		{&cfg.RetryAfterFailure, 30 * time.Second},
	} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	if cfg.Backoff.Attempts <= 0 {
		cfg.Backoff.Attempts = 3
	}
}

// Close stops background refreshes and event delivery. The stored session stays.
func (m *Manager) Close() error {
	m.timer.Lock()
	m.timer.closed = true
	if m.timer.stop != nil {
		m.timer.stop()
	}
	m.timer.Unlock()
	m.subs.closeAll()
	return nil
}

// Fetch returns the current session. While the tokens are outside the refresh
// window it makes no call, takes no lock and allocates nothing. Otherwise it
// refreshes, sharing one refresh among all concurrent callers; a caller whose ctx
// ends stops waiting but does not cancel the refresh for the others.
//
// Transient failures (network, timeouts, 5xx, throttling) never end the session:
// Fetch returns the tokens while they are valid, and a retryable error once they
// are not (its RetryableError reports true, as aws-sdk-go-v2's retryers read it; when the token
// endpoint is held by Config.Breakers, at once and with nothing sent). Only a definitive
// answer from the service ends it, with an error matching ErrSignedOut.
// FetchOptions.MaxWait bounds the wait for a refresh; ctx bounds the call.
func (m *Manager) Fetch(ctx context.Context, opts FetchOptions) (*Session, error) {
	if !opts.ForceRefresh {
		if st, ok := m.cur.Fresh(); ok {
			return st.Value.sess, nil
		}
	}
	if opts.MaxWait > 0 {
		return m.fetchWithin(ctx, opts)
	}
	return m.fetchSlow(ctx, opts.ForceRefresh, 0)
}

// fetchWithin is fetchSlow bounded by opts.MaxWait (see FetchOptions).
func (m *Manager) fetchWithin(ctx context.Context, opts FetchOptions) (*Session, error) {
	wctx, cancel := context.WithTimeout(ctx, opts.MaxWait)
	defer cancel()
	s, err := m.fetchSlow(wctx, opts.ForceRefresh, 0)
	if err == nil || ctx.Err() != nil || wctx.Err() == nil || !errors.Is(err, wctx.Err()) {
		return s, err
	}
	// The wait ran out, not the caller's patience: the flight goes on.
	if st := m.cur.Load(); !opts.ForceRefresh && st != nil && st.Value.sess != nil && m.valid(st) {
		return st.Value.sess, nil
	}
	return nil, &pendingError{wait: opts.MaxWait}
}

// Token returns the access token, for HTTP clients: the shape
// `Token(ctx, forceRefresh) (string, error)` that httpauth expects.
func (m *Manager) Token(ctx context.Context, forceRefresh bool) (string, error) {
	s, err := m.Fetch(ctx, FetchOptions{ForceRefresh: forceRefresh})
	if err != nil {
		return "", err
	}
	return s.Tokens.Access.Raw(), nil
}

// fetchSlow refreshes through the shared flight. lead > 0 (background refresh)
// treats tokens as due that early.
func (m *Manager) fetchSlow(ctx context.Context, force bool, lead time.Duration) (*Session, error) {
	key := "fetch"
	if force {
		key = "force"
	}
	st, err := m.cur.Do(ctx, key, func(rctx context.Context) (*state, error) {
		return m.refresh(rctx, force, lead)
	})
	if err != nil {
		return nil, err
	}
	if force && st.Stale != nil {
		return nil, fmt.Errorf("session: forced refresh did not go through; the current tokens stay in use: %w", st.Stale)
	}
	return st.Value.sess, nil
}

// key returns the store key of the bound user, reading the store's current user
// when none is bound yet.
func (m *Manager) key(ctx context.Context) (sessionKey, error) {
	k := sessionKey{Pool: m.cfg.Cognito.UserPoolID(), Client: m.cfg.Cognito.ClientID()}
	if u := m.user.Load(); u != nil {
		k.User = *u
		return k, nil
	}
	u, err := currentUser(ctx, m.cfg.Store, k.Pool, k.Client)
	if errors.Is(err, store.ErrNotFound) {
		return k, &SignedOutError{Reason: ReasonNone}
	}
	if err != nil {
		return k, fmt.Errorf("session: %w", err)
	}
	k.User = u
	return k, nil
}

// load reads the stored session. A missing one is a *SignedOutError; unreadable data
// is an error of its own, never a sign-out.
func (m *Manager) load(ctx context.Context) (*state, error) {
	k, err := m.key(ctx)
	if err != nil {
		return nil, err
	}
	return m.loadKey(ctx, k)
}

// loadKey is load for a known key.
func (m *Manager) loadKey(ctx context.Context, k sessionKey) (*state, error) {
	e, err := m.cfg.Store.Get(ctx, k.store())
	if errors.Is(err, store.ErrNotFound) {
		return nil, &SignedOutError{Reason: ReasonNone}
	}
	if err != nil {
		return nil, fmt.Errorf("session: reading %s: %w", k, err)
	}
	rec, err := decodeRecord(e.Data)
	if err != nil {
		return nil, fmt.Errorf("session: reading %s: %w", k, err)
	}
	return m.newState(k, e.Version, rec)
}

// newState decodes rec and works out, on the local clock, when to refresh.
func (m *Manager) newState(k sessionKey, version uint64, rec *record) (*state, error) {
	sess, err := rec.session()
	if err != nil {
		return nil, fmt.Errorf("session: %s: %w", k, err)
	}
	offset := time.Duration(rec.ClockOffset)
	exp := sess.Tokens.Access.ExpiresAt()
	issued := sess.Tokens.Access.IssuedAt()
	if id := sess.Tokens.ID; id != nil && id.ExpiresAt().Before(exp) {
		exp = id.ExpiresAt()
	}
	// Server time to local time: the token's times are the service's. The
	// window is capped at half the token's own lifetime: short-lived tokens (5
	// minutes is allowed) would otherwise be refreshed on every call.
	expLocal := exp.Add(-offset)
	if issued.IsZero() || !issued.Before(exp) {
		issued = exp.Add(-2 * m.cur.Policy().RefreshBefore)
	}
	window := m.cur.Policy().Window(issued, exp)
	refreshAt := expLocal.Add(-window)
	st := &state{Value: snap{sess: sess, rec: rec, key: k, version: version, tokensRefreshAt: refreshAt}, RefreshAt: refreshAt, ExpiresAt: expLocal}
	if m.cfg.Credentials == nil || rec.IdentityPool != m.pool {
		// Credentials this Manager cannot renew, or another identity pool's: never
		// handed out. Without a source they are not asked for either.
		sess.Credentials, sess.IdentityID = nil, ""
	}
	if m.cfg.Credentials == nil {
		return st, nil
	}
	switch c := sess.Credentials; {
	case c == nil:
		// Missing credentials are due now (the zero time is before any clock
		// reading); a failed try holds them off for RetryAfterFailure.
		st.RefreshAt = time.Time{}
	case c.CanExpire:
		st.Value.credsExpireAt = c.Expires
		if cr := c.Expires.Add(-window); cr.Before(st.RefreshAt) {
			st.RefreshAt = cr
		}
	}
	return st, nil
}

// publish makes st what Fetch serves and schedules the background refresh.
func (m *Manager) publish(st *state) {
	m.cur.Store(st)
	if st.Value.sess != nil && m.cfg.BackgroundRefresh {
		m.schedule(st)
	}
}

// unpublish forgets the cached session.
func (m *Manager) unpublish() {
	m.cur.Store(nil)
	m.timer.Lock()
	if m.timer.stop != nil {
		m.timer.stop()
		m.timer.stop = nil
	}
	m.timer.Unlock()
}

// valid reports whether st's tokens are still usable now.
func (m *Manager) valid(st *state) bool {
	return st != nil && m.cfg.Clock.Now().Before(st.ExpiresAt)
}

// refresh runs inside the shared flight: it takes the session's store lock,
// re-reads the session under it and refreshes what is due.
func (m *Manager) refresh(ctx context.Context, force bool, lead time.Duration) (*state, error) {
	m.rmu.Lock()
	defer m.rmu.Unlock()
	due := m.cfg.Clock.Now().Add(lead)
	if st := m.cur.Load(); !force && st != nil && due.Before(st.RefreshAt) {
		// A flight that finished just before this one may already have done the
		// work, or a failure holds the next try off.
		return st, nil
	}
	if b := m.brk.Load(); b != nil {
		if err := b.Check(); err != nil {
			// The endpoint of the last refresh is held: fail at once, without
			// the store's lock or a read.
			return m.transientFailure(ctx, m.cur.Load(), err, "cogauth: token refresh failed", false)
		}
	}
	k, err := m.key(ctx)
	if err != nil {
		return m.storeFailed(ctx, err)
	}
	if l, ok := m.cfg.Store.(store.Locker); ok {
		unlock, err := l.Lock(ctx, k.store())
		if err != nil {
			return m.storeFailed(ctx, fmt.Errorf("session: locking %s: %w", k, err))
		}
		defer unlock()
	}
	// Re-read under the lock: another process may have refreshed (and rotated the
	// refresh token) while this one waited.
	st, err := m.loadKey(ctx, k)
	if err != nil {
		return m.storeFailed(ctx, err)
	}
	if st, err = m.saveUnsaved(ctx, st); err != nil {
		return m.storeFailed(ctx, err)
	}
	return m.refreshDue(ctx, st, force, due)
}

// saveUnsaved writes the tokens this process holds when they are newer than
// the store's st, which nobody changed since, before anyone spends the stored
// refresh token; it returns what the store then holds.
func (m *Manager) saveUnsaved(ctx context.Context, st *state) (*state, error) {
	cur := m.cur.Load()
	if cur == nil || !cur.Value.unsaved || cur.Value.key != st.Value.key || cur.Value.version != st.Value.version {
		return st, nil
	}
	return m.save(ctx, cur.Value.key, cur.Value.version, cur.Value.rec)
}

// refreshDue refreshes what is due at due of the stored session st (under its
// lock): nothing, the credentials alone, or the tokens.
func (m *Manager) refreshDue(ctx context.Context, st *state, force bool, due time.Time) (*state, error) {
	switch {
	case !force && due.Before(st.RefreshAt):
		m.publish(st)
		return st, nil
	case !force && due.Before(st.Value.tokensRefreshAt):
		// Only credentials are due.
		return m.refreshCredentials(ctx, st)
	case st.Value.rec.RefreshToken == "":
		return m.withoutRefreshToken(ctx, st, force)
	}
	return m.refreshTokens(ctx, st)
}

// withoutRefreshToken handles a due session that has no refresh token (Import
// without one): it ends when its tokens do.
func (m *Manager) withoutRefreshToken(ctx context.Context, st *state, force bool) (*state, error) {
	if !m.valid(st) {
		return nil, m.end(ctx, st, ReasonExpired, errors.New("session: no refresh token"))
	}
	if force {
		return nil, errNoRefreshToken
	}
	// Nothing to do until the tokens die but look for new ones in the store
	// (an Import elsewhere) now and then, rather than on every call.
	held := m.hold(st, nil)
	m.publish(held)
	return held, nil
}

// refreshTokens trades st's refresh token (or the candidate kept from the last
// try on the same record) for new tokens and stores them.
func (m *Manager) refreshTokens(ctx context.Context, st *state) (*state, error) {
	var cand jwt.Secret
	if m.cand.key == st.Value.key && m.cand.version == st.Value.version {
		cand = m.cand.token.Get()
	}
	res, cand, err := m.callRefresh(ctx, st, cand)
	m.cand = candidate{key: st.Value.key, version: st.Value.version, token: redact.NewBox(cand)}
	if err != nil {
		return m.refreshFailed(ctx, st, err)
	}
	rec := *st.Value.rec
	rec.AccessToken = res.AccessToken.Reveal()
	if res.IDToken != "" {
		rec.IDToken = res.IDToken.Reveal()
	}
	if res.RefreshToken != "" {
		rec.RefreshToken = res.RefreshToken.Reveal()
	}
	rec.ClockOffset = int64(m.offset(res.ServerTime, res.AccessToken))
	next, err := m.save(ctx, st.Value.key, st.Value.version, &rec)
	if err != nil {
		return m.saveFailed(ctx, st, &rec, err)
	}
	m.emit(Event{Kind: TokenRefreshed, Username: next.Value.sess.Username})
	return m.withCredentials(ctx, next)
}

// errNoRefreshToken: ForceRefresh on a session that has no refresh token (Import
// without one). The session stays until its tokens expire.
var errNoRefreshToken = errkind.New("session: the session has no refresh token to refresh with", false)

// refresher returns how rec's session is refreshed: the way it was obtained.
func (m *Manager) refresher(rec *record) Refresher {
	if rec.Source.orDefault() == SourceHostedUI && m.cfg.HostedUI != nil {
		if h, ok := m.cfg.HostedUI.(HostedUIRefresher); !ok || h.Serves(rec.Domain) {
			return m.cfg.HostedUI
		}
	}
	return m.cfg.Refresher
}

// callRefresh calls the service, retrying transient failures with capped,
// jittered exponential backoff while ctx allows. An answer is validated before
// it is returned: tokens that do not parse, or are for another pool, client or
// user, are a fault of the service like a 5xx, retried and never stored.
//
// cand, when set, is tried first (see candidate); callRefresh returns the
// candidate to keep for the next try ("" for none).
func (m *Manager) callRefresh(ctx context.Context, st *state, cand jwt.Secret) (*RefreshResult, jwt.Secret, error) {
	rec := st.Value.rec
	stored := jwt.Secret(rec.RefreshToken)
	req := RefreshRequest{RefreshToken: stored, Username: rec.Username, DeviceKey: rec.DeviceKey, Source: rec.Source.orDefault(), Domain: rec.Domain}
	if cand != "" {
		req.RefreshToken = cand
	}
	r := m.refresher(rec)
	b := m.breaker(r, req)
	if b != nil {
		m.brk.Store(b)
	}
	var err error
	again := false
	for attempt := 0; attempt < m.cfg.Backoff.Attempts; attempt++ {
		if attempt > 0 {
			if werr := refresh.Sleep(ctx, refresh.Backoff{Base: m.cfg.Backoff.Base, Max: m.cfg.Backoff.Max}.Delay(attempt)); werr != nil {
				break
			}
		}
		var res *RefreshResult
		res, again, err = m.callOnce(ctx, r, b, req, again)
		if held := (*refresh.HeldError)(nil); errors.As(err, &held) {
			// The endpoint is held: nothing was sent, and trying again now would
			// send nothing either.
			return nil, cand, err
		}
		if err == nil {
			if err = m.checkRefreshed(st, res); err == nil {
				return keepCandidate(res, req, stored), "", nil
			}
			if next := rotated(res, req); next != "" {
				req.RefreshToken, cand = next, next
			}
		}
		_, definitive := rejectionReason(err)
		if definitive && req.RefreshToken != stored {
			// A refused candidate (garbage planted in a bad answer, say) proves
			// nothing about the stored token: go on with that one.
			req.RefreshToken, cand = stored, ""
			continue
		}
		if definitive || !errkind.Retryable(err) {
			return nil, cand, err
		}
	}
	return nil, cand, err
}

// keepCandidate returns res, a valid answer to req: when req sent a candidate
// instead of the stored refresh token and the answer rotated nothing, the
// candidate is the one to keep.
func keepCandidate(res *RefreshResult, req RefreshRequest, stored jwt.Secret) *RefreshResult {
	if res.RefreshToken == "" && req.RefreshToken != stored {
		res.RefreshToken = req.RefreshToken
	}
	return res
}

// rotated returns the refresh token an answer that failed validation brought
// in place of req's, if any: the service may have rotated the token it was
// given, and the new one is then the only one left that works. It is tried
// next, and never stored before an answer to it passes validation.
func rotated(res *RefreshResult, req RefreshRequest) jwt.Secret {
	if res != nil && res.RefreshToken != "" && len(res.RefreshToken) <= maxTokenSize && res.RefreshToken != req.RefreshToken {
		return res.RefreshToken
	}
	return ""
}

// callOnce sends one refresh, through the endpoint's breaker when there is one;
// again as Breaker.Do reports it.
func (m *Manager) callOnce(ctx context.Context, r Refresher, b *refresh.Breaker, req RefreshRequest, retry bool) (*RefreshResult, bool, error) {
	if b == nil {
		res, err := r.Refresh(ctx, req)
		return res, false, err
	}
	var res *RefreshResult
	again, err := b.Do(ctx, retry, func(ctx context.Context) error {
		var err error
		res, err = r.Refresh(ctx, req)
		return err
	}, endpointFailed)
	return res, again, err
}

// endpointFailed tells a transient failure of the endpoint (timeout, network,
// 5xx, throttling, an answer that is not the API's) from an answer: a
// definitive one about the refresh token, or a refusal of the request.
func endpointFailed(err error) bool {
	if _, definitive := rejectionReason(err); definitive {
		return false
	}
	return errkind.Retryable(err)
}

// checkRefreshed validates a refresh's answer against the session it renews.
func (m *Manager) checkRefreshed(st *state, res *RefreshResult) error {
	if res == nil || res.AccessToken == "" {
		return &answerError{rule: "the refresh returned no access token"}
	}
	if len(res.RefreshToken) > maxTokenSize {
		return &answerError{rule: fmt.Sprintf("the refresh token is longer than %d bytes", maxTokenSize)}
	}
	want := expectation{
		pool: m.cfg.Cognito.UserPoolID(), client: m.cfg.Cognito.ClientID(),
		sub: st.Value.sess.UserSub, username: st.Value.rec.Username,
		now: m.cfg.Clock.Now().Add(m.offset(res.ServerTime, res.AccessToken)),
	}
	_, err := checkTokens(want, res.AccessToken.Reveal(), res.IDToken.Reveal())
	return err
}

// refreshFailed applies the failure policy.
func (m *Manager) refreshFailed(ctx context.Context, st *state, err error) (*state, error) {
	if reason, definitive := rejectionReason(err); definitive {
		if reason == ReasonTokenReuse {
			// Another holder may have rotated the token and saved the new one; that
			// is not a reason to end the session. Check before giving up.
			if cur, lerr := m.load(ctx); lerr == nil && cur.Value.version != st.Value.version && cur.Value.rec.RefreshToken != st.Value.rec.RefreshToken {
				m.publish(cur)
				return cur, nil
			}
		}
		return nil, m.end(ctx, st, reason, err)
	}
	return m.transientFailure(ctx, st, err, "cogauth: token refresh failed", false)
}

// transientFailure keeps serving st while its tokens are valid (from the next try
// on, RetryAfterFailure away), and reports err once they are not. It never ends
// the session.
func (m *Manager) transientFailure(ctx context.Context, st *state, err error, msg string, refreshed bool) (*state, error) {
	retryable := errkind.Retryable(err)
	user := ""
	if st != nil {
		user = st.Value.sess.Username
	} else if u := m.user.Load(); u != nil {
		user = *u
	}
	m.emit(Event{Kind: RefreshFailed, Username: user, Err: err, Retryable: retryable})
	level := slog.LevelWarn
	if held := (*refresh.HeldError)(nil); errors.As(err, &held) {
		// The breaker logged the hold once for every session.
		level = slog.LevelDebug
	}
	m.cfg.Logger.LogAttrs(ctx, level, msg, slog.String("user", user), slog.Bool("retryable", retryable), slog.String("error", err.Error()))
	if m.valid(st) {
		// Keep serving the tokens, but not by hammering the service on every call.
		var stale error
		if !refreshed {
			stale = err
		}
		held := m.hold(st, stale)
		m.publish(held)
		return held, nil
	}
	m.unpublish()
	if st == nil {
		// Nothing was being served (a new Manager, say): there are no tokens to
		// speak of, only the failure.
		return nil, err
	}
	return nil, fmt.Errorf("session: refresh failed and the tokens have expired: %w", err)
}

// hold returns st to serve until the next try after the transient failure err
// (nil when there is nothing to report: the tokens did refresh, say): the
// policy's backoff for one more consecutive failure, never past its tokens' or
// credentials' expiry, and without its credentials once they expired.
func (m *Manager) hold(st *state, err error) *state {
	now := m.cfg.Clock.Now()
	held := m.cur.Held(st, err)
	if c := held.Value.credsExpireAt; !c.IsZero() && !now.Before(c) {
		s := *held.Value.sess
		s.Credentials = nil
		held.Value.sess, held.Value.credsExpireAt = &s, time.Time{}
	}
	if c := held.Value.credsExpireAt; !c.IsZero() && held.RefreshAt.After(c) {
		held.RefreshAt = c
	}
	return held
}

// ErrStoreUnavailable matches the errors of a Store, or of its lock, that could
// not be reached (a Redis server down, a file lock that timed out). Such a failure
// is transient, as a network failure of the service is: it never ends the
// session, Fetch keeps serving tokens that are still valid, and the error is
// retryable (its RetryableError reports true).
var ErrStoreUnavailable = errkind.New("session: the session store is unavailable", true)

type storeError struct{ err error }

func (e *storeError) Error() string { return ErrStoreUnavailable.Error() + ": " + e.err.Error() }

// Unwrap lists ErrStoreUnavailable first: its RetryableError (true) decides,
// whatever the store's own error says.
func (e *storeError) Unwrap() []error { return []error{ErrStoreUnavailable, e.err} }

// storeFailed applies the failure policy to an error of the store or its lock
// met on the way to a refresh. "Signed out" (nothing stored) passes through, and
// so do data that cannot be read and keys that cannot be valid, which trying
// again will not mend; everything else means the store could not be reached.
func (m *Manager) storeFailed(ctx context.Context, err error) (*state, error) {
	var so *SignedOutError
	if errors.As(err, &so) {
		m.unpublish()
		return nil, err
	}
	if errors.Is(err, errBadRecord) || errors.Is(err, store.ErrCorrupt) || errors.Is(err, store.ErrInvalidKey) {
		return nil, err
	}
	return m.transientFailure(ctx, m.cur.Load(), &storeError{err: err}, "cogauth: session store unavailable", false)
}

// saveFailed handles a store that would not take the tokens a refresh just
// brought. They are the only live ones when the refresh token rotated, so rather
// than losing them this process serves them, and writes them at its next refresh
// if the store still holds what they replaced. A write that lost a race (a
// conflict), or data that cannot be read, is reported as it is.
func (m *Manager) saveFailed(ctx context.Context, st *state, rec *record, err error) (*state, error) {
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrCorrupt) || errors.Is(err, store.ErrInvalidKey) {
		return nil, err
	}
	next, nerr := m.newState(st.Value.key, st.Value.version, rec)
	if nerr != nil {
		return nil, nerr
	}
	next.Value.unsaved = true
	return m.transientFailure(ctx, next, &storeError{err: err}, "cogauth: could not store refreshed tokens", true)
}

// end deletes a session the service has ended and tells subscribers why.
func (m *Manager) end(ctx context.Context, st *state, reason Reason, cause error) error {
	m.unpublish()
	if err := m.cfg.Store.Delete(ctx, st.Value.key.store(), st.Value.version); err != nil && !errors.Is(err, store.ErrConflict) {
		m.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "cogauth: could not delete ended session", slog.String("key", st.Value.key.String()), slog.String("error", err.Error()))
	}
	m.clearCurrent(ctx, st.Value.key)
	// The service ended the session: the user is as signed out as after SignOut.
	if err := m.forgetCredentials(ctx, st.Value.sess); err != nil {
		m.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "cogauth: could not forget the ended session's AWS identity", slog.String("key", st.Value.key.String()), slog.String("error", err.Error()))
	}
	m.emit(Event{Kind: SignedOut, Username: st.Value.key.User, Reason: reason, Err: cause})
	return &SignedOutError{Reason: reason, Err: cause}
}

// clearCurrent drops the store's current-user record if it names k's user.
func (m *Manager) clearCurrent(ctx context.Context, k sessionKey) {
	if u, err := currentUser(ctx, m.cfg.Store, k.Pool, k.Client); err == nil && u == k.User {
		_ = setCurrentUser(ctx, m.cfg.Store, k.Pool, k.Client, "")
	}
}

// recordExpiry is when rec's refresh token expires (Config.RefreshTokenValidity
// after the sign-in), or zero when the Manager was told no lifetime. An access
// token without auth_time counts from now, which is later than the sign-in.
func (m *Manager) recordExpiry(rec *record) time.Time {
	if m.cfg.RefreshTokenValidity <= 0 {
		return time.Time{}
	}
	from := m.cfg.Clock.Now()
	if t, err := jwt.Decode(rec.AccessToken); err == nil {
		if at := t.Claims().AuthTime; !at.IsZero() {
			from = at.Add(-time.Duration(rec.ClockOffset)) // the service's time, read on ours
		}
	}
	return from.Add(m.cfg.RefreshTokenValidity)
}

// save writes rec with compare-and-swap and publishes it.
func (m *Manager) save(ctx context.Context, k sessionKey, version uint64, rec *record) (*state, error) {
	data, err := rec.encode()
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	v, err := m.cfg.Store.Put(ctx, k.store(), data, version, m.recordExpiry(rec))
	if err != nil {
		return nil, fmt.Errorf("session: saving %s: %w", k, err)
	}
	st, err := m.newState(k, v, rec)
	if err != nil {
		return nil, err
	}
	m.publish(st)
	return st, nil
}

// withCredentials adds AWS credentials to a state that has fresh tokens.
func (m *Manager) withCredentials(ctx context.Context, st *state) (*state, error) {
	if m.cfg.Credentials == nil {
		return st, nil
	}
	return m.refreshCredentials(ctx, st)
}

// errNoCredentials: a CredentialsSource answered with neither credentials nor an
// error.
var errNoCredentials = errkind.New("session: the credentials source returned no credentials", true)

// refreshCredentials gets new credentials for st, whose tokens are fresh. A
// failure leaves the session as it is (still-valid credentials, or none) and holds
// the next try off for RetryAfterFailure: it never fails the tokens.
func (m *Manager) refreshCredentials(ctx context.Context, st *state) (*state, error) {
	creds, id, err := m.cfg.Credentials.Credentials(ctx, st.Value.sess)
	if err == nil && creds == nil {
		err = errNoCredentials
	}
	if err != nil {
		retryable := errkind.Retryable(err)
		m.emit(Event{Kind: RefreshFailed, Username: st.Value.sess.Username, Err: err, Retryable: retryable})
		m.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "cogauth: AWS credentials refresh failed", slog.String("user", st.Value.sess.Username), slog.Bool("retryable", retryable), slog.String("error", err.Error()))
		held := m.hold(st, nil)
		m.publish(held)
		return held, nil
	}
	rec := *st.Value.rec
	rec.setCredentials(creds, id, m.pool)
	next, err := m.save(ctx, st.Value.key, st.Value.version, &rec)
	if err != nil {
		return m.saveFailed(ctx, st, &rec, err)
	}
	m.emit(Event{Kind: CredentialsRefreshed, Username: next.Value.sess.Username})
	return next, nil
}

// offset estimates server time minus local time from the answer's Date header, or
// from the new token's iat when there is none.
func (m *Manager) offset(server time.Time, access jwt.Secret) time.Duration {
	now := m.cfg.Clock.Now()
	if server.IsZero() {
		if at, err := jwt.Decode(access.Reveal()); err == nil && !at.IssuedAt().IsZero() {
			server = at.IssuedAt()
		}
	}
	if server.IsZero() {
		return 0
	}
	d := server.Sub(now)
	// Both sources have one-second resolution; below that, drift is noise.
	if d > -time.Second && d < time.Second {
		return 0
	}
	return d
}

// definitiveReason tells whether err ends the session, and why.
func definitiveReason(err error) (Reason, bool) {
	var ce *cognito.Error
	if !errors.As(err, &ce) {
		return 0, false
	}
	switch {
	case errors.Is(err, cognito.ErrNotAuthorized):
		return notAuthorizedReason(ce.Message), true
	case errors.Is(err, cognito.ErrTokenRevoked):
		return ReasonRevoked, true
	case errors.Is(err, cognito.ErrUserNotFound):
		return ReasonUserGone, true
	case errors.Is(err, cognito.ErrPasswordResetRequired):
		return ReasonPasswordReset, true
	case errors.Is(err, cognito.ErrUserNotConfirmed):
		return ReasonNotConfirmed, true
	case errors.Is(err, cognito.ErrRefreshTokenReuse):
		return ReasonTokenReuse, true
	}
	return 0, false
}
