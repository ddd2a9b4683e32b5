package emulator

import (
	"encoding/base64"
	"encoding/json"
	"maps"
)

// A user pool's identity providers (CreateIdentityProvider and the rest,
// GetIdentityProviderByIdentifier) and its SAML signing certificate. Sign-in
// through them is federation.go, saml.go and social*.go.

// opGetSigningCertificate answers the pool's SAML signing certificate: a
// self-signed X.509 certificate of its id-token key, made once and kept.
func (e *Emulator) opGetSigningCertificate(c *call, in *poolIDInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	_, der, err := e.poolSigningCert(p, c.now) // saml.go: it signs SAML requests
	if err != nil {
		return nil, err
	}
	return map[string]any{"Certificate": base64.StdEncoding.EncodeToString(der)}, nil
}

type identityProviderInput struct {
	UserPoolID       string            `json:"UserPoolId"`
	ProviderName     string            `json:"ProviderName"`
	ProviderType     string            `json:"ProviderType"`
	ProviderDetails  map[string]string `json:"ProviderDetails"`
	AttributeMapping map[string]string `json:"AttributeMapping"`
	IdpIdentifiers   []string          `json:"IdpIdentifiers"`
	IdpIdentifier    string            `json:"IdpIdentifier"`
	pageInput
}

var providerTypes = []string{"SAML", "Facebook", "Google", "LoginWithAmazon", "SignInWithApple", "OIDC"}

