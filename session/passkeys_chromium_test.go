package session_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/hostedui/browsertest"
	"github.com/cogauth/cogauth/session"
)

// passkeyPage is the web app of TestPasskeysInChromium: the browser side calls
// navigator.credentials.create/get with the options its backend got from the
// library, and posts the authenticator's answers back as the JSON the browser
// makes of them (PublicKeyCredential.toJSON), as any passkey page does.
const passkeyPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>passkeys</title></head><body>
<p>passkeys</p>
<script>
async function post(path, body) {
  const r = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: body === undefined ? '' : JSON.stringify(body) });
  const text = await r.text();
  if (!r.ok) throw new Error(path + ': ' + r.status + ' ' + text);
  return text ? JSON.parse(text) : null;
}
async function register() {
  const options = await post('/passkeys/options');
  const cred = await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) });
  await post('/passkeys', cred.toJSON());
  return { id: cred.id };
}
async function signIn(username) {
  const options = await post('/signin/options', { username });
  const cred = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
  return post('/signin', cred.toJSON());
}
function run(p) { return p.then((v) => v, (e) => ({ error: e.name + ': ' + e.message })); }
</script></body></html>`

// passkeyApp is the page's backend: registration through one Manager (alice,
// signed in with her password), passkey sign-ins through another.
type passkeyApp struct {
	reg, login   *session.Manager
	beforeAnswer func() // runs between the sign-in options and the answer

	mu      sync.Mutex
	pending *cognito.Challenge
}

func (a *passkeyApp) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, passkeyPage)
	})
	mux.HandleFunc("POST /passkeys/options", func(w http.ResponseWriter, r *http.Request) {
		opts, err := a.reg.Passkeys().StartRegistration(r.Context())
		reply(w, opts, err)
	})
	mux.HandleFunc("POST /passkeys", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
		if err == nil {
			err = a.reg.Passkeys().CompleteRegistration(r.Context(), body)
		}
		reply(w, json.RawMessage(`{}`), err)
	})
	mux.HandleFunc("POST /signin/options", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Username string }
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(&in); err != nil {
			reply(w, nil, err)
			return
		}
		res, err := a.login.SignIn(r.Context(), cognito.SignInInput{Username: in.Username, Flow: cognito.FlowUserAuth, PreferredChallenge: cognito.FactorWebAuthn})
		if err == nil && (res.Next == nil || res.Next.Name != cognito.ChallengeWebAuthn) {
			err = errors.New("the sign-in did not ask for a passkey")
		}
		if err != nil {
			reply(w, nil, err)
			return
		}
		a.mu.Lock()
		a.pending = res.Next
		a.mu.Unlock()
		reply(w, res.Next.CredentialRequestOptions, nil)
	})
	mux.HandleFunc("POST /signin", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
		if err != nil {
			reply(w, nil, err)
			return
		}
		a.mu.Lock()
		ch := a.pending
		a.pending = nil
		a.mu.Unlock()
		if a.beforeAnswer != nil {
			a.beforeAnswer()
		}
		res, err := a.login.ConfirmSignIn(r.Context(), ch, cognito.Answer{Credential: body})
		if err == nil && res.Session == nil {
			err = errors.New("signed in without a session")
		}
		if err != nil {
			reply(w, nil, err)
			return
		}
		reply(w, map[string]string{"username": res.Session.Username}, nil)
	})
	return mux
}

func reply(w http.ResponseWriter, v any, err error) {
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	json.NewEncoder(w).Encode(v)
}

// TestPasskeysInChromium registers a passkey and signs in with it in a real
// headless Chromium, whose DevTools virtual authenticator (CTAP2, internal,
// resident keys, user verification) makes real attestations and assertions: the
// page on http://localhost (a secure context) calls navigator.credentials.create
// with the emulator's creation options and navigator.credentials.get with the
// WEB_AUTHN challenge's request options, parsed by the browser's own JSON
// parsers; the library takes the browser's toJSON answers to tokens.
func TestPasskeysInChromium(t *testing.T) {
	br := browsertest.Start(t)
	srv := emulator.NewServer(emulator.Options{Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
		Name:                    "web",
		AllowedFirstAuthFactors: []string{"PASSWORD", "WEB_AUTHN"},
		WebAuthn:                &emulator.SeedWebAuthn{RelyingPartyID: "localhost", UserVerification: "required"},
		Clients: []emulator.SeedClient{{Name: "spa", ExplicitAuthFlows: []string{
			"ALLOW_USER_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH",
		}}},
		Users: []emulator.SeedUser{{Username: "alice", Password: "Corr3ct-Horse!", Attributes: map[string]string{"email": "alice@example.com", "email_verified": "true"}}},
	}}}})
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	manager := func() *session.Manager {
		c, err := cognito.New(cognito.Options{UserPoolID: srv.PoolID("web"), ClientID: srv.AppClient("web", "spa").ID, Endpoint: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		m, err := session.New(session.Config{Cognito: c})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		return m
	}
	app := &passkeyApp{reg: manager(), login: manager()}
	if _, err := app.reg.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: "Corr3ct-Horse!"}); err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: app.routes(), ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	defer hs.Close()
	origin := "http://localhost:" + strings.TrimPrefix(ln.Addr().String(), "127.0.0.1:")

	page, err := br.Open(ctx, origin+"/")
	if err != nil {
		t.Fatal(err)
	}
	if err := page.WaitFor(ctx, `typeof register === 'function'`); err != nil {
		t.Fatal(err)
	}
	if err := page.Call(ctx, "WebAuthn.enable", map[string]any{"enableUI": false}, nil); err != nil {
		t.Fatal(err)
	}
	var va struct {
		AuthenticatorID string `json:"authenticatorId"`
	}
	if err := page.Call(ctx, "WebAuthn.addVirtualAuthenticator", map[string]any{"options": map[string]any{
		"protocol": "ctap2", "transport": "internal", "hasResidentKey": true,
		"hasUserVerification": true, "isUserVerified": true, "automaticPresenceSimulation": true,
	}}, &va); err != nil {
		t.Fatal(err)
	}
	type credential struct {
		CredentialID string `json:"credentialId"` // base64
		RPID         string `json:"rpId"`
		SignCount    int    `json:"signCount"`
		Resident     bool   `json:"isResidentCredential"`
	}
	onAuthenticator := func() []credential {
		t.Helper()
		var out struct{ Credentials []credential }
		if err := page.Call(ctx, "WebAuthn.getCredentials", map[string]any{"authenticatorId": va.AuthenticatorID}, &out); err != nil {
			t.Fatal(err)
		}
		return out.Credentials
	}
	eval := func(expr string) map[string]string {
		t.Helper()
		var out map[string]string
		if err := page.Eval(ctx, "run("+expr+")", &out); err != nil {
			t.Fatal(err)
		}
		return out
	}

	// Registration: create() with the emulator's options, the answer verified.
	got := eval(`register()`)
	if got["error"] != "" {
		t.Fatalf("register: %s", got["error"])
	}
	keys, err := app.reg.Passkeys().List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	creds := onAuthenticator()
	if len(keys) != 1 || len(creds) != 1 {
		t.Fatalf("%d passkeys listed, %d on the authenticator; want 1 and 1", len(keys), len(creds))
	}
	raw, err := base64.StdEncoding.DecodeString(creds[0].CredentialID)
	if err != nil {
		t.Fatal(err)
	}
	if id := base64.RawURLEncoding.EncodeToString(raw); keys[0].ID != id || got["id"] != id {
		t.Fatalf("passkey %q listed, %q on the authenticator, %q in the browser", keys[0].ID, id, got["id"])
	}
	if keys[0].RelyingPartyID != "localhost" || creds[0].RPID != "localhost" || !creds[0].Resident {
		t.Fatalf("listed %+v, on the authenticator %+v", keys[0], creds[0])
	}

	// Sign-in: get() with the WEB_AUTHN challenge's options; tokens for alice.
	// Twice: the sign counter goes up, and the emulator follows it.
	count := creds[0].SignCount
	for i := 1; i <= 2; i++ {
		got = eval(`signIn('alice')`)
		if got["error"] != "" || got["username"] != "alice" {
			t.Fatalf("sign-in %d: %v", i, got)
		}
		s, err := app.login.Fetch(ctx, session.FetchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if s.Username != "alice" || s.Tokens.Access.Raw() == "" {
			t.Fatalf("session after the passkey sign-in: %q", s.Username)
		}
		if n := onAuthenticator()[0].SignCount; n != count+i {
			t.Fatalf("sign count %d after %d sign-ins, from %d", n, i, count)
		}
		if err := app.login.SignOut(ctx, session.SignOutOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	// A passkey deleted while the sign-in is under way: the browser still
	// holds it and signs, the pool refuses the answer, and nobody is signed in.
	app.beforeAnswer = func() {
		if err := app.reg.Passkeys().Delete(ctx, keys[0].ID); err != nil {
			t.Error(err)
		}
	}
	got = eval(`signIn('alice')`)
	if !strings.Contains(got["error"], "/signin: 400") || !strings.Contains(got["error"], "NotAuthorizedException") {
		t.Fatalf("sign-in with a deleted passkey: %v", got)
	}
	if _, err := app.login.Fetch(ctx, session.FetchOptions{}); !errors.Is(err, session.ErrSignedOut) {
		t.Fatalf("after a refused passkey: Fetch %v", err)
	}
	if keys, err := app.reg.Passkeys().List(ctx); err != nil || len(keys) != 0 {
		t.Fatalf("passkeys after the delete: %v %v", keys, err)
	}
}
