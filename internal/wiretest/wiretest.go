// Package wiretest is test support for code that talks to Cognito's JSON API
// over HTTP: a client that records which operations and challenges went out.
package wiretest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
)

// Recorder is an HTTP client (it fits cognito.Options.HTTPClient) that passes
// each request on to http.DefaultClient and notes it as "Operation" or
// "RespondToAuthChallenge:CHALLENGE", so a test sees which challenges a
// sign-in answered. With MarkDevice set, a request that carried a device key
// (a top-level DeviceKey or AuthParameters DEVICE_KEY) is noted with a
// "+device" suffix, so a test also sees what a refresh sent. Only operation
// and challenge names are kept: never a token or a password.
//
// The zero value is ready to use; a Recorder is safe for concurrent use.
type Recorder struct {
	MarkDevice bool

	mu    sync.Mutex
	calls []string
}

// Do notes req and sends it. The body is read to name the challenge and then
// restored, so the request goes out unchanged.
func (r *Recorder) Do(req *http.Request) (*http.Response, error) {
	op := req.Header.Get("X-Amz-Target")
	op = op[strings.LastIndexByte(op, '.')+1:]
	if req.Body != nil {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		var in struct {
			ChallengeName  string
			DeviceKey      string
			AuthParameters map[string]string
		}
		if json.Unmarshal(body, &in) == nil {
			if in.ChallengeName != "" {
				op += ":" + in.ChallengeName
			}
			if r.MarkDevice && (in.DeviceKey != "" || in.AuthParameters["DEVICE_KEY"] != "") {
				op += "+device"
			}
		}
	}
	r.mu.Lock()
	r.calls = append(r.calls, op)
	r.mu.Unlock()
	return http.DefaultClient.Do(req)
}

// Take returns the calls noted since the last Take, oldest first.
func (r *Recorder) Take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.calls
	r.calls = nil
	return c
}
