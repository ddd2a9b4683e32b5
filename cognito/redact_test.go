package cognito_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/internal/redact/redacttest"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/secret"
)

// TestRedaction renders every exported type of the package that holds a token
// or a secret, every way, and finds none of the secrets: their fields are of
// redacting types (secret.String, jwt.Secret) or boxed, and no type but Device,
// Tokens and Challenge (whose String is what %s of a pointer to them prints)
// has a printing method.
func TestRedaction(t *testing.T) {
	const (
		clientSecret = "client-secret-value-1234"
		password     = "user-password-value-5678"
		code         = "mfa-code-998877"
		newPassword  = "new-password-value-4321"
		access       = "eyJhbGciOi.access-payload.access-signature"
		id           = "eyJhbGciOi.id-payload.id-signature"
		refresh      = "refresh-token-value-abcd"
		session      = "challenge-session-value-efgh"
		secretBlock  = "secret-block-value-ijkl"
		devicePW     = "device-password-value-mnop"
	)
	secrets := []string{clientSecret, password, code, newPassword, "access-signature", "id-signature", refresh, session, secretBlock, devicePW}
	opts := cognito.Options{UserPoolID: "us-east-1_Redact", ClientID: "client", ClientSecret: clientSecret, Endpoint: "http://127.0.0.1:1"}
	c, err := cognito.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := cognito.NewAdmin(opts, aws.AnonymousCredentials{})
	if err != nil {
		t.Fatal(err)
	}
	tokens := cognito.Tokens{AccessToken: access, IDToken: id, RefreshToken: refresh}
	dev := cognito.Device{Key: "dk", GroupKey: "gk", Password: devicePW}
	ch := challengeWith(t, session, secretBlock)
	values := map[string]any{
		"*Client":      c,
		"Options":      opts,
		"*Options":     &opts,
		"*AdminClient": admin,
		"SignInInput":  cognito.SignInInput{Username: "alice", Password: password, Device: &dev},
		"Answer":       cognito.Answer{Code: code, NewPassword: newPassword, Responses: map[string]secret.String{"ANSWER": code}},
		"RefreshInput": cognito.RefreshInput{RefreshToken: refresh, Username: "alice"},
		"Tokens":       tokens,
		"*Tokens":      &tokens,
		"Device":       dev,
		"*Device":      &dev,
		"*Challenge":   ch,
		"Result":       cognito.Result{Tokens: &tokens, Challenge: ch},
		"*Result":      &cognito.Result{Tokens: &tokens},
	}
	for name, v := range values {
		redacttest.NoSecrets(t, name, v, secrets...)
	}
	// The challenge answers SRP's SECRET_BLOCK itself: it is not among the
	// parameters a caller sees.
	if _, ok := ch.Parameters["SECRET_BLOCK"]; ok || ch.Parameters["USERNAME"] != "alice" {
		t.Errorf("challenge parameters %v", ch.Parameters)
	}

	// Errors of failed calls carry no secret either.
	_, err = c.SignIn(context.Background(), cognito.SignInInput{Username: "alice", Password: password, Flow: cognito.FlowPassword})
	if err == nil {
		t.Fatal("sign-in against a closed port worked")
	}
	redacttest.NoSecrets(t, "sign-in error", err, secrets...)
	_, err = c.Refresh(context.Background(), cognito.RefreshInput{RefreshToken: refresh, Username: "alice"})
	redacttest.NoSecrets(t, "refresh error", err, secrets...)
	for e := err; e != nil; e = errors.Unwrap(e) {
		redacttest.NoSecrets(t, "refresh error chain", e, secrets...)
	}
}

// challengeWith signs in against a fake that poses a challenge with session and
// an SRP SECRET_BLOCK, and returns that challenge.
func challengeWith(t *testing.T, session, secretBlock string) *cognito.Challenge {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		io.WriteString(w, `{"ChallengeName":"SMS_MFA","Session":"`+session+`","ChallengeParameters":{"USERNAME":"alice","SECRET_BLOCK":"`+secretBlock+`"}}`)
	}))
	t.Cleanup(srv.Close)
	c, err := cognito.New(cognito.Options{UserPoolID: "us-east-1_x", ClientID: "c", Endpoint: srv.URL, ClientSecret: jwt.Secret("s")})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.SignIn(context.Background(), cognito.SignInInput{Username: "alice", Password: "p", Flow: cognito.FlowPassword})
	if err != nil || res.Challenge == nil {
		t.Fatalf("challenge: %v, %v", res, err)
	}
	return res.Challenge
}
