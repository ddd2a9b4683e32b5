package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/store"
)

// SignInResult is the outcome of a sign-in step: a Session when signed in, or the
// Next challenge to answer with ConfirmSignIn.
type SignInResult struct {
	Session *Session
	Next    *cognito.Challenge
	// NewDevice is set when the pool tracks devices and created one; pass it to
	// m.Devices().Confirm or Remember to skip MFA next time. With
	// Config.ConfirmDevices it is nil once the Manager confirmed the device itself
	// (Session.Tokens.DeviceKey then names it).
	NewDevice *cognito.NewDevice
}

// SignIn signs a user in (SRP by default). A challenge (new password, MFA, custom)
// comes back as Next, not as an error.
//
// When in.Device is nil, the device remembered for in.Username on this machine (by
// Devices.Confirm, Import or an earlier sign-in) is offered, so the service can
// skip MFA. If the service refuses that device (forgotten elsewhere, or its stored
// password no longer matches), it is dropped here and the sign-in starts again
// without it, as on a new device.
func (m *Manager) SignIn(ctx context.Context, in cognito.SignInInput) (*SignInResult, error) {
	var stored *deviceRecord
	if in.Device == nil {
		if stored = m.storedDevice(ctx, in.Username); stored != nil {
			in.Device = stored.device()
		}
	}
	res, err := m.cfg.Cognito.SignIn(ctx, in)
	if err != nil && stored != nil && errors.Is(err, cognito.ErrDeviceRefused) {
		m.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "cogauth: the service refused the remembered device; signing in without it",
			slog.String("user", stored.Username), slog.String("device", stored.Key), slog.String("error", err.Error()))
		if derr := m.dropDevice(ctx, stored.Username, stored.Key); derr != nil {
			return nil, errors.Join(err, derr)
		}
		in.Device = nil
		res, err = m.cfg.Cognito.SignIn(ctx, in)
	}
	if err != nil {
		return nil, err
	}
	return m.signedIn(ctx, res, in.Device, in.Username)
}

// ConfirmSignIn answers the challenge SignIn (or a previous ConfirmSignIn) returned.
// Should the service then refuse the remembered device (cognito.ErrDeviceRefused),
// the device is dropped here, so that signing in again starts as a new device.
func (m *Manager) ConfirmSignIn(ctx context.Context, next *cognito.Challenge, a cognito.Answer) (*SignInResult, error) {
	res, err := m.cfg.Cognito.Respond(ctx, next, a)
	if err != nil && next != nil && next.Device() != nil && errors.Is(err, cognito.ErrDeviceRefused) {
		if derr := m.dropDevice(ctx, next.Username, next.Device().Key); derr != nil {
			err = errors.Join(err, derr)
		}
	}
	if err != nil {
		return nil, err
	}
	return m.signedIn(ctx, res, next.Device(), next.Login())
}

// AutoSignIn signs in the user ConfirmSignUp just confirmed, with the Session
// it returned (USER_AUTH; the app client must allow it), without asking for the
// password again: Amplify's autoSignIn. The session is good once, for a few
// minutes.
func (m *Manager) AutoSignIn(ctx context.Context, username string, confirmed *cognito.ConfirmSignUpResult) (*SignInResult, error) {
	if confirmed == nil || confirmed.Session == "" {
		return nil, errors.New("session: AutoSignIn needs the Session ConfirmSignUp returned")
	}
	return m.SignIn(ctx, cognito.SignInInput{Username: username, Flow: cognito.FlowUserAuth, Session: confirmed.Session})
}

