package bearer

import "errors"

// ErrToken matches failures to obtain a token for a call (httpauth.ErrToken and
// grpcauth.ErrToken are this value).
var ErrToken = errors.New("cogauth: cannot get a token")

// TokenError says a call went without a token: the source gave none (Refused
// nil), or the server refused the call and the source could not refresh
// (Refused is the server's refusal). It matches ErrToken, the cause and the
// refusal.
type TokenError struct {
	Err     error
	Refused error
}

func (e *TokenError) Error() string {
	if e.Refused != nil {
		return "cogauth: cannot refresh the token the server refused: " + e.Err.Error()
	}
	return "cogauth: cannot get a token: " + e.Err.Error()
}

// Unwrap matches ErrToken, the cause and the refusal.
func (e *TokenError) Unwrap() []error {
	errs := []error{ErrToken, e.Err}
	if e.Refused != nil {
		errs = append(errs, e.Refused)
	}
	return errs
}
