package session_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/internal/wiretest"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/secret"
	"github.com/cogauth/cogauth/session"
	"github.com/cogauth/cogauth/store"
)

const devicePW = "Dev1ce-Passw0rd!"

var deviceSRP = []string{"RespondToAuthChallenge:DEVICE_SRP_AUTH", "RespondToAuthChallenge:DEVICE_PASSWORD_VERIFIER"}

// deviceWorld is an emulator whose pools track devices and require TOTP, with a
// shared store, a recording client per app client, and Managers made on demand
// (each one a fresh process as far as the session is concerned).
type deviceWorld struct {
	srv   *emulator.Server
	store store.Store
	rec   *wiretest.Recorder
	pool  string
	c     *cognito.Client
	// totp holds each user's TOTP secret once enrolled.
	totp map[string]string
}

// newDeviceWorld seeds pool "app" (users alice and bob, usernames as typed) and
// pool "mail" (e-mail as username: the service names dave by a generated ID), both
// with device tracking cfg and MFA required.
func newDeviceWorld(t *testing.T, pool string, cfg emulator.DeviceConfig) *deviceWorld {
	t.Helper()
	srv := emulator.NewServer(emulator.Options{
		Clock: clock.NewFake(t0),
		Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
			Name: "app", MFA: "ON", DeviceTracking: &cfg,
			Clients: []emulator.SeedClient{{Name: "web", GenerateSecret: true, RefreshTokenRotation: true}},
			Users:   []emulator.SeedUser{{Username: "alice", Password: devicePW}, {Username: "bob", Password: devicePW}},
		}, {
			Name: "mail", MFA: "ON", DeviceTracking: &cfg, UsernameAttributes: []string{"email"},
			Clients: []emulator.SeedClient{{Name: "web"}},
			Users:   []emulator.SeedUser{{Username: "dave@example.com", Password: devicePW}},
		}}},
	})
	t.Cleanup(srv.Close)
	w := &deviceWorld{srv: srv, store: store.NewMemory(), rec: &wiretest.Recorder{MarkDevice: true}, pool: pool, totp: map[string]string{}}
	w.c = w.client(t, w.rec)
	return w
}

