package cognito_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/internal/webauthntest"
	"github.com/cogauth/cogauth/jwt"
)

const pkOrigin = "http://localhost:5173"

// passkeyEmu adds pool "pk": passwords and passkeys, relying party "localhost",
// clients "web" and "other" (USER_AUTH), users pat and sam; pool "nopk"
// (passwords only) and pool "norp" (passkeys allowed, but no RP ID nor
// domain); pool "uv" requires user verification.
func passkeyEmu(t *testing.T) *emulator.Server {
	return emu(t, func(s *emulator.Seed) {
		users := []emulator.SeedUser{
			{Username: "pat", Password: pw, Attributes: map[string]string{"email": "pat@example.com"}},
			{Username: "sam", Password: pw, Attributes: map[string]string{"email": "sam@example.com"}},
		}
		clients := []emulator.SeedClient{{Name: "web", ExplicitAuthFlows: userAuthFlows}, {Name: "other", ExplicitAuthFlows: userAuthFlows}}
		factors := []string{"PASSWORD", "WEB_AUTHN"}
		s.UserPools = append(s.UserPools,
			emulator.SeedUserPool{Name: "pk", AllowedFirstAuthFactors: factors, WebAuthn: &emulator.SeedWebAuthn{RelyingPartyID: "localhost"}, Clients: clients, Users: users},
			emulator.SeedUserPool{Name: "uv", AllowedFirstAuthFactors: factors, WebAuthn: &emulator.SeedWebAuthn{RelyingPartyID: "localhost", UserVerification: "required"}, Clients: clients, Users: users},
			emulator.SeedUserPool{Name: "nopk", Clients: clients, Users: users},
			emulator.SeedUserPool{Name: "norp", AllowedFirstAuthFactors: factors, Clients: clients, Users: users},
		)
	})
}

// accessOf signs user in with the password through client and returns the
// access token.
func accessOf(t *testing.T, c *cognito.Client, user string) jwt.Secret {
	t.Helper()
	res, err := c.SignIn(context.Background(), cognito.SignInInput{Username: user, Password: pw, Flow: cognito.FlowUserAuth, PreferredChallenge: cognito.FactorPassword})
	if err != nil || res.Tokens == nil {
		t.Fatalf("password sign-in of %s: %+v, %v", user, res, err)
	}
	return res.Tokens.AccessToken
}

// registerPasskey registers a passkey of a for the token's user.
func registerPasskey(t *testing.T, c *cognito.Client, at jwt.Secret, a *webauthntest.Authenticator) {
	t.Helper()
	ctx := context.Background()
	opts, err := c.StartWebAuthnRegistration(ctx, at)
	if err != nil {
		t.Fatalf("StartWebAuthnRegistration: %v", err)
	}
	cred, err := a.Register(opts)
	if err != nil {
		t.Fatalf("authenticator: %v", err)
	}
	if err := c.CompleteWebAuthnRegistration(ctx, at, cred); err != nil {
		t.Fatalf("CompleteWebAuthnRegistration: %v", err)
	}
}

func webAuthnChallenge(t *testing.T, c *cognito.Client, user string) *cognito.Challenge {
	t.Helper()
	res, err := c.SignIn(context.Background(), cognito.SignInInput{Username: user, Flow: cognito.FlowUserAuth, PreferredChallenge: cognito.FactorWebAuthn})
	if err != nil || res.Challenge == nil || res.Challenge.Name != cognito.ChallengeWebAuthn {
		t.Fatalf("SignIn WEB_AUTHN = %+v, %v", res, err)
	}
	return res.Challenge
}

func available(t *testing.T, c *cognito.Client, user string) []string {
	t.Helper()
	res, err := c.SignIn(context.Background(), cognito.SignInInput{Username: user, Flow: cognito.FlowUserAuth})
	if err != nil || res.Challenge == nil || res.Challenge.Name != cognito.ChallengeSelectChallenge {
		t.Fatalf("SignIn = %+v, %v", res, err)
	}
	return res.Challenge.Available
}

