package hostedui_test

import (
	"context"
	"testing"

	"golang.org/x/oauth2"

	"github.com/cogauth/cogauth/hostedui"
)

// BenchmarkClientCredentialsCached measures the cached path of a
// client_credentials token (one atomic load) beside golang.org/x/oauth2's
// ReuseTokenSource (a mutex) over the same source, from all cores.
func BenchmarkClientCredentialsCached(b *testing.B) {
	f := newFixture(b)
	id, secret := f.client(b, "m2m", true, []string{"client_credentials"}, []string{"bench/read"})
	c, err := hostedui.New(hostedui.Options{Domain: f.srv.URL, ClientID: id, ClientSecret: secret, Clock: f.clk})
	if err != nil {
		b.Fatal(err)
	}
	src := c.ClientCredentialsSource(hostedui.CredentialsOptions{})
	ctx := context.Background()
	if _, err := src.Token(ctx, false); err != nil {
		b.Fatal(err)
	}
	b.Run("cogauth", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := src.Fetch(ctx, false); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("oauth2.ReuseTokenSource", func(b *testing.B) {
		ts := oauth2.ReuseTokenSource(nil, src.TokenSource())
		if _, err := ts.Token(); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := ts.Token(); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	if n := f.srv.Requests("oauth2/token"); n != 1 {
		b.Fatalf("%d token requests, want 1", n)
	}
}
