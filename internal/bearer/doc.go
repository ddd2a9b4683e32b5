// Package bearer is what httpauth, grpcauth and grpcauth/connectauth share: the
// token read from an Authorization value, the verdict on a verified token (which
// status, which short message), the per-method policy, the one refresh that
// callers refused at the same time share, and the replay of a stream refused
// before its first message. The transports only translate.
package bearer
