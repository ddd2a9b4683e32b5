package emulator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"

	"github.com/cogauth/cogauth/emulator"
)

func TestFaultInjection(t *testing.T) {
	srv, _ := newTestServer(t)
	web := srv.AppClient("app", "web").ID
	params := map[string]any{"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": web,
		"AuthParameters": map[string]string{"USERNAME": "alice", "PASSWORD": password}}

	srv.InjectFault("InitiateAuth", emulator.Fault{ErrName: "TooManyRequestsException", Message: "Rate exceeded"})
	_, ae := call(t, srv, "InitiateAuth", params)
	wantErr(t, ae, "TooManyRequestsException", "Rate exceeded")

	srv.InjectFault("InitiateAuth", emulator.Fault{ErrName: "InternalErrorException", Status: 500})
	_, ae = call(t, srv, "InitiateAuth", params)
	if ae == nil || ae.Status != 500 || ae.Type != "InternalErrorException" {
		t.Fatalf("500 fault: %+v", ae)
	}

	srv.InjectFault("AWSCognitoIdentityProviderService.InitiateAuth", emulator.Fault{Drop: true})
	body, _ := json.Marshal(params)
	req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
	req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService.InitiateAuth")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("dropped connection answered")
	}

	// Latency is real time (it stands for the network), so keep it tiny and only
	// check that the context deadline of the caller is honoured.
	srv.InjectFault("InitiateAuth", emulator.Fault{Latency: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := sdk(srv).InitiateAuth(ctx, &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeUserPasswordAuth, ClientId: aws.String(web),
		AuthParameters: map[string]string{"USERNAME": "alice", "PASSWORD": password}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("latency fault: %v", err)
	}

	srv.InjectFault("InitiateAuth", emulator.Fault{})
	mustCall(t, srv, "InitiateAuth", params)
	if n := srv.Requests("InitiateAuth"); n != 5 {
		t.Fatalf("InitiateAuth counter %d, want 5", n)
	}
}

func TestFaultRate(t *testing.T) {
	srv, _ := newTestServer(t)
	srv.InjectFault("DescribeUserPool", emulator.Fault{ErrName: "TooManyRequestsException", Rate: 0.5})
	failed := 0
	const n = 200
	for range n {
		if _, ae := call(t, srv, "DescribeUserPool", map[string]string{"UserPoolId": srv.PoolID("app")}); ae != nil {
			failed++
		}
	}
	// Binomial(200, 0.5): outside [60, 140] has probability below 1e-8.
	if failed < 60 || failed > 140 {
		t.Fatalf("%d of %d failed at rate 0.5", failed, n)
	}
}

func TestSDKTypedErrors(t *testing.T) {
	srv, _ := newTestServer(t)
	c := sdk(srv)
	ctx := context.Background()
	_, err := c.InitiateAuth(ctx, &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		ClientId: aws.String(srv.AppClient("app", "web").ID), AuthParameters: map[string]string{"USERNAME": "nobody", "PASSWORD": "x"}})
	var unf *types.UserNotFoundException
	if !errors.As(err, &unf) {
		t.Fatalf("unknown user: %v", err)
	}
	_, err = c.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String("us-east-1_missing")})
	var rnf *types.ResourceNotFoundException
	if !errors.As(err, &rnf) {
		t.Fatalf("missing pool: %v", err)
	}
	srv.InjectFault("GetUser", emulator.Fault{ErrName: "TooManyRequestsException"})
	_, err = c.GetUser(ctx, &cip.GetUserInput{AccessToken: aws.String("x")})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "TooManyRequestsException" {
		t.Fatalf("throttled: %v", err)
	}
}

