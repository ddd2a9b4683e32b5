package emulator

import (
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// PreTokenGeneration: the trigger runs when tokens are signed (tokenSet.sign,
// outside the lock), so that the claims it sees are final — the hosted UI's scopes
// included — and a slow function never holds the emulator. Version 1 changes the
// id token; versions 2 and 3 both tokens and the access token's scopes; version 3
// also runs for client_credentials (machine-to-machine) tokens.

// Token trigger sources.
const (
	tokenSourceAuth        = "TokenGeneration_Authentication"
	tokenSourceRefresh     = "TokenGeneration_RefreshTokens"
	tokenSourceHostedAuth  = "TokenGeneration_HostedAuth"
	tokenSourceNewPassword = "TokenGeneration_NewPasswordChallenge"
	tokenSourceDevice      = "TokenGeneration_AuthenticateDevice"
	tokenSourceM2M         = "TokenGeneration_ClientCredentials"
)

// Claims no PreTokenGeneration answer may add, change or suppress. Cognito keeps
// them; the emulator ignores such entries and notes them on the invocation.
var (
	idRestricted = map[string]bool{
		"acr": true, "amr": true, "aud": true, "at_hash": true, "auth_time": true, "azp": true,
		"cognito:username": true, "event_id": true, "exp": true, "iat": true, "identities": true, "iss": true,
		"jti": true, "nbf": true, "nonce": true, "origin_jti": true, "sub": true, "token_use": true,
	}
	accessRestricted = map[string]bool{
		"acr": true, "amr": true, "aud": true, "auth_time": true, "azp": true, "client_id": true,
		"device_key": true, "event_id": true, "exp": true, "iat": true, "identities": true, "iss": true,
		"jti": true, "nbf": true, "origin_jti": true, "scope": true, "sub": true, "token_use": true,
		"username": true, "version": true,
	}
)

type groupConfiguration struct {
	GroupsToOverride   []string `json:"groupsToOverride"`
	IAMRolesToOverride []string `json:"iamRolesToOverride"`
	PreferredRole      *string  `json:"preferredRole"`
}

type preTokenRequest struct {
	UserAttributes     map[string]string  `json:"userAttributes"`
	GroupConfiguration groupConfiguration `json:"groupConfiguration"`
	Scopes             []string           `json:"scopes,omitempty"` // versions 2 and 3
	ClientMetadata     map[string]string  `json:"clientMetadata"`
}

type claimsOverrideV1 struct {
	ClaimsToAddOrOverride map[string]string   `json:"claimsToAddOrOverride"`
	ClaimsToSuppress      []string            `json:"claimsToSuppress"`
	GroupOverrideDetails  *groupConfiguration `json:"groupOverrideDetails"`
}

type tokenOverride struct {
	ClaimsToAddOrOverride map[string]any `json:"claimsToAddOrOverride"`
	ClaimsToSuppress      []string       `json:"claimsToSuppress"`
	ScopesToAdd           []string       `json:"scopesToAdd"`
	ScopesToSuppress      []string       `json:"scopesToSuppress"`
}

type claimsOverrideV2 struct {
	IDTokenGeneration     *tokenOverride      `json:"idTokenGeneration"`
	AccessTokenGeneration *tokenOverride      `json:"accessTokenGeneration"`
	GroupOverrideDetails  *groupConfiguration `json:"groupOverrideDetails"`
}

// groupConfig is the groupConfiguration of u's tokens: groups by precedence, their
// roles, and the role of the most preferred group that has one.
func (e *Emulator) groupConfig(p *userPool, u *user) groupConfiguration {
	gc := groupConfiguration{GroupsToOverride: []string{}, IAMRolesToOverride: []string{}}
	if u == nil {
		return gc
	}
	for _, name := range e.userGroups(p, u) {
		gc.GroupsToOverride = append(gc.GroupsToOverride, name)
		if g := p.Groups[name]; g != nil && g.RoleArn != "" {
			gc.IAMRolesToOverride = append(gc.IAMRolesToOverride, g.RoleArn)
			if gc.PreferredRole == nil {
				gc.PreferredRole = strPtr(g.RoleArn)
			}
		}
	}
	return gc
}

// tokenTrigger arranges for p's PreTokenGeneration trigger to shape ts when it
// is signed. u is nil for machine-to-machine tokens, which only a version 3
// trigger sees. Called with e.mu held; the user's data is copied now. c is the
// request (non-nil; the OAuth endpoints make one).
func (e *Emulator) tokenTrigger(ts *tokenSet, c *call, p *userPool, cl *appClient, u *user, source string) {
	arn := p.triggerARN(trigPreTokenGeneration)
	version := p.preTokenVersion()
	if arn == "" || (u == nil && version != "3") {
		return
	}
	req := preTokenRequest{UserAttributes: map[string]string{}, GroupConfiguration: e.groupConfig(p, u), ClientMetadata: map[string]string{}}
	var userName *string
	if u != nil {
		req.UserAttributes = eventAttributes(u)
		userName = strPtr(u.Username)
	}
	// The event goes out after this request's handler returned: it keeps its own
	// copy of what it needs from the call.
	cc := &call{ctx: c.ctx, op: c.op, now: c.now, in: &callInput{ClientID: cl.ID, ClientMetadata: c.clientMetadata()}}
	req.ClientMetadata = cc.in.ClientMetadata
	poolID := p.ID
	ts.source = source
	ts.hook = func(ts *tokenSet) error {
		return e.preTokenGeneration(ts, cc, poolID, version, userName, &req)
	}
}

// preTokenGeneration runs the PreTokenGeneration trigger of pool poolID on ts,
// just before it is signed, and applies the function's answer. A failing
// trigger fails the sign-in, and the sign-in's refresh token dies with it.
func (e *Emulator) preTokenGeneration(ts *tokenSet, cc *call, poolID, version string, userName *string, req *preTokenRequest) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.st.Pools[poolID]
	if p == nil {
		return errResourceNotFound("User pool %s does not exist.", clip(poolID))
	}
	access, id := ts.claims()
	if version != "1" && access != nil {
		req.Scopes = strings.Fields(claimString(access, "scope"))
		if req.Scopes == nil {
			req.Scopes = []string{}
		}
	}
	ev := e.newEvent(cc, p, ts.source, userName, *req, nil)
	ev.Version = version
	var err error
	if version == "1" {
		err = e.preTokenV1(cc, p, ev, access, id)
	} else {
		err = e.preTokenV2(cc, p, ev, access, id)
	}
	if err != nil && ts.source != tokenSourceRefresh && ts.origin != "" {
		// The sign-in fails: its refresh token, never handed out, dies too.
		if o := p.Origins[ts.origin]; o != nil {
			o.Revoked = true
			e.dirty = true
		}
	}
	return err
}

