package session

import (
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/internal/refresh"
)

// Breakers hold each token endpoint after a transient failure, for every
// Manager that uses them: while an endpoint is held, refreshes fail at once
// with a retryable error (nothing is sent), and one probe at a time tests it
// again, after a wait that doubles from 0.5 s to 4 s with jitter; its success
// releases the hold. A definitive answer about one refresh token (revoked,
// expired) is not a failure of the endpoint. The transitions are logged (Warn:
// held; Info: probe, released) and counted (cogauth.refresh.breaker.transitions
// by state and endpoint, cogauth.refresh.breaker.rejected).
//
// A Manager without Config.Breakers uses the process's own (DefaultBreakers),
// so that a process sends one probe per endpoint in an outage however many
// sessions it serves. Give Managers Breakers of their own to keep them apart
// (tests, or a program whose parts must not wait for each other).
type Breakers struct{ r *refresh.Breakers }

// BreakerOptions configure NewBreakers. Zero fields take the defaults.
type BreakerOptions struct {
	// BaseHold is the first hold after a failure and the shortest; default
	// 500ms: at most two probes per second per endpoint.
	BaseHold time.Duration
	// MaxHold caps the doubling holds; default 4s. Callers go on failing at most
	// about this long after the endpoint is back (plus CallTimeout when it hung).
	MaxHold time.Duration
	// CallTimeout bounds each call to the endpoint; a call that runs out of it
	// holds the endpoint; default 3s.
	CallTimeout time.Duration
	// MaxInFlight bounds the calls an endpoint has at once while it is not held
	// (others wait for a slot); default 4.
	MaxInFlight int
	// Clock is the local clock (a test's fake clock drives the holds); the system
	// clock when nil.
	Clock clock.Clock
	// Logger receives the transitions; slog.Default when nil.
	Logger *slog.Logger
	// MeterProvider receives the metrics; otel's global provider when nil.
	MeterProvider metric.MeterProvider
}

// NewBreakers returns breakers of their own, for Config.Breakers.
func NewBreakers(o BreakerOptions) *Breakers {
	return &Breakers{r: refresh.NewBreakers(refresh.BreakerOptions{
		Policy: refresh.BreakerPolicy{Base: o.BaseHold, Max: o.MaxHold, CallTimeout: o.CallTimeout, MaxInFlight: o.MaxInFlight},
		Clock:  o.Clock, Logger: o.Logger, MeterProvider: o.MeterProvider,
	})}
}

// DefaultBreakers returns the process's breakers, which every Manager without
// Config.Breakers shares (system clock, default policy, slog.Default, otel's
// global meter provider).
func DefaultBreakers() *Breakers { return &Breakers{r: refresh.Default()} }

// EndpointRefresher is implemented by a Refresher that names the endpoint a
// refresh goes to (a URL, or any stable name): the Manager holds that endpoint
// through its Breakers. The Refreshers of this module implement it; a
// Refresher that does not is never held.
type EndpointRefresher interface {
	Refresher
	RefreshEndpoint(req RefreshRequest) string
}

// RefreshEndpoint names the user pool API of the Refresher's client.
func (u userPool) RefreshEndpoint(RefreshRequest) string {
	o := u.c.API().Options()
	ep := "cognito-idp." + o.Region
	if o.BaseEndpoint != nil && *o.BaseEndpoint != "" {
		ep = *o.BaseEndpoint
	}
	return ep
}

// breaker returns the breaker of the endpoint req goes to with r, or nil.
func (m *Manager) breaker(r Refresher, req RefreshRequest) *refresh.Breaker {
	er, ok := r.(EndpointRefresher)
	if !ok {
		return nil
	}
	return m.breakers.r.For(er.RefreshEndpoint(req))
}
