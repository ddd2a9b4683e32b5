package emulatortest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/emulator/emulatortest"
)

func seed() *emulator.Seed {
	return &emulator.Seed{
		UserPools:     []emulator.SeedUserPool{{Name: "app", ID: "eu-west-1_Fixture1", Clients: []emulator.SeedClient{{Name: "web"}}}},
		IdentityPools: []emulator.SeedIdentityPool{{Name: "ids", UserPool: "app", Clients: []string{"web"}}},
	}
}

// TestStartAndHelpers: the fixture serves, the helpers name what the seed made,
// and the server is gone once the test that started it ends.
func TestStartAndHelpers(t *testing.T) {
	var url string
	t.Run("inner", func(t *testing.T) {
		srv := emulatortest.Start(t, seed())
		url = srv.URL
		if srv.ClientID("app", "web") == "" || !strings.HasPrefix(srv.IdentityPoolID("ids"), "eu-west-1:") {
			t.Fatalf("client %q, identity pool %q", srv.ClientID("app", "web"), srv.IdentityPoolID("ids"))
		}
		if want := "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Fixture1"; srv.Issuer("app") != want {
			t.Errorf("issuer %q", srv.Issuer("app"))
		}
		var doc struct {
			Keys []map[string]any `json:"keys"`
		}
		resp, err := http.Get(srv.JWKSURL("app"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || len(doc.Keys) != 2 {
			t.Errorf("JWKS: %v, %d keys", err, len(doc.Keys))
		}
		resp2, err := http.Get(srv.OpenIDConfigurationURL("app"))
		if err != nil || resp2.StatusCode != 200 {
			t.Errorf("OpenID configuration: %v", err)
		} else {
			resp2.Body.Close()
		}
	})
	if resp, err := http.Get(url + "/_emulator/clock"); err == nil {
		resp.Body.Close()
		t.Error("the emulator still answers after its test ended")
	}
}

// TestExampleStart runs the example's test.
func TestExampleStart(t *testing.T) { testSignIn(t) }
