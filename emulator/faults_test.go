package emulator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/hostedui"
	"github.com/cogauth/cogauth/jwt"
)

// postDropped posts an API call and tells whether the connection was dropped.
func postDropped(t *testing.T, srv *emulator.Server, op string, in any) bool {
	t.Helper()
	body, _ := json.Marshal(in)
	req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
	req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return true
	}
	resp.Body.Close()
	return false
}

// An After fault lets the operation do its work and loses only the answer.
func TestFaultAfterOperation(t *testing.T) {
	srv, clk := newTestServer(t)
	pool, web := srv.PoolID("app"), srv.AppClient("app", "web").ID

	// Replaced answer: the sign-up happened although the client saw a 500.
	srv.InjectFault("SignUp", emulator.Fault{After: true, ErrName: "InternalErrorException", Status: 500})
	_, ae := call(t, srv, "SignUp", map[string]any{"ClientId": web, "Username": "erin", "Password": password})
	if ae == nil || ae.Status != 500 || ae.Type != "InternalErrorException" {
		t.Fatalf("after fault answer: %+v", ae)
	}
	srv.InjectFault("SignUp", emulator.Fault{})
	if u := mustCall(t, srv, "AdminGetUser", map[string]string{"UserPoolId": pool, "Username": "erin"}); u["UserStatus"] != "UNCONFIRMED" {
		t.Fatalf("user after an after-faulted sign-up: %v", u)
	}
	_, ae = call(t, srv, "SignUp", map[string]any{"ClientId": web, "Username": "erin", "Password": password})
	wantErr(t, ae, "UsernameExistsException", "")
	// A before fault of the same kind does not run the operation.
	srv.InjectFault("SignUp", emulator.Fault{ErrName: "InternalErrorException", Status: 500})
	_, _ = call(t, srv, "SignUp", map[string]any{"ClientId": web, "Username": "frank", "Password": password})
	srv.InjectFault("SignUp", emulator.Fault{})
	_, ae = call(t, srv, "AdminGetUser", map[string]string{"UserPoolId": pool, "Username": "frank"})
	wantErr(t, ae, "UserNotFoundException", "")

	// Cut answer: the status and headers arrive, then half the body and a closed
	// connection.
	srv.InjectFault("InitiateAuth", emulator.Fault{Cut: true})
	body, _ := json.Marshal(map[string]any{"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": web,
		"AuthParameters": map[string]string{"USERNAME": "alice", "PASSWORD": password}})
	req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
	req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService.InitiateAuth")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("cut answer: %v", err)
	}
	part, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !errors.Is(err, io.ErrUnexpectedEOF) || len(part) == 0 || int64(len(part)) >= resp.ContentLength {
		t.Fatalf("cut answer: status %d, %d of %d bytes, err %v", resp.StatusCode, len(part), resp.ContentLength, err)
	}
	srv.InjectFault("InitiateAuth", emulator.Fault{})

	// Dropped answer of a rotation: the refresh token rotated, the client never
	// learnt the new one, and its retry with the old one works within the grace
	// period (10 s for the seeded rotating client).
	rot := srv.AppClient("app", "rotating").ID
	auth := mustCall(t, srv, "InitiateAuth", map[string]any{"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": rot,
		"AuthParameters": map[string]string{"USERNAME": "alice", "PASSWORD": password}})
	old := auth["AuthenticationResult"].(map[string]any)["RefreshToken"].(string)
	srv.InjectFault("GetTokensFromRefreshToken", emulator.Fault{After: true, Drop: true})
	if !postDropped(t, srv, "GetTokensFromRefreshToken", map[string]string{"ClientId": rot, "RefreshToken": old}) {
		t.Fatal("after-drop fault answered")
	}
	srv.ClearFaults()
	clk.Advance(4 * time.Second)
	retry := mustCall(t, srv, "GetTokensFromRefreshToken", map[string]string{"ClientId": rot, "RefreshToken": old})
	if rt, _ := retry["AuthenticationResult"].(map[string]any)["RefreshToken"].(string); rt == "" || rt == old {
		t.Fatalf("retry within the grace period: refresh token %t, same %t", rt != "", rt == old)
	}
	// The grace period runs from the dropped call (t+10 s), not from the retry
	// (t+14 s): the dropped call did rotate.
	clk.Advance(7 * time.Second)
	_, ae = call(t, srv, "GetTokensFromRefreshToken", map[string]string{"ClientId": rot, "RefreshToken": old})
	wantErr(t, ae, "RefreshTokenReuseException", "")
	if n := srv.Requests("GetTokensFromRefreshToken"); n != 3 {
		t.Fatalf("GetTokensFromRefreshToken counter %d, want 3", n)
	}
}

