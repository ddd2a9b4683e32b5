package websession

import (
	"context"
	"crypto/rand"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/httpauth"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/session"
	"github.com/cogauth/cogauth/store"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

const (
	alice    = "alice"
	password = "Correct-Horse-9"
)

// fixture is an emulator with a hosted UI app client, and an app (one or more
// replicas of Sessions behind one listener, round robin) on loopback.
type fixture struct {
	t        testing.TB
	clk      *clock.Fake
	emu      *emulator.Server
	pool     string
	clientID string
	base     string
	store    store.Store
	bus      Bus
	secret   []byte
	replicas []*Sessions
	next     atomic.Uint64
	srv      *httptest.Server
	api      *tokenAPI
	// pin, when >= 0, sends every request to that replica.
	pin atomic.Int64
	// down sends the replicas' hosted UI requests to a closed port: Cognito's
	// domain unreachable.
	down   atomic.Bool
	closed string

	mu       sync.Mutex
	statuses []string // "METHOD /path status" of every app request
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// answered returns the statuses the app gave to requests of method and path.
func (f *fixture) answered(method, path string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, s := range f.statuses {
		if strings.HasPrefix(s, method+" "+path+" ") {
			out = append(out, strings.TrimPrefix(s, method+" "+path+" "))
		}
	}
	return out
}

// outage sends requests to a closed port while f.down is set.
type outage struct{ f *fixture }

func (o outage) RoundTrip(r *http.Request) (*http.Response, error) {
	if o.f.down.Load() {
		r = r.Clone(r.Context())
		r.URL.Host = o.f.closed
	}
	return http.DefaultTransport.RoundTrip(r)
}

type fixtureOptions struct {
	replicas int
	tls      bool
	rotation bool
	grace    time.Duration
	// refreshValidity is the app client's refresh-token lifetime (0: Cognito's
	// default, 30 days).
	refreshValidity time.Duration
	// store gives replica i its store (sharing one backend), on the fixture's
	// clock; nil: one memory store.
	store  func(i int, clk clock.Clock) store.Store
	bus    func(i int) Bus
	config func(*Config)
}

func newFixture(t testing.TB, o fixtureOptions) *fixture {
	t.Helper()
	if o.replicas == 0 {
		o.replicas = 1
	}
	clk := clock.NewFake(t0)
	emu := emulator.NewServer(emulator.Options{Clock: clk, SelfIssuer: true, Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
		Name: "web",
		Users: []emulator.SeedUser{{Username: alice, Password: password, Attributes: map[string]string{
			"email": "alice@example.com", "email_verified": "true",
		}}},
	}}}})
	t.Cleanup(emu.Close)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	scheme := "http"
	if o.tls {
		scheme = "https"
	}
	f := &fixture{t: t, clk: clk, emu: emu, pool: emu.PoolID("web"), base: scheme + "://" + l.Addr().String()}
	f.pin.Store(-1)
	cl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.closed = cl.Addr().String()
	cl.Close()
	c, err := emu.CreateUserPoolClient(f.pool, emulator.SeedClient{
		Name: "web", AllowedOAuthFlows: []string{"code"}, AllowedOAuthScopes: []string{"openid", "email", "profile", "aws.cognito.signin.user.admin"},
		CallbackURLs: []string{f.base + "/auth/callback"}, LogoutURLs: []string{f.base + "/"},
		ExplicitAuthFlows:    []string{"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
		RefreshTokenRotation: o.rotation, RetryGracePeriod: emulator.Duration(o.grace),
		RefreshTokenValidity: emulator.Duration(o.refreshValidity),
	})
	if err != nil {
		t.Fatal(err)
	}
	f.clientID = c.ID
	f.secret = make([]byte, 32)
	rand.Read(f.secret)
	shared := store.Store(&store.Memory{Clock: clk})
	f.store = shared
	mbus := NewMemoryBus()
	f.bus = mbus
	for i := range o.replicas {
		st := shared
		if o.store != nil {
			st = o.store(i, clk)
		}
		var bus Bus = mbus
		if o.bus != nil {
			bus = o.bus(i)
		}
		f.replicas = append(f.replicas, f.newSessions(st, bus, o.config))
	}
	f.api = newTokenAPI(t, emu, f.pool, f.clientID, clk)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		i := f.pin.Load()
		if i < 0 {
			i = int64(f.next.Add(1)-1) % int64(len(f.replicas))
		}
		rec := &statusRecorder{ResponseWriter: rw, status: http.StatusOK}
		f.handler(f.replicas[i]).ServeHTTP(rec, r)
		f.mu.Lock()
		f.statuses = append(f.statuses, r.Method+" "+r.URL.Path+" "+strconv.Itoa(rec.status))
		f.mu.Unlock()
	}))
	srv.Listener.Close()
	srv.Listener = l
	if o.tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	f.srv = srv
	return f
}

