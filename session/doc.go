// Package session is the token lifecycle of a Cognito sign-in: the Go equivalent of
// Amplify Auth's fetchAuthSession. A Manager signs users in, imports tokens issued
// elsewhere, returns the current session from Fetch without a network call while it
// is fresh, refreshes it (one refresh at a time per session) inside a window before
// expiry, keeps valid sessions across transient failures, signs out and emits events.
//
// Remembered devices (ConfirmDevice, ListDevices, UpdateDeviceStatus, ForgetDevice)
// live in the Store beside the session and outlive sign-out, as they do at Cognito:
// the next sign-in of the user answers DEVICE_SRP_AUTH with the device's secret and
// may skip MFA, and every refresh sends the device's key.
package session