func TestAdminEndpoint(t *testing.T) {
	srv, clk := newTestServer(t)
	do := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+"/_emulator/"+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out := map[string]any{}
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	if st, out := do("POST", "clock", `{"advance":"2h"}`); st != 200 || out["now"] != t0.Add(2*time.Hour).Format(time.RFC3339Nano) {
		t.Fatalf("advance: %d %v", st, out)
	}
	if got := srv.Now(); !got.Equal(t0.Add(2 * time.Hour)) {
		t.Fatalf("emulator clock %v", got)
	}
	clk.Advance(time.Minute) // the base clock still moves underneath
	if st, out := do("GET", "clock", ""); st != 200 || out["now"] != t0.Add(2*time.Hour+time.Minute).Format(time.RFC3339Nano) {
		t.Fatalf("clock: %d %v", st, out)
	}
	if st, _ := do("POST", "clock", `{"set":"2030-01-01T00:00:00Z"}`); st != 200 || srv.Now().Year() != 2030 {
		t.Fatalf("set: %d %v", st, srv.Now())
	}
	if st, _ := do("POST", "clock", `{"set":"x","advance":"1h"}`); st != 400 {
		t.Fatalf("both set and advance: %d", st)
	}

	if st, _ := do("PUT", "faults/GetUser", `{"errName":"TooManyRequestsException","rate":1}`); st != 204 {
		t.Fatalf("fault put: %d", st)
	}
	_, ae := call(t, srv, "GetUser", map[string]string{"AccessToken": "x"})
	wantErr(t, ae, "TooManyRequestsException", "")
	do("DELETE", "faults", "")
	_, ae = call(t, srv, "GetUser", map[string]string{"AccessToken": "x"})
	wantErr(t, ae, "NotAuthorizedException", "")

	_, out := do("GET", "requests", "")
	if reqs, _ := out["requests"].(map[string]any); reqs["GetUser"] != float64(2) {
		t.Fatalf("requests: %v", out)
	}

	pool, web := srv.PoolID("app"), srv.AppClient("app", "web").ID
	mustCall(t, srv, "SignUp", map[string]any{"ClientId": web, "Username": "dave", "Password": password,
		"UserAttributes": []map[string]string{{"Name": "email", "Value": "dave@example.com"}}})
	_, out = do("GET", "codes?poolId="+pool+"&username=dave", "")
	msgs, _ := out["messages"].([]any)
	if len(msgs) != 1 {
		t.Fatalf("codes: %v", out)
	}
	code := msgs[0].(map[string]any)["code"].(string)
	_, ae = call(t, srv, "ConfirmSignUp", map[string]string{"ClientId": web, "Username": "dave", "ConfirmationCode": "000000x"})
	wantErr(t, ae, "CodeMismatchException", "")
	mustCall(t, srv, "ConfirmSignUp", map[string]string{"ClientId": web, "Username": "dave", "ConfirmationCode": code})
	signIn(t, sdk(srv), web, "dave", password)
}

func TestAdminEndpointLoopbackOnly(t *testing.T) {
	e, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		remote string
		want   int
	}{{"192.0.2.7:5555", 403}, {"[::1]:5555", 200}, {"127.0.0.1:1", 200}} {
		req, _ := http.NewRequest("GET", "/_emulator/clock", nil)
		req.RemoteAddr = tt.remote
		rec := newRecorder()
		e.ServeHTTP(rec, req)
		if rec.code != tt.want {
			t.Errorf("from %s: %d, want %d", tt.remote, rec.code, tt.want)
		}
	}
}

// TestAdminEndpointRefusesBrowsers: a loopback request addressed to a foreign
// host name (DNS rebinding) or sent by a page of another origin (CSRF) is
// refused; tools that send neither header, and same-origin pages, are not.
func TestAdminEndpointRefusesBrowsers(t *testing.T) {
	srv := emulator.NewServer(emulator.Options{})
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	_, port, _ := net.SplitHostPort(host)
	for _, tt := range []struct {
		name    string
		host    string
		headers map[string]string
		want    int
	}{
		{"plain tool", host, nil, 200},
		{"localhost name", "localhost:" + port, nil, 200},
		{"rebinding name", "attacker.example:" + port, nil, 403},
		{"rebinding name, no port", "attacker.example", nil, 403},
		{"same-origin page", host, map[string]string{"Origin": srv.URL, "Sec-Fetch-Site": "same-origin"}, 200},
		{"cross-origin page", host, map[string]string{"Origin": "https://attacker.example"}, 403},
		{"null origin", host, map[string]string{"Origin": "null"}, 403},
		{"other loopback port", host, map[string]string{"Origin": "http://127.0.0.1:1"}, 403},
		{"cross-site fetch", host, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"same-site fetch", host, map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
		{"typed into the address bar", host, map[string]string{"Sec-Fetch-Site": "none"}, 200},
	} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			req, _ := http.NewRequest(method, srv.URL+"/_emulator/clock", strings.NewReader(`{"advance":"1s"}`))
			req.Host = tt.host
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("%s %s: %d, want %d", method, tt.name, resp.StatusCode, tt.want)
			}
		}
	}
}

