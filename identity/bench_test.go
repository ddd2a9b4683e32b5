package identity_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/cogauth/cogauth/identity"
)

// BenchmarkRetrieve compares the Provider's cached path (which also asks its
// LoginSource and checks expiry on every call) with aws.CredentialsCache wrapping
// a static provider, the cheapest cached credentials the SDK has.
func BenchmarkRetrieve(b *testing.B) {
	v := newEnv(b)
	tok := v.idToken(b, "alice")
	p := identity.NewProvider(v.client(b, v.open, nil), identity.ProviderOptions{
		Logins: identity.LoginFunc(func(context.Context) (string, error) { return tok, nil }),
	})
	ctx := context.Background()
	if _, err := p.Retrieve(ctx); err != nil {
		b.Fatal(err)
	}
	static := aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider("AKID", "secret", "token"))
	if _, err := static.Retrieve(ctx); err != nil {
		b.Fatal(err)
	}
	// Temporary credentials in the SDK's own cache: the path an STS or SSO provider
	// takes, which reads the clock on every call as the Provider does.
	expiring := aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "ASIA", SecretAccessKey: "secret", SessionToken: "token",
			CanExpire: true, Expires: time.Now().Add(time.Hour)}, nil
	}))
	if _, err := expiring.Retrieve(ctx); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		p    aws.CredentialsProvider
	}{
		{"Provider", p},
		{"CredentialsCache-static", static},
		{"CredentialsCache-expiring", expiring},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.p.Retrieve(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bc.name+"-parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := bc.p.Retrieve(ctx); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
	if _, n := v.counts(); n != 1 {
		b.Fatalf("%d GetCredentialsForIdentity during the benchmark, want 1", n)
	}
}