// signedIn stores the session of a finished sign-in. dev is the device the sign-in
// offered, login the name it started with.
func (m *Manager) signedIn(ctx context.Context, res *cognito.Result, dev *cognito.Device, login string) (*SignInResult, error) {
	if res.Challenge != nil {
		return &SignInResult{Next: res.Challenge}, nil
	}
	if res.Tokens == nil {
		return nil, &answerError{rule: "the sign-in answer holds neither tokens nor a challenge"}
	}
	if len(res.Tokens.RefreshToken) > maxTokenSize {
		return nil, &answerError{rule: fmt.Sprintf("the refresh token is longer than %d bytes", maxTokenSize)}
	}
	// Validate before anything is stored: a proxy's page, or tokens of another
	// pool (a wrong pool ID with the password flow), never become a session.
	at, err := checkTokens(expectation{
		pool: m.cfg.Cognito.UserPoolID(), client: m.cfg.Cognito.ClientID(),
		now: m.cfg.Clock.Now().Add(m.offset(res.ServerTime, res.Tokens.AccessToken)),
	}, res.Tokens.AccessToken.Reveal(), res.Tokens.IDToken.Reveal())
	if err != nil {
		return nil, err
	}
	rec := &record{
		Username:     at.Claims().Username,
		AccessToken:  res.Tokens.AccessToken.Reveal(),
		IDToken:      res.Tokens.IDToken.Reveal(),
		RefreshToken: res.Tokens.RefreshToken.Reveal(),
		ClockOffset:  int64(m.offset(res.ServerTime, res.Tokens.AccessToken)),
	}
	if login != rec.Username {
		rec.Login = login
	}
	// A new device means the service did not take the one offered: these tokens
	// belong to the new one, which is confirmed (or not) by the caller.
	if dev != nil && res.NewDevice == nil {
		rec.DeviceKey, rec.DeviceGroupKey, rec.DevicePassword = dev.Key, dev.GroupKey, dev.Password.Reveal()
	}
	st, err := m.start(ctx, rec)
	if err != nil {
		return nil, err
	}
	if rec.DeviceKey != "" {
		// The device worked: keep it for this user under the name just typed too.
		if err := m.saveDevice(ctx, rec.Username, rec.Login, dev); err != nil {
			m.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "cogauth: could not store the remembered device", slog.String("user", rec.Username), slog.String("error", err.Error()))
		}
	}
	out := &SignInResult{Session: st.Value.sess, NewDevice: res.NewDevice}
	if res.NewDevice != nil && m.cfg.ConfirmDevices {
		if _, err := m.Devices().Confirm(ctx, *res.NewDevice, DeviceOptions{Name: m.cfg.DeviceName}); err != nil {
			// Signed in all the same; the caller may still confirm it.
			m.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "cogauth: could not confirm the new device", slog.String("user", rec.Username), slog.String("error", err.Error()))
		} else if cur := m.cur.Load(); cur != nil {
			out.Session, out.NewDevice = cur.Value.sess, nil
		}
	}
	return out, nil
}

// start stores a new session for rec's user (replacing any), binds the Manager to
// that user, and makes it the current user of the pool and client.
func (m *Manager) start(ctx context.Context, rec *record) (*state, error) {
	if rec.Username == "" {
		return nil, fmt.Errorf("%w: the access token has no username claim", ErrInvalidTokens)
	}
	k := sessionKey{Pool: m.cfg.Cognito.UserPoolID(), Client: m.cfg.Cognito.ClientID(), User: rec.Username}
	m.rmu.Lock()
	defer m.rmu.Unlock()
	st, err := m.save(ctx, k, store.AnyVersion, rec)
	if err != nil {
		return nil, err
	}
	u := rec.Username
	m.user.Store(&u)
	if err := setCurrentUser(ctx, m.cfg.Store, k.Pool, k.Client, u); err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	m.emit(Event{Kind: SignedIn, Username: u})
	if m.cfg.Credentials != nil {
		return m.refreshCredentials(ctx, st)
	}
	return st, nil
}

