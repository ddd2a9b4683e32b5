// Package emulator is a Cognito-compatible server (user pools, identity pools, JWKS,
// OpenID configuration) for tests, demos and offline development. NewServer starts one
// on loopback like httptest.NewServer; New returns the http.Handler for embedding.
//
// Operations are served from a table keyed by X-Amz-Target, filled once in New:
// registerUserPoolOps registers the user-pool service, and the identity-pool service
// (identitypool.go) registers itself through its registerIdentityPoolOps method,
// which New finds with a type assertion so that the two halves are written apart.
// Handlers run under one lock and read the emulator clock once per request.
//
// README.md lists the options, the loopback-only admin endpoint (clock, codes,
// faults, counters) and every known deviation from real Cognito.
package emulator
