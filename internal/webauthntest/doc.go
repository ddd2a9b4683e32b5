// Package webauthntest is a software WebAuthn authenticator for tests: it answers
// a relying party's credential creation options (navigator.credentials.create)
// and request options (navigator.credentials.get), given as the JSON Cognito
// sends (StartWebAuthnRegistration's CredentialCreationOptions, the WEB_AUTHN
// challenge's CREDENTIAL_REQUEST_OPTIONS), with the JSON a browser's
// PublicKeyCredential.toJSON() gives (RegistrationResponseJSON,
// AuthenticationResponseJSON). Signatures are real: ECDSA P-256 (COSE ES256)
// keys, "none" or "packed" (self) attestation, authenticator data with its
// flags and a signature counter per credential.
//
// The knobs that make a bad answer (Origin, SignRPID, flags, SetCounter) are
// there for tests of a relying party's checks.
package webauthntest
