package hostedui_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cogauth/cogauth/hostedui"
	"github.com/cogauth/cogauth/internal/redact/redacttest"
	"github.com/cogauth/cogauth/jwt"
)

// TestRedaction renders every exported type of the package that holds a token
// or a secret, every way, and finds none of them; so too a failed call's error.
func TestRedaction(t *testing.T) {
	const (
		clientSecret = "hosted-client-secret-1234"
		access       = "eyJhbGciOi.access.access-signature"
		refresh      = "hosted-refresh-token-5678"
	)
	opts := hostedui.Options{Domain: "https://auth.example.com", ClientID: "client", ClientSecret: clientSecret, RedirectURI: "http://127.0.0.1:1/cb"}
	c, err := hostedui.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	req, err := c.AuthCodeURL(hostedui.AuthorizeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tokens := hostedui.Tokens{AccessToken: access, RefreshToken: refresh, Expiry: time.Now()}
	secrets := []string{clientSecret, "access-signature", refresh, req.Verifier().Reveal()}
	for name, v := range map[string]any{
		"*Client":      c,
		"Options":      opts,
		"*AuthRequest": req,
		"Tokens":       tokens,
		"*Tokens":      &tokens,
		"nested":       struct{ T *hostedui.Tokens }{&tokens},
	} {
		redacttest.NoSecrets(t, name, v, secrets...)
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(502)
	}))
	defer srv.Close()
	bad, err := hostedui.New(hostedui.Options{Domain: srv.URL, ClientID: "client", ClientSecret: clientSecret})
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.Refresh(context.Background(), jwt.Secret(refresh))
	if err == nil {
		t.Fatal("refresh against a 502 worked")
	}
	redacttest.NoSecrets(t, "refresh error", err, secrets...)
}

// TestCallsEndAgainstAHang: the token endpoint accepting and never answering
// ends the call at the client's timeout, as a retryable failure.
func TestCallsEndAgainstAHang(t *testing.T) {
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-hang:
		}
	}))
	defer srv.Close()
	defer close(hang)
	c, err := hostedui.New(hostedui.Options{Domain: srv.URL, ClientID: "client", Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Refresh(context.Background(), "rt"); !retryable(err) {
		t.Fatalf("refresh against a hang: %v, want a retryable error", err)
	}
	if err := c.Revoke(context.Background(), "rt"); !retryable(err) {
		t.Fatalf("revoke against a hang: %v, want a retryable error", err)
	}
	if _, err := c.UserInfo(context.Background(), "at"); !retryable(err) {
		t.Fatalf("userInfo against a hang: %v, want a retryable error", err)
	}
}
