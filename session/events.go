package session

import (
	"strings"
	"sync"
)

// EventKind says what happened to a session.
type EventKind int

const (
	SignedIn EventKind = iota + 1
	TokenRefreshed
	RefreshFailed
	SignedOut
	CredentialsRefreshed
	SignUpConfirmed // Account.ConfirmSignUp succeeded (Username is the name confirmed)
	PasswordChanged // Account.ChangePassword or Account.ConfirmResetPassword succeeded
	UserDeleted     // Account.Delete succeeded; SignedOut follows
	PasskeyAdded    // Passkeys.CompleteRegistration (or Register) succeeded
	PasskeyDeleted  // Passkeys.Delete succeeded
)

func (k EventKind) String() string {
	switch k {
	case SignedIn:
		return "signed-in"
	case TokenRefreshed:
		return "token-refreshed"
	case RefreshFailed:
		return "refresh-failed"
	case SignedOut:
		return "signed-out"
	case CredentialsRefreshed:
		return "credentials-refreshed"
	case SignUpConfirmed:
		return "sign-up-confirmed"
	case PasswordChanged:
		return "password-changed"
	case UserDeleted:
		return "user-deleted"
	case PasskeyAdded:
		return "passkey-added"
	case PasskeyDeleted:
		return "passkey-deleted"
	}
	return "unknown"
}

// Reason says why a session ended.
type Reason int

const (
	ReasonNone          Reason = iota // never signed in (or nothing stored)
	ReasonUser                        // SignOut was called
	ReasonRevoked                     // the refresh token was revoked (sign-out elsewhere, admin)
	ReasonExpired                     // the refresh token expired
	ReasonNotAuthorized               // the service refused the refresh token for another reason
	ReasonUserGone                    // the user no longer exists
	ReasonPasswordReset               // an administrator requires a password reset
	ReasonNotConfirmed                // the user is not confirmed
	ReasonTokenReuse                  // a rotated refresh token was used again
)

func (r Reason) String() string {
	switch r {
	case ReasonNone:
		return "not signed in"
	case ReasonUser:
		return "signed out by the user"
	case ReasonRevoked:
		return "refresh token revoked"
	case ReasonExpired:
		return "refresh token expired"
	case ReasonNotAuthorized:
		return "refresh token refused"
	case ReasonUserGone:
		return "user not found"
	case ReasonPasswordReset:
		return "password reset required"
	case ReasonNotConfirmed:
		return "user not confirmed"
	case ReasonTokenReuse:
		return "refresh token reused"
	}
	return "unknown"
}

// notAuthorizedReason reads NotAuthorizedException's message, the only place
// Cognito says whether a refresh token was revoked or expired.
func notAuthorizedReason(msg string) Reason {
	m := strings.ToLower(msg)
	switch {
	case strings.Contains(m, "revoked"):
		return ReasonRevoked
	case strings.Contains(m, "expired"):
		return ReasonExpired
	}
	return ReasonNotAuthorized
}

// Event is delivered to subscribers. It never carries a token.
type Event struct {
	Kind      EventKind
	Username  string
	Reason    Reason // SignedOut
	Err       error  // RefreshFailed, and SignedOut when the service ended the session
	Retryable bool   // RefreshFailed
}

// maxQueued bounds the events waiting for one slow subscriber; past it the oldest
// are dropped rather than memory growing or a refresh waiting.
const maxQueued = 256

// Subscribe calls fn for every event, in order, on a goroutine of its own: a slow
// or panicking fn never blocks or breaks a refresh. The returned function
// unsubscribes; it does not wait for an fn call in progress.
func (m *Manager) Subscribe(fn func(Event)) (unsubscribe func()) {
	s := &subscriber{fn: fn, wake: make(chan struct{}, 1), done: make(chan struct{})}
	m.subs.add(s)
	go s.run()
	return func() {
		m.subs.remove(s)
		s.stop()
	}
}

func (m *Manager) emit(e Event) { m.subs.emit(e) }

type subscribers struct {
	mu   sync.Mutex
	list []*subscriber
}

func (ss *subscribers) add(s *subscriber) {
	ss.mu.Lock()
	ss.list = append(ss.list, s)
	ss.mu.Unlock()
}

func (ss *subscribers) remove(s *subscriber) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for i, x := range ss.list {
		if x == s {
			ss.list = append(ss.list[:i:i], ss.list[i+1:]...)
			return
		}
	}
}

func (ss *subscribers) emit(e Event) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for _, s := range ss.list {
		s.push(e)
	}
}

func (ss *subscribers) closeAll() {
	ss.mu.Lock()
	list := ss.list
	ss.list = nil
	ss.mu.Unlock()
	for _, s := range list {
		s.stop()
	}
}

type subscriber struct {
	fn    func(Event)
	mu    sync.Mutex
	queue []Event
	wake  chan struct{}
	done  chan struct{}
	once  sync.Once
}

func (s *subscriber) stop() { s.once.Do(func() { close(s.done) }) }

func (s *subscriber) push(e Event) {
	s.mu.Lock()
	if len(s.queue) >= maxQueued {
		s.queue = s.queue[1:]
	}
	s.queue = append(s.queue, e)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *subscriber) run() {
	for {
		select {
		case <-s.done:
			return
		case <-s.wake:
		}
		for {
			s.mu.Lock()
			if len(s.queue) == 0 {
				s.mu.Unlock()
				break
			}
			e := s.queue[0]
			s.queue = s.queue[1:]
			s.mu.Unlock()
			select {
			case <-s.done:
				return
			default:
			}
			s.call(e)
		}
	}
}

// call runs fn, surviving its panic: one bad subscriber must not stop the others'
// events or the process.
func (s *subscriber) call(e Event) {
	defer func() { _ = recover() }()
	s.fn(e)
}
