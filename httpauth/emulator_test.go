package httpauth_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/httpauth"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/session"
)

// TestEndToEndWithEmulator wires everything together over loopback: a session
// signed in to the emulator, the Transport putting its tokens on requests, and an
// API behind Middleware verifying them against the emulator's JWKS. The
// emulator's clock moves past several expiries; no 401 reaches the caller. Then the
// refresh token is revoked, and once the access token expires the caller gets a
// clear error instead of a bare 401.
func TestEndToEndWithEmulator(t *testing.T) {
	ctx := context.Background()
	srv := emulator.NewServer(emulator.Options{
		Clock: clock.NewFake(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)),
		Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
			Name:    "app",
			Clients: []emulator.SeedClient{{Name: "web"}},
			Users:   []emulator.SeedUser{{Username: "alice", Password: "Correct-Horse-1"}},
		}}},
	})
	defer srv.Close()
	poolID, clientID := srv.PoolID("app"), srv.AppClient("app", "web").ID
	cc, err := cognito.New(cognito.Options{UserPoolID: poolID, ClientID: clientID, Endpoint: srv.URL, Clock: srv.Clock()})
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := session.New(session.Config{Cognito: cc, Clock: srv.Clock()})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := mgr.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: "Correct-Horse-1"}); err != nil || res.Session == nil {
		t.Fatalf("sign-in: %v", err)
	}

	iss := srv.Issuer(poolID)
	v, err := jwt.NewVerifier(jwt.VerifierOptions{
		Issuers:   []string{iss},
		JWKSURLs:  map[string]string{iss: srv.URL + "/" + poolID + "/.well-known/jwks.json"},
		TokenUse:  jwt.AccessToken,
		ClientIDs: []string{clientID},
		Clock:     srv.Clock(),
	})
	if err != nil {
		t.Fatal(err)
	}
	var unauthorized atomic.Int64
	protected := httpauth.Middleware(v)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := httpauth.ClaimsFrom(r.Context())
		_, _ = io.WriteString(w, c.Username)
	}))
	countingAPI := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		protected.ServeHTTP(&statusRecorder{ResponseWriter: w, n: &unauthorized}, r)
	}))
	defer countingAPI.Close()

	client := httpauth.NewClient(mgr, httpauth.Bearer)
	upstream, _ := url.Parse(countingAPI.URL)
	proxy, err := httpauth.NewProxy(httpauth.ProxyOptions{Upstream: upstream, Source: mgr, ErrorLog: log.New(io.Discard, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	px := httptest.NewServer(proxy)
	defer px.Close()

	get := func(c *http.Client, u string) (int, string, error) {
		resp, err := c.Get(u)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), nil
	}
	for i := range 6 {
		for _, via := range []struct {
			c *http.Client
			u string
		}{{client, countingAPI.URL}, {http.DefaultClient, px.URL}} {
			status, body, err := get(via.c, via.u)
			if err != nil || status != 200 || body != "alice" {
				t.Fatalf("step %d via %s: %d %q %v", i, via.u, status, body, err)
			}
		}
		srv.Advance(35 * time.Minute) // access tokens live an hour
	}
	if n := unauthorized.Load(); n != 0 {
		t.Errorf("%d requests met a 401 at the API", n)
	}

	// Revoke the refresh token behind the session's back.
	s, err := mgr.Fetch(ctx, session.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := cc.RevokeToken(ctx, s.Tokens.Refresh); err != nil {
		t.Fatal(err)
	}
	srv.Advance(2 * time.Hour)
	_, _, err = get(client, countingAPI.URL)
	if !errors.Is(err, httpauth.ErrToken) || !errors.Is(err, session.ErrSignedOut) {
		t.Fatalf("after revocation: err = %v, want ErrToken and session.ErrSignedOut", err)
	}
	status, body, err := get(http.DefaultClient, px.URL)
	if err != nil || status != http.StatusBadGateway {
		t.Fatalf("proxy after revocation: %d %q %v", status, body, err)
	}
}

// statusRecorder counts 401 answers.
type statusRecorder struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (s *statusRecorder) WriteHeader(code int) {
	if code == http.StatusUnauthorized {
		s.n.Add(1)
	}
	s.ResponseWriter.WriteHeader(code)
}