// Faults reach the OAuth endpoints by their paths, before and after the
// operation, through InjectFault and the admin endpoint.
func TestFaultOAuthEndpoints(t *testing.T) {
	f := newOAuthFixture(t)
	c := mustCall(t, f.srv, "CreateUserPoolClient", map[string]any{
		"UserPoolId": f.pool, "ClientName": "rotating-spa",
		"AllowedOAuthFlowsUserPoolClient": true, "AllowedOAuthFlows": []string{"code"}, "AllowedOAuthScopes": []string{"openid", "email"},
		"CallbackURLs": []string{callback}, "SupportedIdentityProviders": []string{"COGNITO"},
		"RefreshTokenRotation": map[string]any{"Feature": "ENABLED", "RetryGracePeriodSeconds": 10},
	})["UserPoolClient"].(map[string]any)
	rot := c["ClientId"].(string)
	code, _ := signInCode(t, f, browser(t), authorizeURL(f, rot, nil))
	_, tok := postToken(t, f, "/oauth2/token", codeForm(code, callback, verifier), rot, "")
	old, _ := tok["refresh_token"].(string)
	if old == "" {
		t.Fatalf("code exchange: %v", tok["error"])
	}
	hc, err := hostedui.New(hostedui.Options{Domain: f.srv.URL, ClientID: rot, RedirectURI: callback, Clock: f.clk})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	admin := func(method, path, body string) int {
		t.Helper()
		req, _ := http.NewRequest(method, f.srv.URL+"/_emulator/faults/"+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	// Before: the endpoint answers with the OAuth error the fault names, and the
	// refresh token did not rotate.
	if st := admin("PUT", "oauth2/token", `{"errName":"temporarily_unavailable","message":"try later","status":503}`); st != http.StatusNoContent {
		t.Fatalf("PUT fault oauth2/token: %d", st)
	}
	_, err = hc.Refresh(ctx, jwt.Secret(old))
	var he *hostedui.Error
	if !errors.As(err, &he) || he.StatusCode != 503 || he.Code != "temporarily_unavailable" || !he.RetryableError() {
		t.Fatalf("before fault: %v", err)
	}

	// After with a dropped answer: the token endpoint rotated the refresh token,
	// the client sees a network failure.
	if st := admin("PUT", "oauth2/token", `{"after":true,"drop":true}`); st != http.StatusNoContent {
		t.Fatalf("PUT after fault: %d", st)
	}
	if _, err = hc.Refresh(ctx, jwt.Secret(old)); !errors.As(err, &he) || !he.RetryableError() {
		t.Fatalf("after-drop fault: %v", err)
	}
	if st := admin("DELETE", "oauth2/token", ""); st != http.StatusNoContent {
		t.Fatalf("DELETE fault: %d", st)
	}
	f.clk.Advance(4 * time.Second)
	got, err := hc.Refresh(ctx, jwt.Secret(old))
	if err != nil || got.RefreshToken == "" || got.RefreshToken.Reveal() == old {
		t.Fatalf("retry within the grace period: %v", err)
	}
	f.clk.Advance(7 * time.Second) // past the grace period that began at the dropped call
	if _, err = hc.Refresh(ctx, jwt.Secret(old)); !errors.As(err, &he) || he.Code != "invalid_grant" {
		t.Fatalf("old refresh token after the grace period: %v", err)
	}
	if _, err = hc.Refresh(ctx, got.RefreshToken); err != nil {
		t.Fatalf("the retry's refresh token: %v", err)
	}

	// userInfo: an After fault with latency still answers, after the delay; one
	// with an error replaces the answer.
	f.srv.InjectFault("/oauth2/userInfo", emulator.Fault{After: true, ErrName: "server_error", Status: 500})
	if _, err = hc.UserInfo(ctx, got.AccessToken); !errors.As(err, &he) || he.StatusCode != 500 {
		t.Fatalf("userInfo after fault: %v", err)
	}
	f.srv.InjectFault("oauth2/userInfo", emulator.Fault{After: true, Latency: time.Millisecond})
	if info, err := hc.UserInfo(ctx, got.AccessToken); err != nil || info["username"] != oauthUser {
		t.Fatalf("userInfo after latency: %v %v", err, info["username"])
	}
	f.srv.ClearFaults()
	if n := f.srv.Requests("oauth2/token"); n != 6 {
		t.Fatalf("oauth2/token counter %d, want 6", n)
	}

	// authorize: a before fault stops the sign-in at its first step.
	f.srv.InjectFault("oauth2/authorize", emulator.Fault{ErrName: "server_error", Status: 500})
	resp, _ := get(t, browser(t), authorizeURL(f, rot, url.Values{}))
	if resp.StatusCode != 500 {
		t.Fatalf("authorize under a fault: %d", resp.StatusCode)
	}
}
