package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/cogauth/cogauth/emulator"
)

// riddle is a CUSTOM_AUTH trigger in process: one question, answer "open-sesame";
// a wrong answer fails the sign-in.
func riddle(ctx context.Context, _ string, event []byte) ([]byte, error) {
	var ev map[string]any
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, err
	}
	req, resp := ev["request"].(map[string]any), ev["response"].(map[string]any)
	switch ev["triggerSource"] {
	case "DefineAuthChallenge_Authentication":
		session, _ := req["session"].([]any)
		switch {
		case len(session) > 0 && session[len(session)-1].(map[string]any)["challengeName"] == "SRP_A":
			resp["challengeName"] = "PASSWORD_VERIFIER"
		case len(session) > 0 && session[len(session)-1].(map[string]any)["challengeName"] == "PASSWORD_VERIFIER":
			resp["challengeName"] = "CUSTOM_CHALLENGE"
		case len(session) > 0:
			last := session[len(session)-1].(map[string]any)
			resp["issueTokens"], resp["failAuthentication"] = last["challengeResult"] == true, last["challengeResult"] != true
		default:
			resp["challengeName"] = "CUSTOM_CHALLENGE"
		}
	case "CreateAuthChallenge_Authentication":
		resp["publicChallengeParameters"] = map[string]string{"riddle": "What opens the cave?"}
		resp["privateChallengeParameters"] = map[string]string{"answer": "open-sesame"}
	case "VerifyAuthChallengeResponse_Authentication":
		resp["answerCorrect"] = req["challengeAnswer"] == "open-sesame"
	}
	return json.Marshal(ev)
}

func TestLoginCustomFlow(t *testing.T) {
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

	// On a terminal the question is shown and the answer read; no password asked.
	c.tty = true
	r := c.ok("open-sesame\n", "login", "-u", "alice", "--flow", "custom")
	if !strings.Contains(r.err, "riddle: What opens the cave?") || !strings.Contains(r.err, "Signed in as alice") || strings.Contains(r.err, "Password") {
		t.Fatalf("login said %q", r.err)
	}
	// Without one, the answer comes from --mfa-code; a wrong one is refused.
	c.tty = false
	if r := c.run("", "login", "-u", "alice", "--flow", "custom", "--mfa-code", "abracadabra"); r.code == 0 || !strings.Contains(r.err, "custom challenge refused the answer") {
		t.Fatalf("wrong answer: exit %d, %q", r.code, r.err)
	}
	// Without an answer or a terminal the question is kept pending (exit 0).
	if r := c.run("", "login", "-u", "alice", "--flow", "custom"); r.code != 0 || !strings.Contains(r.err, "Finish with: cogauth login --profile default --answer ANSWER") {
		t.Fatalf("no answer without a terminal: exit %d, %q", r.code, r.err)
	}
	// With a password, the flow starts with SRP (CUSTOM_WITH_SRP).
	c.ok(alicePW+"\n", "login", "-u", "alice", "--flow", "custom", "--password-stdin", "--mfa-code", "open-sesame")
	if u := strings.TrimSpace(c.ok("", "whoami").out); !strings.Contains(u, "alice") {
		t.Fatalf("whoami: %q", u)
	}
	inv := srv.Invocations(sp.ID)
	sawSRP := false
	for _, in := range inv {
		if in.TriggerSource == "DefineAuthChallenge_Authentication" && strings.Contains(string(in.Event), `"SRP_A"`) {
			sawSRP = true
		}
	}
	if !sawSRP {
		t.Fatal("the password sign-in did not start with SRP_A")
	}
}
