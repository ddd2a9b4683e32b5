package jwt

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cogauth/cogauth/internal/errkind"
)

// MaxTokenSize is the longest token Decode accepts, in bytes. Cognito tokens are
// one to a few KiB even with many groups and custom attributes; the limit keeps a
// hostile header from costing memory or CPU before any signature is checked.
const MaxTokenSize = 16 << 10

// MaxHeaderSize is the longest encoded header Decode accepts. Real headers are
// about a hundred bytes ({"kid":…,"alg":"RS256"}).
const MaxHeaderSize = 1 << 10

// Sentinels for the ways a token can be malformed; every one of them also matches
// ErrMalformed. Use errors.Is.
var (
	// ErrMalformed matches every decoding failure.
	ErrMalformed = errkind.New("jwt: malformed token", false)
	// ErrTooLarge: the token or its header is longer than allowed.
	ErrTooLarge = errkind.New("jwt: token too large", false)
	// ErrParts: the token is not three dot-separated parts.
	ErrParts = errkind.New("jwt: token must have three parts", false)
	// ErrEncoding: a part is not unpadded base64url.
	ErrEncoding = errkind.New("jwt: part is not unpadded base64url", false)
	// ErrHeader: the header is not a JSON object with a string alg.
	ErrHeader = errkind.New("jwt: invalid header", false)
	// ErrClaims: the payload is not a JSON object, or a registered claim has the
	// wrong type.
	ErrClaims = errkind.New("jwt: invalid claims", false)
)

// Part names a section of a compact JWT.
type Part string

// The parts of a compact JWT.
const (
	PartToken     Part = "token"
	PartHeader    Part = "header"
	PartPayload   Part = "payload"
	PartSignature Part = "signature"
)

// DecodeError says which part of a token is malformed and how. It never contains
// the token or any of its content other than a claim's name.
type DecodeError struct {
	Part   Part
	Reason string
	kind   error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("%v: %s: %s", e.kind, e.Part, e.Reason)
}

// Unwrap lets errors.Is match both the specific sentinel and ErrMalformed.
func (e *DecodeError) Unwrap() []error { return []error{e.kind, ErrMalformed} }

// RetryableError is false: the same token will not decode better (aws-sdk-go-v2's
// behaviour, read by retry.IsErrorRetryable).
func (e *DecodeError) RetryableError() bool { return false }

func malformed(kind error, part Part, reason string) error {
	return &DecodeError{Part: part, Reason: reason, kind: kind}
}

// Header is the JOSE header of a token.
type Header struct {
	Alg string // signing algorithm, e.g. RS256
	Typ string // usually empty for Cognito, "JWT" elsewhere
	Kid string // key ID in the issuer's JWKS
}

// TokenUse is Cognito's token_use claim.
type TokenUse string

// Cognito's two kinds of JWT.
const (
	AccessToken TokenUse = "access"
	IDToken     TokenUse = "id"
)

// Claims are a token's claims, with the ones Cognito uses typed. A claim absent
// from the token (or null) leaves its field at the zero value.
type Claims struct {
	Sub      string
	Iss      string
	Aud      []string // a single string in the token becomes a one-element slice
	ClientID string   // client_id, in access tokens
	TokenUse TokenUse
	Scope    string // space-separated; see Scopes
	Exp      time.Time
	Iat      time.Time
	Nbf      time.Time
	AuthTime time.Time
	// Username is "username" (access tokens) or "cognito:username" (id tokens).
	Username  string
	Groups    []string // cognito:groups
	OriginJTI string   // origin_jti
	EventID   string   // event_id
	JTI       string
	DeviceKey string // device_key, in access tokens of remembered devices

	Email               string
	EmailVerified       bool // accepts true/false or "true"/"false"
	PhoneNumber         string
	PhoneNumberVerified bool
	Name                string
	GivenName           string
	FamilyName          string
	// Custom holds custom:* attributes without the prefix. Cognito sends them as
	// strings; any other JSON value is kept as its JSON text.
	Custom map[string]string

	payload string // the decoded JSON, for Raw
}

// Scopes splits Scope on spaces.
func (c *Claims) Scopes() []string { return strings.Fields(c.Scope) }

// HasScope reports whether scope is among the token's scopes.
func (c *Claims) HasScope(scope string) bool {
	for s := range strings.FieldsSeq(c.Scope) {
		if s == scope {
			return true
		}
	}
	return false
}

