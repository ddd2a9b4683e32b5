package emulator_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/golang-jwt/jwt/v5"

	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/secret"
	"github.com/cogauth/cogauth/srp"
)

// apiError is an error answer as it came over the wire.
type apiError struct {
	Status  int
	Type    string `json:"__type"`
	Message string `json:"message"`
}

func (e *apiError) Error() string { return e.Type + ": " + e.Message }

// call posts one JSON 1.1 user-pool operation and decodes the answer into a map.
func call(t testing.TB, srv *emulator.Server, op string, in any) (map[string]any, *apiError) {
	t.Helper()
	return callTarget(t, srv, "AWSCognitoIdentityProviderService."+op, in)
}

// callIdentity is call for an identity-pool operation; it fails the test on an
// error answer.
func callIdentity(t testing.TB, srv *emulator.Server, op string, in any) map[string]any {
	t.Helper()
	out, ae := callTarget(t, srv, "AWSCognitoIdentityService."+op, in)
	if ae != nil {
		t.Fatalf("%s: %v", op, ae)
	}
	return out
}

func callTarget(t testing.TB, srv *emulator.Server, target string, in any) (map[string]any, *apiError) {
	t.Helper()
	op := target
	body, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		ae := &apiError{Status: resp.StatusCode}
		if err := json.Unmarshal(data, ae); err != nil {
			t.Fatalf("%s: status %d body %q", op, resp.StatusCode, data)
		}
		return nil, ae
	}
	out := map[string]any{}
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("%s: body %q: %v", op, data, err)
	}
	return out, nil
}

func mustCall(t testing.TB, srv *emulator.Server, op string, in any) map[string]any {
	t.Helper()
	out, ae := call(t, srv, op, in)
	if ae != nil {
		t.Fatalf("%s: %v", op, ae)
	}
	return out
}

func wantErr(t *testing.T, ae *apiError, typ, msgPart string) {
	t.Helper()
	if ae == nil {
		t.Fatalf("no error, want %s", typ)
	}
	if ae.Type != typ || !strings.Contains(ae.Message, msgPart) {
		t.Fatalf("error %s %q, want %s containing %q", ae.Type, ae.Message, typ, msgPart)
	}
}

func strMap(v any) map[string]string {
	out := map[string]string{}
	m, _ := v.(map[string]any)
	for k, x := range m {
		out[k], _ = x.(string)
	}
	return out
}

// srpStart sends USER_SRP_AUTH and returns the client and the challenge.
func srpStart(t *testing.T, srv *emulator.Server, clientID, username string, extra map[string]string) (*srp.Client, map[string]any) {
	t.Helper()
	cl, err := srp.NewClient(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]string{"USERNAME": username, "SRP_A": cl.SRPA()}
	for k, v := range extra {
		params[k] = v
	}
	out := mustCall(t, srv, "InitiateAuth", map[string]any{"AuthFlow": "USER_SRP_AUTH", "ClientId": clientID, "AuthParameters": params})
	if out["ChallengeName"] != "PASSWORD_VERIFIER" {
		t.Fatalf("challenge %v", out["ChallengeName"])
	}
	return cl, out
}

// srpAnswer builds the PASSWORD_VERIFIER answer for pw at time now.
func srpAnswer(t *testing.T, srv *emulator.Server, cl *srp.Client, ch map[string]any, pw string, now time.Time) map[string]string {
	t.Helper()
	p := strMap(ch["ChallengeParameters"])
	ts := srp.Timestamp(now)
	sig, err := cl.Signature(p["SRP_B"], srp.Claim{
		Prefix: srp.PoolName(srv.PoolID("app")), UserID: p["USER_ID_FOR_SRP"], Password: secret.String(pw),
		SaltHex: p["SALT"], SecretBlock: secret.String(p["SECRET_BLOCK"]), Timestamp: ts,
	})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"USERNAME": p["USERNAME"], "PASSWORD_CLAIM_SECRET_BLOCK": p["SECRET_BLOCK"],
		"PASSWORD_CLAIM_SIGNATURE": sig, "TIMESTAMP": ts,
	}
}

