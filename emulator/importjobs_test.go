package emulator_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/internal/peers"
)

// TestImportJobsWithBoto3 runs test/python/import_flow.py: boto3 and curl drive
// a CSV user import exactly as Cognito's developer guide shows.
func TestImportJobsWithBoto3(t *testing.T) {
	srv := emulator.NewServer(emulator.Options{})
	t.Cleanup(srv.Close)
	py := peers.Python(t, "boto3")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, filepath.Join(peers.RepoRoot(t), "test", "python", "import_flow.py"), srv.URL, t.TempDir())
	raw, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("import_flow.py: %v\n%s", err, stderr)
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("import_flow.py printed %q: %v", raw, err)
	}
	want := map[string]any{
		"created":     map[string]any{"Status": "Created", "ImportedUsers": 0.0, "SkippedUsers": 0.0, "FailedUsers": 0.0},
		"uploaded":    true,
		"startStatus": "Pending",
		"done": map[string]any{"Status": "Succeeded", "ImportedUsers": 2.0, "SkippedUsers": 1.0, "FailedUsers": 3.0,
			"CompletionMessage": "Import Job Completed Successfully."},
		"hasDates":   true,
		"restart":    "PreconditionNotMetException",
		"janeStatus": "RESET_REQUIRED",
		"janeAttributes": map[string]any{"name": "Jane Doe", "email": "jane@example.com", "email_verified": "true",
			"custom:tier": "gold", "address": "1 Main St, Springfield", "birthdate": "02/01/1985", "updated_at": "1471453471"},
		"signInBeforeReset":    "PasswordResetRequiredException",
		"signInAfterReset":     true,
		"janeStatusAfterReset": "CONFIRMED",
		"uploadedBad":          true,
		"annImported":          false,
		"stopped":              map[string]any{"Status": "Stopped", "ImportedUsers": 0.0, "CompletionMessage": "The Import Job was stopped by the developer."},
		"listFirstPage":        []any{"stopped", "bad-header"},
		"listSecondPage":       []any{"first-import"},
	}
	for k, v := range want {
		if !reflect.DeepEqual(got[k], v) {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	bad, _ := got["badHeader"].(map[string]any)
	if bad["Status"] != "Failed" || bad["ImportedUsers"] != 0.0 || !strings.Contains(bad["CompletionMessage"].(string), "lacks the column") {
		t.Errorf("bad header job: %v", bad)
	}
	header, _ := got["header"].([]any)
	if len(header) == 0 || header[len(header)-1] != "cognito:username" || !containsAny(header, "custom:tier") {
		t.Errorf("CSV header %v", header)
	}
	log := srv.ImportJobLog(got["poolId"].(string), got["jobId"].(string))
	wantLog := []string{
		"[SUCCEEDED] Line Number 2 - The import succeeded.",
		"[SUCCEEDED] Line Number 3 - The import succeeded.",
		"[SKIPPED] Line Number 4 - The user already exists.",
		"[FAILED] Line Number 5 - The User Record does not set any of the auto verified attributes to true. (Example: email_verified to true).",
	}
	if len(log) != 6 || !reflect.DeepEqual(log[:4], wantLog) {
		t.Errorf("job log %q", log)
	}
}

func containsAny(list []any, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestImportUploadRefusals: the PreSignedUrl takes only its own token, before
// its 15 minutes are up, no file over the bound, and nothing once the job started.
func TestImportUploadRefusals(t *testing.T) {
	clk := newFake()
	srv := emulator.NewServer(emulator.Options{Clock: clk, Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{Name: "app"}}}})
	t.Cleanup(srv.Close)
	ctx := context.Background()
	api := adminSDK(srv)
	pool := aws.String(srv.PoolID("app"))
	create := func() string {
		out, err := api.CreateUserImportJob(ctx, &cip.CreateUserImportJobInput{UserPoolId: pool, JobName: aws.String("j"),
			CloudWatchLogsRoleArn: aws.String("arn:aws:iam::123456789012:role/CognitoImportRole")})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.UserImportJob.PreSignedUrl)
	}
	put := func(u, body string) int {
		req, _ := http.NewRequest(http.MethodPut, u, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	u := create()
	if !strings.HasPrefix(u, srv.URL+"/user-import/") {
		t.Fatalf("PreSignedUrl %s is not served by the emulator at %s", u, srv.URL)
	}
	if got := put(strings.Replace(u, "X-Amz-Signature=", "X-Amz-Signature=x", 1), "a"); got != http.StatusForbidden {
		t.Errorf("a wrong token: %d", got)
	}
	if got := put(u, strings.Repeat("x", 16<<20+1)); got != http.StatusBadRequest {
		t.Errorf("a file over 16 MiB: %d", got)
	}
	if got := put(u, "cognito:username\n"); got != http.StatusOK {
		t.Errorf("an upload: %d", got)
	}
	clk.Advance(16 * time.Minute)
	if got := put(u, "cognito:username\n"); got != http.StatusForbidden {
		t.Errorf("after 15 minutes: %d", got)
	}
	// A pool without auto-verified attributes starts no job.
	bare, err := api.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("bare")})
	if err != nil {
		t.Fatal(err)
	}
	j, err := api.CreateUserImportJob(ctx, &cip.CreateUserImportJobInput{UserPoolId: bare.UserPool.Id, JobName: aws.String("j"),
		CloudWatchLogsRoleArn: aws.String("arn:aws:iam::123456789012:role/CognitoImportRole")})
	if err != nil {
		t.Fatal(err)
	}
	var ipe *types.InvalidParameterException
	if _, err := api.StartUserImportJob(ctx, &cip.StartUserImportJobInput{UserPoolId: bare.UserPool.Id, JobId: j.UserImportJob.JobId}); !errors.As(err, &ipe) {
		t.Errorf("a job in a pool without auto-verified attributes: %v", err)
	}
	// A job never started expires.
	clk.Advance(25 * time.Hour)
	u3 := create()
	id3 := strings.Split(u3, "/")[5]
	clk.Advance(25 * time.Hour)
	d, err := api.DescribeUserImportJob(ctx, &cip.DescribeUserImportJobInput{UserPoolId: pool, JobId: aws.String(id3)})
	if err != nil || d.UserImportJob.Status != "Expired" {
		t.Errorf("a job not started in 24 hours: %v %v", err, d)
	}
}
