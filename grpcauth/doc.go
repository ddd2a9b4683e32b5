// Package grpcauth is httpauth for gRPC: the session's tokens on outgoing RPCs
// (PerRPCCredentials, and client interceptors that refresh once on
// codes.Unauthenticated) and verification on incoming ones (server interceptors
// with a per-method policy). The verified token reaches handlers through the
// same accessor as httpauth's: httpauth.ClaimsFrom, jwt.ClaimsFromContext.
//
// The rules are the ones httpauth applies, from one shared implementation: a
// missing, malformed or expired token is codes.Unauthenticated, a missing scope
// or group codes.PermissionDenied, keys that cannot be fetched
// codes.Unavailable; messages are short and fixed, never the token.
//
// Connect (connectrpc.com/connect) lives in grpcauth/connectauth, which does not
// import this package, so a program links only the framework it uses.
package grpcauth
