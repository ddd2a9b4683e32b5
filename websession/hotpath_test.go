package websession

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/internal/peers"
	"github.com/cogauth/cogauth/internal/redact"
	"github.com/cogauth/cogauth/store"
	redisstore "github.com/cogauth/cogauth/store/redis"
	"github.com/cogauth/cogauth/store/storetest"
)

// FuzzCookieValue: the session cookie's allocation-free parse finds exactly what
// http.Request.Cookie finds, whatever Cookie header lines a client sends.
func FuzzCookieValue(f *testing.F) {
	for _, s := range [][2]string{
		{"cogauth=abc", ""},
		{`a=1; cogauth="q"; cogauth=2`, ""},
		{"cogauth=bad\\; cogauth=good", "cogauth=later"},
		{" cogauth = x ;;", "x=1"},
		{"cogauth", "cogauth="},
		{`cogauth=""`, `cogauth="`},
		{strings.Repeat("a=1;", 70) + "cogauth=many", ""},
		{"cogauth=\t", "cogauth= sp"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, line1, line2 string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header["Cookie"] = []string{line1}
		if line2 != "" {
			r.Header["Cookie"] = append(r.Header["Cookie"], line2)
		}
		for _, name := range []string{"cogauth", "__Host-cogauth"} {
			want, err := r.Cookie(name)
			got, ok := cookieValue(r, name)
			if (err == nil) != ok || (ok && got != want.Value) {
				t.Fatalf("cookie %s of %q %q: got %q %v, net/http %v %v", name, line1, line2, got, ok, want, err)
			}
		}
	})
}

// FuzzAppPath: a request Handler sends straight to the app is one the routes'
// ServeMux would have given to the app's "/" unchanged.
func FuzzAppPath(f *testing.F) {
	for _, p := range []string{"/", "/api/x", "/auth/login", "/auth/login/", "/auth//login", "/a/../auth/me", "/auth/./me",
		"/x/.", "/x/..", "//", "/auth/%6Cogin", "/auth%2Flogin", "/a/", "*", "/auth/logout", "/auth/me/x", "/%2e%2e/"} {
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodConnect, http.MethodHead} {
			f.Add(m, p)
		}
	}
	w := &Sessions{cfg: redact.NewBox(&Config{Paths: Paths{Login: "/auth/login", Callback: "/auth/callback", Logout: "/auth/logout", Me: "/auth/me"}})}
	mux := http.NewServeMux()
	w.register(mux)
	mux.HandleFunc("/", func(http.ResponseWriter, *http.Request) {})
	f.Fuzz(func(t *testing.T, method, target string) {
		r, err := http.ReadRequest(bufioReader(method + " " + target + " HTTP/1.1\r\nHost: app.example.com\r\n\r\n"))
		if err != nil {
			return
		}
		if !w.appPath(r) {
			return
		}
		_, pattern := mux.Handler(r)
		if pattern != "/" {
			t.Fatalf("%s %q (path %q) goes to the app directly, but the mux answers it with %q", method, target, r.URL.Path, pattern)
		}
		// The mux would not redirect it either: Handler returns a redirect's
		// handler with the pattern of where it leads.
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s %q goes to the app directly, but the mux answers %d", method, target, rec.Code)
		}
	})
}

// TestAppPathRoutes: the routes and the paths the mux cleans are not sent past
// it; plain app paths are.
func TestAppPathRoutes(t *testing.T) {
	w := &Sessions{cfg: redact.NewBox(&Config{Paths: Paths{Login: "/auth/login", Callback: "/auth/callback", Logout: "/auth/logout", Me: "/auth/me"}})}
	for target, want := range map[string]bool{
		"/": true, "/api/x": true, "/a/b/": true, "/auth/login/x": true,
		"/auth/login": false, "/auth/callback?code=x": false, "/auth/logout": false, "/auth/me": false,
		"/auth//me": false, "/x/../auth/me": false, "/auth/%6De": false, "/./x": false,
	} {
		r := httptest.NewRequest(http.MethodGet, target, nil)
		if got := w.appPath(r); got != want {
			t.Errorf("appPath(%q) = %v, want %v", target, got, want)
		}
	}
}

