// Package session is the token lifecycle of a Cognito sign-in: the Go equivalent of
// Amplify Auth's fetchAuthSession. A Manager signs users in, imports tokens issued
// elsewhere, returns the current session from Fetch without a network call while it
// is fresh, refreshes it (one refresh at a time per session) inside a window before
// expiry, keeps valid sessions across transient failures, signs out and emits events.
//
// Only a definitive answer of the service ends a session. Network failures, 5xx,
// throttling and a Store that cannot be reached (ErrStoreUnavailable) are
// transient: Fetch serves the tokens while they are valid, tries again after
// Config.RetryAfterFailure, and reports a retryable error once they are dead.
// A transient failure also holds the token endpoint for every Manager of the
// process (Breakers): while it is held, refreshes fail at once and send nothing,
// and one probe at a time tests the endpoint. FetchOptions.MaxWait bounds how
// long a Fetch waits for a refresh (a web tier's RefreshWait); its ctx bounds
// the whole call.
//
// Each session is refreshed the way it was obtained (Session.Source): through the
// user pool API, or at the hosted UI's /oauth2/token (Config.HostedUI). AWS
// credentials from an identity pool (Config.Credentials) are kept with the session,
// with the pool they came from, and are due whenever the session has none.
//
// The Manager is the token cache: Fetch, Token and Retrieve read it
// (httpauth.TokenSource(m) makes it an oauth2.TokenSource); SignIn, ConfirmSignIn, AutoSignIn and Import fill it; SignOut empties it;
// Subscribe reports what happens to it. What a signed-in user does with their
// account goes through small views over the same session, each holding only the
// Manager:
//
//	m.Account()   sign-up, password reset and change, attributes, deleting the user
//	m.MFA()       TOTP set-up and the preferred MFA method
//	m.Passkeys()  registering, listing and deleting passkeys
//	m.Devices()   confirming, listing, marking and forgetting devices
//
// Remembered devices live in the Store beside the session and outlive sign-out,
// as they do at Cognito: the next sign-in of the user answers DEVICE_SRP_AUTH
// with the device's secret and may skip MFA, and every refresh sends the
// device's key.
//
// Passkeys pass the authenticator's WebAuthn JSON through; a passkey sign-in is
// SignIn with cognito.FlowUserAuth and cognito.FactorWebAuthn, then
// ConfirmSignIn with cognito.Answer.Credential.
package session
