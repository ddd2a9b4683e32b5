// Package cognito speaks the Cognito user-pool protocol, statelessly: auth flows and
// challenges, SRP answers, SECRET_HASH, token refresh, revocation, global sign-out and
// GetUser, on aws-sdk-go-v2's cognitoidentityprovider client. Service errors become
// *Error values carrying the Cognito exception name.
//
// Every answer is treated as hostile. Each call has a deadline (Options.Timeout,
// DefaultTimeout when the caller's context has no earlier one) and reads at most
// MaxAnswerSize of the answer. MapError classifies by what happened on the wire
// first: a connection refused or reset, a timeout, an answer cut short, too large,
// empty, not JSON or malformed is a retryable NetworkError saying which, whatever
// the status; only an answer in Cognito's own JSON error shape is named after its
// exception, and any other error answer (an HTML page from a proxy) is a
// retryable "HTTPnnn". No error carries the bytes of an answer.
//
// Refresh uses GetTokensFromRefreshToken and falls back to REFRESH_TOKEN_AUTH only
// when Cognito's own JSON says the operation is unknown; Options.RefreshOperation
// chooses one of them outright (moto, which answers GetTokensFromRefreshToken with
// a 500 page, needs RefreshInitiateAuth).
//
// Passkeys (webauthn.go): StartWebAuthnRegistration, CompleteWebAuthnRegistration,
// ListWebAuthnCredentials, DeleteWebAuthnCredential and USER_AUTH's WEB_AUTHN
// challenge hand the WebAuthn options out and take the authenticator's answers as
// JSON objects of at most MaxWebAuthnJSON bytes, never parsing them further.
package cognito
