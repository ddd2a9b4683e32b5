package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// The console at /_emulator/ui/: server-rendered pages (html/template) with a
// little JavaScript (console.js, no build step) over the emulator's state —
// user pools, app clients, users (create, confirm, disable, enable, reset the
// password, edit attributes, groups, delete), identity providers, the messages
// the emulator "sent" (an inbox that updates live), the tokens it signed
// (decoded claims), trigger invocations with their events and answers, and
// import jobs. It sits behind the admin endpoint's protection (adminOnly:
// loopback clients, a loopback Host, no cross-origin or cross-site browser
// request), which also keeps other sites from posting its forms. Changes go
// through the same handlers as the API (AdminCreateUser, AdminConfirmSignUp, …),
// so they behave and are validated alike.

const consolePrefix = adminPrefix + "ui"

// consoleRoutes adds the console's pages to the admin mux.
func (e *Emulator) consoleRoutes(route func(pattern string, h adminHandler)) {
	route("GET "+consolePrefix+"/{$}", e.consoleIndex)
	route("GET "+consolePrefix, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		http.Redirect(w, r, consolePrefix+"/", http.StatusFound)
	})
	route("GET "+consolePrefix+"/console.js", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte(consoleJS))
	})
	route("GET "+consolePrefix+"/pools/{pool}", e.consolePool)
	route("GET "+consolePrefix+"/pools/{pool}/users/{user}", e.consoleUser)
	route("POST "+consolePrefix+"/pools/{pool}/users", e.consoleCreateUser)
	route("POST "+consolePrefix+"/pools/{pool}/users/{user}/{action}", e.consoleUserAction)
	route("GET "+consolePrefix+"/inbox", e.consoleInbox)
	route("GET "+consolePrefix+"/inbox.json", e.consoleInboxJSON)
	route("GET "+consolePrefix+"/tokens", e.consoleTokens)
	route("GET "+consolePrefix+"/triggers", e.consoleTriggers)
	route("GET "+consolePrefix+"/imports", e.consoleImports)
}

// consoleCSP allows the console's own script and fetches, inline styles, and
// nothing else; its pages are never framed.
const consoleCSP = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

