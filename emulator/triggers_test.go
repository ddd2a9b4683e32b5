package emulator_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cogauth/cogauth/emulator"
)

const (
	arnPre     = "arn:aws:lambda:us-east-1:000000000000:function:pre"
	arnPost    = "arn:aws:lambda:us-east-1:000000000000:function:post"
	arnToken   = "arn:aws:lambda:us-east-1:000000000000:function:token"
	arnMigrate = "arn:aws:lambda:us-east-1:000000000000:function:migrate"
	arnMessage = "arn:aws:lambda:us-east-1:000000000000:function:message"
	arnAuth    = "arn:aws:lambda:us-east-1:000000000000:function:auth"
)

// lambdas is an in-process trigger runner: one Go handler per function ARN, with
// every event it got.
type lambdas struct {
	mu       sync.Mutex
	handlers map[string]func(ev map[string]any) (map[string]any, error)
	events   []map[string]any
}

func (l *lambdas) fn(ctx context.Context, arn string, event []byte) ([]byte, error) {
	var ev map[string]any
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.events = append(l.events, ev)
	h := l.handlers[arn]
	l.mu.Unlock()
	if h == nil {
		return nil, errors.New("no handler for " + arn)
	}
	out, err := h(ev)
	if err != nil {
		return nil, err
	}
	if out == nil {
		return []byte("null"), nil
	}
	return json.Marshal(out)
}

func (l *lambdas) last(t *testing.T, source string) map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.events) - 1; i >= 0; i-- {
		if l.events[i]["triggerSource"] == source {
			return l.events[i]
		}
	}
	t.Fatalf("no %s event among %d", source, len(l.events))
	return nil
}

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }

// triggerServer starts an emulator whose pool "app" has the given LambdaConfig and
// whose functions are l's handlers, with a short trigger timeout.
func triggerServer(t *testing.T, l *lambdas, lc *emulator.LambdaConfig) (*emulator.Server, string, string) {
	t.Helper()
	srv := emulator.NewServer(emulator.Options{
		Clock: newFake(), Lambda: l.fn, LambdaTimeout: 200 * time.Millisecond,
		Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
			Name: "app", LambdaConfig: lc,
			Clients: []emulator.SeedClient{{Name: "web"}},
			Users: []emulator.SeedUser{{Username: "alice", Password: "Correct-Horse-1",
				Attributes: map[string]string{"email": "alice@example.com"}}},
		}}},
	})
	t.Cleanup(srv.Close)
	return srv, srv.PoolID("app"), srv.AppClient("app", "web").ID
}

func TestTriggerPreSignUpAutoConfirm(t *testing.T) {
	l := &lambdas{handlers: map[string]func(map[string]any) (map[string]any, error){
		arnPre: func(ev map[string]any) (map[string]any, error) {
			attrs := obj(obj(ev["request"])["userAttributes"])
			if email, _ := attrs["email"].(string); strings.HasSuffix(email, "@blocked.example") {
				return nil, errors.New("Sign-ups from this domain are closed")
			}
			r := obj(ev["response"])
			r["autoConfirmUser"], r["autoVerifyEmail"] = true, true
			return ev, nil
		},
		arnPost: func(ev map[string]any) (map[string]any, error) { return ev, nil },
	}}
	srv, poolID, clientID := triggerServer(t, l, &emulator.LambdaConfig{PreSignUp: arnPre, PostConfirmation: arnPost})

	out := mustCall(t, srv, "SignUp", map[string]any{"ClientId": clientID, "Username": "bob", "Password": "Correct-Horse-1",
		"UserAttributes": []map[string]string{{"Name": "email", "Value": "bob@example.com"}},
		"ValidationData": []map[string]string{{"Name": "invite", "Value": "x1"}},
		"ClientMetadata": map[string]string{"app": "web"},
	})
	if out["UserConfirmed"] != true || out["CodeDeliveryDetails"] != nil {
		t.Fatalf("SignUp = %v, want confirmed without a code", out)
	}
	ev := l.last(t, "PreSignUp_SignUp")
	req := obj(ev["request"])
	if ev["userName"] != "bob" || ev["userPoolId"] != poolID || ev["region"] != "us-east-1" || ev["version"] != "1" ||
		obj(ev["callerContext"])["clientId"] != clientID || obj(req["validationData"])["invite"] != "x1" ||
		obj(req["clientMetadata"])["app"] != "web" || obj(req["userAttributes"])["email"] != "bob@example.com" {
		t.Fatalf("event = %v", ev)
	}
	got := mustCall(t, srv, "AdminGetUser", map[string]any{"UserPoolId": poolID, "Username": "bob"})
	if got["UserStatus"] != "CONFIRMED" {
		t.Fatalf("status = %v", got["UserStatus"])
	}
	verified := false
	for _, a := range got["UserAttributes"].([]any) {
		if a := obj(a); a["Name"] == "email_verified" && a["Value"] == "true" {
			verified = true
		}
	}
	if !verified {
		t.Fatalf("email not verified: %v", got["UserAttributes"])
	}

	// A refusal is Cognito's UserLambdaValidationException, and no user is left.
	_, ae := call(t, srv, "SignUp", map[string]any{"ClientId": clientID, "Username": "mallory", "Password": "Correct-Horse-1",
		"UserAttributes": []map[string]string{{"Name": "email", "Value": "m@blocked.example"}}})
	wantErr(t, ae, "UserLambdaValidationException", "PreSignUp failed with error Sign-ups from this domain are closed.")
	_, ae = call(t, srv, "AdminGetUser", map[string]any{"UserPoolId": poolID, "Username": "mallory"})
	wantErr(t, ae, "UserNotFoundException", "")

	// AdminCreateUser has its own source; PostConfirmation runs on admin confirmation.
	mustCall(t, srv, "AdminCreateUser", map[string]any{"UserPoolId": poolID, "Username": "carol", "MessageAction": "SUPPRESS"})
	l.last(t, "PreSignUp_AdminCreateUser")
	inv := srv.Invocations(poolID)
	if len(inv) != 3 || inv[0].Outcome != "ok" || inv[1].Outcome != "function-error" || inv[2].TriggerSource != "PreSignUp_AdminCreateUser" || inv[2].Via != "in-process" {
		t.Fatalf("invocations = %+v", inv)
	}
}

