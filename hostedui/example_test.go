package hostedui_test

import (
	"context"
	"fmt"
	"log"
	"net/url"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/hostedui"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/session"
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

// A session from the hosted UI is refreshed at the domain's /oauth2/token, the
// way it was obtained: give the Manager a Refresher of the hosted UI client and import the
// tokens with SourceHostedUI. Sessions signed in through the API, in the same
// Manager, keep refreshing through the API.
func ExampleNewRefresher() {
	ctx := context.Background()
	cc, err := cognito.New(cognito.Options{UserPoolID: "us-east-1_Example", ClientID: "exampleclient"})
	if err != nil {
		log.Fatal(err)
	}
	hc, err := hostedui.New(hostedui.Options{
		Domain:   "https://example.auth.us-east-1.amazoncognito.com",
		ClientID: "exampleclient",
		Scopes:   []string{"openid", "email"},
	})
	if err != nil {
		log.Fatal(err)
	}
	m, err := session.New(session.Config{Cognito: cc, HostedUI: hostedui.NewRefresher(hc)})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	tok, err := hc.Login(ctx, hostedui.LoginOptions{Open: func(_ context.Context, u string) error {
		fmt.Println("Sign in at", u)
		return nil
	}})
	if err != nil {
		log.Fatal(err)
	}
	s, err := m.Import(ctx, session.ImportInput{
		AccessToken:  tok.AccessToken,
		IDToken:      tok.IDToken,
		RefreshToken: tok.RefreshToken,
		Source:       session.SourceHostedUI,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("signed in as", s.Username, "through the", s.Source)
}