// preTokenV1 runs a version 1 PreTokenGeneration event: claimsOverrideDetails
// shapes the id token and the groups of both tokens.
func (e *Emulator) preTokenV1(cc *call, p *userPool, ev *triggerEvent, access, id jwt.MapClaims) error {
	ev.Response = map[string]any{"claimsOverrideDetails": nil}
	var resp struct {
		Details *claimsOverrideV1 `json:"claimsOverrideDetails"`
	}
	if _, err := e.runTrigger(cc, p, trigPreTokenGeneration, ev, &resp); err != nil || resp.Details == nil {
		return err
	}
	d := resp.Details
	adds := make(map[string]any, len(d.ClaimsToAddOrOverride))
	for k, v := range d.ClaimsToAddOrOverride {
		adds[k] = v
	}
	e.applyClaims(p.ID, id, &tokenOverride{ClaimsToAddOrOverride: adds, ClaimsToSuppress: d.ClaimsToSuppress}, idRestricted, "id")
	applyGroups(access, id, d.GroupOverrideDetails)
	return nil
}

// preTokenV2 runs a version 2 or 3 PreTokenGeneration event:
// claimsAndScopeOverrideDetails shapes each token's claims, the access token's
// scopes and the groups.
func (e *Emulator) preTokenV2(cc *call, p *userPool, ev *triggerEvent, access, id jwt.MapClaims) error {
	ev.Response = map[string]any{"claimsAndScopeOverrideDetails": nil}
	var resp struct {
		Details *claimsOverrideV2 `json:"claimsAndScopeOverrideDetails"`
	}
	if _, err := e.runTrigger(cc, p, trigPreTokenGeneration, ev, &resp); err != nil || resp.Details == nil {
		return err
	}
	d := resp.Details
	e.applyClaims(p.ID, id, d.IDTokenGeneration, idRestricted, "id")
	e.applyClaims(p.ID, access, d.AccessTokenGeneration, accessRestricted, "access")
	if access != nil && d.AccessTokenGeneration != nil {
		e.applyScopes(p.ID, access, d.AccessTokenGeneration)
	}
	applyGroups(access, id, d.GroupOverrideDetails)
	return nil
}