// TestUnknownTargetsShareOneCounter: request counters do not grow with the
// number of distinct unknown X-Amz-Target values.
func TestUnknownTargetsShareOneCounter(t *testing.T) {
	srv := emulator.NewServer(emulator.Options{})
	t.Cleanup(srv.Close)
	for i := range 50 {
		_, ae := call(t, srv, fmt.Sprintf("NoSuchOperation%d", i), map[string]string{})
		wantErr(t, ae, "UnknownOperationException", "")
	}
	call(t, srv, "ListUserPools", map[string]int{"MaxResults": 10})
	counts := srv.RequestCounts()
	if len(counts) != 2 || counts["(unknown)"] != 50 || counts["ListUserPools"] != 1 {
		t.Errorf("counters %v", counts)
	}
}

func TestStateFileSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	srv := emulator.NewServer(emulator.Options{Seed: testSeed(), StateFile: path, Clock: newFake()})
	web := srv.AppClient("app", "web").ID
	tok := signIn(t, sdk(srv), web, "alice", password)
	srv.Close()

	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v %v", fi, err)
	}
	again := emulator.NewServer(emulator.Options{StateFile: path, Clock: newFake()})
	defer again.Close()
	c := sdk(again)
	if _, err := c.GetUser(context.Background(), &cip.GetUserInput{AccessToken: tok.AccessToken}); err != nil {
		t.Fatalf("access token after restart: %v", err)
	}
	if _, err := c.InitiateAuth(context.Background(), &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeRefreshTokenAuth,
		ClientId: aws.String(web), AuthParameters: map[string]string{"REFRESH_TOKEN": *tok.RefreshToken}}); err != nil {
		t.Fatalf("refresh after restart: %v", err)
	}
	signIn(t, c, web, "alice", password)
	data, _ := os.ReadFile(path)
	if bytes.Contains(data, []byte(*tok.RefreshToken)) || bytes.Contains(data, []byte(password)) {
		t.Fatal("state file holds a refresh token or a password in clear")
	}
}

