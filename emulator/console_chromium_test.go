package emulator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/hostedui/browsertest"
)

const preSignUpConsoleARN = "arn:aws:lambda:us-east-1:123456789012:function:console-pre-sign-up"

// consoleServer is an emulator with a pool with a user, a group and a PreSignUp trigger run in
// process (so the trigger page has an invocation to show).
func consoleServer(t *testing.T) *emulator.Server {
	t.Helper()
	srv := emulator.NewServer(emulator.Options{
		Lambda: func(_ context.Context, _ string, event []byte) ([]byte, error) { return event, nil },
		Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
			Name:         "console",
			LambdaConfig: &emulator.LambdaConfig{PreSignUp: preSignUpConsoleARN},
			Clients:      []emulator.SeedClient{{Name: "web", ExplicitAuthFlows: []string{"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}}},
			Groups:       []emulator.SeedGroup{{Name: "admins"}},
			Users:        []emulator.SeedUser{{Username: "alice", Password: password, Attributes: map[string]string{"email": "alice@example.com"}}},
		}}}})
	t.Cleanup(srv.Close)
	return srv
}

// TestConsoleInChromium drives the console at /_emulator/ui/ in headless
// Chromium: pools, a user created, disabled, enabled, edited, put in a group,
// confirmed and reset through its forms; the inbox updating live as codes are
// sent; the tokens signed with their claims; trigger invocations; import jobs.
func TestConsoleInChromium(t *testing.T) {
	srv := consoleServer(t)
	b := browsertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	api, admin := sdk(srv), adminSDK(srv)
	pool, web := srv.PoolID("console"), srv.AppClient("console", "web").ID
	signIn(t, api, web, "alice", password) // a token for the tokens page
	if _, err := api.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(web), Username: aws.String("carol"), Password: aws.String("Correct-Horse-9")}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateUserImportJob(ctx, &cip.CreateUserImportJobInput{UserPoolId: aws.String(pool), JobName: aws.String("console-job"),
		CloudWatchLogsRoleArn: aws.String("arn:aws:iam::123456789012:role/CognitoImportRole")}); err != nil {
		t.Fatal(err)
	}

	page, err := b.Open(ctx, srv.URL+"/_emulator/ui/")
	if err != nil {
		t.Fatal(err)
	}
	wait := func(cond string) {
		t.Helper()
		if err := page.WaitFor(ctx, cond); err != nil {
			var html string
			_ = page.Eval(context.Background(), "location.href + ' ' + document.documentElement.outerHTML.slice(0, 3000)", &html)
			t.Fatalf("%v\npage: %s", err, html)
		}
	}
	js := func(expr string) {
		t.Helper()
		if err := page.Eval(ctx, expr, nil); err != nil {
			t.Fatal(err)
		}
	}
	wait(fmt.Sprintf(`document.querySelector("#pools a") && document.querySelector("#pools a").textContent === %q`, pool))
	js(`document.querySelector("#pools a").click()`)
	wait(`document.getElementById("users") && document.querySelector('#users tr[data-username="alice"]')`)
	wait(`document.querySelector("#groups").textContent.includes("admins") && document.querySelector(".jobs").textContent.includes("console-job")`)

	// Create a user through the form: AdminCreateUser sends the invitation.
	js(`document.getElementById("new-username").value = "bob"; document.getElementById("new-email").value = "bob@example.com"; document.getElementById("create-user-button").click()`)
	wait(`document.getElementById("flash") && document.getElementById("flash").textContent.includes("bob created")`)
	wait(`document.querySelector('#users tr[data-username="bob"] .status').textContent === "FORCE_CHANGE_PASSWORD"`)
	got, err := admin.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(pool), Username: aws.String("bob")})
	if err != nil || got.UserStatus != "FORCE_CHANGE_PASSWORD" {
		t.Fatalf("the console's new user: %v %+v", err, got)
	}

	// The user page: disable, enable, attributes, group.
	js(`document.querySelector('#users tr[data-username="bob"] a').click()`)
	wait(`document.getElementById("user-name") && document.getElementById("user-name").textContent === "bob"`)
	js(`document.getElementById("disable-button").click()`)
	wait(`document.getElementById("user-enabled") && document.getElementById("user-enabled").textContent === "false"`)
	js(`document.getElementById("enable-button").click()`)
	wait(`document.getElementById("user-enabled") && document.getElementById("user-enabled").textContent === "true" && document.getElementById("flash").textContent === "Enabled."`)
	js(`document.getElementById("attributes").value = "email=bob@example.com\nname=Bob Builder\ncustom:team=blue\n"; document.getElementById("save-attributes").click()`)
	wait(`document.getElementById("flash") && document.getElementById("flash").textContent === "Attributes saved."`)
	js(`document.getElementById("add-group-button").click()`)
	wait(`document.getElementById("user-groups") && document.getElementById("user-groups").textContent === "admins"`)
	got, err = admin.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(pool), Username: aws.String("bob")})
	if err != nil {
		t.Fatal(err)
	}
	attrs := map[string]string{}
	for _, a := range got.UserAttributes {
		attrs[aws.ToString(a.Name)] = aws.ToString(a.Value)
	}
	if attrs["name"] != "Bob Builder" || attrs["custom:team"] != "blue" || !got.Enabled {
		t.Errorf("after the console's edits: %v enabled=%v", attrs, got.Enabled)
	}
	groups, err := admin.AdminListGroupsForUser(ctx, &cip.AdminListGroupsForUserInput{UserPoolId: aws.String(pool), Username: aws.String("bob")})
	if err != nil || len(groups.Groups) != 1 || aws.ToString(groups.Groups[0].GroupName) != "admins" {
		t.Errorf("groups after the console: %v %+v", err, groups)
	}
	// A refused change shows Cognito's error: a malformed e-mail.
	js(`document.getElementById("attributes").value = "email=not-an-address\n"; document.getElementById("save-attributes").click()`)
	wait(`document.getElementById("flash") && document.getElementById("flash").className.includes("error") && document.getElementById("flash").textContent.includes("InvalidParameterException")`)

	// Confirm carol (signed up, unconfirmed) and reset alice.
	for _, step := range []struct{ user, button, status string }{{"carol", "confirm-button", "CONFIRMED"}, {"alice", "reset-button", "RESET_REQUIRED"}} {
		if err := page.Navigate(ctx, srv.URL+"/_emulator/ui/pools/"+pool+"/users/"+step.user); err != nil {
			t.Fatal(err)
		}
		wait(fmt.Sprintf(`document.getElementById("user-name") && document.getElementById("user-name").textContent === %q`, step.user))
		js(fmt.Sprintf(`document.getElementById(%q).click()`, step.button))
		wait(fmt.Sprintf(`document.getElementById("user-status") && document.getElementById("user-status").textContent === %q && document.getElementById("flash")`, step.status))
	}

	// The inbox is live: a code sent after the page loaded appears without a reload.
	if err := page.Navigate(ctx, srv.URL+"/_emulator/ui/inbox"); err != nil {
		t.Fatal(err)
	}
	wait(`document.getElementById("inbox") && document.getElementById("inbox").dataset.count !== undefined`)
	wait(`document.getElementById("inbox").textContent.includes("ADMIN_CREATE_USER") && document.getElementById("inbox").textContent.includes("bob@example.com")`)
	js(`window.__marker = "same page"`)
	if _, err := admin.AdminResetUserPassword(ctx, &cip.AdminResetUserPasswordInput{UserPoolId: aws.String(pool), Username: aws.String("bob")}); err != nil {
		t.Fatal(err)
	}
	code, ok := srv.LastCode(pool, "bob")
	if !ok {
		t.Fatal("no code for bob")
	}
	wait(fmt.Sprintf(`window.__marker === "same page" && [...document.querySelectorAll("#inbox .code")].some(td => td.textContent === %q)`, code))

	// Tokens signed, with decoded claims.
	if err := page.Navigate(ctx, srv.URL+"/_emulator/ui/tokens"); err != nil {
		t.Fatal(err)
	}
	wait(`document.getElementById("tokens") && [...document.querySelectorAll("#tokens .claims")].some(p => JSON.parse(p.textContent)["cognito:username"] === "alice")`)
	var uses []string
	if err := page.Eval(ctx, `[...document.querySelectorAll("#tokens .token-use")].map(td => td.textContent)`, &uses); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(uses, "access") || !slices.Contains(uses, "id") {
		t.Errorf("token uses %v", uses)
	}
	text, _ := page.Text(ctx)
	if strings.Contains(text, "eyJ") {
		t.Error("the tokens page shows a signed token")
	}

	// Trigger invocations with their event.
	if err := page.Navigate(ctx, srv.URL+"/_emulator/ui/triggers"); err != nil {
		t.Fatal(err)
	}
	wait(`document.getElementById("invocations") && document.getElementById("invocations").textContent.includes("PreSignUp_SignUp") && document.getElementById("invocations").textContent.includes("carol")`)

	// Import jobs.
	if err := page.Navigate(ctx, srv.URL+"/_emulator/ui/imports"); err != nil {
		t.Fatal(err)
	}
	wait(`document.querySelector("#imports .job-status") && document.querySelector("#imports .job-status").textContent === "Created"`)
}

