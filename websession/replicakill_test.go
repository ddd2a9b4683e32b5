package websession

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/internal/peers"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/session"
	"github.com/cogauth/cogauth/store"
	redisstore "github.com/cogauth/cogauth/store/redis"
	"github.com/cogauth/cogauth/websession/redisbus"
)

// The replicas of TestReplicaKilledMidRefresh and
// TestChromiumReplicaKilledMidRefresh (startKillCluster) are processes: this
// test binary run again with envReplica set to a replicaConfig, in
// TestReplicaProcess.
const (
	envReplica = "COGAUTH_TEST_WEBSESSION_REPLICA"
	// replicaHeader tags each request a replica sends to Cognito with its index,
	// so the test knows which process is refreshing.
	replicaHeader = "X-Cogauth-Test-Replica"
	// killLockTTL is the replicas' Redis lock TTL: how long a dead holder keeps
	// the refresh lock.
	killLockTTL = 1500 * time.Millisecond
)

// replicaConfig is what a replica process gets from the test.
type replicaConfig struct {
	Index    int
	Redis    string // address of the shared redis-server
	Emulator string // the emulator's URL: the hosted UI domain and the user pool API
	Front    string // where the replica's requests to the hosted UI go (cognitoFront)
	Pool     string
	Client   string
	Issuer   string
	Base     string // the origin the browser sees (the round-robin proxy)
	API      string // the API that /api/call calls with the user's token (tokenAPI)
	Secret   []byte
	Start    time.Time // the replica's clock starts here; the test moves it
	LockTTL  time.Duration
}

