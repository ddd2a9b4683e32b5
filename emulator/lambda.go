package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// This file is the Lambda side of the triggers (triggers*.go): how the emulator runs
// a pool's functions, how their failures become Cognito's errors, and the record of
// every invocation the admin endpoint shows.

// DefaultLambdaTimeout is how long Cognito waits for a trigger function.
const DefaultLambdaTimeout = 5 * time.Second

// maxLambdaResult bounds what a function may answer: Lambda's own limit for a
// synchronous response.
const maxLambdaResult = 6 << 20

// maxInvocations bounds the invocation log of a long-running emulator.
const maxInvocations = 500

// LambdaFunc runs trigger functions in the test's own process. It gets the function's
// ARN (as the pool's LambdaConfig names it) and the event JSON that Cognito sends,
// and returns the function's result: the event with its "response" filled in. A
// returned error is a function error (Lambda's X-Amz-Function-Error), its text the
// function's errorMessage. ctx ends at the trigger timeout.
type LambdaFunc func(ctx context.Context, functionARN string, event []byte) ([]byte, error)

// LambdaRoute is where the Lambda Invoke API of one function lives (a seed's
// lambdaFunctions entry).
type LambdaRoute struct {
	// Endpoint is the base URL of an AWS Lambda Invoke API: `sam local
	// start-lambda` (http://127.0.0.1:3001), LocalStack, serverless-offline, or any
	// HTTP server answering POST /2015-03-31/functions/{name}/invocations.
	Endpoint string `json:"endpoint"`
	// FunctionName is the name the endpoint knows the function by (SAM's logical
	// ID); default the name in the ARN.
	FunctionName string `json:"functionName,omitempty"`
}

// Invocation is one trigger invocation as the emulator recorded it; GET
// /_emulator/lambda/invocations lists them. The event's password (UserMigration)
// is redacted.
type Invocation struct {
	Time          time.Time       `json:"time"`
	PoolID        string          `json:"poolId"`
	Trigger       string          `json:"trigger"` // the LambdaConfig field, e.g. PreSignUp
	TriggerSource string          `json:"triggerSource"`
	Function      string          `json:"function"` // the ARN
	Via           string          `json:"via"`      // the invoke URL, or "in-process"
	Duration      time.Duration   `json:"durationNs"`
	Outcome       string          `json:"outcome"` // ok, function-error, timeout, unreachable, invalid-response, no-route, injected-fault
	Error         string          `json:"error,omitempty"`
	Notes         []string        `json:"notes,omitempty"` // e.g. restricted claims a PreTokenGeneration answer tried to change
	Event         json.RawMessage `json:"event"`
	Result        json.RawMessage `json:"result,omitempty"`
}

// Invocations returns the recorded trigger invocations of a pool (all pools when
// poolID is ""), oldest first.
func (e *Emulator) Invocations(poolID string) []Invocation {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Invocation
	for _, in := range e.invocations {
		if poolID == "" || in.PoolID == poolID {
			out = append(out, in)
		}
	}
	return out
}

// ClearInvocations empties the invocation log.
func (e *Emulator) ClearInvocations() {
	e.mu.Lock()
	e.invocations = nil
	e.mu.Unlock()
}

