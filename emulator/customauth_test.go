package emulator_test

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/internal/peers"
	"github.com/cogauth/cogauth/srp"
)

// mathLambdas is a CUSTOM_AUTH math challenge: Define asks a question until an
// answer is right (tokens) or three are wrong (fail); after SRP_A it asks for the
// password first (CUSTOM_WITH_SRP).
func mathLambdas() *lambdas {
	n := 0
	return &lambdas{handlers: map[string]func(map[string]any) (map[string]any, error){
		arnAuth: func(ev map[string]any) (map[string]any, error) {
			req, resp := obj(ev["request"]), obj(ev["response"])
			switch ev["triggerSource"] {
			case "DefineAuthChallenge_Authentication":
				session, _ := req["session"].([]any)
				wrong := 0
				for _, s := range session {
					if s := obj(s); s["challengeName"] == "CUSTOM_CHALLENGE" && s["challengeResult"] == false {
						wrong++
					}
				}
				last := map[string]any{}
				if len(session) > 0 {
					last = obj(session[len(session)-1])
				}
				switch {
				case last["challengeName"] == "SRP_A":
					resp["challengeName"] = "PASSWORD_VERIFIER"
				case last["challengeName"] == "CUSTOM_CHALLENGE" && last["challengeResult"] == true:
					resp["issueTokens"], resp["failAuthentication"] = true, false
				case wrong >= 3 || req["userNotFound"] == true && wrong >= 1:
					resp["issueTokens"], resp["failAuthentication"] = false, true
				default:
					resp["challengeName"], resp["issueTokens"], resp["failAuthentication"] = "CUSTOM_CHALLENGE", false, false
				}
			case "CreateAuthChallenge_Authentication":
				n++
				a, b := n+2, n*3
				resp["publicChallengeParameters"] = map[string]string{"question": fmt.Sprintf("%d + %d", a, b)}
				resp["privateChallengeParameters"] = map[string]string{"answer": strconv.Itoa(a + b)}
				resp["challengeMetadata"] = fmt.Sprintf("MATH-%d", n)
			case "VerifyAuthChallengeResponse_Authentication":
				resp["answerCorrect"] = obj(req["privateChallengeParameters"])["answer"] == req["challengeAnswer"]
			}
			return ev, nil
		},
	}}
}

func solve(t *testing.T, q string) string {
	t.Helper()
	var a, b int
	if _, err := fmt.Sscanf(q, "%d + %d", &a, &b); err != nil {
		t.Fatalf("question %q: %v", q, err)
	}
	return strconv.Itoa(a + b)
}