func TestParseSeedRejectsTypos(t *testing.T) {
	if _, err := emulator.ParseSeed([]byte(`{"userPools":[{"name":"a","clients":[{"name":"c","acessTokenValidity":"1h"}]}]}`)); err == nil {
		t.Fatal("typo accepted")
	}
	s, err := emulator.ParseSeed([]byte(`{"userPools":[{"name":"a","clients":[{"name":"c","accessTokenValidity":"10m","refreshTokenValidity":7200}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if c := s.UserPools[0].Clients[0]; time.Duration(c.AccessTokenValidity) != 10*time.Minute || time.Duration(c.RefreshTokenValidity) != 2*time.Hour {
		t.Fatalf("durations %+v", c)
	}
}

func TestShortLifetimesOnlyWhenAllowed(t *testing.T) {
	seed := &emulator.Seed{UserPools: []emulator.SeedUserPool{{Name: "p", Clients: []emulator.SeedClient{{Name: "c", AccessTokenValidity: emulator.Duration(30 * time.Second)}}}}}
	if _, err := emulator.New(emulator.Options{Seed: seed}); err == nil {
		t.Fatal("30 s access token accepted without AllowShortLifetimes")
	}
	e, err := emulator.New(emulator.Options{Seed: seed, AllowShortLifetimes: true})
	if err != nil {
		t.Fatal(err)
	}
	if e.Seeded().UserPools["p"].Clients["c"].ID == "" {
		t.Fatal("no client")
	}
}

func TestBoto3StyleSetupOps(t *testing.T) {
	srv, _ := newTestServer(t)
	c := sdk(srv)
	ctx := context.Background()
	pool, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("p2"), UsernameAttributes: []types.UsernameAttributeType{types.UsernameAttributeTypeEmail}})
	if err != nil {
		t.Fatal(err)
	}
	id := pool.UserPool.Id
	cl, err := c.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: id, ClientName: aws.String("c"), GenerateSecret: true,
		ExplicitAuthFlows:   []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserPasswordAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
		AccessTokenValidity: aws.Int32(15), TokenValidityUnits: &types.TokenValidityUnitsType{AccessToken: types.TimeUnitsTypeMinutes}})
	if err != nil {
		t.Fatal(err)
	}
	if cl.UserPoolClient.ClientSecret == nil || *cl.UserPoolClient.AccessTokenValidity != 15 {
		t.Fatalf("client %+v", cl.UserPoolClient)
	}
	if _, err := c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: id, Username: aws.String("erin@example.com"), MessageAction: types.MessageActionTypeSuppress}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: id, Username: aws.String("erin@example.com"), Password: aws.String(password), Permanent: true}); err != nil {
		t.Fatal(err)
	}
	u, err := c.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: id, Username: aws.String("erin@example.com")})
	if err != nil || u.UserStatus != types.UserStatusTypeConfirmed {
		t.Fatalf("AdminGetUser %v %v", u, err)
	}
	list, err := c.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: id, Filter: aws.String(`email = "erin@example.com"`)})
	if err != nil || len(list.Users) != 1 {
		t.Fatalf("ListUsers %v %v", list, err)
	}
	pools, err := c.ListUserPools(ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(1)})
	if err != nil || len(pools.UserPools) != 1 || pools.NextToken == nil {
		t.Fatalf("ListUserPools page 1: %v %v", pools, err)
	}
	pools, err = c.ListUserPools(ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(1), NextToken: pools.NextToken})
	if err != nil || len(pools.UserPools) != 1 || pools.NextToken != nil {
		t.Fatalf("ListUserPools page 2: %v %v", pools, err)
	}
	if _, err := c.DeleteUserPool(ctx, &cip.DeleteUserPoolInput{UserPoolId: id}); err != nil {
		t.Fatal(err)
	}
}

// TestListPaging pages through users (filtered), groups and clients two at a time:
// every entry once, in name order, with the token only while more follow.
func TestListPaging(t *testing.T) {
	var users []emulator.SeedUser
	for _, n := range []string{"ann", "bea", "cid", "dan", "eve"} {
		domain := "a.example"
		if n == "cid" {
			domain = "b.example"
		}
		users = append(users, emulator.SeedUser{Username: n, Password: password, Attributes: map[string]string{"email": n + "@" + domain, "name": n}})
	}
	srv := emulator.NewServer(emulator.Options{Clock: newFake(), Seed: &emulator.Seed{UserPools: []emulator.SeedUserPool{{
		Name:    "p",
		Clients: []emulator.SeedClient{{Name: "c1", ID: "client1"}, {Name: "c2", ID: "client2"}, {Name: "c3", ID: "client3"}},
		Groups:  []emulator.SeedGroup{{Name: "g1"}, {Name: "g2"}, {Name: "g3"}, {Name: "g4"}},
		Users:   users,
	}}}})
	defer srv.Close()
	pool := srv.PoolID("p")
	for _, tc := range []struct {
		op, list, item, token string
		in                    map[string]any
		want                  []string
	}{
		{"ListUsers", "Users", "Username", "PaginationToken",
			map[string]any{"Filter": `email ^= ""`, "Limit": 2, "AttributesToGet": []string{"name"}},
			[]string{"ann", "bea", "cid", "dan", "eve"}},
		{"ListUsers", "Users", "Username", "PaginationToken",
			map[string]any{"Limit": 2}, []string{"ann", "bea", "cid", "dan", "eve"}},
		{"ListGroups", "Groups", "GroupName", "NextToken", map[string]any{"Limit": 2}, []string{"g1", "g2", "g3", "g4"}},
		{"ListUserPoolClients", "UserPoolClients", "ClientId", "NextToken", map[string]any{"MaxResults": 2}, []string{"client1", "client2", "client3"}},
	} {
		t.Run(tc.op, func(t *testing.T) {
			var got []string
			in := map[string]any{"UserPoolId": pool}
			for k, v := range tc.in {
				in[k] = v
			}
			for page := 0; ; page++ {
				out := mustCall(t, srv, tc.op, in)
				items, _ := out[tc.list].([]any)
				if len(items) > 2 {
					t.Fatalf("page %d has %d entries, limit 2", page, len(items))
				}
				for _, it := range items {
					m := it.(map[string]any)
					got = append(got, m[tc.item].(string))
					if attrs, ok := m["Attributes"].([]any); ok && tc.in["AttributesToGet"] != nil && len(attrs) != 1 {
						t.Errorf("AttributesToGet [name]: %v", attrs)
					}
				}
				next, more := out[tc.token].(string)
				if !more {
					break
				}
				in[tc.token] = next
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("paged %v, want %v", got, tc.want)
			}
		})
	}
	// A filter narrows before paging: one page, no token.
	out := mustCall(t, srv, "ListUsers", map[string]any{"UserPoolId": pool, "Filter": `email = "cid@b.example"`, "Limit": 2})
	if items := out["Users"].([]any); len(items) != 1 || out["PaginationToken"] != nil {
		t.Fatalf("filtered list %v", out)
	}
}
