package cognito_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/cogauth/cogauth/cognito"
)

// answerClient answers every request with one status, content type and body,
// in process.
type answerClient struct {
	status int
	ctype  string
	body   string
}

func (a answerClient) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	h := http.Header{}
	if a.ctype != "" {
		h.Set("Content-Type", a.ctype)
	}
	return &http.Response{StatusCode: a.status, Header: h, Body: io.NopCloser(strings.NewReader(a.body)), ContentLength: int64(len(a.body)), Request: r}, nil
}

// FuzzMapErrorAnswers feeds arbitrary answers (status, content type, body) to a
// refresh and checks what MapError makes of them: an error is always an *Error;
// a success status never comes out as a bare "HTTP200"; only an answer in
// Cognito's JSON error shape is named after an exception, and every other error
// answer is retryable; no error (nor anything in its chain) holds the answer's
// bytes.
func FuzzMapErrorAnswers(f *testing.F) {
	const js = "application/x-amz-json-1.1"
	f.Add(400, js, `{"__type":"NotAuthorizedException","message":"Refresh Token has been revoked"}`)
	f.Add(500, "text/html", "<html>500</html>")
	f.Add(200, js, `{"AuthenticationResult":{"AccessToken":"a.b.c","RefreshToken":"rt-0123456789"}}`)
	f.Add(200, js, `{"AuthenticationResult":{"AccessToken":12}}`)
	f.Add(200, js, ``)
	f.Add(429, "application/json", `{"message":"Too Many Requests"}`)
	f.Add(400, js, `{"code":"UnknownOperationException"}`)
	f.Add(302, "text/plain", "moved")
	f.Fuzz(func(t *testing.T, status int, ctype, body string) {
		if status < 200 || status > 599 || strings.ContainsAny(ctype, "\r\n\x00") {
			t.Skip()
		}
		c, err := cognito.New(cognito.Options{UserPoolID: "us-east-1_f", ClientID: "c", Endpoint: "http://cognito.invalid",
			HTTPClient: answerClient{status, ctype, body}, RefreshOperation: cognito.RefreshGetTokens})
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.Refresh(context.Background(), cognito.RefreshInput{RefreshToken: "rt", Username: "u"})
		if err == nil {
			if status < 200 || status > 299 || res == nil || res.Tokens == nil || res.Tokens.AccessToken == "" {
				t.Fatalf("status %d: success without tokens: %+v", status, res)
			}
			return
		}
		var ce *cognito.Error
		if !errors.As(err, &ce) {
			t.Fatalf("error %T %v is not a *cognito.Error", err, err)
		}
		if ce.Name == "HTTP200" || ce.Name == "" {
			t.Fatalf("status %d: named %q: %v", status, ce.Name, err)
		}
		if errors.As(err, new(*smithy.DeserializationError)) {
			t.Fatal("the SDK's snapshot of the answer is in the chain")
		}
		cognitoShaped := !strings.HasPrefix(ce.Name, "HTTP") && ce.Name != cognito.NetworkError && ce.Name != cognito.InvalidResponse
		if !cognitoShaped && !ce.Retryable {
			t.Fatalf("a non-Cognito answer is not retryable: %v", err)
		}
		if len(body) >= 16 && !cognitoShaped {
			for e := error(err); e != nil; e = errors.Unwrap(e) {
				if out := fmt.Sprintf("%v %+v %#v", e, e, e); strings.Contains(out, body) {
					t.Fatalf("%T in the chain holds the answer: %s", e, out)
				}
			}
		}
	})
}

// FuzzWebAuthnAnswers feeds arbitrary successful answers to the calls that take
// WebAuthn JSON from the service (StartWebAuthnRegistration's
// CredentialCreationOptions, a WEB_AUTHN challenge's
// CREDENTIAL_REQUEST_OPTIONS, ListWebAuthnCredentials): the client never
// panics, and what it hands out is a JSON object within MaxWebAuthnJSON, or an
// error.
func FuzzWebAuthnAnswers(f *testing.F) {
	const js = "application/x-amz-json-1.1"
	f.Add(`{"CredentialCreationOptions":{"challenge":"abc","rp":{"id":"localhost","name":"x"}}}`)
	f.Add(`{"CredentialCreationOptions":"a string"}`)
	f.Add(`{"CredentialCreationOptions":[1,2]}`)
	f.Add(`{"ChallengeName":"WEB_AUTHN","Session":"s","ChallengeParameters":{"USERNAME":"u","CREDENTIAL_REQUEST_OPTIONS":"{\"challenge\":\"abc\",\"rpId\":\"localhost\"}"}}`)
	f.Add(`{"ChallengeName":"WEB_AUTHN","Session":"s","ChallengeParameters":{"USERNAME":"u","CREDENTIAL_REQUEST_OPTIONS":"[]"}}`)
	f.Add(`{"Credentials":[{"CredentialId":"id","FriendlyCredentialName":"n","RelyingPartyId":"r","AuthenticatorTransports":["usb"],"CreatedAt":1.7e9}],"NextToken":"t"}`)
	f.Add(`{"Credentials":[{"CreatedAt":"x"}]}`)
	f.Fuzz(func(t *testing.T, body string) {
		c, err := cognito.New(cognito.Options{UserPoolID: "us-east-1_f", ClientID: "c", Endpoint: "http://cognito.invalid",
			HTTPClient: answerClient{200, js, body}})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		checkObject := func(what string, b []byte) {
			if len(b) > cognito.MaxWebAuthnJSON || !json.Valid(b) || len(b) == 0 || b[0] != '{' {
				t.Fatalf("%s handed out %q", what, b)
			}
		}
		if opts, err := c.StartWebAuthnRegistration(ctx, "a.b.c"); err == nil {
			checkObject("StartWebAuthnRegistration", opts)
		}
		if res, err := c.SignIn(ctx, cognito.SignInInput{Username: "u", Flow: cognito.FlowUserAuth, PreferredChallenge: cognito.FactorWebAuthn}); err == nil &&
			res.Challenge != nil && res.Challenge.Name == cognito.ChallengeWebAuthn {
			checkObject("WEB_AUTHN challenge", res.Challenge.CredentialRequestOptions)
		}
		if page, err := c.ListWebAuthnCredentials(ctx, "a.b.c", cognito.ListWebAuthnCredentialsInput{}); err == nil {
			for _, k := range page.Credentials {
				if k.ID == "" || len(k.Transports) > 16 {
					t.Fatalf("listed %+v", k)
				}
			}
		}
	})
}