func TestTriggerFailures(t *testing.T) {
	slow := make(chan struct{})
	t.Cleanup(func() { close(slow) })
	mode := "ok"
	ran := 0
	var mu sync.Mutex
	l := &lambdas{handlers: map[string]func(map[string]any) (map[string]any, error){
		arnPre: func(ev map[string]any) (map[string]any, error) {
			mu.Lock()
			m := mode
			ran++
			mu.Unlock()
			switch m {
			case "slow":
				<-slow
			case "null":
				return nil, nil
			case "wrong":
				obj(ev["response"])["autoConfirmUser"] = "yes"
			case "panic":
				panic("boom")
			}
			return ev, nil
		},
	}}
	srv, _, clientID := triggerServer(t, l, &emulator.LambdaConfig{PreSignUp: arnPre})
	signUp := func(name string) *apiError {
		_, ae := call(t, srv, "SignUp", map[string]any{"ClientId": clientID, "Username": name, "Password": "Correct-Horse-1"})
		return ae
	}
	set := func(m string) { mu.Lock(); mode = m; mu.Unlock() }

	set("slow")
	wantErr(t, signUp("u1"), "UnexpectedLambdaException", "PreSignUp invocation failed due to error Socket timeout while invoking Lambda function.")
	set("null")
	wantErr(t, signUp("u2"), "InvalidLambdaResponseException", "Invalid lambda function output : Invalid JSON")
	set("wrong")
	wantErr(t, signUp("u3"), "InvalidLambdaResponseException", "Unrecognizable lambda output")
	set("panic")
	wantErr(t, signUp("u4"), "UserLambdaValidationException", "PreSignUp failed with error panic: boom.")

	// The fault injector reaches triggers by their LambdaConfig name.
	set("ok")
	srv.InjectFault(emulator.TriggerFault("PreSignUp"), emulator.Fault{ErrName: "Error", Message: "injected"})
	wantErr(t, signUp("u5"), "UserLambdaValidationException", "PreSignUp failed with error injected.")
	runs := func() int { mu.Lock(); defer mu.Unlock(); return ran }
	n := runs()
	srv.InjectFault(emulator.TriggerFault("PreSignUp"), emulator.Fault{Drop: true})
	wantErr(t, signUp("u6"), "UnexpectedLambdaException", "PreSignUp invocation failed due to error")
	if runs() != n {
		t.Fatal("a before fault ran the function")
	}
	// After: the function runs (its side effects happen), its answer is lost.
	srv.InjectFault(emulator.TriggerFault("PreSignUp"), emulator.Fault{Drop: true, After: true})
	wantErr(t, signUp("u6"), "UnexpectedLambdaException", "PreSignUp invocation failed due to error")
	if runs() != n+1 {
		t.Fatal("an after fault did not run the function")
	}
	// Cut: the function runs, half its answer arrives.
	srv.InjectFault(emulator.TriggerFault("PreSignUp"), emulator.Fault{Cut: true})
	wantErr(t, signUp("u6"), "InvalidLambdaResponseException", "Invalid lambda function output : Invalid JSON")
	if runs() != n+2 {
		t.Fatal("a cut fault did not run the function")
	}
	srv.ClearFaults()
	if ae := signUp("u7"); ae != nil {
		t.Fatal(ae)
	}
	outcomes := []string{}
	for _, in := range srv.Invocations("") {
		outcomes = append(outcomes, in.Outcome)
	}
	want := "timeout invalid-response invalid-response function-error function-error unreachable unreachable invalid-response ok"
	if strings.Join(outcomes, " ") != want {
		t.Fatalf("outcomes = %v, want %s", outcomes, want)
	}
}

