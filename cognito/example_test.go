package cognito_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/jwt"
)

// newClient runs a Cognito-compatible server with one pool and one app client
// and returns a Client for it. A real program passes its pool and client IDs and
// leaves Endpoint empty.
func newClient() (*emulator.Server, *cognito.Client) {
	srv := emulator.NewServer(emulator.Options{
		Clock: clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)),
		Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
			Name:    "app",
			Clients: []emulator.SeedClient{{Name: "web"}},
		}}},
	})
	c, err := cognito.New(cognito.Options{
		UserPoolID: srv.PoolID("app"),
		ClientID:   srv.AppClient("app", "web").ID,
		Endpoint:   srv.URL,
		Clock:      srv.Clock(),
	})
	if err != nil {
		log.Fatal(err)
	}
	return srv, c
}

// The user-pool protocol without a session: sign-up, its code, and a sign-in
// that returns the tokens (session.Manager keeps and refreshes them).
func Example() {
	srv, c := newClient()
	defer srv.Close()
	ctx := context.Background()

	up, err := c.SignUp(ctx, cognito.SignUpInput{
		Username: "bob", Password: "Sh1ny-Penguin!",
		Attributes: map[string]string{"email": "bob@example.com"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("confirmed at once:", up.Confirmed, "- code sent by", up.Delivery.Medium)

	code, _ := srv.LastCode(srv.PoolID("app"), "bob") // what the user finds in their mail
	if _, err := c.ConfirmSignUp(ctx, cognito.ConfirmSignUpInput{Username: "bob", Code: jwt.Secret(code)}); err != nil {
		log.Fatal(err)
	}

	// A wrong password is a typed error with a sentinel to match.
	_, err = c.SignIn(ctx, cognito.SignInInput{Username: "bob", Password: "guess"})
	fmt.Println("wrong password:", errors.Is(err, cognito.ErrNotAuthorized))

	res, err := c.SignIn(ctx, cognito.SignInInput{Username: "bob", Password: "Sh1ny-Penguin!"})
	if err != nil {
		log.Fatal(err)
	}
	id, err := jwt.Decode(res.Tokens.IDToken.Reveal())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("signed in:", id.Claims().Email, "for", res.Tokens.ExpiresIn)
	fmt.Println("tokens print as", res.Tokens.AccessToken)
	// Output:
	// confirmed at once: false - code sent by EMAIL
	// wrong password: true
	// signed in: bob@example.com for 1h0m0s
	// tokens print as [redacted]
}
