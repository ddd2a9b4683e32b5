package cognito

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cogauth/cogauth/jwt"
)

// DeviceStatus is whether a tracked device is remembered: a remembered device
// answers DEVICE_SRP_AUTH at sign-in and may skip MFA.
type DeviceStatus string

const (
	DeviceRemembered    DeviceStatus = "remembered"
	DeviceNotRemembered DeviceStatus = "not_remembered"
)

// DeviceInfo is a device as ListDevices and GetDevice describe it. It holds no
// secret: the device's password never leaves the device.
type DeviceInfo struct {
	Key        string
	Name       string // the device_name attribute, chosen at ConfirmDevice
	Remembered bool
	// Attributes are all the device's attributes as the service sent them, e.g.
	// "dev:device_remembered_status", "device_status", "last_ip_used".
	Attributes        map[string]string
	Created           time.Time
	LastModified      time.Time
	LastAuthenticated time.Time
}

// maxDevicePages bounds ListDevices: a service that keeps handing out pagination
// tokens must not keep a caller looping. 100 pages of 60 is far beyond any user.
const maxDevicePages = 100

// ListDevices returns every device the pool tracks for the user of accessToken
// (all pages), confirmed ones only, as Cognito lists them.
func (c *Client) ListDevices(ctx context.Context, accessToken jwt.Secret) ([]DeviceInfo, error) {
	if accessToken == "" {
		return nil, errors.New("cognito: ListDevices needs an access token")
	}
	var all []DeviceInfo
	var next *string
	for range maxDevicePages {
		out, err := c.api.ListDevices(ctx, &cip.ListDevicesInput{
			AccessToken: aws.String(accessToken.Reveal()), Limit: aws.Int32(60), PaginationToken: next,
		})
		if err != nil {
			return nil, MapError("ListDevices", err)
		}
		for _, d := range out.Devices {
			all = append(all, deviceInfo(d))
		}
		if aws.ToString(out.PaginationToken) == "" {
			return all, nil
		}
		next = out.PaginationToken
	}
	return nil, &Error{Op: "ListDevices", Name: InvalidResponse, Message: fmt.Sprintf("more than %d pages of devices", maxDevicePages)}
}

// GetDevice describes one device of the user of accessToken.
func (c *Client) GetDevice(ctx context.Context, accessToken jwt.Secret, deviceKey string) (*DeviceInfo, error) {
	if accessToken == "" || deviceKey == "" {
		return nil, errors.New("cognito: GetDevice needs an access token and a device key")
	}
	out, err := c.api.GetDevice(ctx, &cip.GetDeviceInput{AccessToken: aws.String(accessToken.Reveal()), DeviceKey: aws.String(deviceKey)})
	if err != nil {
		return nil, MapError("GetDevice", err)
	}
	if out.Device == nil {
		return nil, invalidAnswer("GetDevice", out.ResultMetadata, "no device")
	}
	d := deviceInfo(*out.Device)
	return &d, nil
}

// ForgetDevice makes the pool forget a device of the user of accessToken: it no
// longer skips MFA, and its refresh tokens keep working without its key.
func (c *Client) ForgetDevice(ctx context.Context, accessToken jwt.Secret, deviceKey string) error {
	if accessToken == "" || deviceKey == "" {
		return errors.New("cognito: ForgetDevice needs an access token and a device key")
	}
	_, err := c.api.ForgetDevice(ctx, &cip.ForgetDeviceInput{AccessToken: aws.String(accessToken.Reveal()), DeviceKey: aws.String(deviceKey)})
	return MapError("ForgetDevice", err)
}

// UpdateDeviceStatus marks a device of the user of accessToken remembered or not.
// A pool that remembers devices only on the user's word
// (DeviceOnlyRememberedOnUserPrompt) waits for this after ConfirmDevice.
func (c *Client) UpdateDeviceStatus(ctx context.Context, accessToken jwt.Secret, deviceKey string, status DeviceStatus) error {
	if accessToken == "" || deviceKey == "" {
		return errors.New("cognito: UpdateDeviceStatus needs an access token and a device key")
	}
	if status != DeviceRemembered && status != DeviceNotRemembered {
		return fmt.Errorf("cognito: UpdateDeviceStatus: status %q is neither %q nor %q", status, DeviceRemembered, DeviceNotRemembered)
	}
	_, err := c.api.UpdateDeviceStatus(ctx, &cip.UpdateDeviceStatusInput{
		AccessToken: aws.String(accessToken.Reveal()), DeviceKey: aws.String(deviceKey),
		DeviceRememberedStatus: types.DeviceRememberedStatusType(status),
	})
	return MapError("UpdateDeviceStatus", err)
}

func deviceInfo(d types.DeviceType) DeviceInfo {
	out := DeviceInfo{Key: aws.ToString(d.DeviceKey), Attributes: make(map[string]string, len(d.DeviceAttributes))}
	for _, a := range d.DeviceAttributes {
		out.Attributes[aws.ToString(a.Name)] = aws.ToString(a.Value)
	}
	out.Name = out.Attributes["device_name"]
	// Cognito names it "dev:device_remembered_status"; some documents and services
	// drop the prefix.
	rs, ok := out.Attributes["dev:device_remembered_status"]
	if !ok {
		rs = out.Attributes["device_remembered_status"]
	}
	out.Remembered = rs == string(DeviceRemembered)
	for dst, src := range map[*time.Time]*time.Time{&out.Created: d.DeviceCreateDate, &out.LastModified: d.DeviceLastModifiedDate, &out.LastAuthenticated: d.DeviceLastAuthenticatedDate} {
		if src != nil {
			*dst = src.UTC()
		}
	}
	return out
}