// TestReplicaProcess is one replica of a startKillCluster: websession on
// real Redis (store/redis and redisbus) with a clock the test moves, serving on a
// loopback port until its stdin closes. It does nothing in a normal run.
func TestReplicaProcess(t *testing.T) {
	raw := os.Getenv(envReplica)
	if raw == "" {
		t.Skip("a replica process of the replica-kill tests; runs only when startKillCluster starts it")
	}
	var cfg replicaConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		t.Fatal(err)
	}
	front, err := url.Parse(cfg.Front)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(cfg.Start)
	rdb := redis.NewClient(&redis.Options{Addr: cfg.Redis, DisableIdentity: true})
	defer rdb.Close()
	st, err := redisstore.New(rdb, redisstore.Options{LockTTL: cfg.LockTTL, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	bus := redisbus.New(rdb, "")
	defer bus.Close()
	cc, err := cognito.New(cognito.Options{UserPoolID: cfg.Pool, ClientID: cfg.Client, Endpoint: cfg.Emulator, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	v, err := jwt.NewVerifier(jwt.VerifierOptions{Issuers: []string{cfg.Issuer}, ClientIDs: []string{cfg.Client}, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	reader := sdkmetric.NewManualReader()
	w, err := New(Config{
		MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)),
		Session:       session.Config{Cognito: cc}, Domain: cfg.Emulator, Verifier: v, BaseURL: cfg.Base, Secret: cfg.Secret,
		Store: st, Bus: bus, Clock: clk, Scopes: []string{"openid", "email", "profile", "aws.cognito.signin.user.admin"},
		IdleTimeout: 2 * time.Hour, AbsoluteTimeout: 12 * time.Hour,
		HTTPClient: &http.Client{Transport: viaFront{front: front, index: cfg.Index}, Timeout: time.Minute},
		Logger:     slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	app, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go http.Serve(app, appHandler(w, cfg.API)) //nolint:errcheck // ends with the process
	cmux := http.NewServeMux()
	cmux.HandleFunc("POST /advance", func(rw http.ResponseWriter, r *http.Request) {
		d, err := time.ParseDuration(r.URL.Query().Get("by"))
		if err != nil || d < 0 || d > 24*time.Hour {
			http.Error(rw, "bad duration", http.StatusBadRequest)
			return
		}
		clk.Advance(d)
		io.WriteString(rw, clk.Now().Format(time.RFC3339Nano))
	})
	cmux.HandleFunc("GET /counters", func(rw http.ResponseWriter, r *http.Request) {
		var rm metricdata.ResourceMetrics
		if err := reader.Collect(r.Context(), &rm); err != nil {
			http.Error(rw, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(rw, http.StatusOK, counterSums(&rm))
	})
	go http.Serve(ctl, cmux) //nolint:errcheck // ends with the process
	fmt.Printf("replica app=%s ctl=%s\n", app.Addr(), ctl.Addr())
	// Serve until the test closes stdin (or dies, which closes it too).
	io.Copy(io.Discard, os.Stdin) //nolint:errcheck // EOF or an error: either way, stop
}

// counterSums sums every Int64 counter's points by name and attribute, as
// "name{key=value}".
func counterSums(rm *metricdata.ResourceMetrics) map[string]int64 {
	got := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if d, ok := m.Data.(metricdata.Sum[int64]); ok {
				for _, p := range d.DataPoints {
					name := m.Name
					for _, kv := range p.Attributes.ToSlice() {
						name += "{" + string(kv.Key) + "=" + kv.Value.String() + "}"
					}
					got[name] += p.Value
				}
			}
		}
	}
	return got
}

// viaFront sends a replica's hosted UI requests to the test's Cognito front,
// tagged with the replica's index.
type viaFront struct {
	front *url.URL
	index int
}

func (v viaFront) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host, r.Host = v.front.Scheme, v.front.Host, ""
	r.Header.Set(replicaHeader, strconv.Itoa(v.index))
	return http.DefaultTransport.RoundTrip(r)
}

// replica is a running replica process.
type replica struct {
	index    int
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	app, ctl string
	logs     *syncBuffer
	ready    chan string // the line the replica prints once it listens
	exited   chan struct{}
	killed   atomic.Bool
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startReplica runs this test binary as replica cfg.Index; await waits for it
// to listen.
func startReplica(t *testing.T, cfg replicaConfig) *replica {
	t.Helper()
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestReplicaProcess$", "-test.count=1", "-test.timeout=5m")
	// A binary built with -race sleeps a second as it exits, unless told not to.
	cmd.Env = append(os.Environ(), envReplica+"="+string(raw), "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	r := &replica{index: cfg.Index, cmd: cmd, logs: &syncBuffer{}, ready: make(chan string, 1), exited: make(chan struct{})}
	cmd.Stderr = r.logs
	if r.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "replica ") {
				r.ready <- line
			} else {
				r.logs.Write([]byte(line + "\n"))
			}
		}
		cmd.Wait() //nolint:errcheck // a killed replica exits with an error, on purpose
		close(r.exited)
	}()
	t.Cleanup(func() {
		r.stdin.Close()
		select {
		case <-r.exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-r.exited
		}
		if !r.killed.Load() && !cmd.ProcessState.Success() {
			// A replica that failed (a data race under -race, say) fails the test.
			t.Errorf("replica %d exited with %v", r.index, cmd.ProcessState)
		}
		if t.Failed() {
			t.Logf("replica %d's output:\n%s", r.index, r.logs.String())
		}
	})
	return r
}

func (r *replica) await(t *testing.T) {
	t.Helper()
	select {
	case line := <-r.ready:
		for _, f := range strings.Fields(line)[1:] {
			k, v, _ := strings.Cut(f, "=")
			switch k {
			case "app":
				r.app = v
			case "ctl":
				r.ctl = v
			}
		}
	case <-r.exited:
		t.Fatalf("replica %d exited before listening:\n%s", r.index, r.logs.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("replica %d did not start:\n%s", r.index, r.logs.String())
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (r *replica) kill(t *testing.T) {
	t.Helper()
	r.killed.Store(true)
	if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("replica %d still running after SIGKILL", r.index)
	}
}

// counters returns the replica's OpenTelemetry counters (counterSums).
func (r *replica) counters(t *testing.T) map[string]int64 {
	t.Helper()
	resp, err := http.Get("http://" + r.ctl + "/counters")
	if err != nil {
		t.Fatalf("replica %d counters: %v", r.index, err)
	}
	defer resp.Body.Close()
	got := map[string]int64{}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatalf("replica %d counters: %v", r.index, err)
	}
	return got
}

func (r *replica) advance(t *testing.T, d time.Duration) {
	t.Helper()
	resp, err := http.Post("http://"+r.ctl+"/advance?by="+d.String(), "", nil)
	if err != nil {
		t.Fatalf("replica %d clock: %v", r.index, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("replica %d clock: %s", r.index, resp.Status)
	}
}

// cognitoFront is a loopback proxy in front of the emulator that every
// replica's hosted UI requests go through. Armed, it forwards the next refresh
// (grant_type=refresh_token) to the emulator — which rotates the refresh token —
// and then holds the answer back until released or until the replica that
// asked is gone: a refresh in flight at the moment its replica dies.
type cognitoFront struct {
	t        testing.TB
	upstream string
	tr       *http.Transport

	mu        sync.Mutex
	armed     bool
	held      chan int      // the index of the replica whose answer is held
	release   chan struct{} // closed: the held answer goes out
	refreshes []refreshSeen
}

// refreshSeen is one refresh that reached the emulator.
type refreshSeen struct {
	replica      int
	at           time.Time // real time, when the request arrived
	status       int
	refreshToken string // the rotated refresh token the emulator answered with
	accessJTI    string // the JTI of the access token it answered with
}

func newCognitoFront(t testing.TB, upstream string) (*cognitoFront, string) {
	f := &cognitoFront{t: t, upstream: upstream, tr: &http.Transport{}, held: make(chan int, 1), release: make(chan struct{})}
	srv := httptest.NewServer(f)
	t.Cleanup(func() {
		srv.Close()
		f.tr.CloseIdleConnections()
	})
	return f, srv.URL
}

func (f *cognitoFront) arm() {
	f.mu.Lock()
	f.armed = true
	f.mu.Unlock()
}

func (f *cognitoFront) seen() []refreshSeen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]refreshSeen(nil), f.refreshes...)
}

func (f *cognitoFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	form, _ := url.ParseQuery(string(body))
	isRefresh := r.Method == http.MethodPost && r.URL.Path == "/oauth2/token" && form.Get("grant_type") == "refresh_token"
	req, err := http.NewRequestWithContext(context.WithoutCancel(r.Context()), r.Method, f.upstream+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	req.Header.Del(replicaHeader)
	resp, err := f.tr.RoundTrip(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	answer, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if isRefresh {
		idx, _ := strconv.Atoi(r.Header.Get(replicaHeader))
		var tok struct {
			RefreshToken string `json:"refresh_token"`
			AccessToken  string `json:"access_token"`
		}
		json.Unmarshal(answer, &tok) //nolint:errcheck // an error answer has none
		seen := refreshSeen{replica: idx, at: at, status: resp.StatusCode, refreshToken: tok.RefreshToken}
		if access, err := jwt.Decode(tok.AccessToken); err == nil {
			seen.accessJTI = access.Claims().JTI
		}
		f.mu.Lock()
		f.refreshes = append(f.refreshes, seen)
		hold := f.armed
		f.armed = false
		f.mu.Unlock()
		if hold {
			f.held <- idx
			select {
			case <-f.release:
			case <-r.Context().Done(): // the replica is gone: its answer with it
				return
			}
		}
	}
	copyHeader(w.Header(), resp.Header)
	w.WriteHeader(resp.StatusCode)
	w.Write(answer) //nolint:errcheck // the replica may be gone
}

func copyHeader(dst, src http.Header) {
	for k, v := range src {
		if k != "Content-Length" && k != "Connection" && k != "Transfer-Encoding" {
			dst[k] = v
		}
	}
}

// roundRobin is the one origin the browser sees: a reverse proxy sending each
// request to the next live replica. It tells the client which replica answered
// (X-Cogauth-Test-Replica) and counts requests in flight, in all and on each
// replica. A replica that cannot be reached gets a 502, as an AWS load balancer
// answers; with retry set, the proxy does what nginx does by default
// (proxy_next_upstream error timeout): an idempotent request whose replica
// failed before answering is sent to the next live one, and the failed replica
// is skipped from then on (a passive health check).
type roundRobin struct {
	reps      []*replica
	proxies   []*httputil.ReverseProxy
	retry     bool
	down      []atomic.Bool
	next      atomic.Uint64
	onReplica []atomic.Int64 // requests in flight on each replica
	mu        sync.Mutex
	inflight  map[string]int // requests in flight by path
	retried   atomic.Int64   // requests sent again after their replica failed
}

// rrAttempt is one try of a request on a replica; failed says the proxy may
// send it to the next one.
type rrAttempt struct{ failed bool }

type rrAttemptKey struct{}

func newRoundRobin(reps []*replica, retry bool) *roundRobin {
	rr := &roundRobin{reps: reps, retry: retry, down: make([]atomic.Bool, len(reps)), onReplica: make([]atomic.Int64, len(reps)), inflight: map[string]int{}}
	for i, r := range reps {
		target := &url.URL{Scheme: "http", Host: r.app}
		p := &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(target)
				pr.Out.Host = pr.In.Host
			},
			Transport: &http.Transport{},
			ModifyResponse: func(resp *http.Response) error {
				resp.Header.Set(replicaHeader, strconv.Itoa(i))
				return nil
			},
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				idempotent := r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions
				if a, ok := r.Context().Value(rrAttemptKey{}).(*rrAttempt); ok && rr.retry && idempotent && r.Context().Err() == nil {
					a.failed = true
					rr.down[i].Store(true)
					return
				}
				w.Header().Set(replicaHeader, strconv.Itoa(i))
				http.Error(w, "replica unreachable", http.StatusBadGateway)
			},
		}
		rr.proxies = append(rr.proxies, p)
	}
	return rr
}

// inflightOn returns the number of requests for path in flight.
func (rr *roundRobin) inflightOn(path string) int {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	return rr.inflight[path]
}

// pick returns the next live replica, or -1.
func (rr *roundRobin) pick() int {
	for range len(rr.reps) {
		if i := int(rr.next.Add(1)-1) % len(rr.reps); !rr.down[i].Load() {
			return i
		}
	}
	return -1
}

func (rr *roundRobin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rr.mu.Lock()
	rr.inflight[r.URL.Path]++
	rr.mu.Unlock()
	defer func() {
		rr.mu.Lock()
		rr.inflight[r.URL.Path]--
		rr.mu.Unlock()
	}()
	for range len(rr.reps) {
		i := rr.pick()
		if i < 0 {
			break
		}
		a := &rrAttempt{}
		rr.onReplica[i].Add(1)
		rr.proxies[i].ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), rrAttemptKey{}, a)))
		rr.onReplica[i].Add(-1)
		if !a.failed {
			return
		}
		rr.retried.Add(1)
	}
	http.Error(w, "no replica", http.StatusBadGateway)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond) // a poll interval, not a synchronisation
	}
}

