// Command webapp is a runnable example of websession: a web app whose users sign
// in on the hosted UI and whose browser never sees a token. With no flags it
// starts an embedded Cognito emulator, so that one command is enough:
//
//	go run ./examples/webapp
//
// and open http://localhost:8080 (sign in as alice with the printed password).
//
// As a fleet: -redis keeps sessions in Redis and carries sign-outs over Redis
// pub/sub, so several copies (each its own -addr, all with the same -secret and
// -base, the load balancer's origin) are replicas of one app. They share one
// user pool through -endpoint, -user-pool-id and -client-id (with -domain for
// the hosted UI when it is not at -endpoint, -client-secret when the client has
// one, -identity-pool-id for AWS credentials, -issuer when it cannot be derived)
// — a `cogauth emulator --self-issuer` or a real pool. -idle-timeout,
// -absolute-timeout and -refresh-wait tune the sessions; -cookie-keys keeps
// them in sealed cookies instead of a store. Every flag is also read
// from COGAUTH_ and its name in capitals (COGAUTH_USER_POOL_ID, …); a flag on
// the command line wins. The README shows three replicas behind a proxy.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/httpauth"
	"github.com/cogauth/cogauth/identity"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/session"
	"github.com/cogauth/cogauth/store"
	redisstore "github.com/cogauth/cogauth/store/redis"
	"github.com/cogauth/cogauth/websession"
	"github.com/cogauth/cogauth/websession/redisbus"
)

func main() {
	o, err := parseOptions(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "webapp:", err)
		os.Exit(2)
	}
	o.out = os.Stdout
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, nil); err != nil {
		fmt.Fprintln(os.Stderr, "webapp:", err)
		os.Exit(1)
	}
}

// run serves the app until ctx ends; ready, when set, is told the app's URL
// and alice's password once it listens (for the test).
func run(ctx context.Context, o options, ready func(base, password string)) error {
	l, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	defer l.Close()
	if o.base == "" {
		o.base = "http://" + l.Addr().String()
	}
	secret := make([]byte, 32)
	if o.secret != "" {
		secret, _ = hex.DecodeString(o.secret) // checked by parseOptions
	} else {
		rand.Read(secret)
	}
	where := "user pool " + o.userPoolID + " at " + o.endpoint
	if o.endpoint == "" {
		emu, err := embed(&o)
		if err != nil {
			return err
		}
		defer emu.Close()
		where = "emulator at " + emu.URL
	}
	cfg, err := sessionsConfig(o, secret)
	if err != nil {
		return err
	}
	closeShared, err := shareSessions(o, &cfg)
	if err != nil {
		return err
	}
	defer closeShared()
	ws, err := websession.New(cfg)
	if err != nil {
		return err
	}
	defer ws.Close()
	mux, err := routes(o, ws, "http://"+l.Addr().String(), cfg.Session.Credentials != nil)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: ws.Handler(mux), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(slog.Default().Handler(), slog.LevelWarn)}
	fmt.Fprintf(o.out, "webapp on %s (listening on %s; %s)\n", o.base, l.Addr(), where)
	if o.password != "" {
		fmt.Fprintf(o.out, "sign in as alice, password %s\n", o.password)
	}
	if ready != nil {
		ready(o.base, o.password)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	case err := <-errc:
		return err
	}
}

// shareSessions puts the sessions where o says: Redis (with its bus for
// sign-outs), sealed cookies (-cookie-keys; with -redis only the bus), or this
// process's memory.
func shareSessions(o options, cfg *websession.Config) (closer func(), err error) {
	cfg.CookieKeys, _ = o.cookieKeys() // checked by parseOptions
	if o.redis == "" {
		if cfg.CookieKeys == nil {
			cfg.Store = store.NewMemory()
		}
		return func() {}, nil
	}
	rc := redis.NewClient(&redis.Options{Addr: o.redis})
	bus := redisbus.New(rc, "")
	closer = func() { bus.Close(); rc.Close() }
	cfg.Bus = bus
	if cfg.CookieKeys == nil {
		if cfg.Store, err = redisstore.New(rc, redisstore.Options{}); err != nil {
			closer()
			return nil, err
		}
	}
	return closer, nil
}

// routes are the app's pages and APIs; self is this replica's own URL, where
// it calls its internal API.
func routes(o options, ws *websession.Sessions, self string, aws bool) (*http.ServeMux, error) {
	// An API of our own that wants the user's access token, as a separate
	// service would.
	// It refuses the access tokens of sessions signed out on any replica
	// (the revocations websession keeps from the Bus), with no call to Cognito;
	// a service in another process takes websession.NewRevocations(bus, nil).
	av, err := jwt.NewVerifier(jwt.VerifierOptions{Issuers: []string{o.issuer}, ClientIDs: []string{o.clientID}, TokenUse: jwt.AccessToken,
		Revocations: ws.Revocations()})
	if err != nil {
		return nil, err
	}
	api := httpauth.Middleware(av)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := httpauth.ClaimsFrom(r.Context())
		fmt.Fprintf(w, "the API saw a valid access token of %s", c.Username)
	}))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		u, _ := websession.UserFrom(r.Context())
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = page.Execute(w, u)
	})
	mux.Handle("/internal/api", api)
	mux.Handle("GET /api/call", ws.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := websession.UserFrom(r.Context())
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, self+"/internal/api", nil)
		resp, err := httpauth.NewClient(u, httpauth.Bearer).Do(req)
		if err != nil {
			// The token could not be had (httpauth.ErrToken, wrapping why): when
			// waiting helps — the refresh under way, the token endpoint held —
			// the session is kept, and the client gets websession's 503.
			var re interface{ RetryableError() bool } // as aws-sdk-go-v2's retryers read it
			if errors.Is(err, httpauth.ErrToken) && errors.As(err, &re) && re.RetryableError() {
				ws.Unavailable(w, r, err)
				return
			}
			http.Error(w, "the API call failed", http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, io.LimitReader(resp.Body, 1<<16))
	})))
	mux.Handle("GET /api/aws", ws.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !aws {
			http.Error(w, "this app has no identity pool (-identity-pool-id)", http.StatusNotFound)
			return
		}
		u, _ := websession.UserFrom(r.Context())
		creds, err := u.Credentials().Retrieve(r.Context())
		if err != nil {
			http.Error(w, "no AWS credentials", http.StatusBadGateway)
			return
		}
		// An AWS SDK client would take u.Credentials() as its Credentials; show
		// that it works without showing the secret.
		fmt.Fprintf(w, "AWS access key %s…, expires %s", creds.AccessKeyID[:min(4, len(creds.AccessKeyID))], creds.Expires.Format(time.RFC3339))
	})))
	return mux, nil
}

