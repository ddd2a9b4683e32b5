package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"time"
)

// Lambda triggers: a pool's LambdaConfig names a function per trigger; the
// operations call the helpers below at the points where Cognito invokes them, with
// Cognito's event JSON (lambda.go runs the function). Every helper is called with
// e.mu held and releases it during the invocation (see invoke): afterwards the
// caller looks its user up again.

// Trigger names: the LambdaConfig fields.
const (
	trigPreSignUp          = "PreSignUp"
	trigPostConfirmation   = "PostConfirmation"
	trigPreAuthentication  = "PreAuthentication"
	trigPostAuthentication = "PostAuthentication"
	trigCustomMessage      = "CustomMessage"
	trigPreTokenGeneration = "PreTokenGeneration"
	trigUserMigration      = "UserMigration"
	trigDefineAuth         = "DefineAuthChallenge"
	trigCreateAuth         = "CreateAuthChallenge"
	trigVerifyAuth         = "VerifyAuthChallengeResponse"
)

// noClient is the callerContext.clientId of events from admin operations.
const noClient = "CLIENT_ID_NOT_APPLICABLE"

// triggerEvent is the JSON every user-pool trigger gets: the common header, then
// the trigger's request and response.
type triggerEvent struct {
	Version       string        `json:"version"`
	TriggerSource string        `json:"triggerSource"`
	Region        string        `json:"region"`
	UserPoolID    string        `json:"userPoolId"`
	UserName      *string       `json:"userName"`
	CallerContext callerContext `json:"callerContext"`
	Request       any           `json:"request"`
	Response      any           `json:"response"`
}

type callerContext struct {
	AWSSDKVersion string `json:"awsSdkVersion"`
	ClientID      string `json:"clientId"`
}

// triggerARN is the function of trigger in p's LambdaConfig, "" when none.
func (p *userPool) triggerARN(trigger string) string {
	lc := p.Lambda
	if lc == nil {
		return ""
	}
	switch trigger {
	case trigPreSignUp:
		return lc.PreSignUp
	case trigPostConfirmation:
		return lc.PostConfirmation
	case trigPreAuthentication:
		return lc.PreAuthentication
	case trigPostAuthentication:
		return lc.PostAuthentication
	case trigCustomMessage:
		return lc.CustomMessage
	case trigPreTokenGeneration:
		if lc.PreTokenGenerationConfig != nil && lc.PreTokenGenerationConfig.LambdaArn != "" {
			return lc.PreTokenGenerationConfig.LambdaArn
		}
		return lc.PreTokenGeneration
	case trigUserMigration:
		return lc.UserMigration
	case trigDefineAuth:
		return lc.DefineAuthChallenge
	case trigCreateAuth:
		return lc.CreateAuthChallenge
	case trigVerifyAuth:
		return lc.VerifyAuthChallengeResponse
	case trigCustomEmailSender, trigCustomSMSSender:
		return senderARN(lc, trigger)
	}
	return ""
}

// preTokenVersion is the event version of p's PreTokenGeneration trigger: "1",
// "2" or "3" (LambdaVersion V1_0, V2_0, V3_0; a bare PreTokenGeneration is V1_0).
func (p *userPool) preTokenVersion() string {
	if lc := p.Lambda; lc != nil && lc.PreTokenGenerationConfig != nil {
		switch lc.PreTokenGenerationConfig.LambdaVersion {
		case "V2_0":
			return "2"
		case "V3_0":
			return "3"
		}
	}
	return "1"
}

// newEvent starts the event of one invocation. userName nil is JSON null (the
// machine-to-machine token event has no user).
func (e *Emulator) newEvent(c *call, p *userPool, source string, userName *string, request, response any) *triggerEvent {
	client := c.clientID()
	if client == "" {
		client = noClient
	}
	return &triggerEvent{
		Version: "1", TriggerSource: source, Region: poolRegion(p.ID), UserPoolID: p.ID, UserName: userName,
		CallerContext: callerContext{AWSSDKVersion: "aws-sdk-unknown-unknown", ClientID: client},
		Request:       request, Response: response,
	}
}

