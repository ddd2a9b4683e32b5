package httpauth_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/cogauth/cogauth/httpauth"
	"github.com/cogauth/cogauth/jwt"
)

func ExampleNewClient() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.Header.Get("Authorization"))
	}))
	defer api.Close()

	// In a program the provider is a *session.Manager; here, a fixed token.
	provider := httpauth.TokenProviderFunc(func(ctx context.Context, forceRefresh bool) (string, error) {
		return "eyJ...token", nil
	})
	client := httpauth.NewClient(provider, httpauth.Raw) // raw, as Amplify's interceptors send it
	resp, err := client.Get(api.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	fmt.Println(string(b))
	// Output: eyJ...token
}

// staticVerifier stands in for a *jwt.Verifier in this example.
type staticVerifier struct{}

func (staticVerifier) Verify(ctx context.Context, raw string) (*jwt.Token, error) {
	return nil, &jwt.VerifyError{Rule: jwt.RuleExpired, Reason: "expired"}
}

func ExampleMiddleware() {
	var v httpauth.Verifier = staticVerifier{} // normally jwt.NewVerifier(...)
	mux := http.NewServeMux()
	mux.Handle("/admin", httpauth.RequireGroups("admins")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := httpauth.ClaimsFrom(r.Context())
		fmt.Fprintln(w, "hello", claims.Username)
	})))
	srv := httptest.NewServer(httpauth.Middleware(v)(mux))
	defer srv.Close()

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/admin", nil)
	req.Header.Set("Authorization", "Bearer eyJ...")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	// Output: 401 Bearer error="invalid_token", error_description="token expired"
}
