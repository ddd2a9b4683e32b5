package dynamostore_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

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
		storetest.SharedInstances(t, a, b, store.Join("s", "us-east-1_A", "c", "alice"))
	})
}

// TestExpiry: the expiry contract on moto's DynamoDB, read through the TTL
// attribute: a record past its expiry is gone for every read and condition
// though DynamoDB has not deleted the item yet; Delete removes the item.
func TestExpiry(t *testing.T) {
	c := moto(t)
	clk := clock.NewFake(time.Unix(1_900_000_000, 0))
	table := newTable(t, c)
	storetest.Expiry(t, func(t *testing.T) store.Store {
		s, err := dynamostore.New(c, dynamostore.Options{Table: table, Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, storetest.ExpiryOptions{
		Clock:       clk,
		Granularity: time.Second,
		Remaining: func(t *testing.T, k store.Key) time.Duration {
			// Release 2's name of a session's item: "s:" spelled "session:".
			name, rest, _ := strings.Cut(string(k), ":")
			if name != "s" {
				t.Fatalf("Remaining of %q: not a session's key", k)
			}
			pk := "cogauth:session:" + rest
			out, err := c.GetItem(context.Background(), &dynamodb.GetItemInput{
				TableName: aws.String(table), ConsistentRead: aws.Bool(true),
				Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}},
			})
			if err != nil {
				t.Fatal(err)
			}
			if out.Item == nil {
				return -2
			}
			x, ok := out.Item["x"].(*types.AttributeValueMemberN)
			if !ok {
				return -1
			}
			sec, err := strconv.ParseInt(x.Value, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return time.Unix(sec, 0).Sub(clk.Now())
		},
	})
}

// TestLockLease: a live holder keeps the lock past LockTTL (its watchdog extends
// it); a holder killed mid-refresh loses it once the lease lapses.
func TestLockLease(t *testing.T) {
	c := moto(t)
	table := newTable(t, c)
	a, _ := dynamostore.New(c, dynamostore.Options{Table: table, LockTTL: 300 * time.Millisecond})
	k := store.Join("s", "us-east-1_A", "c", "alice")
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
