package identity_test

import (
	"context"
	"testing"
	"time"

	"github.com/cogauth/cogauth/identity"
	"github.com/cogauth/cogauth/internal/faultproxy"
	"github.com/cogauth/cogauth/internal/redact/redacttest"
	"github.com/cogauth/cogauth/secret"
	"github.com/cogauth/cogauth/store"
)

// TestRedaction renders every exported type of the package that holds a token
// or AWS credentials, every way, and finds none of the secrets; so too the
// errors of failed calls.
func TestRedaction(t *testing.T) {
	v := newEnv(t)
	tok := v.idToken(t, "alice")
	sig := tok[len(tok)-20:]
	c := v.client(t, v.open, store.NewMemory())
	creds, err := c.Credentials(context.Background(), secret.String(tok))
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{sig, creds.SecretAccessKey.Reveal(), creds.SessionToken.Reveal()}
	login, err := identity.ParseLogin(secret.String(tok))
	if err != nil {
		t.Fatal(err)
	}
	opts := identity.Options{IdentityPoolID: v.open, Store: store.NewMemory()}
	values := map[string]any{
		"Credentials":  creds,
		"*Credentials": &creds,
		"Login":        login,
		"*Login":       &login,
		"*Client":      c,
		"Options":      opts,
		"nested":       struct{ C *identity.Credentials }{&creds},
	}
	for name, val := range values {
		redacttest.NoSecrets(t, name, val, secrets...)
	}

	p := faultproxy.Start(t, v.srv.URL)
	bad, err := identity.New(identity.Options{IdentityPoolID: v.open, Endpoint: p.URL(), Store: store.NewMemory(), Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []faultproxy.Fault{faultproxy.Hang(), faultproxy.MalformedOK(), faultproxy.CognitoError(400, "NotAuthorizedException", "Invalid login token.")} {
		p.Set(faultproxy.Any, f)
		_, err := bad.Credentials(context.Background(), secret.String(tok))
		if err == nil {
			t.Fatalf("%v: no error", f)
		}
		redacttest.NoSecrets(t, "error of "+f.String(), err, secrets...)
	}
}
