package session_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/identity"
	"github.com/cogauth/cogauth/internal/faultproxy"
	"github.com/cogauth/cogauth/internal/redact/redacttest"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/session"
	"github.com/cogauth/cogauth/store"
)

// assertNoSecret fails when any rendering of v contains any of secrets, and
// says which secret showed.
func assertNoSecret(t *testing.T, name string, v any, secrets map[string]string) {
	t.Helper()
	for what, secret := range secrets {
		redacttest.NoSecrets(t, name+" (looking for the "+what+")", v, secret)
	}
}

// signature returns the signature part of a JWT: what makes a token usable.
func signature(tok string) string {
	if i := strings.LastIndexByte(tok, '.'); i >= 0 {
		return tok[i+1:]
	}
	return tok
}

// TestNoSecretInAnyRendering renders every public value of session that holds a
// token or secret — and the errors and events of failed calls — and looks for
// token signatures, the refresh token, the AWS secret key and session token,
// the app client secret and the password.
func TestNoSecretInAnyRendering(t *testing.T) {
	const password = "Redaction-Test-1"
	srv := emulator.NewServer(emulator.Options{
		Clock: clock.NewFake(time.Now().UTC().Truncate(time.Second)),
		Seed: &emulator.Seed{
			UserPools: []emulator.SeedUserPool{{
				Name: "users", Clients: []emulator.SeedClient{{Name: "app", GenerateSecret: true}},
				Users: []emulator.SeedUser{{Username: "alice", Password: password}},
			}},
			IdentityPools: []emulator.SeedIdentityPool{{Name: "ids", UserPool: "users", Clients: []string{"app"}}},
		},
	})
	t.Cleanup(srv.Close)
	sc := srv.AppClient("users", "app")
	if sc.Secret == "" {
		t.Fatal("seeded client has no secret")
	}
	proxy := faultproxy.Start(t, srv.URL)
	c, err := cognito.New(cognito.Options{UserPoolID: srv.PoolID("users"), ClientID: sc.ID, ClientSecret: jwt.Secret(sc.Secret), Endpoint: proxy.URL()})
	if err != nil {
		t.Fatal(err)
	}
	st := store.NewMemory()
	idc, err := identity.New(identity.Options{IdentityPoolID: srv.Seeded().IdentityPools["ids"], Endpoint: srv.URL, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	var events []session.Event
	cfg := session.Config{Cognito: c, Clock: srv.Clock(), Store: st, Credentials: identity.NewSessionCredentials(idc), Logger: quietLogger()}
	m, err := session.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	evc := make(chan session.Event, 64)
	defer m.Subscribe(func(e session.Event) { evc <- e })()

	ctx := context.Background()
	res, err := m.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: password})
	if err != nil || res.Session == nil {
		t.Fatalf("sign-in: %v %v", res, err)
	}
	s := res.Session
	if s.Credentials == nil || s.Credentials.SecretAccessKey == "" || s.Tokens.ID == nil || s.Tokens.Refresh == "" {
		t.Fatalf("incomplete session: %v", s)
	}
	secrets := map[string]string{
		"access token signature": signature(s.Tokens.Access.Raw()),
		"id token signature":     signature(s.Tokens.ID.Raw()),
		"refresh token":          s.Tokens.Refresh.Reveal(),
		"AWS secret access key":  s.Credentials.SecretAccessKey,
		"AWS session token":      s.Credentials.SessionToken,
		"app client secret":      sc.Secret,
		"password":               password,
	}

	values := map[string]any{
		"*Session":       s,
		"Session":        *s,
		"Tokens":         s.Tokens,
		"*SignInResult":  res,
		"SignInResult":   *res,
		"Config":         cfg,
		"*Config":        &cfg,
		"*Manager":       m,
		"[]*Session":     []*session.Session{s},
		"map of Session": map[string]session.Session{"a": *s},
		"struct holding a Session": struct {
			S session.Session
			P *session.Session
		}{*s, s},
	}
	for name, v := range values {
		assertNoSecret(t, name, v, secrets)
	}

	// Errors and events of failed calls: refresh answers that carry the refresh
	// token in a page, or cut short in the middle of the new tokens, and a
	// sign-in with a wrong password.
	var errs []error
	for _, f := range []faultproxy.Fault{
		faultproxy.Answer(500, "text/html", "<html>"+s.Tokens.Refresh.Reveal()+"</html>"),
		faultproxy.Answer(200, "application/x-amz-json-1.1", `{"AuthenticationResult":{"AccessToken":"`+s.Tokens.Access.Raw()+`","RefreshToken":"`+s.Tokens.Refresh.Reveal()+`"`),
		faultproxy.Truncate(600),
	} {
		// Both refresh operations: today's client falls back to InitiateAuth
		// on answers that look like "no such operation".
		proxy.Set("GetTokensFromRefreshToken", f)
		proxy.Set("InitiateAuth", f)
		_, err := m.Fetch(ctx, session.FetchOptions{ForceRefresh: true})
		if err == nil {
			t.Errorf("forced refresh through %v succeeded", f)
			continue
		}
		errs = append(errs, err)
	}
	proxy.Clear()
	_, err = m.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: password + "x"})
	if err == nil {
		t.Fatal("wrong password signed in")
	}
	errs = append(errs, err)
	for i, e := range errs {
		walkErrors(e, func(u error) { assertNoSecret(t, fmt.Sprintf("error %d (%T)", i, u), u, secrets) })
		// The SDK keeps a snapshot of the answer it could not decode; it must not
		// travel with our errors (it holds whatever tokens the answer held).
		var de *smithy.DeserializationError
		if errors.As(e, &de) && len(de.Snapshot) > 0 {
			t.Errorf("error %d carries %d raw answer bytes (smithy.DeserializationError.Snapshot)", i, len(de.Snapshot))
		}
	}
	for {
		select {
		case e := <-evc:
			events = append(events, e)
			continue
		default:
		}
		break
	}
	if len(events) == 0 {
		t.Fatal("no events")
	}
	for _, e := range events {
		assertNoSecret(t, "event "+e.Kind.String(), e, secrets)
	}
}

// walkErrors calls fn for err and every error it wraps, through both Unwrap forms.
func walkErrors(err error, fn func(error)) {
	if err == nil {
		return
	}
	fn(err)
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		walkErrors(u.Unwrap(), fn)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			walkErrors(e, fn)
		}
	}
}
