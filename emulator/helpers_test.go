package emulator_test

import (
	"crypto/rsa"
	"encoding/base64"
	"github.com/cogauth/cogauth/internal/clock"
	"math/big"
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
