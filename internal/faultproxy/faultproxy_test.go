package faultproxy_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cogauth/cogauth/internal/faultproxy"
)

const upstreamBody = `{"AuthenticationResult":{"AccessToken":"upstream-access","IdToken":"upstream-id"}}`

func startUpstream(t *testing.T) *httptest.Server {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", faultproxy.JSONContentType)
		io.WriteString(w, upstreamBody)
	}))
	t.Cleanup(up.Close)
	return up
}

// call sends one Cognito-shaped request for op through the proxy and reads the
// whole answer, with a timeout so that hangs end.
func call(t *testing.T, p *faultproxy.Proxy, op string, timeout time.Duration) (*http.Response, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.URL()+"/", strings.NewReader(`{"ClientId":"c"}`))
	req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService."+op)
	c := &http.Client{Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

func TestFaults(t *testing.T) {
	up := startUpstream(t)
	p := faultproxy.Start(t, up.URL)

	tests := []struct {
		fault  faultproxy.Fault
		check  func(t *testing.T, resp *http.Response, body string, err error)
		within time.Duration
	}{
		{faultproxy.Pass(), func(t *testing.T, resp *http.Response, body string, err error) {
			if err != nil || resp.StatusCode != 200 || body != upstreamBody {
				t.Fatalf("got %v %q, %v", resp, body, err)
			}
		}, 5 * time.Second},
		{faultproxy.Refuse(), func(t *testing.T, resp *http.Response, body string, err error) {
			if !errors.Is(err, syscall.ECONNREFUSED) {
				t.Fatalf("err = %v, want connection refused", err)
			}
		}, 5 * time.Second},
		{faultproxy.Reset(), func(t *testing.T, resp *http.Response, body string, err error) {
			if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, io.EOF) {
				t.Fatalf("err = %v, want connection reset", err)
			}
		}, 5 * time.Second},
		{faultproxy.Hang(), func(t *testing.T, resp *http.Response, body string, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want the client's deadline", err)
			}
		}, 200 * time.Millisecond},
		{faultproxy.CognitoError(500, "InternalErrorException", "boom"), func(t *testing.T, resp *http.Response, body string, err error) {
			if err != nil || resp.StatusCode != 500 || resp.Header.Get("x-amzn-ErrorType") != "InternalErrorException:" {
				t.Fatalf("got %v, %v", resp, err)
			}
			var m map[string]string
			if json.Unmarshal([]byte(body), &m) != nil || m["__type"] != "InternalErrorException" {
				t.Fatalf("body %q", body)
			}
		}, 5 * time.Second},
		{faultproxy.HTML(502), func(t *testing.T, resp *http.Response, body string, err error) {
			if err != nil || resp.StatusCode != 502 || resp.Header.Get("Content-Type") != "text/html" || !strings.Contains(body, "<h1>502 Bad Gateway</h1>") {
				t.Fatalf("got %v %q, %v", resp, body, err)
			}
		}, 5 * time.Second},
		{faultproxy.Throttle(), func(t *testing.T, resp *http.Response, body string, err error) {
			if err != nil || resp.StatusCode != 400 || !strings.Contains(body, "TooManyRequestsException") {
				t.Fatalf("got %v %q, %v", resp, body, err)
			}
		}, 5 * time.Second},
		{faultproxy.TooManyRequests(), func(t *testing.T, resp *http.Response, body string, err error) {
			if err != nil || resp.StatusCode != 429 {
				t.Fatalf("got %v, %v", resp, err)
			}
		}, 5 * time.Second},
		{faultproxy.Truncate(10), func(t *testing.T, resp *http.Response, body string, err error) {
			if !errors.Is(err, io.ErrUnexpectedEOF) || body != upstreamBody[:10] {
				t.Fatalf("got %q, %v; want the first 10 bytes and an unexpected EOF", body, err)
			}
		}, 5 * time.Second},
		{faultproxy.Stall(10), func(t *testing.T, resp *http.Response, body string, err error) {
			if !errors.Is(err, context.DeadlineExceeded) || body != upstreamBody[:10] || resp.StatusCode != 200 {
				t.Fatalf("got %q, %v; want 10 bytes and then the deadline", body, err)
			}
		}, 300 * time.Millisecond},
		{faultproxy.Huge(3), func(t *testing.T, resp *http.Response, body string, err error) {
			if err != nil || len(body) != 3<<20 || resp.ContentLength != -1 {
				t.Fatalf("got %d bytes (Content-Length %d), %v", len(body), resp.ContentLength, err)
			}
			var m struct{ AuthenticationResult struct{ AccessToken string } }
			if err := json.Unmarshal([]byte(body), &m); err != nil || len(m.AuthenticationResult.AccessToken) < 3<<20-100 {
				t.Fatalf("not the promised JSON: %v", err)
			}
		}, 10 * time.Second},
		{faultproxy.SlowLoris(time.Millisecond), func(t *testing.T, resp *http.Response, body string, err error) {
			if err != nil || body != upstreamBody {
				t.Fatalf("got %q, %v; want the whole answer, slowly", body, err)
			}
		}, 10 * time.Second},
		{faultproxy.SlowLoris(time.Hour), func(t *testing.T, resp *http.Response, body string, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want the client's deadline", err)
			}
		}, 200 * time.Millisecond},
		{faultproxy.SetJSON("AuthenticationResult.AccessToken", "not-a-jwt"), func(t *testing.T, resp *http.Response, body string, err error) {
			if err != nil || !strings.Contains(body, `"AccessToken":"not-a-jwt"`) || !strings.Contains(body, `"IdToken":"upstream-id"`) {
				t.Fatalf("got %q, %v", body, err)
			}
			if resp.Header.Get("Content-Type") != faultproxy.JSONContentType {
				t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
			}
		}, 5 * time.Second},
		{faultproxy.DeleteJSON("AuthenticationResult.IdToken"), func(t *testing.T, resp *http.Response, body string, err error) {
			if err != nil || strings.Contains(body, "IdToken") || !strings.Contains(body, "upstream-access") {
				t.Fatalf("got %q, %v", body, err)
			}
		}, 5 * time.Second},
		{faultproxy.EmptyOK(), func(t *testing.T, resp *http.Response, body string, err error) {
			if err != nil || resp.StatusCode != 200 || body != "" {
				t.Fatalf("got %q, %v", body, err)
			}
		}, 5 * time.Second},
		{faultproxy.MalformedOK(), func(t *testing.T, resp *http.Response, body string, err error) {
			if err != nil || json.Valid([]byte(body)) {
				t.Fatalf("got %q, %v", body, err)
			}
		}, 5 * time.Second},
		{faultproxy.HTMLOK(), func(t *testing.T, resp *http.Response, body string, err error) {
			if err != nil || resp.StatusCode != 200 || !strings.HasPrefix(body, "<html>") {
				t.Fatalf("got %q, %v", body, err)
			}
		}, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.fault.String(), func(t *testing.T) {
			p.Set("InitiateAuth", tt.fault)
			defer p.Clear()
			resp, body, err := call(t, p, "InitiateAuth", tt.within)
			tt.check(t, resp, body, err)
			if tt.fault.String() == "refuse" {
				return
			}
			// Other operations are not touched.
			if _, body, err := call(t, p, "GetUser", 5*time.Second); err != nil || body != upstreamBody {
				t.Fatalf("GetUser through the faulted proxy: %q, %v", body, err)
			}
		})
	}
	// Once cleared, all is well again, refused listener included.
	if _, body, err := call(t, p, "InitiateAuth", 5*time.Second); err != nil || body != upstreamBody {
		t.Fatalf("after Clear: %q, %v", body, err)
	}
}

