package emulator_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/jwt"
)

// TestRotateKeys: after a rotation new tokens carry new kids, tokens signed before
// keep working at the service and in the JWKS, and a verifier with the old key set
// picks the new keys up with exactly one more JWKS fetch.
func TestRotateKeys(t *testing.T) {
	srv, clk := newTestServer(t)
	c := sdk(srv)
	poolID := srv.PoolID("app")
	clientID := srv.AppClient("app", "web").ID
	ctx := context.Background()

	before := signIn(t, c, clientID, "alice", password)
	v, err := jwt.NewVerifier(jwt.VerifierOptions{
		Issuers:   []string{srv.Issuer(poolID)},
		JWKSURLs:  map[string]string{srv.Issuer(poolID): srv.URL + "/" + poolID + "/.well-known/jwks.json"},
		ClientIDs: []string{clientID},
		Clock:     clk,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{*before.AccessToken, *before.IdToken} {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatalf("before rotation: %v", err)
		}
	}
	if n := v.JWKS().Fetches(); n != 1 {
		t.Fatalf("%d JWKS fetches before rotation, want 1", n)
	}

	resp, err := http.Post(srv.URL+"/_emulator/rotate-keys/"+poolID, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("rotate-keys: %s", resp.Status)
	}
	if err := srv.RotateKeys("us-east-1_nope"); err == nil {
		t.Error("RotateKeys of an unknown pool succeeded")
	}

	// The verifier refetches for an unknown kid at most once per 10 s per JWKS URL.
	clk.Advance(11 * time.Second)
	after := signIn(t, c, clientID, "alice", password)
	oldTok, _ := jwt.Decode(*before.AccessToken)
	newTok, _ := jwt.Decode(*after.AccessToken)
	if oldTok.Header().Kid == newTok.Header().Kid {
		t.Fatal("access token kid unchanged by rotation")
	}
	for _, tok := range []string{*after.AccessToken, *after.IdToken, *before.AccessToken} {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatalf("after rotation: %v", err)
		}
	}
	if n := v.JWKS().Fetches(); n != 2 {
		t.Errorf("%d JWKS fetches after rotation, want 2 (one for the new kids)", n)
	}
	// The service still honours the old access token.
	if _, err := c.GetUser(ctx, &cip.GetUserInput{AccessToken: before.AccessToken}); err != nil {
		t.Errorf("GetUser with a token signed before rotation: %v", err)
	}
	if _, err := c.GetUser(ctx, &cip.GetUserInput{AccessToken: aws.String(*after.AccessToken)}); err != nil {
		t.Errorf("GetUser with a new token: %v", err)
	}

	// Retired keys survive a restart through the state file.
	path := t.TempDir() + "/state.json"
	if err := srv.SaveState(path); err != nil {
		t.Fatal(err)
	}
	srv2 := emulator.NewServer(emulator.Options{StateFile: path, Clock: clk})
	defer srv2.Close()
	if _, err := sdk(srv2).GetUser(ctx, &cip.GetUserInput{AccessToken: before.AccessToken}); err != nil {
		t.Errorf("GetUser with a pre-rotation token after restart: %v", err)
	}
}