// InGroup reports whether the user is in group.
func (c *Claims) InGroup(group string) bool {
	for _, g := range c.Groups {
		if g == group {
			return true
		}
	}
	return false
}

// Client returns the app client ID the token was issued to: client_id for access
// tokens, the audience for id tokens.
func (c *Claims) Client() string {
	if c.ClientID != "" {
		return c.ClientID
	}
	if len(c.Aud) > 0 {
		return c.Aud[0]
	}
	return ""
}

// Raw decodes every claim into a new map, as encoding/json would (numbers are
// float64). It decodes on each call so that Decode stays cheap for the common case
// of reading typed claims only; the caller owns the map.
func (c *Claims) Raw() map[string]any {
	m := map[string]any{}
	if c.payload != "" {
		// The payload was validated by Decode, so this cannot fail.
		_ = json.Unmarshal([]byte(c.payload), &m)
	}
	return m
}

// UserInfo is what an id token says about its user.
type UserInfo struct {
	Sub           string
	Username      string
	Email         string
	EmailVerified bool
	Name          string
	GivenName     string
	FamilyName    string
	PhoneNumber   string
	Groups        []string
	Custom        map[string]string // custom:* attributes without the prefix
}

// UserInfo collects the user attributes from the claims (normally an id token's;
// an access token carries only sub, username and groups).
func (c *Claims) UserInfo() UserInfo {
	return UserInfo{
		Sub:           c.Sub,
		Username:      c.Username,
		Email:         c.Email,
		EmailVerified: c.EmailVerified,
		Name:          c.Name,
		GivenName:     c.GivenName,
		FamilyName:    c.FamilyName,
		PhoneNumber:   c.PhoneNumber,
		Groups:        c.Groups,
		Custom:        c.Custom,
	}
}

// Token is a decoded, unverified JWT that keeps the original string. It is
// immutable and safe to share. It redacts itself wherever it may be printed or
// serialised; Raw is the only way to get the token back out.
type Token struct {
	raw       string
	signedLen int // length of "header.payload", the signing input
	header    Header
	crit      []string // the header's crit list (RFC 7515 §4.1.11), nil without one
	claims    Claims
	sig       []byte
}

// Critical returns the header parameters the token's "crit" names: extensions a
// recipient must understand or refuse the token (RFC 7515 §4.1.11). Verify
// understands none and refuses any token that has them. Nil without "crit".
func (t *Token) Critical() []string { return append([]string(nil), t.crit...) }

// Raw returns the original token string. Treat it as a secret.
func (t *Token) Raw() string { return t.raw }

// Header returns the token's header.
func (t *Token) Header() Header { return t.header }

// Claims returns the token's claims. The result points into the token; do not
// modify it.
func (t *Token) Claims() *Claims { return &t.claims }

// Signature returns a copy of the decoded signature bytes.
func (t *Token) Signature() []byte { return append([]byte(nil), t.sig...) }

// SigningInput returns "header.payload", the bytes the signature covers.
func (t *Token) SigningInput() string { return t.raw[:t.signedLen] }

// ExpiresAt returns the exp claim (zero if absent).
func (t *Token) ExpiresAt() time.Time { return t.claims.Exp }

// IssuedAt returns the iat claim (zero if absent).
func (t *Token) IssuedAt() time.Time { return t.claims.Iat }

// Use returns the token_use claim.
func (t *Token) Use() TokenUse { return t.claims.TokenUse }

var b64 = base64.RawURLEncoding.Strict()

