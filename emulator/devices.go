package emulator

import (
	"encoding/base64"
	"strings"
	"time"

	"github.com/cogauth/cogauth/srp"
)

// newDevice registers an unconfirmed device for u and returns its metadata, as
// Cognito does on a sign-in without a device key in a pool that tracks devices.
func (e *Emulator) newDevice(p *userPool, u *user, now time.Time) *newDeviceMetadata {
	d := &device{
		Key:      poolRegion(p.ID) + "_" + e.uuid(),
		GroupKey: "-" + e.randomAlnum(9, false),
		Created:  now, Modified: now, LastAuthTime: now,
	}
	if u.Devices == nil {
		u.Devices = map[string]*device{}
	}
	// Unconfirmed devices of abandoned sign-ins would pile up; keep the newest.
	if len(u.Devices) >= 100 {
		var oldest *device
		for _, x := range u.Devices {
			if !x.Confirmed && (oldest == nil || x.Created.Before(oldest.Created)) {
				oldest = x
			}
		}
		if oldest != nil {
			delete(u.Devices, oldest.Key)
		}
	}
	u.Devices[d.Key] = d
	e.dirty = true
	return &newDeviceMetadata{DeviceGroupKey: d.GroupKey, DeviceKey: d.Key}
}

// poolRegion is the region part of a pool ID ("us-east-1" of "us-east-1_AbC").
func poolRegion(poolID string) string {
	region, _, _ := strings.Cut(poolID, "_")
	return region
}

func deviceType(d *device) map[string]any {
	status := "not_remembered"
	if d.Remembered {
		status = "remembered"
	}
	attrs := []attribute{{Name: "device_status", Value: "valid"}, {Name: "dev:device_remembered_status", Value: status}}
	if n := d.Attributes["device_name"]; n != "" {
		attrs = append(attrs, attribute{Name: "device_name", Value: n})
	}
	return map[string]any{
		"DeviceKey":                   d.Key,
		"DeviceAttributes":            attrs,
		"DeviceCreateDate":            epoch(d.Created),
		"DeviceLastModifiedDate":      epoch(d.Modified),
		"DeviceLastAuthenticatedDate": epoch(d.LastAuthTime),
	}
}

func (u *user) device(key string) (*device, error) {
	d := u.Devices[key]
	if key == "" || d == nil {
		return nil, errResourceNotFound("Device does not exist.")
	}
	return d, nil
}

type confirmDeviceInput struct {
	AccessToken                string `json:"AccessToken"`
	DeviceKey                  string `json:"DeviceKey"`
	DeviceName                 string `json:"DeviceName"`
	DeviceSecretVerifierConfig *struct {
		PasswordVerifier string `json:"PasswordVerifier"`
		Salt             string `json:"Salt"`
	} `json:"DeviceSecretVerifierConfig"`
}

func (e *Emulator) opConfirmDevice(c *call, in *confirmDeviceInput) (any, error) {
	p, u, _, err := e.authenticate(in.AccessToken, c.now)
	if err != nil {
		return nil, err
	}
	if p.Device == nil {
		return nil, errInvalidParameter("Device tracking is not enabled for the user pool.")
	}
	d, err := u.device(in.DeviceKey)
	if err != nil {
		return nil, err
	}
	if in.DeviceSecretVerifierConfig == nil {
		return nil, errInvalidParameter("DeviceSecretVerifierConfig is required.")
	}
	v, salt, err := srp.VerifierFromConfig(in.DeviceSecretVerifierConfig.PasswordVerifier, in.DeviceSecretVerifierConfig.Salt)
	if err != nil {
		return nil, errInvalidParameter("Invalid DeviceSecretVerifierConfig.")
	}
	d.VerifierHex, d.SaltHex = v, salt
	d.Confirmed = true
	d.Remembered = !p.Device.DeviceOnlyRememberedOnUserPrompt
	if in.DeviceName != "" {
		d.Attributes = map[string]string{"device_name": clip(in.DeviceName)}
	}
	d.Modified = c.now
	e.dirty = true
	return map[string]any{"UserConfirmationNecessary": p.Device.DeviceOnlyRememberedOnUserPrompt}, nil
}

type deviceInput struct {
	AccessToken string `json:"AccessToken"`
	DeviceKey   string `json:"DeviceKey"`
}

// device finds the device a call names among those of the access token's user.
func (e *Emulator) device(c *call, in *deviceInput) (*user, *device, error) {
	_, u, _, err := e.authenticate(in.AccessToken, c.now)
	if err != nil {
		return nil, nil, err
	}
	d, err := u.device(in.DeviceKey)
	if err != nil {
		return nil, nil, err
	}
	return u, d, nil
}

func (e *Emulator) opGetDevice(c *call, in *deviceInput) (any, error) {
	_, d, err := e.device(c, in)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Device": deviceType(d)}, nil
}

type listDevicesInput struct {
	AccessToken string `json:"AccessToken"`
	pageInput
}

func (e *Emulator) opListDevices(c *call, in *listDevicesInput) (any, error) {
	_, u, _, err := e.authenticate(in.AccessToken, c.now)
	if err != nil {
		return nil, err
	}
	return devicesPage(u, in.pageInput), nil
}

