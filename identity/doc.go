// Package identity obtains identity IDs and temporary AWS credentials from Cognito
// identity pools and offers them as an aws.CredentialsProvider.
//
// Client speaks Cognito's enhanced flow, unsigned as apps do: GetId with the logins
// map (the id token under its issuer's name, "cognito-idp.{region}.amazonaws.com/
// {poolId}"), then GetCredentialsForIdentity. It keeps identity IDs in a store.Store
// keyed by identity pool and user, so a restarted program does not ask again, and
// carries a device's guest identity into the user's when they sign in, as Cognito
// links or merges them. Errors are *cognito.Error, the user-pool side's type,
// classified by cognito.MapError; each call has a deadline (Options.Timeout) and
// reads at most cognito.MaxAnswerSize of the answer, as on the user-pool side.
//
// Provider wraps a Client with the caching the AWS SDK expects and Amplify gets
// wrong: credentials renewed from their real Expiration (an early window, default 5
// minutes), one fetch in flight for any number of callers, still-valid credentials
// served through transient failures, new ones when the id token changes, none after
// sign-out. It reads who is signed in from a LoginSource (SessionLogins of a
// session.Manager, in an application). NewSessionCredentials plugs a Client into
// the Manager instead, as its session.CredentialsSource, when the session itself
// should carry the credentials: session defines the interface, this package
// implements it, and a program that keeps sessions without an identity pool links
// none of this package.
//
// ProcessJSON renders (and ParseProcessJSON reads) the AWS credential_process
// format, for any program that hands the credentials to an SDK that way. The
// environment variables and running a program with them are the CLI's
// business (cogauth credentials --format env, cogauth exec), not this package's.
package identity
