package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/hostedui"
	"github.com/cogauth/cogauth/identity"
	"github.com/cogauth/cogauth/internal/config"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/session"
	"github.com/cogauth/cogauth/store"
	"github.com/cogauth/cogauth/store/keyring"
)

// addSessionCommands adds the commands that act on the profile's session.
func addSessionCommands(a *app, root *cobra.Command) {
	root.AddCommand(
		newLoginCmd(a),
		newImportCmd(a),
		newSessionCmd(a),
		newTokenCmd(a),
		newWhoamiCmd(a),
		newRefreshCmd(a),
		newLogoutCmd(a),
		newDemoCmd(a),
		newEmulatorCmd(a),
		newCredentialsCmd(a),
		newExecCmd(a),
		newVerifyCmd(a),
		newProxyCmd(a),
		newDevicesCmd(a),
		newStatusCmd(a),
		newProfilesCmd(a),
	)
}

// signedOut reports whether err means "log in again" (exit code 3).
func signedOut(err error) bool {
	return errors.Is(err, session.ErrSignedOut) || errors.Is(err, errNotSignedIn)
}

// errNotSignedIn: the profile has no session.
var errNotSignedIn = errors.New("not signed in (run: cogauth login)")

// profileStore is the store as profile c sees it: its own namespace of the
// backing store, so that two profiles signed in to the same pool and client as the
// same user hold two sessions (logging out of one leaves the other), each with its
// own current user, devices and identity IDs.
func (a *app) profileStore(ctx context.Context, c *config.Config) (store.Store, error) {
	s, err := a.openStore(ctx, c)
	if err != nil {
		return nil, err
	}
	ns := store.Namespaced(s, profileNamespace(c.Profile))
	if err := adoptLegacySession(ctx, s, ns, c); err != nil {
		// The profile is as signed out as before: say why once, and go on.
		fmt.Fprintf(a.IO.ErrOut, "cogauth: warning: could not move the session of profile %s kept by an earlier cogauth: %v\n", c.Profile, err)
	}
	return ns, nil
}

// adoptLegacySession moves the session an earlier cogauth kept for this profile
// outside any namespace (its profile record names the user) into the profile's
// namespace, with the user's remembered device, so that upgrading signs nobody
// out. It moves rather than copies: profiles that shared one session (what
// profiles in their own namespaces now prevent) would otherwise spend one
// rotating refresh token twice, and the second would end its session. The first
// profile to open takes it; the others sign in again.
func adoptLegacySession(ctx context.Context, base, ns store.Store, c *config.Config) error {
	if c.UserPoolID == "" || c.ClientID == "" || c.Profile == "" {
		return nil
	}
	if u, err := profileUser(ctx, ns, c); err != nil || u != "" {
		return err
	}
	user, err := profileUser(ctx, base, c)
	if err != nil || user == "" {
		return err
	}
	sk := session.SessionKey(c.UserPoolID, c.ClientID, user)
	e, err := base.Get(ctx, sk)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Another profile took it: nothing left to move.
		return base.Delete(ctx, profileKey(c), store.AnyVersion)
	case err != nil:
		return err
	}
	if _, err := ns.Put(ctx, sk, e.Data, 0, time.Time{}); err != nil && !errors.Is(err, store.ErrConflict) {
		return err
	}
	for _, k := range []store.Key{session.DeviceKey(c.UserPoolID, c.ClientID, user)} {
		if d, err := base.Get(ctx, k); err == nil {
			if _, err := ns.Put(ctx, k, d.Data, 0, time.Time{}); err != nil && !errors.Is(err, store.ErrConflict) {
				return err
			}
		}
	}
	if err := setProfileUser(ctx, ns, c, user); err != nil {
		return err
	}
	if err := base.Delete(ctx, sk, e.Version); err != nil && !errors.Is(err, store.ErrConflict) {
		return err
	}
	return base.Delete(ctx, profileKey(c), store.AnyVersion)
}

// profileNamespace is the store namespace of a profile's records.
func profileNamespace(profile string) string { return "profile:" + profile }

