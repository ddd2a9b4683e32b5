package jwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/cogauth/cogauth/internal/errkind"
)

// Algorithms the verifier knows. All are asymmetric: a verifier holds only public
// keys, so an HMAC "signature" made with a public key (the classic confusion
// attack) or an unsigned token can never pass.
const (
	RS256 = "RS256"
	RS384 = "RS384"
	RS512 = "RS512"
	ES256 = "ES256"
	ES384 = "ES384"
	ES512 = "ES512"
	EdDSA = "EdDSA"
)

// minRSABits refuses toy RSA keys a misconfigured JWKS might publish.
const minRSABits = 2048

// maxJWKSKeys bounds how many keys one JWKS may hold; real ones hold two to four.
const maxJWKSKeys = 100

func knownAlg(alg string) bool {
	switch alg {
	case RS256, RS384, RS512, ES256, ES384, ES512, EdDSA:
		return true
	}
	return false
}

// ErrJWKSFormat matches JWKS documents that cannot be parsed.
var ErrJWKSFormat = errkind.New("jwt: invalid JWKS", false)

// KeySet is a parsed JSON Web Key Set: the usable public signing keys by kid.
// Keys that cannot be used for verification (symmetric keys, encryption keys,
// unknown types, invalid parameters) are left out rather than failing the set,
// so that one odd key does not stop every token from verifying.
type KeySet struct {
	keys    map[string]*publicKey
	skipped int
}

// Kids lists the key IDs in the set, sorted.
func (s *KeySet) Kids() []string {
	out := make([]string, 0, len(s.keys))
	for k := range s.keys {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Skipped says how many keys of the document were left out as unusable.
func (s *KeySet) Skipped() int { return s.skipped }

// Key returns the public key with the given kid (*rsa.PublicKey,
// *ecdsa.PublicKey or ed25519.PublicKey) and the algorithm the JWKS pins it to
// ("" when the JWKS does not say).
func (s *KeySet) Key(kid string) (pub crypto.PublicKey, alg string, ok bool) {
	k := s.keys[kid]
	if k == nil {
		return nil, "", false
	}
	return k.pub, k.alg, true
}

type publicKey struct {
	kid string
	alg string // as the JWKS pins it; empty means "what the key type allows"
	pub crypto.PublicKey
}

// allows reports whether a token header's alg may be verified with this key: the
// key's own alg must match when present, and the key's type and curve must fit.
func (k *publicKey) allows(alg string) bool {
	if k.alg != "" && k.alg != alg {
		return false
	}
	switch p := k.pub.(type) {
	case *rsa.PublicKey:
		return alg == RS256 || alg == RS384 || alg == RS512
	case *ecdsa.PublicKey:
		switch alg {
		case ES256:
			return p.Curve == elliptic.P256()
		case ES384:
			return p.Curve == elliptic.P384()
		case ES512:
			return p.Curve == elliptic.P521()
		}
	case ed25519.PublicKey:
		return alg == EdDSA
	}
	return false
}

// verify checks sig over input; the caller has already checked allows(alg).
func (k *publicKey) verify(alg, input string, sig []byte) bool {
	switch p := k.pub.(type) {
	case *rsa.PublicKey:
		h, sum := hashFor(alg, input)
		return rsa.VerifyPKCS1v15(p, h, sum, sig) == nil
	case *ecdsa.PublicKey:
		// JWS carries r||s, each padded to the curve's byte size (RFC 7518 3.4).
		size := (p.Curve.Params().BitSize + 7) / 8
		if len(sig) != 2*size {
			return false
		}
		_, sum := hashFor(alg, input)
		r := new(big.Int).SetBytes(sig[:size])
		s := new(big.Int).SetBytes(sig[size:])
		return ecdsa.Verify(p, sum, r, s)
	case ed25519.PublicKey:
		return ed25519.Verify(p, []byte(input), sig)
	}
	return false
}

func hashFor(alg, input string) (crypto.Hash, []byte) {
	switch alg[2:] {
	case "384":
		s := sha512.Sum384([]byte(input))
		return crypto.SHA384, s[:]
	case "512":
		s := sha512.Sum512([]byte(input))
		return crypto.SHA512, s[:]
	default:
		s := sha256.Sum256([]byte(input))
		return crypto.SHA256, s[:]
	}
}

type rawJWK struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	D   string `json:"d"`
}

// ParseJWKS parses a JWKS document ({"keys":[…]}).
func ParseJWKS(data []byte) (*KeySet, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrJWKSFormat, err)
	}
	if doc.Keys == nil {
		return nil, fmt.Errorf(`%w: no "keys" array`, ErrJWKSFormat)
	}
	if len(doc.Keys) > maxJWKSKeys {
		return nil, fmt.Errorf("%w: %d keys, limit %d", ErrJWKSFormat, len(doc.Keys), maxJWKSKeys)
	}
	set := &KeySet{keys: make(map[string]*publicKey, len(doc.Keys))}
	for _, m := range doc.Keys {
		var r rawJWK
		if json.Unmarshal(m, &r) != nil {
			set.skipped++
			continue
		}
		k, err := parseJWK(&r)
		if err != nil {
			set.skipped++
			continue
		}
		if _, dup := set.keys[k.kid]; dup {
			// Two keys under one kid: we could not tell which signed a token.
			delete(set.keys, k.kid)
			set.skipped += 2
			continue
		}
		set.keys[k.kid] = k
	}
	return set, nil
}

