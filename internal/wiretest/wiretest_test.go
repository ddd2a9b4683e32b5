package wiretest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/cogauth/cogauth/internal/wiretest"
)

func TestRecorder(t *testing.T) {
	var gotBodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		gotBodies = append(gotBodies, string(b))
	}))
	t.Cleanup(srv.Close)

	reqs := []struct{ target, body string }{
		{"AWSCognitoIdentityProviderService.InitiateAuth", `{"AuthFlow":"USER_SRP_AUTH","AuthParameters":{"USERNAME":"alice"}}`},
		{"AWSCognitoIdentityProviderService.RespondToAuthChallenge", `{"ChallengeName":"PASSWORD_VERIFIER"}`},
		{"AWSCognitoIdentityProviderService.InitiateAuth", `{"AuthFlow":"REFRESH_TOKEN_AUTH","AuthParameters":{"DEVICE_KEY":"k"}}`},
		{"AWSCognitoIdentityProviderService.ConfirmDevice", `{"DeviceKey":"k"}`},
		{"AWSCognitoIdentityProviderService.GetUser", `not json`},
		{"", ``},
	}
	tests := []struct {
		name       string
		markDevice bool
		want       []string
	}{
		{"plain", false, []string{"InitiateAuth", "RespondToAuthChallenge:PASSWORD_VERIFIER", "InitiateAuth", "ConfirmDevice", "GetUser", ""}},
		{"mark device", true, []string{"InitiateAuth", "RespondToAuthChallenge:PASSWORD_VERIFIER", "InitiateAuth+device", "ConfirmDevice+device", "GetUser", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotBodies = nil
			rec := &wiretest.Recorder{MarkDevice: tt.markDevice}
			for _, r := range reqs {
				req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(r.body))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("X-Amz-Target", r.target)
				resp, err := rec.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			}
			if got := rec.Take(); !slices.Equal(got, tt.want) {
				t.Fatalf("Take() = %q, want %q", got, tt.want)
			}
			if got := rec.Take(); got != nil {
				t.Fatalf("second Take() = %q, want nothing", got)
			}
			// The body must reach the server as sent.
			for i, r := range reqs {
				if gotBodies[i] != r.body {
					t.Fatalf("server saw body %q, want %q", gotBodies[i], r.body)
				}
			}
		})
	}
}
