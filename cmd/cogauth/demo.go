package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/httpauth"
	"github.com/cogauth/cogauth/identity"
	"github.com/cogauth/cogauth/internal/config"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/secret"
	"github.com/cogauth/cogauth/session"
	"github.com/cogauth/cogauth/store"
)

type demoOptions struct {
	IO    IOStreams
	Clock clock.Clock
	// Real, when set, runs against a real pool (or any endpoint) instead of an
	// in-process emulator; Username and Password then name an existing user.
	Real     *config.Config
	Username string
	Password string
	prompt   *prompter
}

func newDemoCmd(a *app) *cobra.Command {
	o := &demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the main job end to end against an in-process emulator",
		Long: `Start a Cognito emulator on loopback, create a user pool, an app client, an identity
pool and a user, and walk through a session's life one step per line: SRP sign-in,
the session, time moving past expiry and the automatic refresh, a forced refresh, AWS
credentials, a call to a protected HTTP endpoint, sign-out and the refused refresh
afterwards. Nothing is written to disk or the keyring.

With --endpoint, the same runs against that user pool (with --user-pool-id,
--client-id, --username and the password from COGAUTH_PASSWORD or a prompt); time
then moves on this side only.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.IO, o.Clock, o.prompt = a.IO, a.Clock, a.prompter(cmd.Context())
			c, err := a.config()
			if err != nil {
				return err
			}
			// Only an explicit --endpoint leaves the emulator: the README's first
			// command must run the same whatever a profile or the environment says.
			if c.Endpoint != "" && c.Sources["endpoint"] == config.FromFlag {
				if err := c.Require("user-pool-id", "client-id"); err != nil {
					return err
				}
				o.Real = c
				if o.Username == "" {
					o.Username = a.Getenv("COGAUTH_USERNAME")
				}
				o.Password = a.Getenv("COGAUTH_PASSWORD")
			}
			return runDemo(cmd.Context(), o)
		},
	}
	cmd.Flags().StringVarP(&o.Username, "username", "u", "", "existing user, with --endpoint (env COGAUTH_USERNAME)")
	return cmd
}

// offsetClock is a clock that runs with real time plus an offset the demo moves,
// as the emulator's own clock does: time can jump forward without anyone sleeping.
type offsetClock struct {
	base clock.Clock
	off  atomic.Int64
}

func (c *offsetClock) Now() time.Time { return c.base.Now().Add(time.Duration(c.off.Load())) }

func (c *offsetClock) Advance(d time.Duration) { c.off.Add(int64(d)) }

// demoEnv is what the demo signs in to.
type demoEnv struct {
	pool, client, secret string
	identityPool         string // "" when there is none: the credentials step is skipped
	identityEndpoint     string
	endpoint             string
	username, password   string
	jwksURL              string // where the verifier fetches keys
	emu                  *emulator.Server
}

// demoPrinter numbers the steps.
type demoPrinter struct {
	w io.Writer
	n int
}

func (p *demoPrinter) step(format string, a ...any) {
	p.n++
	fmt.Fprintf(p.w, "%2d. %s\n", p.n, fmt.Sprintf(format, a...))
}

// demo is one run of the demo: what it signs in to, the manager, and the
// session as the last step left it.
type demo struct {
	out    *demoPrinter
	clk    *offsetClock
	env    demoEnv
	cc     *cognito.Client
	mgr    *session.Manager
	events chan session.Event
	s      *session.Session
}

func runDemo(ctx context.Context, o *demoOptions) error {
	started := time.Now()
	d := &demo{out: &demoPrinter{w: o.IO.Out}, clk: &offsetClock{base: o.Clock}}
	closeEnv, err := d.setUp(o)
	if err != nil {
		return err
	}
	defer closeEnv()
	closeMgr, err := d.open()
	if err != nil {
		return err
	}
	defer closeMgr()
	steps := []func(context.Context) error{d.signIn, d.showSession, d.expire, d.forceRefresh, d.credentials, d.protectedCall, d.signOut}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
	}
	fmt.Fprintf(o.IO.Out, "Done in %s.\n", time.Since(started).Round(time.Millisecond))
	if o.Real == nil {
		fmt.Fprint(o.IO.Out, demoNextStep)
	}
	return nil
}

// setUp starts the emulator (or takes the real pool) and says what the demo
// signs in to; the function returned stops the emulator.
func (d *demo) setUp(o *demoOptions) (func(), error) {
	if o.Real != nil {
		e, err := o.realEnv()
		if err != nil {
			return nil, err
		}
		d.env = e
		d.out.step("Using user pool %s, app client %s at %s as %q", e.pool, e.client, e.endpoint, e.username)
		return func() {}, nil
	}
	srv, e, err := startDemoEmulator(o.Clock)
	if err != nil {
		return nil, err
	}
	d.env = e
	d.out.step("Emulator on %s: user pool %s, app client %s, identity pool %s, user %q", srv.URL, e.pool, e.client, e.identityPool, e.username)
	return srv.Close, nil
}

// open makes the Cognito client and a manager on a memory store (with the
// identity pool's credentials when there is one), subscribed to its events; the
// function returned unsubscribes and closes it.
func (d *demo) open() (func(), error) {
	env := d.env
	cc, err := cognito.New(cognito.Options{UserPoolID: env.pool, ClientID: env.client, ClientSecret: jwt.Secret(env.secret),
		Region: config.RegionOf(env.pool), Endpoint: env.endpoint, Clock: d.clk})
	if err != nil {
		return nil, err
	}
	st := store.NewMemory()
	var creds session.CredentialsSource
	if env.identityPool != "" {
		ids, err := identity.New(identity.Options{IdentityPoolID: env.identityPool, Endpoint: env.identityEndpoint, Store: st})
		if err != nil {
			return nil, err
		}
		creds = identity.NewSessionCredentials(ids)
	}
	mgr, err := session.New(session.Config{Cognito: cc, Store: st, Clock: d.clk, Credentials: creds,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return nil, err
	}
	d.cc, d.mgr = cc, mgr
	d.events = make(chan session.Event, 16)
	unsubscribe := mgr.Subscribe(func(e session.Event) { d.events <- e })
	return func() {
		unsubscribe()
		mgr.Close()
	}, nil
}

// signIn is step 1: SRP sign-in.
func (d *demo) signIn(ctx context.Context) error {
	t0 := time.Now()
	res, err := d.mgr.SignIn(ctx, cognito.SignInInput{Username: d.env.username, Password: secret.String(d.env.password), Flow: cognito.FlowSRP})
	if err != nil {
		return fmt.Errorf("SRP sign-in: %w", err)
	}
	if res.Session == nil {
		return fmt.Errorf("SRP sign-in: the pool asks for %s; the demo needs a user without challenges", res.Next.Name)
	}
	ev, err := waitEvent(ctx, d.events, session.SignedIn)
	if err != nil {
		return err
	}
	d.out.step("SRP sign-in (USER_SRP_AUTH, password never sent) as %s in %s; event %s", res.Session.Username, time.Since(t0).Round(time.Millisecond), ev.Kind)
	return nil
}

// showSession is step 2: the session, from the cache.
func (d *demo) showSession(ctx context.Context) error {
	s, err := d.mgr.Fetch(ctx, session.FetchOptions{})
	if err != nil {
		return err
	}
	d.s = s
	groups := "none"
	if s.Tokens.ID != nil && len(s.Tokens.ID.Claims().Groups) > 0 {
		groups = strings.Join(s.Tokens.ID.Claims().Groups, ",")
	}
	d.out.step("Session: sub %s, groups %s, access token expires %s, refresh token present: %v",
		s.UserSub, groups, inWords(s.Tokens.Access.ExpiresAt(), d.clk.Now()), s.Tokens.Refresh != "")
	return nil
}

// expire is step 3: time moves past expiry; Fetch refreshes by itself.
func (d *demo) expire(ctx context.Context) error {
	jump := d.s.Tokens.Access.ExpiresAt().Sub(d.clk.Now()) + time.Minute
	d.clk.Advance(jump)
	if d.env.emu != nil {
		d.env.emu.Advance(jump)
	}
	ev, err := d.refreshed(ctx, session.FetchOptions{}, "automatic refresh", "Fetch returned the expired token")
	if err != nil {
		return err
	}
	d.out.step("Clocks moved %s ahead, past expiry: Fetch refreshed automatically (event %s); new token expires %s",
		span(jump), ev.Kind, inWords(d.s.Tokens.Access.ExpiresAt(), d.clk.Now()))
	return nil
}

// forceRefresh is step 4: a forced refresh while the token is fresh.
func (d *demo) forceRefresh(ctx context.Context) error {
	ev, err := d.refreshed(ctx, session.FetchOptions{ForceRefresh: true}, "forced refresh", "the token did not change")
	if err != nil {
		return err
	}
	d.out.step("Forced refresh while fresh (fetchAuthSession({forceRefresh: true})): new access token, event %s", ev.Kind)
	return nil
}

// refreshed fetches the session and checks that it comes with a new access
// token and a TokenRefreshed event; what names the step in errors, unchanged
// says what an unchanged token means.
func (d *demo) refreshed(ctx context.Context, opts session.FetchOptions, what, unchanged string) (session.Event, error) {
	old := d.s.Tokens.Access.Raw()
	s, err := d.mgr.Fetch(ctx, opts)
	if err != nil {
		return session.Event{}, fmt.Errorf("%s: %w", what, err)
	}
	d.s = s
	if s.Tokens.Access.Raw() == old {
		return session.Event{}, errors.New(what + ": " + unchanged)
	}
	ev, err := waitEvent(ctx, d.events, session.TokenRefreshed)
	if err != nil {
		return session.Event{}, err
	}
	return ev, nil
}

// credentials is step 5: AWS credentials from the identity pool, which the
// session renews with its tokens.
func (d *demo) credentials(context.Context) error {
	if d.env.identityPool == "" {
		d.out.step("AWS credentials: skipped (no identity pool; give --identity-pool-id)")
		return nil
	}
	c := d.s.Credentials
	if c == nil {
		return errors.New("AWS credentials: the session has none from the identity pool")
	}
	d.out.step("AWS credentials from the identity pool: identity %s, access key %s, expire %s",
		d.s.IdentityID, keyPrefix(c.AccessKeyID), inWords(c.Expires, d.clk.Now()))
	return nil
}

// protectedCall is step 6: a protected HTTP endpoint; the transport adds the
// token, the middleware verifies it against the pool's JWKS.
func (d *demo) protectedCall(ctx context.Context) error {
	status, who, err := demoProtectedCall(ctx, d.env, d.cc, d.clk, d.mgr)
	if err != nil {
		return fmt.Errorf("protected endpoint: %w", err)
	}
	d.out.step("GET /hello on a local API through httpauth.Transport: %d, middleware verified the token of %s", status, who)
	return nil
}

// signOut is step 7: sign-out, then the refresh token is refused.
func (d *demo) signOut(ctx context.Context) error {
	s := d.s
	if err := d.mgr.SignOut(ctx, session.SignOutOptions{}); err != nil {
		return fmt.Errorf("sign-out: %w", err)
	}
	ev, err := waitEvent(ctx, d.events, session.SignedOut)
	if err != nil {
		return err
	}
	d.out.step("Signed out: refresh token revoked, local session cleared (event %s, reason %s)", ev.Kind, ev.Reason)
	_, ferr := d.mgr.Fetch(ctx, session.FetchOptions{})
	_, rerr := d.cc.Refresh(ctx, cognito.RefreshInput{RefreshToken: s.Tokens.Refresh, Username: s.Username, DeviceKey: s.Tokens.DeviceKey})
	var ce *cognito.Error
	if !errors.Is(ferr, session.ErrSignedOut) || !errors.As(rerr, &ce) || ce.Retryable {
		return fmt.Errorf("after sign-out: Fetch = %v, refresh = %v; want both refused", ferr, rerr)
	}
	d.out.step("Refresh after sign-out refused: Fetch says %q; the service says %s: %s", "not signed in", ce.Name, ce.Message)
	return nil
}

// waitEvent waits for the next event of kind; events are delivered on their own
// goroutine, so they may arrive just after the call that caused them returns.
func waitEvent(ctx context.Context, events <-chan session.Event, kind session.EventKind) (session.Event, error) {
	timeout := time.NewTimer(5 * time.Second)
	defer timeout.Stop()
	for {
		select {
		case e := <-events:
			if e.Kind == kind {
				return e, nil
			}
		case <-timeout.C:
			return session.Event{}, fmt.Errorf("no %s event", kind)
		case <-ctx.Done():
			return session.Event{}, ctx.Err()
		}
	}
}

// demoProtectedCall serves a handler behind httpauth.Middleware on loopback and
// calls it through httpauth's client transport.
func demoProtectedCall(ctx context.Context, env demoEnv, cc *cognito.Client, clk clock.Clock, mgr *session.Manager) (int, string, error) {
	issuer := "https://cognito-idp." + config.RegionOf(env.pool) + ".amazonaws.com/" + env.pool
	vopts := jwt.VerifierOptions{Issuers: []string{issuer}, ClientIDs: []string{env.client}, TokenUse: jwt.AccessToken, Clock: clk}
	if env.jwksURL != "" {
		vopts.JWKSURLs = map[string]string{issuer: env.jwksURL}
	}
	v, err := jwt.NewVerifier(vopts)
	if err != nil {
		return 0, "", err
	}
	api := http.NewServeMux()
	api.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		c, _ := httpauth.ClaimsFrom(r.Context())
		fmt.Fprintf(w, "%s", c.Username)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, "", err
	}
	hs := &http.Server{Handler: httpauth.Middleware(v)(api), ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(ln)
	defer hs.Close()

	client := httpauth.NewClient(mgr, httpauth.Bearer)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+ln.Addr().String()+"/hello", nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, "", fmt.Errorf("status %d: %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	return resp.StatusCode, string(body), nil
}

// keyPrefix shows enough of an access key ID to recognise it. Key IDs are not
// secret (the secret key is), but a prefix is all a reader needs.
func keyPrefix(id string) string {
	if len(id) <= 8 {
		return id
	}
	return id[:8] + "…"
}

// startDemoEmulator starts an emulator with a pool, a client, an identity pool
// trusting the client, and a user with a random password.
func startDemoEmulator(base clock.Clock) (*emulator.Server, demoEnv, error) {
	srv, err := emulator.Listen("127.0.0.1:0", emulator.Options{Region: "us-east-1", Clock: base})
	if err != nil {
		return nil, demoEnv{}, fmt.Errorf("starting the emulator: %w", err)
	}
	var pw [12]byte
	if _, err := rand.Read(pw[:]); err != nil {
		srv.Close()
		return nil, demoEnv{}, err
	}
	password := "Demo-" + base64.RawURLEncoding.EncodeToString(pw[:]) + "1a"
	pool, err := srv.CreateUserPool(emulator.SeedUserPool{
		Name:    "demo",
		Clients: []emulator.SeedClient{{Name: "cli"}},
		Groups:  []emulator.SeedGroup{{Name: "readers"}},
		Users: []emulator.SeedUser{{
			Username: "alice", Password: password, Groups: []string{"readers"},
			Attributes: map[string]string{"email": "alice@example.com", "email_verified": "true"},
		}},
	})
	if err != nil {
		srv.Close()
		return nil, demoEnv{}, fmt.Errorf("creating the demo pool: %w", err)
	}
	cl := pool.Clients["cli"]
	idp, err := srv.CreateIdentityPool(emulator.IdentityPoolConfig{
		Name:                     "demo",
		CognitoIdentityProviders: []emulator.CognitoIdentityProvider{{ProviderName: emulator.ProviderName(pool.ID), ClientID: cl.ID}},
	})
	if err != nil {
		srv.Close()
		return nil, demoEnv{}, fmt.Errorf("creating the demo identity pool: %w", err)
	}
	return srv, demoEnv{
		pool: pool.ID, client: cl.ID, secret: cl.Secret, endpoint: srv.URL,
		identityPool: idp, identityEndpoint: srv.URL,
		username: "alice", password: password,
		jwksURL: srv.URL + "/" + pool.ID + "/.well-known/jwks.json",
		emu:     srv,
	}, nil
}

// realEnv takes the pool and user from the configuration and the user.
func (o *demoOptions) realEnv() (demoEnv, error) {
	c := o.Real
	e := demoEnv{pool: c.UserPoolID, client: c.ClientID, secret: c.ClientSecret, endpoint: c.Endpoint, username: o.Username, password: o.Password,
		identityPool: c.IdentityPoolID, identityEndpoint: c.IdentityEndpoint}
	if e.identityEndpoint == "" {
		// As everywhere in the CLI: the emulator and moto serve both services.
		e.identityEndpoint = c.Endpoint
	}
	var err error
	if e.username == "" {
		if e.username, err = o.prompt.ask("Username: "); err != nil {
			return e, answerErr(err, "a username", "--username", "COGAUTH_USERNAME")
		}
	}
	if e.password == "" {
		if e.password, err = o.prompt.secret("Password: "); err != nil {
			return e, answerErr(err, "a password", "a terminal", "COGAUTH_PASSWORD")
		}
	}
	return e, nil
}

// demoNextStep is how the demo ends: the same on an emulator of one's own, with the
// CLI, in three commands (from a clone: examples/local-seed.json is there).
const demoNextStep = `
Next: your own emulator and the CLI, in three commands (from the repository's
directory; "cogauth" is "go run ./cmd/cogauth" until you go install it):

  cogauth emulator --seed examples/local-seed.json &
  cogauth configure --profile local --endpoint http://127.0.0.1:9229 --user-pool-id us-east-1_example1 --client-id localexampleclient --identity-pool-id us-east-1:0f6c1b52-0000-4000-8000-00000000000a --store file
  cogauth login --profile local -u alice        # password: Alice-Passw0rd!

Then: cogauth status --profile local, cogauth token --profile local,
cogauth credentials --profile local, cogauth --help.
`
