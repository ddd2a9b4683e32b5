package main

import (
	"context"
	"encoding/json"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/cogauth/cogauth/emulator"
)

// interactive runs one command on a fake terminal; talk answers its prompts.
func interactive(t *testing.T, c *cli, args []string, talk func(answer func(prompt, line string), errOut *safeBuffer)) (int, string) {
	t.Helper()
	pr, pw := io.Pipe()
	var out, errOut safeBuffer
	done := make(chan int)
	go func() {
		e := c.environment(pr, &out, &errOut)
		e.isTTY = func(any) bool { return true }
		done <- Main(context.Background(), e, args)
	}()
	talk(func(prompt, line string) {
		t.Helper()
		waitFor(t, &errOut, prompt)
		io.WriteString(pw, line+"\n")
	}, &errOut)
	rc := <-done
	pw.Close()
	return rc, out.String() + errOut.String()
}

func outboxCode(t *testing.T, p *testPool, user, kind string) string {
	t.Helper()
	msgs := p.srv.Messages(p.pool, user)
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Kind == kind {
			return msgs[i].Code
		}
	}
	t.Fatalf("no %s code for %s", kind, user)
	return ""
}

func TestAccountCommands(t *testing.T) {
	p := newTestPool(t, func(sp *emulator.SeedUserPool) { sp.MFA = "OPTIONAL" })
	c := newCLI(t, p)
	c.env["COGAUTH_STORE"] = "file"
	const doraPW, doraPW2 = "Dora-Passw0rd!", "Dora-Passw0rd!2"
	c.env["COGAUTH_PASSWORD"] = doraPW

	r := c.ok("", "signup", "--username", "dora", "--attribute", "email=dora@example.com", "-o", "json")
	var su struct {
		UserSub      string `json:"userSub"`
		Confirmed    bool   `json:"confirmed"`
		CodeDelivery struct{ Destination, Medium string }
	}
	if err := json.Unmarshal([]byte(r.out), &su); err != nil || su.UserSub == "" || su.Confirmed || su.CodeDelivery.Medium != "EMAIL" || strings.Contains(su.CodeDelivery.Destination, "dora@") {
		t.Fatalf("signup -o json = %q (%v)", r.out, err)
	}
	if r := c.run("", "signup", "--username", "dora"); r.code != exitError || !strings.Contains(r.err, "a user by that name already exists in this user pool") {
		t.Fatalf("second signup: exit %d %q", r.code, r.err)
	}
	// Without a code or a terminal: the pending confirmation is shown again,
	// nothing is sent.
	if r := c.run("", "confirm", "--username", "dora"); r.code != 0 || !strings.Contains(r.err, "Finish with: cogauth confirm --profile default --code CODE") {
		t.Fatalf("confirm without a code or terminal: exit %d %q", r.code, r.err)
	}
	if r := c.run("", "confirm", "--username", "dora", "--code", "000000x"); r.code != exitError || !strings.Contains(r.err, "that code is wrong") {
		t.Fatalf("wrong code: exit %d %q", r.code, r.err)
	}
	c.ok("", "confirm", "--username", "dora", "--resend")
	c.ok("", "confirm", "--username", "dora", "--code", outboxCode(t, p, "dora", "SIGN_UP"))

	// Signed out: the signed-in commands exit 3.
	if r := c.run("", "attributes", "get"); r.code != exitSignedOut {
		t.Fatalf("attributes get signed out: exit %d %q", r.code, r.err)
	}
	c.ok("", "login", "--username", "dora")
	r = c.ok("", "attributes", "get", "-o", "json")
	if !strings.Contains(r.out, `"email": "dora@example.com"`) || !strings.Contains(r.out, `"email_verified": "true"`) {
		t.Fatalf("attributes get: %q", r.out)
	}
	r = c.ok("", "attributes", "set", "email=dora2@example.com", "nickname=d")
	if r.out != "updated email, nickname\n" || !strings.Contains(r.err, "Finish with: cogauth attributes verify email --profile default --code CODE") {
		t.Fatalf("attributes set: %q %q", r.out, r.err)
	}
	c.ok("", "attributes", "verify", "email", "--code", outboxCode(t, p, "dora", "VERIFY_ATTRIBUTE"))
	c.ok("", "attributes", "delete", "nickname")
	r = c.ok("", "attributes", "get")
	if !strings.Contains(r.out, "email=dora2@example.com\n") || !strings.Contains(r.out, "email_verified=true\n") || strings.Contains(r.out, "nickname") {
		t.Fatalf("attributes after the changes: %q", r.out)
	}

	// TOTP set-up on a terminal: the secret is shown, the app's code typed.
	rc, text := interactive(t, c, []string{"mfa", "setup", "totp"}, func(answer func(string, string), errOut *safeBuffer) {
		waitFor(t, errOut, "Code from the app: ")
		m := regexp.MustCompile(`Secret: ([A-Z2-7]+)`).FindStringSubmatch(errOut.String())
		if m == nil || !strings.Contains(errOut.String(), "otpauth://totp/cogauth:dora?") {
			t.Errorf("no secret or URI: %q", errOut.String())
			answer("", "000000")
			return
		}
		code, err := emulator.TOTP(m[1], p.srv.Now())
		if err != nil {
			t.Fatal(err)
		}
		answer("", code)
	})
	if rc != 0 {
		t.Fatalf("mfa setup totp: exit %d\n%s", rc, text)
	}
	c.ok("", "mfa", "prefer", "totp")
	r = c.ok("", "mfa", "status", "-o", "json")
	var st struct {
		Enabled   []string `json:"enabled"`
		Preferred string   `json:"preferred"`
	}
	if err := json.Unmarshal([]byte(r.out), &st); err != nil || st.Preferred != "totp" || len(st.Enabled) != 1 || st.Enabled[0] != "totp" {
		t.Fatalf("mfa status = %q (%v)", r.out, err)
	}
	c.ok("", "mfa", "prefer", "none")
	if r = c.ok("", "mfa", "status"); !strings.Contains(r.out, "no MFA method enabled") {
		t.Fatalf("mfa status after none: %q", r.out)
	}
	if r := c.run("", "mfa", "prefer", "carrier-pigeon"); r.code != exitUsage {
		t.Fatalf("unknown method: exit %d", r.code)
	}

	// Password change, then reset.
	c.env["COGAUTH_NEW_PASSWORD"] = doraPW2
	c.ok("", "password", "change")
	c.env["COGAUTH_PASSWORD"] = doraPW
	if r := c.run("", "login", "--username", "dora"); r.code == 0 {
		t.Fatal("the old password still works")
	}
	c.env["COGAUTH_PASSWORD"] = doraPW2
	c.ok("", "login", "--username", "dora")
	// Reset: the code is typed at the prompt; the new password comes from
	// COGAUTH_NEW_PASSWORD. Dora's address is verified, so the code goes there.
	const doraPW3 = "Dora-Passw0rd!3"
	c.env["COGAUTH_NEW_PASSWORD"] = doraPW3
	rc, text = interactive(t, c, []string{"password", "reset", "--username", "dora"}, func(answer func(string, string), errOut *safeBuffer) {
		waitFor(t, errOut, "Reset code: ")
		answer("", outboxCode(t, p, "dora", "FORGOT_PASSWORD"))
	})
	if rc != 0 || !strings.Contains(text, "code sent by email to d***@e***") {
		t.Fatalf("password reset: exit %d\n%s", rc, text)
	}
	c.env["COGAUTH_PASSWORD"] = doraPW3
	c.ok("", "login", "--username", "dora")

	// Account deletion: asks, refuses without a terminal, ends the session.
	if r := c.run("", "account", "delete"); r.code != exitUsage || !strings.Contains(r.err, "--yes") {
		t.Fatalf("account delete without --yes: exit %d %q", r.code, r.err)
	}
	if r := c.ok("", "account", "delete", "--yes"); r.out != "deleted user dora; signed out\n" {
		t.Fatalf("account delete --yes said %q", r.out)
	}
	if r := c.run("", "whoami"); r.code != exitSignedOut {
		t.Fatalf("whoami after account delete: exit %d %q", r.code, r.err)
	}
	if r := c.run("", "login", "--username", "dora"); r.code == 0 || !strings.Contains(r.err, "no such user in user pool") {
		t.Fatalf("login after account delete: exit %d %q", r.code, r.err)
	}
}

