package emulator

import (
	"html/template"
	"net/url"
	"strings"
)

// The console's templates (console.go) and its script. Element IDs are stable
// so that tests (and people) can find things: #pools, #users, #inbox, #tokens,
// #invocations, #imports, #flash.

var consoleFuncs = template.FuncMap{
	"path": url.PathEscape,
	"join": strings.Join,
	"attrs": func(list []attribute) string {
		var b strings.Builder
		for _, a := range list {
			if a.Name != "sub" {
				b.WriteString(a.Name + "=" + a.Value + "\n")
			}
		}
		return b.String()
	},
}

const consoleLayout = `{{define "layout"}}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{template "title" .}} · cogauth emulator</title>
<style>
body { font-family: system-ui, sans-serif; margin: 0; color: #1d1d1f; }
header { background: #232f3e; color: #fff; padding: 0.6rem 1rem; display: flex; gap: 1.2rem; align-items: center; }
header a { color: #fff; text-decoration: none; }
header a.on { text-decoration: underline; }
main { padding: 1rem; max-width: 80rem; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
pre { background: #f7f7f7; padding: 0.5rem; overflow: auto; max-height: 24rem; font-size: 0.8rem; margin: 0; }
form.inline { display: inline; }
.flash { padding: 0.5rem; margin: 0.5rem 0; }
.flash.ok { background: #e6f4ea; } .flash.error { background: #fce8e6; }
.muted { color: #666; font-size: 0.85rem; }
.code { font-family: monospace; font-size: 1.1rem; font-weight: bold; }
fieldset { margin: 0.5rem 0 1rem; }
</style>
</head>
<body>
<header><strong>cogauth emulator</strong>
<a href="/_emulator/ui/" {{if eq .Page "index"}}class="on"{{end}}>User pools</a>
<a href="/_emulator/ui/inbox" id="nav-inbox" {{if eq .Page "inbox"}}class="on"{{end}}>Inbox</a>
<a href="/_emulator/ui/tokens" {{if eq .Page "tokens"}}class="on"{{end}}>Tokens</a>
<a href="/_emulator/ui/triggers" {{if eq .Page "triggers"}}class="on"{{end}}>Triggers</a>
<a href="/_emulator/ui/imports" {{if eq .Page "imports"}}class="on"{{end}}>Import jobs</a>
<span class="muted" style="color:#ccc">clock {{.Now}}</span>
</header>
<main>
{{with .Flash}}<p id="flash" class="flash {{.Kind}}" role="status">{{.Text}}</p>{{end}}
{{template "body" .}}
</main>
<script src="/_emulator/ui/console.js"></script>
</body>
</html>{{end}}`

