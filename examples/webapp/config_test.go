package main

import (
	"errors"
	"flag"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

const hexSecret = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

// TestOptions reads flags and COGAUTH_* variables as the app's start does, and
// stops bad values with a message that names the flag.
func TestOptions(t *testing.T) {
	ext := []string{"-endpoint", "http://127.0.0.1:9229", "-user-pool-id", "us-east-1_abc123", "-client-id", "c1"}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want func(o options) bool
		err  string // a part of the error; "" for none
	}{
		{name: "defaults: the embedded emulator", want: func(o options) bool {
			return o.endpoint == "" && o.idleTimeout == time.Hour && o.absoluteTimeout == 24*time.Hour && o.refreshWait == 2*time.Second
		}},
		{name: "an outside emulator: domain and issuer derived", args: ext, want: func(o options) bool {
			return o.domain == "http://127.0.0.1:9229" && o.issuer == "http://127.0.0.1:9229/us-east-1_abc123" && o.identityEndpoint() == o.endpoint
		}},
		{name: "a real pool: Cognito's issuer", args: []string{"-endpoint", "https://cognito-idp.eu-west-1.amazonaws.com", "-user-pool-id", "eu-west-1_Xyz9", "-client-id", "c1",
			"-domain", "https://app.auth.eu-west-1.amazoncognito.com"}, want: func(o options) bool {
			return o.issuer == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Xyz9" && o.identityEndpoint() == "" && o.domain == "https://app.auth.eu-west-1.amazoncognito.com"
		}},
		{name: "every flag from the environment", env: map[string]string{
			"COGAUTH_ENDPOINT": "http://emu:9229", "COGAUTH_USER_POOL_ID": "us-east-1_p1", "COGAUTH_CLIENT_ID": "c1", "COGAUTH_CLIENT_SECRET": "s",
			"COGAUTH_DOMAIN": "http://ui:9229", "COGAUTH_IDENTITY_POOL_ID": "us-east-1:x", "COGAUTH_ISSUER": "http://iss/p",
			"COGAUTH_IDLE_TIMEOUT": "5m", "COGAUTH_ABSOLUTE_TIMEOUT": "1h", "COGAUTH_REFRESH_WAIT": "1500ms",
			"COGAUTH_REDIS": "127.0.0.1:6379", "COGAUTH_SECRET": hexSecret, "COGAUTH_ADDR": ":9000", "COGAUTH_BASE": "http://lb:8080",
		}, want: func(o options) bool {
			return o.endpoint == "http://emu:9229" && o.userPoolID == "us-east-1_p1" && o.clientID == "c1" && o.clientSecret == "s" &&
				o.domain == "http://ui:9229" && o.identityPoolID == "us-east-1:x" && o.issuer == "http://iss/p" && o.idleTimeout == 5*time.Minute &&
				o.absoluteTimeout == time.Hour && o.refreshWait == 1500*time.Millisecond && o.redis == "127.0.0.1:6379" && o.secret == hexSecret &&
				o.addr == ":9000" && o.base == "http://lb:8080"
		}},
		{name: "a flag wins over its variable", args: append([]string{"-client-id", "flag"}, ext[:4]...), env: map[string]string{"COGAUTH_CLIENT_ID": "env"},
			want: func(o options) bool { return o.clientID == "flag" }},
		{name: "idle longer than absolute", args: []string{"-idle-timeout", "2h", "-absolute-timeout", "1h"}, err: "-idle-timeout 2h0m0s is longer than -absolute-timeout 1h0m0s"},
		{name: "zero refresh wait", args: []string{"-refresh-wait", "0s"}, err: "must be positive"},
		{name: "a duration that is not one", env: map[string]string{"COGAUTH_REFRESH_WAIT": "soon"}, err: `COGAUTH_REFRESH_WAIT="soon"`},
		{name: "a malformed endpoint", args: []string{"-endpoint", "127.0.0.1:9229", "-user-pool-id", "us-east-1_a", "-client-id", "c"}, err: `-endpoint "127.0.0.1:9229"`},
		{name: "a base with a query", args: []string{"-base", "http://lb/?x=1"}, err: "want no query"},
		{name: "no client id", args: ext[:4], err: "-client-id (COGAUTH_CLIENT_ID) is required"},
		{name: "no pool", args: []string{"-endpoint", "http://emu", "-client-id", "c"}, err: "-user-pool-id (COGAUTH_USER_POOL_ID) is required"},
		{name: "not a pool id", args: []string{"-endpoint", "http://emu", "-client-id", "c", "-user-pool-id", "pool"}, err: `"pool" is not a user pool ID`},
		{name: "a client without an endpoint", args: []string{"-client-id", "c"}, err: "-client-id needs -endpoint"},
		{name: "redis without a shared secret", args: []string{"-redis", "127.0.0.1:6379"}, err: "-redis needs -secret"},
		{name: "a short secret", args: []string{"-secret", "abcd"}, err: "-secret must be at least 64 hex digits"},
		{name: "cookie keys", args: []string{"-cookie-keys", hexSecret + "," + hexSecret}, want: func(o options) bool { k, _ := o.cookieKeys(); return len(k) == 2 }},
		{name: "a short cookie key", args: []string{"-cookie-keys", hexSecret + ",ab"}, err: "-cookie-keys: each key must be at least 64 hex digits"},
		{name: "a stray argument", args: []string{"serve"}, err: `unexpected argument "serve"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseOptions(tc.args, func(k string) string { return tc.env[k] }, io.Discard)
			switch {
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("error %v, want one with %q", err, tc.err)
			case tc.err == "" && err != nil:
				t.Fatal(err)
			case tc.want != nil && !tc.want(o):
				t.Fatalf("options %+v", o)
			}
		})
	}
	if _, err := parseOptions([]string{"-h"}, func(string) string { return "" }, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
}

// TestDocNamesOnlyFlags holds the doc comment to flags that exist.
func TestDocNamesOnlyFlags(t *testing.T) {
	var usage strings.Builder
	if _, err := parseOptions([]string{"-h"}, func(string) string { return "" }, &usage); !errors.Is(err, flag.ErrHelp) {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^  -([a-z-]+)`).FindAllStringSubmatch(usage.String(), -1) {
		known[m[1]] = true
	}
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	doc, _, _ := strings.Cut(string(src), "package main")
	named := regexp.MustCompile(`(?:^|[\s(,])-([a-z][a-z-]*[a-z])`).FindAllStringSubmatch(doc, -1)
	if len(named) < 10 {
		t.Fatalf("the doc comment names %d flags; the test reads it wrong", len(named))
	}
	for _, m := range named {
		if !known[m[1]] {
			t.Errorf("the doc comment names -%s, which is not a flag", m[1])
		}
	}
}
