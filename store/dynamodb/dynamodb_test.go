package dynamostore_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/internal/peers"
	"github.com/cogauth/cogauth/store"
	dynamostore "github.com/cogauth/cogauth/store/dynamodb"
	"github.com/cogauth/cogauth/store/storetest"
)

// moto starts moto's server (a DynamoDB we did not write, over its wire
// protocol) and returns a client of it.
func moto(t *testing.T) *dynamodb.Client {
	url := peers.MotoSerial(t) // conditional writes atomic, as in DynamoDB
	return dynamodb.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	}, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(url) })
}

var tables atomic.Int64

func newTable(t *testing.T, c *dynamodb.Client) string {
	t.Helper()
	name := fmt.Sprintf("cogauth-%d", tables.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := dynamostore.CreateTable(ctx, c, name); err != nil {
		t.Fatal(err)
	}
	return name
}

// TestContract: the store contract every backend keeps, on moto's DynamoDB.
func TestContract(t *testing.T) {
	c := moto(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := dynamostore.New(c, dynamostore.Options{Table: newTable(t, c), LockTTL: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
	t.Run("SharedInstances", func(t *testing.T) {
		table := newTable(t, c)
		a, _ := dynamostore.New(c, dynamostore.Options{Table: table})
		b, _ := dynamostore.New(c, dynamostore.Options{Table: table})
		storetest.SharedInstances(t, a, b, store.Key{Pool: "us-east-1_A", Client: "c", User: "alice"})
	})
}

// TestExpiry: a session past its TTL is gone for every read and condition,
// though DynamoDB has not deleted the item yet; other kinds never expire; a
// version is never reused after a delete.
func TestExpiry(t *testing.T) {
	c := moto(t)
	clk := clock.NewFake(time.Now())
	s, err := dynamostore.New(c, dynamostore.Options{Table: newTable(t, c), TTL: time.Hour, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sess := store.Key{Pool: "us-east-1_A", Client: "c", User: "alice"}
	dev := store.Key{Kind: store.KindDevice, Pool: "us-east-1_A", Client: "c", User: "alice"}
	v1, err := s.Put(ctx, sess, []byte("tokens"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, dev, []byte("device"), 0); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Hour)
	if _, err := s.Get(ctx, sess); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired session: %v", err)
	}
	if _, err := s.Put(ctx, sess, []byte("x"), v1); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("write over an expired session at its old version: %v", err)
	}
	if e, err := s.Get(ctx, dev); err != nil || string(e.Data) != "device" {
		t.Fatalf("device after the session TTL: %v", err)
	}
	v2, err := s.Put(ctx, sess, []byte("again"), 0)
	if err != nil || v2 <= v1 {
		t.Fatalf("new session after expiry: v%d after v%d, %v", v2, v1, err)
	}
	if err := s.Delete(ctx, sess, v2); err != nil {
		t.Fatal(err)
	}
	v3, err := s.Put(ctx, sess, []byte("third"), 0)
	if err != nil || v3 <= v2 {
		t.Fatalf("after delete: v%d after v%d, %v", v3, v2, err)
	}
}

// TestLockLease: a live holder keeps the lock past LockTTL (its watchdog extends
// it); a holder killed mid-refresh loses it once the lease lapses.
func TestLockLease(t *testing.T) {
	c := moto(t)
	table := newTable(t, c)
	a, _ := dynamostore.New(c, dynamostore.Options{Table: table, LockTTL: 300 * time.Millisecond})
	k := store.Key{Pool: "us-east-1_A", Client: "c", User: "alice"}
	ctx := context.Background()
	unlock, err := a.Lock(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	// Held past several LockTTLs by the watchdog.
	short, cancel := context.WithTimeout(ctx, time.Second)
	if _, err := a.Lock(short, k); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second holder while the first holds: %v", err)
	}
	cancel()
	unlock()
	u2, err := a.Lock(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	u2()

	// A holder that dies: its client sends nothing more (no extension, no
	// unlock). Another replica gets the lock once the lease lapses.
	dead := &dying{Client: c}
	d, _ := dynamostore.New(dead, dynamostore.Options{Table: table, LockTTL: 300 * time.Millisecond})
	if _, err := d.Lock(ctx, k); err != nil {
		t.Fatal(err)
	}
	dead.killed.Store(true)
	start := time.Now()
	u3, err := a.Lock(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	u3()
	if waited := time.Since(start); waited > 5*time.Second {
		t.Fatalf("the dead holder's lease lasted %v", waited)
	}
}

// dying is a client that stops reaching DynamoDB once killed, as a process
// killed with SIGKILL would.
type dying struct {
	*dynamodb.Client
	killed atomic.Bool
}

var errKilled = errors.New("killed")

func (d *dying) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if d.killed.Load() {
		return nil, errKilled
	}
	return d.Client.UpdateItem(ctx, in, opts...)
}

func (d *dying) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	if d.killed.Load() {
		return nil, errKilled
	}
	return d.Client.DeleteItem(ctx, in, opts...)
}
