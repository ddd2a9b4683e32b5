package emulator_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cogauth/cogauth/emulator"
)

const restartSeed = `{
  "userPools": [
    {"name": "fixed", "id": "eu-west-1_Fixed1", "passwordPolicy": {"minimumLength": 10, "requireSymbols": false},
     "deviceTracking": {"challengeRequiredOnNewDevice": true},
     "clients": [{"name": "web"}], "groups": [{"name": "admins"}],
     "users": [{"username": "alice", "password": "Correct-Horse-1", "groups": ["admins"]}]},
    {"name": "generated", "clients": [{"name": "app", "generateSecret": true}],
     "users": [{"username": "bob", "password": "Correct-Horse-2"}]}
  ],
  "identityPools": [
    {"name": "fixed_ids", "id": "eu-west-1:11111111-2222-3333-4444-555555555555", "userPool": "fixed", "clients": ["web"]},
    {"name": "generated_ids", "userPool": "generated", "clients": ["app"], "allowUnauthenticatedIdentities": true}
  ]
}`

// TestSeedAppliedAgainIsANoOp: an emulator restarted with the same seed and state
// file keeps every ID (fixed or generated), creates no duplicates and leaves
// changes made since alone; what the seed gained since is added.
func TestSeedAppliedAgainIsANoOp(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	seed, err := emulator.ParseSeed([]byte(restartSeed))
	if err != nil {
		t.Fatal(err)
	}
	first := emulator.NewServer(emulator.Options{Seed: seed, StateFile: state})
	res1 := first.Seeded()
	web := first.AppClient("fixed", "web").ID
	mustCall(t, first, "AdminSetUserPassword", map[string]any{"UserPoolId": "eu-west-1_Fixed1", "Username": "alice", "Password": "Changed-Horse-11", "Permanent": true})
	first.Close()

	seed.UserPools[1].Clients = append(seed.UserPools[1].Clients, emulator.SeedClient{Name: "added"})
	second := emulator.NewServer(emulator.Options{Seed: seed, StateFile: state})
	t.Cleanup(second.Close)
	res2 := second.Seeded()
	if res2.UserPools["fixed"].ID != "eu-west-1_Fixed1" || res2.UserPools["generated"].ID != res1.UserPools["generated"].ID {
		t.Errorf("pool IDs changed: %+v then %+v", res1.UserPools, res2.UserPools)
	}
	if got := second.AppClient("generated", "app"); got != res1.UserPools["generated"].Clients["app"] {
		t.Errorf("generated client changed: %+v", got)
	}
	if second.AppClient("fixed", "web").ID != web || second.AppClient("generated", "added").ID == "" {
		t.Errorf("clients after restart: %+v", res2.UserPools)
	}
	if res2.IdentityPools["fixed_ids"] != "eu-west-1:11111111-2222-3333-4444-555555555555" ||
		res2.IdentityPools["generated_ids"] != res1.IdentityPools["generated_ids"] || !strings.HasPrefix(res1.IdentityPools["generated_ids"], "us-east-1:") {
		t.Errorf("identity pools %v then %v", res1.IdentityPools, res2.IdentityPools)
	}
	pools := mustCall(t, second, "ListUserPools", map[string]int{"MaxResults": 60})["UserPools"].([]any)
	if len(pools) != 2 {
		t.Errorf("%d user pools after the restart, want 2", len(pools))
	}
	clients := mustCall(t, second, "ListUserPoolClients", map[string]any{"UserPoolId": res2.UserPools["generated"].ID, "MaxResults": 60})["UserPoolClients"].([]any)
	if len(clients) != 2 {
		t.Errorf("%d clients in the generated pool, want 2 (app, added)", len(clients))
	}
	ids := callIdentity(t, second, "ListIdentityPools", map[string]int{"MaxResults": 60})["IdentityPools"].([]any)
	if len(ids) != 2 {
		t.Errorf("%d identity pools, want 2", len(ids))
	}
	// The password set after seeding is kept, not reset to the seed's.
	signIn(t, sdk(second), web, "alice", "Changed-Horse-11")
	d := mustCall(t, second, "DescribeUserPool", map[string]string{"UserPoolId": "eu-west-1_Fixed1"})["UserPool"].(map[string]any)
	pp := d["Policies"].(map[string]any)["PasswordPolicy"].(map[string]any)
	if pp["MinimumLength"] != float64(10) || pp["RequireSymbols"] != false || d["DeviceConfiguration"].(map[string]any)["ChallengeRequiredOnNewDevice"] != true {
		t.Errorf("camelCase seed settings: %v, %v", pp, d["DeviceConfiguration"])
	}
}

// TestSeedOldSpellingsLoad: the API's PascalCase names inside passwordPolicy and
// deviceTracking, which older seed files used, still load.
func TestSeedOldSpellingsLoad(t *testing.T) {
	seed, err := emulator.ParseSeed([]byte(`{"userPools": [{"name": "p",
		"passwordPolicy": {"MinimumLength": 12, "RequireUppercase": true},
		"deviceTracking": {"ChallengeRequiredOnNewDevice": true, "DeviceOnlyRememberedOnUserPrompt": true}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	p := seed.UserPools[0]
	if p.PasswordPolicy.MinimumLength != 12 || !p.PasswordPolicy.RequireUppercase || !p.DeviceTracking.DeviceOnlyRememberedOnUserPrompt {
		t.Errorf("old spellings: %+v %+v", p.PasswordPolicy, p.DeviceTracking)
	}
}

// TestStateFileInMissingDirectory fails at start, not at shutdown.
func TestStateFileInMissingDirectory(t *testing.T) {
	_, err := emulator.New(emulator.Options{StateFile: filepath.Join(t.TempDir(), "missing", "state.json")})
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("New with a state file in a missing directory: %v", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := emulator.New(emulator.Options{StateFile: filepath.Join(file, "state.json")}); err == nil {
		t.Fatal("New with a state file under a regular file: no error")
	}
}

// TestREADMESeedLoads: the complete seed file README.md shows parses and applies.
func TestREADMESeedLoads(t *testing.T) {
	doc, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "## Seed file")
	_, rest, ok2 := strings.Cut(rest, "```json\n")
	block, _, ok3 := strings.Cut(rest, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("README.md has no seed file example")
	}
	seed, err := emulator.ParseSeed([]byte(block))
	if err != nil {
		t.Fatal(err)
	}
	e, err := emulator.New(emulator.Options{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	if res := e.Seeded(); res.UserPools["app"].ID != "eu-west-1_Example1" || res.IdentityPools["app_identities"] == "" {
		t.Errorf("seeded %+v", res)
	}
}
