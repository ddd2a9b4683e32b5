package errkind_test

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/hostedui"
	"github.com/cogauth/cogauth/identity"
	"github.com/cogauth/cogauth/internal/errkind"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/session"
	"github.com/cogauth/cogauth/store"
	"github.com/cogauth/cogauth/websession"
)

// kindCase is one kind of error a public package returns: the error as the package
// builds it, whether aws-sdk-go-v2's retryers must retry it, and the kinds
// errors.Is must (and must not) match.
type kindCase struct {
	name  string // "pkg.Name" or "pkg.Type/variant": the exported name it covers
	err   error
	retry bool
	is    []error
	isNot []error
}

// kindCases is every kind in cognito, session, hostedui, identity, jwt, store
// and websession. TestEveryKindIsInTheTable keeps it complete.
func kindCases(t *testing.T) []kindCase {
	t.Helper()
	ctx := context.Background()
	netErr := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}

	// Built by the packages themselves where a call gets them cheaply.
	_, decodeErr := jwt.Decode("only.two")
	_, notFound := store.NewMemory().Get(ctx, store.Join("s", "us-east-1_AbC", "client", "nobody"))
	_, badKey := store.NewMemory().Get(ctx, store.Key("not a key"))
	mapped := func(name string, status int) error { return cognitoAnswer(t, name, status) }
	deviceRefused := fmt.Errorf("%w (device %s): %w", cognito.ErrDeviceRefused, "us-east-1_x", mapped("NotAuthorizedException", 400))

	var cases []kindCase
	// cognito: every exception sentinel, by itself and in an *Error of its name.
	retryableNames := map[string]bool{
		"TooManyRequestsException": true, "InternalErrorException": true, "ExternalServiceException": true,
		"UnexpectedLambdaException": true, cognito.NetworkError: true,
	}
	for name, s := range cognitoSentinels {
		want := retryableNames[s.Error()[len("cognito: "):]]
		cases = append(cases, kindCase{name: "cognito." + name, err: s, retry: want, is: []error{s}})
	}
	cases = append(cases,
		kindCase{name: "cognito.Error/NotAuthorized", err: mapped("NotAuthorizedException", 400), is: []error{cognito.ErrNotAuthorized}, isNot: []error{cognito.ErrUserNotFound}},
		kindCase{name: "cognito.Error/TooManyRequests", err: mapped("TooManyRequestsException", 400), retry: true, is: []error{cognito.ErrTooManyRequests}},
		kindCase{name: "cognito.Error/5xx", err: mapped("InternalErrorException", 500), retry: true, is: []error{cognito.ErrInternalError}},
		kindCase{name: "cognito.Error/network", err: cognito.MapError("GetUser", netErr), retry: true, is: []error{cognito.ErrNetwork, syscall.ECONNREFUSED}},
		kindCase{name: "cognito.Error/canceled", err: cognito.MapError("GetUser", context.Canceled), is: []error{context.Canceled}, isNot: []error{cognito.ErrNetwork}},
		kindCase{name: "cognito.ErrDeviceRefused", err: deviceRefused, is: []error{cognito.ErrDeviceRefused, cognito.ErrNotAuthorized}},
	)

	// session.
	rejectedErr := &session.RejectedError{Reason: session.ReasonRevoked, Err: mapped("NotAuthorizedException", 400)}
	// A wrapper whose cause is retryable still says what it is: the session ended.
	signedOut := &session.SignedOutError{Reason: session.ReasonRevoked, Err: mapped("InternalErrorException", 500)}
	cases = append(cases,
		kindCase{name: "session.ErrSignedOut", err: session.ErrSignedOut, is: []error{session.ErrSignedOut}},
		kindCase{name: "session.SignedOutError", err: signedOut, is: []error{session.ErrSignedOut, cognito.ErrInternalError}},
		kindCase{name: "session.ErrInvalidTokens", err: session.ErrInvalidTokens, is: []error{session.ErrInvalidTokens}},
		kindCase{name: "session.ErrNoCredentials", err: session.ErrNoCredentials, retry: true, is: []error{session.ErrNoCredentials}},
		kindCase{name: "session.ErrNoCredentials/none-configured", err: errkind.Permanent(session.ErrNoCredentials), is: []error{session.ErrNoCredentials}},
		kindCase{name: "session.ErrNoDevice", err: session.ErrNoDevice, is: []error{session.ErrNoDevice}},
		kindCase{name: "session.ErrRefreshRejected", err: session.ErrRefreshRejected, is: []error{session.ErrRefreshRejected}},
		kindCase{name: "session.RejectedError", err: rejectedErr, is: []error{session.ErrRefreshRejected, cognito.ErrNotAuthorized}},
		kindCase{name: "session.ErrInvalidAnswer", err: session.ErrInvalidAnswer, retry: true, is: []error{session.ErrInvalidAnswer}},
		kindCase{name: "session.ErrStoreUnavailable", err: session.ErrStoreUnavailable, retry: true, is: []error{session.ErrStoreUnavailable}},
		kindCase{name: "session.ErrRefreshPending", err: session.ErrRefreshPending, retry: true, is: []error{session.ErrRefreshPending}},
	)

	// hostedui.
	cases = append(cases,
		kindCase{name: "hostedui.ErrStateMismatch", err: hostedui.ErrStateMismatch, is: []error{hostedui.ErrStateMismatch}},
		kindCase{name: "hostedui.ErrNonceMismatch", err: hostedui.ErrNonceMismatch, is: []error{hostedui.ErrNonceMismatch}},
		kindCase{name: "hostedui.ErrInvalidGrant", err: hostedui.ErrInvalidGrant, is: []error{hostedui.ErrInvalidGrant}},
		kindCase{name: "hostedui.ErrInvalidClient", err: hostedui.ErrInvalidClient, is: []error{hostedui.ErrInvalidClient}},
		kindCase{name: "hostedui.Error/invalid_grant", err: &hostedui.Error{Endpoint: "token", Code: "invalid_grant", StatusCode: 400}, is: []error{hostedui.ErrInvalidGrant}, isNot: []error{hostedui.ErrInvalidClient}},
		kindCase{name: "hostedui.Error/invalid_grant-5xx", err: &hostedui.Error{Endpoint: "token", Code: "invalid_grant", StatusCode: 500}, is: []error{hostedui.ErrInvalidGrant}},
		kindCase{name: "hostedui.Error/invalid_client", err: &hostedui.Error{Endpoint: "token", Code: "invalid_client", StatusCode: 401}, is: []error{hostedui.ErrInvalidClient}},
		kindCase{name: "hostedui.Error/invalid_request", err: &hostedui.Error{Endpoint: "token", Code: "invalid_request", StatusCode: 400}, isNot: []error{hostedui.ErrInvalidGrant}},
		kindCase{name: "hostedui.Error/503", err: &hostedui.Error{Endpoint: "token", Code: "temporarily_unavailable", StatusCode: 503}, retry: true},
		kindCase{name: "hostedui.Error/429", err: &hostedui.Error{Endpoint: "token", Code: "slow_down", StatusCode: 429}, retry: true},
		kindCase{name: "hostedui.Error/not-oauth", err: &hostedui.Error{Endpoint: "token", StatusCode: 403}, retry: true},
		kindCase{name: "hostedui.Error/no-answer", err: &hostedui.Error{Endpoint: "token", Cause: netErr}, retry: true, is: []error{syscall.ECONNREFUSED}},
	)

	// identity: its own kinds; its service errors are *cognito.Error (the two
	// services share the error protocol).
	cases = append(cases,
		kindCase{name: "identity.ErrNotSignedIn", err: identity.ErrNotSignedIn, is: []error{identity.ErrNotSignedIn}},
		kindCase{name: "identity.ErrInvalidLogin", err: identity.ErrInvalidLogin, is: []error{identity.ErrInvalidLogin}},
		kindCase{name: "identity.Error/external-service", err: identityAnswer(t, "ExternalServiceException", 400), retry: true, is: []error{cognito.ErrExternalService}},
		kindCase{name: "identity.Error/not-authorized", err: identityAnswer(t, "NotAuthorizedException", 400), is: []error{cognito.ErrNotAuthorized}},
		kindCase{name: "identity.Error/incomplete", err: identityAnswer(t, "", 200), retry: true, isNot: []error{cognito.ErrNotAuthorized}},
	)

	// jwt.
	for name, s := range jwtKinds {
		cases = append(cases, kindCase{name: "jwt." + name, err: s, retry: s == jwt.ErrJWKS || s == jwt.ErrJWKSFetch, is: []error{s}})
	}
	cases = append(cases,
		kindCase{name: "jwt.DecodeError", err: decodeErr, is: []error{jwt.ErrParts, jwt.ErrMalformed}, isNot: []error{jwt.ErrEncoding}},
		kindCase{name: "jwt.VerifyError/expired", err: &jwt.VerifyError{Rule: jwt.RuleExpired, Reason: "expired"}, is: []error{jwt.ErrInvalid, jwt.ErrExpired}},
		kindCase{name: "jwt.VerifyError/jwks", err: &jwt.VerifyError{Rule: jwt.RuleJWKS, Reason: "cannot get the keys", Err: fmt.Errorf("%w: %w", jwt.ErrJWKSFetch, netErr)}, retry: true, is: []error{jwt.ErrInvalid, jwt.ErrJWKS, jwt.ErrJWKSFetch, syscall.ECONNREFUSED}},
		kindCase{name: "jwt.VerifyError/key", err: &jwt.VerifyError{Rule: jwt.RuleKey, Reason: "kid not in the JWKS"}, is: []error{jwt.ErrInvalid, jwt.ErrUnknownKey}, isNot: []error{jwt.ErrJWKS}},
	)

	// store.
	cases = append(cases,
		kindCase{name: "store.ErrNotFound", err: notFound, is: []error{store.ErrNotFound}, isNot: []error{store.ErrCorrupt}},
		kindCase{name: "store.ErrInvalidKey", err: badKey, is: []error{store.ErrInvalidKey}},
		kindCase{name: "store.ErrConflict", err: fmt.Errorf("%w: key is not at version 3", store.ErrConflict), is: []error{store.ErrConflict}},
		kindCase{name: "store.ErrCorrupt", err: fmt.Errorf("%w: bad version", store.ErrCorrupt), is: []error{store.ErrCorrupt}},
	)

	// websession.
	cases = append(cases,
		kindCase{name: "websession.ErrCookieRefused", err: websession.ErrCookieRefused, is: []error{websession.ErrCookieRefused}},
		kindCase{name: "websession.ErrNoCredentials", err: websession.ErrNoCredentials, retry: true, is: []error{websession.ErrNoCredentials}},
		kindCase{name: "websession.ErrNoCredentials/none-configured", err: errkind.Permanent(websession.ErrNoCredentials), is: []error{websession.ErrNoCredentials}},
	)
	if notFound == nil || badKey == nil || decodeErr == nil {
		t.Fatalf("the package calls did not fail: %v, %v, %v", notFound, badKey, decodeErr)
	}
	return cases
}