// TestConsoleRefusesOtherSites: the console has the admin endpoint's
// protection: a foreign Host (DNS rebinding) and another site's form are refused,
// and nothing changes.
func TestConsoleRefusesOtherSites(t *testing.T) {
	srv := consoleServer(t)
	pool := srv.PoolID("console")
	post := func(host, origin, site string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/_emulator/ui/pools/"+pool+"/users/alice/disable", strings.NewReader(""))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if host != "" {
			req.Host = host
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if site != "" {
			req.Header.Set("Sec-Fetch-Site", site)
		}
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for name, c := range map[string][3]string{
		"foreign host":       {"cognito.attacker.example", "", ""},
		"foreign origin":     {"", "http://attacker.example", ""},
		"cross-site request": {"", "", "cross-site"},
	} {
		if got := post(c[0], c[1], c[2]); got != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", name, got)
		}
	}
	u, err := adminSDK(srv).AdminGetUser(context.Background(), &cip.AdminGetUserInput{UserPoolId: aws.String(pool), Username: aws.String("alice")})
	if err != nil || !u.Enabled {
		t.Fatalf("alice after refused requests: %v enabled=%v", err, u != nil && u.Enabled)
	}
	if got := post("", srv.URL, "same-origin"); got != http.StatusSeeOther {
		t.Errorf("the console's own form: status %d, want 303", got)
	}
	resp, err := http.Get(srv.URL + "/_emulator/ui/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
	var inbox struct{ Messages []json.RawMessage }
	resp, err = http.Get(srv.URL + "/_emulator/ui/inbox.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&inbox); err != nil {
		t.Fatal(err)
	}
}
