package identity_test

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
	"github.com/cogauth/cogauth/identity"
	"github.com/cogauth/cogauth/internal/faultproxy"
	"github.com/cogauth/cogauth/secret"
	"github.com/cogauth/cogauth/store"
)

// TestHostileIdentityAnswers: identity-pool calls through a fault proxy meet the
// answers networks give; each comes out classified by what happened, retryable
// unless the service refused, with no answer bytes in the chain, and the next
// call works once the fault is gone.
func TestHostileIdentityAnswers(t *testing.T) {
	v := newEnv(t)
	tok := v.idToken(t, "alice")
	tests := []struct {
		op        string
		fault     faultproxy.Fault
		name      string
		retryable bool
		says      string
		timeout   time.Duration
	}{
		{"GetId", faultproxy.Refuse(), cognito.NetworkError, true, "connection refused", 0},
		{"GetId", faultproxy.Reset(), cognito.NetworkError, true, "reset", 0},
		{"GetId", faultproxy.Hang(), cognito.NetworkError, true, "no answer within 200ms", 200 * time.Millisecond},
		{"GetCredentialsForIdentity", faultproxy.Hang(), cognito.NetworkError, true, "no answer within 200ms", 200 * time.Millisecond},
		{"GetCredentialsForIdentity", faultproxy.HTML(502), "HTTP502", true, "not a Cognito answer", 0},
		{"GetCredentialsForIdentity", faultproxy.HTML(404), "HTTP404", true, "not a Cognito answer", 0},
		{"GetCredentialsForIdentity", faultproxy.CognitoError(500, "InternalErrorException", "x"), "InternalErrorException", true, "x", 0},
		{"GetCredentialsForIdentity", faultproxy.Throttle(), "TooManyRequestsException", true, "Rate exceeded", 0},
		{"GetCredentialsForIdentity", faultproxy.TooManyRequests(), "HTTP429", true, "", 0},
		{"GetCredentialsForIdentity", faultproxy.CognitoError(400, "NotAuthorizedException", "Invalid login token."), "NotAuthorizedException", false, "Invalid login token", 0},
		{"GetCredentialsForIdentity", faultproxy.EmptyOK(), cognito.NetworkError, true, "empty answer", 0},
		{"GetCredentialsForIdentity", faultproxy.MalformedOK(), cognito.NetworkError, true, "malformed JSON", 0},
		{"GetCredentialsForIdentity", faultproxy.HTMLOK(), cognito.NetworkError, true, "not JSON (text/html)", 0},
		{"GetCredentialsForIdentity", faultproxy.Truncate(0), cognito.NetworkError, true, "answer cut short", 0},
		{"GetCredentialsForIdentity", faultproxy.Stall(0), cognito.NetworkError, true, "no complete answer within 300ms", 300 * time.Millisecond},
		{"GetCredentialsForIdentity", faultproxy.Huge(64), cognito.NetworkError, true, "1 MiB limit", 0},
		{"GetCredentialsForIdentity", faultproxy.SlowLoris(time.Hour), cognito.NetworkError, true, "within 300ms", 300 * time.Millisecond},
		{"GetCredentialsForIdentity", faultproxy.SetJSON("Credentials.SecretKey", 7), cognito.NetworkError, true, "JSON of the wrong shape", 0},
		{"GetCredentialsForIdentity", faultproxy.DeleteJSON("Credentials"), identity.IncompleteResponse, true, "no Credentials", 0},
	}
	for _, tt := range tests {
		t.Run(tt.op+"/"+tt.fault.String(), func(t *testing.T) {
			p := faultproxy.Start(t, v.srv.URL)
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			c, err := identity.New(identity.Options{IdentityPoolID: v.open, Endpoint: p.URL(), Store: store.NewMemory(), Timeout: timeout})
			if err != nil {
				t.Fatal(err)
			}
			p.Set(tt.op, tt.fault)
			_, err = c.Credentials(context.Background(), secret.String(tok))
			var ce *cognito.Error
			if !errors.As(err, &ce) || ce.Op != tt.op || ce.Name != tt.name || ce.Retryable != tt.retryable || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("err = %v (%#v); want %s %s retryable=%v saying %q", err, ce, tt.op, tt.name, tt.retryable, tt.says)
			}
			if errors.As(err, new(*smithy.DeserializationError)) {
				t.Fatal("the SDK's snapshot of the answer is in the chain")
			}
			for e := error(err); e != nil; e = errors.Unwrap(e) {
				if out := fmt.Sprintf("%+v %#v", e, e); strings.Contains(out, tok) {
					t.Fatalf("%T in the chain shows the id token", e)
				}
			}
			p.Clear()
			again, err := identity.New(identity.Options{IdentityPoolID: v.open, Endpoint: p.URL(), Store: store.NewMemory()})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := again.Credentials(context.Background(), secret.String(tok)); err != nil {
				t.Fatalf("once the fault is gone: %v", err)
			}
		})
	}
}

// TestHugeIdentityAnswerCostsLittle: a 64 MiB answer on the identity-pool path is
// read no further than the cap.
func TestHugeIdentityAnswerCostsLittle(t *testing.T) {
	v := newEnv(t)
	p := faultproxy.Start(t, v.srv.URL)
	c, err := identity.New(identity.Options{IdentityPoolID: v.open, Endpoint: p.URL(), Store: store.NewMemory()})
	if err != nil {
		t.Fatal(err)
	}
	p.Set(faultproxy.Any, faultproxy.Huge(64))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err = c.Credentials(context.Background(), "")
	runtime.ReadMemStats(&after)
	if !strings.Contains(fmt.Sprint(err), "1 MiB limit") {
		t.Fatalf("err = %v", err)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("64 MiB answer: %.1f MiB allocated in the process during the call", float64(alloc)/(1<<20))
	if alloc > 32<<20 {
		t.Fatalf("a 64 MiB answer cost %d MiB of allocations", alloc>>20)
	}
}
