package cognito_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/internal/faultproxy"
	"github.com/cogauth/cogauth/jwt"
)

// proxiedClient returns a client of the emulator's pool "app" and client name,
// talking through a fault proxy.
func proxiedClient(t *testing.T, srv *emulator.Server, client string, timeout time.Duration) (*cognito.Client, *faultproxy.Proxy) {
	t.Helper()
	p := faultproxy.Start(t, srv.URL)
	cl := srv.AppClient("app", client)
	c, err := cognito.New(cognito.Options{
		UserPoolID: srv.PoolID("app"), ClientID: cl.ID, ClientSecret: jwt.Secret(cl.Secret),
		Endpoint: p.URL(), Clock: srv.Clock(), Timeout: timeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, p
}

// proxiedAgain is a client like proxiedClient's, through the same proxy p, with a
// timeout that suits a healthy call under -race on a busy machine.
func proxiedAgain(t *testing.T, srv *emulator.Server, client string, p *faultproxy.Proxy) *cognito.Client {
	t.Helper()
	cl := srv.AppClient("app", client)
	c, err := cognito.New(cognito.Options{
		UserPoolID: srv.PoolID("app"), ClientID: cl.ID, ClientSecret: jwt.Secret(cl.Secret),
		Endpoint: p.URL(), Clock: srv.Clock(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// hostileRows are the answers networks and proxies give, with what MapError must
// make of each: the Name, whether it is retryable, and words of the message.
var hostileRows = []struct {
	fault     faultproxy.Fault
	name      string
	retryable bool
	says      string
	timeout   time.Duration // the client's per-call timeout; 5 s when zero
}{
	{fault: faultproxy.Refuse(), name: cognito.NetworkError, retryable: true, says: "connection refused"},
	{fault: faultproxy.Reset(), name: cognito.NetworkError, retryable: true, says: "reset"},
	{fault: faultproxy.Hang(), name: cognito.NetworkError, retryable: true, says: "no answer within 200ms", timeout: 200 * time.Millisecond},
	{fault: faultproxy.CognitoError(500, "InternalErrorException", "boom"), name: "InternalErrorException", retryable: true, says: "boom"},
	{fault: faultproxy.CognitoError(503, "ServiceUnavailableException", "later"), name: "ServiceUnavailableException", retryable: true},
	{fault: faultproxy.CognitoError(504, "InternalErrorException", "gateway"), name: "InternalErrorException", retryable: true},
	{fault: faultproxy.HTML(500), name: "HTTP500", retryable: true, says: "not a Cognito answer (text/html)"},
	{fault: faultproxy.HTML(502), name: "HTTP502", retryable: true, says: "Bad Gateway"},
	{fault: faultproxy.HTML(503), name: "HTTP503", retryable: true},
	{fault: faultproxy.HTML(504), name: "HTTP504", retryable: true},
	{fault: faultproxy.HTML(400), name: "HTTP400", retryable: true},
	{fault: faultproxy.HTML(404), name: "HTTP404", retryable: true},
	{fault: faultproxy.Answer(400, "application/json", `{"message":"Bad request"}`), name: "HTTP400", retryable: true, says: "JSON without an exception name"},
	{fault: faultproxy.Answer(500, "", ""), name: "HTTP500", retryable: true, says: "empty"},
	{fault: faultproxy.Throttle(), name: "TooManyRequestsException", retryable: true},
	{fault: faultproxy.TooManyRequests(), name: "HTTP429", retryable: true},
	{fault: faultproxy.CognitoError(400, "NotAuthorizedException", "Refresh Token has been revoked"), name: "NotAuthorizedException", says: "revoked"},
	{fault: faultproxy.EmptyOK(), name: cognito.NetworkError, retryable: true, says: "empty answer"},
	{fault: faultproxy.MalformedOK(), name: cognito.NetworkError, retryable: true, says: "malformed JSON"},
	{fault: faultproxy.Answer(200, faultproxy.JSONContentType, `{"AuthenticationResult":}`), name: cognito.NetworkError, retryable: true, says: "malformed JSON"},
	{fault: faultproxy.HTMLOK(), name: cognito.NetworkError, retryable: true, says: "not JSON (text/html)"},
	{fault: faultproxy.Truncate(0), name: cognito.NetworkError, retryable: true, says: "answer cut short"},
	{fault: faultproxy.Stall(0), name: cognito.NetworkError, retryable: true, says: "no complete answer within 300ms", timeout: 300 * time.Millisecond},
	{fault: faultproxy.Huge(64), name: cognito.NetworkError, retryable: true, says: "answer larger than the 1 MiB limit"},
	{fault: faultproxy.SlowLoris(time.Hour), name: cognito.NetworkError, retryable: true, says: "within 300ms", timeout: 300 * time.Millisecond},
	{fault: faultproxy.SetJSON("AuthenticationResult.AccessToken", 12), name: cognito.NetworkError, retryable: true, says: "JSON of the wrong shape"},
	{fault: faultproxy.DeleteJSON("AuthenticationResult.AccessToken"), name: cognito.InvalidResponse, retryable: true, says: "no tokens"},
}

// TestHostileRefreshAnswers: a refresh through a fault proxy meets each hostile
// answer; the error says what happened, is retryable unless the service refused,
// never falls back to REFRESH_TOKEN_AUTH, holds no answer bytes, and the next
// refresh works once the fault is gone — with and without rotation.
func TestHostileRefreshAnswers(t *testing.T) {
	// "rot" rotates refresh tokens, with a retry grace period: a fault that
	// hides an answer the service gave (a body cut short) leaves the old token
	// usable for the retry, as in Cognito.
	srv := emu(t, func(s *emulator.Seed) {
		s.UserPools[0].Clients = append(s.UserPools[0].Clients, emulator.SeedClient{
			Name: "rot", RefreshTokenRotation: true, RetryGracePeriod: emulator.Duration(time.Minute)})
	})
	for _, client := range []string{"web", "rot"} {
		for _, tt := range hostileRows {
			t.Run(client+"/"+tt.fault.String(), func(t *testing.T) {
				timeout := tt.timeout
				if timeout == 0 {
					timeout = 5 * time.Second
				}
				c, p := proxiedClient(t, srv, client, timeout)
				ctx := context.Background()
				// Signed in directly, so that the refresh opens the proxied client's
				// first connection (a refused one is then refused, not broken).
				res, err := emuClient(t, srv, "app", client).SignIn(ctx, cognito.SignInInput{Username: "alice", Password: pw})
				if err != nil {
					t.Fatal(err)
				}
				rt := res.Tokens.RefreshToken
				in := cognito.RefreshInput{RefreshToken: rt, Username: "alice"}
				// The answer carries the refresh token, so that a leak would show.
				p.Set("GetTokensFromRefreshToken", tt.fault)
				p.ResetCounts()
				_, err = c.Refresh(ctx, in)
				checkHostile(t, err, "GetTokensFromRefreshToken", tt.name, tt.retryable, tt.says, rt.Reveal())
				if n := p.Count("InitiateAuth"); n != 0 {
					t.Fatalf("fell back to REFRESH_TOKEN_AUTH %d times", n)
				}
				p.Clear()
				if tt.name == "NotAuthorizedException" {
					return
				}
				again, err := proxiedAgain(t, srv, client, p).Refresh(ctx, in)
				if err != nil {
					t.Fatalf("refresh once the fault is gone: %v", err)
				}
				if rotates := again.Tokens.RefreshToken != ""; rotates != (client == "rot") {
					t.Fatalf("rotated: %v, for client %s", rotates, client)
				}
				want := 2
				if tt.fault.String() == "refuse" {
					want = 1 // the refused one never reached the proxy
				}
				if got := p.Count("GetTokensFromRefreshToken"); got != want {
					t.Fatalf("GetTokensFromRefreshToken %d times, want %d", got, want)
				}
			})
		}
	}
}

// TestHostileSignInAnswers: the same answers to InitiateAuth end a sign-in with
// the same classification.
func TestHostileSignInAnswers(t *testing.T) {
	srv := emu(t, nil)
	for _, tt := range hostileRows {
		if strings.Contains(tt.fault.String(), "AccessToken") || strings.Contains(tt.name, "NotAuthorized") {
			continue // an SRP sign-in's first answer is a challenge, not tokens
		}
		t.Run(tt.fault.String(), func(t *testing.T) {
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			c, p := proxiedClient(t, srv, "web", timeout)
			p.Set("InitiateAuth", tt.fault)
			_, err := c.SignIn(context.Background(), cognito.SignInInput{Username: "alice", Password: pw})
			checkHostile(t, err, "InitiateAuth", tt.name, tt.retryable, tt.says, pw)
			p.Clear()
			if _, err := proxiedAgain(t, srv, "web", p).SignIn(context.Background(), cognito.SignInInput{Username: "alice", Password: pw}); err != nil {
				t.Fatalf("sign-in once the fault is gone: %v", err)
			}
		})
	}
}

// checkHostile checks one classified failure, and that nothing of secret shows
// in any rendering of the error or of anything in its chain.
func checkHostile(t *testing.T, err error, op, name string, wantRetryable bool, says, secret string) {
	t.Helper()
	var ce *cognito.Error
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a *cognito.Error", err)
	}
	if ce.Op != op || ce.Name != name || ce.Retryable != wantRetryable || retryable(err) != wantRetryable {
		t.Fatalf("err = %v (%#v); want %s %s retryable=%v", err, ce, op, name, wantRetryable)
	}
	if !strings.Contains(err.Error(), says) {
		t.Fatalf("err = %q, want it to say %q", err, says)
	}
	if strings.Contains(err.Error(), "HTTP200") || strings.Contains(err.Error(), ": OK") {
		t.Fatalf("err = %q names the status, not what happened", err)
	}
	var de *smithy.DeserializationError
	if errors.As(err, &de) {
		t.Fatal("the SDK's deserialization error (and its snapshot of the answer) is in the chain")
	}
	for e := error(err); e != nil; e = errors.Unwrap(e) {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			if out := fmt.Sprintf(verb, e); strings.Contains(out, secret) {
				t.Fatalf("%s of %T in the chain shows the secret: %s", verb, e, out)
			}
		}
	}
}

// TestAnswerBytesNeverInTheChain: an answer that the SDK cannot decode but that
// carries a refresh token (the SDK keeps a snapshot of such bodies) leaves no
// trace of it in the error.
func TestAnswerBytesNeverInTheChain(t *testing.T) {
	srv := emu(t, nil)
	c, p := proxiedClient(t, srv, "web", 5*time.Second)
	const leaked = "rt-that-must-not-show-0123456789"
	for _, body := range []string{
		`{"AuthenticationResult":{"RefreshToken":"` + leaked + `","AccessToken":12}}`,
		`{"AuthenticationResult":{"RefreshToken":"` + leaked + `"`,
		`<html>` + leaked + `</html>`,
	} {
		for _, status := range []int{200, 400, 500} {
			p.Set("GetTokensFromRefreshToken", faultproxy.Answer(status, faultproxy.JSONContentType, body))
			_, err := c.Refresh(context.Background(), cognito.RefreshInput{RefreshToken: "x", Username: "alice"})
			if !retryable(err) {
				t.Errorf("%d %q: err %v not retryable", status, body, err)
			}
			checkHostile(t, err, "GetTokensFromRefreshToken", nameOf(err), true, "", leaked)
		}
	}
}

func nameOf(err error) string {
	var ce *cognito.Error
	if errors.As(err, &ce) {
		return ce.Name
	}
	return ""
}

// TestHugeAnswerCostsLittle: a 64 MiB answer is read no further than the 1 MiB
// cap; the whole process (proxy included) allocates well under 32 MiB for it.
func TestHugeAnswerCostsLittle(t *testing.T) {
	srv := emu(t, nil)
	c, p := proxiedClient(t, srv, "web", 30*time.Second)
	p.Set(faultproxy.Any, faultproxy.Huge(64))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := c.Refresh(context.Background(), cognito.RefreshInput{RefreshToken: "x", Username: "alice"})
	runtime.ReadMemStats(&after)
	if !strings.Contains(fmt.Sprint(err), "1 MiB limit") {
		t.Fatalf("err = %v, want the 1 MiB limit", err)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("64 MiB answer: %.1f MiB allocated in the process during the call", float64(alloc)/(1<<20))
	if alloc > 32<<20 {
		t.Fatalf("a 64 MiB answer cost %d MiB of allocations", alloc>>20)
	}
}

// TestEveryCallEndsAgainstAHang: sign-in, refresh and sign-out (global and
// revoke) against an endpoint that accepts and never answers end at the client's
// timeout, with a retryable NetworkError — also when the caller's context has
// no deadline at all.
func TestEveryCallEndsAgainstAHang(t *testing.T) {
	srv := emu(t, nil)
	c, p := proxiedClient(t, srv, "web", 200*time.Millisecond)
	ctx := context.Background()
	res, err := emuClient(t, srv, "app", "web").SignIn(ctx, cognito.SignInInput{Username: "alice", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	p.Set(faultproxy.Any, faultproxy.Hang())
	calls := map[string]func() error{
		"SignIn": func() error {
			_, err := c.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: pw})
			return err
		},
		"Refresh": func() error {
			_, err := c.Refresh(ctx, cognito.RefreshInput{RefreshToken: res.Tokens.RefreshToken, Username: "alice"})
			return err
		},
		"GlobalSignOut": func() error { return c.GlobalSignOut(ctx, res.Tokens.AccessToken) },
		"RevokeToken":   func() error { return c.RevokeToken(ctx, res.Tokens.RefreshToken) },
		"GetUser": func() error {
			_, err := c.GetUser(ctx, res.Tokens.AccessToken)
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			err := call()
			if !retryable(err) || !errors.Is(err, cognito.ErrNetwork) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want a retryable NetworkError from the deadline", err)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Fatalf("took %v", d)
			}
		})
	}
	// A caller's shorter deadline still wins, and says so as a plain timeout.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = c.GetUser(short, res.Tokens.AccessToken)
	if !errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "200ms") {
		t.Fatalf("caller's deadline: %v", err)
	}
	// A negative Timeout leaves it to the caller.
	noLimit, err := cognito.New(cognito.Options{UserPoolID: srv.PoolID("app"), ClientID: srv.AppClient("app", "web").ID, Endpoint: p.URL(), Timeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = noLimit.GetUser(short, res.Tokens.AccessToken)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("no per-call timeout, caller's deadline: %v", err)
	}
}
