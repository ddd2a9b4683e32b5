package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/internal/errkind"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/store"
)

// A remembered device outlives the session it was confirmed in: Cognito keeps it
// across sign-out, and the next sign-in needs its secret to answer DEVICE_SRP_AUTH.
// So it lives in store records of its own, per (pool, client, user), beside the
// session, written with no expiry (keys.go names them):
//
//	DeviceKey(pool, client, username)       the device: key, group key, password
//	deviceLoginKey(pool, client, login)     the username a login (alias, e-mail) belongs to

// deviceFormat versions the stored device layout.
const deviceFormat = 1

// deviceRecord is a remembered device as it lives in the Store. As in record, the
// password is a plain string here because this is where it must survive.
type deviceRecord struct {
	Format   int    `json:"format"`
	Username string `json:"username"`
	Key      string `json:"device_key"`
	GroupKey string `json:"device_group_key,omitempty"`
	Password string `json:"device_password,omitempty"`
	// Logins are the other names the user signed in with on this device, each with
	// a login entry pointing here; forgetting the device removes them too.
	Logins []string `json:"logins,omitempty"`
}

// loginRecord points a login (what the user typed) at the username it signed in as.
type loginRecord struct {
	Format   int    `json:"format"`
	Username string `json:"username"`
}

// errBadDevice marks a stored device that cannot be read.
var errBadDevice = errkind.New("session: stored device is unreadable", false)

// ErrNoDevice: the session has no remembered device to act on.
var ErrNoDevice = errkind.New("session: no remembered device", false)

func decodeDevice(b []byte) (*deviceRecord, error) {
	var d deviceRecord
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("%w: %v", errBadDevice, err)
	}
	if d.Format != deviceFormat {
		return nil, fmt.Errorf("%w: format %d, want %d", errBadDevice, d.Format, deviceFormat)
	}
	if d.Username == "" || d.Key == "" {
		return nil, fmt.Errorf("%w: no username or device key", errBadDevice)
	}
	return &d, nil
}

func decodeLogin(b []byte) (string, error) {
	var l loginRecord
	if err := json.Unmarshal(b, &l); err != nil {
		return "", fmt.Errorf("%w: %v", errBadDevice, err)
	}
	if l.Format != deviceFormat || l.Username == "" {
		return "", fmt.Errorf("%w: login entry of format %d without a username", errBadDevice, l.Format)
	}
	return l.Username, nil
}

func (d *deviceRecord) device() *cognito.Device {
	return &cognito.Device{Key: d.Key, GroupKey: d.GroupKey, Password: jwt.Secret(d.Password)}
}

func (m *Manager) deviceStoreKey(username string) store.Key {
	return DeviceKey(m.cfg.Cognito.UserPoolID(), m.cfg.Cognito.ClientID(), username)
}

func (m *Manager) loginStoreKey(login string) store.Key {
	return deviceLoginKey(m.cfg.Cognito.UserPoolID(), m.cfg.Cognito.ClientID(), login)
}

// storedDevice returns the device remembered for login (a username, or another
// name the user signed in with), nil when there is none. A stored device that
// cannot be read is logged and ignored: signing in without it still works (with
// MFA), and remembering the device again replaces it.
func (m *Manager) storedDevice(ctx context.Context, login string) *deviceRecord {
	if login == "" {
		return nil
	}
	read := func(k store.Key) []byte {
		e, err := m.cfg.Store.Get(ctx, k)
		if err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				m.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "cogauth: cannot read the remembered device", slog.String("key", string(k)), slog.String("error", err.Error()))
			}
			return nil
		}
		return e.Data
	}
	decode := func(k store.Key, b []byte) *deviceRecord {
		d, err := decodeDevice(b)
		if err != nil {
			m.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "cogauth: ignoring the remembered device", slog.String("key", string(k)), slog.String("error", err.Error()))
			return nil
		}
		return d
	}
	if b := read(m.deviceStoreKey(login)); b != nil {
		return decode(m.deviceStoreKey(login), b)
	}
	b := read(m.loginStoreKey(login))
	if b == nil {
		return nil
	}
	username, err := decodeLogin(b)
	if err != nil {
		m.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "cogauth: ignoring the remembered device", slog.String("key", string(m.loginStoreKey(login))), slog.String("error", err.Error()))
		return nil
	}
	k := m.deviceStoreKey(username)
	if b = read(k); b == nil {
		return nil
	}
	d := decode(k, b)
	if d == nil || d.Username != username || !slices.Contains(d.Logins, login) {
		// A login entry the device does not list is left over from an older
		// device: it must not lend this user's device to whoever types login.
		return nil
	}
	return d
}