// TestCacheBound: the cache holds at most its bound across its shards, keeps
// sessions in use over idle ones, and remove and drain forget what they return.
func TestCacheBound(t *testing.T) {
	for _, max := range []int{1, 3, 64, 1000, 10000} {
		t.Run(fmt.Sprint(max), func(t *testing.T) {
			c := newCache(max)
			total := 0
			for i := range c.shards {
				total += c.shards[i].max
			}
			if total != max {
				t.Fatalf("shard bounds sum to %d", total)
			}
			k := keysForTest(t)
			var hot []*live
			evicted := 0
			for i := range 3 * max {
				id, _ := newSessionID()
				l := &live{key: k.name(id)}
				got, ev := c.add(l)
				if got != l {
					t.Fatal("a new session came back as another")
				}
				for _, e := range ev {
					if e == l {
						t.Fatal("the session just added was evicted")
					}
					for _, h := range hot {
						if e == h {
							t.Fatalf("a session used since its last pass was evicted (bound %d, %d added)", max, i+1)
						}
					}
				}
				evicted += len(ev)
				if i < min(max/4, 50) {
					hot = append(hot, l)
				}
				for _, h := range hot {
					if c.get(h.key) != h {
						t.Fatalf("a hot session left the cache (bound %d, %d added)", max, i+1)
					}
				}
				if n := c.len(); n > max {
					t.Fatalf("%d sessions cached, bound %d", n, max)
				}
			}
			held := c.len()
			if evicted+held != 3*max {
				t.Fatalf("%d evicted and %d held of %d added", evicted, held, 3*max)
			}
			if len(hot) > 0 {
				if c.remove(hot[0].key, &live{}) != nil {
					t.Fatal("remove dropped a session that was not the one named")
				}
				if c.remove(hot[0].key, hot[0]) != hot[0] || c.get(hot[0].key) != nil {
					t.Fatal("remove kept the session")
				}
			}
			if n := len(c.drain()); n != held-min(1, len(hot)) || c.len() != 0 {
				t.Fatalf("drain returned %d, left %d", n, c.len())
			}
		})
	}
}

func bufioReader(s string) *bufio.Reader { return bufio.NewReader(strings.NewReader(s)) }

// freshName is the HMAC of id with a new hash: what keys.name must equal.
func freshName(k *keys, id sessionID) sessionName {
	m := hmac.New(sha256.New, k.hash.Get()[:])
	m.Write(id[:])
	var n sessionName
	copy(n[:], m.Sum(nil))
	return n
}

func keysForTest(t *testing.T) *keys {
	k, err := deriveKeys([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestNameMatchesHMAC: the pooled HMAC names a session as a fresh HMAC would,
// call after call.
func TestNameMatchesHMAC(t *testing.T) {
	k := keysForTest(t)
	for range 4 {
		id, _ := newSessionID()
		if got, want := k.name(id), freshName(k, id); got != want {
			t.Fatalf("name %s, fresh HMAC %s", got, want)
		}
		n, ok := parseName(k.name(id).String())
		if !ok || n != k.name(id) {
			t.Fatal("a name does not parse back")
		}
	}
	if _, ok := parseName(strings.Repeat("A", 64)); ok {
		t.Fatal("upper-case hex parsed as a name")
	}
}

// TestBundledStoreContract: a web session's sealed store, its records parts of
// one store record, keeps the store contract (versions of its own per record,
// compare-and-swap, no reuse, locks), on memory and on Redis.
func TestBundledStoreContract(t *testing.T) {
	k := keysForTest(t)
	open := func(inner func(t *testing.T) store.Store) func(t *testing.T) store.Store {
		return func(t *testing.T) store.Store {
			id, _ := newSessionID()
			aead, err := k.sessionAEAD(id)
			if err != nil {
				t.Fatal(err)
			}
			st, mst := newSealedStore(inner(t), k.name(id).String(), aead, testLifetime)
			if !st.bundled {
				t.Fatal("a server store's sealed view is not bundled")
			}
			return mst
		}
	}
	t.Run("memory", func(t *testing.T) {
		storetest.Run(t, open(func(*testing.T) store.Store { return store.NewMemory() }))
	})
	t.Run("redis", func(t *testing.T) {
		addr := peers.Redis(t)
		storetest.Run(t, open(func(t *testing.T) store.Store {
			rc := redis.NewClient(&redis.Options{Addr: addr, DisableIdentity: true})
			t.Cleanup(func() { rc.Close() })
			rc.FlushAll(context.Background())
			s, err := redisstore.New(rc, redisstore.Options{LockTTL: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}))
	})
}

// FuzzBundleFrame: a session record's frame (today's, or release 2's with
// packed parts) never panics its decoder, and what it accepts encodes back, in
// today's format, to the same parts.
func FuzzBundleFrame(f *testing.F) {
	rec := []byte(`{"format":1,"username":"u","access_token":"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln","n":[1,2],"s":"a\u003cb"}`)
	f.Add(encodeBundle(9, map[string]bundlePart{metaUser: {ver: 3, data: []byte(`{"v":1}`)}, innerUser(managerRecords["s"], "u"): {ver: 9, data: rec}}))
	f.Add([]byte{bundleFormat, 1, 0})
	// Release 2: format 1, one part stored as it was (tag 0).
	f.Add(append([]byte{packedBundleFormat, 5, 1, 3, 'w', 'e', 'b', 5, 0, 7}, `{"v":1}`...))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, frame []byte) {
		seq, parts, err := decodeBundle(frame)
		if err != nil {
			return
		}
		seq2, parts2, err := decodeBundle(encodeBundle(seq, parts))
		if err != nil || seq2 != seq || len(parts2) != len(parts) {
			t.Fatalf("re-encoded frame: %v", err)
		}
		for n, p := range parts {
			if q := parts2[n]; q.ver != p.ver || !bytes.Equal(q.data, p.data) {
				t.Fatalf("part %q changed", n)
			}
		}
	})
}

// testLifetime is a sealed store's lifetime in tests that build one directly.
var testLifetime = lifetime{clk: clock.System{}, idle: time.Hour, absolute: 24 * time.Hour}
