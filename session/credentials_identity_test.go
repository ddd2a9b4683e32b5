package session_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/identity"
	"github.com/cogauth/cogauth/internal/peers"
	"github.com/cogauth/cogauth/session"
	"github.com/cogauth/cogauth/store"
)

const idpPassword = "Identity-Session-1"

// identityManager starts an emulator with a user pool and an identity pool, and a
// Manager whose sessions carry the identity pool's credentials.
func identityManager(t *testing.T) (*emulator.Server, *session.Manager) {
	t.Helper()
	srv := emulator.NewServer(emulator.Options{
		Clock: clock.NewFake(time.Now().UTC().Truncate(time.Second)),
		Seed: &emulator.Seed{
			UserPools: []emulator.SeedUserPool{{
				Name: "users", Clients: []emulator.SeedClient{{Name: "app"}},
				Users: []emulator.SeedUser{{Username: "alice", Password: idpPassword}, {Username: "bob", Password: idpPassword}},
			}},
			IdentityPools: []emulator.SeedIdentityPool{{Name: "ids", UserPool: "users", Clients: []string{"app"}}},
		},
	})
	t.Cleanup(srv.Close)
	c, err := cognito.New(cognito.Options{UserPoolID: srv.PoolID("users"), ClientID: srv.AppClient("users", "app").ID, Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	st := store.NewMemory()
	idc, err := identity.New(identity.Options{IdentityPoolID: srv.Seeded().IdentityPools["ids"], Endpoint: srv.URL, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	m, err := session.New(session.Config{Cognito: c, Clock: srv.Clock(), Store: st, Credentials: identity.NewSessionCredentials(idc)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	if _, err := m.SignIn(context.Background(), cognito.SignInInput{Username: "alice", Password: idpPassword}); err != nil {
		t.Fatal(err)
	}
	return srv, m
}

func TestFetchFillsIdentityPoolCredentials(t *testing.T) {
	srv, m := identityManager(t)
	ctx := context.Background()
	signedIn, err := m.Fetch(ctx, session.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if signedIn.Credentials == nil || signedIn.IdentityID == "" {
		t.Fatal("no credentials after sign-in")
	}
	srv.ResetCounters()
	// Inside the refresh window of tokens and credentials: a thousand callers.
	srv.Advance(56 * time.Minute)

	const n = 1000
	var wg sync.WaitGroup
	sessions := make([]*session.Session, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sessions[i], errs[i] = m.Fetch(ctx, session.FetchOptions{})
		}()
	}
	wg.Wait()
	first := sessions[0]
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if sessions[i].Credentials == nil || sessions[i].Credentials.AccessKeyID != first.Credentials.AccessKeyID {
			t.Fatalf("caller %d got other credentials", i)
		}
	}
	if !strings.HasPrefix(first.Credentials.AccessKeyID, "ASIA") || first.IdentityID != signedIn.IdentityID ||
		first.Credentials.AccessKeyID == signedIn.Credentials.AccessKeyID ||
		!first.Credentials.Expires.Equal(srv.Now().Add(time.Hour)) {
		t.Fatalf("renewed credentials %s (identity %q, expires %v)", first.Credentials.AccessKeyID, first.IdentityID, first.Credentials.Expires)
	}
	// One renewal for all: the identity ID came from the store.
	if a, b := srv.Requests("GetId"), srv.Requests("GetCredentialsForIdentity"); a != 0 || b != 1 {
		t.Fatalf("GetId %d, GetCredentialsForIdentity %d for 1000 callers; want 0, 1", a, b)
	}
	srv.ResetCounters()

	// ForceRefresh renews them; the identity stays.
	forced, err := m.Fetch(ctx, session.FetchOptions{ForceRefresh: true})
	if err != nil {
		t.Fatal(err)
	}
	if forced.Credentials.AccessKeyID == first.Credentials.AccessKeyID || forced.IdentityID != first.IdentityID {
		t.Fatal("ForceRefresh did not renew the credentials for the same identity")
	}
	if a, b := srv.Requests("GetId"), srv.Requests("GetCredentialsForIdentity"); a != 0 || b != 1 {
		t.Fatalf("GetId %d, GetCredentialsForIdentity %d after ForceRefresh; want 0 (stored identity), 1", a, b)
	}
}

// Sign in on the emulator and hand the Manager itself to aws-sdk-go-v2's S3
// client as its aws.CredentialsProvider, against moto's server.
func TestManagerIsCredentialsProviderForS3(t *testing.T) {
	motoURL := peers.Moto(t)
	_, m := identityManager(t)
	ctx := context.Background()
	c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(motoURL), UsePathStyle: true, Credentials: m})
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("photos")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String("cat.jpg"), Body: strings.NewReader("meow")}); err != nil {
		t.Fatal(err)
	}
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("photos")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Contents) != 1 || aws.ToString(out.Contents[0].Key) != "cat.jpg" {
		t.Fatalf("listing %+v", out.Contents)
	}
}

