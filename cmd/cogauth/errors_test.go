package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestNetworkErrorsInWords: what the network did, in one sentence that names the
// endpoint and the setting, for failures made for real on loopback.
func TestNetworkErrorsInWords(t *testing.T) {
	p := newTestPool(t, nil)
	// A server that hangs up on every connection without a word.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			// The whole request is read, so that closing sends a FIN, not a
			// reset: the client sees the connection end before any answer.
			if req, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
				_, _ = io.Copy(io.Discard, req.Body)
			}
			c.Close()
		}
	}()
	hangup := "http://" + ln.Addr().String()
	tlsToPlain := strings.Replace(p.srv.URL, "http://", "https://", 1)
	for _, tc := range []struct {
		name, endpoint string
		env            map[string]string
		want           string
	}{
		{"refused", "http://127.0.0.1:1", nil, "cannot reach http://127.0.0.1:1 (connection refused): check --endpoint / COGAUTH_ENDPOINT"},
		{"hang-up", hangup, nil, "cannot reach " + hangup + " (the connection closed before an answer): check --endpoint / COGAUTH_ENDPOINT"},
		{"https to http", tlsToPlain, nil, "cannot reach " + tlsToPlain + " (it does not speak TLS; http:// instead of https://?): check --endpoint / COGAUTH_ENDPOINT"},
		{"identity endpoint", p.srv.URL, map[string]string{"COGAUTH_IDENTITY_POOL_ID": "us-east-1:00000000-0000-0000-0000-000000000000", "COGAUTH_IDENTITY_ENDPOINT": "http://127.0.0.1:1"},
			"cannot reach http://127.0.0.1:1 (connection refused): check --identity-endpoint / COGAUTH_IDENTITY_ENDPOINT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t, p)
			c.env["COGAUTH_STORE"] = "file"
			c.env["COGAUTH_ENDPOINT"] = tc.endpoint
			for k, v := range tc.env {
				c.env[k] = v
			}
			args := []string{"login", "-u", "alice", "--password-stdin"}
			if tc.env != nil {
				args = []string{"credentials", "--guest"}
			}
			r := c.run(alicePW+"\n", args...)
			if r.code != exitError || strings.TrimSpace(r.err) != "cogauth: "+tc.want {
				t.Fatalf("exit %d\n got %q\nwant %q", r.code, strings.TrimSpace(r.err), "cogauth: "+tc.want)
			}
		})
	}
}

// TestProfilesAreIndependent: two profiles on the same pool and client, signed in
// as the same user, hold two sessions; logging out of one leaves the other.
func TestProfilesAreIndependent(t *testing.T) {
	p := newTestPool(t, nil)
	for _, st := range []string{"file", "keyring"} {
		t.Run(st, func(t *testing.T) {
			c := newCLI(t, p)
			c.env["COGAUTH_STORE"] = st
			for _, prof := range []string{"a", "b"} {
				c.ok("", "configure", "--profile", prof, "--user-pool-id", p.pool, "--client-id", p.client, "--endpoint", p.srv.URL)
				c.ok(alicePW+"\n", "--profile", prof, "login", "-u", "alice", "--password-stdin")
			}
			ta := strings.TrimSpace(c.ok("", "--profile", "a", "token").out)
			tb := strings.TrimSpace(c.ok("", "--profile", "b", "token").out)
			if ta == tb {
				t.Fatal("two profiles share one session")
			}
			c.ok("", "--profile", "a", "logout")
			if r := c.run("", "--profile", "a", "token"); r.code != exitSignedOut {
				t.Fatalf("token of the signed-out profile: exit %d %q", r.code, r.err)
			}
			if got := strings.TrimSpace(c.ok("", "--profile", "b", "token").out); got != tb {
				t.Fatal("logging out of profile a changed profile b's session")
			}
			// The other session still works at the service, too.
			c.ok("", "--profile", "b", "refresh", "--force")
			if r := c.ok("", "--profile", "b", "status"); !strings.Contains(r.out, "Server check:  accepted") {
				t.Fatalf("status of b: %q", r.out)
			}
		})
	}
}