// storedSession reads a web session's session record from the store, as the
// replicas do: name and key derived from the cookie, the record unsealed.
type storedSession struct {
	version uint64
	user    string
	access  *jwt.Token
	idToken string
	refresh string
}

func readStored(t *testing.T, st store.Store, secret []byte, cookie, pool, client string) (*storedSession, bool) {
	t.Helper()
	k, err := deriveKeys(secret)
	if err != nil {
		t.Fatal(err)
	}
	id, ok := parseSessionID(cookie)
	if !ok {
		t.Fatalf("cookie %q is no session ID", "…")
	}
	aead, err := k.sessionAEAD(id)
	if err != nil {
		t.Fatal(err)
	}
	ss, _ := newSealedStore(st, k.name(id).String(), aead, testLifetime)
	ctx := context.Background()
	e, err := ss.get(ctx, ss.metaKey(pool, client))
	if errors.Is(err, store.ErrNotFound) {
		return nil, false
	}
	if err != nil {
		t.Fatalf("web record: %v", err)
	}
	m, err := decodeMeta(e.Data)
	if err != nil {
		t.Fatalf("web record: %v", err)
	}
	e, err = ss.Get(ctx, session.SessionKey(pool, client, m.User))
	if err != nil {
		t.Fatalf("session record: %v", err)
	}
	rec, err := session.DecodeRecord(e.Data)
	if err != nil {
		t.Fatalf("session record does not decode: %v", err)
	}
	idToken := ""
	if rec.Tokens.ID != nil {
		idToken = rec.Tokens.ID.Raw()
	}
	return &storedSession{version: e.Version, user: rec.Username, access: rec.Tokens.Access, idToken: idToken, refresh: rec.Tokens.Refresh.Reveal()}, true
}