// openStore opens the session store the configuration names. The memory store lives
// as long as the app: it is for tests and the demo, where one process runs several
// commands.
func (a *app) openStore(ctx context.Context, c *config.Config) (store.Store, error) {
	if s := a.stores[c.Store]; s != nil {
		return s, nil
	}
	var (
		s   store.Store
		err error
	)
	// A sessions file that cannot be read is set aside (renamed next to itself,
	// 0600) with one warning, and the command goes on as if it were empty:
	// otherwise it would block every command, login and logout included. Loose
	// permissions on it or its directory are warned about with the chmod to run.
	fileOpts := store.FileOptions{SetAsideCorrupt: true, Warn: a.IO.ErrOut, Clock: a.Clock}
	switch c.Store {
	case config.StoreMemory:
		s = store.NewMemory()
	case config.StoreFile:
		s, err = store.OpenFile(config.SessionsPath(c.Home), fileOpts)
	default:
		s, err = keyring.OpenOrFile(ctx, keyring.OrFileOptions{
			Keyring:  keyring.Options{LockDir: config.LocksDir(c.Home), Backend: a.keyring},
			FilePath: config.SessionsPath(c.Home),
			Warn:     a.IO.ErrOut,
			File:     fileOpts,
		})
	}
	if err != nil {
		return nil, err
	}
	if a.stores == nil {
		a.stores = map[string]store.Store{}
	}
	a.stores[c.Store] = s
	return s, nil
}

// profileRecord names the CLI's own store records: store.Join(profileRecord,
// pool, client, name), where name is a profile's (profileKey) or a pending step's
// (pendingKey), the name and layout release 2 gave them.
const profileRecord = "p"

// profileKey is where the CLI records which user a profile is signed in as. Two
// profiles may share a pool and client yet be different users, so the session's
// own current-user record (one per pool and client) cannot serve: a record named
// after the profile does.
func profileKey(c *config.Config) store.Key {
	return store.Join(profileRecord, c.UserPoolID, c.ClientID, c.Profile)
}

// profileUser returns the user the profile is signed in as ("" when none is
// recorded; the store's current user then applies).
func profileUser(ctx context.Context, s store.Store, c *config.Config) (string, error) {
	e, err := s.Get(ctx, profileKey(c))
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return string(e.Data), nil
}

func setProfileUser(ctx context.Context, s store.Store, c *config.Config, user string) error {
	if user == "" {
		return s.Delete(ctx, profileKey(c), store.AnyVersion)
	}
	_, err := s.Put(ctx, profileKey(c), []byte(user), store.AnyVersion, time.Time{})
	return err
}

// hostedUIClient builds the client of the hosted UI at domain for the configured
// app client.
func (a *app) hostedUIClient(c *config.Config, domain string, scopes []string) (*hostedui.Client, error) {
	hc, err := hostedui.New(hostedui.Options{
		Domain: domain, ClientID: c.ClientID, ClientSecret: jwt.Secret(c.ClientSecret), Scopes: scopes, Clock: a.Clock,
		HTTPClient: a.httpClient(), Timeout: a.timeout(),
	})
	if err != nil {
		return nil, &config.UsageError{Msg: err.Error()}
	}
	return hc, nil
}

// cognitoClient builds the user-pool client from the configuration.
func (a *app) cognitoClient(c *config.Config) (*cognito.Client, error) {
	if err := c.Require("user-pool-id", "client-id"); err != nil {
		return nil, err
	}
	op, err := cognito.ParseRefreshOperation(c.RefreshOperation)
	if err != nil {
		return nil, &config.UsageError{Msg: err.Error()}
	}
	return cognito.New(cognito.Options{
		UserPoolID:       c.UserPoolID,
		ClientID:         c.ClientID,
		ClientSecret:     jwt.Secret(c.ClientSecret),
		Region:           c.Region,
		Endpoint:         c.Endpoint,
		Clock:            a.Clock,
		HTTPClient:       a.httpClient(),
		Timeout:          a.timeout(),
		RefreshOperation: op,
	})
}

// profileSession is what the session commands work with.
type profileSession struct {
	cfg   *config.Config
	store store.Store
	mgr   *session.Manager
	cc    *cognito.Client
	// ids is the identity-pool client, nil when no identity pool is configured.
	ids  *identity.Client
	user string // the profile's user, "" when the store's current user applies
}

// Close stops the manager's background work.
func (p *profileSession) Close() error { return p.mgr.Close() }

// open builds the manager of the user the profile is signed in as.
func (a *app) open(ctx context.Context) (*profileSession, error) {
	return a.openUser(ctx, "", false)
}

// openUser builds the profile's session manager. With signIn, the manager is bound
// to no user yet (login and import bind it); otherwise to username, or when that is
// empty to the user the profile signed in as.
func (a *app) openUser(ctx context.Context, username string, signIn bool) (*profileSession, error) {
	c, err := a.config()
	if err != nil {
		return nil, err
	}
	return a.openUserWith(ctx, c, username, signIn)
}

