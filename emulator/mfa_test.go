package emulator_test

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/secret"
	"github.com/cogauth/cogauth/srp"
)

func TestTOTPVectorsRFC6238(t *testing.T) {
	// RFC 6238 appendix B, SHA-1 secret "12345678901234567890" (base32 below), 8
	// digits there; the last 6 digits are the 6-digit code.
	const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	tests := []struct {
		unix int64
		want string
	}{
		{59, "287082"},
		{1111111109, "081804"},
		{1111111111, "050471"},
		{1234567890, "005924"},
		{2000000000, "279037"},
	}
	for _, tt := range tests {
		got, err := emulator.TOTP(secret, time.Unix(tt.unix, 0))
		if err != nil || got != tt.want {
			t.Errorf("TOTP at %d = %q, %v; want %q", tt.unix, got, err, tt.want)
		}
	}
	if _, err := emulator.TOTP("not base32!", time.Unix(0, 0)); err == nil {
		t.Error("bad secret accepted")
	}
}

func mfaServer(t *testing.T) *emulator.Server {
	t.Helper()
	seed := testSeed()
	seed.UserPools[0].MFA = "OPTIONAL"
	seed.UserPools[0].SMSMFA = true
	seed.UserPools[0].Users = append(seed.UserPools[0].Users, emulator.SeedUser{
		Username: "carol", Password: password,
		Attributes: map[string]string{"email": "carol@example.com", "phone_number": "+15555550123"},
	})
	srv := emulator.NewServer(emulator.Options{Seed: seed, Clock: newFake()})
	t.Cleanup(srv.Close)
	return srv
}

func passwordAuth(t *testing.T, srv *emulator.Server, clientID, user string) map[string]any {
	t.Helper()
	return mustCall(t, srv, "InitiateAuth", map[string]any{"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": clientID,
		"AuthParameters": map[string]string{"USERNAME": user, "PASSWORD": password}})
}

func TestSoftwareTokenMFA(t *testing.T) {
	srv := mfaServer(t)
	pool, web := srv.PoolID("app"), srv.AppClient("app", "web").ID
	tok := passwordAuth(t, srv, web, "alice")["AuthenticationResult"].(map[string]any)["AccessToken"].(string)

	assoc := mustCall(t, srv, "AssociateSoftwareToken", map[string]string{"AccessToken": tok})
	secret := assoc["SecretCode"].(string)
	_, ae := call(t, srv, "VerifySoftwareToken", map[string]string{"AccessToken": tok, "UserCode": "000000"})
	wantErr(t, ae, "EnableSoftwareTokenMFAException", "")
	code, _ := emulator.TOTP(secret, srv.Now())
	if out := mustCall(t, srv, "VerifySoftwareToken", map[string]string{"AccessToken": tok, "UserCode": code}); out["Status"] != "SUCCESS" {
		t.Fatalf("verify: %v", out)
	}
	mustCall(t, srv, "SetUserMFAPreference", map[string]any{"AccessToken": tok,
		"SoftwareTokenMfaSettings": map[string]bool{"Enabled": true, "PreferredMfa": true}})

	ch := passwordAuth(t, srv, web, "alice")
	if ch["ChallengeName"] != "SOFTWARE_TOKEN_MFA" {
		t.Fatalf("challenge %v", ch["ChallengeName"])
	}
	// The code just used to verify may not be replayed; the next step's code works.
	_, ae = respond(t, srv, web, "SOFTWARE_TOKEN_MFA", ch["Session"].(string), map[string]string{"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": code})
	wantErr(t, ae, "CodeMismatchException", "")

	srv.Advance(30 * time.Second)
	ch = passwordAuth(t, srv, web, "alice")
	next, _ := emulator.TOTP(srv.TOTPSecret(pool, "alice"), srv.Now())
	out, ae := respond(t, srv, web, "SOFTWARE_TOKEN_MFA", ch["Session"].(string), map[string]string{"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": next})
	if ae != nil || out["AuthenticationResult"] == nil {
		t.Fatalf("answer: %v %v", out, ae)
	}
	got := mustCall(t, srv, "AdminGetUser", map[string]string{"UserPoolId": pool, "Username": "alice"})
	if got["PreferredMfaSetting"] != "SOFTWARE_TOKEN_MFA" {
		t.Fatalf("AdminGetUser MFA: %v", got)
	}
}