// TestReplicaKilledMidRefresh: three replica processes on real Redis behind a
// round-robin proxy, refresh-token rotation on. At expiry, concurrent requests
// reach every replica; one takes the Redis refresh lock and calls Cognito, which
// rotates the refresh token — and that replica is killed (SIGKILL) before the
// answer reaches it. The survivors wait out the lock's TTL (the dead holder's
// watchdog is gone), refresh with the old refresh token, and the session lives
// on — when the app client's retry grace period is longer than the lock TTL.
// With a shorter one the old token is refused and the session is lost, which is
// why README asks for the grace period.
func TestReplicaKilledMidRefresh(t *testing.T) {
	for _, tc := range []struct {
		name  string
		grace time.Duration
		lives bool
	}{
		{"grace above lock TTL", 2 * time.Second, true},
		{"no grace", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) { replicaKilledMidRefresh(t, tc.grace, tc.lives) })
	}
}

// killCluster is what the replica-kill tests run on: the emulator (with the
// test's fake clock), an app client with refresh-token rotation and the given
// retry grace period, the Cognito front, the token API, three replica
// processes sharing one redis-server, and the round-robin origin on loopback.
type killCluster struct {
	t        *testing.T
	clk      *clock.Fake
	emu      *emulator.Server
	pool     string
	clientID string
	base     string
	secret   []byte
	front    *cognitoFront
	api      *tokenAPI
	reps     []*replica
	rr       *roundRobin
	srv      *httptest.Server
	rdb      *redis.Client
	store    store.Store // store/redis on the replicas' redis-server, to read their records
}

