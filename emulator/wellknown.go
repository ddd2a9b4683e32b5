package emulator

import (
	"encoding/json"
	"net/http"
)

// serveWellKnown answers GET /{poolId}/.well-known/jwks.json and
// /{poolId}/.well-known/openid-configuration.
func (e *Emulator) serveWellKnown(w http.ResponseWriter, r *http.Request) {
	poolID, doc := r.PathValue("pool"), r.PathValue("doc")
	e.mu.Lock()
	p := e.st.Pools[poolID]
	var body any
	if p != nil {
		switch doc {
		case "jwks.json":
			if err := e.ensureKeys(p); err != nil {
				e.mu.Unlock()
				writeError(w, newErr("InternalErrorException", "Internal error."))
				return
			}
			body = jwks(p)
		case "openid-configuration":
			body = e.openIDConfiguration(p)
		}
	}
	e.mu.Unlock()
	switch {
	case p == nil:
		writeJSONStatus(w, http.StatusNotFound, map[string]string{"message": "User pool " + poolID + " does not exist."})
	case body == nil:
		writeJSONStatus(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
	default:
		w.Header().Set("Cache-Control", "max-age=3600")
		writeJSONStatus(w, http.StatusOK, body)
	}
}

func (e *Emulator) openIDConfiguration(p *userPool) map[string]any {
	iss := e.issuer(p)
	return map[string]any{
		"issuer":                                iss,
		"jwks_uri":                              iss + "/.well-known/jwks.json",
		"authorization_endpoint":                iss + "/oauth2/authorize",
		"token_endpoint":                        iss + "/oauth2/token",
		"userinfo_endpoint":                     iss + "/oauth2/userInfo",
		"revocation_endpoint":                   iss + "/oauth2/revoke",
		"end_session_endpoint":                  iss + "/logout",
		"response_types_supported":              []string{"code", "token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid", "email", "phone", "profile"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
	}
}

func writeJSONStatus(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status, data = http.StatusInternalServerError, []byte(`{"message":"Internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}