func respond(t *testing.T, srv *emulator.Server, clientID, challenge, session string, resp map[string]string) (map[string]any, *apiError) {
	t.Helper()
	in := map[string]any{"ChallengeName": challenge, "ClientId": clientID, "ChallengeResponses": resp}
	if session != "" {
		in["Session"] = session
	}
	return call(t, srv, "RespondToAuthChallenge", in)
}

func TestSRPSignIn(t *testing.T) {
	srv, _ := newTestServer(t)
	web := srv.AppClient("app", "web").ID
	tests := []struct {
		name     string
		pw       string
		mutate   func(map[string]string)
		wantType string
	}{
		{"right password", password, nil, ""},
		{"wrong password", "Wrong-Horse-1", nil, "NotAuthorizedException"},
		{"forged signature", password, func(r map[string]string) {
			r["PASSWORD_CLAIM_SIGNATURE"] = base64.StdEncoding.EncodeToString(make([]byte, 32))
		}, "NotAuthorizedException"},
		{"zero-padded day", password, func(r map[string]string) {
			r["TIMESTAMP"] = "Tue Mar 04 10:00:00 UTC 2025"
		}, "NotAuthorizedException"},
		{"other secret block", password, func(r map[string]string) {
			r["PASSWORD_CLAIM_SECRET_BLOCK"] = base64.StdEncoding.EncodeToString([]byte("x"))
		}, "NotAuthorizedException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl, ch := srpStart(t, srv, web, "alice", nil)
			// The signature is made over a day that needs padding, so the
			// zero-padded variant is a different string.
			ans := srpAnswer(t, srv, cl, ch, tt.pw, time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC))
			if tt.mutate != nil {
				tt.mutate(ans)
			}
			out, ae := respond(t, srv, web, "PASSWORD_VERIFIER", ch["Session"].(string), ans)
			if tt.wantType != "" {
				wantErr(t, ae, tt.wantType, "")
				return
			}
			if ae != nil {
				t.Fatalf("respond: %v", ae)
			}
			ar, _ := out["AuthenticationResult"].(map[string]any)
			if ar["AccessToken"] == nil || ar["RefreshToken"] == nil {
				t.Fatalf("no tokens: %v", out)
			}
			if len(strMap(out["ChallengeParameters"])) != 0 {
				t.Fatalf("ChallengeParameters %v, want {}", out["ChallengeParameters"])
			}
		})
	}
}

func TestChallengeSessionSingleUseAndExpiry(t *testing.T) {
	srv, clk := newTestServer(t)
	web := srv.AppClient("app", "web").ID

	cl, ch := srpStart(t, srv, web, "alice", nil)
	ans := srpAnswer(t, srv, cl, ch, password, clk.Now())
	if _, ae := respond(t, srv, web, "PASSWORD_VERIFIER", ch["Session"].(string), ans); ae != nil {
		t.Fatal(ae)
	}
	_, ae := respond(t, srv, web, "PASSWORD_VERIFIER", ch["Session"].(string), ans)
	wantErr(t, ae, "NotAuthorizedException", "only be used once")

	cl, ch = srpStart(t, srv, web, "alice", nil)
	clk.Advance(3*time.Minute + time.Second)
	ans = srpAnswer(t, srv, cl, ch, password, clk.Now())
	_, ae = respond(t, srv, web, "PASSWORD_VERIFIER", ch["Session"].(string), ans)
	wantErr(t, ae, "NotAuthorizedException", "expired")
}

