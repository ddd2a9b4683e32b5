package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/examples/roundrobin/lb"
	"github.com/cogauth/cogauth/internal/faultproxy"
	"github.com/cogauth/cogauth/internal/peers"
	"github.com/cogauth/cogauth/jwt"
)

// envFleetReplica makes this test binary one replica of the fleet, configured
// by COGAUTH_* variables only (TestFleetReplica).
const envFleetReplica = "COGAUTH_TEST_WEBAPP_REPLICA"

// TestFleetReplica is a replica process of TestFleet: the app as its main runs
// it, from the environment.
func TestFleetReplica(t *testing.T) {
	if os.Getenv(envFleetReplica) != "1" {
		t.Skip("a replica of TestFleet, started by it")
	}
	o, err := parseOptions(nil, os.Getenv, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "replica:", err)
		os.Exit(2)
	}
	o.out = os.Stdout
	ctx, cancel := context.WithCancel(context.Background())
	go func() { // the parent closes our stdin to stop us
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	if err := run(ctx, o, nil); err != nil {
		fmt.Fprintln(os.Stderr, "replica:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// fleet is three replica processes of the app on one redis-server behind a
// round-robin balancer, against one emulator; each replica reaches the
// emulator through a fault proxy of its own, so the test counts each
// replica's calls to the token endpoint.
type fleet struct {
	t        *testing.T
	emu      *emulator.Server
	pool     emulator.SeededPool
	rdb      *redis.Client
	base     string // the balancer's origin, the app's public one
	proxies  []*faultproxy.Proxy
	backends []string // each replica's own address
	users    []string
}

const (
	fleetPassword = "Fleet-Passw0rd!"
	fleetAccess   = 8 * time.Second // access and id token lifetime: a refresh is due after half
	fleetAbsolute = 10 * time.Minute
	fleetIdle     = 5 * time.Minute
)

func startFleet(t *testing.T, replicas, users int, extra ...string) *fleet {
	t.Helper()
	f := &fleet{t: t}
	raddr := peers.Redis(t)
	f.rdb = redis.NewClient(&redis.Options{Addr: raddr})
	t.Cleanup(func() { f.rdb.Close() })

	front, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.base = "http://" + front.Addr().String()
	seedUsers := make([]emulator.SeedUser, users)
	for i := range seedUsers {
		f.users = append(f.users, fmt.Sprintf("user%02d", i))
		seedUsers[i] = emulator.SeedUser{Username: f.users[i], Password: fleetPassword,
			Attributes: map[string]string{"email": f.users[i] + "@example.com", "email_verified": "true"}}
	}
	f.emu, err = emulator.Listen("127.0.0.1:0", emulator.Options{SelfIssuer: true, AllowShortLifetimes: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.emu.Close() })
	f.pool, err = f.emu.CreateUserPool(emulator.SeedUserPool{
		Name: "fleet",
		Clients: []emulator.SeedClient{{
			Name: "web", AllowedOAuthFlows: []string{"code"}, AllowedOAuthScopes: []string{"openid", "email", "profile"},
			CallbackURLs: []string{f.base + "/auth/callback"}, LogoutURLs: []string{f.base + "/"},
			AccessTokenValidity: emulator.Duration(fleetAccess), IDTokenValidity: emulator.Duration(fleetAccess),
			RefreshTokenRotation: true, RetryGracePeriod: emulator.Duration(30 * time.Second),
		}},
		Users: seedUsers,
	})
	if err != nil {
		t.Fatal(err)
	}
	secret := "5ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2"
	var backends []string
	for i := range replicas {
		p := faultproxy.Start(t, f.emu.URL)
		f.proxies = append(f.proxies, p)
		env := []string{
			envFleetReplica + "=1",
			"COGAUTH_ADDR=127.0.0.1:0", "COGAUTH_BASE=" + f.base, "COGAUTH_REDIS=" + raddr, "COGAUTH_SECRET=" + secret,
			"COGAUTH_ENDPOINT=" + p.URL(), "COGAUTH_USER_POOL_ID=" + f.pool.ID, "COGAUTH_CLIENT_ID=" + f.pool.Clients["web"].ID,
			"COGAUTH_ISSUER=" + f.emu.Issuer(f.pool.ID),
			"COGAUTH_IDLE_TIMEOUT=" + fleetIdle.String(), "COGAUTH_ABSOLUTE_TIMEOUT=" + fleetAbsolute.String(), "COGAUTH_REFRESH_WAIT=2s",
		}
		env = append(env, extra...)
		backends = append(backends, f.startReplica(i, env))
	}
	f.backends = backends
	bal, err := lb.New(backends)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: bal, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(front) }()
	t.Cleanup(func() { srv.Close() })
	return f
}

var listeningRe = regexp.MustCompile(`listening on (\S+);`)

// startReplica runs one replica process and returns the address it listens on.
func (f *fleet) startReplica(i int, env []string) string {
	t := f.t
	cmd := exec.Command(os.Args[0], "-test.run=^TestFleetReplica$", "-test.v=false")
	cmd.Env = append(os.Environ(), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuf
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			t.Logf("replica %d stderr (last lines of %d):\n%s", i, len(lines), strings.Join(lines[max(0, len(lines)-8):], "\n"))
		}
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := listeningRe.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	select {
	case a := <-addr:
		return a
	case <-time.After(60 * time.Second):
		t.Fatalf("replica %d did not start: %s", i, stderr.String())
		return ""
	}
}

type lockedBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// browser is one signed-in user: a cookie jar on the balancer's origin.
type browser struct {
	name string
	c    *http.Client
}

var fleetHiddenRe = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// signIn signs user in on the hosted UI through the balancer, as a browser.
func (f *fleet) signIn(user string) *browser {
	t := f.t
	jar, _ := cookiejar.New(nil)
	b := &browser{name: user, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	resp, err := b.c.Get(f.base + "/auth/login?return_to=/")
	if err != nil {
		t.Fatal(err)
	}
	form, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	vals := url.Values{"username": {user}, "password": {fleetPassword}}
	for _, m := range fleetHiddenRe.FindAllStringSubmatch(string(form), -1) {
		vals.Add(m[1], html.UnescapeString(m[2]))
	}
	action := *resp.Request.URL
	action.RawQuery = ""
	resp, err = b.c.PostForm(action.String(), vals)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "Signed in as <b>"+user+"</b>") {
		t.Fatalf("%s after sign-in: %d %s", user, resp.StatusCode, page)
	}
	return b
}

// call is one API request of a user that needs a live access token.
type call struct {
	status int
	took   time.Duration
	body   string
}

func (b *browser) call(base string) call {
	start := time.Now()
	req, _ := http.NewRequest(http.MethodGet, base+"/api/call", nil)
	req.Header.Set("Accept", "application/json")
	resp, err := b.c.Do(req)
	if err != nil {
		return call{status: -1, took: time.Since(start), body: err.Error()}
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	return call{status: resp.StatusCode, took: time.Since(start), body: string(body)}
}

// tokenCalls is how many requests each replica has sent to the token endpoint.
func (f *fleet) tokenCalls() []int {
	n := make([]int, len(f.proxies))
	for i, p := range f.proxies {
		n[i] = p.Count("/oauth2/token")
	}
	return n
}

// load has every browser call the API back to back for d and reports the
// calls, the longest wait and each replica's token-endpoint calls per second.
func (f *fleet) load(bs []*browser, d time.Duration) (calls []call, perSecond []float64) {
	before := f.tokenCalls()
	var mu sync.Mutex
	var wg sync.WaitGroup
	stop := time.Now().Add(d)
	for _, b := range bs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				c := b.call(f.base)
				mu.Lock()
				calls = append(calls, c)
				mu.Unlock()
				time.Sleep(100 * time.Millisecond) // a user's pace, not a wait for a state
			}
		}()
	}
	wg.Wait()
	after := f.tokenCalls()
	for i := range after {
		perSecond = append(perSecond, float64(after[i]-before[i])/d.Seconds())
	}
	return calls, perSecond
}

