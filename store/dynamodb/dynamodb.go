// Package dynamostore is a store.Store and store.Locker in Amazon DynamoDB, for
// AWS-native services (Lambda, ECS) whose replicas share sessions. It is a
// package of its own so that programs that keep sessions elsewhere do not link
// the DynamoDB client. Import it under its name:
//
//	import dynamostore "github.com/cogauth/cogauth/store/dynamodb"
//
// # Table
//
// One table with a string partition key "pk" and no sort key (CreateTable makes
// one, on-demand, with Time to Live on the attribute "x"). A store.Key k is the
// item Prefix + a name made from k and unique to it (for a key named "s", such
// as "s:pool/client/user", "session:pool/client/user"; tables of earlier
// releases open as they are: MIGRATING.md). An item holds "d" (the data, binary, stored as given: protect the table
// as you would the tokens), "v" (the version) and, for a record written with an
// expiry, "x" (epoch seconds, the TTL attribute: the expiry rounded up to the
// second).
//
// # Versions
//
// Put and Delete are single conditional writes (UpdateItem with a
// ConditionExpression), so compare-and-swap is atomic in DynamoDB. A new version
// is the old one plus one, starting from the writer's clock in microseconds, so
// versions keep growing (a deleted item's next version starts from the clock
// again: only a clock stepped back further than the time since the delete could
// repeat one). Delete removes the item outright.
//
// # Expiry
//
// DynamoDB's Time to Live deletes expired items lazily (within days), so an item
// whose "x" has passed on the store's clock is absent to every read and every
// condition from that second on, whether or not DynamoDB has removed it yet.
//
// # Locks
//
// Lock writes a lease item ("lock:" + the key) with a random owner token and a
// lease deadline, conditional on no live lease; a watchdog extends it every
// LockTTL/3 while it is held, and unlock deletes it if it is still the holder's.
// A holder that dies leaves the lease to lapse after LockTTL. Lease deadlines
// are on the replicas' clocks, which must agree to well within LockTTL (NTP
// does).
package dynamostore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/store"
	"github.com/cogauth/cogauth/store/internal/migrate"
)

// API is the part of *dynamodb.Client the store uses.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// Options configure a Store.
type Options struct {
	// Table is the table's name. Required.
	Table string
	// Prefix starts every partition key; default "cogauth:". Applications sharing
	// a table use different ones.
	Prefix string
	// LockTTL is how long a lock outlives a holder that died; default 10s.
	LockTTL time.Duration
	// Clock is the time source for versions, expiry and leases; the system clock
	// when nil.
	Clock clock.Clock
}

// Store is a store.Store and store.Locker in a DynamoDB table. Safe for
// concurrent use.
type Store struct {
	c    API
	opts Options
}

const (
	defaultPrefix  = "cogauth:"
	defaultLockTTL = 10 * time.Second
	lockWaitMin    = 20 * time.Millisecond
	lockWaitMax    = 500 * time.Millisecond
	// maxData is DynamoDB's item limit less room for the key and attributes.
	maxData = 390 << 10
)

// New returns a Store on client (a *dynamodb.Client).
func New(client API, opts Options) (*Store, error) {
	if client == nil {
		return nil, errors.New("dynamostore: nil client")
	}
	if opts.Table == "" {
		return nil, errors.New("dynamostore: Options.Table is required")
	}
	if opts.LockTTL < 0 || (opts.LockTTL > 0 && opts.LockTTL < 30*time.Millisecond) {
		return nil, fmt.Errorf("dynamostore: LockTTL %v must be zero (default) or at least 30ms", opts.LockTTL)
	}
	if opts.Prefix == "" {
		opts.Prefix = defaultPrefix
	}
	if opts.LockTTL == 0 {
		opts.LockTTL = defaultLockTTL
	}
	if opts.Clock == nil {
		opts.Clock = clock.System{}
	}
	return &Store{c: client, opts: opts}, nil
}

// CreateTable creates the table the store needs (pk string, on-demand) and
// turns Time to Live on for "x", for tests and first deployments; infrastructure
// code usually does this instead.
func CreateTable(ctx context.Context, c *dynamodb.Client, table string) error {
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		return fmt.Errorf("dynamostore: creating table %s: %w", table, err)
	}
	w := dynamodb.NewTableExistsWaiter(c)
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 2*time.Minute); err != nil {
		return fmt.Errorf("dynamostore: waiting for table %s: %w", table, err)
	}
	_, err = c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("x"), Enabled: aws.Bool(true)},
	})
	if err != nil {
		return fmt.Errorf("dynamostore: enabling TTL on %s: %w", table, err)
	}
	return nil
}

