package cognito

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/document"

	"github.com/cogauth/cogauth/jwt"
)

// Passkeys (WebAuthn) of a signed-in user: registration in two steps
// (StartWebAuthnRegistration hands out the credential creation options for
// navigator.credentials.create or any authenticator; CompleteWebAuthnRegistration
// takes its RegistrationResponseJSON), listing and deleting. Sign-in with a
// passkey is USER_AUTH's WEB_AUTHN challenge (ChallengeWebAuthn): its
// Challenge.CredentialRequestOptions go to navigator.credentials.get, whose
// AuthenticationResponseJSON is Answer.Credential. The library passes the JSON
// through, checked to be a bounded JSON object, so any authenticator plugs in.

// ChallengeWebAuthn is USER_AUTH's passkey challenge, answered with
// Answer.Credential.
const ChallengeWebAuthn = "WEB_AUTHN"

// MaxWebAuthnJSON bounds the credential options and answers the library passes
// through (both ways).
const MaxWebAuthnJSON = 64 << 10

// Sentinels of the WebAuthn operations.
var (
	// ErrWebAuthnNotEnabled: the pool does not allow passkeys (WEB_AUTHN is not in
	// its sign-in policy).
	ErrWebAuthnNotEnabled error = sentinel("WebAuthnNotEnabledException")
	// ErrWebAuthnConfigurationMissing: the pool has neither a relying party ID
	// nor a domain.
	ErrWebAuthnConfigurationMissing error = sentinel("WebAuthnConfigurationMissingException")
	// ErrWebAuthnChallengeNotFound: no registration is under way, it expired, or
	// the credential answers another challenge.
	ErrWebAuthnChallengeNotFound error = sentinel("WebAuthnChallengeNotFoundException")
	// ErrWebAuthnClientMismatch: the registration started with another app
	// client's access token.
	ErrWebAuthnClientMismatch error = sentinel("WebAuthnClientMismatchException")
	// ErrWebAuthnRelyingPartyMismatch: the credential is for another relying
	// party ID than the pool's.
	ErrWebAuthnRelyingPartyMismatch error = sentinel("WebAuthnRelyingPartyMismatchException")
	// ErrWebAuthnOriginNotAllowed: the page that created the credential is not
	// on an origin of the pool's relying party ID.
	ErrWebAuthnOriginNotAllowed error = sentinel("WebAuthnOriginNotAllowedException")
	// ErrWebAuthnCredentialNotSupported: the authenticator's attestation format
	// or key algorithm is not one the pool takes.
	ErrWebAuthnCredentialNotSupported error = sentinel("WebAuthnCredentialNotSupportedException")
)

// checkWebAuthnJSON checks that b is a JSON object of at most MaxWebAuthnJSON
// bytes; what names it in the error.
func checkWebAuthnJSON(b []byte, what string) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return fmt.Errorf("cognito: %s is empty", what)
	case len(b) > MaxWebAuthnJSON:
		return fmt.Errorf("cognito: %s is %d bytes, at most %d", what, len(b), MaxWebAuthnJSON)
	case b[0] != '{' || !json.Valid(b):
		return fmt.Errorf("cognito: %s is not a JSON object", what)
	}
	return nil
}

// documentJSON turns a document of an answer into checked JSON.
func documentJSON(op string, d document.Interface) (json.RawMessage, error) {
	if d == nil {
		return nil, errors.New("missing")
	}
	b, err := d.MarshalSmithyDocument()
	if err != nil {
		return nil, err
	}
	if err := checkWebAuthnJSON(b, op+"'s options"); err != nil {
		return nil, err
	}
	return json.RawMessage(bytes.TrimSpace(b)), nil
}

// StartWebAuthnRegistration starts registering a passkey for the signed-in
// user and returns the credential creation options
// (PublicKeyCredentialCreationOptionsJSON: challenge, rp, user,
// pubKeyCredParams, excludeCredentials, authenticatorSelection, timeout) for the
// authenticator. Errors: ErrWebAuthnNotEnabled, ErrWebAuthnConfigurationMissing,
// ErrLimitExceeded (the user has the most passkeys the pool allows).
func (c *Client) StartWebAuthnRegistration(ctx context.Context, accessToken jwt.Secret) (json.RawMessage, error) {
	if accessToken == "" {
		return nil, errors.New("cognito: StartWebAuthnRegistration needs an access token")
	}
	out, err := c.api.StartWebAuthnRegistration(ctx, &cip.StartWebAuthnRegistrationInput{AccessToken: aws.String(accessToken.Reveal())})
	if err != nil {
		return nil, MapError("StartWebAuthnRegistration", err)
	}
	opts, err := documentJSON("StartWebAuthnRegistration", out.CredentialCreationOptions)
	if err != nil {
		return nil, invalidAnswer("StartWebAuthnRegistration", out.ResultMetadata, "CredentialCreationOptions: "+err.Error())
	}
	return opts, nil
}