// ImportInput holds tokens another backend issued for this pool and client.
type ImportInput struct {
	AccessToken jwt.Secret
	IDToken     jwt.Secret // optional, checked when given
	// RefreshToken lets the session refresh; without it, it ends at expiry.
	RefreshToken jwt.Secret
	// Device is the remembered device the tokens were issued to, if any: a refresh
	// token bound to a device is refused without its key. The key alone lets the
	// session refresh, and is read from the access token's device_key claim when
	// Device is nil or has no Key; with the group key and password too, the device
	// is remembered for this user's later sign-ins (skipping MFA) as if confirmed
	// here.
	Device *cognito.Device
	// Source says where the tokens came from, and so where the session is
	// refreshed: SourceHostedUI for tokens of the hosted UI's /oauth2/token
	// (refreshed there when Config.HostedUI is set). Empty means SourceUserPool.
	Source Source
	// Domain is the hosted UI domain (base URL) the SourceHostedUI tokens came
	// from; recorded with the session, which then refreshes there (see
	// hostedui.NewDomainRefresher).
	Domain string
}

// Import builds a session from tokens issued elsewhere (a custom sign-in backend),
// after checking that they are well-formed JWTs of this pool (iss) and app client
// (client_id, aud) and belong to the same user. Refresh then works as usual, with
// the device key the tokens were issued to (seed 003's pitfall: without it, a pool
// that remembers devices refuses the refresh).
func (m *Manager) Import(ctx context.Context, in ImportInput) (*Session, error) {
	// The same rules as for the service's own answers, but for the expiry: an
	// expired access token with a refresh token is a session to refresh.
	at, err := checkTokens(expectation{pool: m.cfg.Cognito.UserPoolID(), client: m.cfg.Cognito.ClientID()}, in.AccessToken.Reveal(), in.IDToken.Reveal())
	var ae *answerError
	if errors.As(err, &ae) {
		return nil, fmt.Errorf("%w: %s", ErrInvalidTokens, ae.rule)
	}
	if err != nil {
		return nil, err
	}
	c := at.Claims()
	dev, problems := importedDevice(in.Device, c.DeviceKey)
	problems = append(problems, sourceProblems(in.Source, in.Domain)...)
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrInvalidTokens, strings.Join(problems, "; "))
	}
	rec := &record{Username: c.Username, AccessToken: in.AccessToken.Reveal(), IDToken: in.IDToken.Reveal(), RefreshToken: in.RefreshToken.Reveal()}
	if in.Source == SourceHostedUI {
		rec.Source, rec.Domain = SourceHostedUI, in.Domain
	}
	rec.DeviceKey, rec.DeviceGroupKey, rec.DevicePassword = dev.Key, dev.GroupKey, dev.Password.Reveal()
	st, err := m.start(ctx, rec)
	if err != nil {
		return nil, err
	}
	if err := m.saveDevice(ctx, rec.Username, "", &dev); err != nil {
		return nil, err
	}
	return st.Value.sess, nil
}

// importedDevice is the device Import records: given's, with the access
// token's device key (tokenKey) when given has none, and the problems of a
// device that does not match the tokens.
func importedDevice(given *cognito.Device, tokenKey string) (cognito.Device, []string) {
	var dev cognito.Device
	if given != nil {
		dev = *given
	}
	var problems []string
	switch {
	case dev.Key == "":
		dev.Key = tokenKey
	case tokenKey != "" && dev.Key != tokenKey:
		problems = append(problems, fmt.Sprintf("device key %q is not the access token's device_key %q", dev.Key, tokenKey))
	}
	if dev.Key == "" && (dev.GroupKey != "" || dev.Password != "") {
		problems = append(problems, "device group key or password without a device key")
	}
	return dev, problems
}

// sourceProblems names what is wrong with an imported session's source and
// hosted UI domain.
func sourceProblems(src Source, domain string) []string {
	switch src.orDefault() {
	case SourceUserPool:
		if domain != "" {
			return []string{"a hosted UI domain for a user pool session"}
		}
	case SourceHostedUI:
		if err := checkDomain(domain); err != nil {
			return []string{err.Error()}
		}
	default:
		return []string{fmt.Sprintf("unknown source %q", src)}
	}
	return nil
}