func TestSMSMFAAndSelect(t *testing.T) {
	srv := mfaServer(t)
	pool, web := srv.PoolID("app"), srv.AppClient("app", "web").ID
	mustCall(t, srv, "AdminSetUserMFAPreference", map[string]any{"UserPoolId": pool, "Username": "carol",
		"SMSMfaSettings": map[string]bool{"Enabled": true}})

	ch := passwordAuth(t, srv, web, "carol")
	if ch["ChallengeName"] != "SMS_MFA" {
		t.Fatalf("challenge %v", ch["ChallengeName"])
	}
	if d := strMap(ch["ChallengeParameters"])["CODE_DELIVERY_DESTINATION"]; d != "+*******0123" {
		t.Errorf("destination %q", d)
	}
	code, ok := srv.LastCode(pool, "carol")
	if !ok || len(code) != 6 {
		t.Fatalf("no SMS code recorded")
	}
	_, ae := respond(t, srv, web, "SMS_MFA", ch["Session"].(string), map[string]string{"USERNAME": "carol", "SMS_MFA_CODE": "999999x"})
	wantErr(t, ae, "CodeMismatchException", "")
	ch = passwordAuth(t, srv, web, "carol")
	code, _ = srv.LastCode(pool, "carol")
	out, ae := respond(t, srv, web, "SMS_MFA", ch["Session"].(string), map[string]string{"USERNAME": "carol", "SMS_MFA_CODE": code})
	if ae != nil || out["AuthenticationResult"] == nil {
		t.Fatalf("answer: %v %v", out, ae)
	}

	// With TOTP as well and no preference, the user chooses.
	tok := out["AuthenticationResult"].(map[string]any)["AccessToken"].(string)
	secret := mustCall(t, srv, "AssociateSoftwareToken", map[string]string{"AccessToken": tok})["SecretCode"].(string)
	c, _ := emulator.TOTP(secret, srv.Now())
	mustCall(t, srv, "VerifySoftwareToken", map[string]string{"AccessToken": tok, "UserCode": c})
	mustCall(t, srv, "SetUserMFAPreference", map[string]any{"AccessToken": tok,
		"SoftwareTokenMfaSettings": map[string]bool{"Enabled": true, "PreferredMfa": false}})
	ch = passwordAuth(t, srv, web, "carol")
	if ch["ChallengeName"] != "SELECT_MFA_TYPE" {
		t.Fatalf("challenge %v", ch["ChallengeName"])
	}
	sel, ae := respond(t, srv, web, "SELECT_MFA_TYPE", ch["Session"].(string), map[string]string{"USERNAME": "carol", "ANSWER": "SMS_MFA"})
	if ae != nil || sel["ChallengeName"] != "SMS_MFA" {
		t.Fatalf("select: %v %v", sel, ae)
	}
}

func TestMFASetupRequired(t *testing.T) {
	seed := testSeed()
	seed.UserPools[0].MFA = "ON"
	srv := emulator.NewServer(emulator.Options{Seed: seed, Clock: newFake()})
	defer srv.Close()
	web := srv.AppClient("app", "web").ID
	ch := passwordAuth(t, srv, web, "alice")
	if ch["ChallengeName"] != "MFA_SETUP" {
		t.Fatalf("challenge %v", ch["ChallengeName"])
	}
	assoc := mustCall(t, srv, "AssociateSoftwareToken", map[string]string{"Session": ch["Session"].(string)})
	code, _ := emulator.TOTP(assoc["SecretCode"].(string), srv.Now())
	ver := mustCall(t, srv, "VerifySoftwareToken", map[string]string{"Session": assoc["Session"].(string), "UserCode": code})
	out, ae := respond(t, srv, web, "MFA_SETUP", ver["Session"].(string), map[string]string{"USERNAME": "alice"})
	if ae != nil || out["AuthenticationResult"] == nil {
		t.Fatalf("MFA_SETUP: %v %v", out, ae)
	}
}