// A function may call the emulator back while it runs (the lock is released).
func TestTriggerCallsBack(t *testing.T) {
	var srv *emulator.Server
	var poolID string
	l := &lambdas{}
	l.handlers = map[string]func(map[string]any) (map[string]any, error){
		arnPost: func(ev map[string]any) (map[string]any, error) {
			return ev, srv.AddUser(poolID, emulator.SeedUser{Username: "audit-" + ev["userName"].(string), Password: "Correct-Horse-1"})
		},
	}
	srv, poolID, clientID := triggerServer(t, l, &emulator.LambdaConfig{PostConfirmation: arnPost})
	mustCall(t, srv, "SignUp", map[string]any{"ClientId": clientID, "Username": "dave", "Password": "Correct-Horse-1",
		"UserAttributes": []map[string]string{{"Name": "email", "Value": "dave@example.com"}}})
	code, _ := srv.LastCode(poolID, "dave")
	mustCall(t, srv, "ConfirmSignUp", map[string]any{"ClientId": clientID, "Username": "dave", "ConfirmationCode": code})
	ev := l.last(t, "PostConfirmation_ConfirmSignUp")
	if obj(obj(ev["request"])["userAttributes"])["cognito:user_status"] != "CONFIRMED" {
		t.Fatalf("event = %v", ev)
	}
	mustCall(t, srv, "AdminGetUser", map[string]any{"UserPoolId": poolID, "Username": "audit-dave"})
}

func TestTriggerPreTokenGeneration(t *testing.T) {
	for _, version := range []string{"V1_0", "V2_0"} {
		t.Run(version, func(t *testing.T) {
			l := &lambdas{handlers: map[string]func(map[string]any) (map[string]any, error){
				arnToken: func(ev map[string]any) (map[string]any, error) {
					if version == "V1_0" {
						ev["response"] = map[string]any{"claimsOverrideDetails": map[string]any{
							"claimsToAddOrOverride": map[string]any{"tenant": "acme", "sub": "forged"},
							"claimsToSuppress":      []string{"email"},
							"groupOverrideDetails":  map[string]any{"groupsToOverride": []string{"admins"}},
						}}
						return ev, nil
					}
					ev["response"] = map[string]any{"claimsAndScopeOverrideDetails": map[string]any{
						"idTokenGeneration": map[string]any{"claimsToAddOrOverride": map[string]any{"tenant": map[string]any{"id": 7}}},
						"accessTokenGeneration": map[string]any{
							"claimsToAddOrOverride": map[string]any{"plan": "gold", "client_id": "forged"},
							"scopesToAdd":           []string{"orders/read"},
						},
					}}
					return ev, nil
				},
			}}
			srv, poolID, clientID := triggerServer(t, l, &emulator.LambdaConfig{
				PreTokenGenerationConfig: &emulator.VersionedLambda{LambdaVersion: version, LambdaArn: arnToken}})
			out := mustCall(t, srv, "InitiateAuth", map[string]any{"ClientId": clientID, "AuthFlow": "USER_PASSWORD_AUTH",
				"AuthParameters": map[string]string{"USERNAME": "alice", "PASSWORD": "Correct-Horse-1"}})
			res := obj(out["AuthenticationResult"])
			id, access := claimsOf(t, res["IdToken"].(string)), claimsOf(t, res["AccessToken"].(string))
			ev := l.last(t, "TokenGeneration_Authentication")
			if version == "V1_0" {
				if id["tenant"] != "acme" || id["email"] != nil || id["sub"] == "forged" || access["tenant"] != nil {
					t.Fatalf("id = %v access = %v", id, access)
				}
				if g, _ := access["cognito:groups"].([]any); len(g) != 1 || g[0] != "admins" {
					t.Fatalf("access groups = %v", access["cognito:groups"])
				}
				if ev["version"] != "1" || obj(ev["request"])["scopes"] != nil {
					t.Fatalf("event = %v", ev)
				}
			} else {
				if tenant, _ := id["tenant"].(map[string]any); tenant["id"] != float64(7) || access["plan"] != "gold" || access["client_id"] != clientID ||
					access["scope"] != "aws.cognito.signin.user.admin orders/read" {
					t.Fatalf("id = %v access = %v", id, access)
				}
				if ev["version"] != "2" || len(obj(ev["request"])["scopes"].([]any)) != 1 {
					t.Fatalf("event = %v", ev)
				}
				inv := srv.Invocations(poolID)
				if n := inv[len(inv)-1].Notes; len(n) != 1 || !strings.Contains(n[0], "client_id") {
					t.Fatalf("notes = %v", n)
				}
			}
			if obj(obj(ev["request"])["userAttributes"])["email"] != "alice@example.com" {
				t.Fatalf("event = %v", ev)
			}
			// Refreshes run it too, with their own source.
			mustCall(t, srv, "InitiateAuth", map[string]any{"ClientId": clientID, "AuthFlow": "REFRESH_TOKEN_AUTH",
				"AuthParameters": map[string]string{"REFRESH_TOKEN": res["RefreshToken"].(string)}})
			l.last(t, "TokenGeneration_RefreshTokens")
		})
	}
}

