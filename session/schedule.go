package session

import (
	"context"
	"math/rand/v2"
	"time"
)

// schedule arranges a background refresh ahead of st's window, with jitter so that
// many processes started together do not refresh together.
func (m *Manager) schedule(st *state) {
	m.timer.Lock()
	defer m.timer.Unlock()
	if m.timer.closed {
		return
	}
	if m.timer.stop != nil {
		m.timer.stop()
	}
	d := st.RefreshAt.Sub(m.cfg.Clock.Now())
	end := st.ExpiresAt
	if !st.Value.credsExpireAt.IsZero() && st.Value.credsExpireAt.Before(end) {
		end = st.Value.credsExpireAt
	}
	window := min(end.Sub(st.RefreshAt), m.cfg.RefreshBefore)
	var lead time.Duration
	if d > 0 && window > 0 {
		// Up to a tenth of the window early; the refresh then counts the tokens as
		// due that much early. Never more than half the wait, so that a try held
		// off after a failure (RetryAfterFailure) is not made at once.
		lead = min(rand.N(window/10+1), d/2)
		d -= lead
	}
	if d < 0 {
		d = 0
	}
	m.timer.stop = m.cfg.afterFunc(d, func() {
		_, _ = m.fetchSlow(context.Background(), false, lead)
	})
}
