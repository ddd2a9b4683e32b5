package identity_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/cogauth/cogauth/identity"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/secret"
)

const (
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testToken  = "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN+/="
)

func testCreds() identity.Credentials {
	return identity.Credentials{
		AccessKeyID:     "ASIAEXAMPLE123456789",
		SecretAccessKey: jwt.Secret(testSecret),
		SessionToken:    jwt.Secret(testToken),
		Expiration:      time.Date(2025, 7, 1, 12, 30, 0, 0, time.FixedZone("CEST", 2*3600)),
		IdentityID:      "us-east-1:11111111-2222-4333-8444-555555555555",
	}
}

func TestCredentialsNeverPrintSecrets(t *testing.T) {
	c := testCreds()
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("creds", "c", c, "p", &c)
	js, _ := json.Marshal(c)
	outputs := map[string]string{
		"slog": logs.String(),
		"json": string(js),
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%T"} {
		outputs[verb] = fmt.Sprintf(verb, c)
		outputs["*"+verb] = fmt.Sprintf(verb, &c)
	}
	for name, out := range outputs {
		if strings.Contains(out, testSecret) || strings.Contains(out, testToken) {
			t.Errorf("%s output holds a secret: %s", name, out)
		}
	}
	// The fields that are not secret still show, for debugging.
	if s := fmt.Sprintf("%+v", c); !strings.Contains(s, c.AccessKeyID) || !strings.Contains(s, c.IdentityID) {
		t.Errorf("%%+v = %q: want the key ID and identity for debugging", s)
	}
}

func TestProcessJSON(t *testing.T) {
	c := testCreds()
	out, err := identity.ProcessJSON(c)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"Version":         1.0,
		"AccessKeyId":     c.AccessKeyID,
		"SecretAccessKey": testSecret,
		"SessionToken":    testToken,
		"Expiration":      "2025-07-01T10:30:00Z", // RFC 3339 in UTC
	}
	if len(doc) != len(want) {
		t.Fatalf("fields %v, want %v", doc, want)
	}
	for k, v := range want {
		if doc[k] != v {
			t.Errorf("%s = %v, want %v", k, doc[k], v)
		}
	}
	back, err := identity.ParseProcessJSON(out)
	if err != nil {
		t.Fatal(err)
	}
	if back.AccessKeyID != c.AccessKeyID || back.SecretAccessKey != c.SecretAccessKey ||
		back.SessionToken != c.SessionToken || !back.Expiration.Equal(c.Expiration) {
		t.Fatalf("round trip: %v", back)
	}
	if _, err := identity.ProcessJSON(identity.Credentials{}); err == nil {
		t.Fatal("ProcessJSON of empty credentials: no error")
	}
}

func TestParseProcessJSONRejects(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"not json", `{`},
		{"version 2", `{"Version":2,"AccessKeyId":"a","SecretAccessKey":"b"}`},
		{"no version", `{"AccessKeyId":"a","SecretAccessKey":"b"}`},
		{"no secret", `{"Version":1,"AccessKeyId":"a"}`},
		{"bad expiration", `{"Version":1,"AccessKeyId":"a","SecretAccessKey":"b","Expiration":"tomorrow"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := identity.ParseProcessJSON([]byte(tc.in)); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func FuzzParseProcessJSON(f *testing.F) {
	good, _ := identity.ProcessJSON(testCreds())
	f.Add(good)
	f.Add([]byte(`{"Version":1,"AccessKeyId":"a","SecretAccessKey":"b","Expiration":"2025-01-01T00:00:00+02:00"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := identity.ParseProcessJSON(data)
		if err != nil {
			return
		}
		// Whatever parses renders again and parses to the same.
		out, err := identity.ProcessJSON(c)
		if err != nil {
			t.Fatalf("parsed %v but cannot render: %v", c, err)
		}
		again, err := identity.ParseProcessJSON(out)
		if err != nil || again.AccessKeyID != c.AccessKeyID || again.SecretAccessKey != c.SecretAccessKey ||
			!again.Expiration.Equal(c.Expiration.Truncate(time.Second)) {
			t.Fatalf("round trip changed %v into %v (%v)", c, again, err)
		}
	})
}

func FuzzParseLogin(f *testing.F) {
	f.Add("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4IiwiaXNzIjoiaHR0cHM6Ly9jb2duaXRvLWlkcC51cy1lYXN0LTEuYW1hem9uYXdzLmNvbS91cy1lYXN0LTFfeCIsInRva2VuX3VzZSI6ImlkIn0.c2ln")
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		l, err := identity.ParseLogin(secret.String(tok))
		if err != nil {
			if tok != "" && len(tok) > 8 && strings.Contains(err.Error(), tok) {
				t.Fatal("error holds the token")
			}
			return
		}
		if l.Provider == "" || l.Sub == "" || strings.Contains(l.Provider, "://") {
			t.Fatalf("accepted login %+v", l)
		}
	})
}

func TestParseLogin(t *testing.T) {
	v := newEnv(t)
	l, err := identity.ParseLogin(secret.String(v.idToken(t, "alice")))
	if err != nil {
		t.Fatal(err)
	}
	if want := "cognito-idp.us-east-1.amazonaws.com/" + v.srv.PoolID("users"); l.Provider != want {
		t.Fatalf("Provider = %q, want %q (the issuer without https://)", l.Provider, want)
	}
	if l.Sub != v.srv.UserSub(v.srv.PoolID("users"), "alice") {
		t.Fatalf("Sub = %q", l.Sub)
	}
}
