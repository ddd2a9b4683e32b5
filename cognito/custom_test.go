package cognito_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/secret"
)

// mathTrigger is a CUSTOM_AUTH math challenge as Lambda functions: Define asks
// until one answer is right (after the password, with SRP_A), or fails after two
// wrong ones; Create asks "n+n"; Verify compares.
func mathTrigger(ctx context.Context, _ string, event []byte) ([]byte, error) {
	var ev map[string]any
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, err
	}
	req, resp := ev["request"].(map[string]any), ev["response"].(map[string]any)
	switch ev["triggerSource"] {
	case "DefineAuthChallenge_Authentication":
		session, _ := req["session"].([]any)
		wrong := 0
		var last map[string]any
		for _, s := range session {
			last = s.(map[string]any)
			if last["challengeName"] == "CUSTOM_CHALLENGE" && last["challengeResult"] == false {
				wrong++
			}
		}
		switch {
		case last != nil && last["challengeName"] == "SRP_A":
			resp["challengeName"] = "PASSWORD_VERIFIER"
		case last != nil && last["challengeName"] == "CUSTOM_CHALLENGE" && last["challengeResult"] == true:
			resp["issueTokens"] = true
		case wrong >= 2:
			resp["failAuthentication"] = true
		default:
			resp["challengeName"] = "CUSTOM_CHALLENGE"
		}
	case "CreateAuthChallenge_Authentication":
		n := len(req["session"].([]any)) + 1
		resp["publicChallengeParameters"] = map[string]string{"question": strconv.Itoa(n) + "+" + strconv.Itoa(n)}
		resp["privateChallengeParameters"] = map[string]string{"answer": strconv.Itoa(2 * n)}
	case "VerifyAuthChallengeResponse_Authentication":
		resp["answerCorrect"] = req["privateChallengeParameters"].(map[string]any)["answer"] == req["challengeAnswer"]
	}
	return json.Marshal(ev)
}

func customEmu(t *testing.T) *cognito.Client {
	t.Helper()
	const arn = "arn:aws:lambda:us-east-1:000000000000:function:math"
	srv := emulator.NewServer(emulator.Options{
		Clock: clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)), Lambda: mathTrigger,
		Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
			Name:         "app",
			LambdaConfig: &emulator.LambdaConfig{DefineAuthChallenge: arn, CreateAuthChallenge: arn, VerifyAuthChallengeResponse: arn},
			Clients:      []emulator.SeedClient{{Name: "srv", GenerateSecret: true, ExplicitAuthFlows: []string{"ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}}},
			Users:        []emulator.SeedUser{{Username: "alice", Password: pw}},
		}}},
	})
	t.Cleanup(srv.Close)
	cl := srv.AppClient("app", "srv")
	c, err := cognito.New(cognito.Options{UserPoolID: srv.PoolID("app"), ClientID: cl.ID, ClientSecret: jwt.Secret(cl.Secret), Endpoint: srv.URL, Clock: srv.Clock()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func answerMath(t *testing.T, ch *cognito.Challenge) string {
	t.Helper()
	p := ch.CustomParameters()
	if _, ok := p["USERNAME"]; ok || len(ch.CustomParameterNames()) != 1 {
		t.Fatalf("custom parameters = %v", p)
	}
	var a, b int
	q := p["question"]
	for i := range q {
		if q[i] == '+' {
			a, _ = strconv.Atoi(q[:i])
			b, _ = strconv.Atoi(q[i+1:])
		}
	}
	return strconv.Itoa(a + b)
}

func TestCustomAuth(t *testing.T) {
	ctx := context.Background()
	for _, password := range []string{"", pw} { // CUSTOM_AUTH, CUSTOM_WITH_SRP
		c := customEmu(t)
		res, err := c.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: secret.String(password), Flow: cognito.FlowCustom})
		if err != nil {
			t.Fatal(err)
		}
		ch := res.Challenge
		if ch == nil || ch.Name != cognito.ChallengeCustom {
			t.Fatalf("password %q: SignIn = %+v", password, res)
		}
		// A wrong answer: the pool asks again.
		res, err = c.Respond(ctx, ch, cognito.Answer{Code: "0"})
		if err != nil || res.Challenge == nil || res.Challenge.Name != cognito.ChallengeCustom {
			t.Fatalf("wrong answer: %+v %v", res, err)
		}
		res, err = c.Respond(ctx, res.Challenge, cognito.Answer{Code: secret.String(answerMath(t, res.Challenge))})
		if err != nil || res.Tokens == nil {
			t.Fatalf("right answer: %+v %v", res, err)
		}
		at, err := jwt.Decode(res.Tokens.AccessToken.Reveal())
		if err != nil || at.Claims().Username != "alice" {
			t.Fatalf("token: %v %v", at, err)
		}
	}

	// Two wrong answers: the pool's function fails the sign-in.
	c := customEmu(t)
	res, err := c.SignIn(ctx, cognito.SignInInput{Username: "alice", Flow: cognito.FlowCustom})
	if err != nil {
		t.Fatal(err)
	}
	res, err = c.Respond(ctx, res.Challenge, cognito.Answer{Code: "0"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Respond(ctx, res.Challenge, cognito.Answer{Code: "0"})
	if !errors.Is(err, cognito.ErrNotAuthorized) {
		t.Fatalf("err = %v, want ErrNotAuthorized", err)
	}
	// A wrong password in CUSTOM_WITH_SRP fails at once.
	if _, err := c.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: "wrong", Flow: cognito.FlowCustom}); !errors.Is(err, cognito.ErrNotAuthorized) {
		t.Fatalf("err = %v, want ErrNotAuthorized", err)
	}
}

// The Lambda exceptions map to their sentinels; a function that cannot be run in
// time is retryable, a refusal is not.
func TestLambdaErrors(t *testing.T) {
	ctx := context.Background()
	const arn = "arn:aws:lambda:us-east-1:000000000000:function:slow"
	release := make(chan struct{})
	defer close(release)
	var refuse atomic.Bool
	refuse.Store(true)
	srv := emulator.NewServer(emulator.Options{
		LambdaTimeout: 100 * time.Millisecond,
		Lambda: func(ctx context.Context, _ string, event []byte) ([]byte, error) {
			if refuse.Load() {
				return nil, errors.New("not today")
			}
			select {
			case <-release:
			case <-ctx.Done():
			}
			return event, nil
		},
		Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
			Name: "app", LambdaConfig: &emulator.LambdaConfig{PreAuthentication: arn},
			Clients: []emulator.SeedClient{{Name: "web"}},
			Users:   []emulator.SeedUser{{Username: "alice", Password: pw}},
		}}},
	})
	defer srv.Close()
	c, err := cognito.New(cognito.Options{UserPoolID: srv.PoolID("app"), ClientID: srv.AppClient("app", "web").ID, Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: pw})
	if !errors.Is(err, cognito.ErrUserLambdaValidation) || retryable(err) {
		t.Fatalf("refused: %v", err)
	}
	refuse.Store(false)
	_, err = c.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: pw})
	if !errors.Is(err, cognito.ErrUnexpectedLambda) || !retryable(err) {
		t.Fatalf("timed out: %v", err)
	}
}
