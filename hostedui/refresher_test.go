package hostedui_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/cogauth/cogauth/hostedui"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/session"
)

// tokenEndpoint is a /oauth2/token that answers status and body, counting the
// refreshes it got.
func tokenEndpoint(t *testing.T, status int, body string) (string, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth2/token" || r.FormValue("grant_type") != "refresh_token" || r.FormValue("refresh_token") != "rt" {
			http.Error(w, "unexpected request", http.StatusTeapot)
			return
		}
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &n
}

// TestRefresherFailurePolicy: what the token endpoint answers becomes what the
// Manager's failure policy reads — invalid_grant a *session.RejectedError with the
// reason its description gives, everything else the *hostedui.Error as it is,
// retryable or not by its own word.
func TestRefresherFailurePolicy(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		reason    session.Reason // for a rejection
		rejected  bool
		retryable bool
	}{
		{"revoked", 400, `{"error":"invalid_grant","error_description":"Refresh Token has been revoked"}`, session.ReasonRevoked, true, false},
		{"expired", 400, `{"error":"invalid_grant","error_description":"Refresh Token has expired"}`, session.ReasonExpired, true, false},
		{"no description", 400, `{"error":"invalid_grant"}`, session.ReasonNotAuthorized, true, false},
		{"invalid_client", 401, `{"error":"invalid_client"}`, 0, false, false},
		{"unavailable", 503, `{"error":"temporarily_unavailable"}`, 0, false, true},
		{"throttled", 429, `{"error":"slow_down"}`, 0, false, true},
		{"a proxy's page", 502, `<html>bad gateway</html>`, 0, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, n := tokenEndpoint(t, tt.status, tt.body)
			c, err := hostedui.New(hostedui.Options{Domain: u, ClientID: "client"})
			if err != nil {
				t.Fatal(err)
			}
			_, err = hostedui.NewRefresher(c).Refresh(context.Background(), session.RefreshRequest{RefreshToken: jwt.Secret("rt")})
			if n.Load() != 1 {
				t.Fatalf("%d requests reached the token endpoint", n.Load())
			}
			var rj *session.RejectedError
			var he *hostedui.Error
			switch {
			case !errors.As(err, &he) || he.StatusCode != tt.status:
				t.Fatalf("err = %v, want the *hostedui.Error of the answer", err)
			case errors.As(err, &rj) != tt.rejected:
				t.Fatalf("err = %v, rejected %t, want %t", err, !tt.rejected, tt.rejected)
			case tt.rejected && (rj.Reason != tt.reason || !errors.Is(err, session.ErrRefreshRejected) || !errors.Is(err, hostedui.ErrInvalidGrant)):
				t.Fatalf("err = %v (reason %v), want a rejection for %v matching ErrRefreshRejected and ErrInvalidGrant", err, rj.Reason, tt.reason)
			case retryable(err) != tt.retryable:
				t.Fatalf("retryable(%v) = %t, want %t", err, !tt.retryable, tt.retryable)
			}
		})
	}
}

// TestDomainRefresher: a NewDomainRefresher refreshes each session at the domain
// it recorded (the default domain for none), names its client, and serves only
// sessions it has a domain for.
func TestDomainRefresher(t *testing.T) {
	answer := `{"access_token":"at","id_token":"it","token_type":"Bearer","expires_in":3600}`
	home, homeN := tokenEndpoint(t, 200, answer)
	other, otherN := tokenEndpoint(t, 200, answer)
	r, err := hostedui.NewDomainRefresher(hostedui.Options{Domain: home, ClientID: "client"})
	if err != nil {
		t.Fatal(err)
	}
	var _ session.HostedUIRefresher = r
	if r.ClientID() != "client" || !r.Serves("") || !r.Serves(other) {
		t.Fatalf("ClientID %q, Serves(\"\") %t, Serves(other) %t", r.ClientID(), r.Serves(""), r.Serves(other))
	}
	ctx := context.Background()
	for _, d := range []string{"", home, other, other + "/"} {
		res, err := r.Refresh(ctx, session.RefreshRequest{RefreshToken: jwt.Secret("rt"), Source: session.SourceHostedUI, Domain: d})
		if err != nil || res.AccessToken.Reveal() != "at" || res.IDToken.Reveal() != "it" {
			t.Fatalf("Refresh at %q = %+v, %v", d, res, err)
		}
	}
	if homeN.Load() != 2 || otherN.Load() != 2 {
		t.Fatalf("refreshes: default domain %d, other domain %d; want 2 and 2", homeN.Load(), otherN.Load())
	}
	noDefault, err := hostedui.NewDomainRefresher(hostedui.Options{ClientID: "client"})
	if err != nil {
		t.Fatal(err)
	}
	if noDefault.Serves("") || !noDefault.Serves(other) {
		t.Fatal("a refresher without a default domain serves sessions that recorded none")
	}
	if _, err := hostedui.NewDomainRefresher(hostedui.Options{Domain: home}); err == nil {
		t.Fatal("NewDomainRefresher without a ClientID succeeded")
	}
}