func strPtr(s string) *string { return &s }

// eventAttributes is userAttributes as triggers get them: the user's attributes,
// sub included, and cognito:user_status.
func eventAttributes(u *user) map[string]string {
	out := make(map[string]string, len(u.Attributes)+2)
	for k, v := range u.Attributes {
		out[k] = v
	}
	out["sub"] = u.Sub
	if u.Status != "" {
		out["cognito:user_status"] = u.Status
	}
	return out
}

// callInput is what the trigger events take from any request body: the client,
// and the caller's ClientMetadata and ValidationData.
type callInput struct {
	ClientID       string            `json:"ClientId"`
	ClientMetadata map[string]string `json:"ClientMetadata"`
	ValidationData []attribute       `json:"ValidationData"`
	ChallengeName  string            `json:"ChallengeName"`
}

// input decodes callInput from the request once, when a trigger needs it, so
// that requests of pools without triggers never pay for it.
func (c *call) input() *callInput {
	if c.in == nil {
		c.in = &callInput{}
		if len(c.body) > 0 {
			_ = json.Unmarshal(c.body, c.in)
		}
	}
	return c.in
}

func (c *call) clientID() string                  { return c.input().ClientID }
func (c *call) clientMetadata() map[string]string { return orEmpty(c.input().ClientMetadata) }