// pk is k's partition key: Prefix + migrate.Name, the name earlier releases gave
// the same record, so a table written by them needs no move.
func (s *Store) pk(k store.Key) string { return s.opts.Prefix + migrate.Name(string(k)) }

func key(pk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}
}

// ttlSeconds is the TTL attribute of an expiry: epoch seconds, rounded up so that
// a record never ends early.
func ttlSeconds(t time.Time) int64 {
	sec := t.Unix()
	if t.After(time.Unix(sec, 0)) {
		sec++
	}
	return sec
}

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func unum(n uint64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatUint(n, 10)}
}

// dynErr wraps a DynamoDB failure of op on k. The SDK's errors carry no item
// data, only the operation and the service's message.
func dynErr(op string, k store.Key, err error) error {
	return fmt.Errorf("dynamostore: %s %s: %w", op, k, err)
}

func isConditionFailed(err error) bool {
	var cf *types.ConditionalCheckFailedException
	return errors.As(err, &cf)
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, k store.Key) (store.Entry, error) {
	if err := k.Validate(); err != nil {
		return store.Entry{}, err
	}
	out, err := s.c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.opts.Table), Key: key(s.pk(k)), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return store.Entry{}, dynErr("get", k, err)
	}
	e, live, err := s.read(k, out.Item)
	if err != nil {
		return store.Entry{}, err
	}
	if !live {
		return store.Entry{}, fmt.Errorf("%w: %s", store.ErrNotFound, k)
	}
	return e, nil
}

// read decodes an item; live is false for none, a tombstone, or an expired one.
func (s *Store) read(k store.Key, item map[string]types.AttributeValue) (e store.Entry, live bool, err error) {
	if item == nil {
		return e, false, nil
	}
	if x, ok := item["x"].(*types.AttributeValueMemberN); ok {
		sec, perr := strconv.ParseInt(x.Value, 10, 64)
		if perr != nil {
			return e, false, fmt.Errorf("%w: %s: bad expiry", store.ErrCorrupt, k)
		}
		if sec <= s.opts.Clock.Now().Unix() {
			return e, false, nil
		}
	}
	d, ok := item["d"].(*types.AttributeValueMemberB)
	if !ok {
		return e, false, nil
	}
	v, ok := item["v"].(*types.AttributeValueMemberN)
	if !ok {
		return e, false, fmt.Errorf("%w: %s: no version", store.ErrCorrupt, k)
	}
	e.Version, err = strconv.ParseUint(v.Value, 10, 64)
	if err != nil || e.Version == 0 || e.Version == store.AnyVersion {
		return e, false, fmt.Errorf("%w: %s: bad version", store.ErrCorrupt, k)
	}
	e.Data = d.Value
	if e.Data == nil {
		e.Data = []byte{}
	}
	return e, true, nil
}

// liveCond is true of an item that holds data and has not expired.
const liveCond = "attribute_exists(d) AND (attribute_not_exists(x) OR x > :now)"

// Put implements store.Store.
func (s *Store) Put(ctx context.Context, k store.Key, data []byte, ifVersion uint64, expires time.Time) (uint64, error) {
	if err := k.Validate(); err != nil {
		return 0, err
	}
	if len(data) > maxData {
		return 0, fmt.Errorf("dynamostore: put %s: %d bytes is more than an item holds", k, len(data))
	}
	now := s.opts.Clock.Now()
	vals := map[string]types.AttributeValue{
		":d":    &types.AttributeValueMemberB{Value: append([]byte{}, data...)},
		":one":  num(1),
		":base": num(now.UnixMicro()),
	}
	update := "SET d = :d, v = if_not_exists(v, :base) + :one"
	if !expires.IsZero() {
		update += ", x = :x"
		vals[":x"] = num(ttlSeconds(expires))
	} else {
		update += " REMOVE x"
	}
	var cond *string
	switch ifVersion {
	case store.AnyVersion:
	case 0:
		cond = aws.String("NOT (" + liveCond + ")")
		vals[":now"] = num(now.Unix())
	default:
		cond = aws.String("v = :v AND " + liveCond)
		vals[":v"] = unum(ifVersion)
		vals[":now"] = num(now.Unix())
	}
	out, err := s.c.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.opts.Table), Key: key(s.pk(k)),
		UpdateExpression: aws.String(update), ConditionExpression: cond,
		ExpressionAttributeValues: vals, ReturnValues: types.ReturnValueUpdatedNew,
	})
	if isConditionFailed(err) {
		return 0, fmt.Errorf("%w: %s is not at version %d", store.ErrConflict, k, ifVersion)
	}
	if err != nil {
		return 0, dynErr("put", k, err)
	}
	v, ok := out.Attributes["v"].(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("%w: %s: the write returned no version", store.ErrCorrupt, k)
	}
	ver, err := strconv.ParseUint(v.Value, 10, 64)
	if err != nil || ver == 0 || ver == store.AnyVersion {
		return 0, fmt.Errorf("%w: %s: bad version", store.ErrCorrupt, k)
	}
	return ver, nil
}

