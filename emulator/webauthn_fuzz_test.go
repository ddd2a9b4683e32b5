package emulator

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/internal/webauthntest"
)

// passkeyFuzzEmulator is an emulator whose user alice (signed in) has one
// passkey of relying party localhost.
func passkeyFuzzEmulator(f *testing.F) (e *Emulator, call func(op, body string) (int, map[string]any), access string, a *webauthntest.Authenticator) {
	f.Helper()
	e, err := New(Options{Clock: clock.NewFake(time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)), Seed: &Seed{UserPools: []SeedUserPool{{
		Name: "app", ID: "us-east-1_Fuzz", AllowedFirstAuthFactors: []string{"PASSWORD", "WEB_AUTHN"},
		WebAuthn: &SeedWebAuthn{RelyingPartyID: "localhost"},
		Clients:  []SeedClient{{Name: "web", ID: "webclient", ExplicitAuthFlows: []string{"ALLOW_USER_AUTH", "ALLOW_USER_PASSWORD_AUTH"}}},
		Users:    []SeedUser{{Username: "alice", Password: "Correct-Horse-1"}},
	}}}})
	if err != nil {
		f.Fatal(err)
	}
	call = func(op, body string) (int, map[string]any) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", idpService+op)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			f.Fatalf("%s answered %d with no JSON object: %q", op, rec.Code, rec.Body.String())
		}
		return rec.Code, out
	}
	_, out := call("InitiateAuth", `{"AuthFlow":"USER_PASSWORD_AUTH","ClientId":"webclient","AuthParameters":{"USERNAME":"alice","PASSWORD":"Correct-Horse-1"}}`)
	ar, _ := out["AuthenticationResult"].(map[string]any)
	access, _ = ar["AccessToken"].(string)
	if access == "" {
		f.Fatalf("sign-in: %v", out)
	}
	a = webauthntest.New("http://localhost:3000")
	body, _ := json.Marshal(map[string]string{"AccessToken": access})
	_, out = call("StartWebAuthnRegistration", string(body))
	opts, _ := json.Marshal(out["CredentialCreationOptions"])
	cred, err := a.Register(opts)
	if err != nil {
		f.Fatal(err)
	}
	body, _ = json.Marshal(map[string]any{"AccessToken": access, "Credential": json.RawMessage(cred)})
	if code, out := call("CompleteWebAuthnRegistration", string(body)); code != 200 {
		f.Fatalf("registration: %v", out)
	}
	return e, call, access, a
}

// webAuthnFuzzSeeds are real answers (to other challenges) and near misses.
func webAuthnFuzzSeeds(f *testing.F, a *webauthntest.Authenticator) {
	if reg, err := webauthntest.New("http://localhost:3000").Register([]byte(`{"challenge":"AAAA","rp":{"id":"localhost"},"user":{"id":"dQ"},"pubKeyCredParams":[{"type":"public-key","alg":-7}]}`)); err == nil {
		f.Add(string(reg))
	}
	if as, err := a.Assert([]byte(`{"challenge":"AAAA","rpId":"localhost"}`)); err == nil {
		f.Add(string(as))
	}
	for _, s := range []string{`{}`, `null`, `[]`, `"x"`, `{"id":"","rawId":"","type":"public-key","response":{}}`,
		`{"id":"AA","rawId":"AA","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"oA"}}`,
		`{"id":"AA","rawId":"AA","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"","signature":""}}`} {
		f.Add(s)
	}
}

// FuzzWebAuthnRegistration sends arbitrary credentials to
// CompleteWebAuthnRegistration after a StartWebAuthnRegistration: the emulator
// answers JSON, never panics, and accepts none (each answers a fresh random
// challenge the fuzzer cannot know).
func FuzzWebAuthnRegistration(f *testing.F) {
	_, call, access, a := passkeyFuzzEmulator(f)
	webAuthnFuzzSeeds(f, a)
	start, _ := json.Marshal(map[string]string{"AccessToken": access})
	f.Fuzz(func(t *testing.T, cred string) {
		if code, out := call("StartWebAuthnRegistration", string(start)); code != 200 {
			t.Fatalf("start: %v", out)
		}
		var doc json.RawMessage = []byte(cred)
		if !json.Valid(doc) {
			doc, _ = json.Marshal(cred) // as a JSON string
		}
		body, _ := json.Marshal(map[string]any{"AccessToken": access, "Credential": doc})
		if code, out := call("CompleteWebAuthnRegistration", string(body)); code == 200 {
			t.Fatalf("a fuzzed registration was accepted: %v", out)
		}
	})
}

// FuzzWebAuthnAssertion answers WEB_AUTHN challenges with arbitrary
// CREDENTIALs: JSON answers, no panic, nobody signed in.
func FuzzWebAuthnAssertion(f *testing.F) {
	_, call, _, a := passkeyFuzzEmulator(f)
	webAuthnFuzzSeeds(f, a)
	f.Fuzz(func(t *testing.T, cred string) {
		code, out := call("InitiateAuth", `{"AuthFlow":"USER_AUTH","ClientId":"webclient","AuthParameters":{"USERNAME":"alice","PREFERRED_CHALLENGE":"WEB_AUTHN"}}`)
		if code != 200 || out["ChallengeName"] != "WEB_AUTHN" {
			t.Fatalf("WEB_AUTHN challenge: %v", out)
		}
		body, _ := json.Marshal(map[string]any{"ClientId": "webclient", "ChallengeName": "WEB_AUTHN", "Session": out["Session"],
			"ChallengeResponses": map[string]string{"USERNAME": "alice", "CREDENTIAL": cred}})
		if code, out := call("RespondToAuthChallenge", string(body)); code == 200 || out["AuthenticationResult"] != nil {
			t.Fatalf("a fuzzed assertion signed in: %v", out)
		}
	})
}
