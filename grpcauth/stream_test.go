package grpcauth_test

import (
	"context"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cogauth/cogauth/grpcauth"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func streamEnv(t *testing.T) (*env, *server, *grpc.ClientConn) {
	e := newEnv(t)
	s := newServer(e.Verifier, nil, policy()...)
	conn := dialBuf(t, bufServer(t, s), grpc.WithStreamInterceptor(grpcauth.StreamClientInterceptor(e.Session, grpcauth.AllowPlaintext())))
	return e, s, conn
}

func stream(t *testing.T, conn *grpc.ClientConn, i int, method string) grpc.ClientStream {
	t.Helper()
	st, err := conn.NewStream(context.Background(), &echoDesc.Streams[i], method)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestStreamsBothWays: server, client and bidi streams carry the token; after the
// server starts refusing it, a server stream (one message sent) and a bidi
// stream (none sent yet) are opened again once, with one refresh.
func TestStreamsBothWays(t *testing.T) {
	e, s, conn := streamEnv(t)
	count := func() string {
		st := stream(t, conn, 0, mCount)
		if err := st.SendMsg(&msg{"n"}); err != nil {
			t.Fatal(err)
		}
		if err := st.CloseSend(); err != nil {
			t.Fatal(err)
		}
		return strings.Join(recvAll(t, st), ",")
	}
	chat := func() string {
		st := stream(t, conn, 2, mChat)
		var got []string
		m := new(msg)
		if err := st.RecvMsg(m); err != nil {
			t.Fatalf("greeting: %v", err)
		}
		got = append(got, m.S)
		for _, w := range []string{"a", "b"} {
			if err := st.SendMsg(&msg{w}); err != nil {
				t.Fatal(err)
			}
			if err := st.RecvMsg(m); err != nil {
				t.Fatal(err)
			}
			got = append(got, m.S)
		}
		_ = st.CloseSend()
		if err := st.RecvMsg(m); err != io.EOF {
			t.Fatalf("end of chat: %v", err)
		}
		return strings.Join(got, ",")
	}
	sum := func() string {
		st := stream(t, conn, 1, mSum)
		for range 3 {
			if err := st.SendMsg(&msg{"x"}); err != nil {
				t.Fatal(err)
			}
		}
		_ = st.CloseSend()
		m := new(msg)
		if err := st.RecvMsg(m); err != nil {
			t.Fatal(err)
		}
		return m.S
	}
	if got := count(); got != "alice n,alice n,alice n" {
		t.Fatalf("Count: %q", got)
	}
	if got := sum(); got != "alice 3" {
		t.Fatalf("Sum: %q", got)
	}
	if got := chat(); got != "hello alice,a,b" {
		t.Fatalf("Chat: %q", got)
	}
	for name, run := range map[string]func() string{"Count": count, "Chat": chat} {
		e.RevokeCurrent()
		before, seen := e.Refreshes(), s.seen.Load()
		want := map[string]string{"Count": "alice n,alice n,alice n", "Chat": "hello alice,a,b"}[name]
		if got := run(); got != want {
			t.Fatalf("%s after revocation: %q", name, got)
		}
		if n := e.Refreshes() - before; n != 1 {
			t.Fatalf("%s: %d refreshes, want 1", name, n)
		}
		if n := s.seen.Load() - seen; n != 2 {
			t.Fatalf("%s: %d streams reached the server, want 2", name, n)
		}
	}
}

// TestStreamNotRetriedAfterSecondMessage: once the client has sent two messages,
// a refusal is the caller's, and nothing is refreshed.
func TestStreamNotRetriedAfterSecondMessage(t *testing.T) {
	e, s, conn := streamEnv(t)
	if _, err := e.Session.Token(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	e.RevokeCurrent()
	before, seen := e.Refreshes(), s.seen.Load()
	st := stream(t, conn, 3, mQuiet)
	for range 2 {
		if err := st.SendMsg(&msg{"x"}); err != nil && err != io.EOF {
			t.Fatal(err)
		}
	}
	err := st.RecvMsg(new(msg))
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("%v, want Unauthenticated", err)
	}
	if n := e.Refreshes() - before; n != 0 {
		t.Fatalf("%d refreshes", n)
	}
	if n := s.seen.Load() - seen; n != 1 {
		t.Fatalf("%d attempts", n)
	}
}

// TestStreamNotRetriedOnOtherCodes: a stream refused with PermissionDenied
// (the health service's Watch is public, so the test uses a scope policy) is not
// opened again.
func TestStreamNotRetriedOnOtherCodes(t *testing.T) {
	e := newEnv(t)
	s := newServer(e.Verifier, nil, grpcauth.Method(mCount, grpcauth.Policy{Scopes: []string{"orders/write"}}))
	conn := dialBuf(t, bufServer(t, s), grpc.WithStreamInterceptor(grpcauth.StreamClientInterceptor(e.Session, grpcauth.AllowPlaintext())))
	if _, err := e.Session.Token(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	before, seen := e.Refreshes(), s.seen.Load()
	st := stream(t, conn, 0, mCount)
	_ = st.SendMsg(&msg{"n"})
	_ = st.CloseSend()
	if err := st.RecvMsg(new(msg)); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("%v, want PermissionDenied", err)
	}
	if e.Refreshes() != before || s.seen.Load()-seen != 1 {
		t.Fatalf("refreshes %d, attempts %d", e.Refreshes()-before, s.seen.Load()-seen)
	}
}

// TestConcurrentStreamsRace: 20 bidi streams, each with a sending and a
// receiving goroutine, meet a revoked token together. Half wait for the greeting
// before they send: they are opened again and complete. The other half send at
// once: each completes (if the refusal came before its second message) or gets
// it. All together cause one refresh. Under -race it also holds the replay's
// locking between Send and the switch to a new attempt.
func TestConcurrentStreamsRace(t *testing.T) {
	e, _, conn := streamEnv(t)
	ctx := context.Background()
	if _, err := e.Session.Token(ctx, false); err != nil {
		t.Fatal(err)
	}
	e.RevokeCurrent()
	before := e.Refreshes()
	var wg sync.WaitGroup
	var ok, refused atomic.Int64
	for i := range 20 {
		patient := i%2 == 0
		wg.Go(func() {
			st, err := conn.NewStream(ctx, &echoDesc.Streams[2], mChat)
			if err != nil {
				t.Error(err)
				return
			}
			greeted := make(chan struct{})
			sendDone := make(chan struct{})
			go func() {
				defer close(sendDone)
				if patient {
					<-greeted
				}
				for _, w := range []string{"a", "b", "c"} {
					if st.SendMsg(&msg{w}) != nil {
						return
					}
				}
				_ = st.CloseSend()
			}()
			var got []string
			for {
				m := new(msg)
				err := st.RecvMsg(m)
				if err == io.EOF {
					break
				}
				if err != nil {
					if patient || status.Code(err) != codes.Unauthenticated {
						t.Errorf("patient=%v: %v", patient, err)
					}
					refused.Add(1)
					if len(got) == 0 {
						close(greeted)
					}
					<-sendDone
					return
				}
				if len(got) == 0 {
					close(greeted)
				}
				got = append(got, m.S)
			}
			<-sendDone
			if strings.Join(got, ",") != "hello alice,a,b,c" {
				t.Errorf("stream got %q", got)
			}
			ok.Add(1)
		})
	}
	wg.Wait()
	if n := e.Refreshes() - before; n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
	t.Logf("%d streams completed, %d refused", ok.Load(), refused.Load())
}
