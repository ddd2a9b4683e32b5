package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cogauth/cogauth/cognito"
)

// Passkeys are the signed-in user's passkeys (WebAuthn credentials), seen
// through a Manager (Manager.Passkeys), with the current session's access token
// (refreshed first when due; ErrSignedOut without a session). Registering is two
// calls around the authenticator (StartRegistration's options go to
// navigator.credentials.create or any authenticator, whose answer goes to
// CompleteRegistration), or one with Register. Signing in with a passkey is
// Manager.SignIn with cognito.FlowUserAuth and PreferredChallenge
// cognito.FactorWebAuthn (or SELECT_CHALLENGE's answer), then
// Manager.ConfirmSignIn with Answer.Credential for the challenge's
// CredentialRequestOptions. Like Account, a Passkeys has no state of its own.
type Passkeys struct{ m *Manager }

// Passkeys returns the passkeys view of the Manager's signed-in user. See Passkeys.
func (m *Manager) Passkeys() Passkeys { return Passkeys{m} }

// StartRegistration asks the service for the credential creation options
// (PublicKeyCredentialCreationOptionsJSON) of a new passkey for the signed-in
// user (StartWebAuthnRegistration).
func (p Passkeys) StartRegistration(ctx context.Context) (json.RawMessage, error) {
	at, _, err := p.m.accessToken(ctx)
	if err != nil {
		return nil, err
	}
	return p.m.cfg.Cognito.StartWebAuthnRegistration(ctx, at)
}

// CompleteRegistration registers the authenticator's answer
// (RegistrationResponseJSON) to StartRegistration's options and emits
// PasskeyAdded.
func (p Passkeys) CompleteRegistration(ctx context.Context, credential json.RawMessage) error {
	at, sess, err := p.m.accessToken(ctx)
	if err != nil {
		return err
	}
	if err := p.m.cfg.Cognito.CompleteWebAuthnRegistration(ctx, at, credential); err != nil {
		return err
	}
	p.m.emit(Event{Kind: PasskeyAdded, Username: sess.Username})
	return nil
}

// Register registers a passkey in one call (Amplify's
// associateWebAuthnCredential): create turns the creation options into the
// authenticator's RegistrationResponseJSON.
func (p Passkeys) Register(ctx context.Context, create func(ctx context.Context, options json.RawMessage) (json.RawMessage, error)) error {
	if create == nil {
		return errors.New("session: Passkeys.Register needs an authenticator")
	}
	opts, err := p.StartRegistration(ctx)
	if err != nil {
		return err
	}
	cred, err := create(ctx, opts)
	if err != nil {
		return fmt.Errorf("session: the authenticator did not create a passkey: %w", err)
	}
	return p.CompleteRegistration(ctx, cred)
}

// maxPasskeyPages bounds Passkeys.List's pages (Cognito keeps at most 20 passkeys
// per user).
const maxPasskeyPages = 10

// List lists all the signed-in user's passkeys (ListWebAuthnCredentials,
// page after page); none is an empty list.
func (p Passkeys) List(ctx context.Context) ([]cognito.WebAuthnCredential, error) {
	at, _, err := p.m.accessToken(ctx)
	if err != nil {
		return nil, err
	}
	out := []cognito.WebAuthnCredential{}
	in := cognito.ListWebAuthnCredentialsInput{}
	for range maxPasskeyPages {
		page, err := p.m.cfg.Cognito.ListWebAuthnCredentials(ctx, at, in)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Credentials...)
		if page.NextToken == "" {
			return out, nil
		}
		if page.NextToken == in.NextToken {
			return nil, errors.New("session: listing passkeys: the service repeated its NextToken")
		}
		in.NextToken = page.NextToken
	}
	return nil, fmt.Errorf("session: listing passkeys: more than %d pages", maxPasskeyPages)
}

// Delete deletes one of the signed-in user's passkeys by its ID
// (cognito.WebAuthnCredential.ID) and emits PasskeyDeleted.
func (p Passkeys) Delete(ctx context.Context, credentialID string) error {
	at, sess, err := p.m.accessToken(ctx)
	if err != nil {
		return err
	}
	if err := p.m.cfg.Cognito.DeleteWebAuthnCredential(ctx, at, credentialID); err != nil {
		return err
	}
	p.m.emit(Event{Kind: PasskeyDeleted, Username: sess.Username})
	return nil
}