// SetLambdaRoute sends invocations of the function ARN to route (the Go form of a
// seed's lambdaFunctions entry); a zero route removes it.
func (e *Emulator) SetLambdaRoute(functionARN string, route LambdaRoute) error {
	if route != (LambdaRoute{}) {
		if err := checkEndpoint(route.Endpoint); err != nil {
			return err
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if route == (LambdaRoute{}) {
		delete(e.lambdaRoutes, functionARN)
		return nil
	}
	e.lambdaRoutes[functionARN] = route
	return nil
}

func checkEndpoint(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("emulator: Lambda endpoint %q: want an http(s) URL", s)
	}
	return nil
}

// TriggerFault is the InjectFault key that reaches a trigger, e.g.
// TriggerFault("PreSignUp") is "Lambda:PreSignUp" (PUT /_emulator/faults/Lambda:PreSignUp).
// Latency delays the invocation (past the trigger timeout it times out), Drop
// makes the function unreachable, ErrName fails the function with that errorType
// and Message as its errorMessage — or, when ErrName is one of Cognito's Lambda
// exceptions, answers that exception directly.
func TriggerFault(trigger string) string { return "Lambda:" + trigger }

// lambdaError is how one invocation failed, before it becomes Cognito's error.
type lambdaError struct {
	outcome string // as Invocation.Outcome
	detail  string // the function's errorMessage, the Lambda API's error type, …
}

func (le *lambdaError) Error() string { return le.outcome + ": " + le.detail }

// cognitoError is what Cognito answers for a trigger whose invocation failed.
func (le *lambdaError) cognitoError(trigger string) *Error {
	switch le.outcome {
	case "function-error":
		return newErr("UserLambdaValidationException", "%s failed with error %s.", trigger, le.detail)
	case "invalid-response":
		return newErr("InvalidLambdaResponseException", "%s", le.detail)
	case "injected-fault":
		// detail is "Name: message" of a Cognito exception the fault names.
		name, msg, _ := strings.Cut(le.detail, ": ")
		return newErr(name, "%s", msg)
	}
	return newErr("UnexpectedLambdaException", "%s invocation failed due to error %s.", trigger, le.detail)
}

var (
	errLambdaJSON         = &lambdaError{"invalid-response", "Invalid lambda function output : Invalid JSON"}
	errLambdaUnrecognized = &lambdaError{"invalid-response", "Unrecognizable lambda output"}
)

// invoke runs one trigger function. It is called with e.mu held and releases it
// for the call, so that a function may call the emulator back (AdminGetUser from a
// PreSignUp, say); callers must look up again what they need afterwards. The
// returned event is the function's result, an object; ev is recorded redacted.
func (e *Emulator) invoke(c *call, p *userPool, trigger, arn string, ev *triggerEvent) (json.RawMessage, *Error) {
	payload, err := json.Marshal(ev)
	if err != nil {
		return nil, newErr("UnexpectedLambdaException", "%s invocation failed due to error %s.", trigger, "event encoding")
	}
	fault, hit := e.hitFault(TriggerFault(trigger))
	route, via := e.lambdaRoute(arn)
	timeout := e.opts.LambdaTimeout
	if timeout <= 0 {
		timeout = DefaultLambdaTimeout
	}
	poolID := p.ID
	inv := Invocation{
		Time: c.now, PoolID: poolID, Trigger: trigger, TriggerSource: ev.TriggerSource, Function: arn, Via: via,
		Event: redactEvent(payload),
	}
	parent := c.ctx
	if parent == nil {
		parent = context.Background()
	}

	e.mu.Unlock()
	start := time.Now()
	ctx, cancel := context.WithTimeout(parent, timeout)
	result, lerr := e.runFunction(ctx, route, arn, payload, fault, hit)
	cancel()
	inv.Duration = time.Since(start)
	e.mu.Lock()

	if lerr == nil && !isJSONObject(result) {
		lerr = errLambdaJSON
	}
	var cerr *Error
	if lerr != nil {
		cerr = lerr.cognitoError(trigger)
		inv.Outcome, inv.Error = lerr.outcome, cerr.Error()
	} else {
		inv.Outcome = "ok"
	}
	if len(result) > 0 && len(result) <= 64<<10 && json.Valid(result) {
		inv.Result = redactEvent(result)
	}
	e.recordInvocation(inv)
	if cerr == nil && e.st.Pools[poolID] != p {
		// The pool went away (or the state was replaced) while the lock was free.
		cerr = errResourceNotFound("User pool %s does not exist.", clip(poolID))
	}
	if cerr != nil {
		return nil, cerr
	}
	return result, nil
}

// noteInvocation adds a note to the latest invocation of the pool's trigger (a
// restricted claim ignored, a message without its code placeholder).
func (e *Emulator) noteInvocation(poolID, trigger, note string) {
	for i := len(e.invocations) - 1; i >= 0; i-- {
		if in := &e.invocations[i]; in.PoolID == poolID && in.Trigger == trigger {
			if len(in.Notes) < 32 {
				in.Notes = append(in.Notes, note)
			}
			return
		}
	}
}

func (e *Emulator) recordInvocation(in Invocation) {
	if len(e.invocations) >= maxInvocations {
		e.invocations = append(e.invocations[:0], e.invocations[len(e.invocations)-maxInvocations/2:]...)
	}
	e.invocations = append(e.invocations, in)
}

// route is how one function is reached.
type route struct {
	fn       LambdaFunc // in process
	endpoint string     // Invoke API base URL
	name     string     // function name for the endpoint
	qual     string     // version or alias from the ARN
}

// lambdaRoute picks how to reach arn: the seed's route for it, the in-process
// function, then the global endpoint.
func (e *Emulator) lambdaRoute(arn string) (route, string) {
	name, qual := functionName(arn)
	if r, ok := e.lambdaRoutes[arn]; ok {
		if r.FunctionName != "" {
			name = r.FunctionName
		}
		rt := route{endpoint: r.Endpoint, name: name, qual: qual}
		return rt, rt.url()
	}
	if e.opts.Lambda != nil {
		return route{fn: e.opts.Lambda}, "in-process"
	}
	if e.opts.LambdaEndpoint != "" {
		rt := route{endpoint: e.opts.LambdaEndpoint, name: name, qual: qual}
		return rt, rt.url()
	}
	return route{}, ""
}

func (r route) url() string {
	u := strings.TrimRight(r.endpoint, "/") + "/2015-03-31/functions/" + url.PathEscape(r.name) + "/invocations"
	if r.qual != "" {
		u += "?Qualifier=" + url.QueryEscape(r.qual)
	}
	return u
}

// functionName takes the function name and qualifier out of a Lambda ARN
// (arn:aws:lambda:region:account:function:name[:qualifier]); anything else is
// used as the name itself, as the Invoke API accepts names too.
func functionName(arn string) (name, qualifier string) {
	parts := strings.Split(arn, ":")
	if len(parts) >= 7 && parts[0] == "arn" && parts[2] == "lambda" && parts[5] == "function" {
		if len(parts) >= 8 {
			return parts[6], parts[7]
		}
		return parts[6], ""
	}
	return arn, ""
}

// runFunction calls the function (or plays the injected fault) within ctx. An
// After fault lets the function run and then loses, delays or replaces its
// answer; Cut keeps half of it.
func (e *Emulator) runFunction(ctx context.Context, r route, arn string, payload []byte, f Fault, hit bool) ([]byte, *lambdaError) {
	if !hit {
		return e.callFunction(ctx, r, arn, payload)
	}
	var out []byte
	if f.After || f.Cut {
		var lerr *lambdaError
		if out, lerr = e.callFunction(ctx, r, arn, payload); lerr != nil {
			return nil, lerr
		}
	}
	if lerr := faultLatency(ctx, f.Latency); lerr != nil {
		return nil, lerr
	}
	switch {
	case f.Drop:
		return nil, &lambdaError{"unreachable", "Connection reset while invoking Lambda function"}
	case f.Cut:
		return out[:len(out)/2], nil // half a JSON document: an invalid response
	case f.ErrName != "":
		return nil, f.functionError()
	case f.After:
		return out, nil
	}
	return e.callFunction(ctx, r, arn, payload)
}

// faultLatency waits out an injected latency d, or fails when ctx ends first.
func faultLatency(ctx context.Context, d time.Duration) *lambdaError {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		t.Stop()
		return ctxFailure(ctx)
	}
}

