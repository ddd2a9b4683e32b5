// Package peers starts and finds the outside programs tests check cogauth against:
// moto's server, python3 with boto3, node with the npm packages under test/js. A
// test that needs a missing peer skips with a clear message, or fails when
// COGAUTH_REQUIRE_PEERS=1 (CI), so a green CI run means every peer really ran.
package peers

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Required reports whether missing peers are failures (CI) rather than skips.
func Required() bool { return os.Getenv("COGAUTH_REQUIRE_PEERS") == "1" }

// Missing skips t, or fails it under COGAUTH_REQUIRE_PEERS=1, naming the peer and
// how to get it.
func Missing(t testing.TB, peer, how string) {
	t.Helper()
	msg := fmt.Sprintf("peer %s not available: %s", peer, how)
	if Required() {
		t.Fatalf("%s (COGAUTH_REQUIRE_PEERS=1)", msg)
	}
	t.Skip(msg)
}

// RepoRoot returns the module root (the directory holding go.mod).
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("peers: cannot locate source")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Python returns the path of a python3 that can import every module named.
func Python(t testing.TB, modules ...string) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		Missing(t, "python3", "install python3")
		return ""
	}
	if len(modules) > 0 {
		cmd := exec.Command(py, "-c", "import "+strings.Join(modules, ", "))
		if out, err := cmd.CombinedOutput(); err != nil {
			Missing(t, "python modules "+strings.Join(modules, ", "), "pip install "+strings.Join(modules, " ")+": "+lastLine(out))
			return ""
		}
	}
	return py
}

// Node returns the path of node and the test/js directory, after checking that
// the npm packages named are installed there (scripts/peers.sh installs them).
func Node(t testing.TB, packages ...string) (node, dir string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		Missing(t, "node", "install Node.js")
		return "", ""
	}
	dir = filepath.Join(RepoRoot(t), "test", "js")
	for _, p := range packages {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", p, "package.json")); err != nil {
			Missing(t, "npm package "+p, "run scripts/peers.sh (npm install in test/js)")
			return "", ""
		}
	}
	return node, dir
}

// RunNode runs a script from test/js with stdin and returns its stdout. A failure
// fails the test with the script's stderr.
func RunNode(t testing.TB, script string, stdin []byte, env ...string) []byte {
	t.Helper()
	node, dir := Node(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("node %s: %v\n%s", script, err, errb.String())
	}
	return out.Bytes()
}

// Moto starts moto's server (python3 -m moto.server) on a free loopback port and
// returns its endpoint URL; it stops when the test ends. Quirks are listed in
// DESIGN.md: create pools in us-east-1, use the password flow only.
func Moto(t testing.TB) string {
	t.Helper()
	return startMoto(t, false)
}

// MotoSerial is Moto serving one request at a time. moto's server handles
// requests on many threads and checks a DynamoDB ConditionExpression and then
// writes without a lock, so two conditional writes racing for the same item can
// both succeed, which DynamoDB never allows; served one at a time, moto's
// conditional writes are atomic as DynamoDB's are. Use it for tests of
// compare-and-swap and leases.
func MotoSerial(t testing.TB) string {
	t.Helper()
	return startMoto(t, true)
}

// motoSerialScript is moto's server main with threads off.
const motoSerialScript = `import sys
from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
run_simple(sys.argv[1], int(sys.argv[2]), DomainDispatcherApplication(create_backend_app), threaded=False)
`

func startMoto(t testing.TB, serial bool) string {
	t.Helper()
	py := Python(t, "moto", "flask", "flask_cors")
	if py == "" {
		return ""
	}
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	args := []string{"-m", "moto.server", "-H", "127.0.0.1", "-p", fmt.Sprint(port)}
	if serial {
		args = []string{"-c", motoSerialScript, "127.0.0.1", fmt.Sprint(port)}
	}
	cmd := exec.CommandContext(ctx, py, args...)
	if serial {
		cmd.Env = append(cmd.Env, "MOTO_PORT="+fmt.Sprint(port))
	}
	cmd.Env = append(append(os.Environ(), cmd.Env...), "AWS_DEFAULT_REGION=us-east-1", "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		cancel()
		Missing(t, "moto server", err.Error())
		return ""
	}
	var logs bytes.Buffer
	done := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
		}
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		<-done
	})
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := waitHTTP(url+"/moto-api/", 30*time.Second); err != nil {
		t.Fatalf("moto server did not start: %v", err)
	}
	return url
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitHTTP polls url until it answers. Polling a starting process is the one
// place a test waits on real time: there is no clock to move.
func waitHTTP(url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}