func TestPasskeyLifecycle(t *testing.T) {
	srv := passkeyEmu(t)
	ctx := context.Background()
	c := emuClient(t, srv, "pk", "web")
	at := accessOf(t, c, "pat")

	page, err := c.ListWebAuthnCredentials(ctx, at, cognito.ListWebAuthnCredentialsInput{})
	if err != nil || page.Credentials == nil || len(page.Credentials) != 0 || page.NextToken != "" {
		t.Fatalf("no passkeys yet: %+v, %v", page, err)
	}
	if got := available(t, c, "pat"); slices.Contains(got, "WEB_AUTHN") {
		t.Fatalf("WEB_AUTHN offered without a passkey: %v", got)
	}

	opts, err := c.StartWebAuthnRegistration(ctx, at)
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		Challenge        string
		RP               struct{ ID, Name string }
		User             struct{ ID, Name, DisplayName string }
		PubKeyCredParams []struct {
			Type string
			Alg  int
		}
		ExcludeCredentials     []struct{ Type, ID string }
		AuthenticatorSelection struct {
			ResidentKey, UserVerification string
			RequireResidentKey            bool
		}
		Timeout int
	}
	if err := json.Unmarshal(opts, &o); err != nil {
		t.Fatal(err)
	}
	if c, err := base64.RawURLEncoding.DecodeString(o.Challenge); err != nil || len(c) < 16 {
		t.Fatalf("challenge %q: %v", o.Challenge, err)
	}
	if o.RP.ID != "localhost" || o.User.Name != "pat" || o.User.ID == "" || len(o.ExcludeCredentials) != 0 ||
		o.AuthenticatorSelection.UserVerification != "preferred" || o.AuthenticatorSelection.ResidentKey != "required" ||
		o.Timeout <= 0 || len(o.PubKeyCredParams) == 0 || o.PubKeyCredParams[0].Alg != -7 {
		t.Fatalf("creation options: %s", opts)
	}
	a := webauthntest.New(pkOrigin)
	cred, err := a.Register(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CompleteWebAuthnRegistration(ctx, at, cred); err != nil {
		t.Fatalf("CompleteWebAuthnRegistration: %v", err)
	}
	created := srv.Clock().Now()

	page, err = c.ListWebAuthnCredentials(ctx, at, cognito.ListWebAuthnCredentialsInput{})
	if err != nil || len(page.Credentials) != 1 {
		t.Fatalf("one passkey: %+v, %v", page, err)
	}
	k := page.Credentials[0]
	wantID := base64.RawURLEncoding.EncodeToString(a.Credentials()[0].ID)
	if k.ID != wantID || k.RelyingPartyID != "localhost" || k.Attachment != "platform" || !slices.Equal(k.Transports, []string{"internal"}) ||
		k.FriendlyName == "" || k.CreatedAt.Sub(created).Abs() > time.Second {
		t.Fatalf("listed %+v (want ID %s, created %v)", k, wantID, created)
	}

	// A second registration excludes the first passkey, and this authenticator refuses.
	opts, err = c.StartWebAuthnRegistration(ctx, at)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(opts, &o); err != nil || len(o.ExcludeCredentials) != 1 || o.ExcludeCredentials[0].ID != wantID {
		t.Fatalf("excludeCredentials: %s", opts)
	}
	if _, err := a.Register(opts); err == nil {
		t.Fatal("the authenticator registered an excluded credential")
	}

	t.Run("preferred WEB_AUTHN", func(t *testing.T) {
		ch := webAuthnChallenge(t, c, "pat")
		var req map[string]any
		if err := json.Unmarshal(ch.CredentialRequestOptions, &req); err != nil || req["rpId"] != "localhost" || req["challenge"] == "" {
			t.Fatalf("request options: %s", ch.CredentialRequestOptions)
		}
		allow, _ := req["allowCredentials"].([]any)
		if len(allow) != 1 || allow[0].(map[string]any)["id"] != wantID {
			t.Fatalf("allowCredentials: %s", ch.CredentialRequestOptions)
		}
		assertion, err := a.Assert(ch.CredentialRequestOptions)
		if err != nil {
			t.Fatal(err)
		}
		done, err := c.Respond(ctx, ch, cognito.Answer{Credential: assertion})
		if err != nil || done.Tokens == nil {
			t.Fatalf("Respond WEB_AUTHN: %+v, %v", done, err)
		}
		// The same answer again: its challenge was used.
		if _, err := c.Respond(ctx, ch, cognito.Answer{Credential: assertion}); !errors.Is(err, cognito.ErrNotAuthorized) {
			t.Fatalf("replayed assertion: %v", err)
		}
	})
	t.Run("SELECT_CHALLENGE", func(t *testing.T) {
		res, err := c.SignIn(ctx, cognito.SignInInput{Username: "pat", Flow: cognito.FlowUserAuth})
		if err != nil || res.Challenge == nil || !slices.Contains(res.Challenge.Available, "WEB_AUTHN") {
			t.Fatalf("SELECT_CHALLENGE: %+v, %v", res, err)
		}
		next, err := c.Respond(ctx, res.Challenge, cognito.Answer{FirstFactor: cognito.FactorWebAuthn})
		if err != nil || next.Challenge == nil || next.Challenge.Name != cognito.ChallengeWebAuthn {
			t.Fatalf("select WEB_AUTHN: %+v, %v", next, err)
		}
		assertion, err := a.Assert(next.Challenge.CredentialRequestOptions)
		if err != nil {
			t.Fatal(err)
		}
		done, err := c.Respond(ctx, next.Challenge, cognito.Answer{Credential: assertion})
		if err != nil || done.Tokens == nil {
			t.Fatalf("Respond: %+v, %v", done, err)
		}
		f, err := c.GetUserAuthFactors(ctx, done.Tokens.AccessToken)
		if err != nil || !slices.Contains(f.Configured, "WEB_AUTHN") {
			t.Fatalf("GetUserAuthFactors: %+v, %v", f, err)
		}
	})

	if err := c.DeleteWebAuthnCredential(ctx, at, "AAAA"); !errors.Is(err, cognito.ErrResourceNotFound) {
		t.Fatalf("delete unknown: %v", err)
	}
	if err := c.DeleteWebAuthnCredential(ctx, at, wantID); err != nil {
		t.Fatal(err)
	}
	page, err = c.ListWebAuthnCredentials(ctx, at, cognito.ListWebAuthnCredentialsInput{})
	if err != nil || len(page.Credentials) != 0 {
		t.Fatalf("after delete: %+v, %v", page, err)
	}
	if got := available(t, c, "pat"); slices.Contains(got, "WEB_AUTHN") {
		t.Fatalf("WEB_AUTHN still offered: %v", got)
	}
	// Preferring WEB_AUTHN without a passkey falls back to SELECT_CHALLENGE.
	res, err := c.SignIn(ctx, cognito.SignInInput{Username: "pat", Flow: cognito.FlowUserAuth, PreferredChallenge: cognito.FactorWebAuthn})
	if err != nil || res.Challenge == nil || res.Challenge.Name != cognito.ChallengeSelectChallenge {
		t.Fatalf("preferred WEB_AUTHN without a passkey: %+v, %v", res, err)
	}
}