// Decode parses a compact JWT without verifying it: exactly three parts of strict
// unpadded base64url, a header and a payload that are JSON objects, registered
// claims of the right types. Errors are *DecodeError and match the sentinels above;
// they never include the token.
func Decode(raw string) (*Token, error) {
	h, p, s, d2, err := splitToken(raw)
	if err != nil {
		return nil, err
	}
	if len(h) > MaxHeaderSize {
		return nil, malformed(ErrTooLarge, PartHeader, fmt.Sprintf("%d bytes, limit %d", len(h), MaxHeaderSize))
	}
	if h == "" {
		return nil, malformed(ErrHeader, PartHeader, "empty")
	}
	if p == "" {
		return nil, malformed(ErrClaims, PartPayload, "empty")
	}
	for _, part := range [...]struct {
		name Part
		s    string
	}{{PartHeader, h}, {PartPayload, p}, {PartSignature, s}} {
		if reason := checkAlphabet(part.s); reason != "" {
			return nil, malformed(ErrEncoding, part.name, reason)
		}
	}

	// One buffer for all three decoded parts, one string for header and payload:
	// the typed claims are substrings of it, so Decode allocates little.
	hl, pl := b64.DecodedLen(len(h)), b64.DecodedLen(len(p))
	buf := make([]byte, hl+pl+b64.DecodedLen(len(s)))
	var n int
	n, err = b64.Decode(buf, []byte(h))
	if err != nil {
		return nil, malformed(ErrEncoding, PartHeader, "bad base64url")
	}
	hl = n
	n, err = b64.Decode(buf[hl:], []byte(p))
	if err != nil {
		return nil, malformed(ErrEncoding, PartPayload, "bad base64url")
	}
	pl = n
	n, err = b64.Decode(buf[hl+pl:], []byte(s))
	if err != nil {
		return nil, malformed(ErrEncoding, PartSignature, "bad base64url")
	}
	text := string(buf[:hl+pl])
	t := &Token{raw: raw, signedLen: d2, sig: buf[hl+pl : hl+pl+n : hl+pl+n]}
	if err := parseHeader(text[:hl], &t.header, &t.crit); err != nil {
		return nil, err
	}
	if err := parseClaims(text[hl:], &t.claims); err != nil {
		return nil, err
	}
	return t, nil
}

// checkAlphabet refuses anything but the base64url alphabet: the standard
// decoder would skip newlines, and the '=' / '+' / '/' forms are not JWT.
func checkAlphabet(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' {
			continue
		}
		switch c {
		case '=':
			return "padding is not allowed"
		case '+', '/':
			return "standard base64 alphabet is not allowed"
		case ' ', '\t', '\r', '\n':
			return "whitespace is not allowed"
		default:
			return fmt.Sprintf("invalid character at offset %d", i)
		}
	}
	if len(s)%4 == 1 {
		return "impossible length"
	}
	return ""
}

// registeredHeaders are the header parameters RFC 7515 and RFC 7518 define for
// JWS; "crit" may not name them (§4.1.11).
var registeredHeaders = map[string]bool{
	"alg": true, "jku": true, "jwk": true, "kid": true, "x5u": true, "x5c": true,
	"x5t": true, "x5t#S256": true, "typ": true, "cty": true, "crit": true,
}

// parseCrit reads a "crit" value: a non-empty array of distinct strings, none of
// them a registered header parameter.
func parseCrit(sc *scanner) ([]string, error) {
	if sc.peek() != '[' {
		return nil, fmt.Errorf(`"crit" is a %s, want an array of strings`, sc.valueKind())
	}
	out := []string{}
	err := sc.array(func() error {
		if sc.peek() != '"' {
			return fmt.Errorf(`"crit" has a %s element, want strings`, sc.valueKind())
		}
		v, err := sc.str()
		if err != nil {
			return err
		}
		switch {
		case v == "":
			return errors.New(`"crit" names an empty parameter`)
		case registeredHeaders[v]:
			return fmt.Errorf(`"crit" names the registered header %q`, v)
		}
		for _, seen := range out {
			if seen == v {
				return errors.New(`"crit" names a parameter twice`)
			}
		}
		out = append(out, v)
		return nil
	})
	if err == nil && len(out) == 0 {
		err = errors.New(`"crit" is empty`)
	}
	return out, err
}

func parseHeader(text string, h *Header, crit *[]string) error {
	sc := scanner{s: text}
	var seen uint8
	err := sc.object(func(key string) error {
		var bit uint8
		var dst *string
		switch key {
		case "crit":
			if seen&8 != 0 {
				return errors.New(`duplicate "crit"`)
			}
			seen |= 8
			var err error
			*crit, err = parseCrit(&sc)
			return err
		case "alg":
			bit, dst = 1, &h.Alg
		case "typ":
			bit, dst = 2, &h.Typ
		case "kid":
			bit, dst = 4, &h.Kid
		default:
			return sc.skip(0)
		}
		if seen&bit != 0 {
			return fmt.Errorf("duplicate %q", key)
		}
		seen |= bit
		if sc.peek() != '"' {
			return fmt.Errorf("%q is a %s, want a string", key, sc.valueKind())
		}
		v, err := sc.str()
		*dst = v
		return err
	})
	if err == nil {
		err = sc.end()
	}
	if err != nil {
		return malformed(ErrHeader, PartHeader, err.Error())
	}
	if h.Alg == "" {
		return malformed(ErrHeader, PartHeader, `missing "alg"`)
	}
	return nil
}

