package cognito_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/internal/wiretest"
	"github.com/cogauth/cogauth/jwt"
)

// deviceEmu starts an emulator whose pool "app" tracks devices with cfg and asks
// alice for TOTP, already enrolled, so that skipping MFA is visible.
func deviceEmu(t *testing.T, cfg emulator.DeviceConfig) (*emulator.Server, *cognito.Client, *wiretest.Recorder) {
	t.Helper()
	srv := emu(t, func(s *emulator.Seed) { s.UserPools[0].DeviceTracking = &cfg })
	rec := &wiretest.Recorder{}
	cl := srv.AppClient("app", "srv")
	c, err := cognito.New(cognito.Options{
		UserPoolID: srv.PoolID("app"), ClientID: cl.ID, ClientSecret: jwt.Secret(cl.Secret),
		Endpoint: srv.URL, Clock: srv.Clock(), HTTPClient: rec,
	})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c, rec
}

// alwaysRemember is the console's "Always remember user devices".
var alwaysRemember = emulator.DeviceConfig{ChallengeRequiredOnNewDevice: true}

func TestEmulatorDeviceLifecycle(t *testing.T) {
	srv, c, rec := deviceEmu(t, alwaysRemember)
	ctx := context.Background()

	first, err := c.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: pw})
	if err != nil || first.Tokens == nil || first.NewDevice == nil {
		t.Fatalf("first sign-in = %+v, %v; want tokens and NewDeviceMetadata", first, err)
	}
	dev, confirm, err := c.ConfirmDevice(ctx, first.Tokens.AccessToken, *first.NewDevice, "laptop")
	if err != nil {
		t.Fatal(err)
	}
	if confirm {
		t.Fatal("an always-remember pool asked for the user's confirmation")
	}
	list, err := c.ListDevices(ctx, first.Tokens.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Key != dev.Key || list[0].Name != "laptop" || !list[0].Remembered || list[0].LastAuthenticated.IsZero() {
		t.Fatalf("ListDevices = %+v", list)
	}
	rec.Take()

	srv.Advance(time.Minute)
	second, err := c.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: pw, Device: dev})
	if err != nil || second.Tokens == nil {
		t.Fatalf("sign-in with the device = %+v, %v", second, err)
	}
	want := []string{"InitiateAuth", "RespondToAuthChallenge:PASSWORD_VERIFIER", "RespondToAuthChallenge:DEVICE_SRP_AUTH", "RespondToAuthChallenge:DEVICE_PASSWORD_VERIFIER"}
	if got := rec.Take(); !slices.Equal(got, want) {
		t.Fatalf("calls = %v, want %v", got, want)
	}
	if second.NewDevice != nil {
		t.Fatal("a known device was given a new key")
	}
	if at, _ := jwt.Decode(second.Tokens.AccessToken.Reveal()); at.Claims().DeviceKey != dev.Key {
		t.Fatalf("access token device_key = %q, want %q", at.Claims().DeviceKey, dev.Key)
	}
	// The refresh token is bound to the device: refused without its key.
	rt := second.Tokens.RefreshToken
	if _, err := c.Refresh(ctx, cognito.RefreshInput{RefreshToken: rt, Username: "alice"}); !errors.Is(err, cognito.ErrNotAuthorized) {
		t.Fatalf("refresh without the device key: %v", err)
	}
	if _, err := c.Refresh(ctx, cognito.RefreshInput{RefreshToken: rt, Username: "alice", DeviceKey: dev.Key}); err != nil {
		t.Fatalf("refresh with the device key: %v", err)
	}

	// A wrong device password: the user's password was right, the device is not.
	bad := *dev
	bad.Password = "not-the-device-password"
	_, err = c.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: pw, Device: &bad})
	if !errors.Is(err, cognito.ErrDeviceRefused) || !errors.Is(err, cognito.ErrNotAuthorized) {
		t.Fatalf("wrong device password: %v; want ErrDeviceRefused and NotAuthorized", err)
	}
	if strings.Contains(err.Error(), "not-the-device-password") {
		t.Fatal("the device password is in the error")
	}
	// A wrong user password is not the device's fault.
	if _, err := c.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: "Wr0ng-password!", Device: dev}); !errors.Is(err, cognito.ErrNotAuthorized) || errors.Is(err, cognito.ErrDeviceRefused) {
		t.Fatalf("wrong user password: %v; want NotAuthorized, not ErrDeviceRefused", err)
	}

	// Not remembered: the device no longer answers for the user.
	if err := c.UpdateDeviceStatus(ctx, second.Tokens.AccessToken, dev.Key, cognito.DeviceNotRemembered); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetDevice(ctx, second.Tokens.AccessToken, dev.Key)
	if err != nil || got.Remembered || got.Attributes["dev:device_remembered_status"] != "not_remembered" {
		t.Fatalf("GetDevice after not_remembered = %+v, %v", got, err)
	}
	rec.Take()
	if _, err := c.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: pw, Device: dev}); err != nil {
		t.Fatal(err)
	}
	if calls := rec.Take(); slices.Contains(calls, "RespondToAuthChallenge:DEVICE_SRP_AUTH") {
		t.Fatalf("a device no longer remembered was asked to authenticate: %v", calls)
	}
	if err := c.UpdateDeviceStatus(ctx, second.Tokens.AccessToken, dev.Key, "forever"); err == nil || errors.As(err, new(*cognito.Error)) {
		t.Fatalf("bad status: err = %v, want a local error", err)
	}

	// Forgotten: gone from the list, and GetDevice says so.
	if err := c.ForgetDevice(ctx, second.Tokens.AccessToken, dev.Key); err != nil {
		t.Fatal(err)
	}
	if list, err := c.ListDevices(ctx, second.Tokens.AccessToken); err != nil || slices.ContainsFunc(list, func(d cognito.DeviceInfo) bool { return d.Key == dev.Key }) {
		t.Fatalf("ListDevices after forget = %+v, %v", list, err)
	}
	if _, err := c.GetDevice(ctx, second.Tokens.AccessToken, dev.Key); !errors.Is(err, cognito.ErrResourceNotFound) {
		t.Fatalf("GetDevice of a forgotten device: %v", err)
	}
	if err := c.ForgetDevice(ctx, second.Tokens.AccessToken, dev.Key); !errors.Is(err, cognito.ErrResourceNotFound) {
		t.Fatalf("second ForgetDevice: %v", err)
	}
}

