package jwt

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	gojwt "github.com/golang-jwt/jwt/v5"
)

func enc(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// compact builds an unsigned-looking token from raw JSON parts.
func compact(header, payload string, sig string) string {
	return enc(header) + "." + enc(payload) + "." + enc(sig)
}

const (
	cognitoHeader = `{"kid":"abc123=","alg":"RS256"}`
	idPayload     = `{"sub":"3f1e-uuid","cognito:groups":["admin","dev"],"email_verified":true,` +
		`"iss":"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool","cognito:username":"alice",` +
		`"origin_jti":"o-1","aud":"client-1","event_id":"e-1","token_use":"id","auth_time":1700000000,` +
		`"name":"Alice A","given_name":"Alice","family_name":"A","exp":1700003600,"iat":1700000000,` +
		`"jti":"j-1","email":"alice@example.com","custom:tenant":"acme","custom:level":7,"phone_number":"+100"}`
	accessPayload = `{"sub":"3f1e-uuid","cognito:groups":["admin"],"iss":"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool",` +
		`"client_id":"client-1","origin_jti":"o-1","event_id":"e-1","token_use":"access","scope":"aws.cognito.signin.user.admin openid",` +
		`"auth_time":1700000000,"exp":1700003600,"iat":1700000000,"jti":"j-2","username":"alice","device_key":"dk"}`
)

func TestDecodeCognitoTokens(t *testing.T) {
	id, err := Decode(compact(cognitoHeader, idPayload, "sig"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := id.Header(), (Header{Alg: "RS256", Kid: "abc123="}); got != want {
		t.Errorf("header = %+v, want %+v", got, want)
	}
	c := id.Claims()
	wantID := Claims{
		Sub: "3f1e-uuid", Iss: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool",
		Aud: []string{"client-1"}, TokenUse: IDToken,
		Exp: time.Unix(1700003600, 0).UTC(), Iat: time.Unix(1700000000, 0).UTC(), AuthTime: time.Unix(1700000000, 0).UTC(),
		Username: "alice", Groups: []string{"admin", "dev"}, OriginJTI: "o-1", EventID: "e-1", JTI: "j-1",
		Email: "alice@example.com", EmailVerified: true, PhoneNumber: "+100", Name: "Alice A", GivenName: "Alice", FamilyName: "A",
		Custom: map[string]string{"tenant": "acme", "level": "7"},
	}
	wantID.payload = c.payload
	if !reflect.DeepEqual(*c, wantID) {
		t.Errorf("id claims\n got %+v\nwant %+v", *c, wantID)
	}
	if c.Client() != "client-1" || !id.ExpiresAt().Equal(wantID.Exp) || !id.IssuedAt().Equal(wantID.Iat) {
		t.Errorf("Client/ExpiresAt/IssuedAt wrong: %q %v %v", c.Client(), id.ExpiresAt(), id.IssuedAt())
	}
	if string(id.Signature()) != "sig" {
		t.Errorf("signature = %q", id.Signature())
	}
	ui := c.UserInfo()
	if ui.Username != "alice" || !ui.EmailVerified || ui.Custom["tenant"] != "acme" || len(ui.Groups) != 2 {
		t.Errorf("user info = %+v", ui)
	}
	raw := c.Raw()
	if raw["custom:level"] != float64(7) || raw["cognito:username"] != "alice" {
		t.Errorf("raw = %v", raw)
	}

	at, err := Decode(compact(cognitoHeader, accessPayload, "sig"))
	if err != nil {
		t.Fatal(err)
	}
	ac := at.Claims()
	if ac.Client() != "client-1" || ac.Username != "alice" || at.Use() != AccessToken || ac.DeviceKey != "dk" {
		t.Errorf("access claims = %+v", ac)
	}
	if got := ac.Scopes(); !reflect.DeepEqual(got, []string{"aws.cognito.signin.user.admin", "openid"}) {
		t.Errorf("scopes = %q", got)
	}
	if !ac.HasScope("openid") || ac.HasScope("open") || !ac.InGroup("admin") || ac.InGroup("dev") {
		t.Error("HasScope/InGroup wrong")
	}
	if at.SigningInput() != enc(cognitoHeader)+"."+enc(accessPayload) {
		t.Error("signing input wrong")
	}
}

func TestDecodeClaimForms(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		check   func(*Claims) bool
	}{
		{"email_verified string true", `{"email_verified":"true"}`, func(c *Claims) bool { return c.EmailVerified }},
		{"email_verified string false", `{"email_verified":"false"}`, func(c *Claims) bool { return !c.EmailVerified }},
		{"email_verified false", `{"email_verified":false}`, func(c *Claims) bool { return !c.EmailVerified }},
		{"aud array", `{"aud":["a","b"]}`, func(c *Claims) bool { return reflect.DeepEqual(c.Aud, []string{"a", "b"}) }},
		{"null claims are absent", `{"sub":null,"exp":null,"cognito:groups":null}`, func(c *Claims) bool { return c.Sub == "" && c.Exp.IsZero() && c.Groups == nil }},
		{"fractional exp", `{"exp":1700000000.5}`, func(c *Claims) bool { return c.Exp.Equal(time.Unix(1700000000, 5e8)) }},
		{"exponent exp", `{"exp":1.7e9}`, func(c *Claims) bool { return c.Exp.Equal(time.Unix(1700000000, 0)) }},
		{"escaped strings", `{"sub":"a\"b\\c\u00e9\ud83d\ude00\n"}`, func(c *Claims) bool { return c.Sub == "a\"b\\cé😀\n" }},
		{"lone surrogate", `{"sub":"\ud800x"}`, func(c *Claims) bool { return c.Sub == "\uFFFDx" }},
		{"username wins over cognito:username", `{"cognito:username":"b","username":"a"}`, func(c *Claims) bool { return c.Username == "a" }},
		{"unknown claims skipped", `{"x":{"y":[1,2,{"z":null}],"w":true},"sub":"s"}`, func(c *Claims) bool { return c.Sub == "s" }},
		{"custom object kept as JSON", `{"custom:o":{"a":1}}`, func(c *Claims) bool { return c.Custom["o"] == `{"a":1}` }},
		{"whitespace", " {\n\t\"sub\" : \"s\" } ", func(c *Claims) bool { return c.Sub == "s" }},
		{"empty object", `{}`, func(c *Claims) bool { return c.Sub == "" && c.Custom == nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := Decode(compact(cognitoHeader, tt.payload, "s"))
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(tok.Claims()) {
				t.Errorf("claims = %+v", *tok.Claims())
			}
		})
	}
}

func TestDecodeMalformed(t *testing.T) {
	good := compact(cognitoHeader, `{"sub":"s"}`, "sig")
	h, p, s := enc(cognitoHeader), enc(`{"sub":"s"}`), enc("sig")
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"empty", "", ErrParts},
		{"one part", h, ErrParts},
		{"two parts", h + "." + p, ErrParts},
		{"four parts", good + ".x", ErrParts},
		{"too large", good + strings.Repeat("A", MaxTokenSize), ErrTooLarge},
		{"oversized header", enc(`{"alg":"RS256","x":"`+strings.Repeat("a", MaxHeaderSize)+`"}`) + "." + p + "." + s, ErrTooLarge},
		{"padding", enc(cognitoHeader) + "=." + p + "." + s, ErrEncoding},
		{"std alphabet", h + "." + p + "." + "ab+/", ErrEncoding},
		{"newline", h + "." + p[:4] + "\n" + p[4:] + "." + s, ErrEncoding},
		{"non base64", h + "." + p + ".!!!!", ErrEncoding},
		{"impossible length", h + "." + p + ".A", ErrEncoding},
		{"nonzero trailing bits", h + "." + p + ".AB", ErrEncoding},
		{"empty header", "." + p + "." + s, ErrHeader},
		{"header not json", enc("nope") + "." + p + "." + s, ErrHeader},
		{"header array", enc(`["alg"]`) + "." + p + "." + s, ErrHeader},
		{"header missing alg", enc(`{"kid":"k"}`) + "." + p + "." + s, ErrHeader},
		{"header alg number", enc(`{"alg":1}`) + "." + p + "." + s, ErrHeader},
		{"header duplicate alg", enc(`{"alg":"none","alg":"RS256"}`) + "." + p + "." + s, ErrHeader},
		{"header trailing data", enc(cognitoHeader+"{}") + "." + p + "." + s, ErrHeader},
		{"empty payload", h + ".." + s, ErrClaims},
		{"payload not json", h + "." + enc("{") + "." + s, ErrClaims},
		{"payload string", h + "." + enc(`"x"`) + "." + s, ErrClaims},
		{"exp string", h + "." + enc(`{"exp":"1"}`) + "." + s, ErrClaims},
		{"exp negative", h + "." + enc(`{"exp":-1}`) + "." + s, ErrClaims},
		{"exp huge", h + "." + enc(`{"exp":1e300}`) + "." + s, ErrClaims},
		{"groups string", h + "." + enc(`{"cognito:groups":"admin"}`) + "." + s, ErrClaims},
		{"groups of numbers", h + "." + enc(`{"cognito:groups":[1]}`) + "." + s, ErrClaims},
		{"email_verified yes", h + "." + enc(`{"email_verified":"yes"}`) + "." + s, ErrClaims},
		{"duplicate sub", h + "." + enc(`{"sub":"a","sub":"b"}`) + "." + s, ErrClaims},
		{"duplicate custom", h + "." + enc(`{"custom:a":"a","custom:a":"b"}`) + "." + s, ErrClaims},
		{"invalid utf8", h + "." + enc("{\"sub\":\"\xff\"}") + "." + s, ErrClaims},
		{"control char", h + "." + enc("{\"sub\":\"\x01\"}") + "." + s, ErrClaims},
		{"bad escape", h + "." + enc(`{"sub":"\x"}`) + "." + s, ErrClaims},
		{"bad number", h + "." + enc(`{"x":01}`) + "." + s, ErrClaims},
		{"too deep", h + "." + enc(`{"x":`+strings.Repeat("[", 40)+strings.Repeat("]", 40)+`}`) + "." + s, ErrClaims},
		{"trailing comma", h + "." + enc(`{"sub":"s",}`) + "." + s, ErrClaims},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := Decode(tt.token)
			if err == nil {
				t.Fatalf("Decode accepted it: %v", tok)
			}
			if !errors.Is(err, tt.want) || !errors.Is(err, ErrMalformed) {
				t.Errorf("err = %v, want %v and ErrMalformed", err, tt.want)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Errorf("err is %T, want *DecodeError", err)
			}
			if tt.token != "" && strings.Contains(err.Error(), tt.token[:min(len(tt.token), 12)]) {
				t.Errorf("error %q echoes the token", err)
			}
		})
	}
}

