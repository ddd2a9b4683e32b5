package identity_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cogauth/cogauth/identity"
	"github.com/cogauth/cogauth/internal/peers"
)

// The seed's example for real: a user signs in on the emulator, the identity pool
// gives AWS credentials, and aws-sdk-go-v2's S3 client uses them against moto's
// S3 (which accepts any credentials, but needs well-formed SigV4 requests).
func TestS3WithIdentityPoolCredentials(t *testing.T) {
	motoURL := peers.Moto(t)
	v := newEnv(t)
	var src login
	src.set(v.idToken(t, "alice"))
	p := identity.NewProvider(v.client(t, v.open, nil), identity.ProviderOptions{Logins: &src, Clock: v.clk})

	s3c := s3.New(s3.Options{
		Region:       p.Client().Region(),
		BaseEndpoint: aws.String(motoURL),
		UsePathStyle: true,
		Credentials:  p,
	})
	ctx := context.Background()
	bucket := "cogauth-identity-test"
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String("notes/hello.txt"), Body: strings.NewReader("hello from cognito"),
	}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	list, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatalf("ListObjectsV2: %v", err)
	}
	if len(list.Contents) != 1 || aws.ToString(list.Contents[0].Key) != "notes/hello.txt" {
		t.Fatalf("listing: %+v", list.Contents)
	}
	obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("notes/hello.txt")})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	if string(body) != "hello from cognito" {
		t.Fatalf("object body %q", body)
	}
	// Four S3 calls, one set of credentials.
	v.wantCounts(t, 1, 1)
}
