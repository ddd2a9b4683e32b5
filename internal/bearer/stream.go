package bearer

import (
	"context"
	"sync"
	"sync/atomic"
)

// Stream is the part of a client stream that a replay needs; each transport
// adapts its own (grpc.ClientStream, connect.StreamingClientConn).
type Stream interface {
	Send(m any) error
	Recv(m any) error
	CloseSend() error
}

// Replay runs a client stream that is opened once more, with a refreshed token,
// when the server refuses it as unauthenticated before it exchanged anything: no
// message received yet, and at most the first message sent, and sent without
// error (a nil message, Connect's "headers only", does not count). That message
// is kept and sent again (gRPC's and Connect's contract
// forbids changing a message once it is handed to Send). A refusal after that,
// or of any other kind, goes to the caller as it came.
type Replay struct {
	ctx               context.Context
	open              func(ctx context.Context, token string) (Stream, error)
	unauthenticated   func(error) bool
	refresher         *Refresher
	cur               atomic.Pointer[streamBox]
	received, retried bool // receiver's side only

	mu         sync.Mutex // Send and CloseSend against the switch to a new attempt
	token      string
	sent       int
	headers    bool // Send(nil): Connect's way to send the headers alone
	first      any
	sendFailed bool
	closed     bool
}

type streamBox struct{ s Stream }

// NewReplay wraps the first attempt s, opened with token.
func NewReplay(ctx context.Context, s Stream, token string, r *Refresher,
	open func(ctx context.Context, token string) (Stream, error), unauthenticated func(error) bool) *Replay {
	p := &Replay{ctx: ctx, open: open, unauthenticated: unauthenticated, refresher: r, token: token}
	p.cur.Store(&streamBox{s})
	return p
}

// Current is the attempt in use.
func (p *Replay) Current() Stream { return p.cur.Load().s }

// Send sends m on the current attempt.
func (p *Replay) Send(m any) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if m == nil {
		p.headers = true
		return p.cur.Load().s.Send(nil)
	}
	p.sent++
	if p.sent == 1 {
		p.first = m
	} else {
		p.first = nil
	}
	err := p.cur.Load().s.Send(m)
	if err != nil {
		p.sendFailed = true
	}
	return err
}

// CloseSend half-closes the current attempt.
func (p *Replay) CloseSend() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	return p.cur.Load().s.CloseSend()
}

// Recv receives into m, opening the stream again once if the server refused it
// before its first message.
func (p *Replay) Recv(m any) error {
	err := p.cur.Load().s.Recv(m)
	if err == nil {
		if !p.received {
			p.received = true
			p.mu.Lock()
			p.first = nil
			p.mu.Unlock()
		}
		return nil
	}
	if p.received || p.retried || !p.unauthenticated(err) {
		return err
	}
	p.retried = true
	next, rerr := p.reopen(err)
	if next == nil {
		return rerr
	}
	return next.Recv(m)
}

// reopen opens the next attempt; with none it returns the error for the caller:
// the refusal, or a *TokenError when the refresh failed.
func (p *Replay) reopen(refusal error) (Stream, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.sent > 1 || p.sendFailed {
		return nil, refusal
	}
	fresh, err := p.refresher.Refresh(p.ctx, p.token)
	if err != nil {
		return nil, &TokenError{Err: err, Refused: refusal}
	}
	if fresh == p.token {
		return nil, refusal
	}
	s, err := p.open(p.ctx, fresh)
	if err != nil {
		return nil, err
	}
	switch {
	case p.sent == 1:
		if err := s.Send(p.first); err != nil {
			p.sendFailed = true
		}
		p.first = nil
	case p.headers:
		_ = s.Send(nil)
	}
	if p.closed {
		_ = s.CloseSend()
	}
	p.token = fresh
	p.cur.Store(&streamBox{s})
	return s, nil
}
