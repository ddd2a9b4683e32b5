package emulator

import (
	"encoding/base64"
	"strings"
)

// CustomEmailSender and CustomSMSSender: with one configured for a medium, Cognito
// sends no message of its own on it (nor runs CustomMessage for it) and invokes the
// sender with the code, which the function delivers.
//
// Cognito encrypts the code with the pool's KMSKeyID through the AWS Encryption
// SDK and puts the base64 ciphertext in request.code. The emulator has no KMS: its
// request.code is the base64 of the plain code (a documented deviation, see
// README.md), so a handler base64-decodes where on AWS it would decode and
// decrypt.

const (
	trigCustomEmailSender = "CustomEmailSender"
	trigCustomSMSSender   = "CustomSMSSender"
)

type customSenderRequest struct {
	Type           string            `json:"type"` // customEmailSenderRequestV1, customSMSSenderRequestV1
	Code           *string           `json:"code"`
	ClientMetadata map[string]string `json:"clientMetadata"`
	UserAttributes map[string]string `json:"userAttributes"`
}

// senderTrigger is the custom sender trigger of medium (EMAIL or SMS), "" when p
// has none.
func (p *userPool) senderTrigger(medium string) string {
	trigger := trigCustomEmailSender
	if medium == "SMS" {
		trigger = trigCustomSMSSender
	}
	if p.triggerARN(trigger) == "" {
		return ""
	}
	return trigger
}

// senderARN is the function of a custom sender trigger in lc.
func senderARN(lc *LambdaConfig, trigger string) string {
	var v *VersionedLambda
	switch trigger {
	case trigCustomEmailSender:
		v = lc.CustomEmailSender
	case trigCustomSMSSender:
		v = lc.CustomSMSSender
	}
	if v == nil {
		return ""
	}
	return v.LambdaArn
}

// customSend invokes the sender trigger for a message of kind with code to u. A
// failing function fails the operation with the trigger errors (lambda.go), as
// for every synchronous trigger.
func (e *Emulator) customSend(c *call, p *userPool, u *user, trigger, kind, code string) error {
	source := trigger + "_" + strings.TrimPrefix(messageSource(kind, c.op), "CustomMessage_")
	req := customSenderRequest{
		Type: "customEmailSenderRequestV1", ClientMetadata: c.clientMetadata(), UserAttributes: eventAttributes(u),
	}
	if trigger == trigCustomSMSSender {
		req.Type = "customSMSSenderRequestV1"
	}
	if code != "" {
		req.Code = strPtr(base64.StdEncoding.EncodeToString([]byte(code)))
	}
	ev := e.newEvent(c, p, source, strPtr(u.Username), req, struct{}{})
	_, err := e.runTrigger(c, p, trigger, ev, nil)
	return err
}
