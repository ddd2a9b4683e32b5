package emulator

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// The fault injector (InjectFault, the admin endpoint's /_emulator/faults). A
// fault is keyed by what it reaches: an X-Amz-Target operation ("InitiateAuth"),
// an OAuth endpoint by its path ("oauth2/token", "oauth2/authorize",
// "oauth2/userInfo", "oauth2/revoke", "login", "logout", "oauth2/idpresponse"),
// or a trigger's function (TriggerFault, lambda.go). Before the operation (the
// default) it answers instead of the operation; with After (or Cut) the
// operation runs and its state changes stay, and only the answer is delayed,
// dropped, cut short or replaced: the service did it, the network lost the answer.

// faultKey is the fault table's key for a name InjectFault gets: the short
// operation name of a target, an OAuth endpoint's path without its leading slash.
func faultKey(op string) string {
	return strings.TrimPrefix(shortOp(op), "/")
}

// hitFault returns the fault set for key when this request is one it affects
// (Rate). It is called with e.mu held.
func (e *Emulator) hitFault(key string) (Fault, bool) {
	f, ok := e.faults[key]
	if !ok {
		return Fault{}, false
	}
	return f, f.Rate <= 0 || f.Rate >= 1 || e.rng.Float64() < f.Rate
}

// serveWithFault serves one request through serve under the fault f. Before the
// operation, the fault answers in its place (latency first, then a dropped
// connection or the error writeErr writes in the endpoint's own dialect; with
// latency alone the operation then runs). After the operation, serve answers into
// a buffer, and the fault then decides what of that answer the client gets.
func serveWithFault(w http.ResponseWriter, r *http.Request, f Fault, writeErr func(w http.ResponseWriter, f Fault), serve func(w http.ResponseWriter)) {
	var held *heldAnswer
	if f.After || f.Cut {
		held = &heldAnswer{h: http.Header{}}
		serve(held)
	}
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	switch {
	case f.Drop:
		dropConnection(w)
	case f.Cut:
		held.cut(w)
	case f.ErrName != "":
		writeErr(w, f)
	case held != nil:
		held.sendTo(w)
	default:
		serve(w)
	}
}

// faultMessage and faultStatus are an ErrName fault's message and status with
// their defaults.
func (f Fault) faultMessage() string {
	if f.Message == "" {
		return "Injected fault."
	}
	return f.Message
}

func (f Fault) faultStatus() int {
	if f.Status == 0 {
		return http.StatusBadRequest
	}
	return f.Status
}

// writeOAuthFault answers an OAuth endpoint's ErrName fault as the endpoints
// answer errors: {"error": ErrName} (with error_description when the fault has a
// message).
func writeOAuthFault(w http.ResponseWriter, f Fault) {
	out := map[string]string{"error": f.ErrName}
	if f.Message != "" {
		out["error_description"] = f.Message
	}
	writeJSONStatus(w, f.faultStatus(), out)
}

// heldAnswer is an http.ResponseWriter that keeps the answer of an operation run
// under an After fault until the fault has had its say.
type heldAnswer struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func (a *heldAnswer) Header() http.Header { return a.h }

func (a *heldAnswer) WriteHeader(status int) {
	if a.status == 0 {
		a.status = status
	}
}

func (a *heldAnswer) Write(b []byte) (int, error) {
	if a.status == 0 {
		a.status = http.StatusOK
	}
	return a.body.Write(b)
}

// sendTo writes the held answer to w.
func (a *heldAnswer) sendTo(w http.ResponseWriter) {
	h := w.Header()
	for k, v := range a.h {
		h[k] = v
	}
	if a.status == 0 {
		a.status = http.StatusOK
	}
	h.Set("Content-Length", fmt.Sprint(a.body.Len()))
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body.Bytes())
}

// cut sends the held answer's status, headers and first half of its body, with
// the whole body's Content-Length, and closes the connection: the client reads a
// truncated answer. Without a hijackable connection it drops the connection.
func (a *heldAnswer) cut(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		dropConnection(w)
		return
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		dropConnection(w)
		return
	}
	defer conn.Close()
	if a.status == 0 {
		a.status = http.StatusOK
	}
	h := w.Header().Clone()
	for k, v := range a.h {
		h[k] = v
	}
	h.Set("Content-Length", fmt.Sprint(a.body.Len()))
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\n", a.status, http.StatusText(a.status))
	_ = h.Write(buf)
	_, _ = buf.WriteString("\r\n")
	_, _ = buf.Write(a.body.Bytes()[:a.body.Len()/2])
	_ = buf.Flush()
}
