package webauthntest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
)

// Authenticator flags (WebAuthn §6.1).
const (
	flagUP = 0x01
	flagUV = 0x04
	flagBE = 0x08
	flagBS = 0x10
	flagAT = 0x40
)

// Authenticator holds credentials and answers ceremonies. Its exported fields
// may be changed between calls (not during one); it is safe for concurrent use
// otherwise.
type Authenticator struct {
	// Origin is the clientDataJSON origin, as a browser on that page sets it
	// (e.g. "https://auth.example.com" or "http://localhost:8080").
	Origin string
	// Attestation is "none" (default) or "packed" (self attestation).
	Attestation string
	// NoUserVerification clears the UV flag (a security key without a PIN).
	NoUserVerification bool
	// SignRPID, when set, replaces the RP ID whose hash goes into authenticator
	// data (a credential of another relying party).
	SignRPID string
	// Attachment is the authenticatorAttachment reported ("platform" default).
	Attachment string
	// Transports are the transports reported (["internal"] default).
	Transports []string
	// AAGUID identifies the authenticator model (zero by default).
	AAGUID [16]byte
	// Forge corrupts every signature made (packed attestation, assertions)
	// after signing: a forged answer.
	Forge bool

	mu    sync.Mutex
	creds []*Credential
}

// Credential is a key pair the authenticator made.
type Credential struct {
	ID         []byte
	RPID       string
	UserHandle []byte
	Counter    uint32
	key        *ecdsa.PrivateKey
}

// New returns an authenticator for pages at origin.
func New(origin string) *Authenticator { return &Authenticator{Origin: origin} }

// Credentials returns copies of the credentials made so far.
func (a *Authenticator) Credentials() []Credential {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]Credential, 0, len(a.creds))
	for _, c := range a.creds {
		out = append(out, Credential{ID: bytes.Clone(c.ID), RPID: c.RPID, UserHandle: bytes.Clone(c.UserHandle), Counter: c.Counter})
	}
	return out
}

// SetCounter sets the signature counter of the credential id (the next
// assertion signs counter+1).
func (a *Authenticator) SetCounter(id []byte, counter uint32) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, c := range a.creds {
		if bytes.Equal(c.ID, id) {
			c.Counter = counter
			return nil
		}
	}
	return errors.New("webauthntest: no such credential")
}

// Forget removes every credential (the user deleted them on the device).
func (a *Authenticator) Forget() {
	a.mu.Lock()
	a.creds = nil
	a.mu.Unlock()
}

type descriptor struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

type creationOptions struct {
	Challenge string `json:"challenge"`
	RP        struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"rp"`
	User struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"user"`
	PubKeyCredParams []struct {
		Type string `json:"type"`
		Alg  int    `json:"alg"`
	} `json:"pubKeyCredParams"`
	ExcludeCredentials []descriptor `json:"excludeCredentials"`
}

// check refuses creation options without challenge, rp.id or user.id, or
// that do not offer ES256.
func (o *creationOptions) check() error {
	if o.Challenge == "" || o.RP.ID == "" || o.User.ID == "" {
		return errors.New("webauthntest: creation options need challenge, rp.id and user.id")
	}
	es256 := false
	for _, p := range o.PubKeyCredParams {
		es256 = es256 || (p.Type == "public-key" && p.Alg == -7)
	}
	if !es256 {
		return errors.New("webauthntest: NotSupportedError: ES256 not offered")
	}
	return nil
}

// holdsExcluded reports whether a credential of o.ExcludeCredentials is on
// this authenticator (a.mu held).
func (a *Authenticator) holdsExcluded(o *creationOptions) bool {
	for _, ex := range o.ExcludeCredentials {
		id, _ := b64d(ex.ID)
		for _, c := range a.creds {
			if bytes.Equal(c.ID, id) {
				return true
			}
		}
	}
	return false
}

// attestation is the format and statement of a.Attestation for a new
// credential's authData.
func (a *Authenticator) attestation(key *ecdsa.PrivateKey, authData, clientData []byte) (string, []byte, error) {
	switch a.Attestation {
	case "", "none":
		return "none", []byte{0xa0}, nil
	case "packed":
		sig, err := a.sign(key, authData, clientData)
		if err != nil {
			return "", nil, err
		}
		attStmt := append([]byte{0xa2}, cborText("alg")...)
		attStmt = append(attStmt, 0x26) // -7
		attStmt = append(attStmt, cborText("sig")...)
		attStmt = append(attStmt, cborBytes(sig)...)
		return "packed", attStmt, nil
	default:
		// An unknown format, for a relying party's "not supported" path.
		return a.Attestation, []byte{0xa0}, nil
	}
}