// openUserWith is openUser for the profile c was resolved for.
func (a *app) openUserWith(ctx context.Context, c *config.Config, username string, signIn bool) (*profileSession, error) {
	cc, err := a.cognitoClient(c)
	if err != nil {
		return nil, err
	}
	s, err := a.profileStore(ctx, c)
	if err != nil {
		return nil, err
	}
	if signIn {
		// A store that cannot be read would take the sign-in's tokens and lose
		// them (unrevoked): find out now.
		if _, err := profileUser(ctx, s, c); err != nil {
			return nil, err
		}
	}
	if username == "" && !signIn {
		if username, err = profileUser(ctx, s, c); err != nil {
			return nil, err
		}
		if username == "" {
			// Never fall back to the store's current user of the pool and
			// client: another profile on the same client may have set it.
			return nil, errNotSignedIn
		}
	}
	ids, err := a.identityClient(c, s)
	if err != nil {
		return nil, err
	}
	var creds session.CredentialsSource
	if ids != nil {
		creds = identity.NewSessionCredentials(ids)
	}
	// Sessions of the hosted UI refresh at the domain they came from, which
	// their record keeps; the configured one serves sessions that recorded none
	// (release 1's). Without either they refresh through the user pool API,
	// which Cognito also accepts for them.
	hosted, err := hostedui.NewDomainRefresher(hostedui.Options{
		Domain: c.Domain, ClientID: c.ClientID, ClientSecret: jwt.Secret(c.ClientSecret), Clock: a.Clock,
		HTTPClient: a.httpClient(),
	})
	if err != nil {
		return nil, &config.UsageError{Msg: err.Error()}
	}
	m, err := session.New(session.Config{
		Cognito:     cc,
		Store:       s,
		Username:    username,
		Clock:       a.Clock,
		Credentials: creds,
		HostedUI:    hosted,
		// A refresh, its retries included, fits in one step.
		RefreshTimeout: a.timeout(),
		// The CLI reports failures itself, on one line; the library's log lines
		// would repeat them.
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return nil, err
	}
	return &profileSession{cfg: c, store: s, mgr: m, cc: cc, ids: ids, user: username}, nil
}

// cognito returns the user-pool client.
func (p *profileSession) cognito() (*cognito.Client, error) { return p.cc, nil }

// fetch returns the profile's session, mapping "nothing stored" to errNotSignedIn.
func (p *profileSession) fetch(ctx context.Context, force bool) (*session.Session, error) {
	s, err := p.mgr.Fetch(ctx, session.FetchOptions{ForceRefresh: force})
	if err != nil {
		return nil, mapNotSignedIn(err)
	}
	return s, nil
}

// mapNotSignedIn turns the manager's "nothing stored" into errNotSignedIn, which
// tells the user what to do.
func mapNotSignedIn(err error) error {
	var so *session.SignedOutError
	if errors.As(err, &so) && so.Reason == session.ReasonNone {
		return errNotSignedIn
	}
	return err
}

// signedInAs records that the profile is now signed in as user ("": signed out).
// Where the session refreshes is in its own record (ImportInput.Domain).
func (p *profileSession) signedInAs(ctx context.Context, user string) error {
	if err := setProfileUser(ctx, p.store, p.cfg, user); err != nil {
		return fmt.Errorf("recording the profile's user: %w", err)
	}
	p.user = user
	return nil
}

// identityClient returns the identity-pool client when an identity pool is
// configured, nil otherwise. Identity IDs are kept in the session store, so a
// later command (or a restart) does not ask GetId again, and a guest identity is
// carried into the user's at sign-in, as Cognito does.
//
// The identity endpoint defaults to --endpoint: the emulator and moto serve both
// services at one URL. A user-pool VPC endpoint does not, so with one of those
// --identity-endpoint must be given too (or set to the public
// https://cognito-identity.REGION.amazonaws.com).
func (a *app) identityClient(c *config.Config, s store.Store) (*identity.Client, error) {
	if c.IdentityPoolID == "" {
		return nil, nil
	}
	endpoint := c.IdentityEndpoint
	if endpoint == "" {
		endpoint = c.Endpoint
	}
	ids, err := identity.New(identity.Options{IdentityPoolID: c.IdentityPoolID, Endpoint: endpoint, Store: s, HTTPClient: a.httpClient(), Timeout: a.timeout()})
	if err != nil {
		return nil, &config.UsageError{Msg: err.Error()}
	}
	return ids, nil
}