func TestPasskeyPagination(t *testing.T) {
	srv := passkeyEmu(t)
	ctx := context.Background()
	c := emuClient(t, srv, "pk", "web")
	at := accessOf(t, c, "pat")
	for range 20 {
		registerPasskey(t, c, at, webauthntest.New(pkOrigin))
	}
	if _, err := c.StartWebAuthnRegistration(ctx, at); !errors.Is(err, cognito.ErrLimitExceeded) {
		t.Fatalf("21st passkey: %v", err)
	}
	seen := map[string]bool{}
	in := cognito.ListWebAuthnCredentialsInput{MaxResults: 7}
	pages := 0
	for {
		page, err := c.ListWebAuthnCredentials(ctx, at, in)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, k := range page.Credentials {
			if seen[k.ID] {
				t.Fatalf("%s listed twice", k.ID)
			}
			seen[k.ID] = true
		}
		if page.NextToken == "" {
			break
		}
		in.NextToken = page.NextToken
	}
	if len(seen) != 20 || pages != 3 {
		t.Fatalf("%d passkeys in %d pages, want 20 in 3", len(seen), pages)
	}
	// A page after a credential deleted since goes on from its place.
	first, err := c.ListWebAuthnCredentials(ctx, at, cognito.ListWebAuthnCredentialsInput{MaxResults: 5})
	if err != nil || first.NextToken == "" {
		t.Fatalf("first page: %+v, %v", first, err)
	}
	if err := c.DeleteWebAuthnCredential(ctx, at, first.Credentials[4].ID); err != nil {
		t.Fatal(err)
	}
	second, err := c.ListWebAuthnCredentials(ctx, at, cognito.ListWebAuthnCredentialsInput{MaxResults: 5, NextToken: first.NextToken})
	if err != nil || len(second.Credentials) != 5 || second.Credentials[0].ID <= first.Credentials[4].ID {
		t.Fatalf("page after a deleted credential: %+v, %v", second, err)
	}
	if _, err := c.ListWebAuthnCredentials(ctx, at, cognito.ListWebAuthnCredentialsInput{NextToken: "not base64!"}); !errors.Is(err, cognito.ErrInvalidParameter) {
		t.Fatalf("bad NextToken: %v", err)
	}
	if _, err := c.ListWebAuthnCredentials(ctx, at, cognito.ListWebAuthnCredentialsInput{MaxResults: 21}); err == nil {
		t.Fatal("MaxResults 21 accepted")
	}
}

