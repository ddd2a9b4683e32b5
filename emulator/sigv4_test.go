package emulator_test

import (
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"

	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/internal/peers"
)

const (
	testKeyID  = "AKIDEXAMPLE000001"
	testSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

func strictServer(t *testing.T) *emulator.Server {
	t.Helper()
	srv := emulator.NewServer(emulator.Options{Seed: testSeed(), StrictRegion: true,
		AccessKeys: map[string]string{testKeyID: testSecret}})
	t.Cleanup(srv.Close)
	return srv
}

func signedSDK(srv *emulator.Server, region, key, secret string) *cip.Client {
	var creds aws.CredentialsProvider = aws.AnonymousCredentials{}
	if key != "" {
		creds = credentials.NewStaticCredentialsProvider(key, secret, "")
	}
	return cip.New(cip.Options{Region: region, BaseEndpoint: aws.String(srv.URL), Credentials: creds})
}

func apiErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// TestStrictSigV4GoSDK: with access keys configured, admin calls need a valid
// signature of a known key (AWS's error names otherwise), user-facing calls stay
// unsigned, and strict region mode refuses a pool of another region.
func TestStrictSigV4GoSDK(t *testing.T) {
	srv := strictServer(t)
	ctx := context.Background()
	pool := aws.String(srv.PoolID("app"))
	for name, tt := range map[string]struct {
		region, key, secret, want string
	}{
		"signed":               {"us-east-1", testKeyID, testSecret, "ok"},
		"unsigned":             {"us-east-1", "", "", "MissingAuthenticationTokenException"},
		"wrong secret":         {"us-east-1", testKeyID, testSecret + "x", "InvalidSignatureException"},
		"unknown key":          {"us-east-1", "AKIDUNKNOWN000000", testSecret, "UnrecognizedClientException"},
		"signed for eu-west-1": {"eu-west-1", testKeyID, testSecret, "ResourceNotFoundException"},
	} {
		_, err := signedSDK(srv, tt.region, tt.key, tt.secret).DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: pool})
		if got := apiErrorCode(err); got != tt.want {
			t.Errorf("%s: %s, want %s", name, got, tt.want)
		}
	}
	// The user-facing operations are unsigned in Cognito's model: they work
	// without credentials; a client of another region is unknown in strict mode.
	web := srv.AppClient("app", "web").ID
	signIn(t, signedSDK(srv, "us-east-1", "", ""), web, "alice", password)
	// An eu-west-1 pool is unknown to unsigned calls, which this emulator takes as
	// its own region's (us-east-1).
	eu := signedSDK(srv, "eu-west-1", testKeyID, testSecret)
	p, err := eu.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("eu")})
	if err != nil {
		t.Fatal(err)
	}
	c, err := eu.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: p.UserPool.Id, ClientName: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = signedSDK(srv, "us-east-1", "", "").InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow: types.AuthFlowTypeUserSrpAuth, ClientId: c.UserPoolClient.ClientId,
		AuthParameters: map[string]string{"USERNAME": "alice", "SRP_A": "abc"}})
	if got := apiErrorCode(err); got != "ResourceNotFoundException" {
		t.Errorf("unsigned sign-in at an eu-west-1 client: %s", got)
	}
	// Signatures are checked against real time, not the settable clock.
	srv.Advance(48 * time.Hour)
	if _, err := signedSDK(srv, "us-east-1", testKeyID, testSecret).DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: pool}); err != nil {
		t.Errorf("a fresh signature after moving the emulator clock: %v", err)
	}
}

// TestStrictSigV4Boto3: boto3's signatures are accepted (with and without a
// session token); wrong ones get AWS's error codes.
func TestStrictSigV4Boto3(t *testing.T) {
	py := peers.Python(t, "boto3")
	srv := strictServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	raw, err := exec.CommandContext(ctx, py, filepath.Join(peers.RepoRoot(t), "test", "python", "sigv4_check.py"),
		srv.URL, testKeyID, testSecret, srv.PoolID("app")).Output()
	if err != nil {
		t.Fatalf("boto3: %v", err)
	}
	var got map[string]string
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	want := map[string]string{"signed": "ok", "sessionToken": "ok", "wrongSecret": "InvalidSignatureException",
		"unknownKey": "UnrecognizedClientException", "unsigned": "MissingAuthenticationTokenException"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("boto3 %s: %s, want %s", k, got[k], v)
		}
	}
}
