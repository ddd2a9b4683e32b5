package websession

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/hostedui"
	"github.com/cogauth/cogauth/internal/peers"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/session"
	"github.com/cogauth/cogauth/store"
	redisstore "github.com/cogauth/cogauth/store/redis"
)

// Cognito's token sizes, in characters, as a Cognito user pool issued them
// (amazon-cognito-identity-js#688: access 1,077, id 1,745, refresh 1,852; 4,674
// in all, the "4.7 KB of tokens" of Amplify's cookies).
const (
	cognitoAccessLen  = 1077
	cognitoIDLen      = 1745
	cognitoRefreshLen = 1852
)

// tokenFactory makes Cognito-sized sessions from one real emulator sign-in: the
// emulator's access and id tokens with their sub and username replaced and
// their payloads padded to Cognito's sizes (signature and header kept), and its
// refresh token (a JWE-shaped string) with its ciphertext padded. The Manager's
// Import checks claims, not signatures, so these go through the real path.
type tokenFactory struct {
	access, id   map[string]any
	aHead, aSig  string
	iHead, iSig  string
	refreshParts []string
}

func newTokenFactory(t testing.TB, access, id, refresh string) *tokenFactory {
	f := &tokenFactory{}
	split := func(tok string, claims *map[string]any) (string, string) {
		p := strings.Split(tok, ".")
		if len(p) != 3 {
			t.Fatalf("a token of %d segments", len(p))
		}
		b, err := base64.RawURLEncoding.DecodeString(p[1])
		if err != nil || json.Unmarshal(b, claims) != nil {
			t.Fatalf("token payload: %v", err)
		}
		return p[0], p[2]
	}
	f.aHead, f.aSig = split(access, &f.access)
	f.iHead, f.iSig = split(id, &f.id)
	f.refreshParts = strings.Split(refresh, ".")
	if len(f.refreshParts) != 5 {
		t.Fatalf("the refresh token has %d segments", len(f.refreshParts))
	}
	return f
}

// padded returns head.payload.sig with claims as the payload, padded with a
// claim of random characters (incompressible, as claims are not) to n
// characters in all when shorter.
func padded(head string, claims map[string]any, sig string, n int) string {
	enc := func(c map[string]any) string {
		b, _ := json.Marshal(c)
		return head + "." + base64.RawURLEncoding.EncodeToString(b) + "." + sig
	}
	tok := enc(claims)
	if short := (n-len(tok))*3/4 - len(`,"pad":""`); short > 0 {
		c := make(map[string]any, len(claims)+1)
		for k, v := range claims {
			c[k] = v
		}
		c["pad"] = randomB64(short)[:short]
		tok = enc(c)
	}
	return tok
}

func randomB64(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// tokens returns the tokens of user i and its sub.
func (f *tokenFactory) tokens(i int) (*hostedui.Tokens, string) {
	sub := fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", i, i>>16&0xffff, i&0xfff, i>>12&0xfff, i)
	user := sub // Cognito usernames of e-mail pools are the sub
	a := make(map[string]any, len(f.access))
	for k, v := range f.access {
		a[k] = v
	}
	a["sub"], a["username"] = sub, user
	d := make(map[string]any, len(f.id))
	for k, v := range f.id {
		d[k] = v
	}
	d["sub"], d["cognito:username"] = sub, user
	// The refresh token: the emulator's header, fresh random key, IV and tag,
	// and a ciphertext making it Cognito's length.
	r := slices.Clone(f.refreshParts)
	r[1], r[2], r[4] = randomB64(256), randomB64(12), randomB64(16)
	r[3] = ""
	r[3] = randomB64(max(16, (cognitoRefreshLen-len(strings.Join(r, ".")))*3/4))
	return &hostedui.Tokens{
		AccessToken:  jwt.Secret(padded(f.aHead, a, f.aSig, cognitoAccessLen)),
		IDToken:      jwt.Secret(padded(f.iHead, d, f.iSig, cognitoIDLen)),
		RefreshToken: jwt.Secret(strings.Join(r, ".")),
	}, sub
}

// footprintHashes: the footprint's Redis store writes records as strings, the
// default; COGAUTH_FOOTPRINT_HASHES=1 measures the hash layout
// (redisstore.Options.HashRecords, as while replicas of release 2 remain).
var footprintHashes = os.Getenv("COGAUTH_FOOTPRINT_HASHES") == "1"

// footprintFixture signs in once on an emulator with its sessions in a fresh
// redis-server and returns the replica, its Redis client and Cognito-sized
// token maker.
func footprintFixture(b testing.TB) (*fixture, *Sessions, *redis.Client, *tokenFactory) {
	addr := peers.Redis(b)
	rc := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 64, DisableIdentity: true})
	b.Cleanup(func() { rc.Close() })
	f := newFixture(b, fixtureOptions{store: func(_ int, clk clock.Clock) store.Store {
		st, err := redisstore.New(rc, redisstore.Options{Clock: clk, HashRecords: footprintHashes})
		if err != nil {
			b.Fatal(err)
		}
		return st
	},
		config: func(c *Config) { c.CacheSize = 1000 }})
	w := f.replicas[0]
	br := f.browser()
	br.signIn("/", alice, password)
	lives := w.cache.drain()
	if len(lives) != 1 {
		b.Fatalf("%d sessions after one sign-in", len(lives))
	}
	s, err := lives[0].mgr.Fetch(ctxT(b), session.FetchOptions{})
	if err != nil {
		b.Fatal(err)
	}
	lives[0].mgr.Close()
	return f, w, rc, newTokenFactory(b, s.Tokens.Access.Raw(), s.Tokens.ID.Raw(), s.Tokens.Refresh.Reveal())
}

