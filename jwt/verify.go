package jwt

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/internal/errkind"
)

// Rule names the check a token failed.
type Rule string

// The rules Verify applies, in order.
const (
	RuleMalformed Rule = "malformed"
	RuleAlgorithm Rule = "alg"
	RuleCritical  Rule = "crit"
	RuleIssuer    Rule = "iss"
	RuleKey       Rule = "kid"
	RuleJWKS      Rule = "jwks"
	RuleSignature Rule = "signature"
	RuleTokenUse  Rule = "token_use"
	RuleClient    Rule = "client_id"
	RuleExpired   Rule = "exp"
	RuleNotBefore Rule = "nbf"
	RuleIssuedAt  Rule = "iat"
	RuleGroups    Rule = "groups"
	RuleScope     Rule = "scope"
	RuleCustom    Rule = "custom"
	RuleRevoked   Rule = "revoked"
)

// Sentinels for errors.Is, one per rule; ErrInvalid matches every verification
// failure. Only ErrJWKS (the keys could not be had) is retryable.
var (
	ErrInvalid        = errkind.New("jwt: token rejected", false)
	ErrAlgorithm      = errkind.New("jwt: algorithm not allowed", false)
	ErrCritical       = errkind.New("jwt: critical header parameter not understood", false)
	ErrIssuer         = errkind.New("jwt: issuer not allowed", false)
	ErrUnknownKey     = errkind.New("jwt: unknown signing key", false)
	ErrJWKS           = errkind.New("jwt: keys unavailable", true)
	ErrSignature      = errkind.New("jwt: bad signature", false)
	ErrTokenUse       = errkind.New("jwt: wrong token_use", false)
	ErrClient         = errkind.New("jwt: client not allowed", false)
	ErrExpired        = errkind.New("jwt: token expired", false)
	ErrNotYetValid    = errkind.New("jwt: token not valid yet", false)
	ErrIssuedInFuture = errkind.New("jwt: token issued in the future", false)
	ErrGroups         = errkind.New("jwt: required group missing", false)
	ErrScope          = errkind.New("jwt: required scope missing", false)
	ErrCustom         = errkind.New("jwt: custom check failed", false)
	ErrRevoked        = errkind.New("jwt: session signed out", false)
)

var ruleErrs = map[Rule]error{
	RuleMalformed: ErrMalformed, RuleAlgorithm: ErrAlgorithm, RuleCritical: ErrCritical, RuleIssuer: ErrIssuer,
	RuleKey: ErrUnknownKey, RuleJWKS: ErrJWKS, RuleSignature: ErrSignature,
	RuleTokenUse: ErrTokenUse, RuleClient: ErrClient, RuleExpired: ErrExpired,
	RuleNotBefore: ErrNotYetValid, RuleIssuedAt: ErrIssuedInFuture, RuleGroups: ErrGroups,
	RuleScope: ErrScope, RuleCustom: ErrCustom, RuleRevoked: ErrRevoked,
}

// VerifyError says which rule a token failed and why. Reason may quote claim values
// (an issuer, a token_use) but never the token or its signature.
type VerifyError struct {
	Rule   Rule
	Reason string
	Err    error // the underlying cause, if any
}

