package websession_test

import (
	"crypto/rand"
	"fmt"
	"html"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/session"
	"github.com/cogauth/cogauth/websession"
)

// A backend for frontend: the browser signs in at the hosted UI (here the
// emulator's, filled in by an HTTP client with a cookie jar), the app keeps the
// tokens and gives the browser an opaque cookie, and a protected route sees the
// user. Sign-out revokes the tokens and clears the cookie.
func Example() {
	emu := emulator.NewServer(emulator.Options{SelfIssuer: true, Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
		Name:  "app",
		Users: []emulator.SeedUser{{Username: "alice", Password: "Corr3ct-Horse!"}},
	}}}})
	defer emu.Close()
	var app http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { app.ServeHTTP(w, r) }))
	defer srv.Close()

	// The app client, with the app's callback and sign-out URLs.
	pool := emu.PoolID("app")
	client, err := emu.CreateUserPoolClient(pool, emulator.SeedClient{
		Name: "web", AllowedOAuthFlows: []string{"code"}, AllowedOAuthScopes: []string{"openid", "email"},
		CallbackURLs: []string{srv.URL + "/auth/callback"}, LogoutURLs: []string{srv.URL + "/"},
	})
	if err != nil {
		log.Fatal(err)
	}
	c, err := cognito.New(cognito.Options{UserPoolID: pool, ClientID: client.ID, Endpoint: emu.URL})
	if err != nil {
		log.Fatal(err)
	}
	verifier, err := jwt.NewVerifier(jwt.VerifierOptions{
		Issuers: []string{emu.Issuer(pool)}, ClientIDs: []string{client.ID},
	})
	if err != nil {
		log.Fatal(err)
	}
	secret := make([]byte, 32) // the same on every replica
	_, _ = rand.Read(secret)
	ws, err := websession.New(websession.Config{
		Session: session.Config{Cognito: c}, Domain: emu.URL, Verifier: verifier, BaseURL: srv.URL, Secret: secret,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer ws.Close()
	mux := http.NewServeMux()
	mux.Handle("GET /", ws.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := websession.UserFrom(r.Context())
		fmt.Fprintf(w, "hello %s", u.Username)
	})))
	app = ws.Handler(mux) // the routes (/auth/login, /auth/callback, /auth/logout, /auth/me) in front of mux

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	get := func(u string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("Accept", "application/json") // a page's fetch(): 401, not a redirect
		return do(browser, req)
	}

	resp, _ := get(srv.URL + "/")
	fmt.Println("before sign-in:", resp.StatusCode)

	// /auth/login redirects to the hosted UI; the user submits its form.
	resp, page := do(browser, mustRequest(http.MethodGet, srv.URL+"/auth/login?return_to=/", nil))
	form := url.Values{"username": {"alice"}, "password": {"Corr3ct-Horse!"}}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`).FindAllStringSubmatch(page, -1) {
		form.Add(m[1], html.UnescapeString(m[2]))
	}
	action := *resp.Request.URL
	action.RawQuery = ""
	post := mustRequest(http.MethodPost, action.String(), strings.NewReader(form.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, body := do(browser, post) // back through /auth/callback to return_to
	fmt.Println("after sign-in:", resp.StatusCode, body)

	// /auth/logout revokes the tokens, deletes the session and sends the browser
	// on to the hosted UI's /logout, which sends it back to the app.
	resp, _ = do(browser, mustRequest(http.MethodPost, srv.URL+"/auth/logout", nil))
	fmt.Println("sign-out: back at", strings.TrimPrefix(resp.Request.URL.String(), srv.URL))
	resp, _ = get(srv.URL + "/")
	fmt.Println("after sign-out:", resp.StatusCode)
	// Output:
	// before sign-in: 401
	// after sign-in: 200 hello alice
	// sign-out: back at /
	// after sign-out: 401
}

func mustRequest(method, u string, body io.Reader) *http.Request {
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		log.Fatal(err)
	}
	return req
}

func do(c *http.Client, req *http.Request) (*http.Response, string) {
	resp, err := c.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}
