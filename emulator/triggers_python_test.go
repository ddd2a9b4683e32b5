package emulator_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/internal/peers"
)

// startLambdaServer runs test/python/lambda_server.py, a Lambda Invoke API with
// Cognito trigger handlers written in Python, and returns its URL.
func startLambdaServer(t *testing.T, py string) string {
	t.Helper()
	cmd := exec.Command(py, filepath.Join(peers.RepoRoot(t), "test", "python", "lambda_server.py"))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close() // the server stops when its stdin closes
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	port, ok := strings.CutPrefix(strings.TrimSpace(line), "port ")
	if err != nil || !ok {
		t.Fatalf("lambda_server.py did not start: %q %v", line, err)
	}
	return "http://127.0.0.1:" + port
}

// TestTriggersFromPython configures a pool's triggers with boto3 (LambdaConfig as on
// AWS) and runs them as Python handlers behind the Lambda Invoke API: the event
// JSON and the answers cross a wire the emulator's own code did not write.
func TestTriggersFromPython(t *testing.T) {
	py := peers.Python(t, "boto3")
	lambdaURL := startLambdaServer(t, py)
	srv := emulator.NewServer(emulator.Options{LambdaEndpoint: lambdaURL, LambdaTimeout: 300 * time.Millisecond})
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, filepath.Join(peers.RepoRoot(t), "test", "python", "trigger_flow.py"), srv.URL)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("trigger_flow.py: %v\n%s", err, stderr)
	}
	got := map[string]any{}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	want := map[string]any{
		"lambdaConfigEchoed":     true,
		"signUpConfirmed":        true,
		"statusAfterSignUp":      "CONFIRMED",
		"emailVerified":          "true",
		"refusedSignUp":          "UserLambdaValidationException: PreSignUp failed with error Sign-ups from evil.test are closed.",
		"accessTenant":           "acme",
		"accessRoles":            []any{"reader", "writer"},
		"accessScope":            "aws.cognito.signin.user.admin orders/read",
		"idPlan":                 "gold",
		"idTenant":               nil,
		"getUser":                "zoe",
		"migrationWrongPassword": "UserNotFoundException: Exception migrating user in app client " + got["clientId"].(string),
		"migrationSignedIn":      true,
		"migratedStatus":         "CONFIRMED",
		"migratedEmail":          "lee@legacy.example",
		"forgotDelivery":         "EMAIL",
		"messageSubject":         "Welcome to Acme",
		"messageHasCode":         true,
		"customChallenge":        "CUSTOM_CHALLENGE",
		"customSignedIn":         "zoe",
		"failing":                "UserLambdaValidationException: PreSignUp failed with error Failing on purpose.",
		"slow":                   "UnexpectedLambdaException: PreSignUp invocation failed due to error Socket timeout while invoking Lambda function.",
		"garbage":                "InvalidLambdaResponseException: Invalid lambda function output : Invalid JSON",
		"missing":                "UnexpectedLambdaException: PreSignUp invocation failed due to error ResourceNotFoundException.",
		"triggerSources": []any{
			"CreateAuthChallenge_Authentication", "CustomMessage_ForgotPassword", "DefineAuthChallenge_Authentication",
			"PreSignUp_SignUp", "TokenGeneration_Authentication", "UserMigration_Authentication",
			"VerifyAuthChallengeResponse_Authentication",
		},
		"passwordInLog": false,
	}
	for k, v := range want {
		if !reflect.DeepEqual(got[k], v) {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
}
