package session_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/session"
	"github.com/cogauth/cogauth/store"
)

// memRefresher is a session.Refresher in memory: no HTTP, no fake Cognito. It
// issues tokens for one user, rotates refresh tokens, and answers with whatever
// error a test sets.
type memRefresher struct {
	clock clock.Clock
	mu    sync.Mutex
	live  string // the refresh token that works
	err   error  // answer with this instead, when set
	calls int
}

func (r *memRefresher) tokens(sub string) (access, id string) {
	now := r.clock.Now()
	base := map[string]any{"sub": sub, "iss": testIssuer, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": randHex(4)}
	a := map[string]any{"token_use": "access", "client_id": testClient, "username": "alice"}
	i := map[string]any{"token_use": "id", "aud": testClient, "cognito:username": "alice"}
	for k, v := range base {
		a[k], i[k] = v, v
	}
	return fakeJWT(a), fakeJWT(i)
}

func (r *memRefresher) Refresh(_ context.Context, req session.RefreshRequest) (*session.RefreshResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.err != nil {
		return nil, r.err
	}
	if req.RefreshToken.Reveal() != r.live {
		return nil, &session.RejectedError{Reason: session.ReasonRevoked, Err: errors.New("unknown refresh token")}
	}
	r.live = "rt-" + randHex(8)
	a, i := r.tokens("sub-alice")
	return &session.RefreshResult{AccessToken: jwt.Secret(a), IDToken: jwt.Secret(i), RefreshToken: jwt.Secret(r.live)}, nil
}

// TestRefresherSeamInMemory runs the failure policy through an in-memory
// Refresher: a transient error keeps the session, a RejectedError ends it with
// its reason, and an answer for another user is refused before it is stored.
func TestRefresherSeamInMemory(t *testing.T) {
	fc := clock.NewFake(time.Unix(1_800_000_000, 0))
	r := &memRefresher{clock: fc, live: "rt-first"}
	c, err := cognito.New(cognito.Options{UserPoolID: testPool, ClientID: testClient, Endpoint: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	st := store.NewMemory()
	m, err := session.New(session.Config{Cognito: c, Store: st, Clock: fc, Refresher: r, Logger: quietLogger(),
		Backoff: session.Backoff{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	a, i := r.tokens("sub-alice")
	if _, err := m.Import(ctx, session.ImportInput{AccessToken: jwt.Secret(a), IDToken: jwt.Secret(i), RefreshToken: "rt-first"}); err != nil {
		t.Fatal(err)
	}

	// Refresh through the fake, rotation kept.
	fc.Advance(56 * time.Minute)
	s, err := m.Fetch(ctx, session.FetchOptions{})
	if err != nil || s.Tokens.Access.Raw() == a || s.Tokens.Refresh.Reveal() != r.live {
		t.Fatalf("refresh through the fake: %v", err)
	}

	// A transient failure keeps it.
	r.err = errors.New("connection reset by peer")
	if _, err := m.Fetch(ctx, session.FetchOptions{ForceRefresh: true}); err == nil || errors.Is(err, session.ErrSignedOut) {
		t.Fatalf("transient failure: %v", err)
	}
	if again, err := m.Fetch(ctx, session.FetchOptions{}); err != nil || again.Tokens.Access.Raw() != s.Tokens.Access.Raw() {
		t.Fatalf("valid tokens not served after a transient failure: %v", err)
	}

	// An answer for another user is a fault: refused, nothing stored.
	r.err = nil
	bad := &otherUser{r}
	m2, err := session.New(session.Config{Cognito: c, Store: st, Clock: fc, Refresher: bad, Logger: quietLogger(), Backoff: session.Backoff{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	_, err = m2.Fetch(ctx, session.FetchOptions{ForceRefresh: true})
	if !errors.Is(err, session.ErrInvalidAnswer) || !retryable(err) {
		t.Fatalf("answer for another user: %v; want a retryable ErrInvalidAnswer", err)
	}

	// A definitive refusal ends it, with the reason.
	r.err = &session.RejectedError{Reason: session.ReasonRevoked, Err: errors.New("revoked")}
	_, err = m.Fetch(ctx, session.FetchOptions{ForceRefresh: true})
	var so *session.SignedOutError
	if !errors.As(err, &so) || so.Reason != session.ReasonRevoked {
		t.Fatalf("rejection: %v; want signed out (revoked)", err)
	}
}

// otherUser answers with tokens of another sub.
type otherUser struct{ r *memRefresher }

func (o *otherUser) Refresh(context.Context, session.RefreshRequest) (*session.RefreshResult, error) {
	a, i := o.r.tokens("sub-mallory")
	return &session.RefreshResult{AccessToken: jwt.Secret(a), IDToken: jwt.Secret(i)}, nil
}
