package emulator

import (
	"encoding/json"
	"strings"
)

// Resource servers (CreateResourceServer and the rest): the custom scopes app
// clients may name, stored (stored.go).

type resourceServerInput struct {
	UserPoolID string `json:"UserPoolId"`
	Identifier string `json:"Identifier"`
	Name       string `json:"Name"`
	Scopes     []struct {
		ScopeName        string `json:"ScopeName"`
		ScopeDescription string `json:"ScopeDescription"`
	} `json:"Scopes"`
	pageInput
}

func (e *Emulator) saveResourceServer(p *userPool, in *resourceServerInput) (map[string]any, error) {
	if in.Identifier == "" || len(in.Identifier) > 256 || in.Name == "" || len(in.Name) > 256 {
		return nil, errInvalidParameter("Identifier and Name must be 1 to 256 characters.")
	}
	if len(in.Scopes) > 100 {
		return nil, errInvalidParameter("A resource server can have at most 100 scopes.")
	}
	scopes := []map[string]string{}
	for _, s := range in.Scopes {
		if s.ScopeName == "" || strings.ContainsAny(s.ScopeName, " \"\\/") || len(s.ScopeName) > 256 {
			return nil, errInvalidParameter("Invalid scope name: %s", clip(s.ScopeName))
		}
		scopes = append(scopes, map[string]string{"ScopeName": s.ScopeName, "ScopeDescription": s.ScopeDescription})
	}
	rec := map[string]any{"UserPoolId": p.ID, "Identifier": in.Identifier, "Name": in.Name, "Scopes": scopes}
	if err := e.putStored(p, "resourceServer", in.Identifier, rec); err != nil {
		return nil, err
	}
	return rec, nil
}

func (e *Emulator) opCreateResourceServer(c *call, in *resourceServerInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	if _, dup := p.stored("resourceServer")[in.Identifier]; dup {
		return nil, errInvalidParameter("%s already exists in pool %s.", clip(in.Identifier), p.ID)
	}
	rec, err := e.saveResourceServer(p, in)
	if err != nil {
		return nil, err
	}
	return map[string]any{"ResourceServer": rec}, nil
}

func (e *Emulator) resourceServer(in *resourceServerInput) (*userPool, json.RawMessage, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, nil, err
	}
	raw, ok := p.stored("resourceServer")[in.Identifier]
	if !ok {
		return nil, nil, errResourceNotFound("Resource server %s does not exist.", clip(in.Identifier))
	}
	return p, raw, nil
}

func (e *Emulator) opDescribeResourceServer(c *call, in *resourceServerInput) (any, error) {
	_, raw, err := e.resourceServer(in)
	if err != nil {
		return nil, err
	}
	return map[string]any{"ResourceServer": raw}, nil
}

func (e *Emulator) opUpdateResourceServer(c *call, in *resourceServerInput) (any, error) {
	p, _, err := e.resourceServer(in)
	if err != nil {
		return nil, err
	}
	rec, err := e.saveResourceServer(p, in)
	if err != nil {
		return nil, err
	}
	return map[string]any{"ResourceServer": rec}, nil
}

func (e *Emulator) opDeleteResourceServer(c *call, in *resourceServerInput) (any, error) {
	p, _, err := e.resourceServer(in)
	if err != nil {
		return nil, err
	}
	delete(p.stored("resourceServer"), in.Identifier)
	e.dirty = true
	return nil, nil
}

func (e *Emulator) opListResourceServers(c *call, in *resourceServerInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	if in.MaxResults < 1 || in.MaxResults > 50 {
		return nil, errInvalidParameter("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 50", in.MaxResults)
	}
	return listPage(p.stored("resourceServer"), nil, in.NextToken, in.MaxResults, "ResourceServers", "NextToken", func(_ string, raw json.RawMessage) json.RawMessage {
		return raw
	}), nil
}

// checkCustomScopes refuses custom scopes ("identifier/name") that none of the
// pool's resource servers defines, once it has any (before, any such name is
// taken, as seeds name custom scopes without resource servers).
func (p *userPool) checkCustomScopes(o *clientOAuth) error {
	if o == nil || len(p.Stored["resourceServer"]) == 0 {
		return nil
	}
	defined := p.resourceServerScopes()
	for _, sc := range o.Scopes {
		if strings.Contains(sc, "/") && !defined[sc] {
			return newErr("ScopeDoesNotExistException", "Invalid scope requested: %s", clip(sc))
		}
	}
	return nil
}

// resourceServerScopes lists the custom scopes ("identifier/name") p defines.
func (p *userPool) resourceServerScopes() map[string]bool {
	out := map[string]bool{}
	for id, raw := range p.Stored["resourceServer"] {
		var rec struct{ Scopes []struct{ ScopeName string } }
		_ = json.Unmarshal(raw, &rec)
		for _, s := range rec.Scopes {
			out[id+"/"+s.ScopeName] = true
		}
	}
	return out
}
