package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cogauth/cogauth/emulator"
)

// --lambda-endpoint sends the seeded pool's triggers to a Lambda Invoke API.
func TestEmulatorLambdaEndpoint(t *testing.T) {
	var calls []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls = append(calls, r.URL.Path)
		var ev map[string]any
		_ = json.NewDecoder(r.Body).Decode(&ev)
		ev["response"] = map[string]any{"autoConfirmUser": true}
		_ = json.NewEncoder(w).Encode(ev)
	}))
	defer api.Close()
	dir := t.TempDir()
	seed := filepath.Join(dir, "seed.json")
	if err := os.WriteFile(seed, []byte(`{"userPools":[{"name":"dev","id":"us-east-1_Dev","clients":[{"name":"web","id":"webclient"}],
		"lambdaConfig":{"PreSignUp":"arn:aws:lambda:us-east-1:000000000000:function:autoconfirm"}}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut bytes.Buffer
	done := make(chan error, 1)
	ready := make(chan *emulator.Server, 1)
	go func() {
		done <- runEmulator(ctx, &emulatorOptions{IO: IOStreams{Out: &out, ErrOut: &errOut}, Listen: "127.0.0.1:0", SeedFile: seed,
			LambdaEndpoint: api.URL, LambdaTimeout: 2 * time.Second, ready: func(s *emulator.Server) { ready <- s }})
	}()
	var srv *emulator.Server
	select {
	case srv = <-ready:
	case err := <-done:
		t.Fatalf("emulator did not start: %v", err)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(`{"ClientId":"webclient","Username":"eve","Password":"Eve-Passw0rd!"}`))
	req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService.SignUp")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"UserConfirmed":true`) {
		t.Fatalf("SignUp = %d %s", resp.StatusCode, body)
	}
	if len(calls) != 1 || calls[0] != "/2015-03-31/functions/autoconfirm/invocations" {
		t.Fatalf("Invoke API calls = %q", calls)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("stop: %v", err)
	}
	// The flag is checked before anything listens (a free port all the same, so
	// a regression cannot bind a fixed one).
	if r := newCLI(t, nil).run("", "emulator", "--listen", "127.0.0.1:0", "--lambda-endpoint", "not a url"); r.code != exitUsage || !strings.Contains(r.err, "--lambda-endpoint") {
		t.Fatalf("bad endpoint: exit %d %q", r.code, r.err)
	}
}
