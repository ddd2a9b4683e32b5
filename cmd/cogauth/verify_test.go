package main

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestVerifyCommand(t *testing.T) {
	p := newTestPool(t, nil)
	c := newCLI(t, p)
	c.ok(alicePW+"\n", "login", "-u", "alice", "--password-stdin")
	access := strings.TrimSpace(c.ok("", "token").out)
	id := strings.TrimSpace(c.ok("", "token", "--id").out)

	// A payload changed after signing: same header and signature.
	parts := strings.Split(access, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	forged := strings.Replace(string(payload), `"username":"alice"`, `"username":"admin"`, 1)
	if forged == string(payload) {
		t.Fatalf("no username claim to change in %s", payload)
	}
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(forged)) + "." + parts[2]

	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		rule  string // in stderr on failure
		claim string // username claim printed on success
	}{
		{"access token", "", []string{"verify", access, "--token-use", "access"}, exitOK, "", "alice"},
		{"id token from stdin", id + "\n", []string{"verify", "--token-use", "id"}, exitOK, "", ""},
		{"bearer header from stdin", "Bearer " + access, []string{"verify", "-"}, exitOK, "", "alice"},
		{"either use", "", []string{"verify", id}, exitOK, "", ""},
		{"group held", "", []string{"verify", access, "--group", "readers", "--group", "admins"}, exitOK, "", "alice"},
		{"any client", "", []string{"--client-id", "someone-else", "verify", access, "--any-client"}, exitOK, "", "alice"},
		{"explicit issuer and keys", "", []string{"verify", access, "--issuer", "https://cognito-idp.us-east-1.amazonaws.com/" + p.pool,
			"--jwks-url", p.srv.URL + "/" + p.pool + "/.well-known/jwks.json"}, exitOK, "", "alice"},

		{"wrong token use", "", []string{"verify", access, "--token-use", "id"}, exitError, "rule token_use", ""},
		{"wrong client", "", []string{"--client-id", "someone-else", "verify", id}, exitError, "rule client_id", ""},
		{"wrong issuer", "", []string{"verify", access, "--issuer", "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other",
			"--jwks-url", p.srv.URL + "/" + p.pool + "/.well-known/jwks.json"}, exitError, "rule iss", ""},
		{"group missing", "", []string{"verify", access, "--group", "readers"}, exitError, "rule groups", ""},
		{"scope missing", "", []string{"verify", access, "--scope", "orders/write"}, exitError, "rule scope", ""},
		{"tampered payload", "", []string{"verify", tampered}, exitError, "rule signature", ""},
		{"truncated", "", []string{"verify", parts[0] + "." + parts[1]}, exitError, "rule malformed", ""},
		{"not base64", "", []string{"verify", parts[0] + ".!!!." + parts[2]}, exitError, "rule malformed", ""},
		{"keys unreachable", "", []string{"verify", access, "--jwks-url", "http://127.0.0.1:1/jwks.json",
			"--issuer", "https://cognito-idp.us-east-1.amazonaws.com/" + p.pool}, exitError, "rule jwks", ""},

		{"no token", "", []string{"verify"}, exitUsage, "no token", ""},
		{"bad token use", "", []string{"verify", access, "--token-use", "refresh"}, exitUsage, "--token-use", ""},
		{"jwks-url with two issuers", "", []string{"verify", access, "--issuer", "https://a", "--issuer", "https://b", "--jwks-url", "http://x"}, exitUsage, "exactly one", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.run(tt.stdin, tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %q", r.code, tt.code, r.err)
			}
			for _, tok := range []string{access, id, tampered, parts[1], parts[2]} {
				if strings.Contains(r.err, tok) {
					t.Fatalf("stderr holds (part of) the token: %q", r.err)
				}
			}
			if tt.code != exitOK {
				if !strings.Contains(r.err, tt.rule) || strings.Count(r.err, "\n") != 1 {
					t.Fatalf("stderr %q, want one line with %q", r.err, tt.rule)
				}
				if r.out != "" {
					t.Fatalf("printed %q for a rejected token", r.out)
				}
				return
			}
			var claims map[string]any
			if err := json.Unmarshal([]byte(r.out), &claims); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, r.out)
			}
			if claims["sub"] != p.srv.UserSub(p.pool, "alice") || !strings.HasPrefix(r.err, "Verified: ") {
				t.Fatalf("claims %v, stderr %q", claims, r.err)
			}
			if tt.claim != "" && claims["username"] != tt.claim {
				t.Fatalf("username claim %v, want %q", claims["username"], tt.claim)
			}
		})
	}

	// Past expiry, on the CLI's clock.
	c.clk.Advance(2 * time.Hour)
	if r := c.run("", "verify", access); r.code != exitError || !strings.Contains(r.err, "rule exp") {
		t.Fatalf("expired token: exit %d %q", r.code, r.err)
	}
	if r := c.run("", "verify", access, "--leeway", "3h"); r.code != exitOK {
		t.Fatalf("expired token within leeway: exit %d %q", r.code, r.err)
	}
}

// TestVerifyNeedsNoSession: verify is for the receiving side; it needs the pool and
// client, not a sign-in, and no issuer at all is a usage error.
func TestVerifyNeedsNoSession(t *testing.T) {
	p := newTestPool(t, nil)
	signer := newCLI(t, p)
	signer.ok(bobPW+"\n", "login", "-u", "bob", "--password-stdin")
	tok := strings.TrimSpace(signer.ok("", "token").out)

	c := newCLI(t, p)
	if r := c.ok(tok, "verify", "--token-use", "access"); !strings.Contains(r.out, `"username": "bob"`) {
		t.Fatalf("verify: %s", r.out)
	}
	delete(c.env, "COGAUTH_CLIENT_ID")
	if r := c.run(tok, "verify"); r.code != exitUsage || !strings.Contains(r.err, "--any-client") {
		t.Fatalf("no client: exit %d %q", r.code, r.err)
	}
	delete(c.env, "COGAUTH_USER_POOL_ID")
	if r := c.run(tok, "verify"); r.code != exitUsage || !strings.Contains(r.err, "--issuer") {
		t.Fatalf("no pool, no issuer: exit %d %q", r.code, r.err)
	}
}
