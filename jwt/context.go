package jwt

import "context"

type contextKey struct{}

// NewContext returns a context carrying the verified token t. httpauth's
// Middleware and grpcauth's interceptors put the token there with it; tests of
// handlers that run behind them can too.
func NewContext(ctx context.Context, t *Token) context.Context {
	return context.WithValue(ctx, contextKey{}, t)
}

// FromContext returns the verified token NewContext put in ctx. It is the one
// accessor behind httpauth.TokenFrom and grpcauth, so a handler reads the same
// token whichever transport verified it.
func FromContext(ctx context.Context) (*Token, bool) {
	t, ok := ctx.Value(contextKey{}).(*Token)
	return t, ok && t != nil
}

// ClaimsFromContext returns the claims of the verified token in ctx.
func ClaimsFromContext(ctx context.Context) (*Claims, bool) {
	t, ok := FromContext(ctx)
	if !ok {
		return nil, false
	}
	return t.Claims(), true
}
