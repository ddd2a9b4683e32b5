package emulator_test

import (
	"bytes"
	"crypto/rsa"
	"encoding/base64"
	"github.com/cogauth/cogauth/clock"
	"math/big"
	"net/http"
	"testing"
)

func jwkToKey(t *testing.T, n, e string) *rsa.PublicKey {
	t.Helper()
	nb, err := base64.RawURLEncoding.DecodeString(n)
	if err != nil {
		t.Fatal(err)
	}
	eb, err := base64.RawURLEncoding.DecodeString(e)
	if err != nil {
		t.Fatal(err)
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(new(big.Int).SetBytes(eb).Int64())}
}

func newFake() *clock.Fake { return clock.NewFake(t0) }

// recorder is a minimal http.ResponseWriter for direct ServeHTTP calls.
type recorder struct {
	h    http.Header
	code int
	body bytes.Buffer
}

func newRecorder() *recorder { return &recorder{h: http.Header{}, code: 200} }

func (r *recorder) Header() http.Header         { return r.h }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(code int)        { r.code = code }
