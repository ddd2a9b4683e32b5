package peers

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// MotoPool is a user pool with one app client in a moto server of its own, made
// through the (signed) admin API. The pool is in us-east-1: moto routes unsigned
// calls there whatever the pool ID says.
type MotoPool struct {
	Endpoint     string
	PoolID       string
	ClientID     string
	ClientSecret string // empty unless MotoPoolOptions.Secret
	// Admin is signed with moto's test credentials, for the Admin* operations.
	Admin *cip.Client
}

// MotoPoolOptions adjust NewMotoPool.
type MotoPoolOptions struct {
	// Secret gives the app client a secret, so every call needs a SECRET_HASH.
	Secret bool
	// Users are created at once.
	Users []MotoUser
}

// MotoUser is a user AddUser creates.
type MotoUser struct {
	Name     string
	Password string
	// Temporary leaves the password temporary: the first sign-in answers
	// NEW_PASSWORD_REQUIRED.
	Temporary bool
	// Attributes default to email NAME@example.com.
	Attributes map[string]string
}

// NewMotoPool starts moto (skipping or failing as Moto does when it is missing)
// and creates a pool whose client allows the password and refresh flows: moto's
// SRP does not work with real clients (see DESIGN.md).
func NewMotoPool(t testing.TB, opts MotoPoolOptions) *MotoPool {
	t.Helper()
	endpoint := Moto(t)
	if endpoint == "" {
		return nil
	}
	ctx := context.Background()
	admin := cip.New(cip.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
	pool, err := admin.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("cogauth")})
	if err != nil {
		t.Fatalf("moto CreateUserPool: %v", err)
	}
	client, err := admin.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId:        pool.UserPool.Id,
		ClientName:        aws.String("app"),
		GenerateSecret:    opts.Secret,
		ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserPasswordAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
	})
	if err != nil {
		t.Fatalf("moto CreateUserPoolClient: %v", err)
	}
	p := &MotoPool{
		Endpoint: endpoint, PoolID: aws.ToString(pool.UserPool.Id), ClientID: aws.ToString(client.UserPoolClient.ClientId),
		ClientSecret: aws.ToString(client.UserPoolClient.ClientSecret), Admin: admin,
	}
	for _, u := range opts.Users {
		p.AddUser(t, u)
	}
	return p
}

// AddUser creates a user: confirmed with a permanent password, or one that must
// choose a new password when u.Temporary.
func (p *MotoPool) AddUser(t testing.TB, u MotoUser) {
	t.Helper()
	ctx := context.Background()
	attrs := u.Attributes
	if attrs == nil {
		attrs = map[string]string{"email": u.Name + "@example.com"}
	}
	in := &cip.AdminCreateUserInput{
		UserPoolId: aws.String(p.PoolID), Username: aws.String(u.Name),
		TemporaryPassword: aws.String(u.Password), MessageAction: types.MessageActionTypeSuppress,
	}
	for k, v := range attrs {
		in.UserAttributes = append(in.UserAttributes, types.AttributeType{Name: aws.String(k), Value: aws.String(v)})
	}
	if _, err := p.Admin.AdminCreateUser(ctx, in); err != nil {
		t.Fatalf("moto AdminCreateUser %s: %v", u.Name, err)
	}
	if u.Temporary {
		return
	}
	if _, err := p.Admin.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{
		UserPoolId: aws.String(p.PoolID), Username: aws.String(u.Name), Password: aws.String(u.Password), Permanent: true,
	}); err != nil {
		t.Fatalf("moto AdminSetUserPassword %s: %v", u.Name, err)
	}
}
