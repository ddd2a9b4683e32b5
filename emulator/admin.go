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
}

// serveAdmin answers the test-control endpoint. It refuses anything that does not
// come from this machine: it can move the clock and read codes.
func (e *Emulator) serveAdmin(w http.ResponseWriter, r *http.Request) {
	if !isLoopback(r.RemoteAddr) {
		writeJSONStatus(w, http.StatusForbidden, map[string]string{"message": "The admin endpoint answers loopback clients only."})
		return
	}
	if why := adminRefusal(r); why != "" {
		writeJSONStatus(w, http.StatusForbidden, map[string]string{"message": why})
		return
	}
	path := strings.TrimPrefix(r.URL.Path, adminPrefix)
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err != nil {
		writeJSONStatus(w, http.StatusBadRequest, map[string]string{"message": "unreadable body"})
		return
	}
	bad := func(msg string) { writeJSONStatus(w, http.StatusBadRequest, map[string]string{"message": msg}) }
	switch {
	case path == "clock" && r.Method == http.MethodGet:
	case path == "clock" && r.Method == http.MethodPost:
		var in struct {
			Set     string `json:"set"`
			Advance string `json:"advance"`
		}
		if json.Unmarshal(body, &in) != nil || (in.Set == "") == (in.Advance == "") {
			bad(`give {"set": RFC 3339 time} or {"advance": duration}`)
			return
		}
		if in.Set != "" {
			t, err := time.Parse(time.RFC3339Nano, in.Set)
			if err != nil {
				bad("set: not an RFC 3339 time")
				return
			}
			e.SetTime(t)
		} else {
			d, err := time.ParseDuration(in.Advance)
			if err != nil {
				bad("advance: not a duration")
				return
			}
			e.Advance(d)
		}
	case path == "codes" && r.Method == http.MethodGet:
		q := r.URL.Query()
		msgs := e.Messages(q.Get("poolId"), q.Get("username"))
		if msgs == nil {
			msgs = []Message{}
		}
		writeJSONStatus(w, http.StatusOK, map[string]any{"messages": msgs})
		return
	case path == "requests" && r.Method == http.MethodGet:
		writeJSONStatus(w, http.StatusOK, map[string]any{"requests": e.RequestCounts()})
		return
	case path == "requests" && r.Method == http.MethodDelete:
		e.ResetCounters()
		w.WriteHeader(http.StatusNoContent)
		return
	case path == "faults" && r.Method == http.MethodDelete:
		e.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
		return
	case strings.HasPrefix(path, "faults/") && len(path) > len("faults/"):
		op := strings.TrimPrefix(path, "faults/")
		switch r.Method {
		case http.MethodDelete:
			e.InjectFault(op, Fault{})
		case http.MethodPut, http.MethodPost:
			var in adminFault
			if err := json.Unmarshal(body, &in); err != nil {
				bad("fault: malformed JSON")
				return
			}
			f := Fault{ErrName: in.ErrName, Message: in.Message, Status: in.Status, Rate: in.Rate, Drop: in.Drop}
			if in.Latency != "" {
				d, err := time.ParseDuration(in.Latency)
				if err != nil || d < 0 {
					bad("latency: not a duration")
					return
				}
				f.Latency = d
			}
			if f.Rate < 0 || f.Rate > 1 || (f.Status != 0 && (f.Status < 400 || f.Status > 599)) {
				bad("rate must be within [0,1] and status a 4xx or 5xx code")
				return
			}
			if !e.injectFaultBounded(op, f) {
				bad("too many faults; delete some first")
				return
			}
		default:
			bad("use PUT or DELETE")
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	case strings.HasPrefix(path, "rotate-keys/") && r.Method == http.MethodPost:
		if err := e.RotateKeys(strings.TrimPrefix(path, "rotate-keys/")); err != nil {
			bad(err.Error())
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	case path == "lambda/invocations" && r.Method == http.MethodGet:
		inv := e.Invocations(r.URL.Query().Get("poolId"))
		if inv == nil {
			inv = []Invocation{}
		}
		writeJSONStatus(w, http.StatusOK, map[string]any{"invocations": inv})
		return
	case path == "lambda/invocations" && r.Method == http.MethodDelete:
		e.ClearInvocations()
		w.WriteHeader(http.StatusNoContent)
		return
	case path == "seed" && r.Method == http.MethodGet:
		writeJSONStatus(w, http.StatusOK, e.Seeded())
		return
	default:
		writeJSONStatus(w, http.StatusNotFound, map[string]string{"message": "unknown admin path"})
		return
	}
	writeJSONStatus(w, http.StatusOK, map[string]string{"now": e.now().UTC().Format(time.RFC3339Nano)})
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
