package websession

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/secret"
	"github.com/cogauth/cogauth/session"
	"github.com/cogauth/cogauth/store"
)

// release2Fixture is what release 2 left behind, recorded by release 2's own
// code (testdata/release2-*.json): the app's Secret, the pool and client, a
// session cookie and its sealed store record (bundle format 1, parts packed as
// JSON fields), or cookie-mode chunks (payload format 1) and their key.
type release2Fixture struct {
	Secret   []byte            `json:"secret"`
	Pool     string            `json:"pool"`
	Client   string            `json:"client"`
	Username string            `json:"username"`
	Now      time.Time         `json:"now"`
	Cookie   string            `json:"cookie"`
	Record   []byte            `json:"record"`
	Keys     [][]byte          `json:"cookie_keys"`
	Chunks   map[string]string `json:"chunks"`
}

func loadRelease2(t *testing.T, name string) *release2Fixture {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var fx release2Fixture
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	return &fx
}

// release2Sessions is a replica of this release configured as release 2's was;
// its Cognito is unreachable (the sessions are served from what is stored).
func release2Sessions(t *testing.T, fx *release2Fixture, clk clock.Clock, adjust func(*Config)) *Sessions {
	t.Helper()
	cc, err := cognito.New(cognito.Options{UserPoolID: fx.Pool, ClientID: fx.Client, Endpoint: "http://127.0.0.1:1", Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	v, err := jwt.NewVerifier(jwt.VerifierOptions{Issuers: []string{"http://127.0.0.1:1/" + fx.Pool}, ClientIDs: []string{fx.Client}, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Session: session.Config{Cognito: cc}, Domain: "http://127.0.0.1:1", Verifier: v, BaseURL: "https://app.example.com", Secret: fx.Secret,
		Clock: clk, IdleTimeout: 2 * time.Hour, AbsoluteTimeout: 12 * time.Hour}
	if adjust != nil {
		adjust(&cfg)
	}
	w, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func me(t *testing.T, w *Sessions, cookies ...*http.Cookie) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "https://app.example.com/auth/me", nil)
	req.Header.Set("Sec-Fetch-Mode", "cors")
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	w.Handler(http.NotFoundHandler()).ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// TestRelease2StoreRecord: a session record release 2 wrote (its parts packed
// JSON) is served by this release, and its next write (an idle extension)
// rewrites it in today's frame with the session's end as its expiry, still
// served afterwards.
func TestRelease2StoreRecord(t *testing.T) {
	fx := loadRelease2(t, "release2-bundle.json")
	clk := clock.NewFake(fx.Now.Add(time.Minute))
	mem := &store.Memory{Clock: clk}
	w := release2Sessions(t, fx, clk, func(c *Config) { c.Store = mem })
	id, ok := parseSessionID(fx.Cookie)
	if !ok {
		t.Fatal("the fixture's cookie is no session ID")
	}
	// The store key release 2's Redis store wrote after its prefix (and its
	// DynamoDB store with "session:" for "s:"): the record is read where it is.
	rk := store.Key("s:ws%2F" + w.keys.name(id).String() + ":" + fx.Pool + "/" + fx.Client + "/web")
	if got := recordKey("", sessionNS+w.keys.name(id).String(), w.pool, w.client, metaUser).store(); got != rk {
		t.Fatalf("the session's record is at %q, release 2 wrote it at %q", got, rk)
	}
	if _, err := mem.Put(context.Background(), rk, fx.Record, 0, time.Time{}); err != nil {
		t.Fatal(err)
	}
	cookie := &http.Cookie{Name: "__Host-cogauth", Value: fx.Cookie}
	if code, body := me(t, w, cookie); code != http.StatusOK || !strings.Contains(body, `"username":"`+fx.Username+`"`) {
		t.Fatalf("release 2's record: %d %s", code, body)
	}
	clk.Advance(30 * time.Minute) // past IdleTimeout/8: the web part is written
	if code, _ := me(t, w, cookie); code != http.StatusOK {
		t.Fatalf("after the idle extension: %d", code)
	}
	e, err := mem.Get(context.Background(), rk)
	if err != nil {
		t.Fatal(err)
	}
	aead, _ := w.keys.sessionAEAD(id)
	plain, err := aead.Open(nil, e.Data[1:1+aead.NonceSize()], e.Data[1+aead.NonceSize():], bundleAD(recordKey("", sessionNS+w.keys.name(id).String(), w.pool, w.client, metaUser)))
	if err != nil || plain[0] != bundleFormat {
		t.Fatalf("the rewritten record is not in today's frame (%v)", err)
	}
	// A replica that has not cached it reads the rewritten record.
	cold := release2Sessions(t, fx, clk, func(c *Config) { c.Store = mem })
	if code, body := me(t, cold, cookie); code != http.StatusOK || !strings.Contains(body, fx.Username) {
		t.Fatalf("the rewritten record on another replica: %d %s", code, body)
	}
}

// TestRelease2Cookies: cookie-mode chunks release 2 set (its records packed
// JSON) are served by this release.
func TestRelease2Cookies(t *testing.T) {
	fx := loadRelease2(t, "release2-cookie.json")
	clk := clock.NewFake(fx.Now.Add(time.Minute))
	w := release2Sessions(t, fx, clk, func(c *Config) {
		c.CookieKeys = make([]secret.Bytes, len(fx.Keys))
		for i, k := range fx.Keys {
			c.CookieKeys[i] = k
		}
	})
	var cookies []*http.Cookie
	for name, v := range fx.Chunks {
		cookies = append(cookies, &http.Cookie{Name: name, Value: v})
	}
	if code, body := me(t, w, cookies...); code != http.StatusOK || !strings.Contains(body, `"username":"`+fx.Username+`"`) {
		t.Fatalf("release 2's cookies: %d %s", code, body)
	}
}