// issuedBy reports whether iss is a user pool issuer for pool: Cognito's is
// https://cognito-idp.<region>.amazonaws.com/<pool>, and emulators keep the pool as
// the last path element.
func issuedBy(iss, pool string) bool {
	return strings.HasSuffix(iss, "/"+pool) && strings.HasPrefix(iss, "http")
}

// SignOutOptions adjust SignOut.
type SignOutOptions struct {
	// Global signs the user out of every device (GlobalSignOut) instead of revoking
	// this session's refresh token.
	Global bool
}

// CredentialsForgetter is implemented by a CredentialsSource that keeps something
// per user beyond the session (an identity pool's identity ID): SignOut calls
// Forget so that nothing of the user is left behind.
type CredentialsForgetter interface {
	Forget(ctx context.Context, s *Session) error
}

// SignOut ends the session: it revokes the refresh token (or signs out globally)
// and always clears the local session, and what the CredentialsSource keeps for
// the user (a CredentialsForgetter). A failed revocation is returned: the local
// session is gone, but the tokens may still work until they expire.
//
// The remembered device stays, as it does at Cognito: the next sign-in of the user
// answers with it. Devices.Forget removes it.
func (m *Manager) SignOut(ctx context.Context, opts SignOutOptions) error {
	m.rmu.Lock()
	defer m.rmu.Unlock()
	st, err := m.load(ctx)
	var so *SignedOutError
	if errors.As(err, &so) {
		m.unpublish()
		return nil
	}
	if err != nil {
		return err
	}
	var remote error
	switch {
	case opts.Global:
		remote = m.cfg.Cognito.GlobalSignOut(ctx, jwt.Secret(st.Value.rec.AccessToken))
	case st.Value.rec.RefreshToken != "":
		remote = m.cfg.Cognito.RevokeToken(ctx, jwt.Secret(st.Value.rec.RefreshToken))
	}
	m.unpublish()
	// A session stored before devices had an entry of their own holds its device
	// only in the record about to go: keep it for the next sign-in.
	keep := m.saveDevice(ctx, st.Value.rec.Username, st.Value.rec.Login, &cognito.Device{Key: st.Value.rec.DeviceKey, GroupKey: st.Value.rec.DeviceGroupKey, Password: jwt.Secret(st.Value.rec.DevicePassword)})
	local := m.cfg.Store.Delete(ctx, st.Value.key.store(), store.AnyVersion)
	m.clearCurrent(ctx, st.Value.key)
	forget := m.forgetCredentials(ctx, st.Value.sess)
	m.emit(Event{Kind: SignedOut, Username: st.Value.key.User, Reason: ReasonUser, Err: remote})
	if remote != nil {
		remote = fmt.Errorf("session: signed out locally, but the service did not revoke the tokens: %w", remote)
	}
	if local != nil {
		local = fmt.Errorf("session: removing the stored session: %w", local)
	}
	return errors.Join(remote, local, forget, keep)
}

// forgetCredentials clears what the CredentialsSource keeps for the session's user,
// when it keeps anything (a CredentialsForgetter).
func (m *Manager) forgetCredentials(ctx context.Context, s *Session) error {
	f, ok := m.cfg.Credentials.(CredentialsForgetter)
	if !ok || s == nil {
		return nil
	}
	if err := f.Forget(ctx, s); err != nil {
		return fmt.Errorf("session: forgetting the user's AWS identity: %w", err)
	}
	return nil
}

// checkDomain accepts an empty domain or an http(s) base URL without query,
// fragment or credentials.
func checkDomain(d string) error {
	if d == "" {
		return nil
	}
	u, err := url.Parse(d)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || len(d) > 2048 {
		return fmt.Errorf("hosted UI domain %q is not an http(s) base URL", d)
	}
	return nil
}