// CompleteWebAuthnRegistration finishes a registration with the
// authenticator's RegistrationResponseJSON. Errors:
// ErrWebAuthnChallengeNotFound, ErrWebAuthnClientMismatch,
// ErrWebAuthnRelyingPartyMismatch, ErrWebAuthnOriginNotAllowed,
// ErrWebAuthnCredentialNotSupported, ErrNotAuthorized (the attestation did not
// verify), ErrLimitExceeded.
func (c *Client) CompleteWebAuthnRegistration(ctx context.Context, accessToken jwt.Secret, credential json.RawMessage) error {
	if accessToken == "" {
		return errors.New("cognito: CompleteWebAuthnRegistration needs an access token")
	}
	if err := checkWebAuthnJSON(credential, "the passkey credential"); err != nil {
		return err
	}
	var v map[string]any
	if err := json.Unmarshal(credential, &v); err != nil {
		return fmt.Errorf("cognito: the passkey credential: %w", err)
	}
	_, err := c.api.CompleteWebAuthnRegistration(ctx, &cip.CompleteWebAuthnRegistrationInput{
		AccessToken: aws.String(accessToken.Reveal()),
		Credential:  document.NewLazyDocument(v),
	})
	return MapError("CompleteWebAuthnRegistration", err)
}

// WebAuthnCredential is a registered passkey as ListWebAuthnCredentials
// describes it.
type WebAuthnCredential struct {
	ID             string // CredentialId, what DeleteWebAuthnCredential takes
	FriendlyName   string
	RelyingPartyID string
	Attachment     string // platform, cross-platform, or ""
	Transports     []string
	CreatedAt      time.Time
}

// WebAuthnCredentialPage is one page of ListWebAuthnCredentials.
type WebAuthnCredentialPage struct {
	Credentials []WebAuthnCredential
	// NextToken, when set, asks for the next page.
	NextToken string
}

// ListWebAuthnCredentialsInput pages ListWebAuthnCredentials: MaxResults 0
// leaves the size to the service (Cognito allows 1 to 20).
type ListWebAuthnCredentialsInput struct {
	MaxResults int
	NextToken  string
}

// maxListed bounds the credentials kept from one page.
const maxListed = 100

// ListWebAuthnCredentials lists one page of the signed-in user's passkeys (an
// empty list when there are none).
func (c *Client) ListWebAuthnCredentials(ctx context.Context, accessToken jwt.Secret, in ListWebAuthnCredentialsInput) (*WebAuthnCredentialPage, error) {
	if accessToken == "" {
		return nil, errors.New("cognito: ListWebAuthnCredentials needs an access token")
	}
	if in.MaxResults < 0 || in.MaxResults > 20 {
		return nil, fmt.Errorf("cognito: ListWebAuthnCredentials: MaxResults %d is not between 1 and 20", in.MaxResults)
	}
	req := &cip.ListWebAuthnCredentialsInput{AccessToken: aws.String(accessToken.Reveal())}
	if in.MaxResults > 0 {
		req.MaxResults = aws.Int32(int32(in.MaxResults))
	}
	if in.NextToken != "" {
		req.NextToken = aws.String(in.NextToken)
	}
	out, err := c.api.ListWebAuthnCredentials(ctx, req)
	if err != nil {
		return nil, MapError("ListWebAuthnCredentials", err)
	}
	if len(out.Credentials) > maxListed {
		return nil, invalidAnswer("ListWebAuthnCredentials", out.ResultMetadata, fmt.Sprintf("%d credentials in one page", len(out.Credentials)))
	}
	p := &WebAuthnCredentialPage{Credentials: []WebAuthnCredential{}, NextToken: clipText(aws.ToString(out.NextToken), 2048)}
	for _, d := range out.Credentials {
		id := aws.ToString(d.CredentialId)
		if id == "" || len(id) > 2048 {
			return nil, invalidAnswer("ListWebAuthnCredentials", out.ResultMetadata, "a credential without a usable CredentialId")
		}
		w := WebAuthnCredential{
			ID:             id,
			FriendlyName:   clipText(aws.ToString(d.FriendlyCredentialName), 256),
			RelyingPartyID: clipText(aws.ToString(d.RelyingPartyId), 256),
			Attachment:     clipText(aws.ToString(d.AuthenticatorAttachment), 64),
			CreatedAt:      aws.ToTime(d.CreatedAt),
		}
		for _, t := range d.AuthenticatorTransports {
			if len(w.Transports) == maxAvailable {
				break
			}
			w.Transports = append(w.Transports, clipText(t, 64))
		}
		p.Credentials = append(p.Credentials, w)
	}
	return p, nil
}

// DeleteWebAuthnCredential deletes one of the signed-in user's passkeys. An
// unknown ID is ErrResourceNotFound.
func (c *Client) DeleteWebAuthnCredential(ctx context.Context, accessToken jwt.Secret, credentialID string) error {
	if accessToken == "" || credentialID == "" {
		return errors.New("cognito: DeleteWebAuthnCredential needs an access token and a credential ID")
	}
	_, err := c.api.DeleteWebAuthnCredential(ctx, &cip.DeleteWebAuthnCredentialInput{
		AccessToken: aws.String(accessToken.Reveal()), CredentialId: aws.String(credentialID),
	})
	return MapError("DeleteWebAuthnCredential", err)
}
