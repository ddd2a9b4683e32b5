package session

// The binary layout of a stored session (binaryFormat), the one encoding every
// store writer uses and websession seals as it is (server store and cookies):
//
//	binaryMagic, binaryFormat, DEFLATE(fields)
//
// The fields are tag, length (uvarint), bytes, in tag order, absent ones left
// out; tags this release does not know are skipped, so a later one may add
// fields. Tokens (the access, id and refresh tokens) are their JWT/JWE
// segments, base64 undone: a count (3 or 5) and each segment's length and bytes,
// or 0 and the string as it is when it is not a token. The whole is compressed
// with DEFLATE under a dictionary of what Cognito's tokens share (claim names,
// the issuer's host, the headers), so the id token's claims cost little beyond
// the access token's; inflating stops at maxRecord bytes.

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"time"

	"compress/flate"
)

const (
	// binaryMagic starts a binary record: never the '{' of JSON.
	binaryMagic  = 0xC5
	binaryFormat = 2
	// maxRecord bounds an inflated record (a session is a few kilobytes).
	maxRecord = 1 << 20
)

// Field tags, in the order they are written.
const (
	tagUsername = iota + 1
	tagAccess
	tagID
	tagRefresh
	tagDeviceKey
	tagDeviceGroupKey
	tagDevicePassword
	tagLogin
	tagClockOffset
	tagSource
	tagDomain
	tagIdentityID
	tagIdentityPool
	tagCredentials
)

// Credential field tags (inside tagCredentials).
const (
	tagCredsAccessKeyID = iota + 1
	tagCredsSecret
	tagCredsSessionToken
	tagCredsExpires
	tagCredsCanExpire
)

// codecDict primes DEFLATE with what every Cognito session holds.
var codecDict = []byte(`{"kid":"","alg":"RS256"}{"cty":"JWT","enc":"A256GCM","alg":"RSA-OAEP"}` +
	`{"sub":"","cognito:groups":[""],"email_verified":true,"iss":"https://cognito-idp.us-east-1.amazonaws.com/us-east-1_",` +
	`"cognito:username":"","origin_jti":"","aud":"","event_id":"","token_use":"id","auth_time":17,"exp":17,"iat":17,"jti":"",` +
	`"email":"","client_id":"","token_use":"access","scope":"openid email profile aws.cognito.signin.user.admin","username":""}` +
	`hosted-uiuser-pool`)

type fieldWriter struct{ b bytes.Buffer }

func (w *fieldWriter) bytes(tag byte, p []byte) {
	var tmp [binary.MaxVarintLen64]byte
	w.b.WriteByte(tag)
	w.b.Write(tmp[:binary.PutUvarint(tmp[:], uint64(len(p)))])
	w.b.Write(p)
}

func (w *fieldWriter) str(tag byte, s string) {
	if s != "" {
		w.bytes(tag, []byte(s))
	}
}

func (w *fieldWriter) varint(tag byte, n int64) {
	if n != 0 {
		var tmp [binary.MaxVarintLen64]byte
		w.bytes(tag, tmp[:binary.PutVarint(tmp[:], n)])
	}
}

func (w *fieldWriter) token(tag byte, s string) {
	if s != "" {
		w.bytes(tag, packToken(s))
	}
}

// packToken is a JWT's or JWE's segments, base64 undone, or s as it is.
func packToken(s string) []byte {
	var b bytes.Buffer
	var tmp [binary.MaxVarintLen64]byte
	parts := strings.Split(s, ".")
	if len(parts) == 3 || len(parts) == 5 {
		segs := make([][]byte, len(parts))
		ok := true
		for i, p := range parts {
			seg, err := base64.RawURLEncoding.Strict().DecodeString(p)
			if err != nil || base64.RawURLEncoding.EncodeToString(seg) != p {
				ok = false
				break
			}
			segs[i] = seg
		}
		if ok {
			b.WriteByte(byte(len(segs)))
			for _, seg := range segs {
				b.Write(tmp[:binary.PutUvarint(tmp[:], uint64(len(seg)))])
				b.Write(seg)
			}
			return b.Bytes()
		}
	}
	b.WriteByte(0)
	b.WriteString(s)
	return b.Bytes()
}

func unpackToken(p []byte) (string, error) {
	if len(p) == 0 {
		return "", errorf("empty token field")
	}
	n := int(p[0])
	if n == 0 {
		return string(p[1:]), nil
	}
	if n != 3 && n != 5 {
		return "", errorf("a token of %d segments", n)
	}
	r := fieldReader{b: p[1:]}
	var s strings.Builder
	for i := range n {
		seg, ok := r.next()
		if !ok {
			return "", errorf("a cut token")
		}
		if i > 0 {
			s.WriteByte('.')
		}
		s.WriteString(base64.RawURLEncoding.EncodeToString(seg))
	}
	if len(r.b) != 0 {
		return "", errorf("bytes after a token")
	}
	return s.String(), nil
}

func errorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errBadRecord}, args...)...)
}

// fieldReader reads length-prefixed byte strings.
type fieldReader struct{ b []byte }

func (r *fieldReader) next() ([]byte, bool) {
	n, k := binary.Uvarint(r.b)
	if k <= 0 || n > uint64(len(r.b)-k) {
		return nil, false
	}
	p := r.b[k : k+int(n)]
	r.b = r.b[k+int(n):]
	return p, true
}

// fields calls fn for each tag and value of body, in order.
func fields(body []byte, fn func(tag byte, v []byte) error) error {
	last := byte(0)
	for len(body) > 0 {
		tag := body[0]
		r := fieldReader{b: body[1:]}
		v, ok := r.next()
		if !ok {
			return errorf("a cut field")
		}
		if tag <= last {
			return errorf("fields out of order")
		}
		last = tag
		if err := fn(tag, v); err != nil {
			return err
		}
		body = r.b
	}
	return nil
}

