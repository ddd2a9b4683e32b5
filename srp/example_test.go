package srp_test

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/cogauth/cogauth/secret"
	"github.com/cogauth/cogauth/srp"
)

// One USER_SRP_AUTH exchange, both halves: the client proves it knows the
// password, the server checks it against the stored verifier, and the password
// never travels.
func Example() {
	const poolID, userID, password = "us-east-1_AbC123", "alice-sub", "Corr3ct-Horse!"
	prefix := srp.PoolName(poolID)

	// Sign-up (server side): keep a salt and a verifier, never the password.
	salt, verifier, err := srp.NewVerifier(rand.Reader, prefix, userID, password)
	if err != nil {
		log.Fatal(err)
	}

	// The client sends SRP_A; the server answers SRP_B, the SALT and a SECRET_BLOCK.
	client, err := srp.NewClient(rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	server, err := srp.NewServer(rand.Reader, verifier)
	if err != nil {
		log.Fatal(err)
	}
	block := make([]byte, 64)
	_, _ = rand.Read(block)
	claim := srp.Claim{
		Prefix: prefix, UserID: userID, Password: secret.String(password), SaltHex: salt,
		SecretBlock: secret.String(base64.StdEncoding.EncodeToString(block)),
		Timestamp:   srp.Timestamp(time.Date(2026, 3, 1, 9, 5, 7, 0, time.UTC)),
	}

	// The client answers with PASSWORD_CLAIM_SIGNATURE; the server verifies it.
	sig, err := client.Signature(server.SRPB(), claim)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("prefix:", prefix)
	fmt.Println("timestamp:", claim.Timestamp)
	fmt.Println("right password:", server.Verify(client.SRPA(), claim, sig))

	claim.Password = "guess"
	bad, err := client.Signature(server.SRPB(), claim)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("wrong password refused:", errors.Is(server.Verify(client.SRPA(), claim, bad), srp.ErrBadSignature))
	// Output:
	// prefix: AbC123
	// timestamp: Sun Mar 1 09:05:07 UTC 2026
	// right password: <nil>
	// wrong password refused: true
}
