package emulator

import (
	"encoding/json"
	"time"
)

// App clients: CreateUserPoolClient, DescribeUserPoolClient,
// UpdateUserPoolClient, DeleteUserPoolClient, ListUserPoolClients; their token
// validity and auth flows. OAuth settings are in oauth_client.go, secrets in
// clientsecrets.go.

type clientConfig struct {
	UserPoolID           string   `json:"UserPoolId"`
	ClientID             string   `json:"ClientId"`
	ClientName           string   `json:"ClientName"`
	GenerateSecret       bool     `json:"GenerateSecret"`
	ExplicitAuthFlows    []string `json:"ExplicitAuthFlows"`
	AccessTokenValidity  *int64   `json:"AccessTokenValidity"`
	IDTokenValidity      *int64   `json:"IdTokenValidity"`
	RefreshTokenValidity *int64   `json:"RefreshTokenValidity"`
	TokenValidityUnits   *struct {
		AccessToken  string `json:"AccessToken"`
		IDToken      string `json:"IdToken"`
		RefreshToken string `json:"RefreshToken"`
	} `json:"TokenValidityUnits"`
	ReadAttributes             []string `json:"ReadAttributes"`
	WriteAttributes            []string `json:"WriteAttributes"`
	EnableTokenRevocation      *bool    `json:"EnableTokenRevocation"`
	PreventUserExistenceErrors string   `json:"PreventUserExistenceErrors"`
	RefreshTokenRotation       *struct {
		Feature                 string `json:"Feature"`
		RetryGracePeriodSeconds int    `json:"RetryGracePeriodSeconds"`
	} `json:"RefreshTokenRotation"`
	clientOAuth
}

// extraClientFields are accepted and echoed back without effect on the emulator.
var extraClientFields = []string{
	"AnalyticsConfiguration", "AuthSessionValidity", "EnablePropagateAdditionalUserContextData",
}

func unitDuration(unit string) (time.Duration, error) {
	switch unit {
	case "seconds":
		return time.Second, nil
	case "minutes":
		return time.Minute, nil
	case "hours":
		return time.Hour, nil
	case "days":
		return 24 * time.Hour, nil
	}
	return 0, errInvalidParameter("Invalid TimeUnitsType: %s", clip(unit))
}

// legacyFlows maps the old ExplicitAuthFlows names to the ALLOW_ ones.
var legacyFlows = map[string]string{
	"ADMIN_NO_SRP_AUTH":     "ALLOW_ADMIN_USER_PASSWORD_AUTH",
	"USER_PASSWORD_AUTH":    "ALLOW_USER_PASSWORD_AUTH",
	"CUSTOM_AUTH_FLOW_ONLY": "ALLOW_CUSTOM_AUTH",
}

var knownFlows = map[string]bool{
	"ALLOW_ADMIN_USER_PASSWORD_AUTH": true, "ALLOW_CUSTOM_AUTH": true, "ALLOW_USER_PASSWORD_AUTH": true,
	"ALLOW_USER_SRP_AUTH": true, "ALLOW_REFRESH_TOKEN_AUTH": true, "ALLOW_USER_AUTH": true,
}