// claim identifiers, as bits of a duplicate-detection mask: a token with two
// values for one registered claim is refused, because different parsers would
// disagree about which one counts.
const (
	cSub = 1 << iota
	cIss
	cAud
	cClientID
	cTokenUse
	cScope
	cExp
	cIat
	cNbf
	cAuthTime
	cUsername
	cCognitoUsername
	cGroups
	cOriginJTI
	cEventID
	cJTI
	cDeviceKey
	cEmail
	cEmailVerified
	cPhone
	cPhoneVerified
	cName
	cGivenName
	cFamilyName
)

// claimParser reads a payload's claims into c, refusing duplicates.
type claimParser struct {
	sc                        scanner
	c                         *Claims
	seen                      uint32
	username, cognitoUsername string
}

func parseClaims(text string, c *Claims) error {
	p := &claimParser{sc: scanner{s: text}, c: c}
	err := p.sc.object(p.field)
	if err == nil {
		err = p.sc.end()
	}
	if err != nil {
		return malformed(ErrClaims, PartPayload, err.Error())
	}
	c.Username = p.username
	if c.Username == "" {
		c.Username = p.cognitoUsername
	}
	c.payload = text
	return nil
}

// field reads the value of one member of the payload.
func (p *claimParser) field(key string) error {
	if handled, err := p.registered(key); handled {
		return err
	}
	if handled, err := p.cognito(key); handled {
		return err
	}
	if name, ok := strings.CutPrefix(key, "custom:"); ok {
		return p.custom(name)
	}
	return p.sc.skip(0)
}

// registered reads the claims of RFC 7519 and OAuth that Cognito's tokens carry.
func (p *claimParser) registered(key string) (bool, error) {
	c := p.c
	switch key {
	case "sub":
		return true, p.str(cSub, key, &c.Sub)
	case "iss":
		return true, p.str(cIss, key, &c.Iss)
	case "aud":
		return true, p.strs(cAud, key, &c.Aud, true)
	case "client_id":
		return true, p.str(cClientID, key, &c.ClientID)
	case "token_use":
		return true, p.str(cTokenUse, key, (*string)(&c.TokenUse))
	case "scope":
		return true, p.str(cScope, key, &c.Scope)
	case "exp":
		return true, p.date(cExp, key, &c.Exp)
	case "iat":
		return true, p.date(cIat, key, &c.Iat)
	case "nbf":
		return true, p.date(cNbf, key, &c.Nbf)
	case "auth_time":
		return true, p.date(cAuthTime, key, &c.AuthTime)
	case "jti":
		return true, p.str(cJTI, key, &c.JTI)
	}
	return false, nil
}

// cognito reads Cognito's own claims and the user's standard attributes.
func (p *claimParser) cognito(key string) (bool, error) {
	c := p.c
	switch key {
	case "username":
		return true, p.str(cUsername, key, &p.username)
	case "cognito:username":
		return true, p.str(cCognitoUsername, key, &p.cognitoUsername)
	case "cognito:groups":
		return true, p.strs(cGroups, key, &c.Groups, false)
	case "origin_jti":
		return true, p.str(cOriginJTI, key, &c.OriginJTI)
	case "event_id":
		return true, p.str(cEventID, key, &c.EventID)
	case "device_key":
		return true, p.str(cDeviceKey, key, &c.DeviceKey)
	case "email":
		return true, p.str(cEmail, key, &c.Email)
	case "email_verified":
		return true, p.boolean(cEmailVerified, key, &c.EmailVerified)
	case "phone_number":
		return true, p.str(cPhone, key, &c.PhoneNumber)
	case "phone_number_verified":
		return true, p.boolean(cPhoneVerified, key, &c.PhoneNumberVerified)
	case "name":
		return true, p.str(cName, key, &c.Name)
	case "given_name":
		return true, p.str(cGivenName, key, &c.GivenName)
	case "family_name":
		return true, p.str(cFamilyName, key, &c.FamilyName)
	}
	return false, nil
}

// custom reads a custom:name attribute (a string, or any other value as its text).
func (p *claimParser) custom(name string) error {
	c := p.c
	if c.Custom == nil {
		c.Custom = make(map[string]string, 4)
	}
	if _, dup := c.Custom[name]; dup {
		return errors.New("duplicate custom attribute")
	}
	var v string
	var err error
	if p.sc.peek() == '"' {
		v, err = p.sc.str()
	} else {
		v, err = p.sc.rawValue()
	}
	c.Custom[name] = v
	return err
}