var consolePageSources = map[string]string{
	"index": `{{define "title"}}User pools{{end}}{{define "body"}}
<h1>User pools</h1>
<table id="pools"><tr><th>ID</th><th>Name</th><th>Users</th><th>App clients</th><th>MFA</th><th>Import jobs</th><th>Created</th></tr>
{{range .Pools}}<tr><td><a href="/_emulator/ui/pools/{{path .ID}}">{{.ID}}</a></td><td>{{.Name}}</td><td>{{.Users}}</td><td>{{.Clients}}</td><td>{{.MFA}}</td><td>{{.Jobs}}</td><td>{{.Created}}</td></tr>
{{else}}<tr><td colspan="7">No user pools yet.</td></tr>{{end}}</table>
<p class="muted">{{.Messages}} messages sent · {{.Tokens}} tokens signed · {{.Invocations}} trigger invocations</p>
{{end}}`,

	"missing": `{{define "title"}}Not found{{end}}{{define "body"}}<h1>No such {{.What}}</h1><p><a href="/_emulator/ui/">Back to the user pools</a></p>{{end}}`,

	"pool": `{{define "title"}}{{.Pool.Name}}{{end}}{{define "body"}}
<h1 id="pool-name">{{.Pool.Name}} <span class="muted">{{.Pool.ID}}</span></h1>
<p class="muted">MFA {{.Pool.MFA}} · username attributes {{join .Pool.UsernameAttributes ", "}} · auto-verified {{join .Pool.AutoVerified ", "}} · first factors {{join .Pool.FirstFactors ", "}}{{with .Pool.WebAuthnRPID}} · passkeys for {{.}}{{end}}{{with .Pool.Factors}} ({{.}}){{end}}</p>
<h2>App clients</h2>
<table id="clients"><tr><th>ID</th><th>Name</th><th>Secrets</th><th>Auth flows</th><th>OAuth flows</th><th>Scopes</th><th>Callback URLs</th><th>Providers</th></tr>
{{range .Clients}}<tr><td>{{.ID}}</td><td>{{.Name}}</td><td>{{.Secrets}}</td><td>{{join .AuthFlows ", "}}</td><td>{{join .Flows ", "}}</td><td>{{join .Scopes " "}}</td><td>{{join .Callbacks " "}}</td><td>{{join .Providers ", "}}</td></tr>
{{else}}<tr><td colspan="8">No app clients.</td></tr>{{end}}</table>
<h2>Identity providers</h2>
<table id="providers"><tr><th>Name</th><th>Type</th><th>Details (secrets left out)</th></tr>
{{range .Providers}}<tr><td>{{.Name}}</td><td>{{.Type}}</td><td class="muted">{{.Details}}</td></tr>
{{else}}<tr><td colspan="3">No identity providers.</td></tr>{{end}}</table>
<h2>Groups</h2>
<table id="groups"><tr><th>Name</th><th>Precedence</th><th>Role</th><th>Description</th></tr>
{{range .Groups}}<tr><td>{{.Name}}</td><td>{{with .Precedence}}{{.}}{{end}}</td><td>{{.RoleArn}}</td><td>{{.Description}}</td></tr>
{{else}}<tr><td colspan="4">No groups.</td></tr>{{end}}</table>
<h2>Users</h2>
<table id="users"><tr><th>Username</th><th>Status</th><th>Enabled</th><th>E-mail</th><th>Groups</th><th>Created</th></tr>
{{range .Users}}<tr data-username="{{.Username}}"><td><a href="/_emulator/ui/pools/{{path $.Pool.ID}}/users/{{path .Username}}">{{.Username}}</a></td><td class="status">{{.Status}}</td><td>{{.Enabled}}</td><td>{{.Email}}</td><td>{{join .Groups ", "}}</td><td>{{.Created}}</td></tr>
{{else}}<tr><td colspan="6">No users.</td></tr>{{end}}</table>
{{if .MoreUsers}}<p class="muted">…and {{.MoreUsers}} more.</p>{{end}}
<form method="post" action="/_emulator/ui/pools/{{path .Pool.ID}}/users" id="create-user">
<fieldset><legend>Create a user (AdminCreateUser)</legend>
<label>Username <input name="username" id="new-username" required></label>
<label>E-mail <input name="email" id="new-email" type="email"></label>
<label><input type="checkbox" name="emailVerified" value="1" checked> verified</label>
<label>Phone <input name="phone" placeholder="+15555550100"></label>
<label>Temporary password <input name="temporaryPassword" id="new-password" placeholder="generated when empty"></label>
<label><input type="checkbox" name="suppress" value="1"> no invitation</label>
<button type="submit" id="create-user-button">Create</button></fieldset></form>
<h2>Import jobs</h2>
{{template "jobs" .Jobs}}
{{end}}`,

	"user": `{{define "title"}}{{.User.Username}}{{end}}{{define "body"}}
<p><a href="/_emulator/ui/pools/{{path .Pool.ID}}">← {{.Pool.Name}}</a></p>
<h1 id="user-name">{{.User.Username}}</h1>
<table id="user-facts"><tr><th>Status</th><td id="user-status">{{.User.Status}}</td></tr>
<tr><th>Enabled</th><td id="user-enabled">{{.User.Enabled}}</td></tr>
<tr><th>sub</th><td>{{.User.Sub}}</td></tr>
<tr><th>Created</th><td>{{.User.Created}}</td></tr>
<tr><th>Groups</th><td id="user-groups">{{join .User.Groups ", "}}</td></tr>
<tr><th>MFA</th><td>{{join .User.MFA ", "}}</td></tr>
<tr><th>Passkeys</th><td>{{.User.Passkeys}}</td></tr></table>
{{$base := printf "/_emulator/ui/pools/%s/users/%s" (path .Pool.ID) (path .User.Username)}}
<p>
<form class="inline" method="post" action="{{$base}}/confirm"><button id="confirm-button">Confirm (AdminConfirmSignUp)</button></form>
{{if .User.Enabled}}<form class="inline" method="post" action="{{$base}}/disable"><button id="disable-button">Disable</button></form>
{{else}}<form class="inline" method="post" action="{{$base}}/enable"><button id="enable-button">Enable</button></form>{{end}}
<form class="inline" method="post" action="{{$base}}/reset"><button id="reset-button">Reset password</button></form>
<form class="inline" method="post" action="{{$base}}/delete"><button id="delete-button">Delete</button></form>
</p>
<form method="post" action="{{$base}}/attributes" id="attributes-form"><fieldset><legend>Attributes (NAME=value per line; an empty value deletes)</legend>
<textarea name="attributes" id="attributes" rows="8" cols="70">{{attrs .User.Attributes}}</textarea><br>
<button type="submit" id="save-attributes">Save attributes</button></fieldset></form>
<form method="post" action="{{$base}}/add-group" class="inline"><select name="group" id="add-group">{{range .OtherGroups}}<option>{{.}}</option>{{end}}</select>
<button id="add-group-button" {{if not .OtherGroups}}disabled{{end}}>Add to group</button></form>
{{range .User.Groups}}<form method="post" action="{{$base}}/remove-group" class="inline"><input type="hidden" name="group" value="{{.}}"><button>Remove from {{.}}</button></form>{{end}}
<h2>Messages sent to this user</h2>
<table><tr><th>Time</th><th>Kind</th><th>To</th><th>Code</th></tr>
{{range .Messages}}<tr><td>{{.Time}}</td><td>{{.Kind}}</td><td>{{.Destination}}</td><td class="code">{{.Code}}</td></tr>{{else}}<tr><td colspan="4">None.</td></tr>{{end}}</table>
{{end}}`,

	"inbox": `{{define "title"}}Inbox{{end}}{{define "body"}}
<h1>Inbox <span class="muted" id="inbox-live">live</span></h1>
<p class="muted">Every message the emulator "sent" by e-mail or SMS: codes, invitations, MFA codes. New ones appear as they are sent.</p>
<table id="inbox" data-poll="/_emulator/ui/inbox.json"><thead><tr><th>Time</th><th>Pool</th><th>User</th><th>Kind</th><th>To</th><th>Code</th><th>Message</th></tr></thead>
<tbody>{{range .Messages}}<tr><td>{{.Time}}</td><td>{{.PoolID}}</td><td>{{.Username}}</td><td>{{.Kind}}</td><td>{{.Medium}} {{.Destination}}</td><td class="code">{{.Code}}</td><td>{{with .Subject}}<strong>{{.}}</strong><br>{{end}}{{.Body}}</td></tr>
{{end}}</tbody></table>
{{end}}`,

	"tokens": `{{define "title"}}Tokens{{end}}{{define "body"}}
<h1>Tokens signed</h1>
<p class="muted">The claims of the last 200 tokens the emulator signed, newest first (the tokens themselves are not kept).</p>
<table id="tokens"><tr><th>#</th><th>Issued</th><th>Use</th><th>Pool</th><th>Client</th><th>User</th><th>Claims</th></tr>
{{range .Tokens}}<tr><td>{{.Seq}}</td><td>{{.Time.Format "2006-01-02 15:04:05Z"}}</td><td class="token-use">{{.TokenUse}}</td><td>{{.PoolID}}</td><td>{{.ClientID}}</td><td>{{.Username}}</td><td><pre class="claims">{{.ClaimsJSON}}</pre></td></tr>
{{else}}<tr><td colspan="7">No tokens yet.</td></tr>{{end}}</table>
{{end}}`,

	"triggers": `{{define "title"}}Triggers{{end}}{{define "body"}}
<h1>Trigger invocations</h1>
<table id="invocations"><tr><th>Time</th><th>Pool</th><th>Trigger</th><th>Source</th><th>Outcome</th><th>Event</th><th>Answer</th></tr>
{{range .Invocations}}<tr><td>{{.When}}</td><td>{{.PoolID}}</td><td>{{.Trigger}}</td><td>{{.TriggerSource}}</td><td>{{.Outcome}}{{with .Error}}<br><span class="muted">{{.}}</span>{{end}}</td><td><pre>{{.EventJSON}}</pre></td><td><pre>{{.ResultJSON}}</pre></td></tr>
{{else}}<tr><td colspan="7">No trigger invocations yet.</td></tr>{{end}}</table>
{{end}}`,

	"imports": `{{define "title"}}Import jobs{{end}}{{define "body"}}
<h1>Import jobs</h1>
<div id="imports">{{range .Pools}}<h2><a href="/_emulator/ui/pools/{{path .Pool.ID}}">{{.Pool.Name}}</a> <span class="muted">{{.Pool.ID}}</span></h2>
{{template "jobs" .Jobs}}{{else}}<p>No import jobs yet.</p>{{end}}</div>
{{end}}`,
}

