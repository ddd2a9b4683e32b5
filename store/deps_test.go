package store_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMemoryOnlyLinks: a program that uses only session and the memory store links
// no Redis, keyring, DynamoDB, identity-pool, hosted-UI or gRPC code (each lives in
// a package of its own, and session reaches a credentials source and a hosted UI
// refresher through its interfaces), while the packages that hold that code do
// link it — so the test can tell.
func TestMemoryOnlyLinks(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	banned := []string{
		// Redis
		"github.com/redis/go-redis", "github.com/gomodule/redigo", "github.com/cogauth/cogauth/store/redis",
		// keyring: dbus is Linux's, wincred Windows'
		"github.com/godbus/dbus", "github.com/danieljoos/wincred", "github.com/zalando/go-keyring", "github.com/cogauth/cogauth/store/keyring",
		// DynamoDB
		"github.com/aws/aws-sdk-go-v2/service/dynamodb", "github.com/cogauth/cogauth/store/dynamodb",
		// identity pools
		"github.com/aws/aws-sdk-go-v2/service/cognitoidentity/", "github.com/aws/aws-sdk-go-v2/service/cognitoidentity$", "github.com/cogauth/cogauth/identity",
		// the hosted UI
		"github.com/cogauth/cogauth/hostedui", "golang.org/x/oauth2",
		// gRPC
		"google.golang.org/grpc", "github.com/cogauth/cogauth/grpcauth",
	}
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
	// linked reports whether deps hold a package under prefix, or exactly name
	// for "name$" (cognitoidentity$ is not cognitoidentityprovider).
	linked := func(deps []string, prefix string) bool {
		exact := strings.HasSuffix(prefix, "$")
		prefix = strings.TrimSuffix(prefix, "$")
		for _, d := range deps {
			if d == prefix || (!exact && strings.HasPrefix(d, prefix)) {
				return true
			}
		}
		return false
	}
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
			// The controls: each banned dependency is linked by the package that
			// holds it (gRPC once grpcauth exists).
			pkgs := []string{"./redis", "./keyring", "./dynamodb", "../identity", "../hostedui"}
			want := []string{"github.com/redis/go-redis", "github.com/zalando/go-keyring", map[string]string{"linux": "github.com/godbus/dbus", "windows": "github.com/danieljoos/wincred"}[goos],
				"github.com/aws/aws-sdk-go-v2/service/dynamodb", "github.com/aws/aws-sdk-go-v2/service/cognitoidentity$", "github.com/cogauth/cogauth/hostedui", "golang.org/x/oauth2"}
			if _, err := os.Stat("../grpcauth"); err == nil {
				pkgs, want = append(pkgs, "../grpcauth"), append(want, "google.golang.org/grpc")
			}
			all := deps(t, goos, pkgs...)
			for _, b := range want {
				if !linked(all, b) {
					t.Errorf("%v do not link %s: the check above proves nothing", pkgs, b)
				}
			}
		})
	}
}