// usedMemory reads INFO memory's used_memory (and used_memory_rss).
func usedMemory(t testing.TB, rc *redis.Client) (used, rss int64) {
	info, err := rc.Info(context.Background(), "memory").Result()
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		k, v, _ := strings.Cut(strings.TrimSpace(sc.Text()), ":")
		n, _ := strconv.ParseInt(v, 10, 64)
		switch k {
		case "used_memory":
			used = n
		case "used_memory_rss":
			rss = n
		}
	}
	return used, rss
}

// createSessions makes sessions first…first+n-1 through the callback's path
// (Sessions.create: the Manager's Import, the web record, the user index), from
// workers concurrent writers, and returns a sample of their IDs.
func createSessions(t testing.TB, w *Sessions, tf *tokenFactory, first, n, workers, sample int) []sessionID {
	var next atomic.Int64
	next.Store(int64(first))
	var mu sync.Mutex
	var ids []sessionID
	every := max(1, n/max(1, sample))
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	r := httptest.NewRequest(http.MethodGet, "/auth/callback", nil)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= first+n || failed.Load() != nil {
					return
				}
				tok, sub := tf.tokens(i)
				id, err := newSessionID()
				if err == nil {
					_, err = w.create(r, id, tok, sub)
				}
				if err != nil {
					failed.Store(&err)
					return
				}
				if (i-first)%every == 0 {
					mu.Lock()
					ids = append(ids, id)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		t.Fatalf("creating sessions: %v", *err)
	}
	return ids
}

