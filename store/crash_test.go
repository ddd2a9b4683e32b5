package store_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/session"
	"github.com/cogauth/cogauth/store"
)

// The child of TestFileSurvivesKill9 learns where the emulator and the store are
// from these.
const (
	envCrashURL    = "COGAUTH_TEST_CRASH_URL"
	envCrashPool   = "COGAUTH_TEST_CRASH_POOL"
	envCrashClient = "COGAUTH_TEST_CRASH_CLIENT"
	envCrashStore  = "COGAUTH_TEST_CRASH_STORE"
)

// fingerprint names a refresh token without showing it.
func fingerprint(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:8])
}

func crashManager(t *testing.T, url, pool, client, path string) *session.Manager {
	t.Helper()
	c, err := cognito.New(cognito.Options{UserPoolID: pool, ClientID: client, Endpoint: url})
	if err != nil {
		t.Fatal(err)
	}
	fs, err := store.NewFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := session.New(session.Config{Cognito: c, Store: fs, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// TestFileCrashChild is the process TestFileSurvivesKill9 kills: it refreshes the
// stored session, forced, as fast as it can, and prints each refresh token it got
// (as a fingerprint) once Fetch has returned, that is once it is stored. It does
// nothing in a normal run.
func TestFileCrashChild(t *testing.T) {
	url := os.Getenv(envCrashURL)
	if url == "" {
		t.Skip("child process of TestFileSurvivesKill9")
	}
	m := crashManager(t, url, os.Getenv(envCrashPool), os.Getenv(envCrashClient), os.Getenv(envCrashStore))
	fmt.Println("ready")
	for range 10_000 {
		s, err := m.Fetch(context.Background(), session.FetchOptions{ForceRefresh: true})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Println("refreshed " + fingerprint(s.Tokens.Refresh.Reveal()))
	}
}

// TestFileSurvivesKill9: a process refreshing a rotating session (forced, in a
// loop, through its own Manager and file store) is killed with SIGKILL at random
// points, again and again, until 200 refreshes have been stored. After every kill
// the file is whole JSON that the store reads, at most one temporary file is left
// (the killed writer's; the next open or write removes it), no refresh was lost
// (the stored refresh token is the last one reported stored, or the newer one of
// the refresh cut short) and the stored refresh token still refreshes.
func TestFileSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes")
	}
	srv := emulator.NewServer(emulator.Options{
		// A frozen clock: tokens stay fresh, and the grace period covers the one
		// rotation a kill can cut short (the service rotated, the process died
		// before storing the answer: the old token is all it has).
		Clock: clock.NewFake(time.Now().UTC().Truncate(time.Second)),
		Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
			Name: "users",
			Clients: []emulator.SeedClient{{
				Name: "app", RefreshTokenRotation: true, RetryGracePeriod: emulator.Duration(60 * time.Second),
			}},
			Users: []emulator.SeedUser{{Username: "alice", Password: "Correct-horse-battery-1"}},
		}}},
	})
	t.Cleanup(srv.Close)
	pool, client := srv.PoolID("users"), srv.AppClient("users", "app").ID
	dir := filepath.Join(t.TempDir(), "cfg")
	path := filepath.Join(dir, "sessions.json")
	ctx := context.Background()

	res, err := crashManager(t, srv.URL, pool, client, path).SignIn(ctx, cognito.SignInInput{Username: "alice", Password: "Correct-horse-battery-1", Flow: cognito.FlowPassword})
	if err != nil || res.Next != nil {
		t.Fatalf("sign-in: %v, %+v", err, res)
	}
	last := fingerprint(res.Session.Tokens.Refresh.Reveal())
	earlier := map[string]bool{} // every refresh token stored before last

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed>>1))
	const want = 200
	stored, kills, cutShort, withTemp := 0, 0, 0, 0
	child := crashChild(t)
	for stored < want {
		cmd := exec.Command(child, "-test.run=^TestFileCrashChild$")
		cmd.Env = append(os.Environ(), envCrashURL+"="+srv.URL, envCrashPool+"="+pool, envCrashClient+"="+client, envCrashStore+"="+path)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		for l := range lines {
			if l == "ready" {
				break
			}
		}
		// Kill at a random point of the loop: in a request, in a write, between.
		time.Sleep(time.Duration(rng.IntN(30_000)) * time.Microsecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		var got []string
		for l := range lines {
			if fp, ok := strings.CutPrefix(l, "refreshed "); ok && len(fp) == 16 {
				got = append(got, fp)
			}
		}
		werr := cmd.Wait()
		if st, ok := cmd.ProcessState.Sys().(interface{ Signaled() bool }); !ok || !st.Signaled() {
			t.Fatalf("child ended on its own (%v) instead of being killed:\n%s", werr, stderr.String())
		}
		kills++
		for _, fp := range got {
			earlier[last] = true
			last = fp
		}
		stored += len(got)

		// Whole JSON, readable by the store.
		b, err := os.ReadFile(path)
		if err != nil || !json.Valid(b) {
			t.Fatalf("kill %d: the session file is not whole JSON (%v):\n%.200s", kills, err, b)
		}
		temps, _ := filepath.Glob(filepath.Join(dir, ".sessions.json.tmp-*"))
		if len(temps) > 1 {
			t.Fatalf("kill %d: %d temporary files left: %v", kills, len(temps), temps)
		}
		withTemp += len(temps)

		// No refresh lost: the stored token is the last one reported, or the newer
		// one of the refresh the kill cut short after storing it.
		m := crashManager(t, srv.URL, pool, client, path)
		s, err := m.Fetch(ctx, session.FetchOptions{})
		if err != nil {
			t.Fatalf("kill %d: the stored session does not load: %v", kills, err)
		}
		now := fingerprint(s.Tokens.Refresh.Reveal())
		switch {
		case now == last:
		case earlier[now]:
			t.Fatalf("kill %d: the store went back to an earlier refresh token", kills)
		default:
			cutShort++
			earlier[last] = true
			last = now
		}
		// And it still refreshes.
		s, err = m.Fetch(ctx, session.FetchOptions{ForceRefresh: true})
		if err != nil {
			t.Fatalf("kill %d: the stored refresh token no longer refreshes: %v", kills, err)
		}
		earlier[last] = true
		last = fingerprint(s.Tokens.Refresh.Reveal())
	}
	t.Logf("%d refreshes stored by children killed %d times; %d kills found a temporary file, %d came after the store but before the report", stored, kills, withTemp, cutShort)
	temps, _ := filepath.Glob(filepath.Join(dir, ".sessions.json.tmp-*"))
	if len(temps) != 0 {
		t.Fatalf("temporary files left after the last write: %v", temps)
	}
}

// crashChild returns the binary to run as the killed child: this test binary, or
// under the race detector one built without it. Hundreds of children start, and a
// race-enabled one takes several times as long to start and to refresh; the child
// has no goroutines of its own to race, and the parent still runs under -race.
func crashChild(t *testing.T) string {
	t.Helper()
	if !raceEnabled {
		return os.Args[0]
	}
	out := filepath.Join(t.TempDir(), "store-crash-child.test")
	build := exec.Command("go", "test", "-c", "-o", out, ".")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the crash child without -race: %v\n%s", err, b)
	}
	return out
}
