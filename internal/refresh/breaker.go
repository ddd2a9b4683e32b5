package refresh

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/internal/errkind"
)

// BreakerPolicy is how a Breaker holds an endpoint that fails.
//
// After a transient failure the endpoint is held for a wait drawn at random
// between Base and the n-th doubling of Base (full jitter above a floor of
// Base), at most Max; while it is held every call fails at once with a
// *HeldError and nothing is sent, and once the wait is over one call at a time
// (the probe) tests the endpoint: its success releases the hold, its failure
// holds again with the next doubling.
//
// The floor keeps an outage to at most 1/Base probes per second per endpoint
// per process (2 with the defaults). Max bounds how long after the endpoint's
// return its callers go on failing: a probe's wait plus, when the endpoint
// hung, the CallTimeout of the probe that was hanging (7 s with the defaults).
type BreakerPolicy struct {
	// Base is the first hold and the floor of every hold; default 500ms.
	Base time.Duration
	// Max caps the holds; default 4s (never below Base).
	Max time.Duration
	// CallTimeout bounds each call through the breaker, so that an endpoint that
	// hangs counts as failing after this long rather than after the caller's own
	// timeout; default 3s.
	CallTimeout time.Duration
	// MaxInFlight bounds the calls the endpoint has at once while it is not held;
	// further callers wait for a slot (within their context). It keeps the first
	// seconds of an outage, before a failure has come back, from sending one call
	// per session. Default 4.
	MaxInFlight int
}

// Defaults of BreakerPolicy.
const (
	DefaultBreakerBase        = 500 * time.Millisecond
	DefaultBreakerMax         = 4 * time.Second
	DefaultBreakerCallTimeout = 3 * time.Second
	DefaultBreakerMaxInFlight = 4
)

// WithDefaults fills the zero fields of p.
func (p BreakerPolicy) WithDefaults() BreakerPolicy {
	if p.Base <= 0 {
		p.Base = DefaultBreakerBase
	}
	if p.Max <= 0 {
		p.Max = DefaultBreakerMax
	}
	if p.Max < p.Base {
		p.Max = p.Base
	}
	if p.CallTimeout <= 0 {
		p.CallTimeout = DefaultBreakerCallTimeout
	}
	if p.MaxInFlight <= 0 {
		p.MaxInFlight = DefaultBreakerMaxInFlight
	}
	return p
}

// HoldFor returns the hold after the n-th consecutive failure (n ≥ 1): drawn
// from [Base, min(Base·2^(n-1), Max)].
func (p BreakerPolicy) HoldFor(n int) time.Duration {
	d := p.Base
	for i := 1; i < n && d < p.Max; i++ {
		d *= 2
	}
	if d > p.Max {
		d = p.Max
	}
	if d <= p.Base {
		return p.Base
	}
	return p.Base + rand.N(d-p.Base+1)
}

// BreakerOptions configure Breakers.
type BreakerOptions struct {
	Policy BreakerPolicy
	// Clock is the local clock; the system clock when nil.
	Clock clock.Clock
	// Logger receives held, probe and released (at Warn, Info, Info); slog.Default
	// at the time of each message when nil.
	Logger *slog.Logger
	// MeterProvider receives the metrics (cogauth.refresh.breaker.transitions by
	// state, cogauth.refresh.breaker.rejected); otel's global provider when nil.
	MeterProvider metric.MeterProvider
}

// Breakers is one Breaker per endpoint, for every refresh of a process that
// goes there. Safe for concurrent use.
type Breakers struct {
	policy BreakerPolicy
	clock  clock.Clock
	logger *slog.Logger
	tel    breakerTelemetry

	mu sync.Mutex
	m  map[string]*Breaker
}

// maxEndpoints bounds the breakers a Breakers keeps; endpoints come from
// configuration (a pool's API, a few hosted UI domains), so this is never
// reached by a program that works.
const maxEndpoints = 256

// NewBreakers returns an empty set of breakers.
func NewBreakers(o BreakerOptions) *Breakers {
	if o.Clock == nil {
		o.Clock = clock.System{}
	}
	mp := o.MeterProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	return &Breakers{policy: o.Policy.WithDefaults(), clock: o.Clock, logger: o.Logger, tel: newBreakerTelemetry(mp), m: map[string]*Breaker{}}
}

var defaultBreakers = sync.OnceValue(func() *Breakers { return NewBreakers(BreakerOptions{}) })

// Default returns the process's breakers: system clock, default policy,
// slog.Default and otel's global meter provider. Every component that is not
// given Breakers of its own uses these, so that one process sends one probe per
// endpoint in an outage whatever number of sessions, Managers or web tiers it
// runs. It is created on first use and holds no state until a refresh fails.
func Default() *Breakers { return defaultBreakers() }

// Policy returns the breakers' policy, defaults filled.
func (r *Breakers) Policy() BreakerPolicy { return r.policy }

