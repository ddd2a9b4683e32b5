package peers

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// S3Listing is what boto3 saw when it used a credential_process profile.
type S3Listing struct {
	AccessKeyID string   // the access key boto3 got from the process
	HasToken    bool     // whether it came with a session token
	Keys        []string // the objects listed back from the bucket
}

// Boto3S3ViaCredentialProcess points an AWS config profile's credential_process at
// process, then has boto3 (with no other credentials: env holds no AWS_ variables
// but the config paths this sets) create bucket on the S3 endpoint s3URL, put one
// object named key, and list the bucket. It is how every AWS tool would meet
// cogauth's credentials.
func Boto3S3ViaCredentialProcess(t testing.TB, s3URL, process, bucket, key string, env []string) S3Listing {
	t.Helper()
	py := Python(t, "boto3")
	dir := t.TempDir()
	config := fmt.Sprintf("[profile cognito]\nregion = us-east-1\ncredential_process = %s\n", process)
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	const script = `
import sys, boto3
s = boto3.Session(profile_name="cognito")
c = s.get_credentials().get_frozen_credentials()
s3 = s.client("s3", endpoint_url=sys.argv[1])
s3.create_bucket(Bucket=sys.argv[2])
s3.put_object(Bucket=sys.argv[2], Key=sys.argv[3], Body=b"hi")
keys = [o["Key"] for o in s3.list_objects_v2(Bucket=sys.argv[2])["Contents"]]
print(c.access_key, bool(c.token), ",".join(keys))
`
	cmd := exec.Command(py, "-c", script, s3URL, bucket, key)
	cmd.Env = append(withoutAWS(env),
		"AWS_CONFIG_FILE="+filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
	f := strings.Fields(string(out))
	if len(f) != 3 {
		t.Fatalf("boto3 printed %q", out)
	}
	return S3Listing{AccessKeyID: f[0], HasToken: f[1] == "True", Keys: strings.Split(f[2], ",")}
}

// withoutAWS drops AWS_ variables, so that boto3 can only use the profile's
// credential_process.
func withoutAWS(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, "AWS_") {
			out = append(out, kv)
		}
	}
	return out
}