// Register creates a credential for creation options (PublicKeyCredentialCreationOptionsJSON)
// and returns the RegistrationResponseJSON.
func (a *Authenticator) Register(options []byte) (json.RawMessage, error) {
	var o creationOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, fmt.Errorf("webauthntest: creation options: %w", err)
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	userHandle, err := b64d(o.User.ID)
	if err != nil {
		return nil, fmt.Errorf("webauthntest: user.id: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.holdsExcluded(&o) {
		return nil, errors.New("webauthntest: InvalidStateError: a credential in excludeCredentials is on this authenticator")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	id := make([]byte, 32)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	cred := &Credential{ID: id, RPID: o.RP.ID, UserHandle: userHandle, key: key}
	clientData := a.clientData("webauthn.create", o.Challenge)
	authData := a.authData(o.RP.ID, flagAT, 0)
	authData = append(authData, a.AAGUID[:]...)
	authData = binary.BigEndian.AppendUint16(authData, uint16(len(id)))
	authData = append(authData, id...)
	authData = append(authData, coseKey(&key.PublicKey)...)

	fmtName, attStmt, err := a.attestation(key, authData, clientData)
	if err != nil {
		return nil, err
	}
	att := []byte{0xa3}
	att = append(att, cborText("fmt")...)
	att = append(att, cborText(fmtName)...)
	att = append(att, cborText("attStmt")...)
	att = append(att, attStmt...)
	att = append(att, cborText("authData")...)
	att = append(att, cborBytes(authData)...)

	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	a.creds = append(a.creds, cred)
	return json.Marshal(map[string]any{
		"id":    b64(id),
		"rawId": b64(id),
		"type":  "public-key",
		"response": map[string]any{
			"clientDataJSON":     b64(clientData),
			"attestationObject":  b64(att),
			"transports":         a.transports(),
			"publicKeyAlgorithm": -7,
			"publicKey":          b64(spki),
			"authenticatorData":  b64(authData),
		},
		"authenticatorAttachment": a.attachment(),
		"clientExtensionResults":  map[string]any{"credProps": map[string]bool{"rk": true}},
	})
}

type requestOptions struct {
	Challenge        string       `json:"challenge"`
	RPID             string       `json:"rpId"`
	AllowCredentials []descriptor `json:"allowCredentials"`
}

// Assert signs request options (PublicKeyCredentialRequestOptionsJSON) with a
// credential of the RP ID that allowCredentials lists (any of the RP ID's when
// the list is empty) and returns the AuthenticationResponseJSON. The
// credential's counter goes up by one.
func (a *Authenticator) Assert(options []byte) (json.RawMessage, error) {
	var o requestOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, fmt.Errorf("webauthntest: request options: %w", err)
	}
	if o.Challenge == "" || o.RPID == "" {
		return nil, errors.New("webauthntest: request options need challenge and rpId")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var cred *Credential
	for _, c := range a.creds {
		if c.RPID != o.RPID {
			continue
		}
		if len(o.AllowCredentials) == 0 {
			cred = c
			break
		}
		for _, d := range o.AllowCredentials {
			if id, _ := b64d(d.ID); bytes.Equal(id, c.ID) {
				cred = c
				break
			}
		}
		if cred != nil {
			break
		}
	}
	if cred == nil {
		return nil, errors.New("webauthntest: NotAllowedError: no credential for these options")
	}
	cred.Counter++
	clientData := a.clientData("webauthn.get", o.Challenge)
	authData := a.authData(o.RPID, 0, cred.Counter)
	sig, err := a.sign(cred.key, authData, clientData)
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"id":    b64(cred.ID),
		"rawId": b64(cred.ID),
		"type":  "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64(clientData),
			"authenticatorData": b64(authData),
			"signature":         b64(sig),
			"userHandle":        b64(cred.UserHandle),
		},
		"authenticatorAttachment": a.attachment(),
		"clientExtensionResults":  map[string]any{},
	})
}

func (a *Authenticator) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": a.Origin, "crossOrigin": false})
	return b
}

func (a *Authenticator) authData(rpID string, extra byte, counter uint32) []byte {
	if a.SignRPID != "" {
		rpID = a.SignRPID
	}
	h := sha256.Sum256([]byte(rpID))
	flags := byte(flagUP|flagBE|flagBS) | extra
	if !a.NoUserVerification {
		flags |= flagUV
	}
	out := append(h[:], flags)
	return binary.BigEndian.AppendUint32(out, counter)
}

func (a *Authenticator) attachment() string {
	if a.Attachment == "" {
		return "platform"
	}
	return a.Attachment
}

func (a *Authenticator) transports() []string {
	if a.Transports == nil {
		return []string{"internal"}
	}
	return a.Transports
}

// sign is the WebAuthn signature: ECDSA over authData || SHA-256(clientDataJSON).
func (a *Authenticator) sign(key *ecdsa.PrivateKey, authData, clientData []byte) ([]byte, error) {
	ch := sha256.Sum256(clientData)
	digest := sha256.Sum256(append(bytes.Clone(authData), ch[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err == nil && a.Forge {
		sig[len(sig)-1] ^= 0x01 // the last byte of s: still DER, no longer valid
	}
	return sig, err
}

// coseKey is the COSE_Key of an ES256 public key: {1: 2, 3: -7, -1: 1, -2: x, -3: y}.
func coseKey(pub *ecdsa.PublicKey) []byte {
	raw, _ := pub.Bytes() // 0x04 || x || y
	x, y := raw[1:33], raw[33:65]
	out := []byte{0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21}
	out = append(out, cborBytes(x)...)
	out = append(out, 0x22)
	return append(out, cborBytes(y)...)
}

func cborText(s string) []byte { return append(cborHead(0x60, len(s)), s...) }

func cborBytes(b []byte) []byte { return append(cborHead(0x40, len(b)), b...) }

func cborHead(major byte, n int) []byte {
	switch {
	case n < 24:
		return []byte{major | byte(n)}
	case n < 256:
		return []byte{major | 24, byte(n)}
	default:
		return binary.BigEndian.AppendUint16([]byte{major | 25}, uint16(n))
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func b64d(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(s)
}
