package store_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestMemoryOnlyLinks: a program that uses only session and the memory store links
// no go-redis, dbus or wincred (the Redis and keyring stores live in packages of
// their own), while one that uses those stores does — so the test can tell.
func TestMemoryOnlyLinks(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	banned := []string{"github.com/redis/go-redis", "github.com/godbus/dbus", "github.com/danieljoos/wincred", "github.com/zalando/go-keyring"}
	deps := func(t *testing.T, goos string, pkgs ...string) []string {
		t.Helper()
		cmd := exec.Command("go", append([]string{"list", "-deps"}, pkgs...)...)
		cmd.Env = append(cmd.Environ(), "GOOS="+goos)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %v (GOOS=%s): %v\n%s", pkgs, goos, err, out)
		}
		return strings.Fields(string(out))
	}
	linked := func(deps []string, prefix string) bool {
		for _, d := range deps {
			if strings.HasPrefix(d, prefix) {
				return true
			}
		}
		return false
	}
	// dbus is Linux's keyring, wincred Windows'.
	for _, goos := range []string{"linux", "windows"} {
		t.Run(goos, func(t *testing.T) {
			memory := deps(t, goos, "./testdata/memoryonly")
			if !linked(memory, "github.com/cogauth/cogauth/session") {
				t.Fatal("the program does not even link session")
			}
			for _, b := range banned {
				if linked(memory, b) {
					t.Errorf("a session + memory store program links %s", b)
				}
			}
			all := deps(t, goos, "./redis", "./keyring")
			for _, b := range []string{"github.com/redis/go-redis", "github.com/zalando/go-keyring", map[string]string{"linux": "github.com/godbus/dbus", "windows": "github.com/danieljoos/wincred"}[goos]} {
				if !linked(all, b) {
					t.Errorf("store/redis + store/keyring do not link %s: the check above proves nothing", b)
				}
			}
		})
	}
}
