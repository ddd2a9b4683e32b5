package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

// BenchmarkCredentialsProcess is one `cogauth credentials --format process` as an
// AWS SDK runs it, in-process (no fork and exec): configuration, the file store,
// the session's cached credentials, the JSON. It makes no network call; the
// emulator counts them to prove it.
func BenchmarkCredentialsProcess(b *testing.B) {
	p := newIdentityTestPool(b, false)
	c := newCLI(b, p)
	c.env["COGAUTH_STORE"] = "file"
	c.ok(alicePW+"\n", "login", "-u", "alice", "--password-stdin")
	c.ok("", "credentials", "--format", "process")
	p.srv.ResetCounters()
	e := c.environment(strings.NewReader(""), io.Discard, io.Discard)
	args := []string{"credentials", "--format", "process"}
	b.ReportAllocs()
	for b.Loop() {
		if code := Main(context.Background(), e, args); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
	b.StopTimer()
	if n := len(p.srv.RequestCounts()); n != 0 {
		b.Fatalf("%d kinds of calls reached the service: %v", n, p.srv.RequestCounts())
	}
}
