package websession

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/cogauth/cogauth/session"
	"github.com/cogauth/cogauth/store"
)

// instrumentationName names the meter and tracer.
const instrumentationName = "github.com/cogauth/cogauth/websession"

// telemetry holds the OpenTelemetry instruments. Attributes are closed sets of
// words (result, reason, class): never a token, cookie, session ID, store name
// or username.
type telemetry struct {
	tracer    trace.Tracer
	cache     metric.Int64Counter
	signIns   metric.Int64Counter
	signOuts  metric.Int64Counter
	refreshes metric.Int64Counter
	refreshD  metric.Float64Histogram
	lockWait  metric.Float64Histogram
	// cacheOpts are the cache counter's attribute sets, made once: a cache hit
	// (every request on a live session) allocates nothing for its metric.
	cacheOpts [cacheResults][]metric.AddOption
}

// cacheResult is a cache lookup's result, the "result" attribute of
// cogauth.websession.cache.
type cacheResult int

const (
	cacheHit  cacheResult = iota // no store round trip
	cacheMiss                    // read from the store
	cacheNone                    // no such session
	cacheResults
)

var cacheResultNames = [cacheResults]string{cacheHit: "hit", cacheMiss: "miss", cacheNone: "none"}

func newTelemetry(mp metric.MeterProvider, tp trace.TracerProvider) (*telemetry, error) {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	m := mp.Meter(instrumentationName)
	t := &telemetry{tracer: tp.Tracer(instrumentationName)}
	for r, name := range cacheResultNames {
		t.cacheOpts[r] = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(attribute.String("result", name)))}
	}
	var errs []error
	add := func(err error) { errs = append(errs, err) }
	var err error
	t.cache, err = m.Int64Counter("cogauth.websession.cache", metric.WithDescription("Session lookups by result: hit (no store round trip), miss, none"))
	add(err)
	t.signIns, err = m.Int64Counter("cogauth.websession.sign_ins", metric.WithDescription("Callbacks by result"))
	add(err)
	t.signOuts, err = m.Int64Counter("cogauth.websession.sign_outs", metric.WithDescription("Ended sessions by reason"))
	add(err)
	t.refreshes, err = m.Int64Counter("cogauth.session.refreshes", metric.WithDescription("Token refreshes at Cognito by result class"))
	add(err)
	t.refreshD, err = m.Float64Histogram("cogauth.session.refresh.duration", metric.WithUnit("s"), metric.WithDescription("Token refresh calls"))
	add(err)
	t.lockWait, err = m.Float64Histogram("cogauth.session.lock.wait", metric.WithUnit("s"), metric.WithDescription("Time to take a session's refresh lock"))
	add(err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *telemetry) cacheResult(ctx context.Context, r cacheResult) {
	t.cache.Add(ctx, 1, t.cacheOpts[r]...)
}

func (t *telemetry) count(ctx context.Context, c metric.Int64Counter, key, value string) {
	c.Add(ctx, 1, metric.WithAttributes(attribute.String(key, value)))
}

// errorClass sorts a refresh error into a closed set, by session's own
// reading of it: a *session.RejectedError says why the service refused.
func errorClass(err error) string {
	var rj *session.RejectedError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &rj) && rj.Reason == session.ReasonTokenReuse:
		return "reuse"
	case errors.Is(err, session.ErrRefreshRejected):
		return "rejected"
	default:
		return "transient"
	}
}

// tracedRefresher measures each refresh at Cognito.
type tracedRefresher struct {
	next session.Refresher
	t    *telemetry
}

func (r tracedRefresher) Refresh(ctx context.Context, in session.RefreshRequest) (*session.RefreshResult, error) {
	ctx, span := r.t.tracer.Start(ctx, "cogauth.session.refresh", trace.WithSpanKind(trace.SpanKindClient))
	start := time.Now()
	res, err := r.next.Refresh(ctx, in)
	class := errorClass(err)
	attrs := metric.WithAttributes(attribute.String("result", class))
	r.t.refreshes.Add(ctx, 1, attrs)
	r.t.refreshD.Record(ctx, time.Since(start).Seconds(), attrs)
	span.SetAttributes(attribute.String("cogauth.result", class))
	if err != nil {
		// The class, not the message: messages may quote the service.
		span.SetStatus(codes.Error, class)
	}
	span.End()
	return res, err
}

// RefreshEndpoint names the wrapped refresher's endpoint, so that the
// session's Manager holds it through its breakers.
func (r tracedRefresher) RefreshEndpoint(in session.RefreshRequest) string {
	if er, ok := r.next.(session.EndpointRefresher); ok {
		return er.RefreshEndpoint(in)
	}
	return ""
}

// timedLocker measures lock waits.
type timedLocker struct {
	store.Locker
	t *telemetry
}

func (l timedLocker) Lock(ctx context.Context, k store.Key) (func(), error) {
	ctx, span := l.t.tracer.Start(ctx, "cogauth.session.lock")
	start := time.Now()
	unlock, err := l.Locker.Lock(ctx, k)
	result := "ok"
	if err != nil {
		result = "error"
		span.SetStatus(codes.Error, result)
	}
	l.t.lockWait.Record(ctx, time.Since(start).Seconds(), metric.WithAttributes(attribute.String("result", result)))
	span.End()
	return unlock, err
}
