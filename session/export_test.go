package session

import "time"

// SetAfterFunc replaces the timer used for background refreshes.
func SetAfterFunc(cfg *Config, f func(time.Duration, func()) func() bool) { cfg.afterFunc = f }
