package identity_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/identity"
)

// A Provider hands an identity pool's credentials to any AWS SDK client, renewing
// them ahead of their real expiry. Here the user pool and identity pool are the
// emulator's; against AWS, leave Endpoint empty.
func ExampleProvider() {
	srv := emulator.NewServer(emulator.Options{Seed: testSeed()})
	defer srv.Close()
	ctx := context.Background()

	// Sign in (session.Manager does this in an application).
	idp := cip.New(cip.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: aws.AnonymousCredentials{}})
	out, err := idp.InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow:       ciptypes.AuthFlowTypeUserPasswordAuth,
		ClientId:       aws.String(srv.AppClient("users", "app").ID),
		AuthParameters: map[string]string{"USERNAME": "alice", "PASSWORD": testPassword},
	})
	if err != nil {
		log.Fatal(err)
	}
	idToken := aws.ToString(out.AuthenticationResult.IdToken)

	client, err := identity.New(identity.Options{
		IdentityPoolID: srv.Seeded().IdentityPools["open"],
		Endpoint:       srv.URL,
	})
	if err != nil {
		log.Fatal(err)
	}
	provider := identity.NewProvider(client, identity.ProviderOptions{
		Logins: identity.LoginFunc(func(context.Context) (string, error) { return idToken, nil }),
	})
	// provider is an aws.CredentialsProvider: s3.New(s3.Options{Credentials: provider, …}).
	creds, err := provider.Credentials(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.HasPrefix(creds.AccessKeyID, "ASIA"), creds.Guest)
	fmt.Println(strings.Contains(fmt.Sprint(creds), creds.SecretAccessKey.Reveal()))
	// Output:
	// true false
	// false
}
