// Package errkind holds the one shape of the library's error kinds: a value for
// errors.Is that also says, by behaviour, whether trying again may help.
//
// The behaviour is aws-sdk-go-v2's: an error answers RetryableError() bool, and
// retry.IsErrorRetryable (aws/retry.RetryableError) reads the first error in the
// chain that answers. So every kind and every error type of a public package
// answers it, and a wrapper lists its kind first in Unwrap so that the kind
// decides. No package imitates another's kind: each says for itself.
package errkind

import "errors"

// kind is an errors.Is target that says whether retrying can help.
type kind struct {
	msg       string
	retryable bool
}

func (k *kind) Error() string { return k.msg }

// RetryableError reports whether trying again may work (aws-sdk-go-v2's
// behaviour, read by its retryers).
func (k *kind) RetryableError() bool { return k.retryable }

// New returns a new kind: a distinct value for errors.Is whose RetryableError
// answers retryable.
func New(msg string, retryable bool) error { return &kind{msg: msg, retryable: retryable} }

// Retryable reports whether err says trying again may work: the verdict of the
// first error in its chain that answers RetryableError() bool, as aws-sdk-go-v2's
// retry.RetryableError reads it; false when none answers.
func Retryable(err error) bool {
	var r interface{ RetryableError() bool }
	return errors.As(err, &r) && r.RetryableError()
}

// Answers reports whether some error in err's chain answers RetryableError.
func Answers(err error) bool {
	var r interface{ RetryableError() bool }
	return errors.As(err, &r)
}

// Permanent wraps err (a kind, usually) with the verdict that trying again will
// not help here: errors.Is still matches err, and RetryableError answers false.
// It is for the case of a kind that is transient elsewhere (no credentials: none
// configured, against an identity pool that has not answered yet).
func Permanent(err error) error { return &permanent{err} }

type permanent struct{ err error }

func (p *permanent) Error() string        { return p.err.Error() }
func (p *permanent) Unwrap() error        { return p.err }
func (p *permanent) RetryableError() bool { return false }
