package main

import (
	"net"
	"strconv"
	"strings"
	"testing"
)

// busyPort holds a free loopback port for the test's life, so that a command told
// to listen there meets "address in use".
func busyPort(t *testing.T) (addr string, port int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String(), ln.Addr().(*net.TCPAddr).Port
}

// A port in use is told as a listen failure naming the flag that picks another,
// never as "cannot reach … --endpoint".
func TestListenErrors(t *testing.T) {
	p := newTestPool(t, nil)
	c := newCLI(t, p)
	c.ok(alicePW+"\n", "login", "--username", "alice", "--password-stdin")
	addr, port := busyPort(t)
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"emulator", []string{"emulator", "--listen", addr}, "cogauth: cannot listen on " + addr + ": address in use — choose another with --listen\n"},
		{"proxy", []string{"proxy", "--upstream", "http://127.0.0.1:1", "--listen", addr}, "cogauth: cannot listen on " + addr + ": address in use — choose another with --listen\n"},
		{"hosted UI", []string{"login", "--hosted-ui", "--no-browser", "--redirect-port", strconv.Itoa(port)},
			"cogauth: cannot listen on " + addr + ": address in use — choose another with --redirect-port\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := c.run("", tt.args...)
			if r.code != exitError || !strings.HasSuffix(r.err, tt.want) || strings.Contains(r.err, "cannot reach") {
				t.Fatalf("exit %d, stderr %q; want exit 1 and %q", r.code, r.err, tt.want)
			}
		})
	}
}