func TestLoginUserAuth(t *testing.T) {
	p := newTestPool(t, func(sp *emulator.SeedUserPool) {
		sp.AllowedFirstAuthFactors = []string{"PASSWORD", "EMAIL_OTP"}
		sp.Clients[0].ExplicitAuthFlows = []string{"ALLOW_USER_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
	})
	c := newCLI(t, p)
	c.env["COGAUTH_STORE"] = "file"
	codeAnswer := func(answer func(string, string), errOut *safeBuffer) {
		waitFor(t, errOut, "Code sent by e-mail to a***@e***: ")
		answer("", outboxCode(t, p, "alice", "EMAIL_OTP"))
	}
	rc, text := interactive(t, c, []string{"login", "--flow", "user-auth", "--challenge", "email-otp", "-u", "alice"}, codeAnswer)
	if rc != 0 || strings.Contains(text, "Password: ") {
		t.Fatalf("passwordless login: exit %d\n%s", rc, text)
	}
	if r := c.ok("", "whoami"); !strings.Contains(r.out, "alice") {
		t.Fatalf("whoami: %q", r.out)
	}
	// No preference: the choices are offered.
	rc, text = interactive(t, c, []string{"login", "--flow", "user-auth", "-u", "alice"}, func(answer func(string, string), errOut *safeBuffer) {
		waitFor(t, errOut, "Sign in with: password, password-srp, email-otp")
		answer("Choice: ", "email-otp")
		codeAnswer(answer, errOut)
	})
	if rc != 0 {
		t.Fatalf("login with a choice: exit %d\n%s", rc, text)
	}
	// Scripted: a password factor.
	c.env["COGAUTH_PASSWORD"] = alicePW
	for _, ch := range []string{"password", "password-srp"} {
		c.ok("", "login", "--flow", "user-auth", "--challenge", ch, "-u", "alice")
	}
	c.env["COGAUTH_PASSWORD"] = "Wr0ng-Passw0rd!"
	if r := c.run("", "login", "--flow", "user-auth", "--challenge", "password", "-u", "alice"); r.code != exitError || !strings.Contains(r.err, "incorrect username or password") {
		t.Fatalf("wrong password: exit %d %q", r.code, r.err)
	}
	if r := c.run("", "login", "--challenge", "email-otp", "-u", "alice"); r.code != exitUsage {
		t.Fatalf("--challenge without --flow user-auth: exit %d %q", r.code, r.err)
	}
	if r := c.run("", "login", "--flow", "user-auth", "--challenge", "carrier-pigeon", "-u", "alice"); r.code != exitUsage {
		t.Fatalf("unknown challenge: exit %d %q", r.code, r.err)
	}
	// No terminal and no --challenge: the choice cannot be asked.
	if r := c.run("", "login", "--flow", "user-auth", "-u", "alice"); r.code != exitUsage || !strings.Contains(r.err, "--challenge") {
		t.Fatalf("choice without a terminal: exit %d %q", r.code, r.err)
	}

	// A passwordless sign-up asks for no password; the user signs in by e-mail code.
	delete(c.env, "COGAUTH_PASSWORD")
	if r := c.run("", "signup", "--username", "pia", "--attribute", "email=pia@example.com"); r.code != exitUsage || !strings.Contains(r.err, "COGAUTH_PASSWORD") {
		t.Fatalf("signup without a password or --passwordless: exit %d %q", r.code, r.err)
	}
	c.ok("", "signup", "--username", "pia", "--passwordless", "--attribute", "email=pia@example.com")
	c.ok("", "confirm", "--username", "pia", "--code", outboxCode(t, p, "pia", "SIGN_UP"))
	rc, text = interactive(t, c, []string{"login", "--flow", "user-auth", "--challenge", "email-otp", "-u", "pia"}, func(answer func(string, string), errOut *safeBuffer) {
		waitFor(t, errOut, "Code sent by e-mail to p***@e***: ")
		answer("", outboxCode(t, p, "pia", "EMAIL_OTP"))
	})
	if rc != 0 || strings.Contains(text, "Password: ") {
		t.Fatalf("a passwordless user's login: exit %d\n%s", rc, text)
	}
	if r := c.ok("", "whoami"); !strings.Contains(r.out, "pia") {
		t.Fatalf("whoami: %q", r.out)
	}
}
