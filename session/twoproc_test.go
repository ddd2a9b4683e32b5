package session_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/session"
	"github.com/cogauth/cogauth/store"
)

const (
	envHelperURL   = "COGAUTH_TEST_TWOPROC_URL"
	envHelperStore = "COGAUTH_TEST_TWOPROC_STORE"
)

func fingerprint(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:8])
}

// TestTwoProcessHelper is the second process of TestTwoProcessesShareFileStore; it
// does nothing in a normal run.
func TestTwoProcessHelper(t *testing.T) {
	url, path := os.Getenv(envHelperURL), os.Getenv(envHelperStore)
	if url == "" {
		t.Skip("helper process for TestTwoProcessesShareFileStore")
	}
	c, err := cognito.New(cognito.Options{UserPoolID: testPool, ClientID: testClient, Endpoint: url})
	if err != nil {
		t.Fatal(err)
	}
	fs, err := store.NewFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := session.New(session.Config{Cognito: c, Store: fs, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	s, err := m.Fetch(context.Background(), session.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("access=%s refresh=%s exp=%d\n", fingerprint(s.Tokens.Access.Raw()), fingerprint(s.Tokens.Refresh.Reveal()), s.Tokens.Access.ExpiresAt().Unix())
}

func TestTwoProcessesShareFileStore(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a second process")
	}
	idp := newFakeIDP(t, clock.System{})
	idp.rotate = true
	// Hold each refresh back so the two processes' attempts overlap for certain.
	idp.refreshDelay = 300 * time.Millisecond
	// Sign-in tokens expire in 2 minutes: both processes find them inside the window.
	idp.nextExp = time.Now().Add(2 * time.Minute)
	path := filepath.Join(t.TempDir(), "cfg", "sessions.json")
	fs, err := store.NewFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := session.New(session.Config{Cognito: idp.client(t), Store: fs, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.SignIn(context.Background(), cognito.SignInInput{Username: "alice", Password: "correct horse", Flow: cognito.FlowPassword}); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestTwoProcessHelper$", "-test.v")
	cmd.Env = append(os.Environ(), envHelperURL+"="+idp.srv.URL, envHelperStore+"="+path)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out := bufio.NewScanner(stdout)
	for out.Scan() && out.Text() != "ready" {
	}
	// Both go at once.
	fmt.Fprintln(stdin, "go")
	s, err := m.Fetch(context.Background(), session.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var child string
	for out.Scan() {
		if strings.HasPrefix(out.Text(), "access=") {
			child = out.Text()
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("second process: %v\n%s", err, stderr.String())
	}
	mine := fmt.Sprintf("access=%s refresh=%s exp=%d", fingerprint(s.Tokens.Access.Raw()), fingerprint(s.Tokens.Refresh.Reveal()), s.Tokens.Access.ExpiresAt().Unix())
	if child != mine {
		t.Fatalf("processes disagree:\n parent %s\n child  %s", mine, child)
	}
	if time.Until(s.Tokens.Access.ExpiresAt()) < 50*time.Minute {
		t.Fatal("session not refreshed")
	}
	if n := idp.refreshCalls(); n != 1 {
		t.Fatalf("%d refresh calls at the server, want 1", n)
	}
	// The rotated refresh token is the live one at the service.
	idp.mu.Lock()
	_, live := idp.refresh[s.Tokens.Refresh.Reveal()]
	idp.mu.Unlock()
	if !live {
		t.Fatal("stored refresh token is not the service's live one")
	}
}
