// Package cognito speaks the Cognito user-pool protocol, statelessly: auth flows and
// challenges, SRP answers, SECRET_HASH, token refresh, revocation, global sign-out and
// GetUser, on aws-sdk-go-v2's cognitoidentityprovider client. Service errors become
// *Error values carrying the Cognito exception name.
package cognito