func summarize(calls []call) (byStatus map[int]int, longest time.Duration) {
	byStatus = map[int]int{}
	for _, c := range calls {
		byStatus[c.status]++
		longest = max(longest, c.took)
	}
	return byStatus, longest
}

// TestFleet is issue 18's check from outside: three replicas of the example on
// one Redis and one emulator, the token endpoint hanging and then answering
// 503 — no request waits over 3 s, at most 2 token-endpoint calls per second
// per replica, no session lost, every user served again within 10 s of
// Cognito's return; every Redis key expires no later than the session's
// absolute end and names no user; a sign-out leaves no key behind, and the
// signed-out session's access token is refused by the API of every replica
// within 1 s.
func TestFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three replica processes")
	}
	f := startFleet(t, 3, 12)
	var bs []*browser
	for _, u := range f.users {
		bs = append(bs, f.signIn(u))
	}
	for _, b := range bs {
		if c := b.call(f.base); c.status != http.StatusOK {
			t.Fatalf("%s before the outage: %d %s", b.name, c.status, c.body)
		}
	}

	for _, phase := range []struct {
		name  string
		fault faultproxy.Fault
	}{
		{"hang", faultproxy.Hang()},
		{"503", faultproxy.Answer(http.StatusServiceUnavailable, "application/x-amz-json-1.1", `{"__type":"InternalErrorException","message":"down"}`)},
	} {
		for _, p := range f.proxies {
			p.Set("/oauth2/token", phase.fault)
		}
		// Long enough for every session's access token to expire mid-phase.
		calls, perSecond := f.load(bs, fleetAccess+4*time.Second)
		byStatus, longest := summarize(calls)
		t.Logf("%s: %d calls %v, longest wait %v, token-endpoint calls/s per replica %.2f", phase.name, len(calls), byStatus, longest.Round(time.Millisecond), perSecond)
		if longest > 3*time.Second {
			t.Errorf("%s: a request waited %v (want <= 3 s)", phase.name, longest)
		}
		for st, n := range byStatus {
			if st != http.StatusOK && st != http.StatusServiceUnavailable {
				t.Errorf("%s: %d requests answered %d (want 200 or 503 only: no session may end)", phase.name, n, st)
			}
		}
		for i, r := range perSecond {
			if r > 2 {
				t.Errorf("%s: replica %d sent %.2f token-endpoint calls per second (want <= 2)", phase.name, i, r)
			}
		}
		for _, c := range calls {
			if c.status == http.StatusServiceUnavailable && !strings.Contains(c.body, "temporar") {
				t.Errorf("%s: a 503 does not say it is temporary: %s", phase.name, c.body)
				break
			}
		}
	}

	for _, p := range f.proxies {
		p.Clear()
	}
	back := time.Now()
	pending := map[*browser]bool{}
	for _, b := range bs {
		pending[b] = true
	}
	for len(pending) > 0 && time.Since(back) < 15*time.Second {
		for b := range pending {
			if c := b.call(f.base); c.status == http.StatusOK {
				delete(pending, b)
			} else if c.status != http.StatusServiceUnavailable {
				t.Fatalf("%s after the outage: %d %s (a session was lost)", b.name, c.status, c.body)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("every user served again %v after Cognito's return", time.Since(back).Round(time.Millisecond))
	if len(pending) > 0 {
		t.Fatalf("%d users not served 15 s after Cognito's return", len(pending))
	} else if d := time.Since(back); d > 10*time.Second {
		t.Errorf("users served again only %v after Cognito's return (want <= 10 s)", d)
	}

	f.checkKeys(bs)
	f.checkSignOuts(bs)
}

func (f *fleet) keys() []string {
	keys, err := f.rdb.Keys(context.Background(), "*").Result()
	if err != nil {
		f.t.Fatal(err)
	}
	// The store's mark that its records are in today's layout (redisstore's
	// Opening), persistent and naming no user, is not the sessions'.
	keys = slices.DeleteFunc(keys, func(k string) bool { return k == "cogauth::migrated" })
	sort.Strings(keys)
	return keys
}

// checkKeys holds every key of Redis to a TTL within the session's absolute
// timeout and to a name without a user in it.
func (f *fleet) checkKeys(bs []*browser) {
	t := f.t
	keys := f.keys()
	if len(keys) == 0 {
		t.Fatal("no keys in Redis with users signed in")
	}
	var subs []string
	for _, u := range f.users {
		if sub := f.emu.UserSub(f.pool.ID, u); sub != "" {
			subs = append(subs, sub)
		}
	}
	var long, named []string
	for _, k := range keys {
		ttl, err := f.rdb.PTTL(context.Background(), k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl <= 0 || ttl > fleetAbsolute {
			long = append(long, fmt.Sprintf("%q (TTL %v)", k, ttl))
		}
		for _, id := range append(subs, f.users...) {
			if strings.Contains(k, id) {
				named = append(named, fmt.Sprintf("%q (%s)", k, id))
			}
		}
	}
	if len(long) > 0 {
		t.Errorf("%d of %d keys have no TTL or one past the absolute timeout %v, e.g. %s", len(long), len(keys), fleetAbsolute, strings.Join(long[:min(3, len(long))], ", "))
	}
	if len(named) > 0 {
		t.Errorf("%d of %d keys name a user, e.g. %s", len(named), len(keys), strings.Join(named[:min(3, len(named))], ", "))
	}
	t.Logf("%d Redis keys for %d sessions, each with a TTL within %v", len(keys), len(bs), fleetAbsolute)
}

// logout signs b out through the balancer, as the page's button does.
func (f *fleet) logout(b *browser) {
	req, _ := http.NewRequest(http.MethodPost, f.base+"/auth/logout", nil)
	req.Header.Set("Origin", f.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	c := *b.c
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		f.t.Fatalf("logout %s: %d", b.name, resp.StatusCode)
	}
}

// captureTokens records the access tokens the token endpoint hands out
// through every replica's proxy, by the username they were issued to.
func (f *fleet) captureTokens() func(user string) string {
	var mu sync.Mutex
	got := map[string]string{}
	for _, p := range f.proxies {
		p.Set("/oauth2/token", faultproxy.Rewrite("capture", func(status int, h http.Header, body []byte) (int, []byte) {
			var ans struct {
				Access string `json:"access_token"`
			}
			if json.Unmarshal(body, &ans) == nil && ans.Access != "" {
				if tok, err := jwt.Decode(ans.Access); err == nil {
					mu.Lock()
					got[tok.Claims().Username] = ans.Access
					mu.Unlock()
				}
			}
			return status, body
		}))
	}
	return func(user string) string {
		mu.Lock()
		defer mu.Unlock()
		return got[user]
	}
}

// apiStatus is what replica i's API (httpauth.Middleware) answers token.
func (f *fleet) apiStatus(i int, token string) int {
	req, _ := http.NewRequest(http.MethodGet, "http://"+f.backends[i]+"/internal/api", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// checkSignOuts signs a new session in, holds that every replica's API takes
// its access token, signs it out on one replica and has every replica's API
// refuse the token within 1 s; then signs everyone out and finds no key of a
// session left in Redis.
func (f *fleet) checkSignOuts(bs []*browser) {
	t := f.t
	token := f.captureTokens()
	b := f.signIn(f.users[0])
	for _, p := range f.proxies {
		p.Clear()
	}
	tok := token(f.users[0])
	if tok == "" {
		t.Fatal("no access token seen at the token endpoint for the new sign-in")
	}
	for i := range f.backends {
		if st := f.apiStatus(i, tok); st != http.StatusOK {
			t.Fatalf("replica %d's API before the sign-out: %d", i, st)
		}
	}
	f.logout(b)
	out := time.Now()
	for i := range f.backends {
		for f.apiStatus(i, tok) != http.StatusUnauthorized {
			if time.Since(out) > 5*time.Second {
				t.Fatalf("replica %d's API still takes a signed-out session's access token 5 s after the sign-out", i)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if d := time.Since(out); d > time.Second {
		t.Errorf("the APIs refused the signed-out session's token only %v after the sign-out (want <= 1 s)", d)
	} else {
		t.Logf("every replica's API refuses the signed-out session's access token %v after the sign-out", d.Round(time.Millisecond))
	}

	for _, b := range bs {
		f.logout(b)
	}
	for _, k := range f.keys() {
		if strings.HasSuffix(k, ":kept") { // the bus's revocations, kept until they lapse
			ttl, _ := f.rdb.PTTL(context.Background(), k).Result()
			if ttl <= 0 || ttl > fleetAbsolute {
				t.Errorf("the bus's kept revocations %q have TTL %v (want <= %v)", k, ttl, fleetAbsolute)
			}
			continue
		}
		t.Errorf("after every user signed out, Redis holds %q", k)
	}
}

// TestFleetCookieMode: three replicas in the cookie-only mode (sessions in
// sealed cookies, Redis carrying only sign-outs). A copy of a user's cookies
// taken before the sign-out is refused by every replica within 1 s of it, and
// Redis keeps nothing of the session but the bus's lapsing revocations.
func TestFleetCookieMode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three replica processes")
	}
	f := startFleet(t, 3, 1, "COGAUTH_COOKIE_KEYS=c00c1e5ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2")
	b := f.signIn(f.users[0])
	base, _ := url.Parse(f.base)
	copied := b.c.Jar.Cookies(base)
	if len(copied) == 0 {
		t.Fatal("no session cookies after sign-in")
	}
	// What each replica answers /auth/me with the copied cookies.
	me := func(i int) int {
		u, _ := url.Parse("http://" + f.backends[i])
		jar, _ := cookiejar.New(nil)
		jar.SetCookies(u, copied)
		c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
		req, _ := http.NewRequest(http.MethodGet, u.String()+"/auth/me", nil)
		req.Header.Set("Accept", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for i := range f.backends {
		if st := me(i); st != http.StatusOK {
			t.Fatalf("replica %d with the copied cookies before the sign-out: %d", i, st)
		}
	}
	f.logout(b)
	out := time.Now()
	for i := range f.backends {
		for me(i) != http.StatusUnauthorized {
			if time.Since(out) > 5*time.Second {
				t.Fatalf("replica %d still takes the copied cookies 5 s after the sign-out", i)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if d := time.Since(out); d > time.Second {
		t.Errorf("the copied cookies were refused only %v after the sign-out (want <= 1 s)", d)
	} else {
		t.Logf("every replica refuses the copied cookies %v after the sign-out", d.Round(time.Millisecond))
	}
	for _, k := range f.keys() {
		if !strings.HasSuffix(k, ":kept") {
			t.Errorf("cookie mode left %q in Redis", k)
		}
	}
}
