package srp

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"time"

	"github.com/cogauth/cogauth/secret"
)

// The 3072-bit MODP group of RFC 3526 (section 4), generator 2, as Cognito uses.
const nHex = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF"

// group holds the immutable SRP parameters. It is computed once and only read,
// so sharing it is safe; nothing here is mutable state.
var group = func() struct{ n, g, k *big.Int } {
	n, ok := new(big.Int).SetString(nHex, 16)
	if !ok {
		panic("srp: bad group constant")
	}
	g := big.NewInt(2)
	k := new(big.Int).SetBytes(sha256Sum(padBytes(n), padBytes(g)))
	return struct{ n, g, k *big.Int }{n, g, k}
}()

// secretBytes is the size of the random exponents a and b, as Cognito's clients use.
const secretBytes = 128

// hkdfInfo is the HKDF info string Cognito uses to derive the signing key.
const hkdfInfo = "Caldera Derived Key\x01"

// Errors returned for inputs that cannot take part in a valid exchange.
var (
	// ErrBadSignature means a PASSWORD_CLAIM_SIGNATURE did not match: a wrong
	// password, a forged claim or a claim for another challenge.
	ErrBadSignature = errors.New("srp: password claim signature does not match")
	// ErrBadParameter means an SRP value (A, B, salt, secret block, timestamp)
	// is malformed or unsafe, such as A or B that are 0 mod N.
	ErrBadParameter = errors.New("srp: bad parameter")
)

// PoolName returns the SRP prefix of a user pool: the part of its ID after the
// underscore ("us-east-1_AbC" gives "AbC").
func PoolName(userPoolID string) string {
	if i := strings.IndexByte(userPoolID, '_'); i >= 0 {
		return userPoolID[i+1:]
	}
	return userPoolID
}

// timestampLayout is Cognito's TIMESTAMP: UTC, English names, the day of the month
// without padding.
const timestampLayout = "Mon Jan 2 15:04:05 UTC 2006"

// Timestamp formats t as Cognito expects in the TIMESTAMP challenge response.
func Timestamp(t time.Time) string {
	return t.UTC().Format(timestampLayout)
}

// ParseTimestamp parses a TIMESTAMP strictly: a zero-padded day, a missing field
// or any other spelling than Timestamp's is refused, as Cognito refuses it.
func ParseTimestamp(s string) (time.Time, error) {
	t, err := time.Parse(timestampLayout, s)
	if err != nil || Timestamp(t) != s {
		return time.Time{}, fmt.Errorf("%w: TIMESTAMP is not of the form %q", ErrBadParameter, timestampLayout)
	}
	return t, nil
}

// Claim is what a password claim signature covers and is derived from.
type Claim struct {
	// Prefix is PoolName(poolID) for users and the device group key for devices.
	Prefix string
	// UserID is USER_ID_FOR_SRP for users and the device key for devices.
	UserID string
	// Password is the user's password or the device password. Servers ignore it.
	Password secret.String
	// SaltHex is the SALT challenge parameter. Servers ignore it.
	SaltHex string
	// SecretBlock is the SECRET_BLOCK challenge parameter, base64.
	SecretBlock secret.String
	// Timestamp is Timestamp(now).
	Timestamp string
}

// Client is the client half of one SRP exchange. Use a new Client per sign-in.
type Client struct {
	a, bigA *big.Int
}

// NewClient draws a secret exponent from r (crypto/rand.Reader in production).
func NewClient(r io.Reader) (*Client, error) {
	buf := make([]byte, secretBytes)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("srp: reading randomness: %w", err)
	}
	a := new(big.Int).SetBytes(buf)
	return NewClientWithSecret(a.Mod(a, group.n))
}

// NewClientWithSecret uses a fixed secret exponent a. It exists for test vectors;
// a predictable a gives the password away.
func NewClientWithSecret(a *big.Int) (*Client, error) {
	if a == nil || a.Sign() <= 0 {
		return nil, fmt.Errorf("%w: secret exponent must be positive", ErrBadParameter)
	}
	bigA := new(big.Int).Exp(group.g, a, group.n)
	if bigA.Sign() == 0 {
		return nil, fmt.Errorf("%w: A is 0 mod N", ErrBadParameter)
	}
	return &Client{a: new(big.Int).Set(a), bigA: bigA}, nil
}

// SRPA returns A in hex, the SRP_A auth parameter.
func (c *Client) SRPA() string { return c.bigA.Text(16) }