// saveDevice stores dev as the remembered device of username, reachable by login
// too when that differs, and keeps the logins of the device it replaces if it is
// the same device.
func (m *Manager) saveDevice(ctx context.Context, username, login string, dev *cognito.Device) error {
	if dev == nil || dev.Key == "" || dev.GroupKey == "" || dev.Password == "" {
		// Without the group key and password the device cannot answer
		// DEVICE_SRP_AUTH; the session record still has its key for refreshes.
		return nil
	}
	d, changed := deviceToSave(m.storedDevice(ctx, username), username, login, dev)
	if !changed {
		return nil // nothing new: spare the store (a keyring prompt, a file rewrite)
	}
	// Logins first: a device entry listing a login whose pointer is missing only
	// loses that shortcut, never points anyone at the wrong device.
	for _, l := range d.Logins {
		b, _ := json.Marshal(loginRecord{Format: deviceFormat, Username: username})
		if _, err := m.cfg.Store.Put(ctx, m.loginStoreKey(l), b, store.AnyVersion, time.Time{}); err != nil {
			return fmt.Errorf("session: saving the remembered device: %w", err)
		}
	}
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("session: %w", err)
	}
	if _, err := m.cfg.Store.Put(ctx, m.deviceStoreKey(username), b, store.AnyVersion, time.Time{}); err != nil {
		return fmt.Errorf("session: saving the remembered device: %w", err)
	}
	return nil
}

// deviceToSave is the record of dev as username's remembered device, keeping
// the logins of old (the stored record, nil for none) when it is the same
// device and adding login when it is not the username; changed is false when
// old holds all of it already.
func deviceToSave(old *deviceRecord, username, login string, dev *cognito.Device) (d *deviceRecord, changed bool) {
	d = &deviceRecord{Format: deviceFormat, Username: username, Key: dev.Key, GroupKey: dev.GroupKey, Password: dev.Password.Reveal()}
	if old != nil && old.Key == dev.Key {
		d.Logins = old.Logins
	}
	if login != "" && login != username && !slices.Contains(d.Logins, login) {
		d.Logins = append(d.Logins, login)
	}
	same := old != nil && old.Key == d.Key && old.GroupKey == d.GroupKey && old.Password == d.Password && slices.Equal(old.Logins, d.Logins)
	return d, !same
}