func TestTokenRedaction(t *testing.T) {
	raw := compact(cognitoHeader, accessPayload, "signature-bytes")
	tok, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	secret := Secret("refresh-token-value")
	type holder struct {
		T *Token
		S Secret
	}
	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("x", "token", tok, "secret", secret)
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("x", "token", tok, "secret", secret, "h", holder{tok, secret})
	js, err := json.Marshal(holder{tok, secret})
	if err != nil {
		t.Fatal(err)
	}
	txt, _ := tok.MarshalText()
	stxt, _ := secret.MarshalText()
	outputs := []string{logBuf.String(), string(js), string(txt), string(stxt)}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3s"} {
		outputs = append(outputs, fmt.Sprintf(verb, tok), fmt.Sprintf(verb, secret),
			fmt.Sprintf(verb, holder{tok, secret}), fmt.Sprintf(verb, &holder{tok, secret}),
			fmt.Sprintf(verb, []any{tok, secret}), fmt.Sprint(fmt.Errorf("wrapped: %v", tok)))
	}
	parts := strings.Split(raw, ".")
	secrets := []string{parts[1][:16], parts[2], "signature-bytes", "refresh-token-value", fmt.Sprintf("%x", "refresh-token-value")}
	for _, out := range outputs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("output leaks %q: %s", s, out)
			}
		}
	}
	if got := tok.String(); got != "jwt.Token{use=access sub=3f1e-uuid exp=2023-11-14T23:13:20Z}" {
		t.Errorf("String() = %q", got)
	}
	if got := fmt.Sprintf("%v|%q|%#v", secret, secret, secret); got != `[redacted]|"[redacted]"|secret.String([redacted])` {
		t.Errorf("secret forms = %s", got)
	}
	if Secret("").String() != "[empty]" || secret.Reveal() != "refresh-token-value" || tok.Raw() != raw {
		t.Error("Reveal/Raw/empty wrong")
	}
	var nilTok *Token
	if nilTok.String() != "jwt.Token(nil)" {
		t.Error("nil token String")
	}
	// Secrets still unmarshal as plain strings, so stored sessions can be read back.
	var back struct{ S Secret }
	if err := json.Unmarshal([]byte(`{"S":"v"}`), &back); err != nil || back.S.Reveal() != "v" {
		t.Errorf("unmarshal Secret: %v %q", err, back.S.Reveal())
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(compact(cognitoHeader, idPayload, "sig"))
	f.Add(compact(cognitoHeader, accessPayload, ""))
	f.Add(compact(`{"alg":"none"}`, `{"custom:x":[1,{"a":"\u00e9"}]}`, ""))
	f.Add("a.b.c")
	f.Add("..")
	f.Add(compact(`{"alg":"RS256","crit":["exp"],"exp":1}`, accessPayload, "sig"))
	f.Add(compact(`{"alg":"RS256","crit":[]}`, accessPayload, "sig"))
	f.Add(compact(`{"alg":"RS256","crit":["alg","b64"]}`, accessPayload, "sig"))
	f.Add(compact(`{"alg":"RS256","crit":"b64"}`, accessPayload, "sig"))
	f.Fuzz(func(t *testing.T, raw string) {
		tok, err := Decode(raw)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not match ErrMalformed", err)
			}
			if len(raw) >= 8 && strings.Contains(err.Error(), raw) {
				t.Fatalf("error echoes input: %v", err)
			}
			return
		}
		if tok.Raw() != raw || tok.Header().Alg == "" {
			t.Fatal("decoded token lost its input or alg")
		}
		// Whatever we accept, encoding/json must accept with the same strings.
		parts := strings.Split(raw, ".")
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var std struct {
			Sub    *string  `json:"sub"`
			Groups []string `json:"cognito:groups"`
		}
		if err := json.Unmarshal(payload, &std); err != nil {
			t.Fatalf("we accepted a payload encoding/json refuses: %v", err)
		}
		if std.Sub != nil && *std.Sub != tok.Claims().Sub {
			t.Fatalf("sub %q, encoding/json says %q", tok.Claims().Sub, *std.Sub)
		}
		if std.Groups != nil && !reflect.DeepEqual(std.Groups, tok.Claims().Groups) {
			t.Fatalf("groups %q, encoding/json says %q", tok.Claims().Groups, std.Groups)
		}
		// crit, when present, is what encoding/json reads, and well-formed.
		head, _ := base64.RawURLEncoding.DecodeString(parts[0])
		var h map[string]json.RawMessage // exact key match, unlike struct fields
		if err := json.Unmarshal(head, &h); err != nil {
			t.Fatalf("we accepted a header encoding/json refuses: %v", err)
		}
		crit := tok.Critical()
		critJSON, has := h["crit"]
		var stdCrit []string
		if has && json.Unmarshal(critJSON, &stdCrit) != nil {
			t.Fatalf("crit %q accepted, encoding/json cannot read it as strings", crit)
		}
		if has != (crit != nil) || (has && !reflect.DeepEqual(stdCrit, crit)) {
			t.Fatalf("crit %q, encoding/json says %q", crit, stdCrit)
		}
		for _, name := range crit {
			if name == "" || registeredHeaders[name] {
				t.Fatalf("crit %q accepted", crit)
			}
		}
		_ = tok.Claims().Raw()
		_ = tok.String()
	})
}