// BenchmarkStoreFootprint: what a session costs Redis. b.N sessions (give the
// count with -benchtime, e.g. 100000x) of Cognito-sized tokens, each a different
// user, are written to a fresh redis-server (each record with its session's expiry, as in production)
// through the callback's path by 64 concurrent writers; then INFO memory's
// used_memory grown, per session, is bytes/session (goal ≤ 4 KB), load-s the
// time to write them all, and a new replica's first request on 1,000 of them
// (cache miss: the web record and the session read from Redis) cold-p50-ns and
// cold-p99-ns. A 1,000,000-session run needs about 5 GB free for Redis.
func BenchmarkStoreFootprint(b *testing.B) {
	f, w, rc, tf := footprintFixture(b)
	ctx := context.Background()
	keysBefore, err := rc.DBSize(ctx).Result()
	if err != nil {
		b.Fatal(err)
	}
	before, _ := usedMemory(b, rc)
	b.ResetTimer()
	start := time.Now()
	sample := createSessions(b, w, tf, 0, b.N, 64, 1000)
	load := time.Since(start)
	b.StopTimer()
	after, rss := usedMemory(b, rc)
	keys, err := rc.DBSize(ctx).Result()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(after-before)/float64(b.N), "bytes/session")
	b.ReportMetric(float64(keys-keysBefore)/float64(b.N), "keys/session")
	b.ReportMetric(float64(after)/(1<<20), "used-MiB")
	b.ReportMetric(float64(rss)/(1<<20), "rss-MiB")
	// One session's own record and its user's index, as Redis counts them.
	ks, _, err := rc.Scan(ctx, 0, "*:wsh:*", 1000).Result()
	if err != nil || len(ks) == 0 {
		b.Fatalf("no index record (%v)", err)
	}
	for key, unit := range map[string]string{
		fmt.Sprintf("cogauth:s:ws%%2F%s:%s/%s/web", w.keys.name(sample[0]), w.pool, w.client): "record-bytes",
		ks[0]: "index-bytes",
	} {
		n, err := rc.MemoryUsage(ctx, key).Result()
		if err != nil {
			b.Fatalf("MEMORY USAGE %s: %v", key, err)
		}
		b.ReportMetric(float64(n), unit)
	}
	rk := fmt.Sprintf("cogauth:s:ws%%2F%s:%s/%s/web", w.keys.name(sample[0]), w.pool, w.client)
	b.ReportMetric(float64(rc.StrLen(ctx, rk).Val()+int64(len(rc.HGet(ctx, rk, "d").Val()))), "record-value-bytes")
	b.ReportMetric(load.Seconds(), "load-s")
	b.ReportMetric(float64(b.N)/load.Seconds(), "sessions/s")

	// A replica that has none of them cached serves them from the store.
	cold := f.newSessions(w.store, f.bus, nil)
	h := cold.Handler(cold.Require(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	var lat []int64
	for _, id := range sample {
		req := httptest.NewRequest(http.MethodGet, f.base+"/api/x", nil)
		req.Header.Set("Sec-Fetch-Mode", "cors")
		req.AddCookie(&http.Cookie{Name: w.cookieName, Value: id.cookieValue()})
		bw := newBenchWriter()
		t0 := time.Now()
		h.ServeHTTP(bw, req)
		lat = append(lat, int64(time.Since(t0)))
		if bw.code != 0 && bw.code != http.StatusOK {
			b.Fatalf("a stored session answered %d on a new replica", bw.code)
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(percentile(lat, 0.5)), "cold-p50-ns")
	b.ReportMetric(float64(percentile(lat, 0.99)), "cold-p99-ns")
}

// TestStoreFootprintPath: the footprint benchmark's sessions are real ones:
// Cognito-sized, each its own user, indexed, and served by another replica from
// Redis.
func TestStoreFootprintPath(t *testing.T) {
	f, w, _, tf := footprintFixture(t)
	tok, _ := tf.tokens(7)
	a, i, r := len(tok.AccessToken), len(tok.IDToken), len(tok.RefreshToken)
	t.Logf("tokens of %d, %d and %d characters", a, i, r)
	if a < cognitoAccessLen-4 || i < cognitoIDLen-4 || r < cognitoRefreshLen-4 {
		t.Fatalf("tokens of %d, %d and %d characters: not Cognito's sizes", a, i, r)
	}
	ids := createSessions(t, w, tf, 0, 20, 4, 20)
	if len(ids) != 20 {
		t.Fatalf("%d sampled", len(ids))
	}
	cold := f.newSessions(w.store, f.bus, nil)
	subs := map[string]bool{}
	for _, id := range ids {
		r := httptest.NewRequest(http.MethodGet, f.base+"/auth/me", nil)
		r.AddCookie(&http.Cookie{Name: w.cookieName, Value: id.cookieValue()})
		rec := httptest.NewRecorder()
		cold.Handler(http.NotFoundHandler()).ServeHTTP(rec, r)
		var me meView
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &me) != nil {
			t.Fatalf("me: %d %s", rec.Code, rec.Body)
		}
		subs[me.Sub] = true
		list, _, _, err := cold.readIndex(ctxT(t), me.Sub)
		if err != nil || len(list) != 1 {
			t.Fatalf("the user's index holds %d sessions (%v)", len(list), err)
		}
	}
	if len(subs) != 20 {
		t.Fatalf("%d users for 20 sessions", len(subs))
	}
}