// functionError is the failure a fault naming an error plays: one of Cognito's
// own Lambda exceptions, or else the function's error with f's message.
func (f Fault) functionError() *lambdaError {
	switch f.ErrName {
	case "UnexpectedLambdaException", "InvalidLambdaResponseException", "UserLambdaValidationException":
		return &lambdaError{"injected-fault", f.ErrName + ": " + f.faultMessage()}
	}
	msg := f.Message
	if msg == "" {
		msg = f.ErrName
	}
	return &lambdaError{"function-error", clipMessage(msg)}
}

// callFunction calls the function over its route.
func (e *Emulator) callFunction(ctx context.Context, r route, arn string, payload []byte) ([]byte, *lambdaError) {
	switch {
	case r.fn != nil:
		return runInProcess(ctx, r.fn, arn, payload)
	case r.endpoint != "":
		return invokeHTTP(ctx, e.lambdaHTTP, r, payload)
	}
	return nil, &lambdaError{"no-route", "ResourceNotFoundException"}
}

// ctxFailure classifies an ended context: Cognito's own timeout, or the client
// that went away.
func ctxFailure(ctx context.Context) *lambdaError {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &lambdaError{"timeout", "Socket timeout while invoking Lambda function"}
	}
	return &lambdaError{"unreachable", "Request cancelled while invoking Lambda function"}
}