func startKillCluster(t *testing.T, grace time.Duration, retry bool) *killCluster {
	t.Helper()
	if testing.Short() {
		t.Skip("starts replica processes")
	}
	addr := peers.Redis(t)
	clk := clock.NewFake(t0)
	emu := emulator.NewServer(emulator.Options{Clock: clk, SelfIssuer: true, Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
		Name: "web",
		Users: []emulator.SeedUser{{Username: alice, Password: password, Attributes: map[string]string{
			"email": "alice@example.com", "email_verified": "true",
		}}},
	}}}})
	t.Cleanup(emu.Close)
	pool := emu.PoolID("web")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + l.Addr().String()
	c, err := emu.CreateUserPoolClient(pool, emulator.SeedClient{
		Name: "web", AllowedOAuthFlows: []string{"code"}, AllowedOAuthScopes: []string{"openid", "email", "profile", "aws.cognito.signin.user.admin"},
		CallbackURLs: []string{base + "/auth/callback"}, LogoutURLs: []string{base + "/"},
		ExplicitAuthFlows:    []string{"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
		RefreshTokenRotation: true, RetryGracePeriod: emulator.Duration(grace),
	})
	if err != nil {
		t.Fatal(err)
	}
	kc := &killCluster{t: t, clk: clk, emu: emu, pool: pool, clientID: c.ID, base: base, secret: bytes.Repeat([]byte{7}, 32)}
	var frontURL string
	kc.front, frontURL = newCognitoFront(t, emu.URL)
	kc.api = newTokenAPI(t, emu, pool, c.ID, clk)
	for i := range 3 {
		kc.reps = append(kc.reps, startReplica(t, replicaConfig{
			Index: i, Redis: addr, Emulator: emu.URL, Front: frontURL, Pool: pool, Client: c.ID,
			Issuer: emu.Issuer(pool), Base: base, API: kc.api.URL, Secret: kc.secret, Start: clk.Now(), LockTTL: killLockTTL,
		}))
	}
	for _, r := range kc.reps {
		r.await(t)
	}
	kc.rr = newRoundRobin(kc.reps, retry)
	kc.srv = httptest.NewUnstartedServer(kc.rr)
	kc.srv.Listener.Close()
	kc.srv.Listener = l
	kc.srv.Start()
	t.Cleanup(kc.srv.Close)
	kc.rdb = redis.NewClient(&redis.Options{Addr: addr, DisableIdentity: true})
	t.Cleanup(func() { kc.rdb.Close() })
	if kc.store, err = redisstore.New(kc.rdb, redisstore.Options{LockTTL: killLockTTL, Clock: kc.clk}); err != nil {
		t.Fatal(err)
	}
	return kc
}