// once refuses a claim seen before.
func (p *claimParser) once(bit uint32, key string) error {
	if p.seen&bit != 0 {
		return fmt.Errorf("duplicate %q", key)
	}
	p.seen |= bit
	return nil
}

func (p *claimParser) str(bit uint32, key string, dst *string) error {
	if err := p.once(bit, key); err != nil {
		return err
	}
	sc := &p.sc
	switch sc.peek() {
	case '"':
		v, err := sc.str()
		*dst = v
		return err
	case 'n':
		if sc.literal("null") {
			return nil
		}
	}
	return fmt.Errorf("%q is a %s, want a string", key, sc.valueKind())
}

func (p *claimParser) date(bit uint32, key string, dst *time.Time) error {
	if err := p.once(bit, key); err != nil {
		return err
	}
	sc := &p.sc
	if sc.peek() == 'n' && sc.literal("null") {
		return nil
	}
	if k := sc.valueKind(); k != "number" {
		return fmt.Errorf("%q is a %s, want a number", key, k)
	}
	text, err := sc.number()
	if err != nil {
		return err
	}
	sec, nsec, ok := parseNumericDate(text)
	if !ok {
		return fmt.Errorf("%q is not a date in range", key)
	}
	*dst = time.Unix(sec, nsec).UTC()
	return nil
}

func (p *claimParser) boolean(bit uint32, key string, dst *bool) error {
	if err := p.once(bit, key); err != nil {
		return err
	}
	sc := &p.sc
	switch sc.peek() {
	case 't', 'f', 'n':
		switch {
		case sc.literal("true"):
			*dst = true
			return nil
		case sc.literal("false"), sc.literal("null"):
			return nil
		}
	case '"':
		return p.quotedBoolean(key, dst)
	}
	return fmt.Errorf("%q is a %s, want a boolean", key, sc.valueKind())
}

// quotedBoolean reads "true" or "false": Cognito's own tokens carry booleans,
// but tokens that passed through other systems (and moto's) carry strings.
func (p *claimParser) quotedBoolean(key string, dst *bool) error {
	v, err := p.sc.str()
	if err != nil {
		return err
	}
	switch v {
	case "true":
		*dst = true
		return nil
	case "false":
		return nil
	}
	return fmt.Errorf("%q is a string other than \"true\" or \"false\"", key)
}

func (p *claimParser) strs(bit uint32, key string, dst *[]string, single bool) error {
	if err := p.once(bit, key); err != nil {
		return err
	}
	sc := &p.sc
	switch sc.peek() {
	case '"':
		if single {
			v, err := sc.str()
			*dst = []string{v}
			return err
		}
	case 'n':
		if sc.literal("null") {
			return nil
		}
	case '[':
		out := []string{}
		err := sc.array(func() error {
			if sc.peek() != '"' {
				return fmt.Errorf("%q has a %s element, want strings", key, sc.valueKind())
			}
			v, err := sc.str()
			out = append(out, v)
			return err
		})
		*dst = out
		return err
	}
	return fmt.Errorf("%q is a %s, want an array of strings", key, sc.valueKind())
}

// splitToken splits raw into its header, payload and signature (still
// encoded), and returns where the signing input ends.
func splitToken(raw string) (h, p, s string, d2 int, err error) {
	if len(raw) > MaxTokenSize {
		return "", "", "", 0, malformed(ErrTooLarge, PartToken, fmt.Sprintf("%d bytes, limit %d", len(raw), MaxTokenSize))
	}
	if raw == "" {
		return "", "", "", 0, malformed(ErrParts, PartToken, "empty")
	}
	d1 := strings.IndexByte(raw, '.')
	if d1 < 0 {
		return "", "", "", 0, malformed(ErrParts, PartToken, "found 1 part")
	}
	d2 = strings.IndexByte(raw[d1+1:], '.')
	if d2 < 0 {
		return "", "", "", 0, malformed(ErrParts, PartToken, "found 2 parts")
	}
	d2 += d1 + 1
	if n := strings.Count(raw[d2+1:], "."); n > 0 {
		return "", "", "", 0, malformed(ErrParts, PartToken, fmt.Sprintf("found %d parts", 3+n))
	}
	return raw[:d1], raw[d1+1 : d2], raw[d2+1:], d2, nil
}
