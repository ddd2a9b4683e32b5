package jwt_test

import (
	"context"
	"encoding/base64"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/jwt"
)

func ExampleDecode() {
	b64 := base64.RawURLEncoding.EncodeToString
	raw := b64([]byte(`{"kid":"k1","alg":"RS256"}`)) + "." +
		b64([]byte(`{"sub":"u-1","token_use":"id","cognito:username":"alice","cognito:groups":["admins"],`+
			`"email_verified":"true","custom:tenant":"acme","exp":1700000000}`)) + "." + b64([]byte("sig"))

	tok, err := jwt.Decode(raw) // no verification: for reading your own tokens
	if err != nil {
		fmt.Println(err)
		return
	}
	info := tok.Claims().UserInfo()
	fmt.Println(tok.Header().Kid, info.Username, info.Groups, info.EmailVerified, info.Custom["tenant"])
	fmt.Println(tok) // redacted
	// Output:
	// k1 alice [admins] true acme
	// jwt.Token{use=id sub=u-1 exp=2023-11-14T22:13:20Z}
}

func ExampleVerifier_Verify() {
	// A Cognito-compatible server, its own issuer, with one user.
	srv := emulator.NewServer(emulator.Options{SelfIssuer: true, Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
		Name: "app", Clients: []emulator.SeedClient{{Name: "web"}},
		Users: []emulator.SeedUser{{Username: "alice", Password: "Correct-Horse-1"}},
	}}}})
	defer srv.Close()
	poolID, clientID := srv.PoolID("app"), srv.AppClient("app", "web").ID
	idp := cip.New(cip.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: aws.AnonymousCredentials{}})
	out, err := idp.InitiateAuth(context.Background(), &cip.InitiateAuthInput{
		AuthFlow: types.AuthFlowTypeUserPasswordAuth, ClientId: aws.String(clientID),
		AuthParameters: map[string]string{"USERNAME": "alice", "PASSWORD": "Correct-Horse-1"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// The API side: accept access tokens of this pool and client. With real
	// Cognito, Issuers would be jwt.CognitoIssuer("eu-west-1_AbC123").
	v, err := jwt.NewVerifier(jwt.VerifierOptions{
		Issuers:   []string{srv.Issuer(poolID)},
		TokenUse:  jwt.AccessToken,
		ClientIDs: []string{clientID},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	tok, err := v.Verify(context.Background(), aws.ToString(out.AuthenticationResult.AccessToken))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok.Claims().Username, tok.Use())
	_, err = v.Verify(context.Background(), aws.ToString(out.AuthenticationResult.IdToken))
	fmt.Println(err)
	// Output:
	// alice access
	// jwt: token rejected: token_use: got id token, want access
}