// FuzzScannerAgreesWithEncodingJSON checks the hand-written reader against
// encoding/json on arbitrary documents: it must refuse what encoding/json refuses,
// and accept every valid UTF-8 object encoding/json accepts.
func FuzzScannerAgreesWithEncodingJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, `{"a":[1,2.5e3,-0,true,false,null,"x\u0041"]}`, `{"a":{"b":{}}}`, `[1]`, `{"a":01}`, ` {"a" : "b" } `, `{"a":"\ud83d\ude00"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		sc := scanner{s: doc}
		err := sc.skip(0)
		if err == nil {
			err = sc.end()
		}
		valid := json.Valid([]byte(doc))
		if err == nil && !valid {
			t.Fatalf("scanner accepted invalid JSON %q", doc)
		}
		// Depth and UTF-8 limits are ours; beyond them both must agree.
		if err != nil && valid && utf8.ValidString(doc) && nesting(doc) <= maxDepth {
			t.Fatalf("scanner refused valid JSON %q: %v", doc, err)
		}
	})
}

func nesting(s string) int {
	d, m := 0, 0
	for _, c := range s {
		switch c {
		case '[', '{':
			d++
			m = max(m, d)
		case ']', '}':
			d--
		}
	}
	return m
}

func benchTokens() []string {
	return []string{compact(cognitoHeader, idPayload, strings.Repeat("s", 256)), compact(cognitoHeader, accessPayload, strings.Repeat("s", 256))}
}

// BenchmarkDecode runs our Decode and golang-jwt's ParseUnverified side by side on
// the same Cognito id and access tokens.
func BenchmarkDecode(b *testing.B) {
	toks := benchTokens()
	b.Run("cogauth", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := Decode(toks[i&1]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("golang-jwt-ParseUnverified", func(b *testing.B) {
		b.ReportAllocs()
		p := gojwt.NewParser()
		for i := 0; b.Loop(); i++ {
			if _, _, err := p.ParseUnverified(toks[i&1], gojwt.MapClaims{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
