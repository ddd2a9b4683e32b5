package emulator

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// adminPrefix is the path of the loopback-only admin endpoint (see README.md).
const adminPrefix = "/_emulator/"

type adminFault struct {
	Latency string  `json:"latency,omitempty"` // Go duration
	ErrName string  `json:"errName,omitempty"`
	Message string  `json:"message,omitempty"`
	Status  int     `json:"status,omitempty"`
	Rate    float64 `json:"rate,omitempty"`
	Drop    bool    `json:"drop,omitempty"`
	After   bool    `json:"after,omitempty"`
	Cut     bool    `json:"cut,omitempty"`
}

// adminHandler is one admin route; body is the request body, read (bounded)
// after the loopback checks.
type adminHandler func(w http.ResponseWriter, r *http.Request, body []byte)

// adminMux routes the admin endpoint's paths (the table in README.md).
func (e *Emulator) adminMux() *http.ServeMux {
	mux := http.NewServeMux()
	route := func(pattern string, h adminHandler) { mux.Handle(pattern, e.adminOnly(h)) }
	noContent := func(fn func(r *http.Request)) adminHandler {
		return func(w http.ResponseWriter, r *http.Request, _ []byte) {
			fn(r)
			w.WriteHeader(http.StatusNoContent)
		}
	}
	route("GET /_emulator/clock", func(w http.ResponseWriter, _ *http.Request, _ []byte) { e.writeNow(w) })
	route("POST /_emulator/clock", e.adminSetClock)
	route("GET /_emulator/codes", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		q := r.URL.Query()
		msgs := e.Messages(q.Get("poolId"), q.Get("username"))
		if msgs == nil {
			msgs = []Message{}
		}
		writeJSONStatus(w, http.StatusOK, map[string]any{"messages": msgs})
	})
	route("GET /_emulator/requests", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSONStatus(w, http.StatusOK, map[string]any{"requests": e.RequestCounts()})
	})
	route("DELETE /_emulator/requests", noContent(func(*http.Request) { e.ResetCounters() }))
	route("DELETE /_emulator/faults", noContent(func(*http.Request) { e.ClearFaults() }))
	route("DELETE /_emulator/faults/{op...}", noContent(func(r *http.Request) { e.InjectFault(r.PathValue("op"), Fault{}) }))
	route("PUT /_emulator/faults/{op...}", e.adminSetFault)
	route("POST /_emulator/faults/{op...}", e.adminSetFault)
	route("POST /_emulator/rotate-keys/{pool}", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		if err := e.RotateKeys(r.PathValue("pool")); err != nil {
			adminBad(w, err.Error())
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	route("GET /_emulator/lambda/invocations", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		inv := e.Invocations(r.URL.Query().Get("poolId"))
		if inv == nil {
			inv = []Invocation{}
		}
		writeJSONStatus(w, http.StatusOK, map[string]any{"invocations": inv})
	})
	route("DELETE /_emulator/lambda/invocations", noContent(func(*http.Request) { e.ClearInvocations() }))
	route("GET /_emulator/credentials/{accessKeyId}", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		// Which role and identity credentials from GetCredentialsForIdentity are
		// for (identity_roles.go); never their secret or session token.
		c, ok := e.Credentials(r.PathValue("accessKeyId"))
		if !ok {
			writeJSONStatus(w, http.StatusNotFound, map[string]string{"message": "unknown access key ID"})
			return
		}
		writeJSONStatus(w, http.StatusOK, c)
	})
	route("GET /_emulator/seed", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSONStatus(w, http.StatusOK, e.Seeded())
	})
	e.consoleRoutes(route) // console.go: /_emulator/ui/
	route("/_emulator/", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSONStatus(w, http.StatusNotFound, map[string]string{"message": "unknown admin path"})
	})
	return mux
}

// adminOnly refuses anything that does not come from this machine (the endpoint
// moves the clock and reads codes) or that a browser was made to send, then reads
// the body.
func (e *Emulator) adminOnly(h adminHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isLoopback(r.RemoteAddr) {
			writeJSONStatus(w, http.StatusForbidden, map[string]string{"message": "The admin endpoint answers loopback clients only."})
			return
		}
		if why := adminRefusal(r); why != "" {
			writeJSONStatus(w, http.StatusForbidden, map[string]string{"message": why})
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		if err != nil {
			adminBad(w, "unreadable body")
			return
		}
		h(w, r, body)
	})
}

func adminBad(w http.ResponseWriter, msg string) {
	writeJSONStatus(w, http.StatusBadRequest, map[string]string{"message": msg})
}

func (e *Emulator) writeNow(w http.ResponseWriter) {
	writeJSONStatus(w, http.StatusOK, map[string]string{"now": e.now().UTC().Format(time.RFC3339Nano)})
}

func (e *Emulator) adminSetClock(w http.ResponseWriter, _ *http.Request, body []byte) {
	var in struct {
		Set     string `json:"set"`
		Advance string `json:"advance"`
	}
	if json.Unmarshal(body, &in) != nil || (in.Set == "") == (in.Advance == "") {
		adminBad(w, `give {"set": RFC 3339 time} or {"advance": duration}`)
		return
	}
	if in.Set != "" {
		t, err := time.Parse(time.RFC3339Nano, in.Set)
		if err != nil {
			adminBad(w, "set: not an RFC 3339 time")
			return
		}
		e.SetTime(t)
	} else {
		d, err := time.ParseDuration(in.Advance)
		if err != nil {
			adminBad(w, "advance: not a duration")
			return
		}
		e.Advance(d)
	}
	e.writeNow(w)
}

func (e *Emulator) adminSetFault(w http.ResponseWriter, r *http.Request, body []byte) {
	var in adminFault
	if err := json.Unmarshal(body, &in); err != nil {
		adminBad(w, "fault: malformed JSON")
		return
	}
	f := Fault{ErrName: in.ErrName, Message: in.Message, Status: in.Status, Rate: in.Rate, Drop: in.Drop, After: in.After, Cut: in.Cut}
	if in.Latency != "" {
		d, err := time.ParseDuration(in.Latency)
		if err != nil || d < 0 {
			adminBad(w, "latency: not a duration")
			return
		}
		f.Latency = d
	}
	if f.Rate < 0 || f.Rate > 1 || (f.Status != 0 && (f.Status < 400 || f.Status > 599)) {
		adminBad(w, "rate must be within [0,1] and status a 4xx or 5xx code")
		return
	}
	if !e.injectFaultBounded(r.PathValue("op"), f) {
		adminBad(w, "too many faults; delete some first")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// adminRefusal tells why a loopback request may still not use the admin endpoint
// ("" when it may). A browser on this machine can be made to send requests to
// loopback by any web page: through DNS rebinding (a foreign name resolving to
// 127.0.0.1, so the Host header is not a loopback name) or by a cross-site form
// or fetch (the browser then says so in Origin and Sec-Fetch-Site). Test tools
// (curl, Go, Node) send neither header.
func adminRefusal(r *http.Request) string {
	if r.Host != "" && !loopbackHost(r.Host) { // no Host: a direct ServeHTTP call
		return "The admin endpoint answers requests addressed to a loopback host name only."
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Scheme != "http" || !strings.EqualFold(u.Host, r.Host) {
			return "The admin endpoint refuses cross-origin requests."
		}
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return "The admin endpoint refuses cross-site requests."
	}
	return ""
}

// loopbackHost tells whether a Host header names this machine: localhost (or a
// name under .localhost, which resolvers keep on loopback) or a loopback IP.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
