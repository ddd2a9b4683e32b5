package dynamostore_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cogauth/cogauth/store"
	dynamostore "github.com/cogauth/cogauth/store/dynamodb"
	"github.com/cogauth/cogauth/store/internal/migrate"
)

// TestReadsRelease2: the items release 2's DynamoDB store wrote
// (../testdata/release2-dynamodb.json, by ../testdata/release2-dynamodb.go.txt
// run on b3a3179 against moto: the records of release2-sessions.json and the
// data-less tombstone of a deleted session) are read where they are under
// today's keys, so a rolling upgrade moves nothing; a write replaces an item in
// place, and a record written again after its delete gets a version above the
// tombstone's.
func TestReadsRelease2(t *testing.T) {
	ctx := context.Background()
	c := moto(t)
	table := newTable(t, c)
	b, err := os.ReadFile("../testdata/release2-dynamodb.json")
	if err != nil {
		t.Fatal(err)
	}
	var items []struct {
		PK string `json:"pk"`
		V  string `json:"v"`
		D  []byte `json:"d"`
		X  string `json:"x"`
	}
	if err := json.Unmarshal(b, &items); err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		item := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: it.PK}, "v": &types.AttributeValueMemberN{Value: it.V}}
		if it.D != nil {
			item["d"] = &types.AttributeValueMemberB{Value: it.D}
		}
		if it.X != "" {
			item["x"] = &types.AttributeValueMemberN{Value: it.X}
		}
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
			t.Fatal(err)
		}
	}
	s, err := dynamostore.New(c, dynamostore.Options{Table: table, Prefix: "r2:"})
	if err != nil {
		t.Fatal(err)
	}
	fb, err := os.ReadFile("../testdata/release2-sessions.json")
	if err != nil {
		t.Fatal(err)
	}
	_, recs, err := migrate.File(fb)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs)+1 != len(items) {
		t.Fatalf("%d items for %d records and a tombstone", len(items), len(recs))
	}
	for _, r := range recs {
		e, err := s.Get(ctx, store.Key(r.Key))
		if err != nil || string(e.Data) != string(r.Data) {
			t.Fatalf("Get %s = %q, %v; want %q", r.Key, e.Data, err, r.Data)
		}
	}
	k := store.Join("s", "us-east-1_Rel2", "rel2client", "alice")
	e, _ := s.Get(ctx, k)
	if _, err := s.Put(ctx, k, []byte("again"), e.Version, time.Time{}); err != nil {
		t.Fatal(err)
	}
	out, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table)})
	if err != nil || len(out.Items) != len(items) {
		t.Fatalf("%d items after a write (want %d: in place), %v", len(out.Items), len(items), err)
	}
	gone := store.Join("s", "us-east-1_Rel2", "rel2client", "deleted")
	if _, err := s.Get(ctx, gone); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("release 2's tombstone reads as %v", err)
	}
	var tomb uint64
	for _, it := range items {
		if it.D == nil {
			tomb, _ = strconv.ParseUint(it.V, 10, 64)
		}
	}
	if v, err := s.Put(ctx, gone, []byte("again"), 0, time.Time{}); err != nil || tomb == 0 || v <= tomb {
		t.Fatalf("Put over release 2's tombstone (v%d): v%d, %v", tomb, v, err)
	}
}
