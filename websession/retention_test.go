package websession

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/store"
)

// expirySpy is a store (and Locker) that remembers the expiry of every write.
type expirySpy struct {
	*store.Memory
	mu  sync.Mutex
	exp map[store.Key]time.Time
}

func (s *expirySpy) Put(ctx context.Context, k store.Key, d []byte, v uint64, expires time.Time) (uint64, error) {
	n, err := s.Memory.Put(ctx, k, d, v, expires)
	if err == nil {
		s.mu.Lock()
		s.exp[k] = expires
		s.mu.Unlock()
	}
	return n, err
}

func (s *expirySpy) expiry(k store.Key) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exp[k]
}

func newSpyFixture(t *testing.T, replicas int, adjust func(*Config)) (*fixture, *expirySpy) {
	var spy *expirySpy
	f := newFixture(t, fixtureOptions{replicas: replicas, config: adjust, store: func(_ int, clk clock.Clock) store.Store {
		if spy == nil {
			spy = &expirySpy{Memory: &store.Memory{Clock: clk}, exp: map[store.Key]time.Time{}}
		}
		return spy
	}})
	return f, spy
}

// sessionKeys returns the store keys of the browser's session: its one record
// and its user's index.
func sessionKeys(t *testing.T, f *fixture, b *browser) (record, index store.Key) {
	t.Helper()
	id, ok := parseSessionID(b.cookie("cogauth").Value)
	if !ok {
		t.Fatal("no session cookie")
	}
	w := f.replicas[0]
	return recordKey("", sessionNS+w.keys.name(id).String(), w.pool, w.client, metaUser).store(), w.indexKey(f.emu.UserSub(f.pool, alice)).store()
}

// TestRecordsEndWithSession: every write of a session's record gives it the
// session's end as its expiry — the idle deadline while that is first, never past
// the absolute one — and the store drops it at that instant, with no replica
// looking; the index expires with its last session; a logout leaves no key.
func TestRecordsEndWithSession(t *testing.T) {
	f, spy := newSpyFixture(t, 2, nil) // idle 2h, absolute 12h
	ctx := context.Background()
	b := f.browser()
	b.signIn("/", alice, password)
	signedIn := f.clk.Now()
	rec, idx := sessionKeys(t, f, b)
	if got, want := spy.expiry(rec), signedIn.Add(2*time.Hour); !got.Equal(want) {
		t.Fatalf("record written to expire at %v, want the idle deadline %v", got, want)
	}
	if got, want := spy.expiry(idx), signedIn.Add(12*time.Hour); !got.Equal(want) {
		t.Fatalf("index written to expire at %v, want the absolute end %v", got, want)
	}
	if strings.Contains(string(idx), f.emu.UserSub(f.pool, alice)) || strings.Contains(string(idx), alice) {
		t.Fatalf("the index key %s names the user", idx)
	}

	// Used every 20 minutes for 11 hours: each extension moves the expiry to the
	// new idle deadline, and none is ever past the absolute end.
	var last time.Time
	for range 33 {
		f.clk.Advance(20 * time.Minute)
		if resp, body := b.fetch(http.MethodGet, f.base+"/auth/me"); resp.StatusCode != http.StatusOK {
			t.Fatalf("busy session: %d %s", resp.StatusCode, body)
		}
		exp := spy.expiry(rec)
		if exp.After(signedIn.Add(12*time.Hour)) || exp.After(f.clk.Now().Add(2*time.Hour)) || exp.Before(f.clk.Now()) {
			t.Fatalf("at %v the record expires at %v: past the session's end", f.clk.Now().Sub(signedIn), exp.Sub(signedIn))
		}
		last = exp
	}
	if !last.Equal(signedIn.Add(12 * time.Hour)) {
		t.Fatalf("after 11 busy hours the record expires %v after sign-in, want the absolute 12h", last.Sub(signedIn))
	}

	// Left alone, the record is gone from the store at its expiry, though no
	// replica has looked.
	f.clk.Set(last.Add(-time.Millisecond))
	if _, err := spy.Get(ctx, rec); err != nil {
		t.Fatalf("just before its end: %v", err)
	}
	f.clk.Set(last)
	if _, err := spy.Get(ctx, rec); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("at its end the record reads %v, want store.ErrNotFound", err)
	}
	if _, err := spy.Get(ctx, idx); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("at its last session's end the index reads %v", err)
	}

	// A logout deletes the record and the index at once.
	b = f.browser()
	b.signIn("/", alice, password)
	rec, idx = sessionKeys(t, f, b)
	b.navigate(http.MethodPost, f.base+"/auth/logout")
	for _, k := range []store.Key{rec, idx} {
		if _, err := spy.Get(ctx, k); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("after logout %s reads %v", k, err)
		}
	}
}

