package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cogauth/cogauth/cognito"
)

// Passkeys of the signed-in user, with the current session's access token
// (refreshed first when due; ErrSignedOut without a session). Registering is two
// calls around the authenticator (StartPasskeyRegistration's options go to
// navigator.credentials.create or any authenticator, whose answer goes to
// CompletePasskeyRegistration), or one with RegisterPasskey. Signing in with a
// passkey is SignIn with cognito.FlowUserAuth and PreferredChallenge
// cognito.FactorWebAuthn (or SELECT_CHALLENGE's answer), then ConfirmSignIn
// with Answer.Credential for the challenge's CredentialRequestOptions.

// StartPasskeyRegistration asks the service for the credential creation options
// (PublicKeyCredentialCreationOptionsJSON) of a new passkey for the signed-in
// user (StartWebAuthnRegistration).
func (m *Manager) StartPasskeyRegistration(ctx context.Context) (json.RawMessage, error) {
	at, _, err := m.accessToken(ctx)
	if err != nil {
		return nil, err
	}
	return m.cfg.Cognito.StartWebAuthnRegistration(ctx, at)
}

// CompletePasskeyRegistration registers the authenticator's answer
// (RegistrationResponseJSON) to StartPasskeyRegistration's options and emits
// PasskeyAdded.
func (m *Manager) CompletePasskeyRegistration(ctx context.Context, credential json.RawMessage) error {
	at, sess, err := m.accessToken(ctx)
	if err != nil {
		return err
	}
	if err := m.cfg.Cognito.CompleteWebAuthnRegistration(ctx, at, credential); err != nil {
		return err
	}
	m.emit(Event{Kind: PasskeyAdded, Username: sess.Username})
	return nil
}

// RegisterPasskey registers a passkey in one call (Amplify's
// associateWebAuthnCredential): create turns the creation options into the
// authenticator's RegistrationResponseJSON.
func (m *Manager) RegisterPasskey(ctx context.Context, create func(ctx context.Context, options json.RawMessage) (json.RawMessage, error)) error {
	if create == nil {
		return errors.New("session: RegisterPasskey needs an authenticator")
	}
	opts, err := m.StartPasskeyRegistration(ctx)
	if err != nil {
		return err
	}
	cred, err := create(ctx, opts)
	if err != nil {
		return fmt.Errorf("session: the authenticator did not create a passkey: %w", err)
	}
	return m.CompletePasskeyRegistration(ctx, cred)
}

// maxPasskeyPages bounds ListPasskeys' pages (Cognito keeps at most 20 passkeys
// per user).
const maxPasskeyPages = 10

// ListPasskeys lists all the signed-in user's passkeys (ListWebAuthnCredentials,
// page after page); none is an empty list.
func (m *Manager) ListPasskeys(ctx context.Context) ([]cognito.WebAuthnCredential, error) {
	at, _, err := m.accessToken(ctx)
	if err != nil {
		return nil, err
	}
	out := []cognito.WebAuthnCredential{}
	in := cognito.ListWebAuthnCredentialsInput{}
	for range maxPasskeyPages {
		page, err := m.cfg.Cognito.ListWebAuthnCredentials(ctx, at, in)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Credentials...)
		if page.NextToken == "" {
			return out, nil
		}
		if page.NextToken == in.NextToken {
			return nil, errors.New("session: ListPasskeys: the service repeated its NextToken")
		}
		in.NextToken = page.NextToken
	}
	return nil, fmt.Errorf("session: ListPasskeys: more than %d pages", maxPasskeyPages)
}

// DeletePasskey deletes one of the signed-in user's passkeys by its ID
// (cognito.WebAuthnCredential.ID) and emits PasskeyDeleted.
func (m *Manager) DeletePasskey(ctx context.Context, credentialID string) error {
	at, sess, err := m.accessToken(ctx)
	if err != nil {
		return err
	}
	if err := m.cfg.Cognito.DeleteWebAuthnCredential(ctx, at, credentialID); err != nil {
		return err
	}
	m.emit(Event{Kind: PasskeyDeleted, Username: sess.Username})
	return nil
}