const consoleJobsTemplate = `{{define "jobs"}}<table class="jobs"><tr><th>Job</th><th>Status</th><th>Imported</th><th>Skipped</th><th>Failed</th><th>Created</th><th>Completed</th><th>Message</th><th>Log</th></tr>
{{range .}}<tr data-job="{{.JobID}}"><td>{{.JobName}}<br><span class="muted">{{.JobID}}</span></td><td class="job-status">{{.Status}}</td><td class="job-imported">{{.ImportedUsers}}</td><td>{{.SkippedUsers}}</td><td>{{.FailedUsers}}</td><td>{{.Created}}</td><td>{{.Completed}}</td><td>{{.CompletionMessage}}</td><td><pre class="job-log">{{join .Log "\n"}}</pre></td></tr>
{{else}}<tr><td colspan="9">No import jobs.</td></tr>{{end}}</table>{{end}}`

var consolePages = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for name, src := range consolePageSources {
		t := template.Must(template.New(name).Funcs(consoleFuncs).Parse(consoleLayout))
		template.Must(t.Parse(consoleJobsTemplate))
		out[name] = template.Must(t.Parse(src))
	}
	return out
}()

// consoleJS keeps the inbox live: it polls the inbox's JSON every second and
// redraws the table when it changed (text only: never HTML from the data).
const consoleJS = `"use strict";
(function () {
  const table = document.getElementById("inbox");
  if (!table) return;
  const body = table.tBodies[0];
  const live = document.getElementById("inbox-live");
  let last = "";
  function cell(row, text, cls) {
    const td = row.insertCell();
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  }
  async function poll() {
    try {
      const resp = await fetch(table.dataset.poll, {cache: "no-store", credentials: "same-origin"});
      if (!resp.ok) throw new Error(String(resp.status));
      const data = await resp.json();
      const key = JSON.stringify(data.messages);
      if (key !== last) {
        last = key;
        body.replaceChildren();
        for (const m of data.messages) {
          const row = body.insertRow();
          cell(row, m.Time); cell(row, m.PoolID); cell(row, m.Username); cell(row, m.Kind);
          cell(row, m.Medium + " " + m.Destination); cell(row, m.Code, "code");
          cell(row, (m.Subject ? m.Subject + " — " : "") + m.Body);
        }
        table.dataset.count = String(data.messages.length);
      }
      live.textContent = "live";
    } catch (err) {
      live.textContent = "offline (" + err.message + ")";
    }
    setTimeout(poll, 1000);
  }
  poll();
})();
`
