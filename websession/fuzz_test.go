package websession

import (
	"net/url"
	"strings"
	"testing"
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
