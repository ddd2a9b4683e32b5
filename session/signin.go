package session

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
	// RememberDevice to skip MFA next time.
	NewDevice *cognito.NewDevice
}

// SignIn signs a user in (SRP by default). A challenge (new password, MFA, custom)
// comes back as Next, not as an error.
func (m *Manager) SignIn(ctx context.Context, in cognito.SignInInput) (*SignInResult, error) {
	if in.Device == nil {
		in.Device = m.rememberedDevice(ctx, in.Username)
	}
	res, err := m.cfg.Cognito.SignIn(ctx, in)
	if err != nil {
		return nil, err
	}
	return m.signedIn(ctx, res, in.Device)
}

// ConfirmSignIn answers the challenge SignIn (or a previous ConfirmSignIn) returned.
func (m *Manager) ConfirmSignIn(ctx context.Context, next *cognito.Challenge, a cognito.Answer) (*SignInResult, error) {
	res, err := m.cfg.Cognito.Respond(ctx, next, a)
	if err != nil {
		return nil, err
	}
	return m.signedIn(ctx, res, next.Device())
}

// rememberedDevice returns the device kept with the user's stored session, if any.
func (m *Manager) rememberedDevice(ctx context.Context, username string) *cognito.Device {
	k := store.Key{Pool: m.cfg.Cognito.UserPoolID(), Client: m.cfg.Cognito.ClientID(), User: username}
	e, err := m.cfg.Store.Get(ctx, k)
	if err != nil {
		return nil
	}
	rec, err := decodeRecord(e.Data)
	if err != nil {
		return nil
	}
	return rec.device()
}

func (m *Manager) signedIn(ctx context.Context, res *cognito.Result, dev *cognito.Device) (*SignInResult, error) {
	if res.Challenge != nil {
		return &SignInResult{Next: res.Challenge}, nil
	}
	at, err := jwt.Decode(res.Tokens.AccessToken.Reveal())
	if err != nil {
		return nil, fmt.Errorf("session: the service's access token: %w", err)
	}
	rec := &record{
		Username:     at.Claims().Username,
		AccessToken:  res.Tokens.AccessToken.Reveal(),
		IDToken:      res.Tokens.IDToken.Reveal(),
		RefreshToken: res.Tokens.RefreshToken.Reveal(),
		ClockOffset:  int64(m.offset(res.ServerTime, res.Tokens.AccessToken)),
	}
	if dev != nil {
		rec.DeviceKey, rec.DeviceGroupKey, rec.DevicePassword = dev.Key, dev.GroupKey, dev.Password.Reveal()
	}
	st, err := m.start(ctx, rec)
	if err != nil {
		return nil, err
	}
	return &SignInResult{Session: st.sess, NewDevice: res.NewDevice}, nil
}

// start stores a new session for rec's user (replacing any), binds the Manager to
// that user, and makes it the current user of the pool and client.
func (m *Manager) start(ctx context.Context, rec *record) (*state, error) {
	if rec.Username == "" {
		return nil, fmt.Errorf("%w: the access token has no username claim", ErrInvalidTokens)
	}
	k := store.Key{Pool: m.cfg.Cognito.UserPoolID(), Client: m.cfg.Cognito.ClientID(), User: rec.Username}
	m.rmu.Lock()
	defer m.rmu.Unlock()
	st, err := m.save(ctx, k, store.AnyVersion, rec)
	if err != nil {
		return nil, err
	}
	u := rec.Username
	m.user.Store(&u)
	if err := store.SetCurrentUser(ctx, m.cfg.Store, k.Pool, k.Client, u); err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	m.emit(Event{Kind: SignedIn, Username: u})
	if m.cfg.Credentials != nil {
		return m.refreshCredentials(ctx, st)
	}
	return st, nil
}

// RememberDevice confirms the device a sign-in created, so later sign-ins of this
// user can skip MFA and refreshes send its key. It needs the current session.
func (m *Manager) RememberDevice(ctx context.Context, nd cognito.NewDevice, name string) error {
	sess, err := m.Fetch(ctx, FetchOptions{})
	if err != nil {
		return err
	}
	dev, _, err := m.cfg.Cognito.ConfirmDevice(ctx, jwt.Secret(sess.Tokens.Access.Raw()), nd, name)
	if err != nil {
		return err
	}
	m.rmu.Lock()
	defer m.rmu.Unlock()
	st, err := m.load(ctx)
	if err != nil {
		return err
	}
	rec := *st.rec
	rec.DeviceKey, rec.DeviceGroupKey, rec.DevicePassword = dev.Key, dev.GroupKey, dev.Password.Reveal()
	_, err = m.save(ctx, st.key, st.version, &rec)
	return err
}

