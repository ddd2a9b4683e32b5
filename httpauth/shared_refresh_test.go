package httpauth_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/cogauth/cogauth/httpauth"
	"github.com/cogauth/cogauth/internal/bearer/bearertest"
)

// TestTransportSharesRefresh: the API starts refusing the session's token; 50
// concurrent requests meet 401, share one refresh at the emulator (the Refresher
// grpcauth uses too), and all succeed on retry.
func TestTransportSharesRefresh(t *testing.T) {
	e := bearertest.New(t)
	api := httptest.NewServer(httpauth.Middleware(e.Verifier)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := httpauth.ClaimsFrom(r.Context())
		_, _ = io.WriteString(w, c.Username)
	})))
	defer api.Close()
	client := httpauth.NewClient(e.Session, httpauth.Bearer)
	get := func() (int, string, error) {
		resp, err := client.Get(api.URL)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), nil
	}
	if code, body, err := get(); err != nil || code != 200 || body != bearertest.User {
		t.Fatalf("first request: %d %q %v", code, body, err)
	}
	e.RevokeCurrent()
	before := e.Refreshes()
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if code, body, err := get(); err != nil || code != 200 || body != bearertest.User {
				t.Errorf("%d %q %v", code, body, err)
			}
		})
	}
	wg.Wait()
	if n := e.Refreshes() - before; n != 1 {
		t.Fatalf("%d refreshes for 50 refused requests, want 1", n)
	}
}
