package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cogauth/cogauth/clock"
)

const victimMarker = "VICTIM-MARKER-7f3a9c"

// fuzzEmulator is an emulator with an attacker (alice, signed in) and a victim whose
// data must never show up in answers to user-facing calls.
func fuzzEmulator(f *testing.F) (*Emulator, []string, string, string) {
	f.Helper()
	e, err := New(Options{Clock: clock.NewFake(time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)), Seed: &Seed{UserPools: []SeedUserPool{{
		Name: "app", ID: "us-east-1_Fuzz", MFA: "OPTIONAL", SMSMFA: true,
		DeviceTracking: &DeviceConfig{},
		Clients:        []SeedClient{{Name: "web", ID: "webclient"}},
		Users: []SeedUser{
			{Username: "alice", Password: "Correct-Horse-1", Attributes: map[string]string{"email": "alice@example.com"}},
			{Username: "victim", Password: "Victim-Pass-1", Attributes: map[string]string{"email": "v@example.com", "custom:secret": victimMarker, "phone_number": "+15555550100"}},
		},
	}}}})
	if err != nil {
		f.Fatal(err)
	}
	rec := httptest.NewRecorder()
	body := `{"AuthFlow":"USER_PASSWORD_AUTH","ClientId":"webclient","AuthParameters":{"USERNAME":"alice","PASSWORD":"Correct-Horse-1"}}`
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("X-Amz-Target", idpService+"InitiateAuth")
	e.ServeHTTP(rec, req)
	var out struct{ AuthenticationResult tokenSet }
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.AuthenticationResult.AccessToken == "" {
		f.Fatalf("sign-in: %s", rec.Body.String())
	}
	var ops []string
	for t := range e.ops {
		ops = append(ops, t)
	}
	sort.Strings(ops)
	return e, ops, out.AuthenticationResult.AccessToken, e.UserSub("us-east-1_Fuzz", "victim")
}

// userFacing lists the operations an end user calls without AWS credentials; their
// answers must never carry another user's data. (Admin and set-up calls return any
// user's data by design.)
var userFacing = map[string]bool{
	"SignUp": true, "ConfirmSignUp": true, "ResendConfirmationCode": true, "ForgotPassword": true,
	"ConfirmForgotPassword": true, "ChangePassword": true, "GetUser": true, "UpdateUserAttributes": true,
	"DeleteUser": true, "GlobalSignOut": true, "InitiateAuth": true, "RespondToAuthChallenge": true,
	"GetTokensFromRefreshToken": true, "RevokeToken": true, "AssociateSoftwareToken": true,
	"VerifySoftwareToken": true, "SetUserMFAPreference": true, "ConfirmDevice": true, "GetDevice": true,
	"ListDevices": true, "ForgetDevice": true, "UpdateDeviceStatus": true,
	"GetId": true, "GetCredentialsForIdentity": true, "GetOpenIdToken": true,
	"StartWebAuthnRegistration": true, "CompleteWebAuthnRegistration": true, "ListWebAuthnCredentials": true,
	"DeleteWebAuthnCredential": true,
}

// FuzzOperations sends arbitrary bodies to every registered operation: the server
// must answer (never panic), always with JSON, and never leak the victim's data to
// a user-facing call.
func FuzzOperations(f *testing.F) {
	e, ops, access, victimSub := fuzzEmulator(f)
	seeds := []string{
		`{}`, `{`, `null`, `[]`, `{"UserPoolId":"us-east-1_Fuzz"}`,
		`{"AccessToken":"ACCESS"}`,
		`{"AccessToken":"ACCESS","UserAttributes":[{"Name":"custom:secret","Value":"x"}]}`,
		`{"ClientId":"webclient","AuthFlow":"USER_SRP_AUTH","AuthParameters":{"USERNAME":"victim","SRP_A":"01"}}`,
		`{"ClientId":"webclient","AuthFlow":"USER_PASSWORD_AUTH","AuthParameters":{"USERNAME":"victim","PASSWORD":"x"}}`,
		`{"ClientId":"webclient","AuthFlow":"REFRESH_TOKEN_AUTH","AuthParameters":{"REFRESH_TOKEN":"a.b.c.d.e"}}`,
		`{"ClientId":"webclient","ChallengeName":"PASSWORD_VERIFIER","ChallengeResponses":{"USERNAME":"victim"}}`,
		`{"ClientId":"webclient","Username":"victim","Password":"Pass-word-1","UserAttributes":[{"Name":"email","Value":"x@y"}]}`,
		`{"UserPoolId":"us-east-1_Fuzz","Filter":"email ^= \"v\""}`,
		`{"AccessToken":"ACCESS","DeviceKey":"us-east-1_x"}`,
		`{"MaxResults":60}`,
		`{"PoolName":"p","AutoVerifiedAttributes":["email"],"UserAttributeUpdateSettings":{"AttributesRequireVerificationBeforeUpdate":["email"]}}`,
		`{"UserPoolId":"us-east-1_Fuzz","UserAttributeUpdateSettings":{"AttributesRequireVerificationBeforeUpdate":[1]}}`,
		`{"AccessToken":"ACCESS","UserAttributeNames":["email","sub","custom:x"]}`,
	}
	for i := range ops {
		f.Add(uint16(i), seeds[i%len(seeds)])
		f.Add(uint16(i), `{"AccessToken":"ACCESS"}`)
	}
	f.Fuzz(func(t *testing.T, opIndex uint16, body string) {
		if strings.Contains(body, victimMarker) {
			return
		}
		op := ops[int(opIndex)%len(ops)]
		body = strings.ReplaceAll(body, "ACCESS", access)
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", op)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != 200 && rec.Code != 400 {
			t.Fatalf("%s: status %d: %s", op, rec.Code, rec.Body.String())
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s: answer is not JSON: %q", op, rec.Body.String())
		}
		if userFacing[shortOp(op)] && (bytes.Contains(rec.Body.Bytes(), []byte(victimMarker)) || bytes.Contains(rec.Body.Bytes(), []byte(victimSub))) {
			t.Fatalf("%s leaked the victim's data: %s", op, rec.Body.String())
		}
	})
}