// TestEmulatorDeviceOptIn: a pool that remembers devices only when the user says so
// answers ConfirmDevice with UserConfirmationNecessary, and the device is remembered
// after UpdateDeviceStatus.
func TestEmulatorDeviceOptIn(t *testing.T) {
	_, c, rec := deviceEmu(t, emulator.DeviceConfig{ChallengeRequiredOnNewDevice: true, DeviceOnlyRememberedOnUserPrompt: true})
	ctx := context.Background()
	res, err := c.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: pw})
	if err != nil || res.NewDevice == nil {
		t.Fatalf("sign-in = %+v, %v", res, err)
	}
	dev, confirm, err := c.ConfirmDevice(ctx, res.Tokens.AccessToken, *res.NewDevice, "")
	if err != nil || !confirm {
		t.Fatalf("ConfirmDevice = %v, %v; want UserConfirmationNecessary", confirm, err)
	}
	if d, err := c.GetDevice(ctx, res.Tokens.AccessToken, dev.Key); err != nil || d.Remembered {
		t.Fatalf("before the user's word: %+v, %v", d, err)
	}
	rec.Take()
	if _, err := c.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: pw, Device: dev}); err != nil {
		t.Fatal(err)
	}
	if calls := rec.Take(); slices.Contains(calls, "RespondToAuthChallenge:DEVICE_SRP_AUTH") {
		t.Fatalf("an unremembered device authenticated: %v", calls)
	}
	if err := c.UpdateDeviceStatus(ctx, res.Tokens.AccessToken, dev.Key, cognito.DeviceRemembered); err != nil {
		t.Fatal(err)
	}
	if d, err := c.GetDevice(ctx, res.Tokens.AccessToken, dev.Key); err != nil || !d.Remembered {
		t.Fatalf("after UpdateDeviceStatus: %+v, %v", d, err)
	}
	if _, err := c.SignIn(ctx, cognito.SignInInput{Username: "alice", Password: pw, Device: dev}); err != nil {
		t.Fatal(err)
	}
	if calls := rec.Take(); !slices.Contains(calls, "RespondToAuthChallenge:DEVICE_PASSWORD_VERIFIER") {
		t.Fatalf("the remembered device did not authenticate: %v", calls)
	}
}