func (e *VerifyError) Error() string {
	s := "jwt: token rejected: " + string(e.Rule) + ": " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap matches ErrInvalid, the rule's sentinel and the cause.
func (e *VerifyError) Unwrap() []error {
	errs := []error{ErrInvalid, ruleErrs[e.Rule]}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// RetryableError reports whether verifying again may work: only when the
// issuer's keys could not be had (RuleJWKS); every other rule is a verdict on
// the token (aws-sdk-go-v2's behaviour, read by retry.IsErrorRetryable).
func (e *VerifyError) RetryableError() bool { return e.Rule == RuleJWKS }

func reject(rule Rule, err error, format string, args ...any) error {
	return &VerifyError{Rule: rule, Reason: fmt.Sprintf(format, args...), Err: err}
}

// quote shows an untrusted claim value in an error, bounded in length.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// CognitoIssuer returns the issuer URL of a user pool. The region is the part of
// the pool ID before the underscore.
func CognitoIssuer(poolID string) string {
	region, _, _ := strings.Cut(poolID, "_")
	return "https://cognito-idp." + region + ".amazonaws.com/" + poolID
}

// JWKSURL returns the JWKS location of an issuer, as Cognito publishes it.
func JWKSURL(issuer string) string {
	return strings.TrimSuffix(issuer, "/") + "/.well-known/jwks.json"
}

// VerifierOptions configure a Verifier.
type VerifierOptions struct {
	// Issuers are the accepted iss values, e.g. CognitoIssuer("eu-west-1_abc");
	// several pools may be accepted at once. Required.
	Issuers []string
	// JWKSURLs overrides where an issuer's keys are fetched (by issuer); by default
	// JWKSURL(issuer). The URL never comes from the token.
	JWKSURLs map[string]string
	// TokenUse is the required token_use; empty accepts both id and access tokens.
	TokenUse TokenUse
	// ClientIDs are the accepted app clients (aud of id tokens, client_id of
	// access tokens). Required unless AnyClient is set.
	ClientIDs []string
	// AnyClient turns the client check off, deliberately.
	AnyClient bool
	// Groups, if any, requires membership of at least one of them.
	Groups []string
	// Scopes, if any, requires at least one of them in the scope claim.
	Scopes []string
	// Check is called last, on every verification including cached ones; an error
	// rejects the token under RuleCustom.
	Check func(*Token) error
	// Revocations, when set, is asked after the signature and claims, on every
	// verification including cached ones, whether the token's session has been
	// signed out (by its origin_jti, which every token of one sign-in carries);
	// a revoked token is rejected under RuleRevoked. A token without origin_jti is
	// not asked about. websession.NewRevocations is one, fed by the apps' Bus.
	Revocations RevocationSource
	// Algorithms allowed in the header (RS256 when empty, which is what Cognito
	// signs with). The key must also agree: its alg when the JWKS names one,
	// otherwise its type and curve.
	Algorithms []string
	// Leeway tolerates clock difference in exp, nbf and iat (none when zero).
	Leeway time.Duration
	// Clock is the time source; the system clock when nil.
	Clock clock.Clock
	// JWKS shares a key cache between verifiers; when nil the verifier makes its
	// own with HTTPClient and Clock.
	JWKS *JWKSCache
	// HTTPClient fetches JWKS documents when JWKS is nil.
	HTTPClient *http.Client
	// CacheSize bounds the cache of verified tokens (DefaultCacheSize when zero;
	// negative turns it off). A cached token skips the signature check until it
	// expires; time rules and Check still run every time.
	CacheSize int
}

// RevocationSource knows the sessions that ended before their tokens expire.
// Revoked is called on every verification: it must answer from memory, fast and
// without blocking (no network call per token).
type RevocationSource interface {
	// Revoked reports whether the session whose tokens carry this origin_jti has
	// been signed out.
	Revoked(originJTI string) bool
}

// DefaultCacheSize is the default number of verified tokens a Verifier remembers.
const DefaultCacheSize = 4096

// Verifier checks Cognito tokens: signature against the issuer's published keys,
// then Cognito's claim rules. It is safe for concurrent use.
type Verifier struct {
	opts    VerifierOptions
	issuers map[string]string // iss → JWKS URL
	algs    map[string]bool
	clients map[string]bool
	clock   clock.Clock
	jwks    *JWKSCache
	cache   *verifiedCache
}

// NewVerifier checks the options and returns a Verifier.
func NewVerifier(opts VerifierOptions) (*Verifier, error) {
	if err := checkVerifierOptions(&opts); err != nil {
		return nil, err
	}
	v := &Verifier{
		opts:    opts,
		issuers: map[string]string{},
		algs:    map[string]bool{},
		clients: map[string]bool{},
		clock:   opts.Clock,
		jwks:    opts.JWKS,
	}
	if err := v.addIssuers(opts); err != nil {
		return nil, err
	}
	if err := v.addAlgorithms(opts.Algorithms); err != nil {
		return nil, err
	}
	for _, c := range opts.ClientIDs {
		v.clients[c] = true
	}
	if v.clock == nil {
		v.clock = clock.System{}
	}
	if v.jwks == nil {
		v.jwks = NewJWKSCache(JWKSCacheOptions{HTTPClient: opts.HTTPClient, Clock: v.clock})
	}
	size := opts.CacheSize
	if size == 0 {
		size = DefaultCacheSize
	}
	if size > 0 {
		v.cache = &verifiedCache{max: size, m: make(map[string]cachedToken)}
	}
	return v, nil
}

// checkVerifierOptions refuses options without issuers or clients, or with an
// unknown token use or a negative leeway.
func checkVerifierOptions(opts *VerifierOptions) error {
	if len(opts.Issuers) == 0 {
		return errors.New("jwt: NewVerifier: no issuers")
	}
	if len(opts.ClientIDs) == 0 && !opts.AnyClient {
		return errors.New("jwt: NewVerifier: no client IDs (set AnyClient to accept any)")
	}
	switch opts.TokenUse {
	case "", IDToken, AccessToken:
	default:
		return fmt.Errorf("jwt: NewVerifier: token use %q is neither id nor access", opts.TokenUse)
	}
	if opts.Leeway < 0 {
		return errors.New("jwt: NewVerifier: negative leeway")
	}
	return nil
}

// addIssuers accepts the issuers of opts, each with its JWKS URL.
func (v *Verifier) addIssuers(opts VerifierOptions) error {
	for _, iss := range opts.Issuers {
		if !strings.HasPrefix(iss, "https://") && !strings.HasPrefix(iss, "http://") {
			return fmt.Errorf("jwt: NewVerifier: issuer %q is not an http(s) URL", iss)
		}
		u := opts.JWKSURLs[iss]
		if u == "" {
			u = JWKSURL(iss)
		}
		v.issuers[iss] = u
	}
	return nil
}

// addAlgorithms allows algs (RS256 when there are none).
func (v *Verifier) addAlgorithms(algs []string) error {
	if len(algs) == 0 {
		algs = []string{RS256}
	}
	for _, a := range algs {
		if !knownAlg(a) {
			return fmt.Errorf("jwt: NewVerifier: algorithm %q is not supported (only asymmetric signatures are)", a)
		}
		v.algs[a] = true
	}
	return nil
}

// JWKS returns the verifier's key cache, e.g. to run its background refresh.
func (v *Verifier) JWKS() *JWKSCache { return v.jwks }

// Prefetch downloads every issuer's keys, so the first request does not wait.
func (v *Verifier) Prefetch(ctx context.Context) error {
	var errs []error
	for _, u := range v.issuers {
		if _, err := v.jwks.KeySet(ctx, u); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Verify decodes raw and checks it: algorithm, issuer, signature, token_use,
// client, exp/nbf/iat, groups, scopes, revocation and the custom check. Errors are
// *VerifyError naming the failed rule.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Token, error) {
	if v.cache != nil {
		if hit, ok := v.cache.get(raw); ok && hit.entry.set.Load().keys[hit.key.kid] == hit.key {
			// Still published under the same kid: the signature still holds.
			if err := v.checkTime(hit.tok); err != nil {
				return nil, err
			}
			if err := v.checkLive(hit.tok); err != nil {
				return nil, err
			}
			return hit.tok, nil
		}
	}
	t, err := Decode(raw)
	if err != nil {
		return nil, reject(RuleMalformed, err, "cannot decode")
	}
	key, entry, err := v.checkSignature(ctx, t)
	if err != nil {
		return nil, err
	}
	if err := v.checkStatic(&t.claims); err != nil {
		return nil, err
	}
	if err := v.checkTime(t); err != nil {
		return nil, err
	}
	if v.cache != nil {
		v.cache.put(raw, cachedToken{tok: t, key: key, entry: entry}, v.clock.Now())
	}
	if err := v.checkLive(t); err != nil {
		return nil, err
	}
	return t, nil
}

// checkSignature checks t's algorithm, critical parameters and issuer, and its
// signature with the issuer's key, which it returns with the key's JWKS entry.
func (v *Verifier) checkSignature(ctx context.Context, t *Token) (*publicKey, *jwksEntry, error) {
	h, c := t.header, &t.claims
	if !v.algs[h.Alg] {
		return nil, nil, reject(RuleAlgorithm, nil, "alg %s not allowed", quote(h.Alg))
	}
	if len(t.crit) > 0 {
		// RFC 7515 §4.1.11: an extension the recipient does not understand makes
		// the token invalid. This verifier understands none.
		return nil, nil, reject(RuleCritical, nil, "header names critical parameter %s, which this verifier does not understand", quote(t.crit[0]))
	}
	url, ok := v.issuers[c.Iss]
	if !ok {
		return nil, nil, reject(RuleIssuer, nil, "issuer %s not accepted", quote(c.Iss))
	}
	key, entry, err := v.jwks.lookup(ctx, url, h.Kid)
	switch {
	case errors.Is(err, errUnknownKid):
		return nil, nil, reject(RuleKey, nil, "kid %s not in the issuer's JWKS", quote(h.Kid))
	case err != nil:
		return nil, nil, reject(RuleJWKS, err, "cannot get the issuer's keys")
	}
	if !key.allows(h.Alg) {
		return nil, nil, reject(RuleAlgorithm, nil, "key %s does not allow alg %s", quote(h.Kid), quote(h.Alg))
	}
	if !key.verify(h.Alg, t.SigningInput(), t.sig) {
		return nil, nil, reject(RuleSignature, nil, "signature does not match key %s", quote(h.Kid))
	}
	return key, entry, nil
}

// checkLive applies the revocations and the custom checks.
func (v *Verifier) checkLive(t *Token) error {
	if err := v.checkRevoked(t); err != nil {
		return err
	}
	return v.checkCustom(t)
}

// checkStatic applies the rules whose outcome cannot change over a token's life.
func (v *Verifier) checkStatic(c *Claims) error {
	switch c.TokenUse {
	case IDToken, AccessToken:
	default:
		return reject(RuleTokenUse, nil, "token_use %s is neither id nor access", quote(string(c.TokenUse)))
	}
	if v.opts.TokenUse != "" && c.TokenUse != v.opts.TokenUse {
		return reject(RuleTokenUse, nil, "got %s token, want %s", c.TokenUse, v.opts.TokenUse)
	}
	if !v.opts.AnyClient {
		// Cognito puts the client in aud for id tokens and in client_id for
		// access tokens; take each from where its kind keeps it.
		var got []string
		if c.TokenUse == IDToken {
			got = c.Aud
		} else {
			got = []string{c.ClientID}
		}
		ok := false
		for _, g := range got {
			if v.clients[g] {
				ok = true
				break
			}
		}
		if !ok {
			shown := ""
			if len(got) > 0 {
				shown = got[0]
			}
			return reject(RuleClient, nil, "client %s not accepted", quote(shown))
		}
	}
	if len(v.opts.Groups) > 0 && !anyOf(v.opts.Groups, c.InGroup) {
		return reject(RuleGroups, nil, "user is in none of the required groups")
	}
	if len(v.opts.Scopes) > 0 && !anyOf(v.opts.Scopes, c.HasScope) {
		return reject(RuleScope, nil, "token has none of the required scopes")
	}
	return nil
}

func anyOf(want []string, has func(string) bool) bool {
	for _, w := range want {
		if has(w) {
			return true
		}
	}
	return false
}

func (v *Verifier) checkTime(t *Token) error {
	now := v.clock.Now()
	c := &t.claims
	lw := v.opts.Leeway
	if c.Exp.IsZero() {
		return reject(RuleExpired, nil, "no exp claim")
	}
	if !now.Before(c.Exp.Add(lw)) {
		return reject(RuleExpired, nil, "expired at %s", c.Exp.Format(time.RFC3339))
	}
	if !c.Nbf.IsZero() && now.Add(lw).Before(c.Nbf) {
		return reject(RuleNotBefore, nil, "not valid before %s", c.Nbf.Format(time.RFC3339))
	}
	if !c.Iat.IsZero() && now.Add(lw).Before(c.Iat) {
		return reject(RuleIssuedAt, nil, "issued at %s, in the future", c.Iat.Format(time.RFC3339))
	}
	return nil
}

func (v *Verifier) checkRevoked(t *Token) error {
	if v.opts.Revocations == nil || t.claims.OriginJTI == "" {
		return nil
	}
	if v.opts.Revocations.Revoked(t.claims.OriginJTI) {
		return reject(RuleRevoked, nil, "the session was signed out")
	}
	return nil
}

func (v *Verifier) checkCustom(t *Token) error {
	if v.opts.Check == nil {
		return nil
	}
	if err := v.opts.Check(t); err != nil {
		return reject(RuleCustom, err, "rejected")
	}
	return nil
}

type cachedToken struct {
	tok   *Token
	key   *publicKey
	entry *jwksEntry
}

// verifiedCache remembers tokens whose signature and static rules passed, keyed by
// the whole token string so that any change to any byte misses.
type verifiedCache struct {
	mu  sync.RWMutex
	m   map[string]cachedToken
	max int
}

func (c *verifiedCache) get(raw string) (cachedToken, bool) {
	c.mu.RLock()
	e, ok := c.m[raw]
	c.mu.RUnlock()
	return e, ok
}

func (c *verifiedCache) put(raw string, e cachedToken, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for k, old := range c.m {
			if !now.Before(old.tok.claims.Exp) {
				delete(c.m, k)
			}
		}
		// Still full of live tokens: drop an eighth of them (map order is
		// random enough) so that the next inserts do not rescan at once.
		for k := range c.m {
			if len(c.m) < c.max-c.max/8 {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[raw] = e
}
