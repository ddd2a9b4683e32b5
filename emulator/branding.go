package emulator

import "encoding/json"

// Managed login branding (CreateManagedLoginBranding and the rest) and the
// classic hosted UI customization (GetUICustomization, SetUICustomization),
// stored and answered back (stored.go).

type uiCustomizationInput struct {
	UserPoolID string `json:"UserPoolId"`
	ClientID   string `json:"ClientId"`
	CSS        string `json:"CSS"`
	ImageFile  []byte `json:"ImageFile"`
}

func (e *Emulator) uiCustomization(p *userPool, clientID string, c *call) map[string]any {
	out := map[string]any{"UserPoolId": p.ID, "ClientId": "ALL"}
	if clientID != "" {
		out["ClientId"] = clientID
	}
	raw, ok := p.stored("ui")[clientID]
	if !ok && clientID != "" {
		raw, ok = p.stored("ui")[""] // the pool's, when the client has none
	}
	if ok {
		var rec map[string]any
		_ = json.Unmarshal(raw, &rec)
		for k, v := range rec {
			out[k] = v
		}
	}
	return out
}

func (e *Emulator) opGetUICustomization(c *call, in *uiCustomizationInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	if in.ClientID != "" {
		if _, err := p.client(in.ClientID); err != nil {
			return nil, err
		}
	}
	return map[string]any{"UICustomization": e.uiCustomization(p, in.ClientID, c)}, nil
}

func (e *Emulator) opSetUICustomization(c *call, in *uiCustomizationInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	if in.ClientID != "" && in.ClientID != "ALL" {
		if _, err := p.client(in.ClientID); err != nil {
			return nil, err
		}
	}
	key := in.ClientID
	if key == "ALL" {
		key = ""
	}
	if len(in.CSS) > 131072 || len(in.ImageFile) > 100*1024 {
		return nil, errInvalidParameter("CSS must be at most 128 KB and the image at most 100 KB.")
	}
	rec := map[string]any{"CSS": in.CSS, "CSSVersion": e.randomAlnum(12, true), "LastModifiedDate": epoch(c.now), "CreationDate": epoch(c.now)}
	if len(in.ImageFile) > 0 {
		rec["ImageUrl"] = "https://cognito-emulator.invalid/" + p.ID + "/logo.png"
	}
	if err := e.putStored(p, "ui", key, rec); err != nil {
		return nil, err
	}
	return map[string]any{"UICustomization": e.uiCustomization(p, key, c)}, nil
}

type brandingInput struct {
	UserPoolID               string          `json:"UserPoolId"`
	ClientID                 string          `json:"ClientId"`
	ManagedLoginBrandingID   string          `json:"ManagedLoginBrandingId"`
	UseCognitoProvidedValues bool            `json:"UseCognitoProvidedValues"`
	Settings                 json.RawMessage `json:"Settings"`
	Assets                   json.RawMessage `json:"Assets"`
	ReturnMergedResources    bool            `json:"ReturnMergedResources"`
}

func (e *Emulator) opCreateManagedLoginBranding(c *call, in *brandingInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	if _, err := p.client(in.ClientID); err != nil {
		return nil, err
	}
	for _, raw := range p.stored("branding") {
		var rec struct{ ClientID string }
		_ = json.Unmarshal(raw, &rec)
		if rec.ClientID == in.ClientID {
			return nil, newErr("ManagedLoginBrandingExistsException", "Managed login branding already exists for the app client.")
		}
	}
	id := e.uuid()
	rec := map[string]any{"ManagedLoginBrandingId": id, "UserPoolId": p.ID, "ClientID": in.ClientID,
		"UseCognitoProvidedValues": in.UseCognitoProvidedValues || len(in.Settings) == 0,
		"CreationDate":             epoch(c.now), "LastModifiedDate": epoch(c.now), "Assets": []any{}}
	if len(in.Settings) > 0 {
		rec["Settings"] = in.Settings
	}
	if len(in.Assets) > 0 {
		rec["Assets"] = in.Assets
	}
	if err := e.putStored(p, "branding", id, rec); err != nil {
		return nil, err
	}
	delete(rec, "ClientID")
	return map[string]any{"ManagedLoginBranding": rec}, nil
}

func (e *Emulator) branding(in *brandingInput) (*userPool, map[string]any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, nil, err
	}
	for id, raw := range p.stored("branding") {
		var rec map[string]any
		_ = json.Unmarshal(raw, &rec)
		if id == in.ManagedLoginBrandingID || (in.ManagedLoginBrandingID == "" && in.ClientID != "" && rec["ClientID"] == in.ClientID) {
			return p, rec, nil
		}
	}
	return nil, nil, errResourceNotFound("Managed login branding does not exist.")
}

func publicBranding(rec map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range rec {
		if k != "ClientID" {
			out[k] = v
		}
	}
	return out
}

func (e *Emulator) opDescribeManagedLoginBranding(c *call, in *brandingInput) (any, error) {
	_, rec, err := e.branding(in)
	if err != nil {
		return nil, err
	}
	return map[string]any{"ManagedLoginBranding": publicBranding(rec)}, nil
}

func (e *Emulator) opDescribeManagedLoginBrandingByClient(c *call, in *brandingInput) (any, error) {
	in.ManagedLoginBrandingID = ""
	if in.ClientID == "" {
		return nil, errInvalidParameter("1 validation error detected: Value null at 'clientId' failed to satisfy constraint: Member must not be null")
	}
	return e.opDescribeManagedLoginBranding(c, in)
}

func (e *Emulator) opUpdateManagedLoginBranding(c *call, in *brandingInput) (any, error) {
	p, rec, err := e.branding(in)
	if err != nil {
		return nil, err
	}
	rec["UseCognitoProvidedValues"] = in.UseCognitoProvidedValues
	if len(in.Settings) > 0 {
		rec["Settings"] = in.Settings
	}
	if len(in.Assets) > 0 {
		rec["Assets"] = in.Assets
	}
	rec["LastModifiedDate"] = epoch(c.now)
	if err := e.putStored(p, "branding", rec["ManagedLoginBrandingId"].(string), rec); err != nil {
		return nil, err
	}
	return map[string]any{"ManagedLoginBranding": publicBranding(rec)}, nil
}

func (e *Emulator) opDeleteManagedLoginBranding(c *call, in *brandingInput) (any, error) {
	p, rec, err := e.branding(in)
	if err != nil {
		return nil, err
	}
	delete(p.stored("branding"), rec["ManagedLoginBrandingId"].(string))
	e.dirty = true
	return nil, nil
}