// TestListDevicesPagesAndAttributes runs ListDevices against a server that pages,
// and one that never stops handing out pagination tokens.
func TestListDevicesPagesAndAttributes(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	page := func(token string, d types.DeviceType) string {
		b, _ := json.Marshal(map[string]any{
			"Devices": []map[string]any{{
				"DeviceKey":        aws.ToString(d.DeviceKey),
				"DeviceAttributes": d.DeviceAttributes,
				"DeviceCreateDate": float64(created.Unix()),
			}},
			"PaginationToken": token,
		})
		return string(b)
	}
	attr := func(n, v string) types.AttributeType {
		return types.AttributeType{Name: aws.String(n), Value: aws.String(v)}
	}
	tests := []struct {
		name    string
		pages   []string // answer n is for the nth call; the last repeats
		want    []cognito.DeviceInfo
		wantErr bool
	}{
		{
			name: "two pages, prefixed and bare status",
			pages: []string{
				page("p2", types.DeviceType{DeviceKey: aws.String("k1"), DeviceAttributes: []types.AttributeType{attr("dev:device_remembered_status", "remembered"), attr("device_name", "laptop")}}),
				page("", types.DeviceType{DeviceKey: aws.String("k2"), DeviceAttributes: []types.AttributeType{attr("device_remembered_status", "not_remembered")}}),
			},
			want: []cognito.DeviceInfo{
				{Key: "k1", Name: "laptop", Remembered: true, Created: created},
				{Key: "k2", Remembered: false, Created: created},
			},
		},
		{
			name:    "endless pages",
			pages:   []string{page("again", types.DeviceType{DeviceKey: aws.String("k")})},
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n int
			var tokens []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var in struct{ PaginationToken string }
				_ = json.NewDecoder(r.Body).Decode(&in)
				tokens = append(tokens, in.PaginationToken)
				w.Header().Set("Content-Type", "application/x-amz-json-1.1")
				fmt.Fprint(w, tt.pages[min(n, len(tt.pages)-1)])
				n++
			}))
			defer srv.Close()
			c, err := cognito.New(cognito.Options{UserPoolID: "us-east-1_x", ClientID: "c", Endpoint: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.ListDevices(context.Background(), "at")
			if tt.wantErr {
				if err == nil || n != 100 {
					t.Fatalf("err = %v after %d calls; want an error after 100", err, n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) || tokens[1] != "p2" {
				t.Fatalf("got %+v (tokens sent %q), want %+v", got, tokens, tt.want)
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Key != w.Key || g.Name != w.Name || g.Remembered != w.Remembered || !g.Created.Equal(w.Created) {
					t.Errorf("device %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

// TestDeviceGoneAtInitiateAuth: a service that checks DEVICE_KEY up front answers
// ResourceNotFoundException for a device forgotten elsewhere; only then, and only
// for a definitive answer, is the error the device's.
func TestDeviceGoneAtInitiateAuth(t *testing.T) {
	const js = "application/x-amz-json-1.1"
	dev := &cognito.Device{Key: "us-east-1_gone", GroupKey: "-g", Password: "p"}
	tests := []struct {
		name        string
		status      int
		body        string
		device      *cognito.Device
		wantRefused bool
		wantName    string
	}{
		{"device not found", 400, `{"__type":"ResourceNotFoundException","message":"Device does not exist."}`, dev, true, "ResourceNotFoundException"},
		{"not found without a device", 400, `{"__type":"ResourceNotFoundException","message":"User pool client does not exist."}`, nil, false, "ResourceNotFoundException"},
		{"throttled with a device", 400, `{"__type":"TooManyRequestsException","message":"slow down"}`, dev, false, "TooManyRequestsException"},
		{"wrong password with a device", 400, `{"__type":"NotAuthorizedException","message":"Incorrect username or password."}`, dev, false, "NotAuthorizedException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", js)
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			}))
			defer srv.Close()
			c, err := cognito.New(cognito.Options{UserPoolID: "us-east-1_x", ClientID: "c", Endpoint: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.SignIn(context.Background(), cognito.SignInInput{Username: "alice", Password: "pw", Flow: cognito.FlowPassword, Device: tt.device})
			var ce *cognito.Error
			if !errors.As(err, &ce) || ce.Name != tt.wantName || errors.Is(err, cognito.ErrDeviceRefused) != tt.wantRefused {
				t.Fatalf("err = %v; want %s, device refused %v", err, tt.wantName, tt.wantRefused)
			}
		})
	}
}