func (e *Emulator) renderConsole(w http.ResponseWriter, status int, page string, data map[string]any) {
	t, ok := consolePages[page]
	if !ok {
		http.Error(w, "no such page", http.StatusNotFound)
		return
	}
	data["Page"] = page
	data["Now"] = e.now().UTC().Format(time.RFC3339)
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		e.logger().Error("emulator: console page failed", "page", page, "err", clipLog(err.Error()))
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", consoleCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	// same-origin, not no-referrer: with no-referrer a browser posts the forms
	// with Origin: null, which the admin protection refuses.
	h.Set("Referrer-Policy", "same-origin")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// ---- reading state ----

type consolePoolRow struct {
	ID, Name, MFA         string
	Users, Clients, Jobs  int
	Created               string
	UsernameAttributes    []string
	AutoVerified          []string
	FirstFactors          []string
	WebAuthnRPID, Factors string
}

type consoleClient struct {
	ID, Name      string
	Secrets       int
	Flows, Scopes []string
	Callbacks     []string
	Providers     []string
	AuthFlows     []string
}

type consoleUserRow struct {
	Username, Sub, Status, Email, Created string
	Enabled                               bool
	Groups                                []string
	Attributes                            []attribute
	MFA                                   []string
	Passkeys                              int
}

type consoleProvider struct{ Name, Type, Details string }

type consoleJob struct {
	importJob
	Created, Started, Completed string
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func stampEpoch(f float64) string {
	if f == 0 {
		return ""
	}
	return stamp(time.UnixMilli(int64(f * 1000)))
}

func (e *Emulator) poolRow(p *userPool) consolePoolRow {
	row := consolePoolRow{ID: p.ID, Name: p.Name, MFA: p.MFA, Users: len(p.Users), Clients: len(p.Clients),
		Jobs: len(p.stored("importJob")), Created: stamp(p.Created), UsernameAttributes: p.UsernameAttributes,
		AutoVerified: p.AutoVerifiedAttributes, FirstFactors: p.firstFactors(), WebAuthnRPID: p.relyingPartyID()}
	if p.WebAuthn != nil {
		row.Factors = p.WebAuthn.FactorConfiguration
	}
	return row
}

func (e *Emulator) userRow(p *userPool, u *user) consoleUserRow {
	row := consoleUserRow{Username: u.Username, Sub: u.Sub, Status: u.Status, Email: u.Attributes["email"],
		Created: stamp(u.Created), Enabled: u.Enabled, Groups: e.userGroups(p, u), Attributes: u.attributeList(),
		MFA: mfaFactors(p, u), Passkeys: len(u.Passkeys)}
	if row.Status == "" {
		row.Status = "CONFIRMED"
	}
	if u.MFA.WebAuthnMFA {
		row.MFA = append(row.MFA, "WEB_AUTHN (passkey MFA)")
	}
	return row
}

// maxConsoleUsers bounds the users a pool page lists.
const maxConsoleUsers = 500

func (e *Emulator) consoleIndex(w http.ResponseWriter, r *http.Request, _ []byte) {
	e.mu.Lock()
	var pools []consolePoolRow
	for _, id := range sortedKeys(e.st.Pools) {
		pools = append(pools, e.poolRow(e.st.Pools[id]))
	}
	messages := len(e.messages)
	invocations := len(e.invocations)
	e.mu.Unlock()
	e.renderConsole(w, http.StatusOK, "index", map[string]any{"Pools": pools, "Messages": messages,
		"Invocations": invocations, "Tokens": len(e.IssuedTokens())})
}

func (e *Emulator) consolePool(w http.ResponseWriter, r *http.Request, _ []byte) {
	e.mu.Lock()
	p := e.st.Pools[r.PathValue("pool")]
	if p == nil {
		e.mu.Unlock()
		e.renderConsole(w, http.StatusNotFound, "missing", map[string]any{"What": "user pool"})
		return
	}
	data := map[string]any{"Pool": e.poolRow(p), "Flash": consoleFlash(r)}
	var clients []consoleClient
	for _, id := range sortedKeys(p.Clients) {
		c := p.Clients[id]
		cc := consoleClient{ID: c.ID, Name: c.Name, Secrets: len(c.secrets()), AuthFlows: c.ExplicitAuthFlows}
		if c.OAuth != nil {
			cc.Flows, cc.Scopes, cc.Callbacks, cc.Providers = c.OAuth.Flows, c.OAuth.Scopes, c.OAuth.CallbackURLs, c.OAuth.Providers
		}
		clients = append(clients, cc)
	}
	data["Clients"] = clients
	var providers []consoleProvider
	for _, name := range sortedKeys(p.stored("identityProvider")) {
		var rec struct {
			ProviderType    string
			ProviderDetails map[string]string
		}
		_ = json.Unmarshal(p.stored("identityProvider")[name], &rec)
		var details []string
		for _, k := range sortedKeys(rec.ProviderDetails) {
			if strings.Contains(strings.ToLower(k), "secret") || k == "private_key" {
				continue // never shown: a secret
			}
			details = append(details, k+"="+clipTo(rec.ProviderDetails[k], 120))
		}
		providers = append(providers, consoleProvider{Name: name, Type: rec.ProviderType, Details: strings.Join(details, ", ")})
	}
	data["Providers"] = providers
	var groups []*group
	for _, n := range sortedKeys(p.Groups) {
		groups = append(groups, p.Groups[n])
	}
	data["Groups"] = groups
	var users []consoleUserRow
	keys := sortedKeys(p.Users)
	data["MoreUsers"] = max(0, len(keys)-maxConsoleUsers)
	for _, k := range keys[:min(len(keys), maxConsoleUsers)] {
		users = append(users, e.userRow(p, p.Users[k]))
	}
	data["Users"] = users
	data["Jobs"] = consoleJobs(p)
	e.mu.Unlock()
	e.renderConsole(w, http.StatusOK, "pool", data)
}

func consoleJobs(p *userPool) []consoleJob {
	var jobs []consoleJob
	for _, id := range sortedKeys(p.stored("importJob")) {
		j, ok := p.importJob(id)
		if ok {
			jobs = append(jobs, consoleJob{importJob: j, Created: stampEpoch(j.CreationDate), Started: stampEpoch(j.StartDate), Completed: stampEpoch(j.CompletionDate)})
		}
	}
	sort.Slice(jobs, func(a, b int) bool { return jobs[a].CreationDate > jobs[b].CreationDate })
	return jobs
}

func (e *Emulator) consoleUser(w http.ResponseWriter, r *http.Request, _ []byte) {
	e.mu.Lock()
	p := e.st.Pools[r.PathValue("pool")]
	var u *user
	if p != nil {
		u = p.findUser(r.PathValue("user"))
	}
	if u == nil {
		e.mu.Unlock()
		e.renderConsole(w, http.StatusNotFound, "missing", map[string]any{"What": "user"})
		return
	}
	data := map[string]any{"Pool": e.poolRow(p), "User": e.userRow(p, u), "Flash": consoleFlash(r)}
	var others []string
	for _, g := range sortedKeys(p.Groups) {
		if !contains(u.Groups, g) {
			others = append(others, g)
		}
	}
	data["OtherGroups"] = others
	var msgs []Message
	for _, m := range e.messages {
		if m.PoolID == p.ID && m.Username == u.Username {
			msgs = append(msgs, m)
		}
	}
	data["Messages"] = msgs
	e.mu.Unlock()
	e.renderConsole(w, http.StatusOK, "user", data)
}

// ---- changing state ----

// consoleFlash is the message a redirect after a change carries (bounded).
func consoleFlash(r *http.Request) map[string]string {
	q := r.URL.Query()
	if m := q.Get("ok"); m != "" {
		return map[string]string{"Kind": "ok", "Text": clipTo(m, 200)}
	}
	if m := q.Get("error"); m != "" {
		return map[string]string{"Kind": "error", "Text": clipTo(m, 300)}
	}
	return nil
}

// consoleDo runs a handler of the API under the lock, as a request would, and
// saves the state file when it changed something.
func (e *Emulator) consoleDo(r *http.Request, op string, fn func(c *call) error) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := &call{ctx: r.Context(), op: op, body: []byte("{}"), now: e.base.Now().Add(e.offset)}
	err := fn(c)
	if err == nil {
		e.saveIfDirty()
	}
	return err
}

// consoleBack redirects to the page a change was made from, with its outcome.
func consoleBack(w http.ResponseWriter, r *http.Request, page, okText string, err error) {
	v := url.Values{}
	if err != nil {
		var ae *Error
		if errors.As(err, &ae) {
			v.Set("error", ae.Name+": "+ae.Message)
		} else {
			v.Set("error", "The change failed.")
		}
	} else {
		v.Set("ok", okText)
	}
	http.Redirect(w, r, page+"?"+v.Encode(), http.StatusSeeOther)
}

func poolPage(pool string) string { return consolePrefix + "/pools/" + url.PathEscape(pool) }
func userPage(pool, user string) string {
	return poolPage(pool) + "/users/" + url.PathEscape(user)
}

func (e *Emulator) consoleCreateUser(w http.ResponseWriter, r *http.Request, body []byte) {
	f, _ := url.ParseQuery(string(body))
	pool := r.PathValue("pool")
	in := &adminCreateUserInput{UserPoolID: pool, Username: strings.TrimSpace(f.Get("username")), TemporaryPassword: f.Get("temporaryPassword")}
	if v := strings.TrimSpace(f.Get("email")); v != "" {
		in.UserAttributes = append(in.UserAttributes, attribute{"email", v})
		if f.Get("emailVerified") != "" {
			in.UserAttributes = append(in.UserAttributes, attribute{"email_verified", "true"})
		}
	}
	if v := strings.TrimSpace(f.Get("phone")); v != "" {
		in.UserAttributes = append(in.UserAttributes, attribute{"phone_number", v})
	}
	if f.Get("suppress") != "" {
		in.MessageAction = "SUPPRESS"
	}
	err := e.consoleDo(r, "AdminCreateUser", func(c *call) error {
		_, err := e.opAdminCreateUser(c, in)
		return err
	})
	consoleBack(w, r, poolPage(pool), "User "+clipTo(in.Username, 128)+" created.", err)
}

// consoleUserOps are the console's user actions that take nothing but the
// user: the API operation each stands for and what the page says once done.
var consoleUserOps = map[string]struct {
	op, done string
	run      func(*Emulator, *call, *adminUserInput) (any, error)
}{
	"confirm": {"AdminConfirmSignUp", "Confirmed.", (*Emulator).opAdminConfirmSignUp},
	"disable": {"AdminDisableUser", "Disabled.", (*Emulator).opAdminDisableUser},
	"enable":  {"AdminEnableUser", "Enabled.", (*Emulator).opAdminEnableUser},
	"reset":   {"AdminResetUserPassword", "Password reset: the user must set a new one (code sent).", (*Emulator).opAdminResetUserPassword},
	"delete":  {"AdminDeleteUser", "User deleted.", (*Emulator).opAdminDeleteUser},
}

// consoleUserAction applies one change to a user: the action names the API
// operation it stands for.
func (e *Emulator) consoleUserAction(w http.ResponseWriter, r *http.Request, body []byte) {
	f, _ := url.ParseQuery(string(body))
	pool, name, action := r.PathValue("pool"), r.PathValue("user"), r.PathValue("action")
	who := adminUserInput{UserPoolID: pool, Username: name}
	back := userPage(pool, name)
	var op, done string
	var run func(c *call) error
	switch action {
	case "attributes":
		op, done, run = "AdminUpdateUserAttributes", "Attributes saved.", e.consoleAttributesChange(who, f.Get("attributes"))
	case "add-group", "remove-group":
		op, done, run = e.consoleGroupChange(action, &userGroupInput{UserPoolID: pool, Username: name, GroupName: f.Get("group")})
	default:
		o, ok := consoleUserOps[action]
		if !ok {
			http.Error(w, "unknown action", http.StatusNotFound)
			return
		}
		if action == "delete" {
			back = poolPage(pool)
		}
		op, done = o.op, o.done
		run = func(c *call) error { _, err := o.run(e, c, &who); return err }
	}
	consoleBack(w, r, back, done, e.consoleDo(r, op, run))
}

// consoleAttributesChange is the console's attribute form as API calls: one
// NAME=VALUE per line; an empty value deletes the attribute, sub is left alone.
func (e *Emulator) consoleAttributesChange(who adminUserInput, form string) func(c *call) error {
	var set []attribute
	var del []string
	for _, line := range strings.Split(form, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if k == "sub" {
			continue
		}
		if v == "" {
			del = append(del, k)
		} else {
			set = append(set, attribute{k, v})
		}
	}
	return func(c *call) error {
		if len(set) > 0 {
			if _, err := e.opAdminUpdateUserAttributes(c, &adminUpdateUserAttributesInput{adminUserInput: who, UserAttributes: set}); err != nil {
				return err
			}
		}
		if len(del) > 0 {
			_, err := e.opAdminDeleteUserAttributes(c, &deleteAttributesInput{adminUserInput: who, UserAttributeNames: del})
			return err
		}
		return nil
	}
}

// consoleGroupChange is the console's add-group or remove-group action.
func (e *Emulator) consoleGroupChange(action string, in *userGroupInput) (op, done string, run func(c *call) error) {
	if action == "add-group" {
		return "AdminAddUserToGroup", "Added to " + clipTo(in.GroupName, 128) + ".",
			func(c *call) error { _, err := e.opAdminAddUserToGroup(c, in); return err }
	}
	return "AdminRemoveUserFromGroup", "Removed from " + clipTo(in.GroupName, 128) + ".",
		func(c *call) error { _, err := e.opAdminRemoveUserFromGroup(c, in); return err }
}

// ---- what the emulator did ----

func (e *Emulator) consoleInbox(w http.ResponseWriter, r *http.Request, _ []byte) {
	e.renderConsole(w, http.StatusOK, "inbox", map[string]any{"Messages": e.inboxRows()})
}

type inboxRow struct {
	Time, PoolID, Username, Kind, Medium, Destination, Code, Subject, Body string
}

// inboxRows are the outbox's messages, newest first.
func (e *Emulator) inboxRows() []inboxRow {
	msgs := e.Messages("", "")
	out := make([]inboxRow, 0, len(msgs))
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		out = append(out, inboxRow{Time: stamp(m.Time), PoolID: m.PoolID, Username: m.Username, Kind: m.Kind, Medium: m.Medium,
			Destination: m.Destination, Code: m.Code, Subject: m.Subject, Body: m.Body})
	}
	return out
}