func FuzzListUsersFilter(f *testing.F) {
	for _, s := range []string{``, `email = "a@b"`, `username ^= "al"`, `cognito:user_status = "CONFIRMED"`, `status = "Enabled"`, `name = "x\"y"`, `email = "`, `bogus = "x"`} {
		f.Add(s)
	}
	u := &user{Username: "alice", Enabled: true, Status: "CONFIRMED", Attributes: map[string]string{"email": "a@b"}}
	f.Fuzz(func(t *testing.T, filter string) {
		match, err := parseUserFilter(filter)
		if err != nil {
			return
		}
		_ = match(u)
	})
}

func FuzzParseSeed(f *testing.F) {
	f.Add(`{"userPools":[{"name":"a","clients":[{"name":"c","accessTokenValidity":"10m"}],"users":[{"username":"u","password":"Pass-word-1"}]}]}`)
	f.Add(`{"userPools":[{"name":"a","groups":[{"name":"g","precedence":1}]}]}`)
	f.Add(`{"userPools":[{"name":"a","clients":[{"name":"c","refreshTokenValidity":-5}]}]}`)
	f.Fuzz(func(t *testing.T, data string) {
		s, err := ParseSeed([]byte(data))
		if err != nil {
			return
		}
		// A parsed seed either applies or is refused with an error; never a panic.
		e, err := New(Options{AllowShortLifetimes: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(s.UserPools) > 4 {
			return // keep iterations fast: each pool user costs an SRP verifier
		}
		for _, p := range s.UserPools {
			if len(p.Users) > 2 {
				return
			}
		}
		_, _ = e.ApplySeed(*s)
	})
}

func FuzzLoadState(f *testing.F) {
	f.Add(`{"version":1,"userPools":{}}`)
	f.Add(`{"version":1,"userPools":{"x":{"id":"x","keys":{"accessKey":"AAAA","idKey":"AAAA"}}}}`)
	f.Add(`{"version":1,"userPools":{"x":null}}`)
	f.Add(`{"version":2}`)
	f.Fuzz(func(t *testing.T, data string) {
		e, err := New(Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.LoadState(strings.NewReader(data)); err != nil {
			return
		}
		// A state that loads must serve requests without panicking.
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"MaxResults":60}`))
		req.Header.Set("X-Amz-Target", idpService+"ListUserPools")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Fatalf("ListUserPools after load: %d %s", rec.Code, rec.Body.String())
		}
	})
}

func FuzzAdminEndpoint(f *testing.F) {
	f.Add("POST", "clock", `{"advance":"1h"}`)
	f.Add("PUT", "faults/GetUser", `{"errName":"X","latency":"1ms","rate":0.5}`)
	f.Add("PUT", "faults/oauth2/token", `{"after":true,"drop":true}`)
	f.Add("GET", "codes?poolId=x&username=y", ``)
	f.Fuzz(func(t *testing.T, method, path, body string) {
		e, err := New(Options{Clock: clock.NewFake(time.Unix(0, 0))})
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequest(method, "http://127.0.0.1/_emulator/"+path, strings.NewReader(body))
		if err != nil {
			return
		}
		req.RemoteAddr = "127.0.0.1:1"
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s: %d", method, path, rec.Code)
		}
		// Whatever was injected must not make ordinary calls hang: latency faults
		// are bounded by what the fuzzer can write, so clear them.
		e.ClearFaults()
	})
}
