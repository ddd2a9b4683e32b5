package emulator_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/internal/peers"
)

const (
	arnEmailSender = "arn:aws:lambda:us-east-1:000000000000:function:email-sender"
	arnSMSSender   = "arn:aws:lambda:us-east-1:000000000000:function:sms-sender"
)

// A pool with custom senders invokes them with the code instead of sending its own
// message (and runs no CustomMessage for their medium).
func TestTriggerCustomSenders(t *testing.T) {
	var fail bool
	l := &lambdas{}
	delivered := map[string]string{} // triggerSource -> decoded code
	sender := func(ev map[string]any) (map[string]any, error) {
		if fail {
			return nil, errors.New("provider down")
		}
		raw, _ := obj(ev["request"])["code"].(string)
		code, err := base64.StdEncoding.DecodeString(raw)
		if err != nil {
			return nil, err
		}
		delivered[ev["triggerSource"].(string)] = string(code)
		return ev, nil
	}
	l.handlers = map[string]func(map[string]any) (map[string]any, error){
		arnEmailSender: sender, arnSMSSender: sender,
		arnMessage: func(ev map[string]any) (map[string]any, error) { return ev, nil },
	}
	srv, pool, web := triggerServer(t, l, &emulator.LambdaConfig{
		CustomMessage:     arnMessage,
		CustomEmailSender: &emulator.VersionedLambda{LambdaVersion: "V1_0", LambdaArn: arnEmailSender},
		CustomSMSSender:   &emulator.VersionedLambda{LambdaVersion: "V1_0", LambdaArn: arnSMSSender},
		KMSKeyID:          "arn:aws:kms:us-east-1:000000000000:key/test",
	})

	out := mustCall(t, srv, "SignUp", map[string]any{"ClientId": web, "Username": "bob", "Password": "Correct-Horse-1",
		"UserAttributes": []map[string]string{{"Name": "email", "Value": "bob@example.com"}},
		"ClientMetadata": map[string]string{"app": "web"}})
	if d := obj(out["CodeDeliveryDetails"]); d["DeliveryMedium"] != "EMAIL" {
		t.Fatalf("delivery details %v", d)
	}
	code, _ := srv.LastCode(pool, "bob")
	if code == "" || delivered["CustomEmailSender_SignUp"] != code {
		t.Fatalf("sender got %q, the code is %q", delivered["CustomEmailSender_SignUp"], code)
	}
	ev := l.last(t, "CustomEmailSender_SignUp")
	req := obj(ev["request"])
	if req["type"] != "customEmailSenderRequestV1" || obj(req["clientMetadata"])["app"] != "web" ||
		obj(req["userAttributes"])["email"] != "bob@example.com" || ev["userName"] != "bob" || ev["version"] != "1" {
		t.Fatalf("sign-up sender event %v", ev)
	}
	if msgs := srv.Messages(pool, "bob"); len(msgs) != 1 || msgs[0].Body != "" || msgs[0].Subject != "" {
		t.Fatalf("outbox with a custom sender: %+v", msgs)
	}
	mustCall(t, srv, "ResendConfirmationCode", map[string]any{"ClientId": web, "Username": "bob"})
	if c, _ := srv.LastCode(pool, "bob"); delivered["CustomEmailSender_ResendCode"] != c {
		t.Fatalf("resend: sender got %q, the code is %q", delivered["CustomEmailSender_ResendCode"], c)
	}
	mustCall(t, srv, "ForgotPassword", map[string]any{"ClientId": web, "Username": "alice"})
	if c, _ := srv.LastCode(pool, "alice"); delivered["CustomEmailSender_ForgotPassword"] != c {
		t.Fatalf("forgot password: sender got %q, the code is %q", delivered["CustomEmailSender_ForgotPassword"], c)
	}
	mustCall(t, srv, "AdminCreateUser", map[string]any{"UserPoolId": pool, "Username": "dora", "DesiredDeliveryMediums": []string{"EMAIL"},
		"UserAttributes": []map[string]string{{"Name": "email", "Value": "dora@example.com"}}})
	if c, _ := srv.LastCode(pool, "dora"); c == "" || delivered["CustomEmailSender_AdminCreateUser"] != c {
		t.Fatalf("admin create: sender got %q, the temporary password is %q", delivered["CustomEmailSender_AdminCreateUser"], c)
	}

	// SMS goes to the SMS sender, with its own request type.
	mustCall(t, srv, "AdminCreateUser", map[string]any{"UserPoolId": pool, "Username": "carl", "DesiredDeliveryMediums": []string{"SMS"},
		"UserAttributes": []map[string]string{{"Name": "phone_number", "Value": "+15555550123"}}})
	if c, _ := srv.LastCode(pool, "carl"); c == "" || delivered["CustomSMSSender_AdminCreateUser"] != c {
		t.Fatalf("SMS admin create: sender got %q, the code is %q", delivered["CustomSMSSender_AdminCreateUser"], c)
	}
	if typ := obj(l.last(t, "CustomSMSSender_AdminCreateUser")["request"])["type"]; typ != "customSMSSenderRequestV1" {
		t.Fatalf("SMS request type %v", typ)
	}

	// CustomMessage never ran: each medium has its sender.
	for _, in := range srv.Invocations(pool) {
		if in.Trigger == "CustomMessage" {
			t.Fatalf("CustomMessage invoked beside a custom sender: %s", in.TriggerSource)
		}
		if strings.Contains(string(in.Event), code) {
			t.Fatalf("an invocation record holds the code: %s", in.Event)
		}
	}

	// A failing sender fails the operation with the trigger errors.
	fail = true
	_, ae := call(t, srv, "ForgotPassword", map[string]any{"ClientId": web, "Username": "alice"})
	wantErr(t, ae, "UserLambdaValidationException", "CustomEmailSender failed with error provider down.")
	// The fault injector reaches the senders too.
	fail = false
	srv.InjectFault(emulator.TriggerFault("CustomSMSSender"), emulator.Fault{Drop: true})
	_, ae = call(t, srv, "AdminCreateUser", map[string]any{"UserPoolId": pool, "Username": "carl", "MessageAction": "RESEND", "DesiredDeliveryMediums": []string{"SMS"}})
	wantErr(t, ae, "UnexpectedLambdaException", "CustomSMSSender invocation failed due to error")
}

