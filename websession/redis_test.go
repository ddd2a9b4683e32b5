package websession

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/internal/peers"
	"github.com/cogauth/cogauth/store"
	redisstore "github.com/cogauth/cogauth/store/redis"
	"github.com/cogauth/cogauth/websession/redisbus"
)

// redisReplicas gives each replica its own Redis client, store and bus on one
// redis-server, as separate processes would have.
// redisMarker is the key redisstore.New sets under its default prefix once the
// store's records are in today's layout.
const redisMarker = "cogauth::migrated"

func redisReplicas(t *testing.T, addr string) (func(int, clock.Clock) store.Store, func(int) Bus) {
	return redisReplicasB(t, addr)
}

func redisReplicasB(t testing.TB, addr string) (func(int, clock.Clock) store.Store, func(int) Bus) {
	clients := map[int]*redis.Client{}
	var mu sync.Mutex
	client := func(i int) *redis.Client {
		mu.Lock()
		defer mu.Unlock()
		if c, ok := clients[i]; ok {
			return c
		}
		c := redis.NewClient(&redis.Options{Addr: addr, DisableIdentity: true})
		t.Cleanup(func() { c.Close() })
		clients[i] = c
		return c
	}
	st := func(i int, clk clock.Clock) store.Store {
		s, err := redisstore.New(client(i), redisstore.Options{LockTTL: 2 * time.Second, Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	bus := func(i int) Bus {
		b := redisbus.New(client(i), "")
		t.Cleanup(func() { b.Close() })
		return b
	}
	return st, bus
}

// TestRedisReplicas: three replicas, each with its own Redis connection, rotation
// on with no grace period: five tabs at expiry make one refresh; a logout on one
// replica is refused on the others within 50 ms; the store holds no token, no
// cookie value appears in its keys or values, no key names the user, every key
// expires within the session's absolute timeout, and a logout leaves no key.
func TestRedisReplicas(t *testing.T) {
	addr := peers.Redis(t)
	st, bus := redisReplicas(t, addr)
	f := newFixture(t, fixtureOptions{replicas: 3, rotation: true, store: st, bus: bus})
	b := f.browser()
	b.signIn("/", alice, password)
	cookie := b.cookie("cogauth").Value
	for range 3 {
		if resp, body := b.fetch(http.MethodGet, f.base+"/api/call"); resp.StatusCode != http.StatusOK {
			t.Fatalf("api call: %d %s", resp.StatusCode, body)
		}
	}

	tokens := f.emu.Requests("oauth2/token")
	f.clk.Advance(56 * time.Minute)
	fetchAll(t, b.c, f.base+"/api/call", 15, http.StatusOK, "at expiry") // five tabs, three requests each
	if n := f.emu.Requests("oauth2/token") - tokens; n != 1 {
		t.Fatalf("%d refreshes at expiry across 3 replicas, want 1", n)
	}

	// The store, dumped: nothing in it opens or replays.
	rc := redis.NewClient(&redis.Options{Addr: addr, DisableIdentity: true})
	defer rc.Close()
	ctx := context.Background()
	keys, err := rc.Keys(ctx, "*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys %v %v", keys, err)
	}
	// The store's mark that its records are in today's layout (redisstore's
	// Opening) is the one persistent key, and holds no session.
	keys = slices.DeleteFunc(keys, func(k string) bool { return k == redisMarker })
	sub := f.emu.UserSub(f.pool, alice)
	for _, k := range keys {
		// The fake clock does not move Redis's: the 56 minutes above count
		// on the fixture's clock only, so a TTL is at most the timeout.
		if pttl := rc.PTTL(ctx, k).Val(); pttl <= 0 || pttl > f.replicas[0].cfg.Get().AbsoluteTimeout {
			t.Errorf("key %s has TTL %v, want within the absolute timeout %v", k, pttl, f.replicas[0].cfg.Get().AbsoluteTimeout)
		}
		var vals []string
		switch typ := rc.Type(ctx, k).Val(); typ {
		case "string":
			vals = []string{rc.Get(ctx, k).Val()}
		case "hash":
			for _, v := range rc.HGetAll(ctx, k).Val() {
				vals = append(vals, v)
			}
		default:
			t.Fatalf("key %s of type %s", k, typ)
		}
		if strings.Contains(k, cookie) || strings.Contains(k, alice) || strings.Contains(k, sub) {
			t.Errorf("key %q names the cookie or the user", k)
		}
		for _, v := range vals {
			if jwtRe.MatchString(v) || strings.Contains(v, cookie) || strings.Contains(v, "alice") {
				t.Errorf("value of %s holds a token, the cookie or the username", k)
			}
		}
	}

	// A resource server behind the same Redis accepts the session's access
	// token until the logout.
	rb := redisbus.New(rc, "")
	defer rb.Close()
	revs := NewRevocations(rb, f.clk)
	defer revs.Close()
	api := resourceServer(t, f, revs)
	token := f.api.lastToken()
	if code := callWith(t, api.URL, token); code != http.StatusOK {
		t.Fatalf("the resource server before logout: %d", code)
	}

	// Logout on replica 0; replicas 1 and 2 refuse the cookie within 50 ms.
	f.pin.Store(0)
	b.navigate(http.MethodPost, f.base+"/auth/logout")
	start := time.Now()
	b.setCookie("cogauth", cookie)
	for _, i := range []int64{1, 2} {
		f.pin.Store(i)
		for {
			resp, _ := b.fetch(http.MethodGet, f.base+"/auth/me")
			if resp.StatusCode == http.StatusUnauthorized {
				break
			}
			b.setCookie("cogauth", cookie)
			if time.Since(start) > 50*time.Millisecond {
				t.Fatalf("replica %d still serves the session %v after logout", i, time.Since(start))
			}
		}
	}
	t.Logf("logout reached every replica in %v", time.Since(start))
	within(t, time.Second, "the resource server refuses the signed-out session's token", func() bool {
		return callWith(t, api.URL, token) == http.StatusUnauthorized
	})
	// Nothing of the session is left; the revocation is a member of the bus's
	// kept set, which names no user and expires with its last member.
	kept := redisbus.DefaultChannel + ":kept"
	live := func(pattern string) []string {
		return slices.DeleteFunc(rc.Keys(ctx, pattern).Val(), func(k string) bool { return k == kept || k == redisMarker })
	}
	if left := live("*"); len(left) != 0 {
		t.Fatalf("keys left after logout: %q", left)
	}
	for _, m := range rc.ZRange(ctx, kept, 0, -1).Val() {
		if strings.Contains(m, alice) || strings.Contains(m, sub) || strings.Contains(m, cookie) {
			t.Fatalf("a kept revocation names the user or the cookie: %q", m)
		}
	}
	if ttl := rc.PTTL(ctx, kept).Val(); ttl <= 0 || ttl > f.replicas[0].cfg.Get().AbsoluteTimeout+time.Hour {
		t.Fatalf("the kept revocations live %v", ttl)
	}

	// SignOutUser, which has no cookie to open anything with, deletes every record
	// of the user's sessions too.
	f.pin.Store(-1)
	for range 2 {
		x := f.browser()
		x.signIn("/", alice, password)
	}
	if n := len(live("*ws%2F*")); n != 2 {
		t.Fatalf("%d records for two sessions, want 2 (one each: web record, session and current user its parts)", n)
	}
	if err := f.replicas[2].SignOutUser(ctx, sub); err != nil {
		t.Fatal(err)
	}
	if left := live("*"); len(left) != 0 {
		t.Fatalf("keys left after SignOutUser: %q", left)
	}
}