// advance moves the emulator's clock and every replica's but except's.
func (kc *killCluster) advance(d time.Duration, except int) {
	kc.t.Helper()
	kc.clk.Advance(d)
	for _, r := range kc.reps {
		if r.index != except {
			r.advance(kc.t, d)
		}
	}
}

// stored reads the session of cookie from Redis (readStored).
func (kc *killCluster) stored(cookie string) (*storedSession, bool) {
	kc.t.Helper()
	return readStored(kc.t, kc.store, kc.secret, cookie, kc.pool, kc.clientID)
}

// awaitHeldRefresh waits for the refresh the armed front holds and for n
// requests for path to be in flight at the origin (the holder's waiting for its answer,
// the others for the lock), checks that the holder's is the only refresh and
// its lock the only one in Redis, and returns the holder and its lock.
func (kc *killCluster) awaitHeldRefresh(path string, n int) (holder int, lock, owner string) {
	t := kc.t
	t.Helper()
	select {
	case holder = <-kc.front.held:
	case <-time.After(20 * time.Second):
		t.Fatal("no refresh reached Cognito")
	}
	waitFor(t, fmt.Sprintf("%d requests for %s at expiry to be in flight", n, path), 10*time.Second, func() bool {
		got := kc.rr.inflightOn(path)
		if got > n {
			t.Fatalf("%d requests for %s in flight at expiry, want %d", got, path, n)
		}
		return got == n
	})
	ctx := context.Background()
	locks, err := kc.rdb.Keys(ctx, "cogauth:l:*").Result()
	if err != nil || len(locks) != 1 {
		t.Fatalf("refresh locks in Redis while replica %d refreshes: %q %v", holder, locks, err)
	}
	if ttl := kc.rdb.PTTL(ctx, locks[0]).Val(); ttl <= 0 || ttl > killLockTTL {
		t.Fatalf("the lock's TTL is %v, want (0, %v]", ttl, killLockTTL)
	}
	if n := len(kc.front.seen()); n != 1 {
		t.Fatalf("%d refreshes reached Cognito while replica %d held the lock, want 1", n, holder)
	}
	return holder, locks[0], kc.rdb.Get(ctx, locks[0]).Val()
}

// killHolder moves every clock but the holder's by the lock TTL (the survivors
// can take the lock only when it expires, LockTTL after the dead holder's last
// extension: that much time passes between the rotation and their refresh),
// kills the holder with SIGKILL, checks that its lock is still its own (nothing
// released it; it only expires), and releases the held answer. It returns when
// the holder died.
func (kc *killCluster) killHolder(holder int, lock, owner string) time.Time {
	t := kc.t
	t.Helper()
	kc.advance(killLockTTL, holder)
	killed := time.Now()
	kc.reps[holder].kill(t)
	ctx := context.Background()
	if v, ttl := kc.rdb.Get(ctx, lock).Val(), kc.rdb.PTTL(ctx, lock).Val(); v != owner || ttl <= 0 {
		t.Fatalf("after the kill the lock is held by another owner or gone (TTL %v)", ttl)
	}
	close(kc.front.release)
	t.Logf("killed replica %d (pid %d) holding the refresh lock", holder, kc.reps[holder].cmd.Process.Pid)
	return killed
}

