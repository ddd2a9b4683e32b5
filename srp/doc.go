// Package srp implements the SRP-6a variant Amazon Cognito uses (3072-bit group,
// SHA-256, HKDF "Caldera Derived Key"), for users and for remembered devices, both the
// client half (what an app sends) and the server half (what the emulator checks).
// Everything here is a pure function of its inputs.
package srp