func TestTriggerUserMigrationAndMessages(t *testing.T) {
	legacy := map[string]string{"olduser": "Legacy-Pass-1"}
	l := &lambdas{handlers: map[string]func(map[string]any) (map[string]any, error){
		arnMigrate: func(ev map[string]any) (map[string]any, error) {
			name := ev["userName"].(string)
			pw, ok := legacy[name]
			if !ok {
				return nil, errors.New("Bad user")
			}
			if ev["triggerSource"] == "UserMigration_Authentication" && obj(ev["request"])["password"] != pw {
				return nil, errors.New("Bad password")
			}
			ev["response"] = map[string]any{"userAttributes": map[string]string{"email": name + "@legacy.example", "email_verified": "true"},
				"finalUserStatus": "CONFIRMED", "messageAction": "SUPPRESS"}
			return ev, nil
		},
		arnMessage: func(ev map[string]any) (map[string]any, error) {
			r := obj(ev["response"])
			r["emailSubject"] = "Welcome to Acme"
			r["emailMessage"] = "Hello " + ev["userName"].(string) + ", your code is " + obj(ev["request"])["codeParameter"].(string)
			return ev, nil
		},
	}}
	srv, poolID, clientID := triggerServer(t, l, &emulator.LambdaConfig{UserMigration: arnMigrate, CustomMessage: arnMessage})
	login := func(name, pw string) (map[string]any, *apiError) {
		return call(t, srv, "InitiateAuth", map[string]any{"ClientId": clientID, "AuthFlow": "USER_PASSWORD_AUTH",
			"AuthParameters": map[string]string{"USERNAME": name, "PASSWORD": pw}})
	}
	_, ae := login("olduser", "wrong")
	wantErr(t, ae, "UserNotFoundException", "Exception migrating user in app client "+clientID)
	if _, ae := login("olduser", "Legacy-Pass-1"); ae != nil {
		t.Fatal(ae)
	}
	ev := l.last(t, "UserMigration_Authentication")
	for _, in := range srv.Invocations(poolID) {
		if strings.Contains(string(in.Event), "Legacy-Pass-1") || strings.Contains(string(in.Event), `"wrong"`) {
			t.Fatalf("password kept in the invocation log: %s", in.Event)
		}
	}
	_ = ev
	// Now a pool user: the second sign-in needs no function.
	if _, ae := login("olduser", "Legacy-Pass-1"); ae != nil {
		t.Fatal(ae)
	}
	// Forgot password goes through CustomMessage.
	mustCall(t, srv, "ForgotPassword", map[string]any{"ClientId": clientID, "Username": "olduser"})
	msgs := srv.Messages(poolID, "olduser")
	m := msgs[len(msgs)-1]
	if m.Subject != "Welcome to Acme" || m.Body != "Hello olduser, your code is "+m.Code || m.Kind != "FORGOT_PASSWORD" {
		t.Fatalf("message = %+v", m)
	}
	l.last(t, "CustomMessage_ForgotPassword")
}

// The admin endpoint lists invocations (and hides the password).
func TestTriggerAdminEndpoint(t *testing.T) {
	l := &lambdas{handlers: map[string]func(map[string]any) (map[string]any, error){
		arnPre: func(ev map[string]any) (map[string]any, error) { return ev, nil },
	}}
	srv, poolID, clientID := triggerServer(t, l, &emulator.LambdaConfig{PreSignUp: arnPre})
	mustCall(t, srv, "SignUp", map[string]any{"ClientId": clientID, "Username": "erin", "Password": "Correct-Horse-1"})
	resp, err := http.Get(srv.URL + "/_emulator/lambda/invocations?poolId=" + poolID)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Invocations []emulator.Invocation `json:"invocations"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if len(got.Invocations) != 1 || got.Invocations[0].TriggerSource != "PreSignUp_SignUp" || got.Invocations[0].Function != arnPre {
		t.Fatalf("invocations = %+v", got.Invocations)
	}
}
