package bearer

import (
	"context"
	"errors"
	"strings"

	"github.com/cogauth/cogauth/jwt"
)

// Verifier checks a token; *jwt.Verifier is one.
type Verifier interface {
	Verify(ctx context.Context, raw string) (*jwt.Token, error)
}

// FromHeader takes the token from an Authorization value: "Bearer <token>" (scheme
// case-insensitive) or the bare token. It returns "" when there is none (a
// scheme alone is none).
func FromHeader(h string) string {
	h = strings.TrimSpace(h)
	if strings.EqualFold(h, "Bearer") {
		return ""
	}
	if scheme, rest, ok := strings.Cut(h, " "); ok {
		if !strings.EqualFold(scheme, "Bearer") {
			return ""
		}
		return strings.TrimSpace(rest)
	}
	return h
}

// Code is the kind of refusal, which each transport renders as its own status.
type Code int

const (
	// OK lets the call through.
	OK Code = iota
	// Unauthenticated: no token, or one that fails verification (HTTP 401).
	Unauthenticated
	// PermissionDenied: a valid token without the scope or group the method
	// requires (HTTP 403).
	PermissionDenied
	// Unavailable: the issuer's keys cannot be fetched, so the token may well be
	// fine and the client should keep it (HTTP 503).
	Unavailable
)

// Verdict is the outcome of checking one call. Msg is short and fixed per
// failed rule: nothing from the token reaches it.
type Verdict struct {
	Code Code
	Msg  string
	// Scopes are the scopes the method wanted, when it failed for want of one
	// (for RFC 6750's insufficient_scope challenge).
	Scopes []string
}

// Messages of refusals that are not a rule of the verifier.
const (
	MsgMissing     = "missing bearer token"
	MsgUnavailable = "cannot verify tokens right now"
	MsgAmbiguous   = "more than one authorization value"
	MsgNoClaims    = "not authenticated"
	MsgNoScope     = "required scope missing"
	MsgNoGroup     = "required group missing"
)

// descriptions are fixed per rule, so nothing from the token reaches a message.
var descriptions = map[jwt.Rule]string{
	jwt.RuleMalformed: "malformed token",
	jwt.RuleAlgorithm: "algorithm not allowed",
	jwt.RuleCritical:  "malformed token",
	jwt.RuleIssuer:    "issuer not accepted",
	jwt.RuleKey:       "unknown signing key",
	jwt.RuleSignature: "invalid signature",
	jwt.RuleTokenUse:  "wrong token use",
	jwt.RuleClient:    "client not accepted",
	jwt.RuleExpired:   "token expired",
	jwt.RuleNotBefore: "token not yet valid",
	jwt.RuleIssuedAt:  "token issued in the future",
	jwt.RuleGroups:    MsgNoGroup,
	jwt.RuleScope:     MsgNoScope,
	jwt.RuleCustom:    "token rejected",
	jwt.RuleRevoked:   "token revoked",
}

// VerifyVerdict classifies an error of Verifier.Verify.
func VerifyVerdict(err error) Verdict {
	var ve *jwt.VerifyError
	if !errors.As(err, &ve) || ve.Rule == jwt.RuleJWKS {
		return Verdict{Code: Unavailable, Msg: MsgUnavailable}
	}
	desc := descriptions[ve.Rule]
	if desc == "" {
		desc = "invalid token"
	}
	return Verdict{Code: Unauthenticated, Msg: desc}
}

// Check verifies the bearer token of one call against policy p. values are the
// call's Authorization values (a gRPC metadata list, or an HTTP header's). On OK
// the returned context carries the token (jwt.NewContext); a public method
// returns ctx unchanged without looking at the values.
func Check(ctx context.Context, v Verifier, values []string, p Policy) (context.Context, Verdict) {
	if p.Public {
		return ctx, Verdict{}
	}
	if len(values) > 1 {
		return ctx, Verdict{Code: Unauthenticated, Msg: MsgAmbiguous}
	}
	raw := ""
	if len(values) == 1 {
		raw = FromHeader(values[0])
	}
	if raw == "" {
		return ctx, Verdict{Code: Unauthenticated, Msg: MsgMissing}
	}
	tok, err := v.Verify(ctx, raw)
	if err != nil {
		vd := VerifyVerdict(err)
		if vd.Code == Unauthenticated {
			// The verifier's own group and scope options are permissions too.
			var ve *jwt.VerifyError
			if errors.As(err, &ve) && (ve.Rule == jwt.RuleGroups || ve.Rule == jwt.RuleScope) {
				vd.Code = PermissionDenied
			}
		}
		return ctx, vd
	}
	if vd := p.Allows(tok.Claims()); vd.Code != OK {
		return ctx, vd
	}
	return jwt.NewContext(ctx, tok), Verdict{}
}