func (e *Emulator) saveIdentityProvider(c *call, p *userPool, in *identityProviderInput, old map[string]any) (map[string]any, error) {
	if in.ProviderName == "" || len(in.ProviderName) > 32 || in.ProviderName == "COGNITO" {
		return nil, errInvalidParameter("Invalid ProviderName: %s", clip(in.ProviderName))
	}
	rec := old
	if rec == nil {
		if err := checkNewIdentityProvider(in); err != nil {
			return nil, err
		}
		rec = map[string]any{"UserPoolId": p.ID, "ProviderName": in.ProviderName, "ProviderType": in.ProviderType, "CreationDate": epoch(c.now),
			"ProviderDetails": map[string]string{}, "AttributeMapping": map[string]string{}, "IdpIdentifiers": []string{}}
	}
	if in.ProviderDetails != nil {
		d, np, err := e.providerDetails(c, p, rec, in)
		if err != nil {
			return nil, err
		}
		p = np
		rec["ProviderDetails"] = d
	}
	if in.AttributeMapping != nil {
		rec["AttributeMapping"] = in.AttributeMapping
	}
	if in.IdpIdentifiers != nil {
		for _, id := range in.IdpIdentifiers {
			if other := e.providerByIdentifier(p, id); other != "" && other != in.ProviderName {
				return nil, newErr("DuplicateProviderException", "The identifier %s is already used.", clip(id))
			}
		}
		rec["IdpIdentifiers"] = in.IdpIdentifiers
	}
	rec["LastModifiedDate"] = epoch(c.now)
	if err := e.putStored(p, "identityProvider", in.ProviderName, rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// checkNewIdentityProvider checks a new provider's type and that the types
// that need details have them.
func checkNewIdentityProvider(in *identityProviderInput) error {
	if !contains(providerTypes, in.ProviderType) {
		return errInvalidParameter("1 validation error detected: Value '%s' at 'providerType' failed to satisfy constraint: Member must satisfy enum value set: %v", clip(in.ProviderType), providerTypes)
	}
	if in.ProviderType == "OIDC" && in.ProviderDetails == nil {
		return errInvalidParameter("client_id, oidc_issuer and authorize_scopes are required for OIDC identity providers.")
	}
	if contains(socialProviders, in.ProviderType) && in.ProviderDetails == nil {
		return errInvalidParameter("client_id and authorize_scopes are required for %s identity providers.", in.ProviderType)
	}
	if in.ProviderType == "SAML" && in.ProviderDetails == nil {
		return errInvalidParameter("Exactly one of MetadataFile or MetadataURL is required for SAML identity providers.")
	}
	return nil
}

// providerDetails checks and completes the request's provider details for
// the record's type. Reading SAML metadata releases the lock, so the pool is
// returned again.
func (e *Emulator) providerDetails(c *call, p *userPool, rec map[string]any, in *identityProviderInput) (map[string]string, *userPool, error) {
	d := in.ProviderDetails
	if rec["ProviderType"] == "OIDC" {
		var err error
		if d, err = oidcProviderDetails(d); err != nil {
			return nil, nil, err
		}
	}
	if t, _ := rec["ProviderType"].(string); contains(socialProviders, t) {
		// Cognito's required keys and the details it adds (social.go).
		var err error
		if d, err = socialDetails(t, in.ProviderName, d); err != nil {
			return nil, nil, err
		}
		if t == "SignInWithApple" {
			if err := e.putStored(p, appleKeyKind, in.ProviderName, d["private_key"]); err != nil {
				return nil, nil, err
			}
			delete(d, "private_key")
		}
	}
	if rec["ProviderType"] == "SAML" {
		// The metadata is read (MetadataURL fetched with the lock released).
		var err error
		if d, p, err = e.samlDetails(c, p, in.ProviderName, d); err != nil {
			return nil, nil, err
		}
	}
	return d, p, nil
}

// oidcProviderDetails checks an OIDC provider's details and adds what Cognito
// adds (read-only).
func oidcProviderDetails(d map[string]string) (map[string]string, error) {
	if d["client_id"] == "" || d["oidc_issuer"] == "" || d["authorize_scopes"] == "" {
		return nil, errInvalidParameter("client_id, oidc_issuer and authorize_scopes are required for OIDC identity providers.")
	}
	if m := d["attributes_request_method"]; m != "" && m != "GET" && m != "POST" {
		return nil, errInvalidParameter("attributes_request_method must be GET or POST.")
	}
	for _, k := range []string{"oidc_issuer", "authorize_url", "token_url", "attributes_url", "jwks_uri"} {
		if v, ok := d[k]; ok && !httpURL(v) {
			return nil, errInvalidParameter("%s must be an http or https URL.", k)
		}
	}
	// What Cognito adds to an OIDC provider's details (read-only).
	d = maps.Clone(d)
	if d["attributes_request_method"] == "" {
		d["attributes_request_method"] = "GET"
	}
	d["attributes_url_add_attributes"] = "false"
	return d, nil
}

func (e *Emulator) providerByIdentifier(p *userPool, id string) string {
	for name, raw := range p.stored("identityProvider") {
		var rec struct{ IdpIdentifiers []string }
		_ = json.Unmarshal(raw, &rec)
		if contains(rec.IdpIdentifiers, id) {
			return name
		}
	}
	return ""
}

func (e *Emulator) opCreateIdentityProvider(c *call, in *identityProviderInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	if _, dup := p.stored("identityProvider")[in.ProviderName]; dup {
		return nil, newErr("DuplicateProviderException", "A provider with the name %s already exists in this user pool.", clip(in.ProviderName))
	}
	rec, err := e.saveIdentityProvider(c, p, in, nil)
	if err != nil {
		return nil, err
	}
	return map[string]any{"IdentityProvider": rec}, nil
}

func (e *Emulator) identityProvider(in *identityProviderInput) (*userPool, map[string]any, error) {
	return e.storedRecord(in.UserPoolID, "identityProvider", in.ProviderName, errResourceNotFound("Identity provider %s does not exist.", clip(in.ProviderName)))
}

func (e *Emulator) opDescribeIdentityProvider(c *call, in *identityProviderInput) (any, error) {
	_, rec, err := e.identityProvider(in)
	if err != nil {
		return nil, err
	}
	return map[string]any{"IdentityProvider": rec}, nil
}

func (e *Emulator) opUpdateIdentityProvider(c *call, in *identityProviderInput) (any, error) {
	p, rec, err := e.identityProvider(in)
	if err != nil {
		return nil, err
	}
	rec, err = e.saveIdentityProvider(c, p, in, rec)
	if err != nil {
		return nil, err
	}
	return map[string]any{"IdentityProvider": rec}, nil
}

func (e *Emulator) opDeleteIdentityProvider(c *call, in *identityProviderInput) (any, error) {
	p, _, err := e.identityProvider(in)
	if err != nil {
		return nil, err
	}
	delete(p.stored("identityProvider"), in.ProviderName)
	delete(p.stored(samlKind), in.ProviderName)
	delete(p.stored(appleKeyKind), in.ProviderName)
	e.dirty = true
	return nil, nil
}

func (e *Emulator) opListIdentityProviders(c *call, in *identityProviderInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	return listPage(p.stored("identityProvider"), nil, in.NextToken, in.MaxResults, "Providers", "NextToken", func(_ string, raw json.RawMessage) map[string]any {
		var rec map[string]any
		_ = json.Unmarshal(raw, &rec)
		return map[string]any{"ProviderName": rec["ProviderName"], "ProviderType": rec["ProviderType"],
			"CreationDate": rec["CreationDate"], "LastModifiedDate": rec["LastModifiedDate"]}
	}), nil
}

func (e *Emulator) opGetIdentityProviderByIdentifier(c *call, in *identityProviderInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	name := e.providerByIdentifier(p, in.IdpIdentifier)
	if name == "" {
		return nil, errResourceNotFound("Identity provider with identifier %s does not exist.", clip(in.IdpIdentifier))
	}
	in.ProviderName = name
	return e.opDescribeIdentityProvider(c, in)
}
