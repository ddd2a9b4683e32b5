package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/internal/config"
)

// TestErrorWordsGolden: what the CLI says for the Cognito errors a user meets,
// against the emulator, as one golden transcript: no SDK operation or exception in
// the default output; --debug adds them; -o json puts the same words on stderr.
func TestErrorWordsGolden(t *testing.T) {
	p := newTestPool(t, nil)
	var tr transcript
	run := func(c *cli, stdin string, args ...string) result {
		t.Helper()
		r := c.run(stdin, args...)
		tr.add(args, r)
		if !strings.Contains(strings.Join(args, " "), "--debug") && !strings.Contains(strings.Join(c.envList(), " "), "COGAUTH_DEBUG") {
			for _, bad := range []string{"Exception", "cognito:", "session:", "InitiateAuth", "RespondToAuthChallenge", "operation "} {
				if strings.Contains(r.err, bad) {
					t.Errorf("cogauth %s: stderr names %q: %s", strings.Join(args, " "), bad, r.err)
				}
			}
		}
		return r
	}
	c := newCLI(t, p)
	c.env["COGAUTH_STORE"] = "file"

	// Not signed in: exit 3, with the command that signs in.
	if r := run(c, "", "token"); r.code != exitSignedOut {
		t.Fatalf("token before login: exit %d", r.code)
	}
	// A wrong password under SRP, and under USER_PASSWORD_AUTH.
	if r := run(c, "Wrong-Passw0rd!\n", "login", "-u", "alice", "--password-stdin"); r.code != exitError {
		t.Fatalf("wrong password: exit %d", r.code)
	}
	run(c, "Wrong-Passw0rd!\n", "login", "-u", "alice", "--password-stdin", "--flow", "password")
	// A user pool that does not exist, under SRP: told apart from a wrong password.
	c.env["COGAUTH_USER_POOL_ID"] = "us-east-1_Nope00000"
	run(c, alicePW+"\n", "login", "-u", "alice", "--password-stdin")
	c.env["COGAUTH_USER_POOL_ID"] = p.pool
	// An app client the pool does not have.
	c.env["COGAUTH_CLIENT_ID"] = "nosuchclient"
	run(c, alicePW+"\n", "login", "-u", "alice", "--password-stdin")
	// The same with --debug, and under -o json.
	r := run(c, alicePW+"\n", "login", "-u", "alice", "--password-stdin", "--debug")
	if !regexp.MustCompile(`\[debug: operation InitiateAuth, exception ResourceNotFoundException, HTTP 400, request id [0-9a-f-]{36}\]\n$`).MatchString(r.err) {
		t.Errorf("--debug: %q", r.err)
	}
	r = run(c, alicePW+"\n", "login", "-u", "alice", "--password-stdin", "-o", "json", "--debug")
	var ej errorJSON
	if err := json.Unmarshal([]byte(r.err), &ej); err != nil || ej.ExitCode != exitError || !strings.HasPrefix(ej.Error, "this user pool has no app client nosuchclient") ||
		ej.Debug == nil || ej.Debug.Operation != "InitiateAuth" || ej.Debug.Exception != "ResourceNotFoundException" || ej.Debug.Status != 400 || ej.Debug.RequestID == "" || r.out != "" {
		t.Errorf("-o json error: %v %+v stdout %q", err, ej, r.out)
	}
	c.env["COGAUTH_CLIENT_ID"] = p.client
	// A user that does not exist; one that exists already; a wrong code.
	run(c, "", "password", "reset", "--username", "nobody", "--code", "123456")
	c.env["COGAUTH_NEW_PASSWORD"] = "Nobody-Passw0rd!"
	run(c, "", "password", "reset", "--username", "nobody", "--code", "123456")
	delete(c.env, "COGAUTH_NEW_PASSWORD")
	c.env["COGAUTH_PASSWORD"] = "Dora-Passw0rd!"
	run(c, "", "signup", "--username", "alice", "--attribute", "email=a@example.com")
	c.env["COGAUTH_PASSWORD"] = "weak"
	run(c, "", "signup", "--username", "dora", "--attribute", "email=dora@example.com")
	delete(c.env, "COGAUTH_PASSWORD")
	run(c, "", "confirm", "--username", "bob", "--code", "000000")

	// The session ended at the service: another sign-in of alice signs out
	// everywhere, and this one's refresh is refused (exit 3).
	run(c, alicePW+"\n", "login", "-u", "alice", "--password-stdin")
	other := newCLI(t, p)
	other.env["COGAUTH_STORE"] = "file"
	other.ok(alicePW+"\n", "login", "-u", "alice", "--password-stdin")
	other.ok("", "logout", "--global")
	if r := run(c, "", "refresh", "--force"); r.code != exitSignedOut {
		t.Errorf("refresh after a global sign-out: exit %d", r.code)
	}
	if r := run(c, "", "attributes", "get"); r.code != exitSignedOut {
		t.Errorf("attributes get after a global sign-out: exit %d", r.code)
	}
	checkGolden(t, "errors", poolScrub(p).apply(tr.b.String()))
}

func (c *cli) envList() []string {
	var out []string
	for k := range c.env {
		out = append(out, k)
	}
	return out
}

// Every row of the table words its error without the exception's name or an
// operation, and the row found for its own name and fragment is itself.
func TestErrorWordsTable(t *testing.T) {
	c := &config.Config{Profile: "dev", Values: config.Values{UserPoolID: "eu-west-1_Abc", ClientID: "client1", IdentityPoolID: "eu-west-1:0000"}}
	for _, rows := range [][]errorWord{errorWords, identityWords} {
		for _, w := range rows {
			e := &cognito.Error{Op: "SomeOp", Name: w.name, Message: "It said " + w.match + "."}
			if &rows[0] == &identityWords[0] {
				e.Op = "GetId"
			}
			got, ok := cognitoWords(c, e)
			if !ok || got == "" {
				t.Errorf("%s %q: no words", w.name, w.match)
				continue
			}
			if strings.Contains(got, "Exception") || strings.Contains(got, "SomeOp") {
				t.Errorf("%s %q: %q names the exception or operation", w.name, w.match, got)
			}
			if want := w.say(c, e); got != want {
				t.Errorf("%s %q: an earlier row answers: %q, want %q", w.name, w.match, got, want)
			}
		}
	}
}
