package session_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/cognito"
)

const (
	testPool   = "us-east-1_TestPool"
	testClient = "testclient123"
	testIssuer = "https://cognito-idp.us-east-1.amazonaws.com/" + testPool
)

// fakeIDP is a small Cognito user-pool service for session tests: password sign-in,
// both refresh operations with optional rotation, revocation, global sign-out, and a
// fault hook. Its tokens are JWT-shaped with a dummy signature (session/ never
// verifies signatures; jwt/ and the emulator cover that). Time comes from a clock
// shared with the code under test, so tests move time instead of sleeping.
type fakeIDP struct {
	t        testing.TB
	srv      *httptest.Server
	clock    clock.Clock
	skew     time.Duration // server clock minus the shared clock
	lifetime time.Duration // access and id token lifetime
	rotate   bool          // GetTokensFromRefreshToken rotates refresh tokens
	// refreshDelay holds refresh answers back (real time), to make callers overlap.
	refreshDelay time.Duration

	mu       sync.Mutex
	refresh  map[string]string // live refresh token → username
	used     map[string]bool   // rotated-away refresh tokens
	password map[string]string
	// fault, when set, may answer a request instead of the service: it returns a
	// status and body, or drop=true to close the connection.
	fault func(op string) (status int, body string, drop bool)
	// nextExp, when set, makes the next sign-in issue tokens that expire at this
	// server time (issued one lifetime earlier), to start inside the window.
	nextExp time.Time

	calls sync.Map // op → *atomic.Int64
}

func newFakeIDP(t testing.TB, c clock.Clock) *fakeIDP {
	f := &fakeIDP{
		t: t, clock: c, lifetime: time.Hour,
		refresh: map[string]string{}, used: map[string]bool{},
		password: map[string]string{"alice": "correct horse"},
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeIDP) client(t testing.TB) *cognito.Client {
	c, err := cognito.New(cognito.Options{UserPoolID: testPool, ClientID: testClient, Endpoint: f.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fakeIDP) count(op string) int64 {
	v, _ := f.calls.LoadOrStore(op, new(atomic.Int64))
	return v.(*atomic.Int64).Load()
}

func (f *fakeIDP) refreshCalls() int64 {
	return f.count("GetTokensFromRefreshToken") + f.count("InitiateAuth:REFRESH_TOKEN_AUTH")
}

func (f *fakeIDP) setFault(fn func(op string) (int, string, bool)) {
	f.mu.Lock()
	f.fault = fn
	f.mu.Unlock()
}

func (f *fakeIDP) now() time.Time { return f.clock.Now().Add(f.skew) }

func (f *fakeIDP) serve(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AWSCognitoIdentityProviderService.")
	var in map[string]any
	_ = json.NewDecoder(r.Body).Decode(&in)
	key := op
	if op == "InitiateAuth" {
		key += ":" + fmt.Sprint(in["AuthFlow"])
	}
	v, _ := f.calls.LoadOrStore(key, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)

	f.mu.Lock()
	fault := f.fault
	f.mu.Unlock()
	if fault != nil {
		if status, body, drop := fault(op); drop {
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close()
			return
		} else if status != 0 {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
			return
		}
	}
	if (op == "GetTokensFromRefreshToken" || key == "InitiateAuth:REFRESH_TOKEN_AUTH") && f.refreshDelay > 0 {
		time.Sleep(f.refreshDelay)
	}
	w.Header().Set("Date", f.now().UTC().Format(http.TimeFormat))
	out, name, msg := f.handle(op, in)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if name != "" {
		w.Header().Set("X-Amzn-ErrorType", name+":")
		w.WriteHeader(400)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": name, "message": msg})
		return
	}
	_ = json.NewEncoder(w).Encode(out)
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

func (f *fakeIDP) handle(op string, in map[string]any) (out any, errName, msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	params, _ := in["AuthParameters"].(map[string]any)
	switch op {
	case "InitiateAuth":
		switch str(in, "AuthFlow") {
		case "USER_PASSWORD_AUTH":
			u := str(params, "USERNAME")
			if f.password[u] == "" || f.password[u] != str(params, "PASSWORD") {
				return nil, "NotAuthorizedException", "Incorrect username or password."
			}
			exp := f.nextExp
			f.nextExp = time.Time{}
			return map[string]any{"AuthenticationResult": f.issue(u, true, exp)}, "", ""
		case "REFRESH_TOKEN_AUTH":
			u, errName, msg := f.checkRefresh(str(params, "REFRESH_TOKEN"))
			if errName != "" {
				return nil, errName, msg
			}
			return map[string]any{"AuthenticationResult": f.issue(u, false, time.Time{})}, "", ""
		}
		return nil, "InvalidParameterException", "flow"
	case "GetTokensFromRefreshToken":
		old := str(in, "RefreshToken")
		u, errName, msg := f.checkRefresh(old)
		if errName != "" {
			return nil, errName, msg
		}
		res := f.issue(u, f.rotate, time.Time{})
		if f.rotate {
			delete(f.refresh, old)
			f.used[old] = true
		}
		return map[string]any{"AuthenticationResult": res}, "", ""
	case "RevokeToken":
		delete(f.refresh, str(in, "Token"))
		return map[string]any{}, "", ""
	case "GlobalSignOut":
		for rt, u := range f.refresh {
			if u == "alice" {
				delete(f.refresh, rt)
			}
		}
		return map[string]any{}, "", ""
	}
	return nil, "UnknownOperationException", op
}

func (f *fakeIDP) checkRefresh(rt string) (user, errName, msg string) {
	if f.used[rt] {
		return "", "RefreshTokenReuseException", "Refresh token has been reused."
	}
	u, ok := f.refresh[rt]
	if !ok {
		return "", "NotAuthorizedException", "Refresh Token has been revoked"
	}
	return u, "", ""
}

// revokeAll forgets every refresh token, as an administrator's revocation would.
func (f *fakeIDP) revokeAll() {
	f.mu.Lock()
	f.refresh = map[string]string{}
	f.mu.Unlock()
}

// issue makes tokens for user; withRefresh adds a new refresh token. exp, when not
// zero, is the expiry instead of now+lifetime.
func (f *fakeIDP) issue(user string, withRefresh bool, exp time.Time) map[string]any {
	now := f.now()
	if exp.IsZero() {
		exp = now.Add(f.lifetime)
	}
	iat := exp.Add(-f.lifetime)
	base := map[string]any{
		"sub": "sub-" + user, "iss": testIssuer, "iat": iat.Unix(), "exp": exp.Unix(), "auth_time": iat.Unix(),
		"jti": randHex(8),
	}
	access := map[string]any{"token_use": "access", "client_id": testClient, "username": user, "scope": "aws.cognito.signin.user.admin"}
	id := map[string]any{"token_use": "id", "aud": testClient, "cognito:username": user, "email": user + "@example.com"}
	for k, v := range base {
		access[k], id[k] = v, v
	}
	res := map[string]any{"AccessToken": fakeJWT(access), "IdToken": fakeJWT(id), "ExpiresIn": int(exp.Sub(now).Seconds()), "TokenType": "Bearer"}
	if withRefresh {
		rt := "rt-" + randHex(16)
		f.refresh[rt] = user
		res["RefreshToken"] = rt
	}
	return res
}

func fakeJWT(claims map[string]any) string {
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": "test", "typ": "JWT"})
	p, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(h) + "." + enc.EncodeToString(p) + "." + enc.EncodeToString([]byte("not-a-signature"))
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