// validationData is a request's ValidationData as the map events carry.
func (c *call) validationData() map[string]string {
	out := map[string]string{}
	for _, a := range c.input().ValidationData {
		out[a.Name] = a.Value
	}
	return out
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// runTrigger invokes p's trigger when it has one and decodes the result's
// "response" into resp (left alone when there is no function). It reports
// whether a function ran.
func (e *Emulator) runTrigger(c *call, p *userPool, trigger string, ev *triggerEvent, resp any) (bool, error) {
	arn := p.triggerARN(trigger)
	if arn == "" {
		return false, nil
	}
	out, err := e.invoke(c, p, trigger, arn, ev)
	if err != nil {
		return true, err
	}
	if resp == nil {
		return true, nil
	}
	var doc struct {
		Response json.RawMessage `json:"response"`
	}
	if json.Unmarshal(out, &doc) != nil {
		return true, e.invalidAnswer(p, trigger, errLambdaJSON, "")
	}
	r := bytes.TrimSpace(doc.Response)
	if len(r) == 0 || bytes.Equal(r, []byte("null")) {
		return true, nil // nothing changed: Cognito's defaults
	}
	if err := json.Unmarshal(r, resp); err != nil {
		return true, e.invalidAnswer(p, trigger, errLambdaUnrecognized, describeJSONError(err))
	}
	return true, nil
}

// invalidAnswer records on the latest invocation of trigger that its answer was
// refused, and returns Cognito's error for it.
func (e *Emulator) invalidAnswer(p *userPool, trigger string, le *lambdaError, note string) error {
	ae := le.cognitoError(trigger)
	for i := len(e.invocations) - 1; i >= 0; i-- {
		if in := &e.invocations[i]; in.PoolID == p.ID && in.Trigger == trigger {
			in.Outcome, in.Error = le.outcome, ae.Error()
			if note != "" {
				in.Notes = append(in.Notes, note)
			}
			break
		}
	}
	return ae
}

// ---- PreSignUp ----

type preSignUpRequest struct {
	UserAttributes map[string]string `json:"userAttributes"`
	ValidationData map[string]string `json:"validationData"`
	ClientMetadata map[string]string `json:"clientMetadata"`
}

type preSignUpResponse struct {
	AutoConfirmUser bool `json:"autoConfirmUser"`
	AutoVerifyEmail bool `json:"autoVerifyEmail"`
	AutoVerifyPhone bool `json:"autoVerifyPhone"`
}

// preSignUp runs PreSignUp for a user about to be created (source SignUp,
// AdminCreateUser or ExternalProvider) and returns its answer.
func (e *Emulator) preSignUp(c *call, p *userPool, source, username string, attrs []attribute) (preSignUpResponse, error) {
	var resp preSignUpResponse
	if p.triggerARN(trigPreSignUp) == "" {
		return resp, nil
	}
	ua := map[string]string{}
	for _, a := range attrs {
		ua[a.Name] = a.Value
	}
	ev := e.newEvent(c, p, "PreSignUp_"+source, strPtr(username),
		preSignUpRequest{UserAttributes: ua, ValidationData: c.validationData(), ClientMetadata: c.clientMetadata()},
		preSignUpResponse{})
	_, err := e.runTrigger(c, p, trigPreSignUp, ev, &resp)
	return resp, err
}

// ---- PostConfirmation ----

type postConfirmationRequest struct {
	UserAttributes map[string]string `json:"userAttributes"`
	ClientMetadata map[string]string `json:"clientMetadata"`
}

// postConfirmation runs PostConfirmation after u was confirmed (source
// ConfirmSignUp or ConfirmForgotPassword).
func (e *Emulator) postConfirmation(c *call, p *userPool, u *user, source string) error {
	if p.triggerARN(trigPostConfirmation) == "" {
		return nil
	}
	ev := e.newEvent(c, p, "PostConfirmation_"+source, strPtr(u.Username),
		postConfirmationRequest{UserAttributes: eventAttributes(u), ClientMetadata: c.clientMetadata()}, struct{}{})
	_, err := e.runTrigger(c, p, trigPostConfirmation, ev, nil)
	return err
}

// ---- PreAuthentication and PostAuthentication ----

type preAuthenticationRequest struct {
	UserAttributes map[string]string `json:"userAttributes"`
	ValidationData map[string]string `json:"validationData"`
	UserNotFound   bool              `json:"userNotFound"`
}

// preAuthentication runs PreAuthentication when u starts to sign in; the
// request's ClientMetadata is the event's validationData, as in Cognito.
func (e *Emulator) preAuthentication(c *call, p *userPool, u *user) error {
	if p.triggerARN(trigPreAuthentication) == "" {
		return nil
	}
	ev := e.newEvent(c, p, "PreAuthentication_Authentication", strPtr(u.Username),
		preAuthenticationRequest{UserAttributes: eventAttributes(u), ValidationData: c.clientMetadata()}, struct{}{})
	_, err := e.runTrigger(c, p, trigPreAuthentication, ev, nil)
	return err
}

type postAuthenticationRequest struct {
	UserAttributes map[string]string `json:"userAttributes"`
	NewDeviceUsed  bool              `json:"newDeviceUsed"`
	ClientMetadata map[string]string `json:"clientMetadata"`
}

// postAuthentication runs PostAuthentication once u has authenticated, before
// tokens are issued; a failure fails the sign-in.
func (e *Emulator) postAuthentication(c *call, p *userPool, u *user, newDevice bool) error {
	if p.triggerARN(trigPostAuthentication) == "" {
		return nil
	}
	ev := e.newEvent(c, p, "PostAuthentication_Authentication", strPtr(u.Username),
		postAuthenticationRequest{UserAttributes: eventAttributes(u), NewDeviceUsed: newDevice, ClientMetadata: c.clientMetadata()}, struct{}{})
	_, err := e.runTrigger(c, p, trigPostAuthentication, ev, nil)
	return err
}

// refind looks u up again after a trigger ran with the lock released.
func refind(p *userPool, u *user) (*user, error) {
	if v := p.Users[p.userKey(u.Username)]; v != nil && v.Sub == u.Sub {
		return v, nil
	}
	return nil, errUserNotFound()
}

// ---- CustomMessage ----

const (
	codePlaceholder     = "{####}"
	usernamePlaceholder = "{username}"
	linkPlaceholder     = "{##Click Here##}"
)

type customMessageRequest struct {
	UserAttributes    map[string]string `json:"userAttributes"`
	CodeParameter     string            `json:"codeParameter"`
	LinkParameter     string            `json:"linkParameter"`
	UsernameParameter *string           `json:"usernameParameter"`
	ClientMetadata    map[string]string `json:"clientMetadata"`
}

type customMessageResponse struct {
	SMSMessage   *string `json:"smsMessage"`
	EmailMessage *string `json:"emailMessage"`
	EmailSubject *string `json:"emailSubject"`
}

// messageSource is the CustomMessage triggerSource of a message kind sent by op.
func messageSource(kind, op string) string {
	switch kind {
	case "SIGN_UP":
		if op == "ResendConfirmationCode" {
			return "CustomMessage_ResendCode"
		}
		return "CustomMessage_SignUp"
	case "ADMIN_CREATE_USER":
		return "CustomMessage_AdminCreateUser"
	case "FORGOT_PASSWORD":
		return "CustomMessage_ForgotPassword"
	case "VERIFY_ATTRIBUTE":
		if op == "UpdateUserAttributes" || op == "AdminUpdateUserAttributes" {
			return "CustomMessage_UpdateUserAttribute"
		}
		return "CustomMessage_VerifyUserAttribute"
	case "SMS_MFA", "EMAIL_OTP":
		return "CustomMessage_Authentication"
	}
	return "CustomMessage_" + kind
}

// defaultMessage is Cognito's message of a kind when the pool sets none.
func defaultMessage(kind string) (subject, body string) {
	switch kind {
	case "ADMIN_CREATE_USER":
		return "Your temporary password", "Your username is " + usernamePlaceholder + " and temporary password is " + codePlaceholder + "."
	case "SMS_MFA", "EMAIL_OTP":
		return "Your authentication code", "Your authentication code is " + codePlaceholder + "."
	}
	return "Your verification code", "Your verification code is " + codePlaceholder + "."
}

// renderMessage makes the subject and text of a message to u: the CustomMessage
// trigger's answer when the pool has one, else Cognito's default, with the code
// and username put in.
//
// With a custom sender for the medium (triggers_sender.go) the sender gets the
// code instead, and the message has no subject and no body: Cognito sent none.
func (e *Emulator) renderMessage(c *call, p *userPool, u *user, kind, code, medium string) (subject, body string, err error) {
	if sender := p.senderTrigger(medium); sender != "" {
		return "", "", e.customSend(c, p, u, sender, kind, code)
	}
	subject, body = defaultMessage(kind)
	if p.triggerARN(trigCustomMessage) != "" {
		req := customMessageRequest{
			UserAttributes: eventAttributes(u), CodeParameter: codePlaceholder, LinkParameter: linkPlaceholder,
			ClientMetadata: c.clientMetadata(),
		}
		if kind == "ADMIN_CREATE_USER" {
			req.UsernameParameter = strPtr(usernamePlaceholder)
		}
		ev := e.newEvent(c, p, messageSource(kind, c.op), strPtr(u.Username), req, customMessageResponse{})
		var resp customMessageResponse
		if _, err := e.runTrigger(c, p, trigCustomMessage, ev, &resp); err != nil {
			return "", "", err
		}
		text := resp.EmailMessage
		if medium == "SMS" {
			text = resp.SMSMessage
		}
		switch {
		case text == nil || *text == "":
		case !strings.Contains(*text, codePlaceholder):
			// Cognito sends its default message when the custom one has no
			// place for the code; the note makes the mistake visible.
			e.noteInvocation(p.ID, trigCustomMessage, "message without "+codePlaceholder+": the default message was sent")
		case len(*text) > 20000:
			e.noteInvocation(p.ID, trigCustomMessage, "message longer than 20,000 characters: the default message was sent")
		default:
			body = *text
			if medium == "EMAIL" && resp.EmailSubject != nil && *resp.EmailSubject != "" {
				subject = clipMessage(*resp.EmailSubject)
			}
		}
	}
	body = strings.ReplaceAll(body, codePlaceholder, code)
	body = strings.ReplaceAll(body, usernamePlaceholder, u.Username)
	if medium == "SMS" {
		subject = ""
	}
	return subject, body, nil
}

// signUpTrigger runs PreSignUp for u, just created by SignUp, AdminCreateUser or
// federation (source "SignUp", "AdminCreateUser", "ExternalProvider"), and
// applies its answer. A refusal removes u again. It returns u looked
// up anew and whether PreSignUp confirmed it (SignUp only).
func (e *Emulator) signUpTrigger(c *call, p *userPool, u *user, source string, given []attribute) (*user, bool, error) {
	if p.triggerARN(trigPreSignUp) == "" {
		return u, false, nil
	}
	attrs := preSignUpAttributes(u, given)
	resp, err := e.preSignUp(c, p, source, u.Username, attrs)
	if err != nil {
		if v := p.Users[p.userKey(u.Username)]; v == u {
			delete(p.Users, p.userKey(u.Username))
			e.dirty = true
		}
		return nil, false, err
	}
	if u, err = refind(p, u); err != nil {
		return nil, false, err
	}
	if source != "SignUp" {
		return u, false, nil
	}
	if err := e.applyPreSignUp(p, u, resp); err != nil {
		return nil, false, err
	}
	return u, resp.AutoConfirmUser, nil
}

// preSignUpAttributes are the attributes PreSignUp's event shows for u: what
// the caller gave (and the address a sign-in alias implies), not what the
// emulator derived.
func preSignUpAttributes(u *user, given []attribute) []attribute {
	attrs := make([]attribute, 0, len(u.Attributes))
	for k, v := range u.Attributes {
		if k == "sub" || (strings.HasSuffix(k, "_verified") && !hasAttr(given, k)) {
			continue
		}
		attrs = append(attrs, attribute{k, v})
	}
	return attrs
}

// applyPreSignUp applies a SignUp's PreSignUp answer to u: addresses verified
// (which u must have, or it is removed again) and the user confirmed.
func (e *Emulator) applyPreSignUp(p *userPool, u *user, resp preSignUpResponse) error {
	if (resp.AutoVerifyEmail && u.Attributes["email"] == "") || (resp.AutoVerifyPhone && u.Attributes["phone_number"] == "") {
		delete(p.Users, p.userKey(u.Username))
		e.dirty = true
		return errInvalidParameter("PreSignUp asked to verify an address the user does not have.")
	}
	if resp.AutoVerifyEmail {
		u.Attributes["email_verified"] = "true"
	}
	if resp.AutoVerifyPhone {
		u.Attributes["phone_number_verified"] = "true"
	}
	if resp.AutoConfirmUser {
		// An auto-confirmed user gets no code, and PostConfirmation does not run.
		u.Status = "CONFIRMED"
	}
	e.dirty = true
	return nil
}

// preAuthenticationOf runs PreAuthentication for u and returns u looked up anew.
func (e *Emulator) preAuthenticationOf(c *call, p *userPool, u *user) (*user, error) {
	if p.triggerARN(trigPreAuthentication) == "" {
		return u, nil
	}
	if err := e.preAuthentication(c, p, u); err != nil {
		return nil, err
	}
	return refind(p, u)
}

// hostedUISignInTriggers runs PreAuthentication and PostAuthentication for a
// sign-in at the hosted UI's form, once the password checked out. It returns u
// looked up anew, or the message the form shows when a trigger refused.
func (e *Emulator) hostedUISignInTriggers(ctx context.Context, p *userPool, cl *appClient, u *user, now time.Time) (*user, string) {
	if p.triggerARN(trigPreAuthentication) == "" && p.triggerARN(trigPostAuthentication) == "" {
		return u, ""
	}
	c := &call{ctx: ctx, op: "login", now: now, in: &callInput{ClientID: cl.ID}}
	fail := func(err error) (*user, string) {
		if ae, ok := err.(*Error); ok {
			return nil, ae.Message
		}
		return nil, "Your account cannot sign in now."
	}
	u, err := e.preAuthenticationOf(c, p, u)
	if err != nil {
		return fail(err)
	}
	if p.triggerARN(trigPostAuthentication) != "" {
		if err := e.postAuthentication(c, p, u, false); err != nil {
			return fail(err)
		}
		if u, err = refind(p, u); err != nil {
			return fail(err)
		}
	}
	return u, ""
}