// applyClientConfig validates in and writes it to a fresh client c, with
// Cognito's default for every field in leaves out (CreateUserPoolClient, and
// UpdateUserPoolClient, which resets what it is not given).
func (e *Emulator) applyClientConfig(c *appClient, in clientConfig, raw []byte) error {
	if in.ClientName == "" {
		return errInvalidParameter("1 validation error detected: Value null at 'clientName' failed to satisfy constraint: Member must not be null")
	}
	c.Name = in.ClientName
	flows := in.ExplicitAuthFlows
	if flows == nil {
		flows = []string{"ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
	}
	norm, err := normalizeAuthFlows(flows)
	if err != nil {
		return err
	}
	c.ExplicitAuthFlows = norm
	if err := e.applyClientValidity(c, &in); err != nil {
		return err
	}
	if in.ReadAttributes != nil {
		c.ReadAttributes = in.ReadAttributes
	}
	if in.WriteAttributes != nil {
		c.WriteAttributes = in.WriteAttributes
	}
	if in.EnableTokenRevocation != nil {
		c.EnableTokenRevoction = *in.EnableTokenRevocation
	} else {
		c.EnableTokenRevoction = true
	}
	if err := applyClientExistenceAndRotation(c, &in); err != nil {
		return err
	}
	c.OAuth = in.clientOAuth.mergeInto(c.OAuth)
	keepExtraClientFields(c, raw)
	return nil
}

// normalizeAuthFlows maps legacy flow names to the ALLOW_ ones and refuses
// unknown names and a mix of the two.
func normalizeAuthFlows(flows []string) ([]string, error) {
	legacy, modern := false, false
	var norm []string
	for _, f := range flows {
		if m, ok := legacyFlows[f]; ok {
			legacy = true
			norm = append(norm, m)
			continue
		}
		if !knownFlows[f] {
			return nil, errInvalidParameter("1 validation error detected: Value '[%s]' at 'explicitAuthFlows' failed to satisfy constraint: Member must satisfy enum value set", clip(f))
		}
		modern = true
		norm = append(norm, f)
	}
	if legacy && modern {
		return nil, errInvalidParameter("ExplicitAuthFlow combination is invalid")
	}
	if legacy {
		// Legacy clients always refreshed and used SRP.
		norm = append(norm, "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")
	}
	return norm, nil
}

// applyClientValidity sets the token units and lifetimes, each within
// Cognito's bounds.
func (e *Emulator) applyClientValidity(c *appClient, in *clientConfig) error {
	if in.TokenValidityUnits != nil {
		u := in.TokenValidityUnits
		for _, s := range []string{u.AccessToken, u.IDToken, u.RefreshToken} {
			if s != "" {
				if _, err := unitDuration(s); err != nil {
					return err
				}
			}
		}
		c.Units = tokenUnits{AccessToken: u.AccessToken, IDToken: u.IDToken, RefreshToken: u.RefreshToken}
	}
	c.AccessValidity, c.IDValidity, c.RefreshValidity = time.Hour, time.Hour, 30*24*time.Hour
	if err := e.setValidity(&c.AccessValidity, in.AccessTokenValidity, c.Units.AccessToken, "hours", 5*time.Minute, 24*time.Hour, "Access token validity"); err != nil {
		return err
	}
	if err := e.setValidity(&c.IDValidity, in.IDTokenValidity, c.Units.IDToken, "hours", 5*time.Minute, 24*time.Hour, "Id token validity"); err != nil {
		return err
	}
	if err := e.setValidity(&c.RefreshValidity, in.RefreshTokenValidity, c.Units.RefreshToken, "days", time.Hour, 3650*24*time.Hour, "Refresh token validity"); err != nil {
		return err
	}
	if c.RefreshValidity < c.AccessValidity || c.RefreshValidity < c.IDValidity {
		return errInvalidParameter("Refresh token validity must be longer than the access and id token validity.")
	}
	return nil
}

// setValidity sets *dst to v in unit (def when unit is empty) when v is given
// and within lo and hi.
func (e *Emulator) setValidity(dst *time.Duration, v *int64, unit, def string, lo, hi time.Duration, what string) error {
	if v == nil {
		return nil
	}
	if unit == "" {
		unit = def
	}
	d, _ := unitDuration(unit)
	val := time.Duration(*v) * d
	if *v <= 0 || *v > 1<<40 || (!e.opts.AllowShortLifetimes && val < lo) || val > hi {
		return errInvalidParameter("%s must be between %v and %v.", what, lo, hi)
	}
	*dst = val
	return nil
}

// applyClientExistenceAndRotation sets PreventUserExistenceErrors and the
// refresh token rotation.
func applyClientExistenceAndRotation(c *appClient, in *clientConfig) error {
	if v := in.PreventUserExistenceErrors; v != "" {
		if v != "ENABLED" && v != "LEGACY" {
			return errInvalidParameter("1 validation error detected: Value '%s' at 'preventUserExistenceErrors' failed to satisfy constraint: Member must satisfy enum value set: [LEGACY, ENABLED]", clip(v))
		}
		c.PreventUserExistence = v
	}
	if r := in.RefreshTokenRotation; r != nil {
		if r.Feature != "ENABLED" && r.Feature != "DISABLED" {
			return errInvalidParameter("RefreshTokenRotation.Feature must be ENABLED or DISABLED.")
		}
		if r.RetryGracePeriodSeconds < 0 || r.RetryGracePeriodSeconds > 60 {
			return errInvalidParameter("RetryGracePeriodSeconds must be between 0 and 60.")
		}
		c.Rotation = r.Feature == "ENABLED"
		c.GracePeriod = time.Duration(r.RetryGracePeriodSeconds) * time.Second
	}
	return nil
}

// keepExtraClientFields keeps the request's fields the emulator stores but
// does not interpret, to describe them back.
func keepExtraClientFields(c *appClient, raw []byte) {
	var extra map[string]json.RawMessage
	if len(raw) > 0 && json.Unmarshal(raw, &extra) == nil {
		for _, k := range extraClientFields {
			if v, ok := extra[k]; ok {
				if c.Extra == nil {
					c.Extra = map[string]json.RawMessage{}
				}
				c.Extra[k] = v
			}
		}
	}
}

func (e *Emulator) opCreateUserPoolClient(c *call, in *clientConfig) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	cl, err := e.createClient(p, *in, c.body, "", "", c.now)
	if err != nil {
		return nil, err
	}
	return map[string]any{"UserPoolClient": e.describeClient(p, cl)}, nil
}

