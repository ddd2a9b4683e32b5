package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

const profiles = `
[profiles.default]
user_pool_id = "eu-west-1_Prof"
client_id = "profclient"
store = "file"

[profiles.work]
user_pool_id = "us-west-2_Work"
client_id = "workclient"
client_secret = "worksecret"
endpoint = "http://127.0.0.1:9229"
`

const gen2 = `{"version":"1","auth":{"aws_region":"ap-south-1","user_pool_id":"ap-south-1_Amp","user_pool_client_id":"ampclient","identity_pool_id":"ap-south-1:1111"}}`

func TestResolvePrecedence(t *testing.T) {
	home := t.TempDir()
	work := t.TempDir()
	writeFile(t, ConfigPath(home), profiles)
	writeFile(t, filepath.Join(work, "amplify_outputs.json"), gen2)

	tests := []struct {
		name    string
		in      Input
		env     map[string]string
		want    Values
		profile string
		src     map[string]Source
	}{
		{
			name: "amplify under default profile",
			env:  map[string]string{"COGAUTH_HOME": home},
			want: Values{Region: "eu-west-1", UserPoolID: "eu-west-1_Prof", ClientID: "profclient", IdentityPoolID: "ap-south-1:1111", Store: "file"},
			src:  map[string]Source{"user-pool-id": FromProfile, "identity-pool-id": FromAmplify, "region": FromDefault},
		},
		{
			name: "env over profile",
			env:  map[string]string{"COGAUTH_HOME": home, "COGAUTH_CLIENT_ID": "envclient", "COGAUTH_STORE": "memory"},
			want: Values{Region: "eu-west-1", UserPoolID: "eu-west-1_Prof", ClientID: "envclient", IdentityPoolID: "ap-south-1:1111", Store: "memory"},
			src:  map[string]Source{"client-id": FromEnv, "store": FromEnv},
		},
		{
			name: "flag over env",
			in:   Input{Flags: Values{ClientID: "flagclient", Region: "us-east-2"}},
			env:  map[string]string{"COGAUTH_HOME": home, "COGAUTH_CLIENT_ID": "envclient"},
			want: Values{Region: "us-east-2", UserPoolID: "eu-west-1_Prof", ClientID: "flagclient", IdentityPoolID: "ap-south-1:1111", Store: "file"},
			src:  map[string]Source{"client-id": FromFlag, "region": FromFlag},
		},
		{
			name:    "profile from env",
			env:     map[string]string{"COGAUTH_HOME": home, "COGAUTH_PROFILE": "work"},
			profile: "work",
			want:    Values{Region: "us-west-2", UserPoolID: "us-west-2_Work", ClientID: "workclient", ClientSecret: "worksecret", IdentityPoolID: "ap-south-1:1111", Endpoint: "http://127.0.0.1:9229", Store: "keyring"},
			src:     map[string]Source{"region": FromDefault, "store": FromDefault},
		},
		{
			name:    "profile flag over env",
			in:      Input{Profile: "default"},
			env:     map[string]string{"COGAUTH_HOME": home, "COGAUTH_PROFILE": "work"},
			profile: "default",
			want:    Values{Region: "eu-west-1", UserPoolID: "eu-west-1_Prof", ClientID: "profclient", IdentityPoolID: "ap-south-1:1111", Store: "file"},
		},
		{
			name: "region from the pool when nothing names it",
			in:   Input{AmplifyConfig: filepath.Join(home, "none.json")},
			env:  map[string]string{"COGAUTH_HOME": t.TempDir(), "COGAUTH_USER_POOL_ID": "ca-central-1_X"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			in.Getenv = env(tt.env)
			in.WorkDir = work
			c, err := Resolve(in)
			if tt.name == "region from the pool when nothing names it" {
				// An --amplify-config that does not exist is an error, not a fallthrough.
				if err == nil {
					t.Fatal("missing --amplify-config file accepted")
				}
				in.AmplifyConfig = ""
				in.WorkDir = t.TempDir()
				c, err = Resolve(in)
				if err != nil {
					t.Fatal(err)
				}
				if c.Region != "ca-central-1" || c.Sources["region"] != FromDefault || c.Store != StoreKeyring {
					t.Fatalf("got region %q (%s), store %q", c.Region, c.Sources["region"], c.Store)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Values != tt.want {
				t.Fatalf("values\n got %+v\nwant %+v", c.Values, tt.want)
			}
			wantProfile := tt.profile
			if wantProfile == "" {
				wantProfile = DefaultProfile
			}
			if c.Profile != wantProfile || c.Home != home {
				t.Fatalf("profile %q home %q", c.Profile, c.Home)
			}
			for k, v := range tt.src {
				if c.Sources[k] != v {
					t.Errorf("source of %s = %q, want %q", k, c.Sources[k], v)
				}
			}
		})
	}
}

// TestResolveHostedUI: the hosted UI domain and scopes come through the same
// layers as every setting, bare host names get https://, and Amplify's apply only
// to Amplify's own pool (domain) and app client (scopes).
func TestResolveHostedUI(t *testing.T) {
	home := t.TempDir()
	writeFile(t, ConfigPath(home), `
[profiles.default]
user_pool_id = "us-east-1_Amp"
client_id = "ampclient"

[profiles.hosted]
user_pool_id = "us-east-1_Prof"
client_id = "profclient"
domain = "https://login.example.com/"
scopes = "openid email"

[profiles.otherclient]
user_pool_id = "us-east-1_Amp"
client_id = "otherclient"

[profiles.otherpool]
user_pool_id = "us-east-1_Else"
client_id = "ampclient"
`)
	work := t.TempDir()
	writeFile(t, filepath.Join(work, "amplify_outputs.json"), `{"auth":{"user_pool_id":"us-east-1_Amp","user_pool_client_id":"ampclient",
		"oauth":{"domain":"amp.auth.us-east-1.amazoncognito.com","scopes":["openid","aws.cognito.signin.user.admin"]}}}`)
	tests := []struct {
		name, profile  string
		flags          Values
		env            map[string]string
		domain, scopes string
		src            map[string]Source
	}{
		{name: "from amplify, bare host made https", profile: "default",
			domain: "https://amp.auth.us-east-1.amazoncognito.com", scopes: "openid,aws.cognito.signin.user.admin",
			src: map[string]Source{"domain": FromAmplify, "scopes": FromAmplify}},
		{name: "profile over amplify, trailing slash dropped", profile: "hosted",
			domain: "https://login.example.com", scopes: "openid email", src: map[string]Source{"domain": FromProfile, "scopes": FromProfile}},
		{name: "env over profile", profile: "hosted", env: map[string]string{"COGAUTH_DOMAIN": "http://127.0.0.1:9229", "COGAUTH_SCOPES": "openid"},
			domain: "http://127.0.0.1:9229", scopes: "openid", src: map[string]Source{"domain": FromEnv, "scopes": FromEnv}},
		{name: "flag over env", profile: "hosted", flags: Values{Domain: "custom.example.org"}, env: map[string]string{"COGAUTH_DOMAIN": "http://127.0.0.1:9229"},
			domain: "https://custom.example.org", scopes: "openid email", src: map[string]Source{"domain": FromFlag}},
		{name: "amplify's scopes are not another client's", profile: "otherclient",
			domain: "https://amp.auth.us-east-1.amazoncognito.com", scopes: "", src: map[string]Source{"domain": FromAmplify, "scopes": ""}},
		{name: "amplify's domain is not another pool's", profile: "otherpool",
			domain: "", scopes: "", src: map[string]Source{"domain": "", "scopes": ""}},
		{name: "another pool by flag", profile: "default", flags: Values{UserPoolID: "us-east-1_Flag"},
			domain: "", scopes: "", src: map[string]Source{"domain": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := map[string]string{"COGAUTH_HOME": home}
			for k, v := range tt.env {
				e[k] = v
			}
			c, err := Resolve(Input{Flags: tt.flags, Profile: tt.profile, Getenv: env(e), WorkDir: work})
			if err != nil {
				t.Fatal(err)
			}
			if c.Domain != tt.domain || c.Scopes != tt.scopes {
				t.Fatalf("domain %q scopes %q, want %q %q", c.Domain, c.Scopes, tt.domain, tt.scopes)
			}
			for k, v := range tt.src {
				if c.Sources[k] != v {
					t.Errorf("source of %s = %q, want %q", k, c.Sources[k], v)
				}
			}
		})
	}
}

func TestScopeList(t *testing.T) {
	for in, want := range map[string]string{
		"":                            "",
		"openid":                      "openid",
		"openid,email":                "openid|email",
		" openid, email  profile,, ":  "openid|email|profile",
		"res.example.com/read\tphone": "res.example.com/read|phone",
	} {
		if got := strings.Join(ScopeList(in), "|"); got != want {
			t.Errorf("ScopeList(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestResolveHome(t *testing.T) {
	c, err := Resolve(Input{Getenv: env(nil), UserHome: "/home/u"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Home != "/home/u/.config/cogauth" {
		t.Fatalf("home = %q", c.Home)
	}
	c, err = Resolve(Input{Getenv: env(map[string]string{"XDG_CONFIG_HOME": "/x"}), UserHome: "/home/u"})
	if err != nil || c.Home != "/x/cogauth" {
		t.Fatalf("home = %q, %v", c.Home, err)
	}
	if _, err := Resolve(Input{Getenv: env(nil)}); err == nil {
		t.Fatal("no home and no COGAUTH_HOME accepted")
	}
}

func TestResolveErrors(t *testing.T) {
	home := t.TempDir()
	writeFile(t, ConfigPath(home), profiles)
	bad := t.TempDir()
	writeFile(t, ConfigPath(bad), "[profiles.default]\nuser_pool = \"typo\"\n")
	tests := []struct {
		name  string
		in    Input
		env   map[string]string
		usage bool
		want  string
	}{
		{"unknown profile", Input{Profile: "nope"}, map[string]string{"COGAUTH_HOME": home}, true, `profile "nope" not found`},
		{"bad profile name", Input{Profile: "../x"}, map[string]string{"COGAUTH_HOME": home}, true, "invalid profile name"},
		{"bad store", Input{Flags: Values{Store: "redis"}}, map[string]string{"COGAUTH_HOME": home}, true, `unknown session store "redis"`},
		{"bad endpoint", Input{Flags: Values{Endpoint: "localhost:9229"}}, map[string]string{"COGAUTH_HOME": home}, true, "--endpoint must be an http(s) URL"},
		{"bad pool", Input{Flags: Values{UserPoolID: "nopool"}}, map[string]string{"COGAUTH_HOME": home}, true, "not of the form"},
		{"bad domain", Input{}, map[string]string{"COGAUTH_HOME": home, "COGAUTH_DOMAIN": "ftp://auth.example.com"}, true, "--domain must be an http(s) URL"},
		{"domain with a query", Input{Flags: Values{Domain: "https://auth.example.com/?x=1"}}, map[string]string{"COGAUTH_HOME": home}, true, "--domain must be an http(s) URL"},
		{"typo in config", Input{}, map[string]string{"COGAUTH_HOME": bad}, false, "unknown keys: profiles.default.user_pool"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Getenv = env(tt.env)
			_, err := Resolve(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			var ue *UsageError
			if errors.As(err, &ue) != tt.usage {
				t.Fatalf("usage error = %v, want %v", !tt.usage, tt.usage)
			}
		})
	}
}

func TestRequire(t *testing.T) {
	c := &Config{Profile: "dev", Values: Values{UserPoolID: "us-east-1_X"}}
	if err := c.Require("user-pool-id"); err != nil {
		t.Fatal(err)
	}
	err := c.Require("user-pool-id", "client-id")
	var ue *UsageError
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v, want UsageError", err)
	}
	for _, want := range []string{"--client-id", "COGAUTH_CLIENT_ID", `"dev"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not name %s", err, want)
		}
	}
}

func TestRegionOf(t *testing.T) {
	for id, want := range map[string]string{
		"us-east-1_AbC":         "us-east-1",
		"us-gov-west-1_X":       "us-gov-west-1",
		"eu-west-1:0000-1111":   "eu-west-1",
		"local_pool":            "",
		"_x":                    "",
		"":                      "",
		"US-EAST-1_X":           "",
		"ap-southeast-2_abc_de": "ap-southeast-2",
	} {
		if got := RegionOf(id); got != want {
			t.Errorf("RegionOf(%q) = %q, want %q", id, got, want)
		}
	}
}

func TestFileSaveRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "home", "config.toml")
	f := &File{Profiles: map[string]Profile{
		"default":  {Values: Values{UserPoolID: "us-east-1_A", ClientID: "c", ClientSecret: `s"e\cret`, Domain: "https://login.example.com", Scopes: "openid email"}},
		"team.dev": {Values: Values{Endpoint: "http://127.0.0.1:1"}, AmplifyConfig: "/x/amplify_outputs.json"},
	}}
	if err := f.Save(path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v", fi.Mode(), err)
	}
	di, err := os.Stat(filepath.Dir(path))
	if err != nil || di.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode %v, %v", di.Mode(), err)
	}
	g, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Profiles) != 2 || g.Profiles["default"] != f.Profiles["default"] || g.Profiles["team.dev"] != f.Profiles["team.dev"] {
		t.Fatalf("round trip: %+v", g.Profiles)
	}
}

func TestParseAmplify(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Values
		err  bool
	}{
		{"gen2", gen2, Values{Region: "ap-south-1", UserPoolID: "ap-south-1_Amp", ClientID: "ampclient", IdentityPoolID: "ap-south-1:1111"}, false},
		{"aws-exports", `{"aws_project_region":"us-east-1","aws_cognito_region":"eu-central-1","aws_user_pools_id":"eu-central-1_G1","aws_user_pools_web_client_id":"g1client","aws_cognito_identity_pool_id":"eu-central-1:22"}`,
			Values{Region: "eu-central-1", UserPoolID: "eu-central-1_G1", ClientID: "g1client", IdentityPoolID: "eu-central-1:22"}, false},
		{"aws-exports project region only", `{"aws_project_region":"us-east-2","aws_user_pools_id":"us-east-2_G"}`, Values{Region: "us-east-2", UserPoolID: "us-east-2_G"}, false},
		{"v6 resources config", `{"Auth":{"Cognito":{"userPoolId":"sa-east-1_V6","userPoolClientId":"v6c","identityPoolId":"sa-east-1:33"}}}`,
			Values{Region: "sa-east-1", UserPoolID: "sa-east-1_V6", ClientID: "v6c", IdentityPoolID: "sa-east-1:33"}, false},
		{"identity pool only", `{"aws_cognito_identity_pool_id":"us-west-1:44"}`, Values{Region: "us-west-1", IdentityPoolID: "us-west-1:44"}, false},
		{"unrelated json", `{"name":"my-app","version":"1.0.0"}`, Values{}, true},
		{"not json", `export default {}`, Values{}, true},
		{"wrong types", `{"auth":{"user_pool_id":7}}`, Values{}, true},
		{"gen2 oauth", `{"auth":{"user_pool_id":"us-east-1_O","user_pool_client_id":"oc","oauth":{"domain":"app.auth.us-east-1.amazoncognito.com","scopes":["openid","email"],"response_type":"code"}}}`,
			Values{Region: "us-east-1", UserPoolID: "us-east-1_O", ClientID: "oc", Domain: "app.auth.us-east-1.amazoncognito.com", Scopes: "openid,email"}, false},
		{"aws-exports oauth", `{"aws_user_pools_id":"us-east-1_G","oauth":{"domain":"login.example.com","scope":["openid","profile"],"responseType":"code"}}`,
			Values{Region: "us-east-1", UserPoolID: "us-east-1_G", Domain: "login.example.com", Scopes: "openid,profile"}, false},
		{"v6 oauth", `{"Auth":{"Cognito":{"userPoolId":"eu-west-2_V","loginWith":{"oauth":{"domain":"https://v6.auth.eu-west-2.amazoncognito.com","scopes":["openid"]}}}}}`,
			Values{Region: "eu-west-2", UserPoolID: "eu-west-2_V", Domain: "https://v6.auth.eu-west-2.amazoncognito.com", Scopes: "openid"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAmplify([]byte(tt.in))
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if got != tt.want {
				t.Fatalf("got %+v want %+v", got, tt.want)
			}
		})
	}
}

func TestDiscoveredAmplifyIgnoresUnrelatedFiles(t *testing.T) {
	work := t.TempDir()
	writeFile(t, filepath.Join(work, "amplify_outputs.json"), `{"not":"amplify"}`)
	writeFile(t, filepath.Join(work, "aws-exports.json"), `{"aws_user_pools_id":"us-east-1_Found"}`)
	c, err := Resolve(Input{Getenv: env(map[string]string{"COGAUTH_HOME": t.TempDir()}), WorkDir: work})
	if err != nil {
		t.Fatal(err)
	}
	if c.UserPoolID != "us-east-1_Found" || c.AmplifyFile != filepath.Join(work, "aws-exports.json") {
		t.Fatalf("pool %q from %q", c.UserPoolID, c.AmplifyFile)
	}
}

func FuzzParseAmplify(f *testing.F) {
	f.Add([]byte(gen2))
	f.Add([]byte(`{"aws_user_pools_id":"x"}`))
	f.Add([]byte(`{"Auth":{"Cognito":{}}}`))
	f.Add([]byte(`{"auth":{"user_pool_id":"us-east-1_O","oauth":{"domain":"a.example.com","scopes":["openid"]}}}`))
	f.Add([]byte(`{"aws_user_pools_id":"x","oauth":{"domain":"d","scope":["a","b"]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ParseAmplify(b)
		if err == nil && v.UserPoolID == "" && v.IdentityPoolID == "" {
			t.Fatalf("accepted a file with no pool: %+v", v)
		}
	})
}

func FuzzParseFile(f *testing.F) {
	f.Add([]byte(profiles))
	f.Add([]byte("[profiles.x]\nregion=1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cf, err := ParseFile(b)
		if err != nil {
			return
		}
		// What parses must survive a save and a re-parse unchanged.
		out, err := cf.Encode()
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseFile(out)
		if err != nil {
			t.Fatalf("re-parse of encoded file: %v\n%s", err, out)
		}
		if len(again.Profiles) != len(cf.Profiles) {
			t.Fatalf("profiles %d -> %d", len(cf.Profiles), len(again.Profiles))
		}
		for n, p := range cf.Profiles {
			if again.Profiles[n] != p {
				t.Fatalf("profile %q changed: %+v -> %+v", n, p, again.Profiles[n])
			}
		}
	})
}

func TestTimeout(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30s", 30 * time.Second, true}, {"1m30s", 90 * time.Second, true}, {"5", 5 * time.Second, true},
		{" 2s ", 2 * time.Second, true}, {"1h", time.Hour, true},
		{"0", 0, false}, {"-1s", 0, false}, {"2h", 0, false}, {"soon", 0, false}, {"", 0, false},
	} {
		got, err := ParseTimeout(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseTimeout(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
	home := t.TempDir()
	env := map[string]string{"COGAUTH_HOME": home, "COGAUTH_TIMEOUT": "7s"}
	c, err := Resolve(Input{Getenv: func(k string) string { return env[k] }})
	if err != nil || c.RequestTimeout() != 7*time.Second || c.Sources["timeout"] != FromEnv {
		t.Fatalf("COGAUTH_TIMEOUT=7s: %v %v", c, err)
	}
	c, err = Resolve(Input{Getenv: func(k string) string { return env[k] }, Flags: Values{Timeout: "3s"}})
	if err != nil || c.RequestTimeout() != 3*time.Second {
		t.Fatalf("--timeout 3s over the environment: %v %v", c, err)
	}
	env["COGAUTH_TIMEOUT"] = "forever"
	var ue *UsageError
	if _, err := Resolve(Input{Getenv: func(k string) string { return env[k] }}); !errors.As(err, &ue) || !strings.Contains(err.Error(), "--timeout (env)") {
		t.Fatalf("a bad COGAUTH_TIMEOUT: %v", err)
	}
	delete(env, "COGAUTH_TIMEOUT")
	if c, err := Resolve(Input{Getenv: func(k string) string { return env[k] }}); err != nil || c.RequestTimeout() != DefaultTimeout {
		t.Fatalf("default timeout: %v %v", c, err)
	}
}

// The profile used when none is named: default_profile, else the only profile,
// else "default"; the key survives a save.
func TestDefaultProfileName(t *testing.T) {
	home := t.TempDir()
	env := map[string]string{"COGAUTH_HOME": home}
	resolve := func() string {
		t.Helper()
		c, err := Resolve(Input{Getenv: func(k string) string { return env[k] }})
		if err != nil {
			t.Fatal(err)
		}
		return c.Profile
	}
	if got := resolve(); got != DefaultProfile {
		t.Fatalf("no config.toml: %q", got)
	}
	f := &File{Profiles: map[string]Profile{"local": {}}}
	if err := f.Save(ConfigPath(home)); err != nil {
		t.Fatal(err)
	}
	if got := resolve(); got != "local" {
		t.Fatalf("one profile: %q", got)
	}
	f.Profiles["work"] = Profile{}
	if err := f.Save(ConfigPath(home)); err != nil {
		t.Fatal(err)
	}
	if got := resolve(); got != DefaultProfile {
		t.Fatalf("two profiles: %q", got)
	}
	f.Default = "work"
	if err := f.Save(ConfigPath(home)); err != nil {
		t.Fatal(err)
	}
	if got := resolve(); got != "work" {
		t.Fatalf("default_profile work: %q", got)
	}
	env["COGAUTH_PROFILE"] = "local"
	if got := resolve(); got != "local" {
		t.Fatalf("COGAUTH_PROFILE over default_profile: %q", got)
	}
	if _, err := ParseFile([]byte("default_profile = \"a b\"\n")); err == nil {
		t.Fatal("a bad default_profile was accepted")
	}
}