func runInProcess(ctx context.Context, fn LambdaFunc, arn string, payload []byte) ([]byte, *lambdaError) {
	type answer struct {
		out []byte
		err error
	}
	done := make(chan answer, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- answer{err: fmt.Errorf("panic: %v", v)}
			}
		}()
		out, err := fn(ctx, arn, bytes.Clone(payload))
		done <- answer{out, err}
	}()
	select {
	case a := <-done:
		if a.err != nil {
			return nil, &lambdaError{"function-error", clipMessage(a.err.Error())}
		}
		if len(a.out) > maxLambdaResult {
			return nil, errLambdaJSON
		}
		return a.out, nil
	case <-ctx.Done():
		return nil, ctxFailure(ctx)
	}
}

// newLambdaClient is the HTTP client of one emulator's Invoke API calls. It has
// no timeout of its own: every call carries the trigger's deadline.
func newLambdaClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:               nil, // loopback endpoints must not go through a proxy
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 8,
		IdleConnTimeout:     30 * time.Second,
	}}
}

// invokeHTTP calls the Lambda Invoke API, RequestResponse.
func invokeHTTP(ctx context.Context, client *http.Client, r route, payload []byte) ([]byte, *lambdaError) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url(), bytes.NewReader(payload))
	if err != nil {
		return nil, &lambdaError{"unreachable", "InvalidEndpoint"}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Amz-Invocation-Type", "RequestResponse")
	req.Header.Set("X-Amz-Log-Type", "None")
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctxFailure(ctx)
		}
		return nil, &lambdaError{"unreachable", "Connection refused while invoking Lambda function"}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxLambdaResult+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctxFailure(ctx)
		}
		return nil, &lambdaError{"unreachable", "Connection reset while invoking Lambda function"}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &lambdaError{"unreachable", lambdaAPIError(resp, body)}
	}
	if resp.Header.Get("X-Amz-Function-Error") != "" {
		var fe struct {
			ErrorMessage string `json:"errorMessage"`
			ErrorType    string `json:"errorType"`
		}
		_ = json.Unmarshal(body, &fe)
		msg := fe.ErrorMessage
		if msg == "" {
			msg = fe.ErrorType
		}
		if msg == "" {
			msg = "Unhandled"
		}
		return nil, &lambdaError{"function-error", clipMessage(msg)}
	}
	if len(body) > maxLambdaResult {
		return nil, errLambdaJSON
	}
	return body, nil
}

// lambdaAPIError names the Lambda service error of a non-2xx answer (its
// x-amzn-ErrorType, or the body's __type/Type), for Cognito's "invocation failed
// due to error X".
func lambdaAPIError(resp *http.Response, body []byte) string {
	name := resp.Header.Get("X-Amzn-ErrorType")
	if name == "" {
		var b struct {
			Type  string `json:"__type"`
			Type2 string `json:"Type"`
		}
		if json.Unmarshal(body, &b) == nil {
			name = b.Type
			if name == "" {
				name = b.Type2
			}
		}
	}
	name, _, _ = strings.Cut(name, ":")
	if i := strings.LastIndexByte(name, '#'); i >= 0 {
		name = name[i+1:]
	}
	if name == "" {
		name = fmt.Sprintf("HTTP %d", resp.StatusCode)
		if resp.StatusCode == http.StatusNotFound {
			name = "ResourceNotFoundException"
		}
	}
	return clipMessage(name)
}

// clipMessage bounds a function's error text in Cognito's message.
func clipMessage(s string) string {
	const max = 1024
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

func isJSONObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 1 && b[0] == '{' && json.Valid(b)
}

// redactEvent hides the password a UserMigration event carries and a custom
// sender's code, the secrets of trigger events, before the event is kept for the admin endpoint.
func redactEvent(b []byte) json.RawMessage {
	var v map[string]any
	if json.Unmarshal(b, &v) != nil {
		return nil
	}
	if req, ok := v["request"].(map[string]any); ok {
		if _, ok := req["password"]; ok {
			req["password"] = "REDACTED"
		}
		if t, _ := req["type"].(string); strings.HasSuffix(t, "SenderRequestV1") && req["code"] != nil {
			req["code"] = "REDACTED" // a custom sender's code (served at /_emulator/codes)
		}
	}
	out, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return out
}