func (f *fixture) newSessions(st store.Store, bus Bus, adjust func(*Config)) *Sessions {
	f.t.Helper()
	cc, err := cognito.New(cognito.Options{UserPoolID: f.pool, ClientID: f.clientID, Endpoint: f.emu.URL, Clock: f.clk})
	if err != nil {
		f.t.Fatal(err)
	}
	v, err := jwt.NewVerifier(jwt.VerifierOptions{Issuers: []string{f.emu.Issuer(f.pool)}, ClientIDs: []string{f.clientID}, Clock: f.clk})
	if err != nil {
		f.t.Fatal(err)
	}
	cfg := Config{
		Session: session.Config{Cognito: cc}, Domain: f.emu.URL, Verifier: v, BaseURL: f.base, Secret: f.secret,
		Store: st, Bus: bus, Clock: f.clk, Scopes: []string{"openid", "email", "profile", "aws.cognito.signin.user.admin"},
		IdleTimeout: 2 * time.Hour, AbsoluteTimeout: 12 * time.Hour,
		HTTPClient: &http.Client{Transport: outage{f}},
	}
	if adjust != nil {
		adjust(&cfg)
	}
	w, err := New(cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { w.Close() })
	return w
}

// handler is the test app of one replica (appHandler).
func (f *fixture) handler(w *Sessions) http.Handler { return appHandler(w, f.api.URL) }

// appHandler is the test app: "/" greets the user, "/open" and the favicon
// (a static asset, which browsers fetch on their own) need no user,
// "/api/call" calls the API at apiURL with the user's access token, and
// everything else needs a user.
func appHandler(w *Sessions, apiURL string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /open", func(rw http.ResponseWriter, r *http.Request) { io.WriteString(rw, "open") })
	mux.HandleFunc("GET /favicon.ico", func(rw http.ResponseWriter, r *http.Request) { rw.WriteHeader(http.StatusNoContent) })
	mux.Handle("POST /signout-everywhere", w.Require(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		u, _ := UserFrom(r.Context())
		if err := u.SignOut(r.Context(), session.SignOutOptions{Global: true}); err != nil {
			http.Error(rw, err.Error(), http.StatusBadGateway)
			return
		}
		io.WriteString(rw, "signed out everywhere")
	})))
	// /api/call calls an API that verifies the user's access token.
	mux.Handle("GET /api/call", w.Require(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		u, _ := UserFrom(r.Context())
		resp, err := httpauth.NewClient(u, httpauth.Bearer).Get(apiURL + "/whoami")
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		rw.WriteHeader(resp.StatusCode)
		io.Copy(rw, resp.Body)
	})))
	mux.Handle("/", w.Require(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		u, _ := UserFrom(r.Context())
		io.WriteString(rw, "hello "+u.Username+" at "+r.URL.Path)
	})))
	return w.Handler(mux)
}

// tokenAPI is an API on loopback that verifies the user's access token with
// httpauth and remembers the JTI of every token it accepted.
type tokenAPI struct {
	*httptest.Server
	mu     sync.Mutex
	jtis   []string
	tokens []string // the raw access tokens accepted, in order
}