func TestLoginsFollowsTheSession(t *testing.T) {
	srv := emulator.NewServer(emulator.Options{
		Clock: clock.NewFake(time.Now().UTC().Truncate(time.Second)),
		Seed: &emulator.Seed{
			UserPools: []emulator.SeedUserPool{{
				Name: "users", Clients: []emulator.SeedClient{{Name: "app"}},
				Users: []emulator.SeedUser{{Username: "alice", Password: idpPassword}, {Username: "bob", Password: idpPassword}},
			}},
			IdentityPools: []emulator.SeedIdentityPool{{Name: "ids", AllowUnauthenticatedIdentities: true, UserPool: "users", Clients: []string{"app"}}},
		},
	})
	defer srv.Close()
	c, err := cognito.New(cognito.Options{UserPoolID: srv.PoolID("users"), ClientID: srv.AppClient("users", "app").ID, Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	m, err := session.New(session.Config{Cognito: c, Clock: srv.Clock()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	idc, err := identity.New(identity.Options{IdentityPoolID: srv.Seeded().IdentityPools["ids"], Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	p := identity.NewProvider(idc, identity.ProviderOptions{Logins: identity.SessionLogins(m), AllowGuest: true, Clock: srv.Clock()})
	ctx := context.Background()

	guest, err := p.Credentials(ctx)
	if err != nil || !guest.Guest {
		t.Fatalf("before sign-in: %v (guest %v)", err, guest.Guest)
	}
	if _, err := m.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: idpPassword}); err != nil {
		t.Fatal(err)
	}
	alice, err := p.Credentials(ctx)
	if err != nil || alice.Guest || alice.IdentityID != guest.IdentityID {
		t.Fatalf("signed in: %v, guest %v, identity carried over %v", err, alice.Guest, alice.IdentityID == guest.IdentityID)
	}
	// The session refreshes its tokens: the provider follows with new credentials.
	srv.Advance(56 * time.Minute)
	renewed, err := p.Credentials(ctx)
	if err != nil || renewed.AccessKeyID == alice.AccessKeyID || renewed.IdentityID != alice.IdentityID {
		t.Fatalf("after token refresh: %v, renewed %v", err, renewed.AccessKeyID != alice.AccessKeyID)
	}
	if err := m.SignOut(ctx, session.SignOutOptions{}); err != nil {
		t.Fatal(err)
	}
	after, err := p.Credentials(ctx)
	if err != nil || !after.Guest || after.IdentityID == alice.IdentityID {
		t.Fatalf("after sign-out: %v, guest %v, alice's identity %v", err, after.Guest, after.IdentityID == alice.IdentityID)
	}
}

// TestSignOutForgetsIdentityID: SignOut clears the identity ID the identity pool
// source keeps for the user, so the next user of the machine gets their own
// (GetId), and the signed-out user is asked for again rather than read back.
func TestSignOutForgetsIdentityID(t *testing.T) {
	srv, m := identityManager(t)
	ctx := context.Background()
	alice, err := m.Fetch(ctx, session.FetchOptions{})
	if err != nil || alice.IdentityID == "" {
		t.Fatalf("alice: %v, identity %q", err, alice)
	}
	signInAs := func(user string) *session.Session {
		t.Helper()
		if err := m.SignOut(ctx, session.SignOutOptions{}); err != nil {
			t.Fatal(err)
		}
		srv.ResetCounters()
		res, err := m.SignIn(ctx, cognito.SignInInput{Username: user, Password: idpPassword})
		if err != nil {
			t.Fatal(err)
		}
		if res.Session.IdentityID == "" {
			t.Fatalf("%s has no identity ID", user)
		}
		if n := srv.Requests("GetId"); n != 1 {
			t.Fatalf("%s: GetId called %d times; want 1 (nothing kept from before sign-out)", user, n)
		}
		return res.Session
	}
	bob := signInAs("bob")
	if bob.IdentityID == alice.IdentityID {
		t.Fatal("bob got alice's identity ID")
	}
	again := signInAs("alice")
	// The pool knows alice's identity; only this machine forgot it.
	if again.IdentityID != alice.IdentityID {
		t.Fatalf("alice's identity changed: %s, was %s", again.IdentityID, alice.IdentityID)
	}
}

// Retrieve serves the session's own credentials (no second cache): fresh ones
// cost no call, and a signed-out Manager fails with ErrSignedOut.
func TestRetrieveSharesTheSessionCache(t *testing.T) {
	srv, m := identityManager(t)
	ctx := context.Background()
	s, err := m.Fetch(ctx, session.FetchOptions{})
	if err != nil || s.Credentials == nil {
		t.Fatalf("no credentials: %v", err)
	}
	srv.ResetCounters()
	for range 10 {
		c, err := m.Retrieve(ctx)
		if err != nil || c.AccessKeyID != s.Credentials.AccessKeyID || !c.CanExpire {
			t.Fatalf("Retrieve = %v, %v", c.AccessKeyID, err)
		}
	}
	if n := srv.Requests("GetCredentialsForIdentity"); n != 0 {
		t.Fatalf("%d GetCredentialsForIdentity for fresh credentials", n)
	}
	if err := m.SignOut(ctx, session.SignOutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Retrieve(ctx); !errors.Is(err, session.ErrSignedOut) {
		t.Fatalf("Retrieve after sign-out: %v", err)
	}
}
