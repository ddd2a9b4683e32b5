package session_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"golang.org/x/oauth2"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/session"
	"github.com/cogauth/cogauth/store"
)

// benchManager returns a Manager holding a fresh session, on the system clock.
func benchManager(b *testing.B) *session.Manager {
	b.Helper()
	idp := newFakeIDP(b, clock.System{})
	m, err := session.New(session.Config{Cognito: idp.client(b), Store: store.NewMemory(), Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := m.SignIn(context.Background(), cognito.SignInInput{Username: "alice", Password: "correct horse", Flow: cognito.FlowPassword}); err != nil {
		b.Fatal(err)
	}
	return m
}

type staticTokenSource struct{ tok *oauth2.Token }

func (s staticTokenSource) Token() (*oauth2.Token, error) { return s.tok, nil }

type staticCreds struct{ c aws.Credentials }

func (s staticCreds) Retrieve(context.Context) (aws.Credentials, error) { return s.c, nil }

// BenchmarkCachedToken compares the cached path of Fetch with the caches Go programs
// use today: oauth2.ReuseTokenSource and aws.CredentialsCache, each holding a valid
// token, so that none of them goes to the network.
func BenchmarkCachedToken(b *testing.B) {
	ctx := context.Background()
	m := benchManager(b)
	reuse := oauth2.ReuseTokenSource(nil, staticTokenSource{&oauth2.Token{AccessToken: "x", Expiry: time.Now().Add(time.Hour)}})
	creds := aws.NewCredentialsCache(staticCreds{aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "s", CanExpire: true, Expires: time.Now().Add(time.Hour)}})
	if _, err := creds.Retrieve(ctx); err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name string
		fn   func() error
	}{
		{"session.Fetch", func() error { _, err := m.Fetch(ctx, session.FetchOptions{}); return err }},
		{"oauth2.ReuseTokenSource", func() error { _, err := reuse.Token(); return err }},
		{"aws.CredentialsCache", func() error { _, err := creds.Retrieve(ctx); return err }},
	}
	for _, c := range cases {
		b.Run(c.name+"/serial", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := c.fn(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := c.fn(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
