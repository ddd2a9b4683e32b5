package websession

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"sync"

	"github.com/cogauth/cogauth/internal/errkind"
	"github.com/cogauth/cogauth/internal/redact"
)

// idLen is the session ID's size: 256 bits from crypto/rand.
const idLen = 32

// sessionID is the secret the cookie carries. It is never logged, stored or
// published: the store knows only its HMAC, and the data are sealed under a key
// derived from it.
type sessionID [idLen]byte

func newSessionID() (sessionID, error) {
	var id sessionID
	if _, err := rand.Read(id[:]); err != nil {
		return id, fmt.Errorf("websession: reading randomness: %w", err)
	}
	return id, nil
}

// encodedIDLen is the cookie value's length: unpadded base64url of 32 bytes.
var encodedIDLen = base64.RawURLEncoding.EncodedLen(idLen)

func (id sessionID) cookieValue() string { return base64.RawURLEncoding.EncodeToString(id[:]) }

// parseSessionID reads a cookie value; anything but exactly 43 base64url
// characters is refused before any work is done on it.
func parseSessionID(v string) (sessionID, bool) {
	var id sessionID
	if len(v) != encodedIDLen {
		return id, false
	}
	n, err := base64.RawURLEncoding.Strict().Decode(id[:], []byte(v))
	return id, err == nil && n == idLen
}

// keys are what the configured Secret becomes: one key per use, so that no
// output of one can be replayed as another.
//
// The two HMAC keys are boxed (a pointer to a pointer, which fmt never follows),
// so that no printing of a Sessions reaches them; the AEADs' keys sit behind
// the cipher's own pointers.
type keys struct {
	hash   redact.Box[*[32]byte] // HMAC of session IDs (store names)
	cookie cipher.AEAD           // sign-in state cookies
	index  cipher.AEAD           // the user-to-sessions index
	users  redact.Box[*[32]byte] // HMAC of subs (the index's key names)
	// hmacs holds *hmacState: an HMAC keyed with hash, its pads hashed once, so
	// naming a session costs two SHA-256 blocks and no allocation.
	hmacs sync.Pool
}

type hmacState struct {
	h   hash.Hash
	in  sessionID
	sum [sha256.Size]byte
}

func deriveKeys(secret []byte) (*keys, error) {
	if len(secret) < 32 {
		return nil, errors.New("websession: Config.Secret must be at least 32 random bytes")
	}
	k := &keys{}
	var err error
	if k.hash, err = hmacKey(secret, "cogauth websession v1 hash"); err != nil {
		return nil, err
	}
	if k.cookie, err = aeadFrom(secret, "cogauth websession v1 login state"); err != nil {
		return nil, err
	}
	if k.index, err = aeadFrom(secret, "cogauth websession v1 user index"); err != nil {
		return nil, err
	}
	if k.users, err = hmacKey(secret, "cogauth websession v1 user name"); err != nil {
		return nil, err
	}
	return k, nil
}

// hmacKey derives the 32-byte key of info from secret, boxed.
func hmacKey(secret []byte, info string) (redact.Box[*[32]byte], error) {
	b, err := hkdf.Key(sha256.New, secret, nil, info, 32)
	if err != nil {
		return redact.Box[*[32]byte]{}, err
	}
	return redact.NewBox((*[32]byte)(b)), nil
}

// userTag is what names a user in the store: the HMAC-SHA256 of the sub under
// a key derived from the Secret, so that key names list no user and cannot be
// tried against guessed subs without the Secret.
func (k *keys) userTag(sub string) (t [sha256.Size]byte) {
	h := hmac.New(sha256.New, k.users.Get()[:])
	h.Write([]byte(sub))
	h.Sum(t[:0])
	return t
}

func aeadFrom(secret []byte, info string) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, secret, nil, info, 32)
	if err != nil {
		return nil, err
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// sessionName is a session's HMAC-SHA256 (keyed with keys.hash): what this
// replica's cache is keyed by; its hex form (String) names the session in the
// store and on the Bus.
type sessionName [sha256.Size]byte

func (n sessionName) String() string { return hex.EncodeToString(n[:]) }

// parseName reads the hex form of a name (64 lower-case hex digits): Bus
// messages are outside input.
func parseName(s string) (sessionName, bool) {
	var n sessionName
	if !validName(s) {
		return n, false
	}
	_, err := hex.Decode(n[:], []byte(s))
	return n, err == nil
}

// name returns the name of the session with this ID.
func (k *keys) name(id sessionID) sessionName {
	s, _ := k.hmacs.Get().(*hmacState)
	if s == nil {
		s = &hmacState{h: hmac.New(sha256.New, k.hash.Get()[:])}
	}
	// Written from the pooled state, so that id does not escape to the heap.
	s.in = id
	s.h.Reset()
	s.h.Write(s.in[:])
	var n sessionName
	copy(n[:], s.h.Sum(s.sum[:0]))
	s.in = sessionID{}
	k.hmacs.Put(s)
	return n
}

// sessionAEAD is the key a session's records are sealed under: derived from the
// ID alone (with the HMAC key as salt), so the store's contents open only with
// the cookie in hand.
func (k *keys) sessionAEAD(id sessionID) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, id[:], k.hash.Get()[:], "cogauth websession v1 seal", 32)
	if err != nil {
		return nil, err
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// sealVersion starts every sealed blob, so that the format can change.
const sealVersion = 1

// seal encrypts plain with a random nonce, binding it to ad.
func seal(a cipher.AEAD, plain, ad []byte) ([]byte, error) {
	out := make([]byte, 1+a.NonceSize(), 1+a.NonceSize()+len(plain)+a.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("websession: reading randomness: %w", err)
	}
	return a.Seal(out, out[1:], plain, ad), nil
}

var errUnseal = errkind.New("websession: sealed data do not open", false)

// unseal opens what seal made, with the same ad.
func unseal(a cipher.AEAD, sealed, ad []byte) ([]byte, error) {
	n := a.NonceSize()
	if len(sealed) < 1+n+a.Overhead() || sealed[0] != sealVersion {
		return nil, errUnseal
	}
	plain, err := a.Open(nil, sealed[1:1+n], sealed[1+n:], ad)
	if err != nil {
		return nil, errUnseal
	}
	return plain, nil
}