// TestRefreshTokenValidityCapsSessions: a session, and so its records, never
// outlive the refresh token: AbsoluteTimeout is capped at RefreshTokenValidity.
func TestRefreshTokenValidityCapsSessions(t *testing.T) {
	f, spy := newSpyFixture(t, 1, func(c *Config) { c.IdleTimeout, c.RefreshTokenValidity = 10*time.Hour, 3*time.Hour })
	if got := f.replicas[0].cfg.Get().AbsoluteTimeout; got != 3*time.Hour {
		t.Fatalf("AbsoluteTimeout = %v, want capped at the refresh token's 3h", got)
	}
	b := f.browser()
	b.signIn("/", alice, password)
	rec, idx := sessionKeys(t, f, b)
	want := f.clk.Now().Add(3 * time.Hour)
	if got := spy.expiry(rec); !got.Equal(want) {
		t.Fatalf("record expires at %v, want the refresh token's end %v", got, want)
	}
	if got := spy.expiry(idx); !got.Equal(want) {
		t.Fatalf("index expires at %v, want %v", got, want)
	}
}

// TestReleaseTwoIndex: a user's index as release 2 wrote it (the sub in clear
// in the key) still reaches its sessions: SignOutUser ends them and deletes it,
// and the user's next sign-in merges it into the hashed index and deletes it.
func TestReleaseTwoIndex(t *testing.T) {
	for _, via := range []string{"SignOutUser", "sign-in"} {
		t.Run(via, func(t *testing.T) {
			f, spy := newSpyFixture(t, 1, nil)
			ctx := context.Background()
			w := f.replicas[0]
			sub := f.emu.UserSub(f.pool, alice)
			old := f.browser()
			old.signIn("/", alice, password)
			// Move the index where release 2 kept it.
			list, _, _, err := w.readIndex(ctx, sub)
			if err != nil || len(list) != 1 {
				t.Fatalf("index: %v, %v", list, err)
			}
			if err := spy.Delete(ctx, w.indexKey(sub).store(), store.AnyVersion); err != nil {
				t.Fatal(err)
			}
			lk := w.legacyIndexKey(sub)
			plain, _ := jsonMarshal(list)
			sealed, err := seal(w.keys.index, plain, []byte(lk.String()))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := spy.Put(ctx, lk.store(), sealed, 0, time.Time{}); err != nil {
				t.Fatal(err)
			}
			switch via {
			case "SignOutUser":
				if err := w.SignOutUser(ctx, sub); err != nil {
					t.Fatal(err)
				}
				if resp, _ := old.fetch(http.MethodGet, f.base+"/auth/me"); resp.StatusCode != http.StatusUnauthorized {
					t.Fatalf("a session indexed by release 2 after SignOutUser: %d", resp.StatusCode)
				}
			case "sign-in":
				f.browser().signIn("/", alice, password)
				list, _, legacy, err := w.readIndex(ctx, sub)
				if err != nil || legacy || len(list) != 2 {
					t.Fatalf("after a sign-in the index holds %d sessions (release 2's still there: %v), %v", len(list), legacy, err)
				}
				if exp := spy.expiry(w.indexKey(sub).store()); exp.IsZero() || exp.After(f.clk.Now().Add(12*time.Hour)) {
					t.Fatalf("the merged index expires at %v", exp)
				}
			}
			if _, err := spy.Get(ctx, lk.store()); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("release 2's index after %s: %v", via, err)
			}
		})
	}
}

// TestIndexBucketShared: users whose tags share a bucket keep their own
// entries: a sign-in and a SignOutUser of one leave the other's alone.
func TestIndexBucketShared(t *testing.T) {
	f, spy := newSpyFixture(t, 1, nil)
	ctx := context.Background()
	w := f.replicas[0]
	sub := f.emu.UserSub(f.pool, alice)
	k := w.indexKey(sub)
	other := bucketEntry{tag: [tagLen]byte{1, 2, 3}, indexEntry: indexEntry{Name: strings.Repeat("ab", 32), Expires: f.clk.Now().Add(time.Hour).UnixNano(), OriginJTI: "other-sign-in", AccessLife: 3600}}
	sealed, err := seal(w.keys.index, encodeBucket([]bucketEntry{other}), []byte(k.String()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := spy.Put(ctx, k.store(), sealed, 0, time.Time{}); err != nil {
		t.Fatal(err)
	}
	b := f.browser()
	b.signIn("/", alice, password)
	all, _, err := w.readBucket(ctx, k)
	if err != nil || len(all) != 2 {
		t.Fatalf("the bucket after alice's sign-in: %d entries, %v", len(all), err)
	}
	if mine, _, _, _ := w.readIndex(ctx, sub); len(mine) != 1 || mine[0].Name == other.Name {
		t.Fatalf("alice's entries: %+v", mine)
	}
	if err := w.SignOutUser(ctx, sub); err != nil {
		t.Fatal(err)
	}
	all, _, err = w.readBucket(ctx, k)
	if err != nil || len(all) != 1 || all[0].Name != other.Name || all[0].OriginJTI != other.OriginJTI {
		t.Fatalf("the other user's entry after alice's SignOutUser: %+v, %v", all, err)
	}
	if got := spy.expiry(k.store()); !got.Equal(time.Unix(0, other.Expires)) {
		t.Fatalf("the bucket expires at %v, want its last entry's end", got)
	}
}
