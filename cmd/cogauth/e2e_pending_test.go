package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cogauth/cogauth/emulator"
)

// testBinaryPendingSteps runs the built cogauth as a script would, with no
// terminal, against `cogauth emulator --seed`: each step that sends a code in one
// command exits 0 and is finished by a second that exits 0, the code read from
// the emulator's codes route.
func testBinaryPendingSteps(t *testing.T, b *binary) {
	seed := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(seed, []byte(`{"userPools":[{"name":"p","id":"us-east-1_Pending1","mfa":"OPTIONAL",
		"allowedFirstAuthFactors":["PASSWORD","EMAIL_OTP"],
		"clients":[{"name":"cli","id":"pendingclient","explicitAuthFlows":["ALLOW_USER_AUTH","ALLOW_USER_SRP_AUTH","ALLOW_REFRESH_TOKEN_AUTH"]}],
		"users":[{"username":"alice","password":"Alice-Passw0rd!","attributes":{"email":"alice@example.com","email_verified":"true"}}]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, out, _ := b.start("emulator", "--seed", seed, "--listen", "127.0.0.1:0")
	waitFor(t, out, "Try: ")
	base := ""
	for _, line := range strings.Split(out.String(), "\n") {
		if u, ok := strings.CutPrefix(line, "Cognito emulator listening on "); ok {
			base = u
		}
	}
	b.env = append(b.env, "COGAUTH_ENDPOINT="+base, "COGAUTH_USER_POOL_ID=us-east-1_Pending1", "COGAUTH_CLIENT_ID=pendingclient")
	code := func(user, kind string) string {
		t.Helper()
		resp, err := http.Get(base + "/_emulator/codes?" + url.Values{"poolId": {"us-east-1_Pending1"}, "username": {user}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct{ Messages []emulator.Message }
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		for i := len(body.Messages) - 1; i >= 0; i-- {
			if body.Messages[i].Kind == kind {
				return body.Messages[i].Code
			}
		}
		t.Fatalf("no %s code for %s", kind, user)
		return ""
	}
	pending := func(r result) pendingJSON {
		t.Helper()
		var pj pendingJSON
		if err := json.Unmarshal([]byte(r.out), &pj); err != nil || pj.Status != "pending" {
			t.Fatalf("not pending: %v %q", err, r.out)
		}
		return pj
	}

	pending(b.ok("", "login", "--flow", "user-auth", "--challenge", "email-otp", "-u", "alice", "-o", "json"))
	if r := b.ok("", "login", "--code", code("alice", "EMAIL_OTP")); !strings.Contains(r.err, "Signed in as alice") {
		t.Fatalf("login --code: %q", r.err)
	}
	pj := pending(b.ok("", "mfa", "setup", "totp", "-o", "json"))
	totp, err := emulator.TOTP(pj.Secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b.ok("", "mfa", "setup", "totp", "--code", totp)
	pending(b.ok("", "password", "reset", "--username", "alice", "-o", "json"))
	b.ok("Alice-Passw0rd!2\n", "password", "reset", "--code", code("alice", "FORGOT_PASSWORD"), "--new-password-stdin")
	pending(b.ok("", "attributes", "verify", "email", "-o", "json"))
	b.ok("", "attributes", "verify", "email", "--code", code("alice", "VERIFY_ATTRIBUTE"))
	b.env = append(b.env, "COGAUTH_PASSWORD=Bob-Passw0rd!")
	pending(b.ok("", "signup", "--username", "bob", "--attribute", "email=bob@example.com", "-o", "json"))
	b.ok("", "confirm", "--code", code("bob", "SIGN_UP"))
}
