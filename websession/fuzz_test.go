package websession

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/cogauth/cogauth/secret"
)

// FuzzCookieValues: whatever a browser (or attacker) sends as the session cookie
// or the sign-in cookie, parsing never panics, and only well-formed values pass.
func FuzzCookieValues(f *testing.F) {
	k, err := deriveKeys([]byte(strings.Repeat("k", 32)))
	if err != nil {
		f.Fatal(err)
	}
	id, _ := newSessionID()
	sealed, _ := seal(k.cookie, []byte(`{"s":"x"}`), []byte("n"))
	f.Add(id.cookieValue())
	f.Add(b64(sealed))
	f.Add(strings.Repeat("A", 43))
	f.Add("")
	f.Fuzz(func(t *testing.T, v string) {
		if got, ok := parseSessionID(v); ok && got.cookieValue() != v {
			t.Fatalf("%q parsed as another ID", v)
		}
		if b, ok := unb64(v); ok {
			if plain, err := unseal(k.cookie, b, []byte("n")); err == nil && string(plain) != `{"s":"x"}` {
				t.Fatalf("%q opened to %q", v, plain)
			}
		}
		_, _ = decodeMeta([]byte(v))
		_ = validName(v)
		_ = validState(v)
	})
}

// FuzzReturnTo: an accepted return_to is a path on this site, however it is
// written.
func FuzzReturnTo(f *testing.F) {
	for _, s := range []string{"/", "/a?b#c", "//evil", "/\\evil", "https://evil/", "/%2F%2Fevil", "\t/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if !safeReturnTo(p) {
			return
		}
		base, _ := url.Parse("https://app.example.com/")
		u, err := base.Parse(p)
		if err != nil || u.Host != "app.example.com" || u.Scheme != "https" {
			t.Fatalf("%q resolves to %v (%v)", p, u, err)
		}
	})
}

// FuzzCookieChunks: whatever chunk values a browser (or attacker) sends in
// cookie-only mode, opening them never panics and only a sealed set opens; the
// binary decoder behind the seal never panics either, and what it accepts
// encodes back to a state it decodes the same way.
func FuzzCookieChunks(f *testing.F) {
	a, err := cookieAEADs([]secret.Bytes{[]byte(strings.Repeat("c", 32))})
	if err != nil {
		f.Fatal(err)
	}
	w := &Sessions{cookieAEADs: a, cookieName: "__Host-cogauth", chunkSize: 64}
	s := &cookieState{gen: 3, records: map[string][]byte{
		metaUser:                                []byte(`{"v":1,"u":"alice","s":"sub","c":1,"l":2}`),
		innerUser(managerRecords["s"], "alice"): []byte(`{"access_token":"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln","format":1}`),
	}}
	chunks, err := w.sealChunks(s)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(strings.Join(chunks, "\n"), encodeState(s))
	f.Add("11AAAAAAAA", []byte{1})
	f.Add("", []byte{})
	f.Fuzz(func(t *testing.T, joined string, plain []byte) {
		if got, err := w.openValues(strings.Split(joined, "\n")); err == nil {
			if got.gen != 3 || len(got.records) != 2 {
				t.Fatalf("opened to another state: %+v", got)
			}
		}
		d1, err := decodeState(plain)
		if err != nil {
			return
		}
		d2, err := decodeState(encodeState(d1))
		if err != nil {
			t.Fatalf("re-encoded state refused: %v", err)
		}
		d3, err := decodeState(encodeState(d2))
		if err != nil || d3.gen != d1.gen || d3.id != d1.id || len(d3.records) != len(d1.records) {
			t.Fatalf("round trip changed the state")
		}
		for u := range d2.records {
			if string(d3.records[u]) != string(d2.records[u]) {
				t.Fatalf("record %q changed on a round trip", u)
			}
		}
	})
}

// FuzzParseRevocation: a Bus message (outside input) either reads as a
// revocation that prints back as the same message, or is refused; never a panic.
func FuzzParseRevocation(f *testing.F) {
	name := strings.Repeat("ab", 32)
	for _, s := range []string{
		"r1 " + name + " 1773000000000 1f2e3d4c-5b6a-4789-8abc-def012345678",
		"r1 " + name + " 1773000000000 -",
		"r1 " + name + " 01773000000000 -", "r1 " + name + " -5 -", "r1 " + name + " 1 a b",
		"r1 " + strings.ToUpper(name) + " 1 -", "r1 " + name, name, "", "r1   ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		r, ok := parseRevocation(msg)
		if !ok {
			return
		}
		if r.String() != msg || !validName(r.name) || r.until.UnixMilli() <= 0 || (r.originJTI != "" && !validOriginJTI(r.originJTI)) {
			t.Fatalf("%q read as %+v", msg, r)
		}
	})
}

// FuzzDecodeBucket: an index bucket (read from the store) either decodes into
// entries that survive encoding and decoding again, or is refused; never a panic.
func FuzzDecodeBucket(f *testing.F) {
	e := bucketEntry{tag: [tagLen]byte{9}, indexEntry: indexEntry{Name: strings.Repeat("0f", 32), Expires: 1773000000000000000, OriginJTI: "1f2e3d4c-5b6a-4789-8abc-def012345678", AccessLife: 3600}}
	f.Add(encodeBucket([]bucketEntry{e, {tag: [tagLen]byte{1}, indexEntry: indexEntry{Name: strings.Repeat("a1", 32), Expires: -5}}}))
	f.Add([]byte{bucketFormat, 0})
	f.Add([]byte{bucketFormat, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, p []byte) {
		list, err := decodeBucket(p)
		if err != nil {
			return
		}
		back, err := decodeBucket(encodeBucket(list))
		if err != nil || !slices.Equal(back, list) {
			t.Fatalf("% x decodes to %+v, which comes back as %+v (%v)", p, list, back, err)
		}
	})
}
