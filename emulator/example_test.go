package emulator_test

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"strings"
	"time"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/emulator"
)

// The emulator speaks Cognito's JSON protocol over HTTP, so any client works
// against it: the AWS SDKs and CLI, Amplify, or plain HTTP as here. Faults
// (throttling, 5xx, dropped or cut answers, latency) are injected per operation.
func ExampleNewServer() {
	srv := emulator.NewServer(emulator.Options{
		Clock: clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)),
		Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
			Name:    "app",
			Clients: []emulator.SeedClient{{Name: "web"}},
			Users:   []emulator.SeedUser{{Username: "alice", Password: "Corr3ct-Horse!"}},
		}}},
	})
	defer srv.Close()

	initiateAuth := func() (int, map[string]any) {
		body := fmt.Sprintf(`{"AuthFlow":"USER_PASSWORD_AUTH","ClientId":%q,"AuthParameters":{"USERNAME":"alice","PASSWORD":"Corr3ct-Horse!"}}`,
			srv.AppClient("app", "web").ID)
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService.InitiateAuth")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}

	status, out := initiateAuth()
	result, _ := out["AuthenticationResult"].(map[string]any)
	fmt.Println(status, "token type:", result["TokenType"], "expires in:", result["ExpiresIn"])

	srv.InjectFault("InitiateAuth", emulator.Fault{ErrName: "TooManyRequestsException"})
	status, out = initiateAuth()
	fmt.Println(status, out["__type"])
	srv.ClearFaults()

	fmt.Println("InitiateAuth calls:", srv.Requests("InitiateAuth"))
	// Output:
	// 200 token type: Bearer expires in: 3600
	// 400 TooManyRequestsException
	// InitiateAuth calls: 2
}
