// Package jwt decodes Cognito JSON Web Tokens without verification (typed claims,
// user info) and verifies them: a JWKS cache, signature checks and Cognito claim rules.
package jwt
