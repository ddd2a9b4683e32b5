package jwt_test

import (
	"context"
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

	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/internal/peers"
	"github.com/cogauth/cogauth/jwt"
)

const password = "Correct-Horse-1"

type emu struct {
	srv      *emulator.Server
	poolID   string
	clientID string
	other    string // a second client of the same pool
	access   string
	id       string
}

// startEmulator runs a seeded emulator (Cognito-style issuer unless selfIssuer)
// and signs alice in with the password flow through aws-sdk-go-v2.
func startEmulator(t *testing.T, selfIssuer bool) *emu {
	t.Helper()
	srv := emulator.NewServer(emulator.Options{SelfIssuer: selfIssuer, Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
		Name:    "app",
		Groups:  []emulator.SeedGroup{{Name: "admins"}},
		Clients: []emulator.SeedClient{{Name: "web"}, {Name: "other"}},
		Users: []emulator.SeedUser{{
			Username: "alice", Password: password, Groups: []string{"admins"},
			Attributes: map[string]string{"email": "alice@example.com", "email_verified": "true", "custom:tenant": "t1", "name": "Alice"},
		}},
	}}}})
	t.Cleanup(srv.Close)
	e := &emu{srv: srv, poolID: srv.PoolID("app"), clientID: srv.AppClient("app", "web").ID, other: srv.AppClient("app", "other").ID}
	c := cip.New(cip.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: aws.AnonymousCredentials{}})
	out, err := c.InitiateAuth(context.Background(), &cip.InitiateAuthInput{
		AuthFlow:       types.AuthFlowTypeUserPasswordAuth,
		ClientId:       aws.String(e.clientID),
		AuthParameters: map[string]string{"USERNAME": "alice", "PASSWORD": password},
	})
	if err != nil || out.AuthenticationResult == nil {
		t.Fatalf("sign-in: %v", err)
	}
	e.access, e.id = aws.ToString(out.AuthenticationResult.AccessToken), aws.ToString(out.AuthenticationResult.IdToken)
	return e
}

func (e *emu) jwksURL() string { return e.srv.URL + "/" + e.poolID + "/.well-known/jwks.json" }

