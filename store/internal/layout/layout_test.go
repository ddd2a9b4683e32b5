package layout

import (
	"strings"
	"testing"
)

// FuzzLegacy: every (pool, client, user) that release 1 may have written (it required a
// pool and a client) reads as
// exactly one typed record, and that record's legacy name is the triple it came
// from, so reading an old store and writing it back loses and merges nothing.
func FuzzLegacy(f *testing.F) {
	for _, s := range [][3]string{
		{"us-east-1_A", "c", "alice"}, {"us-east-1_A", "c", ""}, {"us-east-1_A", "c", " device alice"},
		{"us-east-1_A", "c", " device-login a@b"}, {"us-east-1_A", "c", " profile default"},
		{"us-east-1_A", "c", " hosted-ui bob"}, {"us-east-1:1", "cognito-idp/x", "sub"},
		{"us-east-1:1", legacyGuestClient, legacyGuestUser}, {"p", legacyGuestClient, legacyGuestUser},
		{"us-east-1:1", "c", ""}, {"p", "c", " device "},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, pool, client, user string) {
		if pool == "" || client == "" {
			t.Skip("release 1 refused keys without a pool or client")
		}
		kind, p, c, u := Classify(pool, client, user)
		lp, lc, lu, ok := Legacy(kind, p, c, u)
		if !ok || lp != pool || lc != client || lu != user {
			t.Fatalf("%q/%q/%q reads as %s %q/%q/%q, whose legacy name is %q/%q/%q (ok=%v)", pool, client, user, kind, p, c, u, lp, lc, lu, ok)
		}
	})
}

func TestLegacyRefusesWhatRelease1CouldNotWrite(t *testing.T) {
	for _, tt := range []struct{ kind, pool, client, user string }{
		{Session, "p", "c", " device x"},   // would read back as a device
		{Session, "us-east-1:1", "c", "u"}, // would read back as an identity ID
		{Device, "us-east-1:1", "c", "u"},
		{IdentityID, "us-east-1:1", legacyGuestClient, legacyGuestUser}, // would read back as the guest
		{"unknown", "p", "c", "u"},
	} {
		if _, _, _, ok := Legacy(tt.kind, tt.pool, tt.client, tt.user); ok {
			t.Errorf("Legacy%v: ok", tt)
		}
	}
}

func TestEscape(t *testing.T) {
	var b strings.Builder
	Escape(&b, "a/b:c%d e{f}.@+=-_Z9")
	if got, want := b.String(), "a%2Fb%3Ac%25d%20e%7Bf%7D.@+=-_Z9"; got != want {
		t.Fatalf("Escape = %q, want %q", got, want)
	}
}
