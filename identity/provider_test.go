package identity_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/identity"
	"github.com/cogauth/cogauth/secret"
	"github.com/cogauth/cogauth/store"
)

func TestProviderRenewsInWindowNotBefore(t *testing.T) {
	v := newEnv(t)
	start := v.clk.Now()
	var src login
	src.set(v.idToken(t, "alice"))
	var refreshed []identity.Credentials
	p := identity.NewProvider(v.client(t, v.open, nil), identity.ProviderOptions{
		Logins:    &src,
		Clock:     v.clk,
		OnRefresh: func(c identity.Credentials) { refreshed = append(refreshed, c) },
	})
	ctx := context.Background()

	first, err := p.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !first.CanExpire || !first.Expires.Equal(start.Add(time.Hour)) || first.Source != identity.CredentialsSource {
		t.Fatalf("credentials expire %v (CanExpire %v, source %q); want the emulator's real Expiration %v",
			first.Expires, first.CanExpire, first.Source, start.Add(time.Hour))
	}
	v.wantCounts(t, 1, 1)

	for _, tc := range []struct {
		advance time.Duration
		renewed bool
	}{
		{54*time.Minute + 59*time.Second, false}, // one second before the 5-minute window
		{2 * time.Second, true},                  // inside it
		{time.Minute, false},                     // the new ones are fresh
	} {
		v.clk.Advance(tc.advance)
		got, err := p.Retrieve(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if renewed := got.AccessKeyID != first.AccessKeyID; renewed != tc.renewed {
			t.Fatalf("at +%v: renewed = %v, want %v", v.clk.Now().Sub(start), renewed, tc.renewed)
		}
		first = got
	}
	// The identity ID was asked for once; credentials twice.
	v.wantCounts(t, 1, 2)
	if len(refreshed) != 2 || refreshed[0].IdentityID == "" || refreshed[0].IdentityID != refreshed[1].IdentityID {
		t.Fatalf("OnRefresh calls: %v", refreshed)
	}
}

func TestProviderShortLivedCredentials(t *testing.T) {
	v := newEnv(t)
	// Credentials of 8 minutes: a 5-minute window would renew them after 3; half
	// their lifetime is the cap, so they serve 4.
	pool, err := v.srv.CreateIdentityPool(emulator.IdentityPoolConfig{
		Name: "short", AllowUnauthenticatedIdentities: true, CredentialsLifetime: 8 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	p := identity.NewProvider(v.client(t, pool, nil), identity.ProviderOptions{Clock: v.clk})
	first, err := p.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	v.clk.Advance(3*time.Minute + 59*time.Second)
	if c, _ := p.Retrieve(context.Background()); c.AccessKeyID != first.AccessKeyID {
		t.Fatal("renewed before half the lifetime")
	}
	v.clk.Advance(2 * time.Second)
	if c, _ := p.Retrieve(context.Background()); c.AccessKeyID == first.AccessKeyID {
		t.Fatal("not renewed after half the lifetime")
	}
}

func TestProviderTransientFailureKeepsValidCredentials(t *testing.T) {
	v := newEnv(t)
	start := v.clk.Now()
	var src login
	src.set(v.idToken(t, "alice"))
	p := identity.NewProvider(v.client(t, v.open, nil), identity.ProviderOptions{Logins: &src, Clock: v.clk})
	ctx := context.Background()
	first, err := p.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}

	v.srv.InjectFault("GetCredentialsForIdentity", emulator.Fault{ErrName: "InternalErrorException", Status: 500})
	v.clk.Advance(56 * time.Minute) // in the window
	for i, tc := range []struct {
		advance  time.Duration
		requests int // GetCredentialsForIdentity so far
	}{
		{0, 2},                // tried, failed, old ones served
		{10 * time.Second, 2}, // backing off: no new attempt
		{31 * time.Second, 3}, // after the first pause (at most 30s)
		{10 * time.Second, 3}, // the second pause is at least 30s
		{61 * time.Second, 4},
	} {
		v.clk.Advance(tc.advance)
		got, err := p.Retrieve(ctx)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got.AccessKeyID != first.AccessKeyID {
			t.Fatalf("step %d: credentials changed", i)
		}
		if _, n := v.counts(); n != tc.requests {
			t.Fatalf("step %d: %d GetCredentialsForIdentity, want %d", i, n, tc.requests)
		}
	}

	// Once they expire, the failure is the caller's, and it says it is retryable.
	v.clk.Set(start.Add(time.Hour))
	_, err = p.Retrieve(ctx)
	var ce *cognito.Error
	if !errors.As(err, &ce) || ce.Name != "InternalErrorException" || !retryable(err) {
		t.Fatalf("after expiry: %v, want a retryable InternalErrorException", err)
	}

	// The service recovers; the user signs in again (the old id token expired too).
	v.srv.ClearFaults()
	src.set(v.idToken(t, "alice"))
	got, err := p.Retrieve(ctx)
	if err != nil || got.AccessKeyID == first.AccessKeyID {
		t.Fatalf("after recovery: %v (same key: %v)", err, got.AccessKeyID == first.AccessKeyID)
	}
}

func TestProviderNetworkFailureKeepsValidCredentials(t *testing.T) {
	v := newEnv(t)
	p := identity.NewProvider(v.client(t, v.open, nil), identity.ProviderOptions{Clock: v.clk})
	first, err := p.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	v.srv.InjectFault("GetCredentialsForIdentity", emulator.Fault{Drop: true})
	v.clk.Advance(58 * time.Minute)
	got, err := p.Retrieve(context.Background())
	if err != nil || got.AccessKeyID != first.AccessKeyID {
		t.Fatalf("dropped connection: %v; want the old credentials", err)
	}
}

func TestProviderDefinitiveFailureDropsCredentials(t *testing.T) {
	v := newEnv(t)
	var src login
	src.set(v.idToken(t, "alice"))
	p := identity.NewProvider(v.client(t, v.open, nil), identity.ProviderOptions{Logins: &src, Clock: v.clk})
	ctx := context.Background()
	if _, err := p.Retrieve(ctx); err != nil {
		t.Fatal(err)
	}
	v.srv.InjectFault("GetCredentialsForIdentity", emulator.Fault{ErrName: "NotAuthorizedException", Message: "Invalid login token."})
	v.srv.InjectFault("GetId", emulator.Fault{ErrName: "NotAuthorizedException", Message: "Invalid login token."})
	v.clk.Advance(56 * time.Minute)
	if _, err := p.Retrieve(ctx); !errors.Is(err, cognito.ErrNotAuthorized) {
		t.Fatalf("err = %v, want NotAuthorized", err)
	}
	// Still valid for four minutes, but a verdict on the login ends them.
	if _, err := p.Retrieve(ctx); !errors.Is(err, cognito.ErrNotAuthorized) {
		t.Fatalf("second call: %v, want NotAuthorized again (no credentials kept)", err)
	}
}

func TestProviderUserChangeAndSignOut(t *testing.T) {
	v := newEnv(t)
	st := store.NewMemory()
	var src login
	alice := v.idToken(t, "alice")
	src.set(alice)
	p := identity.NewProvider(v.client(t, v.open, st), identity.ProviderOptions{Logins: &src, Clock: v.clk})
	ctx := context.Background()

	a, err := p.Credentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a.Guest {
		t.Fatal("alice's credentials marked guest")
	}

	// Alice's id token is refreshed: new credentials, same identity, no GetId.
	v.clk.Advance(time.Minute)
	alice2 := v.idToken(t, "alice")
	src.set(alice2)
	a2, err := p.Credentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a2.AccessKeyID == a.AccessKeyID || a2.IdentityID != a.IdentityID {
		t.Fatalf("after id token change: same key %v, identity %s vs %s", a2.AccessKeyID == a.AccessKeyID, a2.IdentityID, a.IdentityID)
	}
	v.wantCounts(t, 1, 2)

	// Bob takes over.
	src.set(v.idToken(t, "bob"))
	b, err := p.Credentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b.IdentityID == a.IdentityID || b.AccessKeyID == a2.AccessKeyID {
		t.Fatal("bob got alice's identity or credentials")
	}

	// Sign-out: none at all without AllowGuest.
	src.signOut()
	if c, err := p.Retrieve(ctx); !errors.Is(err, identity.ErrNotSignedIn) || c.HasKeys() {
		t.Fatalf("after sign-out: %v, keys %v; want ErrNotSignedIn and none", err, c.HasKeys())
	}

	// Alice comes back: her stored identity, new credentials.
	src.set(alice2)
	a3, err := p.Credentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a3.IdentityID != a.IdentityID || a3.AccessKeyID == a2.AccessKeyID {
		t.Fatalf("alice again: identity %s (want %s), reused key %v", a3.IdentityID, a.IdentityID, a3.AccessKeyID == a2.AccessKeyID)
	}
	getID, _ := v.counts()

	// SignOut forgets her stored identity ID: the next client asks again.
	if err := p.SignOut(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := v.client(t, v.open, st).IdentityID(ctx, secret.String(alice2)); err != nil {
		t.Fatal(err)
	}
	if n, _ := v.counts(); n != getID+1 {
		t.Fatalf("GetId after SignOut: %d calls, want %d", n, getID+1)
	}
}

func TestProviderGuestBecomesAuthenticated(t *testing.T) {
	v := newEnv(t)
	st := store.NewMemory()
	var src login
	p := identity.NewProvider(v.client(t, v.open, st), identity.ProviderOptions{Logins: &src, AllowGuest: true, Clock: v.clk})
	ctx := context.Background()

	guest, err := p.Credentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !guest.Guest {
		t.Fatal("signed-out credentials not marked guest")
	}
	if providers, ok := v.srv.IdentityLogins(guest.IdentityID); !ok || len(providers) != 0 {
		t.Fatalf("guest identity logins %v, %v", providers, ok)
	}

	src.set(v.idToken(t, "alice"))
	alice, err := p.Credentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if alice.Guest || alice.IdentityID != guest.IdentityID {
		t.Fatalf("alice's identity %s, want the guest's %s carried over", alice.IdentityID, guest.IdentityID)
	}
	if providers, _ := v.srv.IdentityLogins(guest.IdentityID); len(providers) != 1 {
		t.Fatalf("the guest identity is not linked to alice: %v", providers)
	}
	// One GetId in all: the guest's. Alice presented the guest identity.
	v.wantCounts(t, 1, 2)

	// Signed out again, the device gets a new guest identity: the old one is hers.
	src.signOut()
	g2, err := p.Credentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !g2.Guest || g2.IdentityID == guest.IdentityID {
		t.Fatalf("second guest identity %s (guest %v)", g2.IdentityID, g2.Guest)
	}
	if g2.AccessKeyID == alice.AccessKeyID {
		t.Fatal("alice's credentials served after sign-out")
	}
}

func TestProviderConcurrentCallersShareOneFetch(t *testing.T) {
	v := newEnv(t)
	var src login
	src.set(v.idToken(t, "alice"))
	p := identity.NewProvider(v.client(t, v.open, nil), identity.ProviderOptions{Logins: &src, Clock: v.clk})
	// Latency keeps the first fetch in flight while the others arrive.
	v.srv.InjectFault("GetId", emulator.Fault{Latency: 50 * time.Millisecond})

	const n = 1000
	var wg sync.WaitGroup
	keys := make([]string, n)
	errs := make([]error, n)
	startGate := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-startGate
			c, err := p.Retrieve(context.Background())
			keys[i], errs[i] = c.AccessKeyID, err
		}()
	}
	close(startGate)
	wg.Wait()
	for i := range n {
		if errs[i] != nil || keys[i] != keys[0] {
			t.Fatalf("caller %d: %v, key match %v", i, errs[i], keys[i] == keys[0])
		}
	}
	v.wantCounts(t, 1, 1)
}

func TestProviderCallerCancelDoesNotCancelFlight(t *testing.T) {
	v := newEnv(t)
	p := identity.NewProvider(v.client(t, v.open, nil), identity.ProviderOptions{Clock: v.clk})
	v.srv.InjectFault("GetId", emulator.Fault{Latency: 100 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := p.Retrieve(ctx)
	if !errors.Is(err, context.Canceled) || errorsName(err) != cognito.RequestCanceled {
		t.Fatalf("cancelled caller: %v", err)
	}
	// The shared fetch went on and its result serves the next caller.
	if _, err := p.Retrieve(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, n := v.counts(); n != 1 {
		t.Fatalf("%d GetCredentialsForIdentity, want the one flight's", n)
	}
}

func errorsName(err error) string {
	var ce *cognito.Error
	if errors.As(err, &ce) {
		return ce.Name
	}
	return ""
}

func TestProviderInsideCredentialsCache(t *testing.T) {
	v := newEnv(t)
	var src login
	src.set(v.idToken(t, "alice"))
	p := identity.NewProvider(v.client(t, v.open, nil), identity.ProviderOptions{Logins: &src, Clock: v.clk})
	cache := aws.NewCredentialsCache(p, func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = 5 * time.Minute })
	if !cache.IsCredentialsProvider(p) {
		t.Fatal("cache does not report wrapping the provider")
	}
	var keys []string
	for range 3 {
		c, err := cache.Retrieve(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, c.AccessKeyID)
	}
	if keys[0] != keys[1] || keys[1] != keys[2] || !strings.HasPrefix(keys[0], "ASIA") {
		t.Fatalf("keys %v", keys)
	}
	v.wantCounts(t, 1, 1)
	// On sign-out the cache must be told; the provider then refuses.
	src.signOut()
	cache.Invalidate()
	if _, err := cache.Retrieve(context.Background()); !errors.Is(err, identity.ErrNotSignedIn) {
		t.Fatalf("after sign-out: %v", err)
	}
}

func TestProviderErrors(t *testing.T) {
	v := newEnv(t)
	alice := v.idToken(t, "alice")
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		pool    string
		token   string
		errName string
		msg     string
	}{
		{"guest where not allowed", v.closed, "", "NotAuthorizedException", "Unauthenticated access is not supported for this identity pool."},
		{"wrong pool", "us-east-1:00000000-0000-4000-8000-000000000000", alice, "ResourceNotFoundException", "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.client(t, tc.pool, nil).Credentials(ctx, secret.String(tc.token))
			var ce *cognito.Error
			if !errors.As(err, &ce) || ce.Name != tc.errName || !strings.Contains(ce.Message, tc.msg) || ce.Retryable {
				t.Fatalf("err = %#v, want %s %q", err, tc.errName, tc.msg)
			}
			if !errors.Is(err, errorSentinel(tc.errName)) {
				t.Fatalf("errors.Is(%v, sentinel %s) = false", err, tc.errName)
			}
			if tc.token != "" && strings.Contains(err.Error(), tc.token) {
				t.Fatal("the error message contains the token")
			}
		})
	}

	t.Run("not an id token", func(t *testing.T) {
		_, err := v.client(t, v.open, nil).Credentials(ctx, "e30.e30.sig")
		if !errors.Is(err, identity.ErrInvalidLogin) {
			t.Fatalf("err = %v, want ErrInvalidLogin", err)
		}
	})
	t.Run("bad pool ID", func(t *testing.T) {
		for _, id := range []string{"", "us-east-1", "us-east-1:XYZ", "nope:0000"} {
			if _, err := identity.New(identity.Options{IdentityPoolID: id}); err == nil {
				t.Errorf("New(%q): no error", id)
			}
		}
	})
	t.Run("nobody listening", func(t *testing.T) {
		c, err := identity.New(identity.Options{IdentityPoolID: v.open, Endpoint: "http://127.0.0.1:1"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Credentials(ctx, "")
		if errorsName(err) != cognito.NetworkError || !retryable(err) {
			t.Fatalf("err = %v, want a retryable NetworkError", err)
		}
	})
}

func errorSentinel(name string) error {
	switch name {
	case "NotAuthorizedException":
		return cognito.ErrNotAuthorized
	case "ResourceNotFoundException":
		return cognito.ErrResourceNotFound
	}
	return nil
}

func TestIdentityIDSurvivesRestart(t *testing.T) {
	v := newEnv(t)
	path := t.TempDir() + "/sessions.json"
	alice := v.idToken(t, "alice")
	ctx := context.Background()
	open := func() *identity.Client {
		st, err := store.NewFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return v.client(t, v.open, st)
	}
	first, err := open().Credentials(ctx, secret.String(alice))
	if err != nil {
		t.Fatal(err)
	}
	// A new process: new client, same file.
	again, err := open().Credentials(ctx, secret.String(alice))
	if err != nil {
		t.Fatal(err)
	}
	if again.IdentityID != first.IdentityID {
		t.Fatalf("identity %s after restart, want %s", again.IdentityID, first.IdentityID)
	}
	v.wantCounts(t, 1, 2)
}
