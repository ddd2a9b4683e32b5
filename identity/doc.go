// Package identity obtains identity IDs and temporary AWS credentials from Cognito
// identity pools and offers them as an aws.CredentialsProvider.
package identity
