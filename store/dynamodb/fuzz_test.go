package dynamostore

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/store"
)

// FuzzRead: whatever an item holds (another writer, a damaged table), reading it
// never panics, and what it accepts is a live entry with a valid version.
func FuzzRead(f *testing.F) {
	f.Add("17", []byte("data"), "9999999999", true)
	f.Add("0", []byte{}, "", false)
	f.Add("18446744073709551615", []byte("x"), "1", true)
	f.Add("-1", []byte("x"), "abc", true)
	s := &Store{opts: Options{Clock: clock.NewFake(time.Unix(1_000_000_000, 0))}}
	k := store.Join("s", "p", "c", "u")
	f.Fuzz(func(t *testing.T, v string, d []byte, x string, withX bool) {
		item := map[string]types.AttributeValue{"v": &types.AttributeValueMemberN{Value: v}, "d": &types.AttributeValueMemberB{Value: d}}
		if withX {
			item["x"] = &types.AttributeValueMemberN{Value: x}
		}
		e, live, err := s.read(k, item)
		if err != nil || !live {
			return
		}
		want, perr := strconv.ParseUint(v, 10, 64)
		if perr != nil || e.Version != want || e.Version == 0 || e.Version == store.AnyVersion || !bytes.Equal(e.Data, d) {
			t.Fatalf("accepted v=%q as %d", v, e.Version)
		}
	})
}
