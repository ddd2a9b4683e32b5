package websession

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/cogauth/cogauth/session"
)

// TestTelemetry: a sign-in, a refresh at expiry and a logout show up as metrics
// and spans through the OpenTelemetry SDK, and no attribute holds the cookie, a
// token, the store name or the username.
func TestTelemetry(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	f := newFixture(t, fixtureOptions{config: func(c *Config) { c.MeterProvider, c.TracerProvider = mp, tp }})
	b := f.browser()
	b.signIn("/", alice, password)
	cookie := b.cookie("cogauth").Value
	b.fetch(http.MethodGet, f.base+"/auth/me")
	f.clk.Advance(56 * time.Minute)
	b.fetch(http.MethodGet, f.base+"/auth/me")
	b.navigate(http.MethodPost, f.base+"/auth/logout")

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	var attrs []attribute.KeyValue
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					for _, kv := range p.Attributes.ToSlice() {
						got[m.Name+"{"+string(kv.Key)+"="+kv.Value.String()+"}"] += p.Value
						attrs = append(attrs, kv)
					}
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					got[m.Name] += int64(p.Count)
					attrs = append(attrs, p.Attributes.ToSlice()...)
				}
			}
		}
	}
	for name, want := range map[string]int64{
		"cogauth.session.refreshes{result=ok}":      1,
		"cogauth.session.refresh.duration":          1,
		"cogauth.websession.sign_outs{reason=user}": 1,
		"cogauth.session.lock.wait":                 1,
	} {
		if got[name] != want {
			t.Errorf("%s = %d, want %d (all: %v)", name, got[name], want, got)
		}
	}
	if got["cogauth.websession.cache{result=hit}"] < 2 {
		t.Errorf("cache hits: %v", got)
	}
	var names []string
	for _, s := range spans.Ended() {
		names = append(names, s.Name())
		attrs = append(attrs, s.Attributes()...)
		if s.Status().Description != "" && s.Status().Description != "ok" {
			attrs = append(attrs, attribute.String("status", s.Status().Description))
		}
	}
	if !strings.Contains(strings.Join(names, ","), "cogauth.session.refresh") {
		t.Errorf("spans %v", names)
	}
	for _, kv := range attrs {
		v := kv.Value.String()
		if strings.Contains(v, cookie) || jwtRe.MatchString(v) || strings.Contains(v, alice) || len(v) > 32 {
			t.Errorf("attribute %s=%q", kv.Key, v)
		}
	}
}

// TestErrorClass: a refresh failure's class is read from session's errors
// alone: a refused refresh token spent twice is "reuse", other refusals
// "rejected", everything else (held, network, invalid answer) "transient".
func TestErrorClass(t *testing.T) {
	cause := errors.New("from the service")
	for _, c := range []struct {
		err  error
		want string
	}{
		{nil, "ok"},
		{&session.RejectedError{Reason: session.ReasonTokenReuse, Err: cause}, "reuse"},
		{fmt.Errorf("refresh: %w", &session.RejectedError{Reason: session.ReasonTokenReuse}), "reuse"},
		{&session.RejectedError{Reason: session.ReasonRevoked, Err: cause}, "rejected"},
		{fmt.Errorf("refresh: %w", session.ErrRefreshRejected), "rejected"},
		{session.ErrInvalidAnswer, "transient"},
		{cause, "transient"},
	} {
		if got := errorClass(c.err); got != c.want {
			t.Errorf("errorClass(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}