func (e *Emulator) createClient(p *userPool, in clientConfig, raw []byte, id, secret string, now time.Time) (*appClient, error) {
	cl := &appClient{Created: now, Modified: now}
	if err := e.applyClientConfig(cl, in, raw); err != nil {
		return nil, err
	}
	if err := cl.OAuth.check(p, in.GenerateSecret || secret != ""); err != nil {
		return nil, err
	}
	if err := p.checkCustomScopes(cl.OAuth); err != nil {
		return nil, err
	}
	if id == "" {
		id = e.randomAlnum(26, true)
	} else if p.Clients[id] != nil {
		return nil, errInvalidParameter("User pool client %s already exists.", clip(id))
	}
	cl.ID = id
	if in.GenerateSecret || secret != "" {
		if secret == "" {
			secret = e.randomAlnum(51, true)
		}
		cl.Secret = secret
	}
	p.Clients[id] = cl
	e.dirty = true
	return cl, nil
}

func (e *Emulator) describeClient(p *userPool, c *appClient) map[string]any {
	units := func(u, def string) string {
		if u == "" {
			return def
		}
		return u
	}
	in := func(d time.Duration, u, def string) int64 {
		ud, _ := unitDuration(units(u, def))
		return int64(d / ud)
	}
	out := map[string]any{
		"UserPoolId":           p.ID,
		"ClientName":           c.Name,
		"ClientId":             c.ID,
		"CreationDate":         epoch(c.Created),
		"LastModifiedDate":     epoch(c.Modified),
		"ExplicitAuthFlows":    c.ExplicitAuthFlows,
		"AccessTokenValidity":  in(c.AccessValidity, c.Units.AccessToken, "hours"),
		"IdTokenValidity":      in(c.IDValidity, c.Units.IDToken, "hours"),
		"RefreshTokenValidity": in(c.RefreshValidity, c.Units.RefreshToken, "days"),
		"TokenValidityUnits": map[string]string{
			"AccessToken":  units(c.Units.AccessToken, "hours"),
			"IdToken":      units(c.Units.IDToken, "hours"),
			"RefreshToken": units(c.Units.RefreshToken, "days"),
		},
		"EnableTokenRevocation": c.EnableTokenRevoction,
	}
	if c.Secret != "" {
		out["ClientSecret"] = c.Secret
	}
	if c.ReadAttributes != nil {
		out["ReadAttributes"] = c.ReadAttributes
	}
	if c.WriteAttributes != nil {
		out["WriteAttributes"] = c.WriteAttributes
	}
	// A client created through the API without the setting is LEGACY.
	out["PreventUserExistenceErrors"] = "LEGACY"
	if c.PreventUserExistence != "" {
		out["PreventUserExistenceErrors"] = c.PreventUserExistence
	}
	rot := map[string]any{"Feature": "DISABLED"}
	if c.Rotation {
		rot = map[string]any{"Feature": "ENABLED", "RetryGracePeriodSeconds": int(c.GracePeriod / time.Second)}
	}
	out["RefreshTokenRotation"] = rot
	c.OAuth.describe(out)
	for k, v := range c.Extra {
		out[k] = v
	}
	return out
}