func varintOf(v []byte) (int64, error) {
	n, k := binary.Varint(v)
	if k <= 0 || k != len(v) {
		return 0, errorf("a bad number")
	}
	return n, nil
}

func encodeBinary(r *record) ([]byte, error) {
	var w fieldWriter
	w.str(tagUsername, r.Username)
	w.token(tagAccess, r.AccessToken)
	w.token(tagID, r.IDToken)
	w.token(tagRefresh, r.RefreshToken)
	w.str(tagDeviceKey, r.DeviceKey)
	w.str(tagDeviceGroupKey, r.DeviceGroupKey)
	w.str(tagDevicePassword, r.DevicePassword)
	w.str(tagLogin, r.Login)
	w.varint(tagClockOffset, r.ClockOffset)
	w.str(tagSource, string(r.Source))
	w.str(tagDomain, r.Domain)
	w.str(tagIdentityID, r.IdentityID)
	w.str(tagIdentityPool, r.IdentityPool)
	if c := r.Credentials; c != nil {
		var cw fieldWriter
		// The access key ID is written even when empty: the field's presence is
		// what says there are credentials.
		cw.bytes(tagCredsAccessKeyID, []byte(c.AccessKeyID))
		cw.str(tagCredsSecret, c.SecretAccessKey)
		cw.str(tagCredsSessionToken, c.SessionToken)
		if !c.Expires.IsZero() {
			// Seconds and nanoseconds: any year a time.Time holds.
			var tmp [2 * binary.MaxVarintLen64]byte
			n := binary.PutVarint(tmp[:], c.Expires.Unix())
			n += binary.PutUvarint(tmp[n:], uint64(c.Expires.Nanosecond()))
			cw.bytes(tagCredsExpires, tmp[:n])
		}
		if c.CanExpire {
			cw.bytes(tagCredsCanExpire, []byte{1})
		}
		w.bytes(tagCredentials, cw.b.Bytes())
	}
	var out bytes.Buffer
	out.WriteByte(binaryMagic)
	out.WriteByte(binaryFormat)
	zw, err := flate.NewWriterDict(&out, flate.BestCompression, codecDict)
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	if _, err := zw.Write(w.b.Bytes()); err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	return out.Bytes(), nil
}

func decodeBinary(b []byte) (*record, error) {
	body, err := inflateBinary(b)
	if err != nil {
		return nil, err
	}
	r := &record{Format: binaryFormat}
	if err := fields(body, r.setField); err != nil {
		return nil, err
	}
	return r, nil
}

// inflateBinary checks a binary record's magic and format and inflates its
// fields, at most maxRecord bytes.
func inflateBinary(b []byte) ([]byte, error) {
	if len(b) < 2 || b[0] != binaryMagic {
		return nil, errorf("not a binary record")
	}
	if b[1] != binaryFormat {
		return nil, errorf("format %d, want %d", b[1], binaryFormat)
	}
	zr := flate.NewReaderDict(bytes.NewReader(b[2:]), codecDict)
	body, err := io.ReadAll(io.LimitReader(zr, maxRecord+1))
	if err != nil {
		return nil, errorf("cannot inflate: %v", err)
	}
	if len(body) > maxRecord {
		return nil, errorf("more than %d bytes", maxRecord)
	}
	return body, nil
}

// setField sets the field tagged tag to its encoding v. Unknown tags (a later
// release's fields) are skipped.
func (r *record) setField(tag byte, v []byte) error {
	var err error
	switch tag {
	case tagAccess:
		r.AccessToken, err = unpackToken(v)
	case tagID:
		r.IDToken, err = unpackToken(v)
	case tagRefresh:
		r.RefreshToken, err = unpackToken(v)
	case tagClockOffset:
		r.ClockOffset, err = varintOf(v)
	case tagCredentials:
		r.Credentials, err = decodeCreds(v)
	default:
		if f := r.textField(tag); f != nil {
			*f = string(v)
		}
	}
	return err
}

// textField returns the record's plain-text field tagged tag, nil for none.
func (r *record) textField(tag byte) *string {
	switch tag {
	case tagUsername:
		return &r.Username
	case tagDeviceKey:
		return &r.DeviceKey
	case tagDeviceGroupKey:
		return &r.DeviceGroupKey
	case tagDevicePassword:
		return &r.DevicePassword
	case tagLogin:
		return &r.Login
	case tagSource:
		return (*string)(&r.Source)
	case tagDomain:
		return &r.Domain
	case tagIdentityID:
		return &r.IdentityID
	case tagIdentityPool:
		return &r.IdentityPool
	}
	return nil
}

func decodeCreds(v []byte) (*credsJSON, error) {
	c := &credsJSON{}
	err := fields(v, func(tag byte, v []byte) error {
		switch tag {
		case tagCredsAccessKeyID:
			c.AccessKeyID = string(v)
		case tagCredsSecret:
			c.SecretAccessKey = string(v)
		case tagCredsSessionToken:
			c.SessionToken = string(v)
		case tagCredsExpires:
			sec, k := binary.Varint(v)
			nsec, k2 := uint64(0), 0
			if k > 0 {
				nsec, k2 = binary.Uvarint(v[k:])
			}
			if k <= 0 || k2 <= 0 || k+k2 != len(v) || nsec >= 1e9 {
				return errorf("a bad expiry")
			}
			c.Expires = time.Unix(sec, int64(nsec)).UTC()
		case tagCredsCanExpire:
			c.CanExpire = len(v) == 1 && v[0] == 1
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}