func (e *emu) verifier(t *testing.T, use jwt.TokenUse, clients ...string) *jwt.Verifier {
	t.Helper()
	iss := e.srv.Issuer(e.poolID)
	v, err := jwt.NewVerifier(jwt.VerifierOptions{
		Issuers:   []string{iss},
		JWKSURLs:  map[string]string{iss: e.jwksURL()},
		TokenUse:  use,
		ClientIDs: clients,
		Clock:     e.srv.Clock(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestEmulatorTokensVerify(t *testing.T) {
	e := startEmulator(t, false)
	if got, want := e.srv.Issuer(e.poolID), jwt.CognitoIssuer(e.poolID); got != want {
		t.Fatalf("emulator issuer %q, want Cognito's %q", got, want)
	}
	ctx := context.Background()
	at, err := e.verifier(t, jwt.AccessToken, e.clientID).Verify(ctx, e.access)
	if err != nil {
		t.Fatalf("access token: %v", err)
	}
	ac := at.Claims()
	if ac.Username != "alice" || !ac.InGroup("admins") || ac.Client() != e.clientID || ac.OriginJTI == "" || ac.EventID == "" {
		t.Errorf("access claims: %+v", ac)
	}
	it, err := e.verifier(t, jwt.IDToken, e.clientID).Verify(ctx, e.id)
	if err != nil {
		t.Fatalf("id token: %v", err)
	}
	ui := it.Claims().UserInfo()
	if ui.Username != "alice" || ui.Email != "alice@example.com" || !ui.EmailVerified || ui.Custom["tenant"] != "t1" || ui.Name != "Alice" {
		t.Errorf("user info: %+v", ui)
	}
	if at.Header().Kid == it.Header().Kid {
		t.Error("access and id tokens share a key; Cognito uses distinct ones")
	}

	// Rules against real tokens.
	if _, err := e.verifier(t, jwt.IDToken, e.clientID).Verify(ctx, e.access); !errors.Is(err, jwt.ErrTokenUse) {
		t.Errorf("access token as id: %v", err)
	}
	if _, err := e.verifier(t, jwt.AccessToken, e.other).Verify(ctx, e.access); !errors.Is(err, jwt.ErrClient) {
		t.Errorf("other client: %v", err)
	}
	v := e.verifier(t, jwt.AccessToken, e.clientID)
	e.srv.Advance(time.Hour)
	if _, err := v.Verify(ctx, e.access); !errors.Is(err, jwt.ErrExpired) {
		t.Errorf("after an hour on the emulator's clock: %v", err)
	}
}

// TestEmulatorSelfIssuer: with the emulator as its own issuer, the JWKS URL comes
// from the issuer alone, as for real Cognito.
func TestEmulatorSelfIssuer(t *testing.T) {
	e := startEmulator(t, true)
	iss := e.srv.Issuer(e.poolID)
	if !strings.HasPrefix(iss, e.srv.URL) {
		t.Fatalf("issuer %q is not the emulator's URL", iss)
	}
	v, err := jwt.NewVerifier(jwt.VerifierOptions{Issuers: []string{iss}, ClientIDs: []string{e.clientID}, Clock: e.srv.Clock()})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{e.access, e.id} {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := v.JWKS().Fetches(); n != 1 {
		t.Errorf("JWKS fetches = %d, want 1", n)
	}
}

// TestAWSJWTVerifyAgrees runs aws-jwt-verify (npm) on the emulator's tokens and on
// broken variants of them, and checks that it and our verifier agree on each.
func TestAWSJWTVerifyAgrees(t *testing.T) {
	peers.Node(t, "aws-jwt-verify")
	e := startEmulator(t, false)
	resp, err := http.Get(e.jwksURL())
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := io.ReadAll(resp.Body)
	resp.Body.Close()

	enc := base64.RawURLEncoding.EncodeToString
	parts := strings.Split(e.access, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := parts[0] + "." + enc([]byte(strings.Replace(string(payload), `"alice"`, `"mallory"`, 1))) + "." + parts[2]
	cases := []struct {
		name, use, token string
		ok               bool
	}{
		{"access", "access", e.access, true},
		{"id", "id", e.id, true},
		{"access as id", "id", e.access, false},
		{"id as access", "access", e.id, false},
		{"tampered payload", "access", tampered, false},
		{"alg none", "access", enc([]byte(`{"alg":"none"}`)) + "." + parts[1] + ".", false},
		{"truncated", "access", parts[0] + "." + parts[1], false},
		{"signature of another token", "access", parts[0] + "." + parts[1] + "." + strings.Split(e.id, ".")[2], false},
	}
	type tok struct {
		Use   string `json:"use"`
		Token string `json:"token"`
	}
	req := struct {
		UserPoolID string          `json:"userPoolId"`
		ClientID   string          `json:"clientId"`
		JWKS       json.RawMessage `json:"jwks"`
		Tokens     []tok           `json:"tokens"`
	}{UserPoolID: e.poolID, ClientID: e.clientID, JWKS: jwks}
	for _, c := range cases {
		req.Tokens = append(req.Tokens, tok{c.use, c.token})
	}
	in, _ := json.Marshal(req)
	var results []struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(peers.RunNode(t, "verify-jwt.js", in), &results); err != nil || len(results) != len(cases) {
		t.Fatalf("node output: %v (%d results)", err, len(results))
	}
	verifiers := map[string]*jwt.Verifier{"access": e.verifier(t, jwt.AccessToken, e.clientID), "id": e.verifier(t, jwt.IDToken, e.clientID)}
	for i, c := range cases {
		_, ours := verifiers[c.use].Verify(context.Background(), c.token)
		if results[i].OK != c.ok {
			t.Errorf("%s: aws-jwt-verify ok=%v (%s), want %v", c.name, results[i].OK, results[i].Error, c.ok)
		}
		if (ours == nil) != c.ok {
			t.Errorf("%s: our verifier err=%v, want ok=%v", c.name, ours, c.ok)
		}
	}
}
