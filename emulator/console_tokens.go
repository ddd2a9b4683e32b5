package emulator

import (
	"encoding/json"
	"strings"
	"sync"
	"time"
)

// issuedTokens keeps the claims of the last tokens the emulator signed, for the
// console's token list: the decoded claims only, never a signed token. Signing
// runs outside the emulator's lock, hence a lock of its own.
type issuedTokens struct {
	mu   sync.Mutex
	list []IssuedToken
	seq  int
}

// maxIssued bounds the tokens remembered.
const maxIssued = 200

// IssuedToken is one token the emulator signed, as decoded claims.
type IssuedToken struct {
	Seq      int            `json:"seq"`
	Time     time.Time      `json:"time"` // iat
	PoolID   string         `json:"poolId"`
	ClientID string         `json:"clientId"`
	Username string         `json:"username"`
	TokenUse string         `json:"tokenUse"` // access, id
	Claims   map[string]any `json:"claims"`
}

func (t *issuedTokens) add(pending []pendingJWT) {
	if t == nil || len(pending) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, p := range pending {
		// A JSON round trip copies the claims and gives them the types a
		// verifier decoding the token would see.
		raw, err := json.Marshal(p.claims)
		if err != nil {
			continue
		}
		var claims map[string]any
		if json.Unmarshal(raw, &claims) != nil {
			continue
		}
		str := func(k string) string { s, _ := claims[k].(string); return s }
		it := IssuedToken{PoolID: str("iss")[strings.LastIndexByte(str("iss"), '/')+1:], TokenUse: str("token_use"), Claims: claims}
		if iat, ok := claims["iat"].(float64); ok {
			it.Time = time.Unix(int64(iat), 0).UTC()
		}
		it.ClientID = str("client_id")
		if it.ClientID == "" {
			it.ClientID = str("aud")
		}
		it.Username = str("username")
		if it.Username == "" {
			it.Username = str("cognito:username")
		}
		t.seq++
		it.Seq = t.seq
		t.list = append(t.list, it)
	}
	if n := len(t.list) - maxIssued; n > 0 {
		t.list = append([]IssuedToken(nil), t.list[n:]...)
	}
}

// IssuedTokens returns the claims of the last tokens signed (at most 200), oldest
// first: what the console's token page shows.
func (e *Emulator) IssuedTokens() []IssuedToken {
	e.issued.mu.Lock()
	defer e.issued.mu.Unlock()
	return append([]IssuedToken(nil), e.issued.list...)
}
