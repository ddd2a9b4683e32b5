// Package emulator is a Cognito-compatible server (user pools, identity pools, JWKS,
// OpenID configuration) for tests, demos and offline development. NewServer starts one
// on loopback like httptest.NewServer; Handler is exported for embedding.
package emulator