// errorServer answers every request with Cognito's JSON error name (a 200 with
// an empty object when name is empty).
func errorServer(t *testing.T, name string, status int) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(status)
		if name == "" {
			fmt.Fprint(w, `{}`)
			return
		}
		fmt.Fprintf(w, `{"__type":%q,"message":"from the test server"}`, name)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// cognitoAnswer is the error of a user-pool call answered with name.
func cognitoAnswer(t *testing.T, name string, status int) error {
	t.Helper()
	c, err := cognito.New(cognito.Options{UserPoolID: "us-east-1_AbC", ClientID: "client", Endpoint: errorServer(t, name, status)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetUser(context.Background(), "access-token")
	if err == nil {
		t.Fatalf("GetUser answered %s succeeded", name)
	}
	return err
}

// identityAnswer is the error of an identity-pool call answered with name.
func identityAnswer(t *testing.T, name string, status int) error {
	t.Helper()
	c, err := identity.New(identity.Options{IdentityPoolID: "us-east-1:0f6c1b52-0000-4000-8000-000000000000", Endpoint: errorServer(t, name, status)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.IdentityID(context.Background(), "")
	if err == nil {
		t.Fatalf("GetId answered %s succeeded", name)
	}
	return err
}

// TestErrorKinds: every kind says by behaviour whether a retry can help, as
// aws-sdk-go-v2's retryers read it — retry.RetryableError alone (never "unknown":
// the kind answers) and the standard retryer's whole DefaultRetryables list —
// bare and wrapped, and keeps its errors.Is kinds.
func TestErrorKinds(t *testing.T) {
	standard := retry.IsErrorRetryables(retry.DefaultRetryables)
	for _, tc := range kindCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			for _, err := range []error{tc.err, fmt.Errorf("outer: %w", tc.err), errors.Join(errors.New("other"), tc.err)} {
				want := aws.BoolTernary(tc.retry)
				if got := (retry.RetryableError{}).IsErrorRetryable(err); got != want {
					t.Errorf("retry.RetryableError.IsErrorRetryable(%v) = %v, want %v", err, got, want)
				}
				if got := standard.IsErrorRetryable(err); got != want {
					t.Errorf("DefaultRetryables.IsErrorRetryable(%v) = %v, want %v", err, got, want)
				}
				if got := errkind.Retryable(err); got != tc.retry {
					t.Errorf("errkind.Retryable(%v) = %t, want %t", err, got, tc.retry)
				}
				for _, k := range tc.is {
					if !errors.Is(err, k) {
						t.Errorf("errors.Is(%v, %v) = false", err, k)
					}
				}
				for _, k := range tc.isNot {
					if errors.Is(err, k) {
						t.Errorf("errors.Is(%v, %v) = true", err, k)
					}
				}
			}
		})
	}
}

// TestKindsAreDistinct: no kind matches another (no package imitates another's
// kind, and none matches them all as cognito.ErrRetryable once did).
func TestKindsAreDistinct(t *testing.T) {
	var kinds []error
	for _, tc := range kindCases(t) {
		kinds = append(kinds, tc.is...)
	}
	for i, a := range kinds {
		for j, b := range kinds {
			if a != b && errors.Is(a, b) {
				t.Errorf("kind %d (%v) matches kind %d (%v)", i, a, j, b)
			}
		}
	}
}

// TestEveryKindIsInTheTable parses the public packages and fails for an exported
// Err* variable or error type that kindCases does not cover, so a new kind cannot
// skip the table.
func TestEveryKindIsInTheTable(t *testing.T) {
	covered := map[string]bool{}
	for _, tc := range kindCases(t) {
		name, _, _ := strings.Cut(tc.name, "/")
		covered[name] = true
	}
	var missing []string
	for _, pkg := range []string{"cognito", "session", "hostedui", "identity", "jwt", "store", "websession"} {
		for _, name := range exportedKinds(t, filepath.Join("..", "..", pkg)) {
			if !covered[pkg+"."+name] {
				missing = append(missing, pkg+"."+name)
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("kinds missing from kindCases: %s", strings.Join(missing, ", "))
	}
	// The parser finds what it should: the check above proves something.
	if got := exportedKinds(t, filepath.Join("..", "..", "hostedui")); !contains(got, "Error") || !contains(got, "ErrInvalidGrant") {
		t.Fatalf("hostedui's kinds as parsed: %v", got)
	}
}

// exportedKinds lists dir's exported Err* variables and the exported types with
// an Error method (non-test files).
func exportedKinds(t *testing.T, dir string) []string {
	t.Helper()
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	errorTypes := map[string]bool{}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				if d.Tok != token.VAR {
					continue
				}
				for _, s := range d.Specs {
					for _, n := range s.(*ast.ValueSpec).Names {
						if n.IsExported() && strings.HasPrefix(n.Name, "Err") {
							out = append(out, n.Name)
						}
					}
				}
			case *ast.FuncDecl:
				if d.Recv == nil || d.Name.Name != "Error" || len(d.Recv.List) != 1 {
					continue
				}
				typ := d.Recv.List[0].Type
				if st, ok := typ.(*ast.StarExpr); ok {
					typ = st.X
				}
				if id, ok := typ.(*ast.Ident); ok && id.IsExported() {
					errorTypes[id.Name] = true
				}
			}
		}
	}
	for n := range errorTypes {
		out = append(out, n)
	}
	return out
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// cognitoSentinels are cognito's exception kinds, by variable name.
var cognitoSentinels = map[string]error{
	"ErrNotAuthorized": cognito.ErrNotAuthorized, "ErrUserNotFound": cognito.ErrUserNotFound,
	"ErrUserNotConfirmed": cognito.ErrUserNotConfirmed, "ErrPasswordResetRequired": cognito.ErrPasswordResetRequired,
	"ErrTokenRevoked": cognito.ErrTokenRevoked, "ErrRefreshTokenReuse": cognito.ErrRefreshTokenReuse,
	"ErrTooManyRequests": cognito.ErrTooManyRequests, "ErrInvalidParameter": cognito.ErrInvalidParameter,
	"ErrInvalidPassword": cognito.ErrInvalidPassword, "ErrCodeMismatch": cognito.ErrCodeMismatch,
	"ErrExpiredCode": cognito.ErrExpiredCode, "ErrResourceNotFound": cognito.ErrResourceNotFound,
	"ErrInternalError": cognito.ErrInternalError, "ErrUnsupportedOperation": cognito.ErrUnsupportedOperation,
	"ErrUnknownOperation": cognito.ErrUnknownOperation, "ErrLimitExceeded": cognito.ErrLimitExceeded,
	"ErrInvalidUserPoolConfig": cognito.ErrInvalidUserPoolConfig, "ErrSoftwareTokenMFANotFound": cognito.ErrSoftwareTokenMFANotFound,
	"ErrExternalService": cognito.ErrExternalService, "ErrUsernameExists": cognito.ErrUsernameExists,
	"ErrAliasExists": cognito.ErrAliasExists, "ErrCodeDeliveryFailure": cognito.ErrCodeDeliveryFailure,
	"ErrTooManyFailedAttempts": cognito.ErrTooManyFailedAttempts, "ErrEnableSoftwareTokenMFA": cognito.ErrEnableSoftwareTokenMFA,
	"ErrMFAMethodNotFound": cognito.ErrMFAMethodNotFound, "ErrForbidden": cognito.ErrForbidden,
	"ErrUserLambdaValidation": cognito.ErrUserLambdaValidation, "ErrInvalidLambdaResponse": cognito.ErrInvalidLambdaResponse,
	"ErrUnexpectedLambda": cognito.ErrUnexpectedLambda, "ErrNetwork": cognito.ErrNetwork,
	"ErrWebAuthnNotEnabled": cognito.ErrWebAuthnNotEnabled, "ErrWebAuthnConfigurationMissing": cognito.ErrWebAuthnConfigurationMissing,
	"ErrWebAuthnChallengeNotFound": cognito.ErrWebAuthnChallengeNotFound, "ErrWebAuthnClientMismatch": cognito.ErrWebAuthnClientMismatch,
	"ErrWebAuthnRelyingPartyMismatch": cognito.ErrWebAuthnRelyingPartyMismatch, "ErrWebAuthnOriginNotAllowed": cognito.ErrWebAuthnOriginNotAllowed,
	"ErrWebAuthnCredentialNotSupported": cognito.ErrWebAuthnCredentialNotSupported,
}

// jwtKinds are jwt's kinds, by variable name.
var jwtKinds = map[string]error{
	"ErrMalformed": jwt.ErrMalformed, "ErrTooLarge": jwt.ErrTooLarge, "ErrParts": jwt.ErrParts,
	"ErrEncoding": jwt.ErrEncoding, "ErrHeader": jwt.ErrHeader, "ErrClaims": jwt.ErrClaims,
	"ErrInvalid": jwt.ErrInvalid, "ErrAlgorithm": jwt.ErrAlgorithm, "ErrCritical": jwt.ErrCritical,
	"ErrIssuer": jwt.ErrIssuer, "ErrUnknownKey": jwt.ErrUnknownKey, "ErrJWKS": jwt.ErrJWKS,
	"ErrSignature": jwt.ErrSignature, "ErrTokenUse": jwt.ErrTokenUse, "ErrClient": jwt.ErrClient,
	"ErrExpired": jwt.ErrExpired, "ErrNotYetValid": jwt.ErrNotYetValid, "ErrIssuedInFuture": jwt.ErrIssuedInFuture,
	"ErrGroups": jwt.ErrGroups, "ErrScope": jwt.ErrScope, "ErrCustom": jwt.ErrCustom,
	"ErrJWKSFormat": jwt.ErrJWKSFormat, "ErrJWKSFetch": jwt.ErrJWKSFetch, "ErrRevoked": jwt.ErrRevoked,
}