// ImportInput holds tokens another backend issued for this pool and client.
type ImportInput struct {
	AccessToken string
	IDToken     string // optional, checked when given
	// RefreshToken lets the session refresh; without it, it ends at expiry.
	RefreshToken jwt.Secret
	// Device is the remembered device the tokens were issued to, if any: a refresh
	// token bound to a device is refused without its key.
	Device *cognito.Device
}

// Import builds a session from tokens issued elsewhere (a custom sign-in backend),
// after checking that they are well-formed JWTs of this pool (iss) and app client
// (client_id, aud) and belong to the same user. Refresh then works as usual.
func (m *Manager) Import(ctx context.Context, in ImportInput) (*Session, error) {
	pool, client := m.cfg.Cognito.UserPoolID(), m.cfg.Cognito.ClientID()
	at, err := jwt.Decode(in.AccessToken)
	if err != nil {
		return nil, fmt.Errorf("%w: access token: %w", ErrInvalidTokens, err)
	}
	c := at.Claims()
	var problems []string
	if c.TokenUse != jwt.AccessToken {
		problems = append(problems, fmt.Sprintf("access token has token_use %q", c.TokenUse))
	}
	if !issuedBy(c.Iss, pool) {
		problems = append(problems, fmt.Sprintf("access token issuer %q is not pool %s", c.Iss, pool))
	}
	if c.ClientID != client {
		problems = append(problems, fmt.Sprintf("access token client_id %q is not %s", c.ClientID, client))
	}
	if c.Username == "" || c.Sub == "" || c.Exp.IsZero() {
		problems = append(problems, "access token lacks username, sub or exp")
	}
	if in.IDToken != "" {
		it, err := jwt.Decode(in.IDToken)
		if err != nil {
			return nil, fmt.Errorf("%w: id token: %w", ErrInvalidTokens, err)
		}
		ic := it.Claims()
		if ic.TokenUse != jwt.IDToken {
			problems = append(problems, fmt.Sprintf("id token has token_use %q", ic.TokenUse))
		}
		if !issuedBy(ic.Iss, pool) {
			problems = append(problems, fmt.Sprintf("id token issuer %q is not pool %s", ic.Iss, pool))
		}
		if !slices.Contains(ic.Aud, client) {
			problems = append(problems, fmt.Sprintf("id token audience %q does not include %s", ic.Aud, client))
		}
		if ic.Sub != c.Sub {
			problems = append(problems, "id and access tokens belong to different users")
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrInvalidTokens, strings.Join(problems, "; "))
	}
	rec := &record{Username: c.Username, AccessToken: in.AccessToken, IDToken: in.IDToken, RefreshToken: in.RefreshToken.Reveal()}
	if d := in.Device; d != nil {
		rec.DeviceKey, rec.DeviceGroupKey, rec.DevicePassword = d.Key, d.GroupKey, d.Password.Reveal()
	}
	st, err := m.start(ctx, rec)
	if err != nil {
		return nil, err
	}
	return st.sess, nil
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

// SignOut ends the session: it revokes the refresh token (or signs out globally)
// and always clears the local session. A failed revocation is returned: the local
// session is gone, but the tokens may still work until they expire.
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
		remote = m.cfg.Cognito.GlobalSignOut(ctx, jwt.Secret(st.rec.AccessToken))
	case st.rec.RefreshToken != "":
		remote = m.cfg.Cognito.RevokeToken(ctx, jwt.Secret(st.rec.RefreshToken))
	}
	m.unpublish()
	local := m.cfg.Store.Delete(ctx, st.key, store.AnyVersion)
	m.clearCurrent(ctx, st.key)
	m.emit(Event{Kind: SignedOut, Username: st.key.User, Reason: ReasonUser, Err: remote})
	if remote != nil {
		remote = fmt.Errorf("session: signed out locally, but the service did not revoke the tokens: %w", remote)
	}
	if local != nil {
		local = fmt.Errorf("session: removing the stored session: %w", local)
	}
	return errors.Join(remote, local)
}