// embed starts the embedded Cognito — a pool, an app client for this app's
// URLs, alice, and an identity pool for her AWS credentials — and points o at
// it.
func embed(o *options) (*emulator.Server, error) {
	if o.password == "" {
		var b [12]byte
		rand.Read(b[:])
		o.password = "Web-" + base64.RawURLEncoding.EncodeToString(b[:]) + "1a"
	}
	emu, err := emulator.Listen("127.0.0.1:0", emulator.Options{SelfIssuer: true})
	if err != nil {
		return nil, err
	}
	pool, err := emu.CreateUserPool(emulator.SeedUserPool{
		Name: "webapp",
		Clients: []emulator.SeedClient{{
			Name: "web", AllowedOAuthFlows: []string{"code"}, AllowedOAuthScopes: []string{"openid", "email", "profile"},
			CallbackURLs: []string{o.base + "/auth/callback"}, LogoutURLs: []string{o.base + "/"},
			RefreshTokenRotation: true, RetryGracePeriod: emulator.Duration(30 * time.Second),
		}},
		Users: []emulator.SeedUser{{Username: "alice", Password: o.password, Attributes: map[string]string{"email": "alice@example.com", "email_verified": "true"}}},
	})
	if err != nil {
		emu.Close()
		return nil, err
	}
	client := pool.Clients["web"]
	idp, err := emu.CreateIdentityPool(emulator.IdentityPoolConfig{
		Name:                     "webapp",
		CognitoIdentityProviders: []emulator.CognitoIdentityProvider{{ProviderName: emulator.ProviderName(pool.ID), ClientID: client.ID}},
	})
	if err != nil {
		emu.Close()
		return nil, err
	}
	o.endpoint, o.domain, o.userPoolID, o.clientID, o.identityPoolID = emu.URL, emu.URL, pool.ID, client.ID, idp
	o.issuer = emu.Issuer(pool.ID)
	return emu, nil
}

// sessionsConfig is websession's configuration for o's user pool, without
// the store.
func sessionsConfig(o options, secret []byte) (websession.Config, error) {
	cc, err := cognito.New(cognito.Options{UserPoolID: o.userPoolID, ClientID: o.clientID, ClientSecret: jwt.Secret(o.clientSecret), Endpoint: o.endpoint})
	if err != nil {
		return websession.Config{}, err
	}
	verifier, err := jwt.NewVerifier(jwt.VerifierOptions{Issuers: []string{o.issuer}, ClientIDs: []string{o.clientID}})
	if err != nil {
		return websession.Config{}, err
	}
	cfg := websession.Config{
		Session: session.Config{Cognito: cc}, Domain: o.domain, ClientSecret: jwt.Secret(o.clientSecret), Verifier: verifier, BaseURL: o.base, Secret: secret,
		Scopes: []string{"openid", "email", "profile"}, IdleTimeout: o.idleTimeout, AbsoluteTimeout: o.absoluteTimeout,
		RefreshWait: o.refreshWait,
	}
	if o.identityPoolID != "" {
		idc, err := identity.New(identity.Options{IdentityPoolID: o.identityPoolID, Endpoint: o.identityEndpoint()})
		if err != nil {
			return websession.Config{}, err
		}
		cfg.Session.Credentials = identity.NewSessionCredentials(idc)
	}
	return cfg, nil
}

var page = template.Must(template.New("page").Funcs(template.FuncMap{"join": strings.Join}).Parse(`<!doctype html>
<title>cogauth webapp</title>
<h1>cogauth webapp</h1>
{{if .}}
<p id="user">Signed in as <b>{{.Username}}</b>{{if .ID}} ({{.ID.Email}}){{end}}.</p>
<p><button onclick="show('/auth/me')">/auth/me</button>
<button onclick="show('/api/call')">call an API with my token</button>
<button onclick="show('/api/aws')">my AWS credentials</button></p>
<pre id="out"></pre>
<form method="post" action="/auth/logout"><button id="logout">Sign out</button></form>
<script>
async function show(path) {
  const r = await fetch(path);
  document.getElementById("out").textContent = r.status + "\n" + await r.text();
}
</script>
{{else}}
<p>Not signed in. <a id="login" href="/auth/login?return_to=/">Sign in</a></p>
{{end}}
`))