func (w *deviceWorld) client(t *testing.T, hc *wiretest.Recorder) *cognito.Client {
	t.Helper()
	cl := w.srv.AppClient(w.pool, "web")
	c, err := cognito.New(cognito.Options{
		UserPoolID: w.srv.PoolID(w.pool), ClientID: cl.ID, ClientSecret: jwt.Secret(cl.Secret),
		Endpoint: w.srv.URL, Clock: w.srv.Clock(), HTTPClient: hc,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (w *deviceWorld) manager(t *testing.T, st store.Store, mod ...func(*session.Config)) *session.Manager {
	t.Helper()
	cfg := session.Config{Cognito: w.c, Store: st, Clock: w.srv.Clock(), Logger: quietLogger()}
	for _, f := range mod {
		f(&cfg)
	}
	m, err := session.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// signIn signs login in with m, answering MFA set-up or TOTP when asked, and
// returns the result and the calls it made.
func (w *deviceWorld) signIn(t *testing.T, m *session.Manager, login string) (*session.SignInResult, []string) {
	t.Helper()
	ctx := context.Background()
	w.srv.Advance(time.Minute) // a fresh TOTP step for every sign-in
	w.rec.Take()
	res, err := m.SignIn(ctx, cognito.SignInInput{Username: login, Password: devicePW})
	for err == nil && res.Session == nil {
		switch res.Next.Name {
		case cognito.ChallengeMFASetup:
			var totpKey jwt.Secret
			var next *cognito.Challenge
			if totpKey, next, err = w.c.AssociateSoftwareToken(ctx, res.Next); err != nil {
				break
			}
			w.totp[login] = totpKey.Reveal()
			code, _ := emulator.TOTP(totpKey.Reveal(), w.srv.Now())
			if next, err = w.c.VerifySoftwareToken(ctx, next, secret.String(code), ""); err != nil {
				break
			}
			res, err = m.ConfirmSignIn(ctx, next, cognito.Answer{})
		case cognito.ChallengeSoftwareTokenMFA:
			code, _ := emulator.TOTP(w.totp[login], w.srv.Now())
			res, err = m.ConfirmSignIn(ctx, res.Next, cognito.Answer{Code: secret.String(code)})
		default:
			t.Fatalf("unexpected challenge %v", res.Next)
		}
	}
	if err != nil {
		t.Fatalf("sign-in of %s: %v", login, err)
	}
	return res, w.rec.Take()
}

// alwaysRemember is the console's "Always remember user devices".
var alwaysRemember = emulator.DeviceConfig{ChallengeRequiredOnNewDevice: true}

func answeredDevice(calls []string) bool {
	return slices.Contains(calls, deviceSRP[0]) && slices.Contains(calls, deviceSRP[1])
}

func askedMFA(calls []string) bool {
	return slices.ContainsFunc(calls, func(c string) bool {
		return strings.HasPrefix(c, "RespondToAuthChallenge:SOFTWARE_TOKEN_MFA") || strings.HasPrefix(c, "RespondToAuthChallenge:MFA_SETUP")
	})
}

// TestRememberedDeviceSurvivesSignOut is issue 7's done-when: sign in, confirm the
// device, sign out, and sign in again answering DEVICE_SRP_AUTH instead of MFA, in
// a new Manager on the same store; refreshes send the device key, which the
// emulator insists on.
func TestRememberedDeviceSurvivesSignOut(t *testing.T) {
	for _, tt := range []struct{ pool, login string }{{"app", "alice"}, {"mail", "dave@example.com"}} {
		t.Run(tt.pool, func(t *testing.T) {
			w := newDeviceWorld(t, tt.pool, alwaysRemember)
			ctx := context.Background()
			m := w.manager(t, w.store)
			res, calls := w.signIn(t, m, tt.login)
			if !askedMFA(calls) || res.NewDevice == nil {
				t.Fatalf("first sign-in: calls %v, new device %v; want MFA and a new device", calls, res.NewDevice)
			}
			remembered, err := m.Devices().Confirm(ctx, *res.NewDevice, session.DeviceOptions{Name: "laptop"})
			if err != nil || !remembered {
				t.Fatalf("Devices().Confirm = %v, %v; want remembered (pool always remembers)", remembered, err)
			}
			key := res.NewDevice.Key
			s, err := m.Fetch(ctx, session.FetchOptions{ForceRefresh: true})
			if err != nil || s.Tokens.DeviceKey != key {
				t.Fatalf("refresh after Devices().Confirm: %v, device %q", err, s.Tokens.DeviceKey)
			}
			if calls := w.rec.Take(); !slices.Contains(calls, "GetTokensFromRefreshToken+device") {
				t.Fatalf("refresh calls %v; want the device key sent", calls)
			}

			if err := m.SignOut(ctx, session.SignOutOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Fetch(ctx, session.FetchOptions{}); !errors.Is(err, session.ErrSignedOut) {
				t.Fatalf("after sign-out: %v", err)
			}

			// A new process: the device comes from the store alone.
			m2 := w.manager(t, w.store)
			res, calls = w.signIn(t, m2, tt.login)
			if !answeredDevice(calls) || askedMFA(calls) {
				t.Fatalf("sign-in after sign-out: calls %v; want DEVICE_SRP_AUTH and DEVICE_PASSWORD_VERIFIER, no MFA", calls)
			}
			if res.NewDevice != nil || res.Session.Tokens.DeviceKey != key {
				t.Fatalf("signed in with device %q (new device %v), want %q", res.Session.Tokens.DeviceKey, res.NewDevice, key)
			}
			// The refresh token is bound to the device: the Manager refreshes with
			// its key, and the same token without it is refused.
			rt := res.Session.Tokens.Refresh
			if _, err := w.c.Refresh(ctx, cognito.RefreshInput{RefreshToken: rt, Username: res.Session.Username}); !errors.Is(err, cognito.ErrNotAuthorized) {
				t.Fatalf("device-bound refresh without the key: %v; want NotAuthorized", err)
			}
			if _, err := m2.Fetch(ctx, session.FetchOptions{ForceRefresh: true}); err != nil {
				t.Fatalf("Manager refresh of a device-bound session: %v", err)
			}
		})
	}
}

// aliceOnLaptop starts a world whose pool "app" always remembers devices, signs
// alice in with a fresh Manager and remembers her new device as "laptop".
func aliceOnLaptop(t *testing.T) (*deviceWorld, *session.Manager, *session.SignInResult) {
	t.Helper()
	w := newDeviceWorld(t, "app", alwaysRemember)
	m := w.manager(t, w.store)
	res, _ := w.signIn(t, m, "alice")
	if err := m.Devices().Remember(context.Background(), *res.NewDevice, "laptop"); err != nil {
		t.Fatal(err)
	}
	return w, m, res
}

// deviceEntry is the store key of user's remembered device in w's pool, by the
// package's documented key scheme.
func (w *deviceWorld) deviceEntry(user string) store.Key {
	return session.DeviceKey(w.srv.PoolID(w.pool), w.srv.AppClient(w.pool, "web").ID, user)
}

// TestWrongDevicePasswordFallsBack: the service refuses a device whose stored
// password is wrong; the Manager then drops it and signs in as a new device (MFA).
func TestWrongDevicePasswordFallsBack(t *testing.T) {
	w, m, _ := aliceOnLaptop(t)
	ctx := context.Background()
	if err := m.SignOut(ctx, session.SignOutOptions{}); err != nil {
		t.Fatal(err)
	}
	// Damage the stored device password (another program's bug, a restored
	// backup): the key scheme is the package's documented one.
	k := w.deviceEntry("alice")
	e, err := w.store.Get(ctx, k)
	if err != nil {
		t.Fatalf("the device is not stored apart from the session: %v", err)
	}
	var d map[string]any
	if err := json.Unmarshal(e.Data, &d); err != nil {
		t.Fatal(err)
	}
	d["device_password"] = "wrong-device-password"
	b, _ := json.Marshal(d)
	if _, err := w.store.Put(ctx, k, b, e.Version, time.Time{}); err != nil {
		t.Fatal(err)
	}

	res, calls := w.signIn(t, m, "alice")
	refused := slices.Index(calls, deviceSRP[1])
	if refused < 0 || !slices.Contains(calls[refused+1:], "InitiateAuth") || !askedMFA(calls[refused+1:]) {
		t.Fatalf("calls %v; want the device proof refused, then a sign-in with MFA", calls)
	}
	if res.NewDevice == nil || res.NewDevice.Key == d["device_key"] {
		t.Fatalf("new device %v; want a new one", res.NewDevice)
	}
	if _, err := w.store.Get(ctx, k); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("refused device still stored: %v", err)
	}
}

// TestImportWithDevice covers seed 003's pitfall: tokens a backend got for a
// remembered device refresh only with its key.
func TestImportWithDevice(t *testing.T) {
	w := newDeviceWorld(t, "app", alwaysRemember)
	ctx := context.Background()
	// The backend signs alice in and remembers its own device.
	backend := w.manager(t, store.NewMemory())
	res, _ := w.signIn(t, backend, "alice")
	if err := backend.Devices().Remember(ctx, *res.NewDevice, "backend"); err != nil {
		t.Fatal(err)
	}
	// Each case imports tokens of a sign-in of its own: the client rotates refresh
	// tokens with no grace period, so a token one case refreshed is spent for the
	// next.
	backendSignIn := func(t *testing.T) *session.Session {
		t.Helper()
		res, calls := w.signIn(t, backend, "alice")
		if !answeredDevice(calls) {
			t.Fatalf("backend sign-in did not use its device: %v", calls)
		}
		return res.Session
	}
	dev := &cognito.Device{Key: backendSignIn(t).Tokens.DeviceKey}
	full := w.deviceOf(t, backend, "alice")

	tests := []struct {
		name    string
		device  *cognito.Device
		wantErr bool
	}{
		{name: "key read from the access token", device: nil},
		{name: "key given", device: dev},
		{name: "another device's key", device: &cognito.Device{Key: "us-east-1_00000000-0000-0000-0000-000000000000"}, wantErr: true},
		{name: "group key and password without key", device: &cognito.Device{GroupKey: full.GroupKey, Password: full.Password}}, // key from the token
		{name: "key, group key and password given", device: full},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := backendSignIn(t)
			st := store.NewMemory()
			m := w.manager(t, st)
			got, err := m.Import(ctx, session.ImportInput{AccessToken: jwt.Secret(s.Tokens.Access.Raw()), IDToken: jwt.Secret(s.Tokens.ID.Raw()), RefreshToken: s.Tokens.Refresh, Device: tt.device})
			if tt.wantErr {
				if !errors.Is(err, session.ErrInvalidTokens) {
					t.Fatalf("Import = %v; want ErrInvalidTokens", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Tokens.DeviceKey != dev.Key {
				t.Fatalf("imported device key %q, want %q", got.Tokens.DeviceKey, dev.Key)
			}
			w.rec.Take()
			if _, err := m.Fetch(ctx, session.FetchOptions{ForceRefresh: true}); err != nil {
				t.Fatalf("refresh of the imported session: %v", err)
			}
			if calls := w.rec.Take(); !slices.Contains(calls, "GetTokensFromRefreshToken+device") {
				t.Fatalf("refresh calls %v", calls)
			}
			if tt.device != full {
				return
			}
			// With the whole device, the next sign-in here answers with it.
			if err := m.SignOut(ctx, session.SignOutOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, calls := w.signIn(t, m, "alice"); !answeredDevice(calls) || askedMFA(calls) {
				t.Fatalf("sign-in after importing the device: %v", calls)
			}
		})
	}
	// Without the device key a live refresh token of the device is refused: the
	// pitfall.
	s := backendSignIn(t)
	if _, err := w.c.Refresh(ctx, cognito.RefreshInput{RefreshToken: s.Tokens.Refresh, Username: "alice"}); !errors.Is(err, cognito.ErrNotAuthorized) {
		t.Fatalf("refresh without device key: %v", err)
	}
}

// deviceOf reads the device the Manager stored for user, as a backend would hand
// it over.
func (w *deviceWorld) deviceOf(t *testing.T, m *session.Manager, user string) *cognito.Device {
	t.Helper()
	s, err := m.Fetch(context.Background(), session.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := m.Devices().Remembered(context.Background())
	if err != nil || d.Key != s.Tokens.DeviceKey || d.GroupKey == "" || d.Password == "" {
		t.Fatalf("Devices().Remembered = %+v, %v", d, err)
	}
	if strings.Contains(fmt.Sprintf("%v %+v %#v", d, d, d), d.Password.Reveal()) {
		t.Fatal("the device password prints")
	}
	return d
}

func TestListUpdateAndForgetDevices(t *testing.T) {
	w := newDeviceWorld(t, "app", alwaysRemember)
	ctx := context.Background()
	m := w.manager(t, w.store)
	if _, err := m.Devices().List(ctx); !errors.Is(err, session.ErrSignedOut) {
		t.Fatalf("Devices().List signed out: %v", err)
	}
	res, _ := w.signIn(t, m, "alice")
	if err := m.Devices().Forget(ctx, ""); !errors.Is(err, session.ErrNoDevice) {
		t.Fatalf("Devices().Forget without a device: %v", err)
	}
	if err := m.Devices().Remember(ctx, *res.NewDevice, "laptop"); err != nil {
		t.Fatal(err)
	}
	mine := res.NewDevice.Key
	// Another machine (its own store) remembers its own device for alice.
	other := w.manager(t, store.NewMemory())
	ores, _ := w.signIn(t, other, "alice")
	if err := other.Devices().Remember(ctx, *ores.NewDevice, "phone"); err != nil {
		t.Fatal(err)
	}
	theirs := ores.NewDevice.Key

	list, err := m.Devices().List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]cognito.DeviceInfo{}
	for _, d := range list {
		byKey[d.Key] = d
	}
	if len(list) != 2 || byKey[mine].Name != "laptop" || byKey[theirs].Name != "phone" || !byKey[mine].Remembered {
		t.Fatalf("Devices().List = %+v", list)
	}

	if err := m.Devices().UpdateStatus(ctx, "", cognito.DeviceNotRemembered); err != nil {
		t.Fatal(err)
	}
	if d, err := w.c.GetDevice(ctx, jwt.Secret(res.Session.Tokens.Access.Raw()), mine); err != nil || d.Remembered {
		t.Fatalf("after not_remembered: %+v, %v", d, err)
	}
	if err := m.Devices().UpdateStatus(ctx, mine, cognito.DeviceRemembered); err != nil {
		t.Fatal(err)
	}

	// Forgetting another machine's device leaves this one's alone.
	if err := m.Devices().Forget(ctx, theirs); err != nil {
		t.Fatal(err)
	}
	if s, _ := m.Fetch(ctx, session.FetchOptions{}); s.Tokens.DeviceKey != mine {
		t.Fatalf("forgetting another device touched this one: %q", s.Tokens.DeviceKey)
	}
	// Forgetting this one: gone at the service and here; the session continues.
	if err := m.Devices().Forget(ctx, ""); err != nil {
		t.Fatal(err)
	}
	s, err := m.Fetch(ctx, session.FetchOptions{ForceRefresh: true})
	if err != nil || s.Tokens.DeviceKey != "" {
		t.Fatalf("session after Devices().Forget: %v, device %q", err, s.Tokens.DeviceKey)
	}
	if list, err := m.Devices().List(ctx); err != nil || len(list) != 0 {
		t.Fatalf("Devices().List after forgetting both = %+v, %v", list, err)
	}
	if err := m.Devices().Forget(ctx, ""); !errors.Is(err, session.ErrNoDevice) {
		t.Fatalf("second Devices().Forget: %v", err)
	}
	if err := m.SignOut(ctx, session.SignOutOptions{}); err != nil {
		t.Fatal(err)
	}
	if res, calls := w.signIn(t, m, "alice"); answeredDevice(calls) || !askedMFA(calls) || res.NewDevice == nil {
		t.Fatalf("sign-in after Devices().Forget: %v", calls)
	}
}

// TestDeviceOptIn: a pool that remembers devices only on the user's word.
func TestDeviceOptIn(t *testing.T) {
	w := newDeviceWorld(t, "app", emulator.DeviceConfig{ChallengeRequiredOnNewDevice: true, DeviceOnlyRememberedOnUserPrompt: true})
	ctx := context.Background()
	m := w.manager(t, w.store)

	// The user says no: tracked, not remembered, MFA next time.
	res, _ := w.signIn(t, m, "alice")
	remembered, err := m.Devices().Confirm(ctx, *res.NewDevice, session.DeviceOptions{Name: "kiosk"})
	if err != nil || remembered {
		t.Fatalf("Devices().Confirm without Remember = %v, %v", remembered, err)
	}
	if _, calls := w.signIn(t, m, "alice"); answeredDevice(calls) || !askedMFA(calls) {
		t.Fatalf("unremembered device: %v", calls)
	}

	// The user says yes.
	res, _ = w.signIn(t, m, "bob")
	if remembered, err := m.Devices().Confirm(ctx, *res.NewDevice, session.DeviceOptions{Name: "laptop", Remember: true}); err != nil || !remembered {
		t.Fatalf("Devices().Confirm with Remember = %v, %v", remembered, err)
	}
	if err := m.SignOut(ctx, session.SignOutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, calls := w.signIn(t, m, "bob"); !answeredDevice(calls) || askedMFA(calls) {
		t.Fatalf("remembered device: %v", calls)
	}
}

// TestSignOutKeepsDeviceOfOldRecords: a session stored before devices had an entry
// of their own keeps its device only in the session record; SignOut moves it to the
// device entry instead of losing it.
func TestSignOutKeepsDeviceOfOldRecords(t *testing.T) {
	w, m, _ := aliceOnLaptop(t)
	ctx := context.Background()
	k := w.deviceEntry("alice")
	if err := w.store.Delete(ctx, k, store.AnyVersion); err != nil {
		t.Fatal(err)
	}
	if err := m.SignOut(ctx, session.SignOutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.store.Get(ctx, k); err != nil {
		t.Fatalf("device not kept at sign-out: %v", err)
	}
	if _, calls := w.signIn(t, m, "alice"); !answeredDevice(calls) {
		t.Fatalf("sign-in after sign-out: %v", calls)
	}
}

// TestConfirmDevicesAutomatically: with Config.ConfirmDevices the Manager confirms
// each new device itself, as Amplify does.
func TestConfirmDevicesAutomatically(t *testing.T) {
	w := newDeviceWorld(t, "app", alwaysRemember)
	ctx := context.Background()
	m := w.manager(t, w.store, func(cfg *session.Config) { cfg.ConfirmDevices, cfg.DeviceName = true, "cli" })
	res, calls := w.signIn(t, m, "alice")
	if res.NewDevice != nil || res.Session.Tokens.DeviceKey == "" || !slices.Contains(calls, "ConfirmDevice+device") {
		t.Fatalf("result %+v (device %q), calls %v; want the device confirmed", res, res.Session.Tokens.DeviceKey, calls)
	}
	list, err := m.Devices().List(ctx)
	if err != nil || len(list) != 1 || list[0].Name != "cli" || list[0].Key != res.Session.Tokens.DeviceKey || !list[0].Remembered {
		t.Fatalf("Devices().List = %+v, %v", list, err)
	}
	if err := m.SignOut(ctx, session.SignOutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, calls := w.signIn(t, m, "alice"); !answeredDevice(calls) || askedMFA(calls) || slices.Contains(calls, "ConfirmDevice+device") {
		t.Fatalf("second sign-in: %v", calls)
	}
}

// TestDeviceForgottenElsewhere: the device this machine remembers was forgotten at
// the service (from another machine, by an administrator). The next sign-in goes
// through MFA as a new device, and the session does not carry the stale key.
func TestDeviceForgottenElsewhere(t *testing.T) {
	w, m, res := aliceOnLaptop(t)
	ctx := context.Background()
	stale := res.NewDevice.Key
	if err := w.c.ForgetDevice(ctx, jwt.Secret(res.Session.Tokens.Access.Raw()), stale); err != nil {
		t.Fatal(err)
	}
	if err := m.SignOut(ctx, session.SignOutOptions{}); err != nil {
		t.Fatal(err)
	}
	res, calls := w.signIn(t, m, "alice")
	if answeredDevice(calls) || !askedMFA(calls) || res.NewDevice == nil || res.NewDevice.Key == stale {
		t.Fatalf("calls %v, new device %v; want MFA and a new device", calls, res.NewDevice)
	}
	if res.Session.Tokens.DeviceKey == stale {
		t.Fatal("the session carries the forgotten device's key")
	}
	if _, err := m.Fetch(ctx, session.FetchOptions{ForceRefresh: true}); err != nil {
		t.Fatal(err)
	}
	// Remembering the new device replaces the stale one.
	if err := m.Devices().Remember(ctx, *res.NewDevice, "laptop"); err != nil {
		t.Fatal(err)
	}
	if d, err := m.Devices().Remembered(ctx); err != nil || d.Key != res.NewDevice.Key {
		t.Fatalf("Devices().Remembered = %+v, %v", d, err)
	}
}

// TestConfirmSignInDropsRefusedDevice: when the device proof comes after a
// challenge the caller answered (here NEW_PASSWORD_REQUIRED, on a service that
// asks for the device last), a refusal cannot be retried inside the call; the
// device is dropped so that the next sign-in starts as a new device.
func TestConfirmSignInDropsRefusedDevice(t *testing.T) {
	const js = "application/x-amz-json-1.1"
	var seen []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			ChallengeName      string
			AuthParameters     map[string]string
			ChallengeResponses map[string]string
		}
		_ = json.NewDecoder(r.Body).Decode(&in)
		op := r.Header.Get("X-Amz-Target")
		op = op[strings.LastIndexByte(op, '.')+1:]
		mu.Lock()
		seen = append(seen, op+":"+in.ChallengeName+":"+in.AuthParameters["DEVICE_KEY"]+in.ChallengeResponses["DEVICE_KEY"])
		mu.Unlock()
		w.Header().Set("Content-Type", js)
		switch {
		case op == "InitiateAuth":
			fmt.Fprint(w, `{"ChallengeName":"NEW_PASSWORD_REQUIRED","ChallengeParameters":{"USER_ID_FOR_SRP":"alice","requiredAttributes":"[]","userAttributes":"{}"},"Session":"s1"}`)
		case in.ChallengeName == "NEW_PASSWORD_REQUIRED":
			fmt.Fprint(w, `{"ChallengeName":"DEVICE_SRP_AUTH","ChallengeParameters":{"USERNAME":"alice"},"Session":"s2"}`)
		default:
			w.WriteHeader(400)
			fmt.Fprint(w, `{"__type":"NotAuthorizedException","message":"Incorrect username or password."}`)
		}
	}))
	defer srv.Close()
	c, err := cognito.New(cognito.Options{UserPoolID: "us-east-1_Fake", ClientID: "client", Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	st := store.NewMemory()
	ctx := context.Background()
	k := session.DeviceKey("us-east-1_Fake", "client", "alice")
	if _, err := st.Put(ctx, k, []byte(`{"format":1,"username":"alice","device_key":"us-east-1_dev","device_group_key":"-g","device_password":"p"}`), 0, time.Time{}); err != nil {
		t.Fatal(err)
	}
	m, err := session.New(session.Config{Cognito: c, Store: st, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	res, err := m.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: "Temp0rary!", Flow: cognito.FlowPassword})
	if err != nil || res.Next == nil || res.Next.Name != cognito.ChallengeNewPasswordRequired {
		t.Fatalf("SignIn = %+v, %v", res, err)
	}
	_, err = m.ConfirmSignIn(ctx, res.Next, cognito.Answer{NewPassword: "N3w-Passw0rd!"})
	if !errors.Is(err, cognito.ErrDeviceRefused) {
		t.Fatalf("ConfirmSignIn = %v; want ErrDeviceRefused", err)
	}
	want := []string{"InitiateAuth::us-east-1_dev", "RespondToAuthChallenge:NEW_PASSWORD_REQUIRED:us-east-1_dev", "RespondToAuthChallenge:DEVICE_SRP_AUTH:us-east-1_dev"}
	if !slices.Equal(seen, want) {
		t.Fatalf("calls %v, want %v", seen, want)
	}
	if _, err := st.Get(ctx, k); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("refused device still stored: %v", err)
	}
}