func parseJWK(r *rawJWK) (*publicKey, error) {
	if r.Use != "" && r.Use != "sig" {
		return nil, errors.New("not a signing key")
	}
	if r.D != "" {
		// A private key in a public document is a publisher's mistake; using it
		// would hide that.
		return nil, errors.New("private key material")
	}
	if r.Alg != "" && !knownAlg(r.Alg) {
		return nil, errors.New("unsupported alg")
	}
	k := &publicKey{kid: r.Kid, alg: r.Alg}
	var err error
	switch r.Kty {
	case "RSA":
		k.pub, err = rsaJWK(r)
	case "EC":
		k.pub, err = ecJWK(r)
	case "OKP":
		k.pub, err = okpJWK(r)
	default:
		return nil, errors.New("unsupported key type")
	}
	if err != nil {
		return nil, err
	}
	return k, nil
}

// rsaJWK is the RSA public key of r.
func rsaJWK(r *rawJWK) (*rsa.PublicKey, error) {
	n, err := jwkInt(r.N)
	if err != nil {
		return nil, err
	}
	e, err := jwkInt(r.E)
	if err != nil {
		return nil, err
	}
	if n.BitLen() < minRSABits {
		return nil, errors.New("RSA key too short")
	}
	if !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 || e.Bit(0) == 0 {
		return nil, errors.New("bad RSA exponent")
	}
	return &rsa.PublicKey{N: n, E: int(e.Int64())}, nil
}

// ecJWK is the ECDSA public key of r.
func ecJWK(r *rawJWK) (*ecdsa.PublicKey, error) {
	var curve elliptic.Curve
	switch r.Crv {
	case "P-256":
		curve = elliptic.P256()
	case "P-384":
		curve = elliptic.P384()
	case "P-521":
		curve = elliptic.P521()
	default:
		return nil, errors.New("unsupported curve")
	}
	size := (curve.Params().BitSize + 7) / 8
	x, err1 := jwkBytes(r.X)
	y, err2 := jwkBytes(r.Y)
	if err1 != nil || err2 != nil || len(x) != size || len(y) != size {
		return nil, errors.New("bad EC coordinates")
	}
	point := append(append([]byte{4}, x...), y...)
	return ecdsa.ParseUncompressedPublicKey(curve, point)
}

// okpJWK is the Ed25519 public key of r.
func okpJWK(r *rawJWK) (ed25519.PublicKey, error) {
	x, err := jwkBytes(r.X)
	if r.Crv != "Ed25519" || err != nil || len(x) != ed25519.PublicKeySize {
		return nil, errors.New("bad OKP key")
	}
	return ed25519.PublicKey(x), nil
}

// jwkBytes decodes a JWK member. JWKs are base64url without padding, but some
// publishers pad, and a key is public data, so padding is tolerated here (unlike
// in tokens).
func jwkBytes(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("missing member")
	}
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

func jwkInt(s string) (*big.Int, error) {
	b, err := jwkBytes(s)
	if err != nil {
		return nil, err
	}
	return new(big.Int).SetBytes(b), nil
}
