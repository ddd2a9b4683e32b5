// Package hostedui signs users in through the Amazon Cognito hosted UI (managed
// login) with the OAuth 2.0 authorization code grant and PKCE, as Amplify's
// signInWithRedirect does, and gets machine-to-machine tokens with the
// client_credentials grant.
//
// A Client builds the authorize URL (state, nonce and an S256 code challenge),
// redeems the code at /oauth2/token, refreshes and revokes there, and reads
// /oauth2/userInfo. Login runs the whole browser flow through a loopback redirect
// receiver (http://127.0.0.1:PORT/callback) for command-line programs; the tokens
// it returns can be handed to session.Manager.Import (with Source
// session.SourceHostedUI) so that the session is kept like any other, and refreshed
// here at /oauth2/token when the Manager's Config.HostedUI is NewRefresher of this
// Client (or NewDomainRefresher): a Refresher implements session's
// HostedUIRefresher interface, so session itself links none of this package. ClientCredentialsSource caches a machine token and fetches a new
// one before the old expires.
package hostedui