// Signature computes PASSWORD_CLAIM_SIGNATURE (base64) for the server's SRP_B and
// the claim.
func (c *Client) Signature(srpBHex string, cl Claim) (string, error) {
	bigB, err := parsePublic("SRP_B", srpBHex)
	if err != nil {
		return "", err
	}
	salt, err := parseHex("SALT", cl.SaltHex)
	if err != nil {
		return "", err
	}
	u := scramble(c.bigA, bigB)
	if u.Sign() == 0 {
		return "", fmt.Errorf("%w: u is 0", ErrBadParameter)
	}
	x := privateKey(cl.Prefix, cl.UserID, cl.Password.Reveal(), salt)
	// S = (B - k*g^x) ^ (a + u*x) mod N
	gx := new(big.Int).Exp(group.g, x, group.n)
	base := new(big.Int).Mul(group.k, gx)
	base.Sub(bigB, base)
	base.Mod(base, group.n)
	exp := new(big.Int).Mul(u, x)
	exp.Add(exp, c.a)
	s := new(big.Int).Exp(base, exp, group.n)
	return sign(deriveKey(s, u), cl)
}

// Server is the server half of one SRP exchange for one stored verifier.
type Server struct {
	v, b, bigB *big.Int
}

// NewServer draws b from r and computes B = k*v + g^b for the verifier.
func NewServer(r io.Reader, verifierHex string) (*Server, error) {
	v, err := parseHex("verifier", verifierHex)
	if err != nil {
		return nil, err
	}
	if new(big.Int).Mod(v, group.n).Sign() == 0 {
		return nil, fmt.Errorf("%w: verifier is 0 mod N", ErrBadParameter)
	}
	buf := make([]byte, secretBytes)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("srp: reading randomness: %w", err)
	}
	b := new(big.Int).SetBytes(buf)
	b.Mod(b, group.n)
	if b.Sign() == 0 {
		b.SetInt64(1)
	}
	bigB := new(big.Int).Mul(group.k, v)
	bigB.Add(bigB, new(big.Int).Exp(group.g, b, group.n))
	bigB.Mod(bigB, group.n)
	return &Server{v: v, b: b, bigB: bigB}, nil
}

// SRPB returns B in hex, the SRP_B challenge parameter.
func (s *Server) SRPB() string { return s.bigB.Text(16) }

// Verify checks a PASSWORD_CLAIM_SIGNATURE against the client's SRP_A. It returns
// nil when the client knew the password behind the verifier, ErrBadSignature when
// it did not, and an ErrBadParameter error for malformed input.
func (s *Server) Verify(srpAHex string, cl Claim, signature string) error {
	bigA, err := parsePublic("SRP_A", srpAHex)
	if err != nil {
		return err
	}
	if _, err := base64.StdEncoding.DecodeString(cl.SecretBlock.Reveal()); err != nil {
		return fmt.Errorf("%w: SECRET_BLOCK is not base64", ErrBadParameter)
	}
	if _, err := ParseTimestamp(cl.Timestamp); err != nil {
		return err
	}
	got, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		return fmt.Errorf("%w: PASSWORD_CLAIM_SIGNATURE is not base64", ErrBadParameter)
	}
	u := scramble(bigA, s.bigB)
	if u.Sign() == 0 {
		return fmt.Errorf("%w: u is 0", ErrBadParameter)
	}
	// S = (A * v^u) ^ b mod N
	base := new(big.Int).Exp(s.v, u, group.n)
	base.Mul(base, bigA)
	base.Mod(base, group.n)
	sv := new(big.Int).Exp(base, s.b, group.n)
	want, err := sign(deriveKey(sv, u), cl)
	if err != nil {
		return err
	}
	wantRaw, _ := base64.StdEncoding.DecodeString(want)
	if subtle.ConstantTimeCompare(got, wantRaw) != 1 {
		return ErrBadSignature
	}
	return nil
}

// ComputeVerifier returns v = g^x in hex for a password and salt.
func ComputeVerifier(prefix, userID string, password secret.String, saltHex string) (string, error) {
	salt, err := parseHex("salt", saltHex)
	if err != nil {
		return "", err
	}
	x := privateKey(prefix, userID, password.Reveal(), salt)
	return new(big.Int).Exp(group.g, x, group.n).Text(16), nil
}

// NewVerifier draws a 16-byte salt from r and returns it with the verifier.
func NewVerifier(r io.Reader, prefix, userID string, password secret.String) (saltHex, verifierHex string, err error) {
	buf := make([]byte, 16)
	if _, err := io.ReadFull(r, buf); err != nil {
		return "", "", fmt.Errorf("srp: reading randomness: %w", err)
	}
	saltHex = hex.EncodeToString(padBytes(new(big.Int).SetBytes(buf)))
	verifierHex, err = ComputeVerifier(prefix, userID, password, saltHex)
	return saltHex, verifierHex, err
}

// DeviceSecret is what confirming a device creates: the random device password
// the client keeps, and the verifier and salt (base64) it sends in ConfirmDevice's
// DeviceSecretVerifierConfig.
type DeviceSecret struct {
	Password         secret.String
	PasswordVerifier secret.String
	Salt             string
}

