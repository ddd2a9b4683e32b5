// Package emulator is a Cognito-compatible server (user pools, identity pools, JWKS,
// OpenID configuration) for tests, demos and offline development. NewServer starts one
// on loopback like httptest.NewServer; New returns the http.Handler for embedding.
//
// Operations are served from one table keyed by X-Amz-Target (operations, ops.go),
// laid out by resource: a file per family of operations, named in the table. The
// hosted UI and OAuth 2.0 endpoints (oauth2.go) are plain paths, and so is STS
// GetCallerIdentity (sts.go, a form posted to the root), which tells the role of
// the credentials identity pools hand out (identity_roles.go). Handlers run under
// one lock and read the emulator clock once per request; everything they change
// lives in one state value, which the state file is the JSON of.
//
// The admin endpoint also serves the console (/_emulator/ui/, console.go), and
// import jobs' PreSignedUrl is a plain path (PUT /user-import/…, importjobs.go).
// Values of a request reach errors, headers and logs clipped (errors.go).
//
// README.md lists the options, the loopback-only admin endpoint (clock, codes,
// faults, counters) and every known deviation from real Cognito.
package emulator
