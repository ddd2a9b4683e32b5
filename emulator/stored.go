package emulator

import (
	"encoding/json"
)

// Records Cognito stores and answers back (domains, resource servers, identity
// providers, managed login branding, UI customization, risk and log delivery
// configuration, terms), kept per pool by kind and key in userPool.Stored.

// maxStored bounds each kind of stored record per pool.
const maxStored = 1000

// stored returns the records of one kind in p, made on first use.
func (p *userPool) stored(kind string) map[string]json.RawMessage {
	if p.Stored == nil {
		p.Stored = map[string]map[string]json.RawMessage{}
	}
	if p.Stored[kind] == nil {
		p.Stored[kind] = map[string]json.RawMessage{}
	}
	return p.Stored[kind]
}

// storedRecord returns the pool poolID and its kind record named key, or
// notFound when the pool holds none.
func (e *Emulator) storedRecord(poolID, kind, key string, notFound error) (*userPool, map[string]any, error) {
	p, err := e.pool(poolID)
	if err != nil {
		return nil, nil, err
	}
	raw, ok := p.stored(kind)[key]
	if !ok {
		return nil, nil, notFound
	}
	var rec map[string]any
	_ = json.Unmarshal(raw, &rec)
	return p, rec, nil
}

func (e *Emulator) putStored(p *userPool, kind, key string, v any) error {
	m := p.stored(kind)
	if _, ok := m[key]; !ok && len(m) >= maxStored {
		return newErr("LimitExceededException", "Too many %s records in the user pool.", kind)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	m[key] = raw
	e.dirty = true
	return nil
}

// reqFields is the request body as a map, for records kept as given.
func reqFields(body []byte) map[string]any {
	m := map[string]any{}
	_ = json.Unmarshal(body, &m)
	return m
}
