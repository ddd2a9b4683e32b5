package emulator

import (
	"bytes"
	"html/template"
	"net/http"
	"time"
)

// The hosted UI's pages: a plain sign-in form and an error page. They are
// deliberately simple HTML with stable element IDs (username, password,
// signInSubmitButton, as Cognito's classic hosted UI names them) so that browser
// tests and people can fill them in.

var loginTemplate = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in</title>
<style>
body { font-family: sans-serif; max-width: 24rem; margin: 4rem auto; padding: 0 1rem; }
label, input, button { display: block; width: 100%; margin: 0.4rem 0; }
input, button { padding: 0.5rem; font-size: 1rem; box-sizing: border-box; }
.error { color: #b00020; }
.note { color: #666; font-size: 0.85rem; }
.idp { display: block; margin: 0.4rem 0; padding: 0.5rem; border: 1px solid #888; text-align: center; }
</style>
</head>
<body>
<h1>Sign in with your username and password</h1>
{{if .Message}}<p class="error" id="loginErrorMessage" role="alert">{{.Message}}</p>{{end}}
<form method="post" action="{{.Action}}" id="signInForm">
{{range $k, $vs := .Params}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">
{{end}}{{end}}<input type="hidden" name="_csrf" value="{{.CSRF}}">
<label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" required autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" id="signInSubmitButton" name="signInSubmitButton">Sign in</button>
</form>
{{range .Providers}}<a class="idp" id="idp-{{.Name}}" href="{{.URL}}">Continue with {{.Name}}</a>
{{end}}{{if .Terms}}<p class="note" id="termsDocuments">By signing in you agree to {{range $i, $t := .Terms}}{{if $i}} and {{end}}<a id="{{$t.ID}}" href="{{$t.URL}}">{{$t.Name}}</a>{{end}}.</p>
{{end}}<p class="note">cogauth emulator: a stand-in for the Amazon Cognito hosted UI.</p>
</body>
</html>
`))

var errorTemplate = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>An error was encountered</title></head>
<body>
<h1>An error was encountered with the requested page.</h1>
<p id="errorMessage">{{.}}</p>
</body>
</html>
`))

// errorDescriptions are what the error page says, by OAuth error code.
var errorDescriptions = map[string]string{
	"redirect_mismatch":   "redirect_mismatch: the redirect URI is not registered for this app client.",
	"invalid_request":     "invalid_request: the request is missing a parameter or has a wrong one.",
	"unauthorized_client": "unauthorized_client: this app client may not use this OAuth flow.",
	"invalid_scope":       "invalid_scope: a requested scope is not allowed for this app client.",
}

func (o *oauthReq) renderLogin(a authParams, message string, status int) {
	// Double-submit CSRF token: the form carries the cookie's value, which a page on
	// another site can neither read nor set.
	csrf := ""
	if ck, err := o.r.Cookie(csrfCookie); err == nil && len(ck.Value) >= 32 {
		csrf = ck.Value
	} else {
		csrf = o.e.randomB64(24)
		http.SetCookie(o.w, &http.Cookie{Name: csrfCookie, Value: csrf, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	}
	// The client's external providers, each a link to authorize through it, as
	// Cognito's sign-in page offers them; and its terms documents (terms.go).
	type idpLink struct{ Name, URL string }
	var links []idpLink
	var terms []termsLink
	if err := o.locked(func(*oauthState, time.Time) error {
		if p, c, ok := o.client(a.ClientID); ok {
			for _, name := range settingsOf(c).providers {
				if name != "COGNITO" && len(links) < 50 {
					v := a.values()
					v.Del("idp_identifier")
					v.Set("identity_provider", name)
					links = append(links, idpLink{name, o.base + "/oauth2/authorize?" + v.Encode()})
				}
			}
			terms = p.termsLinks(a.ClientID, o.r.FormValue("lang"))
		}
		return nil
	}); err != nil {
		o.internal(err)
		return
	}
	var buf bytes.Buffer
	err := loginTemplate.Execute(&buf, struct {
		Message, Action, CSRF string
		Params                map[string][]string
		Providers             []idpLink
		Terms                 []termsLink
	}{message, o.base + "/login", csrf, a.values(), links, terms})
	if err != nil {
		o.internal(err)
		return
	}
	o.writeHTML(status, buf.Bytes())
}

func (o *oauthReq) errorPage(status int, code string) {
	msg, ok := errorDescriptions[code]
	if !ok {
		msg = "The request could not be completed."
	}
	var buf bytes.Buffer
	if err := errorTemplate.Execute(&buf, msg); err != nil {
		o.internal(err)
		return
	}
	o.writeHTML(status, buf.Bytes())
}

func (o *oauthReq) writeHTML(status int, body []byte) {
	h := o.w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	o.w.WriteHeader(status)
	_, _ = o.w.Write(body)
}
