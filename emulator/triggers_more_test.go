package emulator_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cogauth/cogauth/emulator"
)

// Version 3 runs for client_credentials tokens too (userName null); version 2 does not.
func TestTriggerPreTokenGenerationM2M(t *testing.T) {
	for _, version := range []string{"V2_0", "V3_0"} {
		t.Run(version, func(t *testing.T) {
			l := &lambdas{handlers: map[string]func(map[string]any) (map[string]any, error){
				arnToken: func(ev map[string]any) (map[string]any, error) {
					ev["response"] = map[string]any{"claimsAndScopeOverrideDetails": map[string]any{
						"accessTokenGeneration": map[string]any{"claimsToAddOrOverride": map[string]any{"tenant": "acme"},
							"scopesToAdd": []string{"orders/audit"}, "scopesToSuppress": []string{"orders/write"}},
					}}
					return ev, nil
				},
			}}
			srv := emulator.NewServer(emulator.Options{
				Clock: newFake(), Lambda: l.fn, LambdaTimeout: 200 * time.Millisecond,
				Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
					Name:         "app",
					LambdaConfig: &emulator.LambdaConfig{PreTokenGenerationConfig: &emulator.VersionedLambda{LambdaVersion: version, LambdaArn: arnToken}},
					Clients: []emulator.SeedClient{{Name: "m2m", GenerateSecret: true, AllowedOAuthFlows: []string{"client_credentials"},
						AllowedOAuthScopes: []string{"orders/read", "orders/write"}}},
				}}},
			})
			defer srv.Close()
			m2m := srv.AppClient("app", "m2m")
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/oauth2/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(m2m.ID, m2m.Secret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out struct {
				AccessToken string `json:"access_token"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
				t.Fatalf("token: %d %v", resp.StatusCode, err)
			}
			c := claimsOf(t, out.AccessToken)
			if version == "V2_0" {
				if c["tenant"] != nil || len(l.events) != 0 {
					t.Fatalf("V2 ran for a machine token: %v", c)
				}
				return
			}
			if c["tenant"] != "acme" || c["scope"] != "orders/read orders/audit" || c["client_id"] != m2m.ID {
				t.Fatalf("claims = %v", c)
			}
			ev := l.last(t, "TokenGeneration_ClientCredentials")
			if ev["userName"] != nil || ev["version"] != "3" || obj(ev["callerContext"])["clientId"] != m2m.ID {
				t.Fatalf("event = %v", ev)
			}
		})
	}
}

func TestTriggerPreAndPostAuthentication(t *testing.T) {
	blocked := map[string]bool{}
	var mu sync.Mutex
	l := &lambdas{handlers: map[string]func(map[string]any) (map[string]any, error){
		arnPre: func(ev map[string]any) (map[string]any, error) {
			mu.Lock()
			defer mu.Unlock()
			if blocked[ev["userName"].(string)] {
				return nil, errors.New("User is blocked")
			}
			return ev, nil
		},
		arnPost: func(ev map[string]any) (map[string]any, error) { return ev, nil },
	}}
	srv, _, clientID := triggerServer(t, l, &emulator.LambdaConfig{PreAuthentication: arnPre, PostAuthentication: arnPost})
	login := func() *apiError {
		_, ae := call(t, srv, "InitiateAuth", map[string]any{"ClientId": clientID, "AuthFlow": "USER_PASSWORD_AUTH",
			"AuthParameters": map[string]string{"USERNAME": "alice", "PASSWORD": "Correct-Horse-1"}, "ClientMetadata": map[string]string{"ip": "10.0.0.1"}})
		return ae
	}
	if ae := login(); ae != nil {
		t.Fatal(ae)
	}
	pre := l.last(t, "PreAuthentication_Authentication")
	if obj(obj(pre["request"])["validationData"])["ip"] != "10.0.0.1" || obj(pre["request"])["userNotFound"] != false {
		t.Fatalf("pre event = %v", pre)
	}
	post := l.last(t, "PostAuthentication_Authentication")
	if obj(post["request"])["newDeviceUsed"] != false || obj(obj(post["request"])["clientMetadata"])["ip"] != "10.0.0.1" {
		t.Fatalf("post event = %v", post)
	}
	mu.Lock()
	blocked["alice"] = true
	mu.Unlock()
	wantErr(t, login(), "UserLambdaValidationException", "PreAuthentication failed with error User is blocked.")
	// SRP sign-ins run it at InitiateAuth too.
	_, ae := call(t, srv, "InitiateAuth", map[string]any{"ClientId": clientID, "AuthFlow": "USER_SRP_AUTH",
		"AuthParameters": map[string]string{"USERNAME": "alice", "SRP_A": "abc123"}})
	wantErr(t, ae, "UserLambdaValidationException", "PreAuthentication failed with error User is blocked.")
}

func TestTriggerCustomMessageKinds(t *testing.T) {
	l := &lambdas{handlers: map[string]func(map[string]any) (map[string]any, error){
		arnMessage: func(ev map[string]any) (map[string]any, error) {
			req, r := obj(ev["request"]), obj(ev["response"])
			switch ev["triggerSource"] {
			case "CustomMessage_AdminCreateUser":
				r["emailSubject"] = "Your Acme account"
				r["emailMessage"] = "Sign in as " + req["usernameParameter"].(string) + " with " + req["codeParameter"].(string)
			case "CustomMessage_SignUp":
				r["emailMessage"] = "No code here" // Cognito falls back to its default
			}
			return ev, nil
		},
	}}
	srv, poolID, clientID := triggerServer(t, l, &emulator.LambdaConfig{CustomMessage: arnMessage})
	mustCall(t, srv, "AdminCreateUser", map[string]any{"UserPoolId": poolID, "Username": "frank",
		"UserAttributes": []map[string]string{{"Name": "email", "Value": "frank@example.com"}}})
	m := srv.Messages(poolID, "frank")[0]
	if m.Subject != "Your Acme account" || m.Body != "Sign in as frank with "+m.Code {
		t.Fatalf("message = %+v", m)
	}
	if ev := l.last(t, "CustomMessage_AdminCreateUser"); obj(ev["callerContext"])["clientId"] != "CLIENT_ID_NOT_APPLICABLE" {
		t.Fatalf("event = %v", ev)
	}
	mustCall(t, srv, "SignUp", map[string]any{"ClientId": clientID, "Username": "gina", "Password": "Correct-Horse-1",
		"UserAttributes": []map[string]string{{"Name": "email", "Value": "gina@example.com"}}})
	m = srv.Messages(poolID, "gina")[0]
	if m.Body != "Your verification code is "+m.Code+"." {
		t.Fatalf("message = %+v", m)
	}
	inv := srv.Invocations(poolID)
	if n := inv[len(inv)-1].Notes; len(n) != 1 || !strings.Contains(n[0], "{####}") {
		t.Fatalf("notes = %v", n)
	}
	mustCall(t, srv, "ResendConfirmationCode", map[string]any{"ClientId": clientID, "Username": "gina"})
	l.last(t, "CustomMessage_ResendCode")
}

// A seed's lambdaFunctions send one ARN to its own Invoke API, under the name the
// endpoint knows, with the ARN's qualifier.
func TestTriggerSeedRoute(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.RequestURI()+" "+r.Header.Get("X-Amz-Invocation-Type"))
		mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		if strings.Contains(r.URL.Path, "Broken") {
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
			_, _ = w.Write([]byte(`{"errorMessage":"kaput","errorType":"Error"}`))
			return
		}
		_, _ = w.Write(body)
	}))
	defer api.Close()
	const qualified = "arn:aws:lambda:us-east-1:000000000000:function:pre:live"
	srv := emulator.NewServer(emulator.Options{
		Clock: newFake(), LambdaTimeout: time.Second,
		Seed: &emulator.Seed{
			LambdaFunctions: map[string]emulator.LambdaRoute{
				qualified: {Endpoint: api.URL, FunctionName: "PreSignUpFunction"},
				arnPost:   {Endpoint: api.URL + "/", FunctionName: "Broken"},
			},
			UserPools: []emulator.SeedUserPool{{Name: "app", Clients: []emulator.SeedClient{{Name: "web"}},
				LambdaConfig: &emulator.LambdaConfig{PreSignUp: qualified, PostConfirmation: arnPost}}},
		},
	})
	defer srv.Close()
	clientID := srv.AppClient("app", "web").ID
	mustCall(t, srv, "SignUp", map[string]any{"ClientId": clientID, "Username": "hal", "Password": "Correct-Horse-1"})
	_, ae := call(t, srv, "AdminConfirmSignUp", map[string]any{"UserPoolId": srv.PoolID("app"), "Username": "hal"})
	wantErr(t, ae, "UserLambdaValidationException", "PostConfirmation failed with error kaput.")
	mu.Lock()
	defer mu.Unlock()
	want := []string{
		"/2015-03-31/functions/PreSignUpFunction/invocations?Qualifier=live RequestResponse",
		"/2015-03-31/functions/Broken/invocations RequestResponse",
	}
	if strings.Join(paths, "\n") != strings.Join(want, "\n") {
		t.Fatalf("paths = %q", paths)
	}
	// A configured trigger with no way to run it is Cognito's "function not found".
	if err := srv.SetLambdaRoute(qualified, emulator.LambdaRoute{}); err != nil {
		t.Fatal(err)
	}
	_, ae = call(t, srv, "SignUp", map[string]any{"ClientId": clientID, "Username": "ivy", "Password": "Correct-Horse-1"})
	wantErr(t, ae, "UnexpectedLambdaException", "PreSignUp invocation failed due to error ResourceNotFoundException.")
	if err := srv.SetLambdaRoute(qualified, emulator.LambdaRoute{Endpoint: "ftp://x"}); err == nil {
		t.Fatal("an ftp endpoint was accepted")
	}
}

// The hosted UI's sign-in form runs Pre- and PostAuthentication, and the code it
// hands out gets tokens shaped by PreTokenGeneration (TokenGeneration_HostedAuth).
func TestTriggerHostedUI(t *testing.T) {
	var refuse sync.Map
	l := &lambdas{handlers: map[string]func(map[string]any) (map[string]any, error){
		arnPre: func(ev map[string]any) (map[string]any, error) {
			if _, no := refuse.Load(ev["userName"]); no {
				return nil, errors.New("Not from this network")
			}
			return ev, nil
		},
		arnPost: func(ev map[string]any) (map[string]any, error) { return ev, nil },
		arnToken: func(ev map[string]any) (map[string]any, error) {
			ev["response"] = map[string]any{"claimsOverrideDetails": map[string]any{"claimsToAddOrOverride": map[string]string{"via": "hosted"}}}
			return ev, nil
		},
	}}
	srv := emulator.NewServer(emulator.Options{Clock: newFake(), Lambda: l.fn, LambdaTimeout: 200 * time.Millisecond,
		Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
			Name:         "hosted",
			LambdaConfig: &emulator.LambdaConfig{PreAuthentication: arnPre, PostAuthentication: arnPost, PreTokenGeneration: arnToken},
			Clients: []emulator.SeedClient{{Name: "spa", AllowedOAuthFlows: []string{"code"}, AllowedOAuthScopes: []string{"openid", "email"},
				CallbackURLs: []string{callback}}},
			Users: []emulator.SeedUser{{Username: oauthUser, Password: oauthPassword, Attributes: map[string]string{"email": "carol@example.com"}}},
		}}}})
	defer srv.Close()
	f := &oauthFixture{srv: srv, pool: srv.PoolID("hosted")}
	spa := srv.AppClient("hosted", "spa").ID
	code, _ := signInCode(t, f, browser(t), authorizeURL(f, spa, nil))
	l.last(t, "PreAuthentication_Authentication")
	l.last(t, "PostAuthentication_Authentication")
	status, out := postToken(t, f, "/oauth2/token", codeForm(code, callback, verifier), spa, "")
	if status != http.StatusOK {
		t.Fatalf("token: %d %v", status, out)
	}
	if c := claimsOf(t, out["id_token"].(string)); c["via"] != "hosted" {
		t.Fatalf("id token claims = %v", c)
	}
	l.last(t, "TokenGeneration_HostedAuth")

	refuse.Store(oauthUser, true)
	c := browser(t)
	resp, _ := get(t, c, authorizeURL(f, spa, nil))
	loginURL := resp.Request.URL.ResolveReference(mustURL(t, resp.Header.Get("Location"))).String()
	_, page := get(t, c, loginURL)
	resp, body := submitLogin(t, c, loginURL, page, oauthUser, oauthPassword)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "PreAuthentication failed with error Not from this network.") {
		t.Fatalf("refused sign-in: %d %s", resp.StatusCode, body)
	}
}