// Delete implements store.Store: the item goes (an expired one or a release 2
// tombstone with it); a live item at another version is a conflict.
func (s *Store) Delete(ctx context.Context, k store.Key, ifVersion uint64) error {
	if err := k.Validate(); err != nil {
		return err
	}
	in := &dynamodb.DeleteItemInput{TableName: aws.String(s.opts.Table), Key: key(s.pk(k))}
	if ifVersion != store.AnyVersion {
		in.ConditionExpression = aws.String("v = :v OR NOT (" + liveCond + ")")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":now": num(s.opts.Clock.Now().Unix()), ":v": unum(ifVersion)}
	}
	_, err := s.c.DeleteItem(ctx, in)
	if isConditionFailed(err) {
		return fmt.Errorf("%w: %s is not at version %d", store.ErrConflict, k, ifVersion)
	}
	if err != nil {
		return dynErr("delete", k, err)
	}
	return nil
}

func newToken() string {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	return n.Text(36)
}

// Lock implements store.Locker with a lease item; see the package documentation.
func (s *Store) Lock(ctx context.Context, k store.Key) (func(), error) {
	if err := k.Validate(); err != nil {
		return nil, err
	}
	pk := "lock:" + s.pk(k)
	token := newToken()
	wait := lockWaitMin
	for {
		now := s.opts.Clock.Now()
		_, err := s.c.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(s.opts.Table),
			Item: map[string]types.AttributeValue{
				"pk": &types.AttributeValueMemberS{Value: pk}, "o": &types.AttributeValueMemberS{Value: token},
				"lx": num(now.Add(s.opts.LockTTL).UnixMilli()), "x": num(now.Add(s.opts.LockTTL).Unix() + 60),
			},
			ConditionExpression:       aws.String("attribute_not_exists(pk) OR lx < :now"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":now": num(now.UnixMilli())},
		})
		if err == nil {
			break
		}
		if !isConditionFailed(err) {
			if cerr := ctx.Err(); cerr != nil {
				return nil, fmt.Errorf("dynamostore: lock %s: %w", k, cerr)
			}
			return nil, dynErr("lock", k, err)
		}
		t := time.NewTimer(wait/2 + mrand.N(wait/2+1))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("dynamostore: lock %s: %w", k, ctx.Err())
		}
		wait = min(2*wait, lockWaitMax)
	}
	wctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go s.watchdog(wctx, pk, token, done)
	var once sync.Once
	return func() {
		once.Do(func() {
			stop()
			<-done
			uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			// A failure leaves the lease to lapse after LockTTL.
			_, _ = s.c.DeleteItem(uctx, &dynamodb.DeleteItemInput{
				TableName: aws.String(s.opts.Table), Key: key(pk),
				ConditionExpression:       aws.String("o = :o"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":o": &types.AttributeValueMemberS{Value: token}},
			})
		})
	}, nil
}

// watchdog extends a held lease every LockTTL/3 until ctx ends or the lease
// turns out to be somebody else's.
func (s *Store) watchdog(ctx context.Context, pk, token string, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(s.opts.LockTTL / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := s.opts.Clock.Now()
		_, err := s.c.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(s.opts.Table), Key: key(pk),
			UpdateExpression:    aws.String("SET lx = :lx, x = :x"),
			ConditionExpression: aws.String("o = :o"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":o": &types.AttributeValueMemberS{Value: token}, ":lx": num(now.Add(s.opts.LockTTL).UnixMilli()), ":x": num(now.Add(s.opts.LockTTL).Unix() + 60),
			},
		})
		if isConditionFailed(err) {
			return
		}
		// Other errors are transient as far as we can tell: try again next tick.
	}
}