type clientIDInput struct {
	UserPoolID string `json:"UserPoolId"`
	ClientID   string `json:"ClientId"`
}

func (e *Emulator) poolClient(in clientIDInput) (*userPool, *appClient, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, nil, err
	}
	cl, err := p.client(in.ClientID)
	if err != nil {
		return nil, nil, err
	}
	return p, cl, nil
}

func (e *Emulator) opDescribeUserPoolClient(c *call, in *clientIDInput) (any, error) {
	p, cl, err := e.poolClient(*in)
	if err != nil {
		return nil, err
	}
	return map[string]any{"UserPoolClient": e.describeClient(p, cl)}, nil
}

// opUpdateUserPoolClient applies Cognito's rule for this call: "If you don't
// provide a value for an attribute, Amazon Cognito sets it to its default value."
// The update is applied to a client made afresh from the request, as
// CreateUserPoolClient would make it, keeping only what no request can change
// (ID, secret, creation date) and the name, which has no default. So a left-out
// ExplicitAuthFlows is ALLOW_USER_SRP_AUTH, ALLOW_CUSTOM_AUTH and
// ALLOW_REFRESH_TOKEN_AUTH again, lifetimes 1 h / 1 h / 30 days in hours/hours/days,
// read and write attributes all, revocation on, PreventUserExistenceErrors LEGACY,
// rotation off, analytics and session validity gone, and the OAuth settings
// AllowedOAuthFlowsUserPoolClient false with no flows, scopes, URLs or providers:
// an updated client is never the permissive unconfigured client of settingsOf,
// so the hosted UI refuses it until the update names its OAuth settings.
func (e *Emulator) opUpdateUserPoolClient(c *call, in *clientConfig) (any, error) {
	p, cl, err := e.poolClient(clientIDInput{in.UserPoolID, in.ClientID})
	if err != nil {
		return nil, err
	}
	// Build on a fresh client so that a refused update changes nothing.
	next := appClient{ID: cl.ID, Name: cl.Name, Secret: cl.Secret, Created: cl.Created,
		SecretID: cl.SecretID, SecretCreated: cl.SecretCreated, MoreSecrets: cl.MoreSecrets}
	upd := *in
	if upd.ClientName == "" {
		upd.ClientName = cl.Name
	}
	if err := e.applyClientConfig(&next, upd, c.body); err != nil {
		return nil, err
	}
	if next.OAuth == nil {
		next.OAuth = &clientOAuth{}
	}
	if next.OAuth.Enabled == nil {
		off := false
		next.OAuth.Enabled = &off
	}
	if err := next.OAuth.check(p, next.Secret != ""); err != nil {
		return nil, err
	}
	if err := p.checkCustomScopes(next.OAuth); err != nil {
		return nil, err
	}
	next.Modified = c.now
	*cl = next
	e.dirty = true
	return map[string]any{"UserPoolClient": e.describeClient(p, cl)}, nil
}

func (e *Emulator) opDeleteUserPoolClient(c *call, in *clientIDInput) (any, error) {
	p, cl, err := e.poolClient(*in)
	if err != nil {
		return nil, err
	}
	delete(p.Clients, cl.ID)
	for _, o := range p.Origins {
		if o.ClientID == cl.ID {
			o.Revoked = true
		}
	}
	e.dirty = true
	return nil, nil
}

type listUserPoolClientsInput struct {
	UserPoolID string `json:"UserPoolId"`
	pageInput
}

func (e *Emulator) opListUserPoolClients(c *call, in *listUserPoolClientsInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	return listPage(p.Clients, nil, in.NextToken, in.MaxResults, "UserPoolClients", "NextToken", func(id string, cl *appClient) map[string]string {
		return map[string]string{"ClientId": id, "ClientName": cl.Name, "UserPoolId": p.ID}
	}), nil
}
