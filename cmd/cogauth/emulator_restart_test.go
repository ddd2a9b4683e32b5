package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cogauth/cogauth/emulator"
)

// restartSeedFile is a seed with fixed and generated IDs of every kind.
const restartSeedFile = `{
  "userPools": [
    {"name": "fixed", "id": "us-east-1_Restart1", "clients": [{"name": "web", "id": "restartwebclient000000000a"}],
     "users": [{"username": "alice", "password": "Correct-Horse-1"}]},
    {"name": "generated", "clients": [{"name": "app"}], "users": [{"username": "bob", "password": "Correct-Horse-2"}]}
  ],
  "identityPools": [
    {"name": "fixed", "id": "us-east-1:0f6c0b1e-0000-4000-8000-000000000001", "userPool": "fixed", "clients": ["web"]},
    {"name": "generated", "userPool": "generated", "clients": ["app"]}
  ]
}`

// TestEmulatorRestartWithSameCommand runs the built binary twice with the same
// `cogauth emulator --seed FILE --state FILE`: the second start succeeds, keeps
// every ID and creates no duplicate; a --state in a missing directory fails at
// start.
func TestEmulatorRestartWithSameCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "cogauth")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	seed := filepath.Join(dir, "seed.json")
	if err := os.WriteFile(seed, []byte(restartSeedFile), 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state.json")
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}

	// run starts the emulator, reads its banner up to the seeded line, counts the
	// pools it serves, and stops it with SIGTERM.
	run := func() (seeded emulator.SeedResult, userPools, identityPools int) {
		t.Helper()
		cmd := exec.Command(bin, "emulator", "--listen", "127.0.0.1:0", "--seed", seed, "--state", state)
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill() })
		url := ""
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if u, ok := strings.CutPrefix(line, "Cognito emulator listening on "); ok {
				url = u
			}
			if js, ok := strings.CutPrefix(line, "seeded: "); ok {
				if err := json.Unmarshal([]byte(js), &seeded); err != nil {
					t.Fatal(err)
				}
				break
			}
		}
		if url == "" || seeded.UserPools == nil {
			_ = cmd.Wait()
			t.Fatalf("emulator did not start: %s", stderr.String())
		}
		go func() { _, _ = io.Copy(io.Discard, stdout) }()
		userPools = len(postEmulator(t, url, "AWSCognitoIdentityProviderService.ListUserPools", `{"MaxResults":60}`)["UserPools"].([]any))
		identityPools = len(postEmulator(t, url, "AWSCognitoIdentityService.ListIdentityPools", `{"MaxResults":60}`)["IdentityPools"].([]any))
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("emulator exit: %v\n%s", err, stderr.String())
			}
		case <-time.After(30 * time.Second):
			t.Fatal("emulator did not stop on SIGTERM")
		}
		return seeded, userPools, identityPools
	}

	first, up1, ip1 := run()
	second, up2, ip2 := run()
	if up1 != 2 || up2 != 2 || ip1 != 2 || ip2 != 2 {
		t.Errorf("pools: %d user and %d identity, then %d and %d; want 2 each time", up1, ip1, up2, ip2)
	}
	a, _ := json.Marshal(first)
	b, _ := json.Marshal(second)
	if !bytes.Equal(a, b) {
		t.Errorf("IDs changed across the restart:\n%s\n%s", a, b)
	}
	if first.UserPools["fixed"].ID != "us-east-1_Restart1" || first.IdentityPools["fixed"] != "us-east-1:0f6c0b1e-0000-4000-8000-000000000001" {
		t.Errorf("fixed IDs not used: %s", a)
	}

	cmd := exec.Command(bin, "emulator", "--listen", "127.0.0.1:0", "--state", filepath.Join(dir, "missing", "state.json"))
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "does not exist") {
		t.Errorf("--state in a missing directory: %v, %s", err, out)
	}
}

func postEmulator(t *testing.T, url, target, body string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/", strings.NewReader(body))
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%s: %d %v", target, resp.StatusCode, err)
	}
	return out
}