// claims returns the access and id token claims still to be signed (nil when the
// set has no such token).
func (ts *tokenSet) claims() (access, id jwt.MapClaims) {
	for _, pj := range ts.pending {
		switch pj.dst {
		case &ts.AccessToken:
			access = pj.claims
		case &ts.IDToken:
			id = pj.claims
		}
	}
	return access, id
}

func claimString(c jwt.MapClaims, k string) string {
	s, _ := c[k].(string)
	return s
}

// applyClaims adds, overrides and suppresses claims of one token as the answer
// says, leaving the restricted ones alone.
func (e *Emulator) applyClaims(poolID string, claims jwt.MapClaims, o *tokenOverride, restricted map[string]bool, token string) {
	if claims == nil || o == nil {
		return
	}
	blocked := func(k string) bool { return restricted[k] || strings.HasPrefix(k, "cognito:") || k == "" }
	for _, k := range o.ClaimsToSuppress {
		if blocked(k) {
			e.noteInvocation(poolID, trigPreTokenGeneration, "restricted claim "+clip(k)+" of the "+token+" token not suppressed")
			continue
		}
		delete(claims, k)
	}
	for k, v := range o.ClaimsToAddOrOverride {
		if blocked(k) {
			e.noteInvocation(poolID, trigPreTokenGeneration, "restricted claim "+clip(k)+" of the "+token+" token not changed")
			continue
		}
		claims[k] = v
	}
}

// applyScopes changes the access token's scope claim.
func (e *Emulator) applyScopes(poolID string, access jwt.MapClaims, o *tokenOverride) {
	scopes := strings.Fields(claimString(access, "scope"))
	for _, s := range o.ScopesToSuppress {
		scopes = slices.DeleteFunc(scopes, func(v string) bool { return v == s })
	}
	for _, s := range o.ScopesToAdd {
		if s == "" || strings.ContainsAny(s, " \t\r\n\"") || len(s) > 256 {
			e.noteInvocation(poolID, trigPreTokenGeneration, "scope "+clip(s)+" not added: not a scope name")
			continue
		}
		if !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	access["scope"] = strings.Join(scopes, " ")
}

// applyGroups puts a groupOverrideDetails answer into the tokens: cognito:groups
// in both, cognito:roles and cognito:preferred_role in the id token.
func applyGroups(access, id jwt.MapClaims, g *groupConfiguration) {
	if g == nil {
		return
	}
	set := func(c jwt.MapClaims, k string, v []string) {
		if c == nil {
			return
		}
		if len(v) == 0 {
			delete(c, k)
			return
		}
		c[k] = append([]string(nil), v...)
	}
	if g.GroupsToOverride != nil {
		set(access, "cognito:groups", g.GroupsToOverride)
		set(id, "cognito:groups", g.GroupsToOverride)
	}
	if g.IAMRolesToOverride != nil {
		set(id, "cognito:roles", g.IAMRolesToOverride)
	}
	if g.PreferredRole != nil && id != nil {
		if *g.PreferredRole == "" {
			delete(id, "cognito:preferred_role")
		} else {
			id["cognito:preferred_role"] = *g.PreferredRole
		}
	}
}