func newTokenAPI(t testing.TB, emu *emulator.Server, pool, clientID string, clk clock.Clock) *tokenAPI {
	t.Helper()
	av, err := jwt.NewVerifier(jwt.VerifierOptions{Issuers: []string{emu.Issuer(pool)}, ClientIDs: []string{clientID}, TokenUse: jwt.AccessToken, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	a := &tokenAPI{}
	a.Server = httptest.NewServer(httpauth.Middleware(av)(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		c, _ := httpauth.ClaimsFrom(r.Context())
		a.mu.Lock()
		a.jtis = append(a.jtis, c.JTI)
		a.tokens = append(a.tokens, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		a.mu.Unlock()
		io.WriteString(rw, "api sees "+c.Username)
	})))
	t.Cleanup(a.Close)
	return a
}

// lastToken returns the raw access token the API accepted last.
func (a *tokenAPI) lastToken() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.tokens) == 0 {
		return ""
	}
	return a.tokens[len(a.tokens)-1]
}

// seen returns the JTIs of the access tokens the API accepted, in order.
func (a *tokenAPI) seen() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.jtis...)
}

// browser is a Go stand-in for a browser: a cookie jar and redirects followed.
type browser struct {
	t   testing.TB
	f   *fixture
	c   *http.Client
	jar *cookiejar.Jar
}

func (f *fixture) browser() *browser {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	if f.srv.TLS != nil {
		c.Transport = f.srv.Client().Transport
	}
	return &browser{t: f.t, f: f, c: c, jar: jar}
}

var hiddenRe = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// get sends a navigation GET.
func (b *browser) get(u string) (*http.Response, string) {
	b.t.Helper()
	return b.navigate(http.MethodGet, u)
}

// navigate sends what a link or a form submission would.
func (b *browser) navigate(method, u string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest(method, u, nil)
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

// fetch sends what a page's fetch() would.
func (b *browser) fetch(method, u string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest(method, u, nil)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Sec-Fetch-Mode", "cors")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

// signIn goes through the login route and the hosted UI's page, and returns the
// last response after the callback.
func (b *browser) signIn(returnTo, user, pw string) (*http.Response, string) {
	b.t.Helper()
	u := b.f.base + "/auth/login"
	if returnTo != "" {
		u += "?return_to=" + url.QueryEscape(returnTo)
	}
	resp, page := b.get(u)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "signInSubmitButton") {
		b.t.Fatalf("login: %d %s", resp.StatusCode, page)
	}
	return b.submit(resp, page, user, pw)
}

// submit posts the hosted UI's sign-in form.
func (b *browser) submit(resp *http.Response, page, user, pw string) (*http.Response, string) {
	b.t.Helper()
	form := url.Values{"username": {user}, "password": {pw}}
	for _, m := range hiddenRe.FindAllStringSubmatch(page, -1) {
		form.Add(m[1], html.UnescapeString(m[2]))
	}
	action := *resp.Request.URL
	action.RawQuery = ""
	req, _ := http.NewRequest(http.MethodPost, action.String(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	return b.do(req)
}

// cookie returns the app's cookie of that name in the jar.
func (b *browser) cookie(name string) *http.Cookie {
	u, _ := url.Parse(b.f.base)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (b *browser) setCookie(name, value string) {
	u, _ := url.Parse(b.f.base)
	b.jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// jwtRe finds anything shaped like a JWT.
var jwtRe = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.`)

// fetchAll makes n concurrent requests for url as fetch() calls of one browser
// (c holds its cookies) and fails the test for each answer that is not want.
func fetchAll(t *testing.T, c *http.Client, url string, n, want int, what string) {
	t.Helper()
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodGet, url, nil)
			req.Header.Set("Sec-Fetch-Mode", "cors")
			resp, err := c.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("%s: %s", what, resp.Status)
			}
		}()
	}
	wg.Wait()
}
