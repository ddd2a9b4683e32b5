package emulator

import (
	"crypto/subtle"
	"encoding/xml"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"time"
)

// STS GetCallerIdentity, so that a test can ask, with any AWS SDK and the
// credentials GetCredentialsForIdentity handed out, which role they are for:
// POST / with a form body (Action=GetCallerIdentity&Version=2011-06-15),
// SigV4-signed with those credentials and their session token, as every SDK
// signs STS calls. The answer is STS's XML: the assumed-role ARN
// (arn:aws:sts::{account}:assumed-role/{role name}/CognitoIdentityCredentials),
// the role's ID with the session name, and the account. Access keys configured
// for SigV4 (Options.AccessKeys, the seed's) answer as the account's root.

const stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"

// isSTSRequest tells a query-protocol (form) call to the root from a JSON 1.1
// one; a form posted elsewhere is no STS call.
func isSTSRequest(r *http.Request) bool {
	if r.Method != http.MethodPost || r.URL.Path != "/" || r.Header.Get("X-Amz-Target") != "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/x-www-form-urlencoded"
}

type stsError struct {
	status        int
	code, message string
}

func (e *Emulator) serveSTS(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		e.writeSTSError(w, stsError{http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "Request body could not be read."})
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		e.writeSTSError(w, stsError{http.StatusBadRequest, "MalformedQueryString", "The query string is malformed."})
		return
	}
	action := form.Get("Action")
	e.mu.Lock()
	e.counts["STS."+knownSTSAction(action)]++
	e.mu.Unlock()
	if action != "GetCallerIdentity" {
		e.writeSTSError(w, stsError{http.StatusBadRequest, "InvalidAction", fmt.Sprintf("Could not find operation %s for version %s", clip(action), clip(form.Get("Version")))})
		return
	}
	if v := form.Get("Version"); v != "2011-06-15" {
		e.writeSTSError(w, stsError{http.StatusBadRequest, "InvalidAction", fmt.Sprintf("Could not find operation %s for version %s", action, clip(v))})
		return
	}
	arn, userID, account, serr := e.callerIdentity(r, body)
	if serr != nil {
		e.writeSTSError(w, *serr)
		return
	}
	type result struct {
		Arn     string `xml:"Arn"`
		UserID  string `xml:"UserId"`
		Account string `xml:"Account"`
	}
	out := struct {
		XMLName  xml.Name `xml:"GetCallerIdentityResponse"`
		Xmlns    string   `xml:"xmlns,attr"`
		Result   result   `xml:"GetCallerIdentityResult"`
		Metadata struct {
			RequestID string `xml:"RequestId"`
		} `xml:"ResponseMetadata"`
	}{Xmlns: stsNamespace, Result: result{arn, userID, account}}
	out.Metadata.RequestID = w.Header().Get("x-amzn-RequestId")
	e.writeSTS(w, http.StatusOK, out)
}

func knownSTSAction(action string) string {
	if action == "GetCallerIdentity" {
		return action
	}
	return unknownOpCounter
}

// callerIdentity checks the signature with the secret of the credentials the
// request names and says whose they are.
func (e *Emulator) callerIdentity(r *http.Request, body []byte) (arn, userID, account string, _ *stsError) {
	e.mu.Lock()
	defer e.mu.Unlock()
	// The signature's date is not held against a clock: tests run the
	// emulator on a fake one while the SDK signs with the real time. Expiry is
	// on the emulator clock the credentials were issued on.
	clockNow := e.base.Now().Add(e.offset)
	issued := e.idp().creds.byKey
	keyID, f := verifySigV4(r, body, time.Time{}, func(id string) (string, bool) {
		if c := issued[id]; c != nil {
			return c.secret, true
		}
		s, ok := e.accessKeys[id]
		return s, ok
	})
	switch f.kind {
	case sigOK:
	case sigMissing:
		return "", "", "", &stsError{http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token"}
	case sigUnknownKey:
		return "", "", "", &stsError{http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid."}
	case sigMismatch:
		return "", "", "", &stsError{http.StatusForbidden, "SignatureDoesNotMatch", f.msg}
	default:
		return "", "", "", &stsError{http.StatusBadRequest, "IncompleteSignature", f.msg}
	}
	c := issued[keyID]
	if c == nil { // a configured long-term key
		return "arn:aws:iam::" + e.accountID() + ":root", e.accountID(), e.accountID(), nil
	}
	tok := r.Header.Get("X-Amz-Security-Token")
	if subtle.ConstantTimeCompare([]byte(tok), []byte(c.sessionToken)) != 1 {
		return "", "", "", &stsError{http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid."}
	}
	if !clockNow.Before(c.Expiration) {
		return "", "", "", &stsError{http.StatusBadRequest, "ExpiredToken", "The security token included in the request is expired"}
	}
	arn, account = assumedRoleARN(c.RoleARN, e.accountID())
	return arn, roleID(c.RoleARN) + ":" + cognitoSessionName, account, nil
}

func (e *Emulator) writeSTSError(w http.ResponseWriter, se stsError) {
	typ := "Sender"
	if se.status >= 500 {
		typ = "Receiver"
	}
	out := struct {
		XMLName xml.Name `xml:"ErrorResponse"`
		Xmlns   string   `xml:"xmlns,attr"`
		Error   struct {
			Type    string `xml:"Type"`
			Code    string `xml:"Code"`
			Message string `xml:"Message"`
		} `xml:"Error"`
		RequestID string `xml:"RequestId"`
	}{Xmlns: stsNamespace, RequestID: w.Header().Get("x-amzn-RequestId")}
	out.Error.Type, out.Error.Code, out.Error.Message = typ, se.code, se.message
	e.logRequest("STS", se.status)
	e.writeSTS(w, se.status, out)
}

func (e *Emulator) writeSTS(w http.ResponseWriter, status int, v any) {
	data, err := xml.Marshal(v)
	if err != nil {
		status, data = http.StatusInternalServerError, []byte("<ErrorResponse/>")
	}
	data = append([]byte(xml.Header), data...)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", fmt.Sprint(len(data)))
	w.WriteHeader(status)
	_, _ = w.Write(data)
}