// refreshesAfterKill checks the refreshes that reached Cognito since tokens (the
// emulator's count before the expiry): the holder's, lost with it, then one
// survivor's, not before the dead holder's lock could expire. It returns both.
func (kc *killCluster) refreshesAfterKill(tokens int, holder int, killed time.Time) (lost, survivor refreshSeen) {
	t := kc.t
	t.Helper()
	seen := kc.front.seen()
	if n := kc.emu.Requests("oauth2/token") - tokens; n != 2 || len(seen) != 2 {
		t.Fatalf("%d refresh calls reached the emulator (%d through the front), want 2: the killed holder's and one survivor's", n, len(seen))
	}
	lost, survivor = seen[0], seen[1]
	if lost.replica != holder || survivor.replica == holder || lost.status != http.StatusOK || lost.refreshToken == "" {
		t.Fatalf("refreshes: %d by replica %d, then %d by replica %d", lost.status, lost.replica, survivor.status, survivor.replica)
	}
	if wait := survivor.at.Sub(killed); wait < killLockTTL/2 {
		t.Fatalf("a survivor refreshed %v after the kill: the dead holder's lock did not hold for its TTL", wait)
	}
	t.Logf("replica %d took the lock and refreshed %v after the kill (lock TTL %v)", survivor.replica, survivor.at.Sub(killed).Round(time.Millisecond), killLockTTL)
	return lost, survivor
}

// survivorCounters sums the OpenTelemetry counters of every replica but the
// dead holder (whose counts died with it), and counts their sign-outs.
func (kc *killCluster) survivorCounters(holder int) (signOuts int64, all map[string]int64) {
	all = map[string]int64{}
	for _, r := range kc.reps {
		if r.index == holder {
			continue
		}
		for k, v := range r.counters(kc.t) {
			all[k] += v
			if strings.HasPrefix(k, "cogauth.websession.sign_outs") {
				signOuts += v
			}
		}
	}
	return signOuts, all
}