// dropDevice deletes the remembered device of username, and its logins, if its
// key is key (any key when key is empty).
func (m *Manager) dropDevice(ctx context.Context, username, key string) error {
	k := m.deviceStoreKey(username)
	e, err := m.cfg.Store.Get(ctx, k)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("session: reading the remembered device: %w", err)
	}
	d, derr := decodeDevice(e.Data)
	if derr == nil && key != "" && d.Key != key {
		return nil
	}
	var errs []error
	if derr == nil {
		for _, l := range d.Logins {
			if err := m.cfg.Store.Delete(ctx, m.loginStoreKey(l), store.AnyVersion); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := m.cfg.Store.Delete(ctx, k, e.Version); err != nil && !errors.Is(err, store.ErrConflict) {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("session: removing the remembered device: %w", err)
	}
	return nil
}

// Devices are the signed-in user's devices, seen through a Manager
// (Manager.Devices): confirming the device a sign-in created, this machine's
// remembered device, and the devices the pool tracks for the user. They act with
// the current session's access token (refreshed first when due; ErrSignedOut
// without a session). A remembered device lives in the Store beside the session
// and outlives sign-out, as it does at Cognito: the next sign-in of the user
// answers DEVICE_SRP_AUTH with it and may skip MFA, and every refresh sends its
// key. Like Account, a Devices has no state of its own.
type Devices struct{ m *Manager }

// Devices returns the devices view of the Manager's signed-in user. See Devices.
func (m *Manager) Devices() Devices { return Devices{m} }

// DeviceOptions adjust Devices.Confirm.
type DeviceOptions struct {
	// Name is the device's name in Devices.List ("laptop"); the pool's default when
	// empty.
	Name string
	// Remember marks the device remembered in a pool that remembers devices only
	// when the user says so (the service's ConfirmDevice answers UserConfirmationNecessary): set
	// it when the user said yes. A pool set to always remember does so anyway.
	Remember bool
}

// Confirm confirms the device a sign-in created (SignInResult.NewDevice): it
// makes the device's password, sends its SRP verifier, and keeps key, group key and
// password in the store apart from the session, so that they outlive sign-out. Later
// sign-ins of the user then answer DEVICE_SRP_AUTH with it (skipping MFA where the
// pool allows), and refreshes send its key. It reports whether the device is now
// remembered. It needs the current session.
func (dv Devices) Confirm(ctx context.Context, nd cognito.NewDevice, opts DeviceOptions) (remembered bool, err error) {
	sess, err := dv.m.Fetch(ctx, FetchOptions{})
	if err != nil {
		return false, err
	}
	access := jwt.Secret(sess.Tokens.Access.Raw())
	dev, needsUser, err := dv.m.cfg.Cognito.ConfirmDevice(ctx, access, nd, opts.Name)
	if err != nil {
		return false, err
	}
	// From here on the service knows the device's verifier: losing the password
	// would orphan the device, so it is kept even if marking it remembered fails.
	saveErr := dv.m.keepDevice(ctx, dev)
	remembered = !needsUser
	var statusErr error
	if needsUser && opts.Remember {
		if statusErr = dv.m.cfg.Cognito.UpdateDeviceStatus(ctx, access, dev.Key, cognito.DeviceRemembered); statusErr == nil {
			remembered = true
		}
	}
	return remembered, errors.Join(saveErr, statusErr)
}

// Remember confirms the device a sign-in created and marks it remembered: the
// user said yes to "remember this device". See Confirm.
func (dv Devices) Remember(ctx context.Context, nd cognito.NewDevice, name string) error {
	_, err := dv.Confirm(ctx, nd, DeviceOptions{Name: name, Remember: true})
	return err
}

// keepDevice puts dev in the current session record (refreshes send its key) and in
// the user's device entry (the next sign-in answers with it).
func (m *Manager) keepDevice(ctx context.Context, dev *cognito.Device) error {
	m.rmu.Lock()
	defer m.rmu.Unlock()
	st, err := m.load(ctx)
	if err != nil {
		return err
	}
	rec := *st.Value.rec
	rec.DeviceKey, rec.DeviceGroupKey, rec.DevicePassword = dev.Key, dev.GroupKey, dev.Password.Reveal()
	if _, err := m.save(ctx, st.Value.key, st.Value.version, &rec); err != nil {
		return err
	}
	return m.saveDevice(ctx, rec.Username, rec.Login, dev)
}

// sessionDeviceKey returns the key of the device the session's tokens were issued
// to, or else the user's remembered device.
func (m *Manager) sessionDeviceKey(ctx context.Context, s *Session) string {
	if s.Tokens.DeviceKey != "" {
		return s.Tokens.DeviceKey
	}
	if d := m.storedDevice(ctx, s.Username); d != nil {
		return d.Key
	}
	return ""
}

// Remembered returns the signed-in user's device as this machine keeps it:
// key, group key and password (a jwt.Secret, printed redacted). A backend that
// signs users in hands it over with the tokens, for Import on the other side. It
// is ErrNoDevice when there is none, and has only a Key when the session knows no
// more (tokens imported with the key alone).
func (dv Devices) Remembered(ctx context.Context) (*cognito.Device, error) {
	sess, err := dv.m.Fetch(ctx, FetchOptions{})
	if err != nil {
		return nil, err
	}
	d := dv.m.storedDevice(ctx, sess.Username)
	switch {
	case d != nil && (sess.Tokens.DeviceKey == "" || d.Key == sess.Tokens.DeviceKey):
		return d.device(), nil
	case sess.Tokens.DeviceKey != "":
		return &cognito.Device{Key: sess.Tokens.DeviceKey}, nil
	}
	return nil, ErrNoDevice
}

// List lists the devices the pool tracks for the signed-in user (ListDevices;
// those confirmed with Confirm, on this machine or elsewhere). Session.Tokens.DeviceKey
// names this session's.
func (dv Devices) List(ctx context.Context) ([]cognito.DeviceInfo, error) {
	sess, err := dv.m.Fetch(ctx, FetchOptions{})
	if err != nil {
		return nil, err
	}
	return dv.m.cfg.Cognito.ListDevices(ctx, jwt.Secret(sess.Tokens.Access.Raw()))
}

// UpdateStatus marks a device of the signed-in user remembered or not; key
// "" means this session's device. A device that is not remembered no longer skips
// MFA, but stays tracked, and stays stored here.
func (dv Devices) UpdateStatus(ctx context.Context, key string, status cognito.DeviceStatus) error {
	sess, err := dv.m.Fetch(ctx, FetchOptions{})
	if err != nil {
		return err
	}
	if key == "" {
		if key = dv.m.sessionDeviceKey(ctx, sess); key == "" {
			return ErrNoDevice
		}
	}
	return dv.m.cfg.Cognito.UpdateDeviceStatus(ctx, jwt.Secret(sess.Tokens.Access.Raw()), key, status)
}

// Forget makes the pool forget a device of the signed-in user; key "" means
// this session's device. When it is this machine's device, its key, group key and
// password are removed here too, whatever the service answered (a device gone at
// the service is forgotten all the same): the next sign-in goes through MFA again,
// and refreshes no longer send the key. The session itself continues.
func (dv Devices) Forget(ctx context.Context, key string) error {
	sess, err := dv.m.Fetch(ctx, FetchOptions{})
	if err != nil {
		return err
	}
	dv.m.rmu.Lock()
	defer dv.m.rmu.Unlock()
	st, err := dv.m.load(ctx)
	if err != nil {
		return err
	}
	local := dv.m.sessionDeviceKey(ctx, st.Value.sess)
	if key == "" {
		if key = local; key == "" {
			return ErrNoDevice
		}
	}
	remote := dv.m.cfg.Cognito.ForgetDevice(ctx, jwt.Secret(sess.Tokens.Access.Raw()), key)
	if key != local {
		return remote
	}
	if errors.Is(remote, cognito.ErrResourceNotFound) {
		remote = nil // already gone there; now here too
	}
	var localErr error
	if st.Value.rec.DeviceKey == key {
		rec := *st.Value.rec
		rec.DeviceKey, rec.DeviceGroupKey, rec.DevicePassword = "", "", ""
		_, localErr = dv.m.save(ctx, st.Value.key, st.Value.version, &rec)
	}
	return errors.Join(remote, localErr, dv.m.dropDevice(ctx, st.Value.rec.Username, key))
}
