package emulator

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cogauth/cogauth/clock"
)

// FuzzTriggerAnswer feeds arbitrary function results to the triggers that read
// answers (PreSignUp, PreTokenGeneration V2, DefineAuthChallenge, UserMigration):
// whatever a function says, the emulator answers with success or one of Cognito's
// Lambda exceptions, never a 500 or a panic, and never lets a restricted claim through.
func FuzzTriggerAnswer(f *testing.F) {
	for _, seed := range []string{
		`{"response":{"autoConfirmUser":true}}`,
		`{"response":{"claimsAndScopeOverrideDetails":{"accessTokenGeneration":{"claimsToAddOrOverride":{"sub":"x","a":[1,{"b":null}]},"scopesToAdd":["s x","ok"]}}}}`,
		`{"response":{"claimsOverrideDetails":{"groupOverrideDetails":{"groupsToOverride":[]}}}}`,
		`{"response":{"challengeName":"CUSTOM_CHALLENGE","publicChallengeParameters":{"q":1}}}`,
		`{"response":{"userAttributes":{"email":"x"},"finalUserStatus":"NOPE"}}`,
		`null`, `[]`, `{"response":"x"}`, `{}`, "\x00",
	} {
		f.Add([]byte(seed))
	}
	const arn = "arn:aws:lambda:us-east-1:000000000000:function:f"
	var (
		mu     sync.Mutex
		answer []byte
		n      int
	)
	// One emulator for every input: its signing keys are slow to make.
	e, err := New(Options{
		Clock: clock.NewFake(time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)),
		Lambda: func(ctx context.Context, _ string, _ []byte) ([]byte, error) {
			mu.Lock()
			defer mu.Unlock()
			return answer, nil
		},
		Seed: &Seed{UserPools: []SeedUserPool{{
			Name: "app", ID: "us-east-1_Fuzz",
			LambdaConfig: &LambdaConfig{PreSignUp: arn, UserMigration: arn, DefineAuthChallenge: arn, CreateAuthChallenge: arn,
				VerifyAuthChallengeResponse: arn, PreTokenGenerationConfig: &VersionedLambda{LambdaVersion: "V2_0", LambdaArn: arn}},
			Clients: []SeedClient{{Name: "web", ID: "webclient", ExplicitAuthFlows: []string{"ALLOW_USER_PASSWORD_AUTH", "ALLOW_CUSTOM_AUTH"}}},
			Users:   []SeedUser{{Username: "alice", Password: "Correct-Horse-1"}},
		}}},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		mu.Lock()
		answer = in
		n++
		name := fmt.Sprintf("user%d", n)
		mu.Unlock()
		for _, req := range []struct{ op, body string }{
			{"SignUp", `{"ClientId":"webclient","Username":"` + name + `","Password":"Correct-Horse-1"}`},
			{"InitiateAuth", `{"AuthFlow":"USER_PASSWORD_AUTH","ClientId":"webclient","AuthParameters":{"USERNAME":"alice","PASSWORD":"Correct-Horse-1"}}`},
			{"InitiateAuth", `{"AuthFlow":"USER_PASSWORD_AUTH","ClientId":"webclient","AuthParameters":{"USERNAME":"legacy-` + name + `","PASSWORD":"Correct-Horse-1"}}`},
			{"InitiateAuth", `{"AuthFlow":"CUSTOM_AUTH","ClientId":"webclient","AuthParameters":{"USERNAME":"alice"}}`},
		} {
			rec := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(req.body))
			r.Header.Set("X-Amz-Target", idpService+req.op)
			e.ServeHTTP(rec, r)
			if rec.Code >= 500 {
				t.Fatalf("%s: %d %s", req.op, rec.Code, rec.Body)
			}
			var out struct {
				Type                 string `json:"__type"`
				AuthenticationResult *tokenSet
			}
			_ = json.Unmarshal(rec.Body.Bytes(), &out)
			if rec.Code != http.StatusOK && !strings.Contains(out.Type, "Lambda") && out.Type != "UserNotFoundException" &&
				out.Type != "NotAuthorizedException" && out.Type != "InvalidParameterException" && out.Type != "UsernameExistsException" {
				t.Fatalf("%s: unexpected %s %s", req.op, out.Type, rec.Body)
			}
			if out.AuthenticationResult != nil && out.AuthenticationResult.AccessToken != "" {
				p := strings.Split(out.AuthenticationResult.AccessToken, ".")
				var claims map[string]any
				if b, err := base64.RawURLEncoding.DecodeString(p[1]); err == nil && json.Unmarshal(b, &claims) == nil && claims["sub"] == "x" {
					t.Fatalf("restricted claim changed: %v", claims)
				}
			}
		}
	})
}
