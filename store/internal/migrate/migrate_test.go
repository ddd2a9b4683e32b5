package migrate

import (
	"os"
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

// TestKeyRoundTrip: every typed key of release 2 has exactly one key of today,
// which parses back into it, and whose DynamoDB/keyring name is release 2's.
func TestKeyRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		kind, ns, pool, client, user string
		key, name                    string
	}{
		{Session, "", "us-east-1_A", "c", "alice", "s:us-east-1_A/c/alice", "session:us-east-1_A/c/alice"},
		{CurrentUser, "profile:w", "p", "c", "", "u:profile%3Aw:p/c/", "current-user:profile%3Aw:p/c/"},
		{DeviceLogin, "", "p", "c", "a@b", "dl:p/c/a@b", "device-login:p/c/a@b"},
		{IdentityID, "", "us-east-1:1", "", "", "i:us-east-1%3A1//", "identity-id:us-east-1%3A1//"},
		{Session, "ws/ab", "p", "c", "x/y:z{", "s:ws%2Fab:p/c/x%2Fy%3Az%7B", "session:ws%2Fab:p/c/x%2Fy%3Az%7B"},
	} {
		k, ok := Key(tt.kind, tt.ns, tt.pool, tt.client, tt.user)
		if !ok || k != tt.key {
			t.Fatalf("Key%v = %q, %v; want %q", tt, k, ok, tt.key)
		}
		f, ok := parse(k)
		if !ok || f != (fields{tt.kind, tt.ns, tt.pool, tt.client, tt.user}) {
			t.Fatalf("parse(%q) = %+v, %v", k, f, ok)
		}
		if n := Name(k); n != tt.name {
			t.Fatalf("Name(%q) = %q, want %q", k, n, tt.name)
		}
	}
	for _, k := range []string{"s:p/c", "s:p/c/u/v", "x:p/c/u", "s:p/c/%41", "s:p/c/%4", "s::p/c/u", "s:p/c/", "u:p/c/x", "session:p/c/u"} {
		if _, ok := parse(k); ok {
			t.Errorf("parse(%q) is release 2's", k)
		}
		if n := Name(k); n != "~"+k {
			t.Errorf("Name(%q) = %q", k, n)
		}
	}
}

// TestBackendNames: the Redis names and lock names of release 2, and release 1's
// names of records that moved.
func TestBackendNames(t *testing.T) {
	for key, want := range map[string]string{
		"s:p/c/alice":            "s:p/c/alice",
		"s:p/c/%20device%20x":    "sx:p/c/%20device%20x",
		"s:ns:p/c/%20device%20x": "s:ns:p/c/%20device%20x",
		"d:p/c/alice":            "d:p/c/alice",
	} {
		if got := RedisName(key); got != want {
			t.Errorf("RedisName(%q) = %q, want %q", key, got, want)
		}
	}
	for key, want := range map[string]string{"s:p/c/a": "l:p/c/a", "s:ns:p/c/a": "l:ns:p/c/a", "u:p/c/": "lu:p/c/", "other:x": "lother:x"} {
		if got := RedisLockName(key); got != want {
			t.Errorf("RedisLockName(%q) = %q, want %q", key, got, want)
		}
	}
	if got := Release1RedisKey("d:p/c/alice"); got != "s:p/c/%20device%20alice" {
		t.Errorf("Release1RedisKey of a device = %q", got)
	}
	if got := Release1RedisKey("s:p/c/alice") + Release1RedisKey("d:ns:p/c/alice"); got != "" {
		t.Errorf("Release1RedisKey of a session or a namespaced record = %q", got)
	}
	for name, want := range map[string]string{
		"s:p/c/%20device%20alice":     "d:p/c/alice",
		"s:p/c/%20device-login%20a@b": "dl:p/c/a@b",
		"s:p/c/":                      "u:p/c/",
		"s:us-east-1%3A1/cogauth-identity%3Aunauthenticated/guest": "i:us-east-1%3A1//",
		"s:p/c/alice":                "", // a session: today's name
		"s:ns:p/c/%20device%20alice": "", // namespaced: release 2's or later
		"d:p/c/alice":                "",
		"s:p/c/%20device%20a/b":      "",
		"s:p/c/%2":                   "",
	} {
		got, ok := Release1RedisMove(name)
		if got != want || ok != (want != "") {
			t.Errorf("Release1RedisMove(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
	if got := Release1KeyringAccount("i:us-east-1%3A1//"); got != "session:us-east-1:1/cogauth-identity:unauthenticated/guest" {
		t.Errorf("Release1KeyringAccount of the guest = %q", got)
	}
	if got := Release1KeyringAccount("s:p/c/alice"); got != "" {
		t.Errorf("Release1KeyringAccount of a plain session = %q (today's name)", got)
	}
	if LockID("", "s:p/c/u") != "p\x00c\x00u" || LockID("svc", "d:p/c/u") != "device\x00\x00svc\x00p\x00c\x00u" {
		t.Errorf("LockID: %q %q", LockID("", "s:p/c/u"), LockID("svc", "d:p/c/u"))
	}
}

// FuzzFile: whatever a file of an earlier release holds, File either refuses it
// or returns keys that parse back as release 2's and are unique to their entry.
func FuzzFile(f *testing.F) {
	for _, name := range []string{"../../testdata/release1-sessions.json", "../../testdata/release2-sessions.json"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"format":"cogauth-sessions/2","seq":1,"entries":[{"kind":"nope","pool":"p","client":"c","user":"u","version":1,"data":""}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, entries, err := File(b)
		if err != nil {
			return
		}
		for _, e := range entries {
			if _, ok := parse(e.Key); !ok {
				t.Fatalf("File returned %q, which is no key of release 2", e.Key)
			}
		}
	})
}

// FuzzRelease1RedisMove: a name Release1RedisMove moves is exactly release 1's
// name of the key it returns, and that key is its own Redis name and no session
// (so moving it never touches a record under today's names).
func FuzzRelease1RedisMove(f *testing.F) {
	for _, n := range []string{"s:p/c/%20device%20alice", "s:p/c/", "s:us-east-1%3A1/cogauth-identity%3Aunauthenticated/guest", "s:p/c/%20hosted-ui%20x", "s:p/c/alice"} {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, name string) {
		key, ok := Release1RedisMove(name)
		if !ok {
			return
		}
		if Release1RedisKey(key) != name || RedisName(key) != key || strings.HasPrefix(key, "s:") {
			t.Fatalf("%q moves to %q (release 1 name %q, Redis name %q)", name, key, Release1RedisKey(key), RedisName(key))
		}
	})
}