func (e *Emulator) opForgetDevice(c *call, in *deviceInput) (any, error) {
	u, _, err := e.device(c, in)
	if err != nil {
		return nil, err
	}
	e.forgetDevice(u, in.DeviceKey)
	return nil, nil
}

type updateDeviceStatusInput struct {
	deviceInput
	DeviceRememberedStatus string `json:"DeviceRememberedStatus"`
}

func (e *Emulator) opUpdateDeviceStatus(c *call, in *updateDeviceStatusInput) (any, error) {
	_, d, err := e.device(c, &in.deviceInput)
	if err != nil {
		return nil, err
	}
	return nil, e.setDeviceStatus(c, d, in.DeviceRememberedStatus)
}

// answerDeviceSRP starts device SRP: the client sent its SRP_A for the device.
func (e *Emulator) answerDeviceSRP(c *call, p *userPool, cl *appClient, u *user, s *challengeSession, cr map[string]string) (any, error) {
	if cr["DEVICE_KEY"] != s.DeviceKey {
		return nil, errNotAuthorized("Invalid device key given.")
	}
	if cr["SRP_A"] == "" {
		return nil, errInvalidParameter("Missing required parameter SRP_A")
	}
	d, err := u.device(s.DeviceKey)
	if err != nil {
		return nil, err
	}
	srv, err := srp.NewServer(e.random, d.VerifierHex)
	if err != nil {
		return nil, err
	}
	next := &challengeSession{
		PoolID: p.ID, ClientID: cl.ID, Username: u.Username, Challenge: "DEVICE_PASSWORD_VERIFIER",
		DeviceKey: d.Key, srp: srv, srpA: cr["SRP_A"],
		secretBlock: base64.StdEncoding.EncodeToString(e.randomBytes(724)),
	}
	tok := e.newSession(next, c.now)
	e.sessions[next.secretBlock] = next
	return &authResponse{
		ChallengeName: "DEVICE_PASSWORD_VERIFIER",
		ChallengeParameters: map[string]string{
			"SRP_B":        srv.SRPB(),
			"SALT":         d.SaltHex,
			"SECRET_BLOCK": next.secretBlock,
			"USERNAME":     u.Username,
			"DEVICE_KEY":   d.Key,
		},
		Session: tok,
	}, nil
}

type adminDeviceInput struct {
	adminUserInput
	DeviceKey string `json:"DeviceKey"`
}

func (e *Emulator) adminDevice(in *adminDeviceInput) (*user, *device, error) {
	_, u, err := e.poolUser(in.adminUserInput)
	if err != nil {
		return nil, nil, err
	}
	d, err := u.device(in.DeviceKey)
	if err != nil {
		return nil, nil, err
	}
	return u, d, nil
}

func (e *Emulator) opAdminGetDevice(c *call, in *adminDeviceInput) (any, error) {
	_, d, err := e.adminDevice(in)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Device": deviceType(d)}, nil
}

type adminListDevicesInput struct {
	adminUserInput
	pageInput
}

func (e *Emulator) opAdminListDevices(c *call, in *adminListDevicesInput) (any, error) {
	_, u, err := e.poolUser(in.adminUserInput)
	if err != nil {
		return nil, err
	}
	return devicesPage(u, in.pageInput), nil
}

func (e *Emulator) opAdminForgetDevice(c *call, in *adminDeviceInput) (any, error) {
	u, _, err := e.adminDevice(in)
	if err != nil {
		return nil, err
	}
	e.forgetDevice(u, in.DeviceKey)
	return nil, nil
}

type adminUpdateDeviceStatusInput struct {
	adminDeviceInput
	DeviceRememberedStatus string `json:"DeviceRememberedStatus"`
}

func (e *Emulator) opAdminUpdateDeviceStatus(c *call, in *adminUpdateDeviceStatusInput) (any, error) {
	_, d, err := e.adminDevice(&in.adminDeviceInput)
	if err != nil {
		return nil, err
	}
	return nil, e.setDeviceStatus(c, d, in.DeviceRememberedStatus)
}

// devicesPage is one page of u's confirmed devices, as ListDevices and
// AdminListDevices answer it.
func devicesPage(u *user, in pageInput) map[string]any {
	confirmed := func(d *device) bool { return d.Confirmed }
	return listPage(u.Devices, confirmed, in.Pagination, in.Limit, "Devices", "PaginationToken", func(_ string, d *device) map[string]any {
		return deviceType(d)
	})
}

// forgetDevice removes u's device key (ForgetDevice, AdminForgetDevice).
func (e *Emulator) forgetDevice(u *user, key string) {
	delete(u.Devices, key)
	e.dirty = true
}

// setDeviceStatus sets whether d is remembered (UpdateDeviceStatus,
// AdminUpdateDeviceStatus).
func (e *Emulator) setDeviceStatus(c *call, d *device, status string) error {
	switch status {
	case "remembered":
		d.Remembered = true
	case "not_remembered":
		d.Remembered = false
	default:
		return errInvalidParameter("DeviceRememberedStatus must be remembered or not_remembered.")
	}
	d.Modified = c.now
	e.dirty = true
	return nil
}
