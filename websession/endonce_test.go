package websession

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// TestEndedByServiceCountedOnce: Cognito refuses a session's refresh token
// (the user was signed out globally elsewhere) while six requests on two
// replicas wait for the refresh. Every request is refused, and the session's
// end is counted once — not once per request, nor again on the replica that
// finds its records already gone.
func TestEndedByServiceCountedOnce(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	f := newFixture(t, fixtureOptions{replicas: 2, rotation: true, config: func(c *Config) { c.MeterProvider = mp }})
	b := f.browser()
	b.signIn("/", alice, password)
	for range 2 {
		if resp, body := b.fetch(http.MethodGet, f.base+"/auth/me"); resp.StatusCode != http.StatusOK {
			t.Fatalf("me: %d %s", resp.StatusCode, body)
		}
	}
	// Signed out at Cognito, behind the app's back: the refresh token is revoked.
	req, _ := http.NewRequest(http.MethodPost, f.emu.URL, strings.NewReader(`{"UserPoolId":"`+f.pool+`","Username":"`+alice+`"}`))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService.AdminUserGlobalSignOut")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("AdminUserGlobalSignOut: %s", resp.Status)
	}

	f.clk.Advance(56 * time.Minute)
	fetchAll(t, b.c, f.base+"/auth/me", 6, http.StatusUnauthorized, "after the global sign-out")

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got := counterSums(&rm)
	if n := got["cogauth.websession.sign_outs{reason=ended_by_service}"]; n != 1 {
		t.Fatalf("%d sign-outs counted for one session Cognito ended, want 1 (%v)", n, got)
	}
	if n := got["cogauth.session.refreshes{result=rejected}"]; n != 1 {
		t.Fatalf("%d refused refreshes, want 1 (%v)", n, got)
	}
}