func TestSecretHashAndAuthFlows(t *testing.T) {
	srv, _ := newTestServer(t)
	backend := srv.AppClient("app", "backend")
	hash := func(user string) string {
		m := hmac.New(sha256.New, []byte(backend.Secret))
		m.Write([]byte(user + backend.ID))
		return base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	tests := []struct {
		name, client string
		params       map[string]string
		flow         string
		wantType     string
		wantMsg      string
	}{
		{"hash ok", backend.ID, map[string]string{"SECRET_HASH": hash("alice")}, "USER_PASSWORD_AUTH", "", ""},
		{"hash missing", backend.ID, nil, "USER_PASSWORD_AUTH", "NotAuthorizedException", "SECRET_HASH was not received"},
		{"hash wrong", backend.ID, map[string]string{"SECRET_HASH": hash("bob")}, "USER_PASSWORD_AUTH", "NotAuthorizedException", "Unable to verify secret hash"},
		{"flow not allowed", srv.AppClient("app", "srponly").ID, nil, "USER_PASSWORD_AUTH", "InvalidParameterException", "USER_PASSWORD_AUTH flow not enabled"},
		{"unknown user", srv.AppClient("app", "web").ID, map[string]string{"USERNAME": "mallory"}, "USER_PASSWORD_AUTH", "UserNotFoundException", ""},
		{"bad flow", srv.AppClient("app", "web").ID, nil, "NOPE", "InvalidParameterException", "authFlow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := map[string]string{"USERNAME": "alice", "PASSWORD": password}
			for k, v := range tt.params {
				p[k] = v
			}
			out, ae := call(t, srv, "InitiateAuth", map[string]any{"AuthFlow": tt.flow, "ClientId": tt.client, "AuthParameters": p})
			if tt.wantType == "" {
				if ae != nil || out["AuthenticationResult"] == nil {
					t.Fatalf("got %v %v", out, ae)
				}
				return
			}
			wantErr(t, ae, tt.wantType, tt.wantMsg)
		})
	}
}

