package session

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"testing"
	"time"
)

// TestOldRecordsDecode: records as releases 1 and 2 stored them (JSON, format
// 1) still decode, into the same record their JSON says, and a session from
// them survives a write in today's binary layout unchanged.
// testdata/release2-record.json was written by release 2 (websession's
// Manager, tokens from the emulator); testdata/release1-record.json is release
// 1's layout (2843cba's record: no domain) with a device and AWS credentials.
func TestOldRecordsDecode(t *testing.T) {
	for _, name := range []string{"release1-record.json", "release2-record.json"} {
		t.Run(name, func(t *testing.T) {
			old, err := os.ReadFile("testdata/" + name)
			if err != nil {
				t.Fatal(err)
			}
			r, err := decodeRecord(old)
			if err != nil {
				t.Fatal(err)
			}
			var want record
			if err := json.Unmarshal(old, &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*r, want) {
				t.Fatalf("decoded %+v, want %+v", r, want)
			}
			if _, err := r.session(); err != nil {
				t.Fatal(err)
			}
			bin, err := r.encode()
			if err != nil {
				t.Fatal(err)
			}
			if bin[0] != binaryMagic || bin[1] != binaryFormat {
				t.Fatalf("written as % x…", bin[:2])
			}
			back, err := decodeRecord(bin)
			if err != nil {
				t.Fatal(err)
			}
			want.Format = binaryFormat
			if want.Credentials != nil {
				want.Credentials.Expires = want.Credentials.Expires.UTC()
			}
			if !reflect.DeepEqual(*back, want) {
				t.Fatalf("binary round trip: %+v, want %+v", back, want)
			}
			t.Logf("%s: %d bytes of JSON, %d in the binary layout", name, len(old), len(bin))
			if len(bin) >= len(old)*3/4 {
				t.Fatalf("binary %d bytes for %d of JSON: not the tokens' raw bytes", len(bin), len(old))
			}
		})
	}
}

// TestBinaryRecordFields: every field survives the binary layout, including
// empty and odd values (a token that is not a JWT, a negative clock offset,
// credentials at the Unix epoch).
func TestBinaryRecordFields(t *testing.T) {
	for _, r := range []record{
		{Username: "u", AccessToken: "not a token", RefreshToken: "opaque-refresh"},
		{Username: "alice@example.com", AccessToken: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", IDToken: "a.b.c", RefreshToken: "aa.bb.cc.dd.ee",
			DeviceKey: "k", DeviceGroupKey: "g", DevicePassword: "p", Login: "l", ClockOffset: -7, Source: SourceHostedUI, Domain: "https://d",
			IdentityID: "i", IdentityPool: "p", Credentials: &credsJSON{AccessKeyID: "A", SecretAccessKey: "S", SessionToken: "T", Expires: time.Unix(0, 0).UTC(), CanExpire: true}},
		{Username: "u", AccessToken: "x", Credentials: &credsJSON{}},
		{Username: "u", AccessToken: "x", Credentials: &credsJSON{AccessKeyID: "A", Expires: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)}},
	} {
		b, err := r.encode()
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeRecord(b)
		if err != nil {
			t.Fatalf("%+v: %v", r, err)
		}
		if !reflect.DeepEqual(*got, r) {
			t.Fatalf("round trip %+v, want %+v", got, r)
		}
	}
	// Damaged records are errBadRecord, never a panic or a session.
	good, _ := (&record{Username: "u", AccessToken: "x"}).encode()
	for _, b := range [][]byte{{binaryMagic}, {binaryMagic, 9}, append([]byte{binaryMagic, binaryFormat}, 0xff, 0xff), good[:len(good)-2], bytes.Repeat([]byte{binaryMagic}, 10)} {
		if _, err := decodeRecord(b); err == nil {
			t.Fatalf("% x decoded", b)
		}
	}
}
