package session

import (
	"context"
	"time"
)

// SetAfterFunc replaces the timer used for background refreshes.
func SetAfterFunc(cfg *Config, f func(time.Duration, func()) func() bool) { cfg.afterFunc = f }

// StoredSession reads the stored session of m's user as another process would,
// without refreshing it: a *SignedOutError when there is none, any other error
// when the stored data cannot be read.
func StoredSession(ctx context.Context, m *Manager) (*Session, error) {
	st, err := m.load(ctx)
	if err != nil {
		return nil, err
	}
	return st.Value.sess, nil
}
