package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cogauth/cogauth/emulator"
)

// routeCodes reads the codes the emulator "sent" to user from its codes route
// (GET /_emulator/codes), as a script would.
func routeCodes(t *testing.T, p *testPool, user, kind string) []string {
	t.Helper()
	resp, err := http.Get(p.srv.URL + "/_emulator/codes?" + url.Values{"poolId": {p.pool}, "username": {user}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Messages []emulator.Message }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, m := range body.Messages {
		if m.Kind == kind {
			codes = append(codes, m.Code)
		}
	}
	return codes
}

// routeCode is the last code of kind the emulator sent user.
func routeCode(t *testing.T, p *testPool, user, kind string) string {
	t.Helper()
	codes := routeCodes(t, p, user, kind)
	if len(codes) == 0 {
		t.Fatalf("no %s code for %s at the codes route", kind, user)
	}
	return codes[len(codes)-1]
}

// pendingOut parses the pendingJSON a command printed.
func pendingOut(t *testing.T, r result) pendingJSON {
	t.Helper()
	var pj pendingJSON
	if err := json.Unmarshal([]byte(r.out), &pj); err != nil || pj.Status != "pending" || pj.Next == "" || pj.ExpiresAt.IsZero() {
		t.Fatalf("not a pending step: %v\n%s\n%s", err, r.out, r.err)
	}
	return pj
}

// Every step that sends a code, asks for a new password or shows a TOTP secret,
// run with no terminal (stdin a pipe): the first command keeps the step and exits
// 0; the second, with the code read from the emulator's codes route, finishes it
// and exits 0. Golden: the human output of the first commands.
func TestPendingStepsScripted(t *testing.T) {
	p := newTestPool(t, func(sp *emulator.SeedUserPool) {
		sp.MFA = "OPTIONAL"
		sp.EmailMFA = true
		sp.AllowedFirstAuthFactors = []string{"PASSWORD", "EMAIL_OTP"}
		sp.Clients[0].ExplicitAuthFlows = []string{"ALLOW_USER_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
	})
	c := newCLI(t, p)
	c.env["COGAUTH_STORE"] = "file"
	var tr transcript
	first := func(stdin string, args ...string) result {
		t.Helper()
		r := c.ok(stdin, args...)
		tr.add(args, r)
		return r
	}

	// login --flow user-auth --challenge email-otp: the code, then --code.
	r := first("", "login", "--flow", "user-auth", "--challenge", "email-otp", "-u", "alice")
	if !strings.Contains(r.err, "Sent a code by e-mail to a***@e***.") || !strings.Contains(r.err, "Finish with: cogauth login --profile default --code CODE") {
		t.Fatalf("email-otp: %q", r.err)
	}
	// status shows the pending sign-in and what finishes it.
	if r := c.run("", "status"); r.code != exitSignedOut || !strings.Contains(r.out, "  Pending sign-in of alice (a code sent by e-mail), until ") ||
		!strings.Contains(r.out, ": cogauth login --profile default --code CODE\n") {
		t.Fatalf("status with a pending sign-in: exit %d %q", r.code, r.out)
	}
	if r := c.run("", "status", "-o", "json"); !strings.Contains(r.out, `"pendingLogin": {`) || !strings.Contains(r.out, `"step": "EMAIL_OTP"`) {
		t.Fatalf("status -o json with a pending sign-in: %s", r.out)
	}
	// A wrong code keeps the step, and says so.
	if r := c.run("", "login", "--code", "00000000"); r.code != exitError || !strings.Contains(r.err, "that code is wrong; the step is still pending") {
		t.Fatalf("wrong code: exit %d %q", r.code, r.err)
	}
	if r := c.ok("", "login", "--code", routeCode(t, p, "alice", "EMAIL_OTP")); !strings.Contains(r.err, "Signed in as alice") {
		t.Fatalf("finishing email-otp: %q", r.err)
	}
	// Nothing is pending now.
	if r := c.run("", "login", "--code", "12345678"); r.code != exitUsage || !strings.Contains(r.err, "no pending sign-in step") {
		t.Fatalf("--code with nothing pending: exit %d %q", r.code, r.err)
	}

	// The same under -o json, finished with the code on standard input.
	pj := pendingOut(t, c.ok("", "login", "--flow", "user-auth", "--challenge", "email-otp", "-u", "alice", "-o", "json"))
	if pj.Step != "EMAIL_OTP" || pj.Destination != "a***@e***" || pj.Next != "cogauth login --profile default --code CODE" || pj.Username != "alice" {
		t.Fatalf("pending -o json: %+v", pj)
	}
	if until := time.Until(pj.ExpiresAt); until < 2*time.Minute || until > 3*time.Minute {
		t.Fatalf("expires in %s, want Cognito's 3 minutes", until)
	}
	r = c.ok(routeCode(t, p, "alice", "EMAIL_OTP")+"\n", "login", "--code", "-", "-o", "json")
	var done signInJSON
	if err := json.Unmarshal([]byte(r.out), &done); err != nil || done.Status != "done" || done.Username != "alice" {
		t.Fatalf("login --code - -o json: %v %s", err, r.out)
	}

	// A step left past Cognito's 3 minutes expires, and says so.
	first("", "login", "--flow", "user-auth", "--challenge", "email-otp", "-u", "alice")
	p.srv.Advance(4 * time.Minute)
	c.clk.Advance(4 * time.Minute)
	if r := c.run("", "login", "--code", routeCode(t, p, "alice", "EMAIL_OTP")); r.code != exitError || !strings.Contains(r.err, "expired") {
		t.Fatalf("expired step: exit %d %q", r.code, r.err)
	}
	// A day past its expiry the store has forgotten the step.
	first("", "login", "--flow", "user-auth", "--challenge", "email-otp", "-u", "alice")
	p.srv.Advance(25 * time.Hour)
	c.clk.Advance(25 * time.Hour)
	if r := c.run("", "login", "--code", "12345678"); r.code != exitUsage || !strings.Contains(r.err, "no pending sign-in step") {
		t.Fatalf("a step a day past its expiry: exit %d %q", r.code, r.err)
	}

	// MFA by e-mail after the password.
	c.ok("", "mfa", "prefer", "email")
	r = first(alicePW+"\n", "login", "-u", "alice", "--password-stdin")
	if !strings.Contains(r.err, "Sent a code by e-mail to a***@e***.") {
		t.Fatalf("email MFA: %q", r.err)
	}
	c.ok("", "login", "--code", routeCode(t, p, "alice", "EMAIL_OTP"))
	c.ok("", "mfa", "prefer", "none")

	// mfa setup totp: the secret (which the user asked for), then --code.
	pj = pendingOut(t, c.ok("", "mfa", "setup", "totp", "-o", "json"))
	if pj.Secret == "" || !strings.HasPrefix(pj.URI, "otpauth://totp/cogauth:alice?") || pj.Next != "cogauth mfa setup totp --profile default --code CODE" {
		t.Fatalf("mfa setup totp -o json: %+v", pj)
	}
	totp, err := emulator.TOTP(pj.Secret, p.srv.Now())
	if err != nil {
		t.Fatal(err)
	}
	if r := c.run("", "mfa", "setup", "totp", "--code", "000000"); r.code != exitError || !strings.Contains(r.err, "still pending") {
		t.Fatalf("wrong TOTP: exit %d %q", r.code, r.err)
	}
	c.ok("", "mfa", "setup", "totp", "--code", totp)
	c.ok("", "mfa", "prefer", "totp")
	// The TOTP challenge of the next sign-in, in a later time step.
	p.srv.Advance(time.Minute)
	c.clk.Advance(time.Minute)
	r = first(alicePW+"\n", "login", "-u", "alice", "--password-stdin")
	if !strings.Contains(r.err, "authenticator app") {
		t.Fatalf("TOTP MFA: %q", r.err)
	}
	totp, err = emulator.TOTP(pj.Secret, p.srv.Now())
	if err != nil {
		t.Fatal(err)
	}
	c.ok("", "login", "--code", totp)
	c.ok("", "mfa", "prefer", "none")

	// A new password required: the step, then COGAUTH_NEW_PASSWORD (and once
	// more with --new-password-stdin, after an administrator's reset).
	r = first("Temp-Passw0rd!\n", "login", "-u", "newbie", "--password-stdin")
	if !strings.Contains(r.err, "requires a new password for newbie") {
		t.Fatalf("new password: %q", r.err)
	}
	c.env["COGAUTH_NEW_PASSWORD"] = "Newbie-Passw0rd!"
	if r := c.ok("", "login"); !strings.Contains(r.err, "Signed in as newbie") {
		t.Fatalf("finishing the new password: %q", r.err)
	}
	delete(c.env, "COGAUTH_NEW_PASSWORD")

	// password reset: the code, then --code with the new password on stdin.
	r = first("", "password", "reset", "--username", "alice")
	if !strings.Contains(r.err, "Finish with: cogauth password reset --profile default --code CODE --new-password-stdin") {
		t.Fatalf("password reset: %q", r.err)
	}
	c.ok("Alice-Passw0rd!2\n", "password", "reset", "--code", routeCode(t, p, "alice", "FORGOT_PASSWORD"), "--new-password-stdin")
	c.ok("Alice-Passw0rd!2\n", "login", "-u", "alice", "--password-stdin")

	// attributes verify: set sends the code; verify without --code sends nothing
	// and shows the step; --resend sends a new one; --code finishes.
	r = first("", "attributes", "set", "email=alice2@example.com")
	if !strings.Contains(r.err, "Finish with: cogauth attributes verify email --profile default --code CODE") {
		t.Fatalf("attributes set: %q", r.err)
	}
	sent := len(routeCodes(t, p, "alice", "VERIFY_ATTRIBUTE"))
	r = first("", "attributes", "verify", "email")
	if n := len(routeCodes(t, p, "alice", "VERIFY_ATTRIBUTE")); n != sent || !strings.Contains(r.err, "Finish with:") {
		t.Fatalf("verify without --code sent %d codes: %q", n-sent, r.err)
	}
	c.ok("", "attributes", "verify", "email", "--resend")
	if n := len(routeCodes(t, p, "alice", "VERIFY_ATTRIBUTE")); n != sent+1 {
		t.Fatalf("--resend sent %d codes", n-sent)
	}
	c.ok("", "attributes", "verify", "email", "--code", routeCode(t, p, "alice", "VERIFY_ATTRIBUTE"))
	if r := c.ok("", "attributes", "get"); !strings.Contains(r.out, "email=alice2@example.com\nemail_verified=true\n") {
		t.Fatalf("after verify: %q", r.out)
	}

	// signup, then confirm --code.
	c.env["COGAUTH_PASSWORD"] = "Carol-Passw0rd!"
	r = first("", "signup", "--username", "carol", "--attribute", "email=carol@example.com")
	delete(c.env, "COGAUTH_PASSWORD")
	if !strings.Contains(r.err, "Finish with: cogauth confirm --profile default --code CODE") {
		t.Fatalf("signup: %q", r.err)
	}
	c.ok("", "confirm", "--code", routeCode(t, p, "carol", "SIGN_UP"))
	c.ok("Carol-Passw0rd!\n", "login", "-u", "carol", "--password-stdin")

	checkGolden(t, "pending", poolScrub(p).apply(tr.b.String()))
}

// A custom challenge, left pending and answered with --answer.
func TestPendingCustomChallenge(t *testing.T) {
	const arn = "arn:aws:lambda:us-east-1:000000000000:function:riddle"
	srv := emulator.NewServer(emulator.Options{Lambda: riddle})
	t.Cleanup(srv.Close)
	sp, err := srv.CreateUserPool(emulator.SeedUserPool{
		Name:         "test",
		LambdaConfig: &emulator.LambdaConfig{DefineAuthChallenge: arn, CreateAuthChallenge: arn, VerifyAuthChallengeResponse: arn},
		Clients:      []emulator.SeedClient{{Name: "cli", ExplicitAuthFlows: []string{"ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}}},
		Users:        []emulator.SeedUser{{Username: "alice", Password: alicePW}},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := newCLI(t, &testPool{srv: srv, pool: sp.ID, client: sp.Clients["cli"].ID})
	c.env["COGAUTH_STORE"] = "file"
	pj := pendingOut(t, c.ok("", "login", "-u", "alice", "--flow", "custom", "-o", "json"))
	if pj.Step != "CUSTOM_CHALLENGE" || pj.Question["riddle"] != "What opens the cave?" || pj.Next != "cogauth login --profile default --answer ANSWER" {
		t.Fatalf("custom pending: %+v", pj)
	}
	if r := c.ok("", "login", "--answer", "open-sesame"); !strings.Contains(r.err, "Signed in as alice") {
		t.Fatalf("--answer: %q", r.err)
	}
}

// A pool that requires MFA, a user without any: the sign-in's MFA set-up is left
// pending with the secret shown, and login --code finishes it.
func TestPendingMFASetupAtLogin(t *testing.T) {
	p := newTestPool(t, func(sp *emulator.SeedUserPool) { sp.MFA = "ON" })
	c := newCLI(t, p)
	c.env["COGAUTH_STORE"] = "file"
	c.env["COGAUTH_NEW_PASSWORD"] = "Newbie-Passw0rd!"
	r := c.ok("Temp-Passw0rd!\n", "login", "-u", "newbie", "--password-stdin", "-o", "json")
	delete(c.env, "COGAUTH_NEW_PASSWORD")
	pj := pendingOut(t, r)
	if pj.Step != "MFA_SETUP" || pj.Secret == "" || !strings.HasPrefix(pj.URI, "otpauth://totp/cogauth:newbie?") || pj.Next != "cogauth login --profile default --code CODE" {
		t.Fatalf("MFA set-up pending: %+v", pj)
	}
	code, err := emulator.TOTP(pj.Secret, p.srv.Now())
	if err != nil {
		t.Fatal(err)
	}
	if r := c.ok("", "login", "--code", code); !strings.Contains(r.err, "Signed in as newbie") {
		t.Fatalf("finishing the set-up: %q", r.err)
	}
}

// SMS MFA after the password, left pending and finished with the code the
// emulator "texted".
func TestPendingSMSMFA(t *testing.T) {
	p := newTestPool(t, func(sp *emulator.SeedUserPool) {
		sp.MFA = "OPTIONAL"
		sp.SMSMFA = true
		sp.Users = append(sp.Users, emulator.SeedUser{Username: "sam", Password: "Sam-Passw0rd!",
			Attributes: map[string]string{"phone_number": "+15555550100", "phone_number_verified": "true"}})
	})
	c := newCLI(t, p)
	c.env["COGAUTH_STORE"] = "file"
	c.ok("Sam-Passw0rd!\n", "login", "-u", "sam", "--password-stdin")
	c.ok("", "mfa", "prefer", "sms")
	pj := pendingOut(t, c.ok("Sam-Passw0rd!\n", "login", "-u", "sam", "--password-stdin", "-o", "json"))
	if pj.Step != "SMS_MFA" || pj.Medium != "SMS" || !strings.HasPrefix(pj.Destination, "+") || strings.Contains(pj.Destination, "5550100") {
		t.Fatalf("SMS MFA pending: %+v", pj)
	}
	if r := c.ok("", "login", "--code", routeCode(t, p, "sam", "SMS_MFA")); !strings.Contains(r.err, "Signed in as sam") {
		t.Fatalf("finishing SMS MFA: %q", r.err)
	}
}

// A new password required, finished with the new password on standard input
// (login --new-password-stdin); the new password then signs in.
func TestPendingNewPasswordStdin(t *testing.T) {
	p := newTestPool(t, nil)
	c := newCLI(t, p)
	c.env["COGAUTH_STORE"] = "file"
	pj := pendingOut(t, c.ok("Temp-Passw0rd!\n", "login", "-u", "newbie", "--password-stdin", "-o", "json"))
	if pj.Step != "NEW_PASSWORD_REQUIRED" || !strings.Contains(pj.Next, "--new-password-stdin") {
		t.Fatalf("new password pending: %+v", pj)
	}
	if r := c.ok("Newbie-Passw0rd!\n", "login", "--new-password-stdin"); !strings.Contains(r.err, "Signed in as newbie") {
		t.Fatalf("--new-password-stdin: %q", r.err)
	}
	c.ok("", "logout")
	c.ok("Newbie-Passw0rd!\n", "login", "-u", "newbie", "--password-stdin")
}