// parseClaims verifies a token with the pool's JWKS and returns its header and claims.
func parseClaims(t *testing.T, srv *emulator.Server, tok string) (map[string]any, jwt.MapClaims) {
	t.Helper()
	resp, err := http.Get(srv.URL + "/" + srv.PoolID("app") + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct{ Kid, N, E, Kty, Alg, Use string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil || len(set.Keys) != 2 {
		t.Fatalf("jwks: %v %+v", err, set)
	}
	claims := jwt.MapClaims{}
	parsed, err := jwt.ParseWithClaims(tok, claims, func(tk *jwt.Token) (any, error) {
		for _, k := range set.Keys {
			if k.Kid == tk.Header["kid"] {
				return jwkToKey(t, k.N, k.E), nil
			}
		}
		return nil, errors.New("kid not in JWKS")
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())
	if err != nil {
		t.Fatalf("token does not verify with the JWKS: %v", err)
	}
	return parsed.Header, claims
}

func TestTokenClaims(t *testing.T) {
	srv, clk := newTestServer(t)
	c := sdk(srv)
	web := srv.AppClient("app", "web").ID
	tok := signIn(t, c, web, "alice", password)
	ah, ac := parseClaims(t, srv, *tok.AccessToken)
	ih, ic := parseClaims(t, srv, *tok.IdToken)
	if ah["kid"] == ih["kid"] {
		t.Error("access and id tokens share a signing key")
	}
	if len(ah) != 2 || ah["alg"] != "RS256" {
		t.Errorf("header %v, want exactly kid and alg", ah)
	}
	iss := "https://cognito-idp.us-east-1.amazonaws.com/" + srv.PoolID("app")
	sub := srv.UserSub(srv.PoolID("app"), "alice")
	checks := []struct {
		name string
		got  any
		want any
	}{
		{"access iss", ac["iss"], iss},
		{"id iss", ic["iss"], iss},
		{"access token_use", ac["token_use"], "access"},
		{"id token_use", ic["token_use"], "id"},
		{"scope", ac["scope"], "aws.cognito.signin.user.admin"},
		{"client_id", ac["client_id"], web},
		{"aud", ic["aud"], web},
		{"username", ac["username"], "alice"},
		{"cognito:username", ic["cognito:username"], "alice"},
		{"sub", ac["sub"], sub},
		{"id sub", ic["sub"], sub},
		{"email_verified is boolean", ic["email_verified"], true},
		{"custom attribute", ic["custom:tenant"], "t1"},
		{"origin_jti shared", ac["origin_jti"], ic["origin_jti"]},
		{"event_id shared", ac["event_id"], ic["event_id"]},
		{"iat", ac["iat"], float64(t0.Unix())},
		{"exp", ac["exp"], float64(t0.Add(time.Hour).Unix())},
		{"auth_time", ac["auth_time"], float64(t0.Unix())},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %v, want %v", ck.name, ck.got, ck.want)
		}
	}
	if g, _ := ac["cognito:groups"].([]any); len(g) != 1 || g[0] != "admins" {
		t.Errorf("cognito:groups %v", ac["cognito:groups"])
	}
	if ac["jti"] == ic["jti"] || ac["jti"] == nil {
		t.Errorf("jti %v / %v", ac["jti"], ic["jti"])
	}
	if strings.Count(*tok.RefreshToken, ".") != 4 {
		t.Errorf("refresh token is not JWE-shaped")
	}

	clk.Advance(30 * time.Minute)
	ref, err := c.InitiateAuth(context.Background(), &cip.InitiateAuthInput{
		AuthFlow: types.AuthFlowTypeRefreshTokenAuth, ClientId: aws.String(web),
		AuthParameters: map[string]string{"REFRESH_TOKEN": *tok.RefreshToken},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, rc := parseClaims(t, srv, *ref.AuthenticationResult.AccessToken)
	if rc["auth_time"] != float64(t0.Unix()) || rc["iat"] != float64(t0.Add(30*time.Minute).Unix()) {
		t.Errorf("after refresh auth_time %v iat %v", rc["auth_time"], rc["iat"])
	}
	if rc["origin_jti"] != ac["origin_jti"] {
		t.Errorf("refresh changed origin_jti")
	}
}

func TestSelfIssuerDiscovery(t *testing.T) {
	srv := emulator.NewServer(emulator.Options{Seed: testSeed(), SelfIssuer: true})
	defer srv.Close()
	iss := srv.URL + "/" + srv.PoolID("app")
	resp, err := http.Get(iss + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var conf map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&conf); err != nil {
		t.Fatal(err)
	}
	if conf["issuer"] != iss || conf["jwks_uri"] != iss+"/.well-known/jwks.json" {
		t.Fatalf("openid-configuration %v", conf)
	}
	tok := signIn(t, sdk(srv), srv.AppClient("app", "web").ID, "alice", password)
	_, cl := parseClaims(t, srv, *tok.IdToken)
	if cl["iss"] != iss {
		t.Fatalf("iss %v", cl["iss"])
	}
	r404, err := http.Get(srv.URL + "/us-east-1_nope/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	r404.Body.Close()
	if r404.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown pool JWKS status %d", r404.StatusCode)
	}
}

func TestRotationGraceAndReuse(t *testing.T) {
	srv, clk := newTestServer(t)
	c := sdk(srv)
	ctx := context.Background()
	rot := srv.AppClient("app", "rotating").ID
	tok := signIn(t, c, rot, "alice", password)

	// REFRESH_TOKEN_AUTH is refused while rotation is on.
	_, err := c.InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow: types.AuthFlowTypeRefreshTokenAuth, ClientId: aws.String(rot),
		AuthParameters: map[string]string{"REFRESH_TOKEN": *tok.RefreshToken},
	})
	var na *types.NotAuthorizedException
	if !errors.As(err, &na) {
		t.Fatalf("REFRESH_TOKEN_AUTH with rotation: %v", err)
	}

	first, err := c.GetTokensFromRefreshToken(ctx, &cip.GetTokensFromRefreshTokenInput{ClientId: aws.String(rot), RefreshToken: tok.RefreshToken})
	if err != nil {
		t.Fatal(err)
	}
	next := first.AuthenticationResult.RefreshToken
	if next == nil || *next == *tok.RefreshToken {
		t.Fatal("rotation did not issue a new refresh token")
	}
	clk.Advance(5 * time.Second) // inside the 10 s grace period
	if _, err := c.GetTokensFromRefreshToken(ctx, &cip.GetTokensFromRefreshTokenInput{ClientId: aws.String(rot), RefreshToken: tok.RefreshToken}); err != nil {
		t.Fatalf("old token inside grace period: %v", err)
	}
	clk.Advance(6 * time.Second)
	_, err = c.GetTokensFromRefreshToken(ctx, &cip.GetTokensFromRefreshTokenInput{ClientId: aws.String(rot), RefreshToken: tok.RefreshToken})
	var reuse *types.RefreshTokenReuseException
	if !errors.As(err, &reuse) {
		t.Fatalf("old token after grace period: %v", err)
	}
	if _, err := c.GetTokensFromRefreshToken(ctx, &cip.GetTokensFromRefreshTokenInput{ClientId: aws.String(rot), RefreshToken: next}); err != nil {
		t.Fatalf("new token: %v", err)
	}
}

func TestRevocation(t *testing.T) {
	srv, _ := newTestServer(t)
	c := sdk(srv)
	ctx := context.Background()
	web := srv.AppClient("app", "web").ID
	refresh := func(rt *string) error {
		_, err := c.InitiateAuth(ctx, &cip.InitiateAuthInput{
			AuthFlow: types.AuthFlowTypeRefreshTokenAuth, ClientId: aws.String(web),
			AuthParameters: map[string]string{"REFRESH_TOKEN": *rt},
		})
		return err
	}
	wantRevoked := func(what string, err error) {
		t.Helper()
		var na *types.NotAuthorizedException
		if !errors.As(err, &na) || !strings.Contains(na.ErrorMessage(), "revoked") {
			t.Fatalf("%s: %v, want NotAuthorizedException ... revoked", what, err)
		}
	}

	a := signIn(t, c, web, "alice", password)
	b := signIn(t, c, web, "alice", password)
	if _, err := c.RevokeToken(ctx, &cip.RevokeTokenInput{ClientId: aws.String(web), Token: a.RefreshToken}); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	wantRevoked("refresh after RevokeToken", refresh(a.RefreshToken))
	_, err := c.GetUser(ctx, &cip.GetUserInput{AccessToken: a.AccessToken})
	wantRevoked("GetUser after RevokeToken", err)
	if _, err := c.GetUser(ctx, &cip.GetUserInput{AccessToken: b.AccessToken}); err != nil {
		t.Fatalf("other sign-in died with the revoked one: %v", err)
	}

	if _, err := c.GlobalSignOut(ctx, &cip.GlobalSignOutInput{AccessToken: b.AccessToken}); err != nil {
		t.Fatalf("GlobalSignOut: %v", err)
	}
	_, err = c.GetUser(ctx, &cip.GetUserInput{AccessToken: b.AccessToken})
	wantRevoked("GetUser after GlobalSignOut", err)
	wantRevoked("refresh after GlobalSignOut", refresh(b.RefreshToken))

	d := signIn(t, c, web, "alice", password)
	mustCall(t, srv, "AdminUserGlobalSignOut", map[string]string{"UserPoolId": srv.PoolID("app"), "Username": "alice"})
	wantRevoked("refresh after AdminUserGlobalSignOut", refresh(d.RefreshToken))
}

func TestNewPasswordRequired(t *testing.T) {
	srv, _ := newTestServer(t)
	pool, web := srv.PoolID("app"), srv.AppClient("app", "web").ID
	mustCall(t, srv, "AdminCreateUser", map[string]any{
		"UserPoolId": pool, "Username": "bob", "TemporaryPassword": "Temp-Pass-1", "MessageAction": "SUPPRESS",
		"UserAttributes": []map[string]string{{"Name": "email", "Value": "bob@example.com"}},
	})
	out := mustCall(t, srv, "InitiateAuth", map[string]any{"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": web,
		"AuthParameters": map[string]string{"USERNAME": "bob", "PASSWORD": "Temp-Pass-1"}})
	if out["ChallengeName"] != "NEW_PASSWORD_REQUIRED" {
		t.Fatalf("challenge %v", out["ChallengeName"])
	}
	_, ae := respond(t, srv, web, "NEW_PASSWORD_REQUIRED", out["Session"].(string), map[string]string{"USERNAME": "bob", "NEW_PASSWORD": "short"})
	wantErr(t, ae, "InvalidPasswordException", "")

	out = mustCall(t, srv, "InitiateAuth", map[string]any{"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": web,
		"AuthParameters": map[string]string{"USERNAME": "bob", "PASSWORD": "Temp-Pass-1"}})
	res, ae := respond(t, srv, web, "NEW_PASSWORD_REQUIRED", out["Session"].(string), map[string]string{
		"USERNAME": "bob", "NEW_PASSWORD": "Brand-New-Pass-2", "userAttributes.name": "Bob"})
	if ae != nil || res["AuthenticationResult"] == nil {
		t.Fatalf("answer: %v %v", res, ae)
	}
	got := mustCall(t, srv, "AdminGetUser", map[string]string{"UserPoolId": pool, "Username": "bob"})
	if got["UserStatus"] != "CONFIRMED" {
		t.Fatalf("status %v", got["UserStatus"])
	}
	signIn(t, sdk(srv), web, "bob", "Brand-New-Pass-2")
}