// consoleInboxJSON is what console.js polls to keep the inbox live.
func (e *Emulator) consoleInboxJSON(w http.ResponseWriter, _ *http.Request, _ []byte) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSONStatus(w, http.StatusOK, map[string]any{"messages": e.inboxRows()})
}

type tokenRow struct {
	IssuedToken
	ClaimsJSON string
}

func (e *Emulator) consoleTokens(w http.ResponseWriter, _ *http.Request, _ []byte) {
	list := e.IssuedTokens()
	rows := make([]tokenRow, 0, len(list))
	for i := len(list) - 1; i >= 0; i-- {
		b, _ := json.MarshalIndent(list[i].Claims, "", "  ")
		rows = append(rows, tokenRow{IssuedToken: list[i], ClaimsJSON: string(b)})
	}
	e.renderConsole(w, http.StatusOK, "tokens", map[string]any{"Tokens": rows})
}

type invocationRow struct {
	Invocation
	When, EventJSON, ResultJSON string
}

func indentJSON(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var buf bytes.Buffer
	if json.Indent(&buf, raw, "", "  ") != nil {
		return string(raw)
	}
	return buf.String()
}

func (e *Emulator) consoleTriggers(w http.ResponseWriter, _ *http.Request, _ []byte) {
	list := e.Invocations("")
	rows := make([]invocationRow, 0, len(list))
	for i := len(list) - 1; i >= 0; i-- {
		rows = append(rows, invocationRow{Invocation: list[i], When: stamp(list[i].Time), EventJSON: indentJSON(list[i].Event), ResultJSON: indentJSON(list[i].Result)})
	}
	e.renderConsole(w, http.StatusOK, "triggers", map[string]any{"Invocations": rows})
}

func (e *Emulator) consoleImports(w http.ResponseWriter, _ *http.Request, _ []byte) {
	type poolJobs struct {
		Pool consolePoolRow
		Jobs []consoleJob
	}
	e.mu.Lock()
	var all []poolJobs
	for _, id := range sortedKeys(e.st.Pools) {
		p := e.st.Pools[id]
		if jobs := consoleJobs(p); len(jobs) > 0 {
			all = append(all, poolJobs{Pool: e.poolRow(p), Jobs: jobs})
		}
	}
	e.mu.Unlock()
	e.renderConsole(w, http.StatusOK, "imports", map[string]any{"Pools": all})
}