func TestDevices(t *testing.T) {
	seed := testSeed()
	seed.UserPools[0].DeviceTracking = &emulator.DeviceConfig{ChallengeRequiredOnNewDevice: true}
	srv := emulator.NewServer(emulator.Options{Seed: seed, Clock: newFake()})
	defer srv.Close()
	web := srv.AppClient("app", "web").ID

	first := passwordAuth(t, srv, web, "alice")["AuthenticationResult"].(map[string]any)
	meta := strMap(first["NewDeviceMetadata"])
	if meta["DeviceKey"] == "" || meta["DeviceGroupKey"] == "" {
		t.Fatalf("no NewDeviceMetadata: %v", first)
	}
	_, ac := parseClaims(t, srv, first["AccessToken"].(string))
	if ac["device_key"] != meta["DeviceKey"] {
		t.Errorf("device_key claim %v", ac["device_key"])
	}
	ds, err := srp.NewDeviceSecret(rand.Reader, meta["DeviceGroupKey"], meta["DeviceKey"])
	if err != nil {
		t.Fatal(err)
	}
	access := first["AccessToken"].(string)
	conf := mustCall(t, srv, "ConfirmDevice", map[string]any{"AccessToken": access, "DeviceKey": meta["DeviceKey"], "DeviceName": "laptop",
		"DeviceSecretVerifierConfig": map[string]string{"PasswordVerifier": ds.PasswordVerifier.Reveal(), "Salt": ds.Salt}})
	if conf["UserConfirmationNecessary"] != false {
		t.Fatalf("ConfirmDevice: %v", conf)
	}
	list := mustCall(t, srv, "ListDevices", map[string]string{"AccessToken": access})
	if devs, _ := list["Devices"].([]any); len(devs) != 1 {
		t.Fatalf("ListDevices: %v", list)
	}

	// A refresh token of a remembered device needs the device key.
	rt := first["RefreshToken"].(string)
	_, ae := call(t, srv, "InitiateAuth", map[string]any{"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": web,
		"AuthParameters": map[string]string{"REFRESH_TOKEN": rt}})
	wantErr(t, ae, "NotAuthorizedException", "Invalid Refresh Token")
	mustCall(t, srv, "InitiateAuth", map[string]any{"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": web,
		"AuthParameters": map[string]string{"REFRESH_TOKEN": rt, "DEVICE_KEY": meta["DeviceKey"]}})

	// Sign in again with the device: SRP, then device SRP, no new device.
	cl, ch := srpStart(t, srv, web, "alice", map[string]string{"DEVICE_KEY": meta["DeviceKey"]})
	out, ae := respond(t, srv, web, "PASSWORD_VERIFIER", ch["Session"].(string), srpAnswer(t, srv, cl, ch, password, srv.Now()))
	if ae != nil || out["ChallengeName"] != "DEVICE_SRP_AUTH" {
		t.Fatalf("after PASSWORD_VERIFIER: %v %v", out, ae)
	}
	dc, _ := srp.NewClient(rand.Reader)
	out, ae = respond(t, srv, web, "DEVICE_SRP_AUTH", out["Session"].(string), map[string]string{
		"USERNAME": "alice", "DEVICE_KEY": meta["DeviceKey"], "SRP_A": dc.SRPA()})
	if ae != nil || out["ChallengeName"] != "DEVICE_PASSWORD_VERIFIER" {
		t.Fatalf("DEVICE_SRP_AUTH: %v %v", out, ae)
	}
	p := strMap(out["ChallengeParameters"])
	ts := srp.Timestamp(srv.Now())
	claim := srp.Claim{Prefix: meta["DeviceGroupKey"], UserID: meta["DeviceKey"], Password: ds.Password, SaltHex: p["SALT"], SecretBlock: secret.String(p["SECRET_BLOCK"]), Timestamp: ts}
	wrong := claim
	wrong.Password = "not-the-device-password"
	badSig, _ := dc.Signature(p["SRP_B"], wrong)
	resp := map[string]string{"USERNAME": "alice", "DEVICE_KEY": meta["DeviceKey"], "PASSWORD_CLAIM_SECRET_BLOCK": p["SECRET_BLOCK"], "TIMESTAMP": ts, "PASSWORD_CLAIM_SIGNATURE": badSig}
	_, ae = respond(t, srv, web, "DEVICE_PASSWORD_VERIFIER", out["Session"].(string), resp)
	wantErr(t, ae, "NotAuthorizedException", "")

	// Start over (sessions are single-use) and answer right.
	cl, ch = srpStart(t, srv, web, "alice", map[string]string{"DEVICE_KEY": meta["DeviceKey"]})
	out, _ = respond(t, srv, web, "PASSWORD_VERIFIER", ch["Session"].(string), srpAnswer(t, srv, cl, ch, password, srv.Now()))
	dc, _ = srp.NewClient(rand.Reader)
	out, _ = respond(t, srv, web, "DEVICE_SRP_AUTH", out["Session"].(string), map[string]string{"USERNAME": "alice", "DEVICE_KEY": meta["DeviceKey"], "SRP_A": dc.SRPA()})
	p = strMap(out["ChallengeParameters"])
	claim.SecretBlock, claim.SaltHex = secret.String(p["SECRET_BLOCK"]), p["SALT"]
	sig, _ := dc.Signature(p["SRP_B"], claim)
	resp["PASSWORD_CLAIM_SECRET_BLOCK"], resp["PASSWORD_CLAIM_SIGNATURE"] = p["SECRET_BLOCK"], sig
	out, ae = respond(t, srv, web, "DEVICE_PASSWORD_VERIFIER", out["Session"].(string), resp)
	if ae != nil || out["AuthenticationResult"] == nil {
		t.Fatalf("DEVICE_PASSWORD_VERIFIER: %v %v", out, ae)
	}
	if out["AuthenticationResult"].(map[string]any)["NewDeviceMetadata"] != nil {
		t.Error("a known device got new device metadata")
	}

	mustCall(t, srv, "ForgetDevice", map[string]string{"AccessToken": access, "DeviceKey": meta["DeviceKey"]})
	_, ae = call(t, srv, "GetDevice", map[string]string{"AccessToken": access, "DeviceKey": meta["DeviceKey"]})
	wantErr(t, ae, "ResourceNotFoundException", "")
}
