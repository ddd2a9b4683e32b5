package emulator_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/internal/peers"
)

// benchRefresh measures InitiateAuth REFRESH_TOKEN_AUTH through aws-sdk-go-v2 against
// endpoint, after setting up a pool there with the same SDK calls (which both the
// emulator and moto accept).
func benchRefresh(b *testing.B, endpoint string) {
	c := cip.New(cip.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: aws.AnonymousCredentials{}})
	ctx := context.Background()
	pool, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("bench")})
	if err != nil {
		b.Fatal(err)
	}
	cl, err := c.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: pool.UserPool.Id, ClientName: aws.String("bench"),
		ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserPasswordAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth}})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: pool.UserPool.Id, Username: aws.String("bench"), MessageAction: types.MessageActionTypeSuppress}); err != nil {
		b.Fatal(err)
	}
	if _, err := c.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: pool.UserPool.Id, Username: aws.String("bench"), Password: aws.String(password), Permanent: true}); err != nil {
		b.Fatal(err)
	}
	auth, err := c.InitiateAuth(ctx, &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeUserPasswordAuth, ClientId: cl.UserPoolClient.ClientId,
		AuthParameters: map[string]string{"USERNAME": "bench", "PASSWORD": password}})
	if err != nil {
		b.Fatal(err)
	}
	in := &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeRefreshTokenAuth, ClientId: cl.UserPoolClient.ClientId,
		AuthParameters: map[string]string{"REFRESH_TOKEN": *auth.AuthenticationResult.RefreshToken}}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.InitiateAuth(ctx, in); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkRefreshTokenAuth compares the emulator with moto's server, same client,
// same machine, beside the floor of what a refresh costs at least: two RS256
// signatures with 2048-bit keys (sign-floor, same RunParallel, same run):
// go test -run '^$' -bench RefreshTokenAuth ./emulator/
func BenchmarkRefreshTokenAuth(b *testing.B) {
	b.Run("sign-floor", func(b *testing.B) {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			b.Fatal(err)
		}
		claims := gojwt.MapClaims{"sub": "3f1e", "token_use": "access", "scope": "aws.cognito.signin.user.admin", "exp": 2000000000}
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				for range 2 { // access and id token
					t := gojwt.NewWithClaims(gojwt.SigningMethodRS256, claims)
					if _, err := t.SignedString(key); err != nil {
						b.Error(err)
						return
					}
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	})
	b.Run("emulator", func(b *testing.B) {
		srv := emulator.NewServer(emulator.Options{})
		defer srv.Close()
		benchRefresh(b, srv.URL)
	})
	b.Run("moto", func(b *testing.B) {
		benchRefresh(b, peers.Moto(b))
	})
}

// BenchmarkGetCredentialsForIdentity serves GetCredentialsForIdentity in process
// (no network) for one guest identity of an identity pool that holds 1000: the cost
// of the identity-pool state itself per call.
//
//	go test -run '^$' -bench GetCredentialsForIdentity -benchmem ./emulator/
func BenchmarkGetCredentialsForIdentity(b *testing.B) {
	e, err := emulator.New(emulator.Options{Seed: &emulator.Seed{
		IdentityPools: []emulator.SeedIdentityPool{{Name: "guests", AllowUnauthenticatedIdentities: true}},
	}})
	if err != nil {
		b.Fatal(err)
	}
	do := func(op, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", "AWSCognitoIdentityService."+op)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%s: %d %s", op, rec.Code, rec.Body)
		}
		return rec
	}
	pool := e.Seeded().IdentityPools["guests"]
	var id struct{ IdentityId string }
	for range 1000 {
		if err := json.Unmarshal(do("GetId", `{"IdentityPoolId":"`+pool+`"}`).Body.Bytes(), &id); err != nil {
			b.Fatal(err)
		}
	}
	body := `{"IdentityId":"` + id.IdentityId + `"}`
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		do("GetCredentialsForIdentity", body)
	}
}
