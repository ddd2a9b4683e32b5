package session

import (
	"errors"
	"testing"
)

func FuzzDecodeRecord(f *testing.F) {
	f.Add([]byte(`{"format":1,"username":"alice","access_token":"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln","refresh_token":"rt"}`))
	f.Add([]byte(`{"format":1,"username":"u","access_token":"a.b.c","aws_credentials":{"access_key_id":"A","secret_access_key":"S","expires":"2026-01-01T00:00:00Z"}}`))
	f.Add([]byte(`{"format":2}`))
	f.Add([]byte(`null`))
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
			(r.Credentials == nil) != (r2.Credentials == nil) ||
			r.Credentials != nil && (r.Credentials.SecretAccessKey != r2.Credentials.SecretAccessKey || !r.Credentials.Expires.Equal(r2.Credentials.Expires)) {
			t.Fatal("round trip changed the record")
		}
	})
}
