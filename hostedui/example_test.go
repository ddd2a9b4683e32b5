package hostedui_test

import (
	"context"
	"fmt"
	"net/url"

	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/hostedui"
	"github.com/cogauth/cogauth/jwt"
)

// A sign-in URL: state, nonce and an S256 code challenge are made fresh for each
// sign-in and checked when the browser comes back.
func ExampleClient_AuthCodeURL() {
	c, err := hostedui.New(hostedui.Options{
		Domain:      "https://myapp.auth.us-east-1.amazoncognito.com",
		ClientID:    "4example1client2id",
		RedirectURI: "http://localhost:8080/callback",
		Scopes:      []string{"openid", "email"},
	})
	if err != nil {
		panic(err)
	}
	req, err := c.AuthCodeURL(hostedui.AuthorizeOptions{})
	if err != nil {
		panic(err)
	}
	u, _ := url.Parse(req.URL)
	q := u.Query()
	fmt.Println(u.Host + u.Path)
	fmt.Println(q.Get("response_type"), q.Get("scope"), q.Get("code_challenge_method"))
	fmt.Println(q.Get("state") == req.State, q.Get("nonce") == req.Nonce)
	// Output:
	// myapp.auth.us-east-1.amazoncognito.com/oauth2/authorize
	// code openid email S256
	// true true
}

// A machine-to-machine client's token, cached and fetched again shortly before it
// expires.
func ExampleClient_ClientCredentialsSource() {
	srv := emulator.NewServer(emulator.Options{Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{Name: "example"}}}})
	defer srv.Close()
	id, secret := m2mClient(srv, srv.PoolID("example"))

	c, err := hostedui.New(hostedui.Options{Domain: srv.URL, ClientID: id, ClientSecret: secret})
	if err != nil {
		panic(err)
	}
	src := c.ClientCredentialsSource(hostedui.CredentialsOptions{Scopes: []string{"inventory/read"}})
	raw, err := src.Token(context.Background(), false)
	if err != nil {
		panic(err)
	}
	tok, _ := jwt.Decode(raw)
	fmt.Println(tok.Claims().Scope, tok.Claims().Sub == id)
	again, _ := src.Token(context.Background(), false)
	fmt.Println(again == raw, srv.Requests("oauth2/token"))
	// Output:
	// inventory/read true
	// true 1
}
