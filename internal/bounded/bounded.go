// Package bounded holds the limits every call to Cognito's JSON APIs (user pools
// and identity pools) goes out with, in one place: how much of an answer is read,
// and how long a call may take when the caller set no earlier deadline. cognito/
// and identity/ put both on their SDK clients.
package bounded

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// MaxAnswer is the most of one answer's body that is read: 1 MiB. Cognito's
// largest answers (a user with every attribute, a page of devices) are a few KiB.
const MaxAnswer = 1 << 20

// DefaultTimeout is how long one call may take, answer read included, when the
// caller's context has no earlier deadline.
const DefaultTimeout = 30 * time.Second

// TooLargeError is the read error of an answer longer than Limit bytes.
type TooLargeError struct{ Limit int64 }

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("answer larger than the %s limit", sizeString(e.Limit))
}

func sizeString(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d-byte", n)
}

// ReadError is an error of the transport while an answer's body was read (the
// connection reset or closed before Content-Length bytes, a deadline mid-body),
// as opposed to an answer that was read whole and could not be decoded.
type ReadError struct{ Err error }

func (e *ReadError) Error() string { return "reading the answer: " + e.Err.Error() }

func (e *ReadError) Unwrap() error { return e.Err }

// Body is an answer's body, read through the limit. It counts what was read.
type Body struct {
	rc    io.ReadCloser
	limit int64
	n     atomic.Int64
}

// N is how many bytes were read so far.
func (b *Body) N() int64 { return b.n.Load() }

func (b *Body) Read(p []byte) (int, error) {
	left := b.limit - b.n.Load()
	if left < 0 {
		return 0, &TooLargeError{Limit: b.limit}
	}
	// Ask one byte past the limit, to tell "exactly at the limit" from "over".
	if int64(len(p)) > left+1 {
		p = p[:left+1]
	}
	n, err := b.rc.Read(p)
	total := b.n.Add(int64(n))
	if total > b.limit {
		return n - int(total-b.limit), &TooLargeError{Limit: b.limit}
	}
	if err != nil && !errors.Is(err, io.EOF) {
		err = &ReadError{Err: err}
	}
	return n, err
}

// Close closes the underlying body.
func (b *Body) Close() error { return b.rc.Close() }

type client struct {
	c     aws.HTTPClient
	limit int64
}

// HTTPClient returns c (the SDK's default client when nil) with every answer's
// body read through a Body of limit bytes.
func HTTPClient(c aws.HTTPClient, limit int64) aws.HTTPClient {
	if c == nil {
		c = awshttp.NewBuildableClient()
	}
	return client{c: c, limit: limit}
}

func (l client) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		// The SDK closes the request's body as soon as the answer's headers are in
		// (smithy-go's ClientHandler). The transport may still be reading it, to
		// check it holds no more than Content-Length: the read then fails, and
		// the transport closes the connection under the answer being read. Send
		// a copy of our own (requests are a few KiB) that no one else closes.
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		r = r.Clone(r.Context())
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
		r.ContentLength = int64(len(b))
	}
	resp, err := l.c.Do(r)
	if err != nil || resp == nil || resp.Body == nil {
		return resp, err
	}
	resp.Body = &Body{rc: resp.Body, limit: l.limit}
	return resp, nil
}

// EmptyAnswer reports whether the answer recorded in an SDK call's metadata had
// an empty body: a success that says nothing, which no Cognito operation sends.
func EmptyAnswer(md middleware.Metadata) bool {
	r, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response)
	if !ok || r.Response == nil {
		return false
	}
	if b := BodyOf(r.Body); b != nil {
		return b.N() == 0
	}
	return r.ContentLength == 0
}

// BodyOf returns the Body an answer was read through, nil if it was not.
func BodyOf(body io.Reader) *Body {
	b, _ := body.(*Body)
	return b
}

// TimeoutError is a call that did not end within its own timeout (not the
// caller's deadline).
type TimeoutError struct {
	Timeout time.Duration
	Err     error
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("no complete answer within %v: %v", e.Timeout, e.Err)
}

func (e *TimeoutError) Unwrap() error { return e.Err }

// Deadline returns an SDK stack option that gives each call a deadline of d from
// its start, unless the caller's context ends sooner. The deadline covers the
// whole call, the answer's body included (the SDK reads it inside the stack). d
// <= 0 adds nothing.
func Deadline(d time.Duration) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		if d <= 0 {
			return nil
		}
		return s.Initialize.Add(deadline{d}, middleware.Before)
	}
}

// WithTimeout returns ctx with a deadline d from now, unless ctx ends sooner or
// d <= 0: the rule Deadline applies, for clients outside the SDK.
func WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); d <= 0 || (ok && time.Until(dl) <= d) {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

type deadline struct{ d time.Duration }

func (deadline) ID() string { return "cogauth.Deadline" }

func (m deadline) HandleInitialize(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= m.d {
		return next.HandleInitialize(ctx, in)
	}
	cctx, cancel := context.WithTimeout(ctx, m.d)
	defer cancel()
	out, md, err := next.HandleInitialize(cctx, in)
	if err != nil && cctx.Err() != nil && ctx.Err() == nil {
		err = &TimeoutError{Timeout: m.d, Err: err}
	}
	return out, md, err
}