// For returns the breaker of endpoint, making it on first use.
func (r *Breakers) For(endpoint string) *Breaker {
	r.mu.Lock()
	defer r.mu.Unlock()
	if b, ok := r.m[endpoint]; ok {
		return b
	}
	if len(r.m) >= maxEndpoints {
		clear(r.m)
	}
	b := &Breaker{r: r, endpoint: endpoint, slots: make(chan struct{}, r.policy.MaxInFlight), heldc: make(chan struct{})}
	b.attrs = metric.WithAttributeSet(attribute.NewSet(attribute.String("endpoint", endpoint)))
	r.m[endpoint] = b
	return b
}

func (r *Breakers) log() *slog.Logger {
	if r.logger != nil {
		return r.logger
	}
	return slog.Default()
}

// Breaker holds one endpoint after transient failures; see BreakerPolicy.
type Breaker struct {
	r        *Breakers
	endpoint string
	attrs    metric.MeasurementOption
	slots    chan struct{} // a token per call in flight while not held

	mu       sync.Mutex
	held     bool
	until    time.Time     // while held: no probe before this
	probing  bool          // while held: a probe is in flight
	failures int           // consecutive failures of the current hold
	cause    error         // the failure that started the current hold
	gen      uint64        // incremented at each hold: older calls' failures are not counted
	heldc    chan struct{} // closed when a hold starts: slot waiters fail fast
}

// HeldError is what a call gets while its endpoint is held: nothing was sent.
// It is retryable (RetryableError, the behaviour aws-sdk-go-v2's retryers read).
type HeldError struct {
	Endpoint string
	// RetryAfter is how long until the endpoint is tried again (at least until
	// the probe in flight answers).
	RetryAfter time.Duration
	// Cause is the failure that started the hold (it holds no answer bytes).
	Cause error
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("refresh: %s is held after failing (%v); tried again in %v, nothing sent", e.Endpoint, e.Cause, e.RetryAfter.Round(time.Millisecond))
}

// RetryableError reports true: the endpoint is tried again soon.
func (e *HeldError) RetryableError() bool { return true }

// Unwrap returns the failure that started the hold.
func (e *HeldError) Unwrap() error { return e.Cause }

// Ticket is a permission to call the endpoint, from Acquire; give it back to
// Done.
type Ticket struct {
	gen   uint64
	probe bool
	slot  bool
}

// Probe reports whether the ticket is the probe of a held endpoint.
func (t Ticket) Probe() bool { return t.probe }

// Check returns the *HeldError a call would get now (the hold is not over, or
// a probe is in flight), or nil; it takes nothing.
func (b *Breaker) Check() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.held {
		return nil
	}
	if now := b.r.clock.Now(); !b.probing && !now.Before(b.until) {
		return nil
	}
	return b.heldErrorLocked()
}

// heldErrorLocked counts and returns the error of a call refused by the hold.
func (b *Breaker) heldErrorLocked() *HeldError {
	wait := b.until.Sub(b.r.clock.Now())
	if wait <= 0 {
		wait = b.r.policy.Base
	}
	if b.r.tel.rejected != nil {
		b.r.tel.rejected.Add(context.Background(), 1, b.attrs)
	}
	return &HeldError{Endpoint: b.endpoint, RetryAfter: wait, Cause: b.causeLocked()}
}

// Acquire asks to call the endpoint. While it is not held, it takes one of
// MaxInFlight slots, waiting for one within ctx. While it is held it fails at
// once with a *HeldError, unless the hold is over and no probe is in flight:
// then the caller is the probe. retry is for a caller whose last call through
// this breaker was made while it was not held and failed: it may be the probe
// at once, without waiting for the hold to end (still one probe at a time), so
// that one failure followed by a good answer costs no hold.
func (b *Breaker) Acquire(ctx context.Context, retry bool) (Ticket, error) {
	for {
		b.mu.Lock()
		if b.held {
			t, err := b.probeLocked(retry)
			b.mu.Unlock()
			return t, err
		}
		gen, heldc := b.gen, b.heldc
		b.mu.Unlock()
		select {
		case b.slots <- struct{}{}:
			b.mu.Lock()
			if b.held || b.gen != gen {
				// Held while this caller waited for its slot.
				<-b.slots
				b.mu.Unlock()
				continue
			}
			b.mu.Unlock()
			return Ticket{gen: gen, slot: true}, nil
		case <-heldc:
			continue
		case <-ctx.Done():
			return Ticket{}, ctx.Err()
		}
	}
}

