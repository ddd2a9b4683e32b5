package emulator_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/internal/peers"
	"github.com/cogauth/cogauth/jwt"
)

// TestPoolRegionFromSignature: a pool created by boto3 signing for eu-west-1
// gets an eu-west-1_ ID and ARN on an emulator whose default region is
// us-east-1; its tokens carry the eu-west-1 issuer and aws-jwt-verify (which
// derives the issuer from the pool ID) accepts them.
func TestPoolRegionFromSignature(t *testing.T) {
	py := peers.Python(t, "boto3")
	srv := emulator.NewServer(emulator.Options{AccountID: "123456789012"})
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, filepath.Join(peers.RepoRoot(t), "test", "python", "region_pool.py"), srv.URL)
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("boto3: %v", err)
	}
	var made struct{ PoolID, ClientID, Arn string }
	if err := json.Unmarshal(raw, &made); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	if !strings.HasPrefix(made.PoolID, "eu-west-1_") {
		t.Fatalf("pool created signing for eu-west-1 has ID %q", made.PoolID)
	}
	if want := "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/" + made.PoolID; made.Arn != want {
		t.Errorf("ARN %q, want %q", made.Arn, want)
	}
	res := signIn(t, sdk(srv), made.ClientID, "erin", "Correct-Horse-7")
	wantIss := "https://cognito-idp.eu-west-1.amazonaws.com/" + made.PoolID
	for _, raw := range []string{aws.ToString(res.AccessToken), aws.ToString(res.IdToken)} {
		tok, err := jwt.Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := tok.Claims().Iss; got != wantIss {
			t.Errorf("iss %q, want %q", got, wantIss)
		}
	}
	// The user-facing calls still accept the tokens (the issuer is the pool's).
	if _, err := sdk(srv).GetUser(context.Background(), &cip.GetUserInput{AccessToken: res.AccessToken}); err != nil {
		t.Errorf("GetUser with an eu-west-1 token: %v", err)
	}
	resp, err := http.Get(srv.URL + "/" + made.PoolID + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var oidc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&oidc)
	resp.Body.Close()
	if oidc.Issuer != wantIss || oidc.JWKSURI != wantIss+"/.well-known/jwks.json" {
		t.Errorf("OpenID configuration %+v", oidc)
	}

	peers.Node(t, "aws-jwt-verify")
	resp, err = http.Get(srv.URL + "/" + made.PoolID + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	type tok struct {
		Use   string `json:"use"`
		Token string `json:"token"`
	}
	in, _ := json.Marshal(map[string]any{
		"userPoolId": made.PoolID, "clientId": made.ClientID, "jwks": json.RawMessage(jwks),
		"tokens": []tok{{"access", aws.ToString(res.AccessToken)}, {"id", aws.ToString(res.IdToken)}},
	})
	var results []struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(peers.RunNode(t, "verify-jwt.js", in), &results); err != nil || len(results) != 2 {
		t.Fatalf("node output: %v (%d results)", err, len(results))
	}
	for i, r := range results {
		if !r.OK {
			t.Errorf("token %d: aws-jwt-verify refused it: %s", i, r.Error)
		}
	}
}

// TestRegionFromGoSDKSignature: aws-sdk-go-v2 signing for ap-southeast-2 creates
// an ap-southeast-2 pool; an unsigned call creates one in Options.Region.
func TestRegionFromGoSDKSignature(t *testing.T) {
	srv := emulator.NewServer(emulator.Options{Region: "us-west-2"})
	t.Cleanup(srv.Close)
	signed := cip.New(cip.Options{
		Region: "ap-southeast-2", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	})
	out, err := signed.CreateUserPool(context.Background(), &cip.CreateUserPoolInput{PoolName: aws.String("syd")})
	if err != nil {
		t.Fatal(err)
	}
	if id := aws.ToString(out.UserPool.Id); !strings.HasPrefix(id, "ap-southeast-2_") {
		t.Errorf("signed for ap-southeast-2: pool %q", id)
	}
	out, err = sdk(srv).CreateUserPool(context.Background(), &cip.CreateUserPoolInput{PoolName: aws.String("default")})
	if err != nil {
		t.Fatal(err)
	}
	if id := aws.ToString(out.UserPool.Id); !strings.HasPrefix(id, "us-west-2_") {
		t.Errorf("unsigned: pool %q, want the default region", id)
	}
}