// TestPasskeyRegistrationRefused: each bad registration gets Cognito's error
// and leaves the user without a passkey.
func TestPasskeyRegistrationRefused(t *testing.T) {
	srv := passkeyEmu(t)
	ctx := context.Background()
	c := emuClient(t, srv, "pk", "web")
	other := emuClient(t, srv, "pk", "other")
	at := accessOf(t, c, "pat")
	samAT := accessOf(t, c, "sam")
	none := func(t *testing.T, tok jwt.Secret) {
		t.Helper()
		page, err := c.ListWebAuthnCredentials(ctx, tok, cognito.ListWebAuthnCredentialsInput{})
		if err != nil || len(page.Credentials) != 0 {
			t.Fatalf("passkeys after a refused registration: %+v, %v", page, err)
		}
	}
	tests := []struct {
		name string
		auth func(a *webauthntest.Authenticator)
		// complete sends the credential (default: pat's token through c).
		complete func(cred json.RawMessage) error
		want     error
	}{
		{name: "another origin", auth: func(a *webauthntest.Authenticator) { a.Origin = "https://evil.example" }, want: cognito.ErrWebAuthnOriginNotAllowed},
		{name: "https origin of another host", auth: func(a *webauthntest.Authenticator) { a.Origin = "https://localhost.evil.example" }, want: cognito.ErrWebAuthnOriginNotAllowed},
		{name: "another RP ID", auth: func(a *webauthntest.Authenticator) { a.SignRPID = "evil.example" }, want: cognito.ErrWebAuthnRelyingPartyMismatch},
		{name: "unsupported attestation", auth: func(a *webauthntest.Authenticator) { a.Attestation = "fido-u2f" }, want: cognito.ErrWebAuthnCredentialNotSupported},
		{name: "another user's session", complete: func(cred json.RawMessage) error {
			return c.CompleteWebAuthnRegistration(ctx, samAT, cred)
		}, want: cognito.ErrWebAuthnChallengeNotFound},
		{name: "another client's token", complete: func(cred json.RawMessage) error {
			return c.CompleteWebAuthnRegistration(ctx, accessOf(t, other, "pat"), cred)
		}, want: cognito.ErrWebAuthnClientMismatch},
		{name: "expired challenge", complete: func(cred json.RawMessage) error {
			srv.Advance(4 * time.Minute)
			at = accessOf(t, c, "pat") // a token issued after the jump
			return c.CompleteWebAuthnRegistration(ctx, at, cred)
		}, want: cognito.ErrWebAuthnChallengeNotFound},
		{name: "forged attestation signature", auth: func(a *webauthntest.Authenticator) {
			a.Attestation, a.Forge = "packed", true
		}, want: cognito.ErrNotAuthorized},
		{name: "client data changed after a packed attestation", auth: func(a *webauthntest.Authenticator) { a.Attestation = "packed" },
			complete: func(cred json.RawMessage) error {
				return c.CompleteWebAuthnRegistration(ctx, at, reencodeClientData(t, cred))
			}, want: cognito.ErrNotAuthorized},
		{name: "credential ID changed", complete: func(cred json.RawMessage) error {
			return c.CompleteWebAuthnRegistration(ctx, at, tamperTop(t, cred, "rawId"))
		}, want: cognito.ErrNotAuthorized},
		{name: "not an object", complete: func(json.RawMessage) error {
			return c.CompleteWebAuthnRegistration(ctx, at, json.RawMessage(`[1,2]`))
		}},
		{name: "malformed", complete: func(json.RawMessage) error {
			return c.CompleteWebAuthnRegistration(ctx, at, json.RawMessage(`{"id":`))
		}},
		{name: "not a credential", complete: func(json.RawMessage) error {
			return c.CompleteWebAuthnRegistration(ctx, at, json.RawMessage(`{"id":"x","type":"public-key"}`))
		}, want: cognito.ErrInvalidParameter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := c.StartWebAuthnRegistration(ctx, at)
			if err != nil {
				t.Fatal(err)
			}
			a := webauthntest.New(pkOrigin)
			if tt.auth != nil {
				tt.auth(a)
			}
			cred, err := a.Register(opts)
			if err != nil {
				t.Fatal(err)
			}
			complete := tt.complete
			if complete == nil {
				complete = func(cred json.RawMessage) error { return c.CompleteWebAuthnRegistration(ctx, at, cred) }
			}
			err = complete(cred)
			switch {
			case tt.want == nil && (err == nil || errors.As(err, new(*cognito.Error))):
				t.Fatalf("got %v, want the library to refuse before sending", err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			none(t, at)
			none(t, samAT)
		})
	}

	t.Run("challenge used once", func(t *testing.T) {
		opts, err := c.StartWebAuthnRegistration(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		a := webauthntest.New(pkOrigin)
		a.Origin = "https://evil.example"
		bad, _ := a.Register(opts)
		if err := c.CompleteWebAuthnRegistration(ctx, at, bad); !errors.Is(err, cognito.ErrWebAuthnOriginNotAllowed) {
			t.Fatal(err)
		}
		a.Origin = pkOrigin
		good, _ := webauthntest.New(pkOrigin).Register(opts)
		if err := c.CompleteWebAuthnRegistration(ctx, at, good); !errors.Is(err, cognito.ErrWebAuthnChallengeNotFound) {
			t.Fatalf("second answer to one challenge: %v", err)
		}
		none(t, at)
	})
	t.Run("user verification required", func(t *testing.T) {
		cu := emuClient(t, srv, "uv", "web")
		uat := accessOf(t, cu, "pat")
		opts, err := cu.StartWebAuthnRegistration(ctx, uat)
		if err != nil {
			t.Fatal(err)
		}
		a := webauthntest.New(pkOrigin)
		a.NoUserVerification = true
		cred, _ := a.Register(opts)
		if err := cu.CompleteWebAuthnRegistration(ctx, uat, cred); !errors.Is(err, cognito.ErrNotAuthorized) {
			t.Fatalf("no UV: %v", err)
		}
		opts, _ = cu.StartWebAuthnRegistration(ctx, uat)
		a.NoUserVerification = false
		a.Attestation = "packed"
		cred, _ = a.Register(opts)
		if err := cu.CompleteWebAuthnRegistration(ctx, uat, cred); err != nil {
			t.Fatalf("UV and packed attestation: %v", err)
		}
	})
	t.Run("not enabled", func(t *testing.T) {
		cn := emuClient(t, srv, "nopk", "web")
		if _, err := cn.StartWebAuthnRegistration(ctx, accessOf(t, cn, "pat")); !errors.Is(err, cognito.ErrWebAuthnNotEnabled) {
			t.Fatalf("pool without WEB_AUTHN: %v", err)
		}
		cr := emuClient(t, srv, "norp", "web")
		if _, err := cr.StartWebAuthnRegistration(ctx, accessOf(t, cr, "pat")); !errors.Is(err, cognito.ErrWebAuthnConfigurationMissing) {
			t.Fatalf("pool without RP ID nor domain: %v", err)
		}
	})
}

// reencodeClientData rewrites clientDataJSON with the same content and other
// bytes (an extra member): what it says holds, but what was signed changed.
func reencodeClientData(t *testing.T, cred json.RawMessage) json.RawMessage {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(cred, &m); err != nil {
		t.Fatal(err)
	}
	resp := m["response"].(map[string]any)
	b, _ := base64.RawURLEncoding.DecodeString(resp["clientDataJSON"].(string))
	var cd map[string]any
	if err := json.Unmarshal(b, &cd); err != nil {
		t.Fatal(err)
	}
	cd["other_keys_can_be_added_here"] = "x"
	b, _ = json.Marshal(cd)
	resp["clientDataJSON"] = base64.RawURLEncoding.EncodeToString(b)
	out, _ := json.Marshal(m)
	return out
}

// tamperTop flips a byte of a top-level base64url field (id and rawId together
// for "rawId").
func tamperTop(t *testing.T, cred json.RawMessage, field string) json.RawMessage {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(cred, &m); err != nil {
		t.Fatal(err)
	}
	b, _ := base64.RawURLEncoding.DecodeString(m[field].(string))
	b[0] ^= 0x01
	m[field] = base64.RawURLEncoding.EncodeToString(b)
	if field == "rawId" {
		m["id"] = m[field]
	}
	out, _ := json.Marshal(m)
	return out
}

// tamper flips a byte in the middle of a base64url field of a credential's response.
func tamper(t *testing.T, cred json.RawMessage, field string) json.RawMessage {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(cred, &m); err != nil {
		t.Fatal(err)
	}
	resp := m["response"].(map[string]any)
	b, err := base64.RawURLEncoding.DecodeString(resp[field].(string))
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x01
	resp[field] = base64.RawURLEncoding.EncodeToString(b)
	out, _ := json.Marshal(m)
	return out
}

// TestPasskeySignInRefused: each bad assertion is NotAuthorizedException and
// signs nobody in.
func TestPasskeySignInRefused(t *testing.T) {
	srv := passkeyEmu(t)
	ctx := context.Background()
	c := emuClient(t, srv, "pk", "web")
	a := webauthntest.New(pkOrigin)
	registerPasskey(t, c, accessOf(t, c, "pat"), a)
	samKey := webauthntest.New(pkOrigin)
	registerPasskey(t, c, accessOf(t, c, "sam"), samKey)

	tests := []struct {
		name   string
		answer func(t *testing.T, ch *cognito.Challenge) json.RawMessage
		want   error
	}{
		{name: "forged signature", answer: func(t *testing.T, ch *cognito.Challenge) json.RawMessage {
			a.Forge = true
			defer func() { a.Forge = false }()
			return mustAssert(t, a, ch)
		}, want: cognito.ErrNotAuthorized},
		{name: "signature bytes garbled", answer: func(t *testing.T, ch *cognito.Challenge) json.RawMessage {
			return tamper(t, mustAssert(t, a, ch), "signature")
		}, want: cognito.ErrNotAuthorized},
		{name: "client data changed", answer: func(t *testing.T, ch *cognito.Challenge) json.RawMessage {
			return reencodeClientData(t, mustAssert(t, a, ch))
		}, want: cognito.ErrNotAuthorized},
		{name: "forged authenticator data", answer: func(t *testing.T, ch *cognito.Challenge) json.RawMessage {
			good, _ := a.Assert(ch.CredentialRequestOptions)
			return tamper(t, good, "authenticatorData")
		}, want: cognito.ErrNotAuthorized},
		{name: "counter gone backwards", answer: func(t *testing.T, ch *cognito.Challenge) json.RawMessage {
			id := a.Credentials()[0].ID
			_ = a.SetCounter(id, 0) // the server saw 1 at least
			return mustAssert(t, a, ch)
		}, want: cognito.ErrNotAuthorized},
		{name: "another origin", answer: func(t *testing.T, ch *cognito.Challenge) json.RawMessage {
			a.Origin = "https://evil.example"
			defer func() { a.Origin = pkOrigin }()
			return mustAssert(t, a, ch)
		}, want: cognito.ErrNotAuthorized},
		{name: "another RP ID", answer: func(t *testing.T, ch *cognito.Challenge) json.RawMessage {
			a.SignRPID = "evil.example"
			defer func() { a.SignRPID = "" }()
			return mustAssert(t, a, ch)
		}, want: cognito.ErrNotAuthorized},
		{name: "another user's passkey", answer: func(t *testing.T, ch *cognito.Challenge) json.RawMessage {
			var o map[string]any
			_ = json.Unmarshal(ch.CredentialRequestOptions, &o)
			delete(o, "allowCredentials")
			b, _ := json.Marshal(o)
			out, err := samKey.Assert(b)
			if err != nil {
				t.Fatal(err)
			}
			return out
		}, want: cognito.ErrNotAuthorized},
		{name: "another challenge", answer: func(t *testing.T, ch *cognito.Challenge) json.RawMessage {
			other := webAuthnChallenge(t, c, "pat")
			return mustAssert(t, a, other)
		}, want: cognito.ErrNotAuthorized},
		{name: "not a credential", answer: func(t *testing.T, ch *cognito.Challenge) json.RawMessage {
			return json.RawMessage(`{"id":"x"}`)
		}, want: cognito.ErrInvalidParameter},
		{name: "not an object", answer: func(t *testing.T, ch *cognito.Challenge) json.RawMessage {
			return json.RawMessage(`"abc"`)
		}},
	}
	// One good sign-in first, so the server's counter is above zero.
	ch := webAuthnChallenge(t, c, "pat")
	if done, err := c.Respond(ctx, ch, cognito.Answer{Credential: mustAssert(t, a, ch)}); err != nil || done.Tokens == nil {
		t.Fatalf("good sign-in: %+v, %v", done, err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := webAuthnChallenge(t, c, "pat")
			res, err := c.Respond(ctx, ch, cognito.Answer{Credential: tt.answer(t, ch)})
			switch {
			case tt.want == nil && (err == nil || errors.As(err, new(*cognito.Error))):
				t.Fatalf("got %+v, %v; want the library to refuse before sending", res, err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("got %+v, %v; want %v", res, err, tt.want)
			}
		})
	}
	// The authenticator still signs in after all that (its counter moved on).
	_ = a.SetCounter(a.Credentials()[0].ID, 100)
	ch = webAuthnChallenge(t, c, "pat")
	if done, err := c.Respond(ctx, ch, cognito.Answer{Credential: mustAssert(t, a, ch)}); err != nil || done.Tokens == nil {
		t.Fatalf("good sign-in after the bad ones: %+v, %v", done, err)
	}
}

func mustAssert(t *testing.T, a *webauthntest.Authenticator, ch *cognito.Challenge) json.RawMessage {
	t.Helper()
	out, err := a.Assert(ch.CredentialRequestOptions)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPasskeySignInExpiredAndMoved: a WEB_AUTHN challenge answered after its
// 3 minutes is refused; a passkey of an RP ID the pool no longer uses is not
// offered.
func TestPasskeySignInExpiredAndMoved(t *testing.T) {
	srv := passkeyEmu(t)
	ctx := context.Background()
	c := emuClient(t, srv, "pk", "web")
	a := webauthntest.New(pkOrigin)
	registerPasskey(t, c, accessOf(t, c, "pat"), a)

	ch := webAuthnChallenge(t, c, "pat")
	assertion := mustAssert(t, a, ch)
	srv.Advance(4 * time.Minute)
	if _, err := c.Respond(ctx, ch, cognito.Answer{Credential: assertion}); !errors.Is(err, cognito.ErrNotAuthorized) {
		t.Fatalf("expired challenge: %v", err)
	}

	// The pool moves to another relying party: the old passkey no longer counts.
	if _, err := c.API().SetUserPoolMfaConfig(ctx, &cip.SetUserPoolMfaConfigInput{
		UserPoolId:            aws.String(srv.PoolID("pk")),
		WebAuthnConfiguration: &types.WebAuthnConfigurationType{RelyingPartyId: aws.String("auth.example.com")},
	}); err != nil {
		t.Fatal(err)
	}
	if got := available(t, c, "pat"); slices.Contains(got, "WEB_AUTHN") {
		t.Fatalf("WEB_AUTHN offered for a passkey of the old RP ID: %v", got)
	}
}
