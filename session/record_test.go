package session

import (
	"encoding/json"
	"errors"
	"os"
	"slices"
	"testing"
)

func FuzzDecodeRecord(f *testing.F) {
	f.Add([]byte(`{"format":1,"username":"alice","access_token":"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln","refresh_token":"rt"}`))
	f.Add([]byte(`{"format":1,"username":"u","access_token":"a.b.c","aws_credentials":{"access_key_id":"A","secret_access_key":"S","expires":"2026-01-01T00:00:00Z"}}`))
	f.Add([]byte(`{"format":1,"username":"u","access_token":"a.b.c","source":"hosted-ui","identity_id":"us-east-1:x","identity_pool":"us-east-1:p"}`))
	f.Add([]byte(`{"format":2}`))
	f.Add([]byte(`null`))
	for _, name := range []string{"release1-record.json", "release2-record.json"} {
		if b, err := os.ReadFile("testdata/" + name); err == nil {
			f.Add(b)
			if r, err := decodeRecord(b); err == nil {
				if bin, err := r.encode(); err == nil {
					f.Add(bin)
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRecord(b)
		if err != nil {
			if !errors.Is(err, errBadRecord) {
				t.Fatalf("error not errBadRecord: %v", err)
			}
			return
		}
		// Whatever decodes either becomes a session or fails cleanly, and survives a
		// round trip through the store encoding.
		if _, err := r.session(); err != nil && !errors.Is(err, errBadRecord) {
			t.Fatalf("session(): %v", err)
		}
		out, err := r.encode()
		if err != nil {
			t.Fatal(err)
		}
		r2, err := decodeRecord(out)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if r2.AccessToken != r.AccessToken || r2.RefreshToken != r.RefreshToken || r2.Username != r.Username ||
			r2.Source != r.Source || r2.IdentityPool != r.IdentityPool || r2.IdentityID != r.IdentityID ||
			(r.Credentials == nil) != (r2.Credentials == nil) ||
			r.Credentials != nil && (r.Credentials.SecretAccessKey != r2.Credentials.SecretAccessKey || !r.Credentials.Expires.Equal(r2.Credentials.Expires)) {
			t.Fatal("round trip changed the record")
		}
	})
}

// FuzzDecodeDevice: stored device and login entries are read back from stores
// other programs may write.
func FuzzDecodeDevice(f *testing.F) {
	f.Add([]byte(`{"format":1,"username":"alice","device_key":"us-east-1_x","device_group_key":"-g","device_password":"p","logins":["alice@example.com"]}`))
	f.Add([]byte(`{"format":1,"username":"alice"}`))
	f.Add([]byte(`{"format":1,"username":"alice","device_key":"k","logins":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if u, err := decodeLogin(b); err != nil && !errors.Is(err, errBadDevice) || err == nil && u == "" {
			t.Fatalf("decodeLogin = %q, %v", u, err)
		}
		d, err := decodeDevice(b)
		if err != nil {
			if !errors.Is(err, errBadDevice) {
				t.Fatalf("error not errBadDevice: %v", err)
			}
			return
		}
		dev := d.device()
		if dev.Key != d.Key || dev.Key == "" || dev.Password.Reveal() != d.Password {
			t.Fatalf("device() = %+v from %+v", dev, d)
		}
		out, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		d2, err := decodeDevice(out)
		if err != nil || d2.Key != d.Key || d2.Password != d.Password || d2.Username != d.Username || !slices.Equal(d2.Logins, d.Logins) {
			t.Fatalf("round trip: %+v, %v; was %+v", d2, err, d)
		}
	})
}