func replicaKilledMidRefresh(t *testing.T, grace time.Duration, lives bool) {
	// An AWS load balancer's behaviour: a request in flight on the dead replica
	// gets a 502; the test takes the replica out, as a health check would.
	kc := startKillCluster(t, grace, false)
	base := kc.base
	f := &fixture{t: t, clk: kc.clk, emu: kc.emu, pool: kc.pool, clientID: kc.clientID, base: base, srv: kc.srv}
	b := f.browser()
	if resp, body := b.signIn("/", alice, password); resp.StatusCode != http.StatusOK || body != "hello alice at /" {
		t.Fatalf("sign-in: %d %q", resp.StatusCode, body)
	}
	cookie := b.cookie("cogauth").Value
	for range 3 { // every replica serves the session
		if resp, body := b.fetch(http.MethodGet, base+"/private"); resp.StatusCode != http.StatusOK {
			t.Fatalf("before expiry: %d %s", resp.StatusCode, body)
		}
	}
	before, ok := kc.stored(cookie)
	if !ok {
		t.Fatal("no session in Redis after sign-in")
	}
	tokens := kc.emu.Requests("oauth2/token")

	// Expiry: nine concurrent requests, three on each replica.
	kc.front.arm()
	kc.advance(56*time.Minute, -1)
	type result struct {
		replica int
		status  int
		body    string
	}
	const burst = 9
	results := make(chan result, burst)
	for range burst {
		go func() {
			req, _ := http.NewRequest(http.MethodGet, base+"/private", nil)
			req.Header.Set("Sec-Fetch-Mode", "cors")
			resp, err := b.c.Do(req)
			if err != nil {
				results <- result{replica: -1, body: err.Error()}
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			i, _ := strconv.Atoi(resp.Header.Get(replicaHeader))
			results <- result{replica: i, status: resp.StatusCode, body: string(body)}
		}()
	}
	holder, lock, owner := kc.awaitHeldRefresh("/private", burst)
	killed := kc.killHolder(holder, lock, owner)
	kc.rr.down[holder].Store(true)

	want := http.StatusOK
	if !lives {
		want = http.StatusUnauthorized
	}
	for range burst {
		var r result
		select {
		case r = <-results:
		case <-time.After(30 * time.Second):
			t.Fatal("a request at expiry never finished")
		}
		switch {
		case r.replica == holder:
			if r.status != http.StatusBadGateway {
				t.Errorf("a request on the killed replica: %d %q", r.status, r.body)
			}
		case r.replica < 0 || r.status != want || (lives && r.body != "hello alice at /private"):
			t.Errorf("a request on replica %d at expiry: %d %q, want %d", r.replica, r.status, r.body, want)
		}
	}
	lost, survivor := kc.refreshesAfterKill(tokens, holder, killed)

	n, all := kc.survivorCounters(holder)
	t.Logf("survivors' counters: %d sign-outs, %v", n, all)
	after, ok := kc.stored(cookie)
	if !lives {
		// The old refresh token was spent at the rotation the dead replica never
		// saw: Cognito refuses it, and the session is gone.
		if survivor.status == http.StatusOK {
			t.Fatalf("with a %v grace period the old refresh token still worked", grace)
		}
		if ok {
			t.Fatal("the session is still in Redis after Cognito refused its refresh token")
		}
		if resp, body := b.fetch(http.MethodGet, base+"/private"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("after the lost refresh: %d %s", resp.StatusCode, body)
		}
		if n != 1 || all["cogauth.websession.sign_outs{reason=ended_by_service}"] != 1 || all["cogauth.session.refreshes{result=rejected}"] != 1 {
			t.Fatalf("survivors' counters after the refused refresh: %d sign-outs, want 1 (the one session): %v", n, all)
		}
		checkLogs(t, kc.reps, cookie)
		return
	}
	if survivor.status != http.StatusOK {
		t.Fatalf("the survivor's refresh with the old token: %d", survivor.status)
	}
	if n != 0 || all["cogauth.session.refreshes{result=ok}"] != 1 {
		t.Fatalf("survivors' counters: %d sign-outs, want 0, and one refresh: %v", n, all)
	}
	// The session in Redis is whole and newer: a later version, fresh tokens for
	// alice, and the refresh token the survivor got (not the one lost with the
	// killed replica).
	if !ok {
		t.Fatal("the session is gone from Redis")
	}
	switch {
	case after.version <= before.version:
		t.Errorf("session version %d after the refresh, %d before", after.version, before.version)
	case after.user != alice || after.idToken == "" || after.refresh == "":
		t.Errorf("stored session incomplete: user %q, id token %t, refresh token %t", after.user, after.idToken != "", after.refresh != "")
	case !after.access.ExpiresAt().After(before.access.ExpiresAt()):
		t.Errorf("stored access token expires %v, before the refresh %v", after.access.ExpiresAt(), before.access.ExpiresAt())
	case after.refresh != survivor.refreshToken || after.refresh == lost.refreshToken || after.refresh == before.refresh:
		t.Errorf("stored refresh token is not the survivor's rotated one")
	}

	// The user stays signed in on both survivors, and the stored token keeps
	// the session going: the next expiry makes exactly one refresh.
	for range 4 {
		if resp, body := b.fetch(http.MethodGet, base+"/private"); resp.StatusCode != http.StatusOK {
			t.Fatalf("after the kill: %d %s", resp.StatusCode, body)
		}
	}
	tokens = kc.emu.Requests("oauth2/token")
	kc.advance(56*time.Minute, holder)
	fetchAll(t, b.c, base+"/private", 6, http.StatusOK, "at the next expiry")
	if n := kc.emu.Requests("oauth2/token") - tokens; n != 1 {
		t.Fatalf("%d refreshes at the next expiry on the two survivors, want 1", n)
	}
	if n, all := kc.survivorCounters(holder); n != 0 || all["cogauth.session.refreshes{result=ok}"] != 2 {
		t.Fatalf("survivors' counters after the next expiry: %d sign-outs, %v", n, all)
	}
	checkLogs(t, kc.reps, cookie)
}

// checkLogs: no replica logged a token or the cookie.
func checkLogs(t *testing.T, reps []*replica, cookie string) {
	t.Helper()
	for _, r := range reps {
		if s := r.logs.String(); jwtRe.MatchString(s) || strings.Contains(s, cookie) {
			t.Errorf("replica %d logged a token or the cookie", r.index)
		}
	}
}
