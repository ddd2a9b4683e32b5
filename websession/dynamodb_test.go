package websession

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/internal/peers"
	"github.com/cogauth/cogauth/store"
	dynamostore "github.com/cogauth/cogauth/store/dynamodb"
)

// TestDynamoDBReplicas: three replicas sharing a DynamoDB table (moto's server),
// rotation on with no grace period: fifteen requests at expiry make one refresh
// (the lease lock and conditional writes), the session survives, and logout ends
// it on every replica.
func TestDynamoDBReplicas(t *testing.T) {
	st := dynamoReplicas(t)
	f := newFixture(t, fixtureOptions{replicas: 3, rotation: true, store: st})
	b := f.browser()
	b.signIn("/", alice, password)
	cookie := b.cookie("cogauth").Value
	for range 3 {
		if resp, body := b.fetch(http.MethodGet, f.base+"/api/call"); resp.StatusCode != http.StatusOK {
			t.Fatalf("api call: %d %s", resp.StatusCode, body)
		}
	}
	tokens := f.emu.Requests("oauth2/token")
	f.clk.Advance(56 * time.Minute)
	fetchAll(t, b.c, f.base+"/api/call", 15, http.StatusOK, "at expiry")
	if n := f.emu.Requests("oauth2/token") - tokens; n != 1 {
		t.Fatalf("%d refreshes at expiry across 3 replicas, want 1", n)
	}
	f.clk.Advance(10 * time.Minute)
	for range 3 {
		if resp, _ := b.fetch(http.MethodGet, f.base+"/auth/me"); resp.StatusCode != http.StatusOK {
			t.Fatalf("after expiry: %d", resp.StatusCode)
		}
	}
	f.pin.Store(0)
	b.navigate(http.MethodPost, f.base+"/auth/logout")
	f.pin.Store(-1)
	for range 3 {
		b.setCookie("cogauth", cookie)
		if resp, _ := b.fetch(http.MethodGet, f.base+"/auth/me"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("after logout: %d", resp.StatusCode)
		}
	}
}

// dynamoReplicas starts moto's server with a table, and gives each replica a
// store on its own DynamoDB client.
func dynamoReplicas(t testing.TB) func(int, clock.Clock) store.Store {
	url := peers.MotoSerial(t) // conditional writes atomic, as in DynamoDB
	newClient := func() *dynamodb.Client {
		return dynamodb.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")},
			func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(url) })
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := dynamostore.CreateTable(ctx, newClient(), "web"); err != nil {
		t.Fatal(err)
	}
	return func(_ int, clk clock.Clock) store.Store {
		s, err := dynamostore.New(newClient(), dynamostore.Options{Table: "web", LockTTL: 2 * time.Second, Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}
