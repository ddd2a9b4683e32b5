package emulator

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Opt-in SigV4 verification (Options.AccessKeys or a seed's accessKeys) and the
// strict region mode (Options.StrictRegion): the emulator then answers as AWS does
// to unsigned, unknown-key or wrongly signed calls of the operations Cognito
// signs, and to calls that name a pool of another region than the one signed for.

// unsignedOps are the operations Cognito's service models mark "authtype: none"
// (botocore's cognito-idp and cognito-identity service-2.json; checked by
// TestUnsignedOperationsMatchBotocore): apps call them without AWS credentials.
var unsignedOps = map[string]bool{
	"AssociateSoftwareToken": true, "ChangePassword": true, "CompleteWebAuthnRegistration": true,
	"ConfirmDevice": true, "ConfirmForgotPassword": true, "ConfirmSignUp": true, "DeleteUser": true,
	"DeleteUserAttributes": true, "DeleteWebAuthnCredential": true, "ForgetDevice": true,
	"ForgotPassword": true, "GetDevice": true, "GetTokensFromRefreshToken": true, "GetUser": true,
	"GetUserAttributeVerificationCode": true, "GetUserAuthFactors": true, "GlobalSignOut": true,
	"InitiateAuth": true, "ListDevices": true, "ListWebAuthnCredentials": true,
	"ResendConfirmationCode": true, "RespondToAuthChallenge": true, "RevokeToken": true,
	"SetUserMFAPreference": true, "SetUserSettings": true, "SignUp": true,
	"StartWebAuthnRegistration": true, "UpdateAuthEventFeedback": true, "UpdateDeviceStatus": true,
	"UpdateUserAttributes": true, "VerifySoftwareToken": true, "VerifyUserAttribute": true,
	// cognito-identity
	"GetCredentialsForIdentity": true, "GetId": true, "GetOpenIdToken": true, "UnlinkIdentity": true,
}

// UnsignedOperation tells whether Cognito serves op (short name) without a SigV4
// signature.
func UnsignedOperation(op string) bool { return unsignedOps[op] }

// sigV4MaxSkew is how far a signature's X-Amz-Date may be from the clock.
const sigV4MaxSkew = 15 * time.Minute

// checkSignature verifies the request's SigV4 signature against the configured
// access keys; nil when verification is off or the operation is unsigned. The
// time is the underlying clock's, not the settable one: moving the emulator
// clock for token expiry must not break the SDKs' signatures.
func (e *Emulator) checkSignature(r *http.Request, op string, body []byte) *Error {
	if len(e.accessKeys) == 0 || unsignedOps[op] {
		return nil
	}
	_, f := verifySigV4(r, body, e.base.Now(), func(id string) (string, bool) {
		s, ok := e.accessKeys[id]
		return s, ok
	})
	switch f.kind {
	case sigOK:
		return nil
	case sigMissing:
		return newErr("MissingAuthenticationTokenException", "Missing Authentication Token")
	case sigUnknownKey:
		return newErr("UnrecognizedClientException", "The security token included in the request is invalid.")
	case sigExpired, sigMismatch:
		return newErr("InvalidSignatureException", "%s", f.msg)
	default:
		return newErr("IncompleteSignatureException", "%s", f.msg)
	}
}

// sigFailure is why a SigV4 signature was refused; each service names the kinds
// in its own words (checkSignature for Cognito, stsError for STS).
type sigFailure struct {
	kind sigKind
	msg  string // AWS's wording, for the kinds whose text is shared
}

type sigKind int

const (
	sigOK         sigKind = iota
	sigMissing            // no Authorization header
	sigIncomplete         // malformed header, date or signed headers
	sigUnknownKey         // the access key ID is not known
	sigExpired            // X-Amz-Date too far from the clock
	sigMismatch           // the signature is wrong
)

const sigMismatchMessage = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."

// verifySigV4 checks r's Authorization header against the secret that secret
// returns for its access key ID, at time now (the zero time skips the check of
// X-Amz-Date against the clock); it returns the key ID it read.
func verifySigV4(r *http.Request, body []byte, now time.Time, secret func(keyID string) (string, bool)) (string, sigFailure) {
	scope, signed, sig, fail := parseSigV4Authorization(r.Header.Get("Authorization"))
	if fail.kind != sigOK {
		return "", fail
	}
	key, known := secret(scope[0])
	if !known {
		return scope[0], sigFailure{kind: sigUnknownKey}
	}
	amzDate := r.Header.Get("X-Amz-Date")
	if fail := checkSigV4Date(amzDate, scope[1], now); fail.kind != sigOK {
		return scope[0], fail
	}
	canon, ok := canonicalRequest(r, signed, body)
	if !ok {
		return scope[0], sigFailure{sigIncomplete, "'Host' must be a signed header."}
	}
	sum := sha256.Sum256([]byte(canon))
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + strings.Join(scope[1:], "/") + "\n" + hex.EncodeToString(sum[:])
	k := []byte("AWS4" + key)
	for _, s := range scope[1:] {
		k = hmacSHA256(k, s)
	}
	want := hex.EncodeToString(hmacSHA256(k, toSign))
	if subtle.ConstantTimeCompare([]byte(want), []byte(sig)) != 1 {
		return scope[0], sigFailure{sigMismatch, sigMismatchMessage}
	}
	return scope[0], sigFailure{}
}

// parseSigV4Authorization reads an AWS4-HMAC-SHA256 Authorization header: the
// credential's scope (key ID, date, region, service, aws4_request), the signed
// headers and the signature.
func parseSigV4Authorization(auth string) (scope []string, signed, sig string, fail sigFailure) {
	if auth == "" {
		return nil, "", "", sigFailure{kind: sigMissing}
	}
	const algo = "AWS4-HMAC-SHA256 "
	if !strings.HasPrefix(auth, algo) {
		return nil, "", "", sigFailure{sigIncomplete, "Unsupported authorization type."}
	}
	fields := map[string]string{}
	for _, part := range strings.Split(auth[len(algo):], ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok {
			fields[k] = v
		}
	}
	cred, signed, sig := fields["Credential"], fields["SignedHeaders"], fields["Signature"]
	scope = strings.Split(cred, "/")
	if len(scope) != 5 || signed == "" || sig == "" || scope[4] != "aws4_request" {
		return nil, "", "", sigFailure{sigIncomplete, "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters."}
	}
	return scope, signed, sig, sigFailure{}
}

// checkSigV4Date holds X-Amz-Date to the basic ISO-8601 format, the credential
// scope's day and (unless now is zero) 15 minutes of the clock.
func checkSigV4Date(amzDate, day string, now time.Time) sigFailure {
	t, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil || !strings.HasPrefix(amzDate, day) {
		return sigFailure{sigIncomplete, "Date must be in ISO-8601 'basic format' and match the credential scope."}
	}
	if d := now.Sub(t); !now.IsZero() && (d > sigV4MaxSkew || d < -sigV4MaxSkew) {
		return sigFailure{sigExpired, fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 15 min.)",
			amzDate, now.Add(-sigV4MaxSkew).UTC().Format("20060102T150405Z"), now.UTC().Format("20060102T150405Z"))}
	}
	return sigFailure{}
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// canonicalRequest builds SigV4's canonical request; ok is false when host is not
// among the signed headers.
func canonicalRequest(r *http.Request, signedHeaders string, body []byte) (string, bool) {
	var b strings.Builder
	b.WriteString(r.Method + "\n")
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	b.WriteString(path + "\n")
	q := r.URL.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var pairs []string
	for _, k := range keys {
		vs := append([]string(nil), q[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			pairs = append(pairs, sigEscape(k)+"="+sigEscape(v))
		}
	}
	b.WriteString(strings.Join(pairs, "&") + "\n")
	hasHost := false
	for _, h := range strings.Split(signedHeaders, ";") {
		var v string
		switch h {
		case "host":
			hasHost = true
			v = r.Host
		case "content-length":
			v = r.Header.Get("Content-Length")
			if v == "" && r.ContentLength >= 0 {
				// net/http moves Content-Length out of the header map.
				v = strconv.FormatInt(r.ContentLength, 10)
			}
		default:
			v = strings.Join(r.Header.Values(h), ",")
		}
		b.WriteString(h + ":" + strings.Join(strings.Fields(v), " ") + "\n")
	}
	b.WriteString("\n" + signedHeaders + "\n")
	if ph := r.Header.Get("X-Amz-Content-Sha256"); ph != "" && ph != "UNSIGNED-PAYLOAD" {
		b.WriteString(ph)
	} else {
		sum := sha256.Sum256(body)
		b.WriteString(hex.EncodeToString(sum[:]))
	}
	return b.String(), hasHost
}

// sigEscape is SigV4's URI encoding: every byte but unreserved characters.
func sigEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// checkRegion refuses, in strict mode, a call that names a user pool, app client,
// identity pool or token of another region than the request's (the signed
// region, else Options.Region), as a regional Cognito endpoint does: it does not
// know them.
func (e *Emulator) checkRegion(region string, body []byte) *Error {
	if !e.opts.StrictRegion {
		return nil
	}
	if region == "" {
		region = e.opts.Region
	}
	var ids struct {
		UserPoolID     string `json:"UserPoolId"`
		ClientID       string `json:"ClientId"`
		IdentityPoolID string `json:"IdentityPoolId"`
		IdentityID     string `json:"IdentityId"`
		AccessToken    string `json:"AccessToken"`
	}
	if json.NewDecoder(bytes.NewReader(body)).Decode(&ids) != nil {
		return nil // the handler answers malformed JSON
	}
	switch {
	case ids.UserPoolID != "" && poolRegion(ids.UserPoolID) != region:
		return errResourceNotFound("User pool %s does not exist.", clip(ids.UserPoolID))
	case ids.IdentityPoolID != "" && identityPoolRegion(ids.IdentityPoolID) != region:
		return errResourceNotFound("IdentityPool '%s' not found.", clip(ids.IdentityPoolID))
	case ids.IdentityID != "" && identityPoolRegion(ids.IdentityID) != region:
		return errResourceNotFound("Identity '%s' not found.", clip(ids.IdentityID))
	}
	if ids.ClientID != "" && ids.UserPoolID == "" {
		e.mu.Lock()
		p, _, err := e.clientByID(ids.ClientID)
		e.mu.Unlock()
		if err == nil && poolRegion(p.ID) != region {
			return errResourceNotFound("User pool client %s does not exist.", clip(ids.ClientID))
		}
	}
	return nil
}