func customServer(t *testing.T, l *lambdas, prevent string) (*emulator.Server, string) {
	t.Helper()
	srv := emulator.NewServer(emulator.Options{
		Clock: newFake(), Lambda: l.fn, LambdaTimeout: 500 * time.Millisecond,
		Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
			Name:         "app",
			LambdaConfig: &emulator.LambdaConfig{DefineAuthChallenge: arnAuth, CreateAuthChallenge: arnAuth, VerifyAuthChallengeResponse: arnAuth},
			Clients:      []emulator.SeedClient{{Name: "web", ExplicitAuthFlows: []string{"ALLOW_CUSTOM_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}}},
			Users:        []emulator.SeedUser{{Username: "alice", Password: "Correct-Horse-1"}},
		}}},
	})
	t.Cleanup(srv.Close)
	if prevent != "" {
		mustCall(t, srv, "UpdateUserPoolClient", map[string]any{"UserPoolId": srv.PoolID("app"), "ClientId": srv.AppClient("app", "web").ID,
			"ExplicitAuthFlows": []string{"ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}, "PreventUserExistenceErrors": prevent})
	}
	return srv, srv.AppClient("app", "web").ID
}

func TestCustomAuthMathChallenge(t *testing.T) {
	l := mathLambdas()
	srv, clientID := customServer(t, l, "")
	out := mustCall(t, srv, "InitiateAuth", map[string]any{"ClientId": clientID, "AuthFlow": "CUSTOM_AUTH",
		"AuthParameters": map[string]string{"USERNAME": "alice"}, "ClientMetadata": map[string]string{"k": "v"}})
	if out["ChallengeName"] != "CUSTOM_CHALLENGE" {
		t.Fatalf("InitiateAuth = %v", out)
	}
	p := strMap(out["ChallengeParameters"])
	if p["USERNAME"] != "alice" || p["question"] == "" {
		t.Fatalf("parameters = %v", p)
	}
	// A wrong answer: Define asks again, with the failure in the session.
	out2, ae := respond(t, srv, clientID, "CUSTOM_CHALLENGE", out["Session"].(string), map[string]string{"USERNAME": "alice", "ANSWER": "-1"})
	if ae != nil || out2["ChallengeName"] != "CUSTOM_CHALLENGE" {
		t.Fatalf("wrong answer: %v %v", out2, ae)
	}
	// The used session is spent.
	_, ae = respond(t, srv, clientID, "CUSTOM_CHALLENGE", out["Session"].(string), map[string]string{"USERNAME": "alice", "ANSWER": "1"})
	wantErr(t, ae, "NotAuthorizedException", "Invalid session")
	q := strMap(out2["ChallengeParameters"])["question"]
	out3, ae := respond(t, srv, clientID, "CUSTOM_CHALLENGE", out2["Session"].(string), map[string]string{"USERNAME": "alice", "ANSWER": solve(t, q)})
	if ae != nil || obj(out3["AuthenticationResult"])["AccessToken"] == nil {
		t.Fatalf("right answer: %v %v", out3, ae)
	}
	ev := l.last(t, "DefineAuthChallenge_Authentication")
	session := obj(ev["request"])["session"].([]any)
	if len(session) != 2 || obj(session[0])["challengeResult"] != false || obj(session[1])["challengeResult"] != true ||
		obj(session[1])["challengeMetadata"] != "MATH-2" || obj(obj(ev["request"])["clientMetadata"]) == nil {
		t.Fatalf("Define event = %v", ev)
	}
	verify := l.last(t, "VerifyAuthChallengeResponse_Authentication")
	if obj(verify["request"])["userNotFound"] != false {
		t.Fatalf("Verify event = %v", verify)
	}

	// Three wrong answers fail the sign-in.
	out = mustCall(t, srv, "InitiateAuth", map[string]any{"ClientId": clientID, "AuthFlow": "CUSTOM_AUTH", "AuthParameters": map[string]string{"USERNAME": "alice"}})
	for i := 0; i < 2; i++ {
		out = mustCall(t, srv, "RespondToAuthChallenge", map[string]any{"ClientId": clientID, "ChallengeName": "CUSTOM_CHALLENGE",
			"Session": out["Session"], "ChallengeResponses": map[string]string{"USERNAME": "alice", "ANSWER": "x"}})
	}
	_, ae = respond(t, srv, clientID, "CUSTOM_CHALLENGE", out["Session"].(string), map[string]string{"USERNAME": "alice", "ANSWER": "x"})
	wantErr(t, ae, "NotAuthorizedException", "Incorrect username or password.")
}

func TestCustomAuthWithSRP(t *testing.T) {
	l := mathLambdas()
	srv, clientID := customServer(t, l, "")
	cl, err := srp.NewClient(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	out := mustCall(t, srv, "InitiateAuth", map[string]any{"ClientId": clientID, "AuthFlow": "CUSTOM_AUTH",
		"AuthParameters": map[string]string{"USERNAME": "alice", "SRP_A": cl.SRPA(), "CHALLENGE_NAME": "SRP_A"}})
	if out["ChallengeName"] != "PASSWORD_VERIFIER" {
		t.Fatalf("InitiateAuth = %v", out)
	}
	ans := srpAnswer(t, srv, cl, out, "Correct-Horse-1", srv.Now())
	out2, ae := respond(t, srv, clientID, "PASSWORD_VERIFIER", out["Session"].(string), ans)
	if ae != nil || out2["ChallengeName"] != "CUSTOM_CHALLENGE" {
		t.Fatalf("PASSWORD_VERIFIER: %v %v", out2, ae)
	}
	session := obj(l.last(t, "DefineAuthChallenge_Authentication")["request"])["session"].([]any)
	if len(session) != 2 || obj(session[0])["challengeName"] != "SRP_A" || obj(session[1])["challengeName"] != "PASSWORD_VERIFIER" {
		t.Fatalf("session = %v", session)
	}
	q := strMap(out2["ChallengeParameters"])["question"]
	out3, ae := respond(t, srv, clientID, "CUSTOM_CHALLENGE", out2["Session"].(string), map[string]string{"USERNAME": "alice", "ANSWER": solve(t, q)})
	if ae != nil || out3["AuthenticationResult"] == nil {
		t.Fatalf("answer: %v %v", out3, ae)
	}

	// A wrong password ends it at once.
	cl2, _ := srp.NewClient(rand.Reader)
	out = mustCall(t, srv, "InitiateAuth", map[string]any{"ClientId": clientID, "AuthFlow": "CUSTOM_AUTH",
		"AuthParameters": map[string]string{"USERNAME": "alice", "SRP_A": cl2.SRPA(), "CHALLENGE_NAME": "SRP_A"}})
	_, ae = respond(t, srv, clientID, "PASSWORD_VERIFIER", out["Session"].(string), srpAnswer(t, srv, cl2, out, "wrong-password", srv.Now()))
	wantErr(t, ae, "NotAuthorizedException", "Incorrect username or password.")
}

func TestCustomAuthUnknownUser(t *testing.T) {
	l := mathLambdas()
	srv, clientID := customServer(t, l, "")
	_, ae := call(t, srv, "InitiateAuth", map[string]any{"ClientId": clientID, "AuthFlow": "CUSTOM_AUTH", "AuthParameters": map[string]string{"USERNAME": "nobody"}})
	wantErr(t, ae, "UserNotFoundException", "")

	// With PreventUserExistenceErrors the functions run with userNotFound, and the
	// sign-in fails only when Define says so.
	srv, clientID = customServer(t, l, "ENABLED")
	out := mustCall(t, srv, "InitiateAuth", map[string]any{"ClientId": clientID, "AuthFlow": "CUSTOM_AUTH", "AuthParameters": map[string]string{"USERNAME": "nobody"}})
	if out["ChallengeName"] != "CUSTOM_CHALLENGE" || strMap(out["ChallengeParameters"])["USERNAME"] != "nobody" {
		t.Fatalf("InitiateAuth = %v", out)
	}
	if obj(l.last(t, "CreateAuthChallenge_Authentication")["request"])["userNotFound"] != true {
		t.Fatal("userNotFound not set")
	}
	_, ae = respond(t, srv, clientID, "CUSTOM_CHALLENGE", out["Session"].(string), map[string]string{"USERNAME": "nobody", "ANSWER": "1"})
	wantErr(t, ae, "NotAuthorizedException", "Incorrect username or password.")

	// Without the functions, the flow is refused as Cognito does.
	plain := emulator.NewServer(emulator.Options{Clock: newFake(), Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
		Name: "app", Clients: []emulator.SeedClient{{Name: "web", ExplicitAuthFlows: []string{"ALLOW_CUSTOM_AUTH"}}}}}}})
	defer plain.Close()
	_, ae = call(t, plain, "InitiateAuth", map[string]any{"ClientId": plain.AppClient("app", "web").ID, "AuthFlow": "CUSTOM_AUTH", "AuthParameters": map[string]string{"USERNAME": "alice"}})
	wantErr(t, ae, "InvalidParameterException", "Custom auth lambda trigger is not configured for the user pool.")
}

// AdminInitiateAuth / AdminRespondToAuthChallenge run the same custom flow.
func TestCustomAuthAdmin(t *testing.T) {
	l := mathLambdas()
	srv, clientID := customServer(t, l, "")
	poolID := srv.PoolID("app")
	out := mustCall(t, srv, "AdminInitiateAuth", map[string]any{"UserPoolId": poolID, "ClientId": clientID, "AuthFlow": "CUSTOM_AUTH",
		"AuthParameters": map[string]string{"USERNAME": "alice"}, "ClientMetadata": map[string]string{"via": "admin"}})
	if out["ChallengeName"] != "CUSTOM_CHALLENGE" {
		t.Fatalf("AdminInitiateAuth = %v", out)
	}
	q := strMap(out["ChallengeParameters"])["question"]
	done := mustCall(t, srv, "AdminRespondToAuthChallenge", map[string]any{"UserPoolId": poolID, "ClientId": clientID,
		"ChallengeName": "CUSTOM_CHALLENGE", "Session": out["Session"], "ChallengeResponses": map[string]string{"USERNAME": "alice", "ANSWER": solve(t, q)},
		"ClientMetadata": map[string]string{"via": "admin-respond"}})
	if obj(done["AuthenticationResult"])["IdToken"] == nil {
		t.Fatalf("AdminRespondToAuthChallenge = %v", done)
	}
	if obj(obj(l.last(t, "DefineAuthChallenge_Authentication")["request"])["clientMetadata"])["via"] != "admin-respond" {
		t.Fatal("the request's ClientMetadata not passed on")
	}
}

// TestAmazonCognitoIdentityJSCustomAuth drives the custom flows with the
// JavaScript client most Cognito web apps were built on: CUSTOM_AUTH
// (initiateAuth, sendCustomChallengeAnswer) and CUSTOM_WITH_SRP (authenticateUser
// with the CUSTOM_AUTH flow type).
func TestAmazonCognitoIdentityJSCustomAuth(t *testing.T) {
	peers.Node(t, "amazon-cognito-identity-js")
	l := mathLambdas()
	srv, clientID := customServer(t, l, "")
	in, _ := json.Marshal(map[string]string{"endpoint": srv.URL + "/", "userPoolId": srv.PoolID("app"), "clientId": clientID,
		"username": "alice", "password": "Correct-Horse-1"})
	type flow struct {
		Seen     []string          `json:"seen"`
		Username string            `json:"username"`
		Error    map[string]string `json:"error"`
	}
	var out struct {
		Custom, CustomWithSRP, WrongPassword flow
	}
	if err := json.Unmarshal(peers.RunNode(t, "custom-auth.js", in), &out); err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]flow{"CUSTOM_AUTH": out.Custom, "CUSTOM_WITH_SRP": out.CustomWithSRP} {
		if f.Error != nil || f.Username != "alice" || len(f.Seen) != 2 {
			t.Errorf("%s: %+v", name, f)
		}
	}
	if out.WrongPassword.Error["code"] != "NotAuthorizedException" || len(out.WrongPassword.Seen) != 0 {
		t.Errorf("wrong password: %+v", out.WrongPassword)
	}
	session := obj(l.last(t, "DefineAuthChallenge_Authentication")["request"])["session"].([]any)
	if len(session) == 0 || obj(session[0])["challengeName"] != "SRP_A" {
		t.Errorf("the JS client's SRP flow did not reach Define as SRP_A: %v", session)
	}
}