func TestCountsTimesAndAny(t *testing.T) {
	up := startUpstream(t)
	p := faultproxy.Start(t, up.URL)

	p.Set(faultproxy.Any, faultproxy.HTML(503).Times(2))
	p.Set("GetUser", faultproxy.Pass())
	for i, want := range []int{503, 503, 200} {
		resp, _, err := call(t, p, "InitiateAuth", 5*time.Second)
		if err != nil || resp.StatusCode != want {
			t.Fatalf("call %d: %v, %v; want %d", i, resp, err, want)
		}
	}
	if resp, _, err := call(t, p, "GetUser", 5*time.Second); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GetUser has its own fault (pass): %v, %v", resp, err)
	}
	if got := p.Count("InitiateAuth"); got != 3 {
		t.Errorf("Count(InitiateAuth) = %d, want 3", got)
	}
	if got := p.Count(faultproxy.Any); got != 4 {
		t.Errorf("Count(Any) = %d, want 4", got)
	}
	p.ResetCounts()
	if got := p.Count(faultproxy.Any); got != 0 {
		t.Errorf("after ResetCounts: %d", got)
	}

	// Paths name requests without X-Amz-Target.
	p.Set("/oauth2/token", faultproxy.HTML(404))
	resp, err := http.Post(p.URL()+"/oauth2/token", "application/x-www-form-urlencoded", strings.NewReader("grant_type=x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 || p.Count("/oauth2/token") != 1 {
		t.Errorf("path fault: status %d, count %d", resp.StatusCode, p.Count("/oauth2/token"))
	}
}

// A refused proxy refuses kept-alive connections too: a client that talked to it
// before gets no answer through an old connection.
func TestRefuseClosesKeptAliveConnections(t *testing.T) {
	up := startUpstream(t)
	p := faultproxy.Start(t, up.URL)
	c := &http.Client{Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	do := func() error {
		req, _ := http.NewRequest(http.MethodPost, p.URL()+"/", strings.NewReader("{}"))
		req.Header.Set("X-Amz-Target", "X.InitiateAuth")
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		return resp.Body.Close()
	}
	if err := do(); err != nil {
		t.Fatal(err)
	}
	p.Set("GetUser", faultproxy.Refuse())
	// The old connection is closed (EOF, reset or broken pipe) and a new one is
	// refused: no answer either way.
	if err := do(); err == nil {
		t.Fatal("an answer through a refusing proxy")
	}
	if err := do(); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("a new connection through a refusing proxy: %v", err)
	}
	p.Set("GetUser", faultproxy.Pass())
	if err := do(); err != nil {
		t.Fatalf("after the refusal ends: %v", err)
	}
}

// A hung answer ends when the proxy stops, so a test's cleanup never waits on it.
func TestCloseEndsHang(t *testing.T) {
	up := startUpstream(t)
	p := faultproxy.Start(t, up.URL)
	p.Set(faultproxy.Any, faultproxy.Hang())
	errc := make(chan error, 1)
	go func() {
		_, _, err := call(t, p, "InitiateAuth", time.Minute)
		errc <- err
	}()
	for p.Count("InitiateAuth") == 0 {
		time.Sleep(time.Millisecond) // polling for the request to arrive, not for time to pass
	}
	p.Close()
	if err := <-errc; err == nil {
		t.Fatal("a hung call answered after Close")
	}
}
