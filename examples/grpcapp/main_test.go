package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestGrpcapp runs the example as its one command does and checks its three
// answers: alice's name, PermissionDenied for the scope she lacks, health open.
func TestGrpcapp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out strings.Builder
	if err := run(ctx, options{username: "alice", out: &out}); err != nil {
		t.Fatal(err)
	}
	want := "Whoami: hello alice\nCreate: PermissionDenied (required scope missing)\nhealth: SERVING\n"
	if out.String() != want {
		t.Fatalf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}