// NewDeviceSecret creates a random device password and its verifier for a device.
func NewDeviceSecret(r io.Reader, deviceGroupKey, deviceKey string) (DeviceSecret, error) {
	pw := make([]byte, 40)
	if _, err := io.ReadFull(r, pw); err != nil {
		return DeviceSecret{}, fmt.Errorf("srp: reading randomness: %w", err)
	}
	password := secret.String(base64.StdEncoding.EncodeToString(pw))
	saltHex, verifierHex, err := NewVerifier(r, deviceGroupKey, deviceKey, password)
	if err != nil {
		return DeviceSecret{}, err
	}
	v, _ := new(big.Int).SetString(verifierHex, 16)
	salt, _ := new(big.Int).SetString(saltHex, 16)
	return DeviceSecret{
		Password:         password,
		PasswordVerifier: secret.String(base64.StdEncoding.EncodeToString(padBytes(v))),
		Salt:             base64.StdEncoding.EncodeToString(padBytes(salt)),
	}, nil
}

// VerifierFromConfig turns ConfirmDevice's base64 PasswordVerifier and Salt into
// the hex values a Server and the DEVICE_SRP_AUTH challenge use.
func VerifierFromConfig(passwordVerifierB64, saltB64 string) (verifierHex, saltHex string, err error) {
	v, err := base64.StdEncoding.DecodeString(passwordVerifierB64)
	if err != nil || len(v) == 0 {
		return "", "", fmt.Errorf("%w: PasswordVerifier is not base64", ErrBadParameter)
	}
	s, err := base64.StdEncoding.DecodeString(saltB64)
	if err != nil || len(s) == 0 {
		return "", "", fmt.Errorf("%w: Salt is not base64", ErrBadParameter)
	}
	return new(big.Int).SetBytes(v).Text(16), new(big.Int).SetBytes(s).Text(16), nil
}

// maxHexLen bounds parsed numbers: twice N's size is more than any valid value.
const maxHexLen = 2 * len(nHex)

func parseHex(name, s string) (*big.Int, error) {
	if s == "" || len(s) > maxHexLen {
		return nil, fmt.Errorf("%w: %s is empty or too long", ErrBadParameter, name)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return nil, fmt.Errorf("%w: %s is not hex", ErrBadParameter, name)
		}
	}
	n, _ := new(big.Int).SetString(s, 16)
	return n, nil
}

// parsePublic parses A or B and refuses values that are 0 mod N, which would
// let the other side force the shared secret.
func parsePublic(name, s string) (*big.Int, error) {
	n, err := parseHex(name, s)
	if err != nil {
		return nil, err
	}
	if new(big.Int).Mod(n, group.n).Sign() == 0 {
		return nil, fmt.Errorf("%w: %s is 0 mod N", ErrBadParameter, name)
	}
	return n, nil
}

// padBytes is the big-endian encoding Cognito hashes: minimal bytes, with a zero
// byte in front when the top bit is set (so the value reads as positive).
func padBytes(n *big.Int) []byte {
	b := n.Bytes()
	if len(b) == 0 || b[0]&0x80 != 0 {
		return append([]byte{0}, b...)
	}
	return b
}

func sha256Sum(parts ...[]byte) []byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

// scramble is u = H(pad(A) | pad(B)).
func scramble(bigA, bigB *big.Int) *big.Int {
	return new(big.Int).SetBytes(sha256Sum(padBytes(bigA), padBytes(bigB)))
}

// privateKey is x = H(pad(salt) | H(prefix | userID | ":" | password)).
func privateKey(prefix, userID, password string, salt *big.Int) *big.Int {
	inner := sha256.Sum256([]byte(prefix + userID + ":" + password))
	return new(big.Int).SetBytes(sha256Sum(padBytes(salt), inner[:]))
}

// deriveKey is Cognito's HKDF-SHA256 of S with u as salt, 16 bytes.
func deriveKey(s, u *big.Int) []byte {
	ext := hmac.New(sha256.New, padBytes(u))
	ext.Write(padBytes(s))
	prk := ext.Sum(nil)
	exp := hmac.New(sha256.New, prk)
	exp.Write([]byte(hkdfInfo))
	return exp.Sum(nil)[:16]
}

func sign(key []byte, cl Claim) (string, error) {
	block, err := base64.StdEncoding.DecodeString(cl.SecretBlock.Reveal())
	if err != nil {
		return "", fmt.Errorf("%w: SECRET_BLOCK is not base64", ErrBadParameter)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(cl.Prefix))
	m.Write([]byte(cl.UserID))
	m.Write(block)
	m.Write([]byte(cl.Timestamp))
	return base64.StdEncoding.EncodeToString(m.Sum(nil)), nil
}
