package session_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/session"
	"github.com/cogauth/cogauth/store"
)

// TestRecordsEndWithTheRefreshToken: with Config.RefreshTokenValidity, the
// session's record expires in the store when its refresh token does — the
// sign-in plus the validity, a refresh writing it again without moving that
// end — and without it the record does not expire.
func TestRecordsEndWithTheRefreshToken(t *testing.T) {
	for _, validity := range []time.Duration{0, 3 * time.Hour} {
		srv, c := startEmulator()
		defer srv.Close()
		st := store.NewMemory()
		st.Clock = srv.Clock()
		m, err := session.New(session.Config{Cognito: c, Clock: srv.Clock(), Store: st, RefreshTokenValidity: validity})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		ctx := context.Background()
		res, err := m.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: "Corr3ct-Horse!"})
		if err != nil || res.Session == nil {
			t.Fatalf("SignIn: %v", err)
		}
		key := session.SessionKey(srv.PoolID("app"), srv.AppClient("app", "web").ID, res.Session.Username)
		srv.Advance(2 * time.Hour) // the access token has expired: the next Fetch refreshes and writes
		if _, err := m.Fetch(ctx, session.FetchOptions{}); err != nil {
			t.Fatalf("Fetch after 2 h: %v", err)
		}
		srv.Advance(61 * time.Minute) // 3 h 1 min after the sign-in
		_, err = st.Get(ctx, key)
		switch {
		case validity == 0 && err != nil:
			t.Fatalf("no validity: the record is gone after 3 h: %v", err)
		case validity > 0 && !errors.Is(err, store.ErrNotFound):
			t.Fatalf("validity %v: the record is still there 3 h 1 min after the sign-in (err %v)", validity, err)
		}
	}
	if _, err := session.New(session.Config{Cognito: &cognito.Client{}, RefreshTokenValidity: -time.Hour}); err == nil {
		t.Fatal("a negative RefreshTokenValidity was accepted")
	}
}
