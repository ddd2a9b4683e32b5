// Package jwt decodes Cognito JSON Web Tokens without verification (typed claims,
// user info) and verifies them: a JWKS cache, signature checks and Cognito claim rules.
//
// A header's "crit" (RFC 7515 §4.1.11) is read strictly: Decode refuses one that
// is not a non-empty array of distinct names outside the registered headers, and
// Verify refuses any token that names critical parameters at all (RuleCritical,
// ErrCritical), since it understands no extension.
package jwt
