package grpcauth_test

import (
	"os/exec"
	"strings"
	"testing"
)

func deps(t *testing.T, pkgs ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list", "-deps"}, pkgs...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps %v: %v\n%s", pkgs, err, out)
	}
	return strings.Fields(string(out))
}

func linked(deps []string, prefix string) bool {
	for _, d := range deps {
		if d == prefix || strings.HasPrefix(d, prefix+"/") {
			return true
		}
	}
	return false
}

// TestLinks: programs that do not import grpcauth link no gRPC or Connect code;
// grpcauth links gRPC but no Connect, Redis, keyring or DynamoDB code;
// connectauth links Connect but no gRPC.
func TestLinks(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	const (
		grpcMod    = "google.golang.org/grpc"
		connectMod = "connectrpc.com/connect"
	)
	without := deps(t, "../httpauth", "../session", "../jwt", "../store", "../websession", "../cmd/cogauth")
	for _, b := range []string{grpcMod, connectMod, "google.golang.org/protobuf"} {
		if linked(without, b) {
			t.Errorf("a program without grpcauth links %s", b)
		}
	}
	g := deps(t, ".")
	if !linked(g, grpcMod) {
		t.Fatalf("grpcauth does not link %s: the checks prove nothing", grpcMod)
	}
	for _, b := range []string{connectMod, "github.com/redis/go-redis", "github.com/zalando/go-keyring", "github.com/godbus/dbus",
		"github.com/aws/aws-sdk-go-v2/service/dynamodb", "github.com/cogauth/cogauth/store/redis", "github.com/cogauth/cogauth/session"} {
		if linked(g, b) {
			t.Errorf("grpcauth links %s", b)
		}
	}
	c := deps(t, "./connectauth")
	if !linked(c, connectMod) {
		t.Fatalf("connectauth does not link %s", connectMod)
	}
	for _, d := range c {
		if d == "github.com/cogauth/cogauth/grpcauth" {
			t.Error("connectauth imports grpcauth")
		}
	}
	for _, b := range []string{grpcMod, "github.com/redis/go-redis",
		"github.com/zalando/go-keyring", "github.com/aws/aws-sdk-go-v2/service/dynamodb", "github.com/cogauth/cogauth/session"} {
		if linked(c, b) {
			t.Errorf("connectauth links %s", b)
		}
	}
}