// probeLocked hands out the probe of a held endpoint, or a *HeldError.
func (b *Breaker) probeLocked(retry bool) (Ticket, error) {
	now := b.r.clock.Now()
	if b.probing || (!retry && now.Before(b.until)) {
		return Ticket{}, b.heldErrorLocked()
	}
	b.probing = true
	b.r.tel.transition(b, "probe")
	b.r.log().LogAttrs(context.Background(), slog.LevelInfo, "cogauth: probing a held token endpoint", slog.String("endpoint", b.endpoint), slog.Int("failures", b.failures))
	return Ticket{gen: b.gen, probe: true}, nil
}

// causeLocked is the failure that started the current hold.
func (b *Breaker) causeLocked() error {
	if b.cause == nil {
		return errUnknownCause
	}
	return b.cause
}

var errUnknownCause = errors.New("a transient failure")

// Done reports how a call of t went: failed is a transient failure of the
// endpoint (timeout, connection error, 5xx, throttling, an answer that is not
// the API's). A definitive answer about one token is not a failure: the
// endpoint answered. cause is kept (as HeldError.Cause) when the call starts a
// hold; it must hold no secret.
func (b *Breaker) Done(t Ticket, failed bool, cause error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if t.slot {
		<-b.slots
	}
	if t.probe {
		b.probing = false
	}
	if !failed {
		if b.held {
			b.held, b.failures, b.cause = false, 0, nil
			b.r.tel.transition(b, "released")
			b.r.log().LogAttrs(context.Background(), slog.LevelInfo, "cogauth: token endpoint released", slog.String("endpoint", b.endpoint))
		}
		return
	}
	if t.gen != b.gen {
		// Sent before the current hold (or before the release of an earlier
		// one): its failure is the one already counted.
		return
	}
	b.failures++
	hold := b.r.policy.HoldFor(b.failures)
	b.held, b.until, b.cause = true, b.r.clock.Now().Add(hold), cause
	b.gen++
	close(b.heldc)
	b.heldc = make(chan struct{})
	b.r.tel.transition(b, "held")
	b.r.log().LogAttrs(context.Background(), slog.LevelWarn, "cogauth: token endpoint held after a transient failure",
		slog.String("endpoint", b.endpoint), slog.Int("failures", b.failures), slog.Duration("hold", hold), slog.String("error", fmt.Sprint(cause)))
}

// Do runs fn as one call to the endpoint: Acquire, fn under CallTimeout, Done.
// failed tells fn's transient failures from its other errors; a call that ran
// out of CallTimeout is a failure whatever it returned (err is then a
// retryable *TimeoutError when fn's error was not retryable). again reports a
// call that was sent while the endpoint was not held and failed: the caller's
// next try may pass retry to be the probe at once.
func (b *Breaker) Do(ctx context.Context, retry bool, fn func(context.Context) error, failed func(error) bool) (again bool, err error) {
	t, err := b.Acquire(ctx, retry)
	if err != nil {
		return false, err
	}
	cctx, cancel := context.WithTimeout(ctx, b.r.policy.CallTimeout)
	err = fn(cctx)
	timedOut := cctx.Err() != nil && ctx.Err() == nil
	cancel()
	if timedOut && !errkind.Retryable(err) {
		err = &TimeoutError{Endpoint: b.endpoint, After: b.r.policy.CallTimeout, Err: err}
	}
	if err != nil && ctx.Err() != nil && !timedOut {
		// The caller gave up: that says nothing of the endpoint.
		b.Done(t, false, nil)
		return false, err
	}
	bad := timedOut || (err != nil && failed(err))
	b.Done(t, bad, err)
	return bad && !t.probe, err
}

// TimeoutError is a call that ran out of the breaker's CallTimeout.
type TimeoutError struct {
	Endpoint string
	After    time.Duration
	Err      error
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("refresh: %s did not answer within %v: %v", e.Endpoint, e.After, e.Err)
}

// RetryableError reports true.
func (e *TimeoutError) RetryableError() bool { return true }

func (e *TimeoutError) Unwrap() error { return e.Err }

// breakerTelemetry are the breakers' instruments.
type breakerTelemetry struct {
	transitions metric.Int64Counter
	rejected    metric.Int64Counter
}

func newBreakerTelemetry(mp metric.MeterProvider) breakerTelemetry {
	m := mp.Meter("github.com/cogauth/cogauth/internal/refresh")
	var t breakerTelemetry
	// Instrument errors leave a no-op instrument in place: telemetry must not
	// stop refreshes.
	t.transitions, _ = m.Int64Counter("cogauth.refresh.breaker.transitions", metric.WithDescription("Token endpoint breaker transitions by state: held, probe, released"))
	t.rejected, _ = m.Int64Counter("cogauth.refresh.breaker.rejected", metric.WithDescription("Refreshes failed at once, nothing sent, because their token endpoint was held"))
	return t
}

func (t breakerTelemetry) transition(b *Breaker, state string) {
	if t.transitions == nil {
		return
	}
	t.transitions.Add(context.Background(), 1, b.attrs, metric.WithAttributes(attribute.String("state", state)))
}
