package httpauth

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"
)

// fakeProvider hands out tok1 until forced, then tok2, tok3, …
type fakeProvider struct {
	mu       sync.Mutex
	tokens   []string
	i        int
	forced   int
	forceErr error
	err      error
}

func (p *fakeProvider) Token(_ context.Context, force bool) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return "", p.err
	}
	if force {
		p.forced++
		if p.forceErr != nil {
			return "", p.forceErr
		}
		if p.i < len(p.tokens)-1 {
			p.i++
		}
	}
	return p.tokens[p.i], nil
}

// authServer accepts only the listed Authorization values and echoes the body.
type authServer struct {
	*httptest.Server
	mu     sync.Mutex
	accept map[string]bool
	seen   []string
	bodies []string
}

func newAuthServer(t *testing.T, accept ...string) *authServer {
	s := &authServer{accept: map[string]bool{}}
	for _, a := range accept {
		s.accept[a] = true
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		h := r.Header.Get("Authorization")
		s.seen = append(s.seen, h)
		s.bodies = append(s.bodies, string(body))
		ok := s.accept[h]
		s.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, "denied")
			return
		}
		_, _ = io.WriteString(w, "ok:"+string(body))
	}))
	t.Cleanup(s.Close)
	return s
}

func TestTransport(t *testing.T) {
	tests := []struct {
		name       string
		scheme     Scheme
		accept     []string
		provider   *fakeProvider
		body       func() io.Reader // nil: GET without body
		wantStatus int
		wantErr    error
		wantSeen   []string
		wantForced int
	}{
		{name: "bearer", scheme: Bearer, accept: []string{"Bearer t1"}, provider: &fakeProvider{tokens: []string{"t1"}},
			wantStatus: 200, wantSeen: []string{"Bearer t1"}},
		{name: "raw", scheme: Raw, accept: []string{"t1"}, provider: &fakeProvider{tokens: []string{"t1"}},
			wantStatus: 200, wantSeen: []string{"t1"}},
		{name: "401 then refresh and retry", scheme: Bearer, accept: []string{"Bearer t2"}, provider: &fakeProvider{tokens: []string{"t1", "t2"}},
			wantStatus: 200, wantSeen: []string{"Bearer t1", "Bearer t2"}, wantForced: 1},
		{name: "retry replays the body", scheme: Bearer, accept: []string{"Bearer t2"}, provider: &fakeProvider{tokens: []string{"t1", "t2"}},
			body: func() io.Reader { return strings.NewReader("payload") }, wantStatus: 200, wantSeen: []string{"Bearer t1", "Bearer t2"}, wantForced: 1},
		{name: "body that cannot be replayed: 401 to the caller", scheme: Bearer, accept: []string{"Bearer t2"}, provider: &fakeProvider{tokens: []string{"t1", "t2"}},
			body: func() io.Reader { return io.MultiReader(strings.NewReader("payload")) }, wantStatus: 401, wantSeen: []string{"Bearer t1"}},
		{name: "only one retry", scheme: Bearer, accept: nil, provider: &fakeProvider{tokens: []string{"t1", "t2", "t3"}},
			wantStatus: 401, wantSeen: []string{"Bearer t1", "Bearer t2"}, wantForced: 1},
		{name: "same token after refresh: no retry", scheme: Bearer, accept: nil, provider: &fakeProvider{tokens: []string{"t1"}},
			wantStatus: 401, wantSeen: []string{"Bearer t1"}, wantForced: 1},
		{name: "refresh fails: clear error", scheme: Bearer, accept: nil, provider: &fakeProvider{tokens: []string{"t1"}, forceErr: errors.New("session revoked")},
			wantErr: ErrToken, wantSeen: []string{"Bearer t1"}, wantForced: 1},
		{name: "no token at all", scheme: Bearer, provider: &fakeProvider{tokens: []string{"t1"}, err: errors.New("signed out")},
			body: func() io.Reader { return strings.NewReader("x") }, wantErr: ErrToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newAuthServer(t, tt.accept...)
			client := NewClient(tt.provider, tt.scheme)
			var body io.Reader
			if tt.body != nil {
				body = tt.body()
			}
			req, err := http.NewRequest(http.MethodPost, srv.URL, body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Mine", "1")
			resp, err := client.Do(req)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tt.wantStatus {
					t.Fatalf("status = %d (%s), want %d", resp.StatusCode, got, tt.wantStatus)
				}
				if tt.wantStatus == 200 && tt.body != nil && string(got) != "ok:payload" {
					t.Errorf("body = %q", got)
				}
			}
			if strings.Join(srv.seen, "|") != strings.Join(tt.wantSeen, "|") {
				t.Errorf("server saw %q, want %q", srv.seen, tt.wantSeen)
			}
			if tt.provider.forced != tt.wantForced {
				t.Errorf("forced refreshes = %d, want %d", tt.provider.forced, tt.wantForced)
			}
			if h := req.Header; h.Get("Authorization") != "" || h.Get("X-Mine") != "1" || len(h) != 1 {
				t.Errorf("caller's request changed: %v", h)
			}
		})
	}
}

type countingSource struct {
	n int
}

func (s *countingSource) Token() (*oauth2.Token, error) {
	s.n++
	return &oauth2.Token{AccessToken: "ts-token"}, nil
}

func TestFromTokenSource(t *testing.T) {
	srv := newAuthServer(t, "Bearer ts-token")
	src := &countingSource{}
	resp, err := NewClient(FromTokenSource(src), Bearer).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || src.n != 1 {
		t.Fatalf("status %d, token calls %d", resp.StatusCode, src.n)
	}
}

func TestParseScheme(t *testing.T) {
	for in, want := range map[string]Scheme{"bearer": Bearer, "": Bearer, "raw": Raw} {
		if got, err := ParseScheme(in); err != nil || got != want {
			t.Errorf("ParseScheme(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseScheme("basic"); err == nil {
		t.Error("ParseScheme(basic) accepted")
	}
}

// closeTracker records whether the Transport closed a request body it could not send.
type closeTracker struct {
	io.Reader
	closed bool
}

func (c *closeTracker) Close() error { c.closed = true; return nil }

func TestTransportClosesBodyOnTokenError(t *testing.T) {
	body := &closeTracker{Reader: bytes.NewReader([]byte("x"))}
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/", body)
	tr := &Transport{Source: &fakeProvider{tokens: []string{"t"}, err: errors.New("no")}}
	if _, err := tr.RoundTrip(req); err == nil || !body.closed {
		t.Fatalf("err = %v, closed = %v", err, body.closed)
	}
}