// The custom senders as Python handlers behind the Lambda Invoke API
// (test/python/lambda_server.py), written against Cognito's documented event.
func TestTriggerCustomSendersFromPython(t *testing.T) {
	py := peers.Python(t)
	lambdaURL := startLambdaServer(t, py)
	srv := emulator.NewServer(emulator.Options{LambdaEndpoint: lambdaURL, Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
		Name: "app", Clients: []emulator.SeedClient{{Name: "web"}},
		LambdaConfig: &emulator.LambdaConfig{
			CustomEmailSender: &emulator.VersionedLambda{LambdaVersion: "V1_0", LambdaArn: "arn:aws:lambda:us-east-1:000000000000:function:email_sender"},
			CustomSMSSender:   &emulator.VersionedLambda{LambdaVersion: "V1_0", LambdaArn: "arn:aws:lambda:us-east-1:000000000000:function:sms_sender"},
			KMSKeyID:          "arn:aws:kms:us-east-1:000000000000:key/test",
		},
	}}}})
	t.Cleanup(srv.Close)
	pool, web := srv.PoolID("app"), srv.AppClient("app", "web").ID
	mustCall(t, srv, "SignUp", map[string]any{"ClientId": web, "Username": "bob", "Password": "Correct-Horse-1",
		"UserAttributes": []map[string]string{{"Name": "email", "Value": "bob@example.com"}},
		"ClientMetadata": map[string]string{"app": "web"}})
	mustCall(t, srv, "AdminCreateUser", map[string]any{"UserPoolId": pool, "Username": "carl", "DesiredDeliveryMediums": []string{"SMS"},
		"UserAttributes": []map[string]string{{"Name": "phone_number", "Value": "+15555550123"}}})
	bobCode, _ := srv.LastCode(pool, "bob")
	carlCode, _ := srv.LastCode(pool, "carl")

	resp, err := http.Get(lambdaURL + "/delivered")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Delivered []struct {
			TriggerSource, UserName, To, Code string
			ClientMetadata                    map[string]string
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if len(out.Delivered) != 2 {
		t.Fatalf("delivered %+v", out.Delivered)
	}
	e, s := out.Delivered[0], out.Delivered[1]
	if e.TriggerSource != "CustomEmailSender_SignUp" || e.UserName != "bob" || e.To != "bob@example.com" || e.Code != bobCode || bobCode == "" || e.ClientMetadata["app"] != "web" {
		t.Errorf("e-mail sender delivered %+v (code %t)", e, e.Code == bobCode)
	}
	if s.TriggerSource != "CustomSMSSender_AdminCreateUser" || s.To != "+15555550123" || s.Code != carlCode || carlCode == "" {
		t.Errorf("SMS sender delivered %+v (code %t)", s, s.Code == carlCode)
	}
}
