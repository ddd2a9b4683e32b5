package emulator

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"regexp"
	"strings"
	"time"
)

// Operations whose effect is a setting Cognito stores and answers back: domains,
// resource servers, identity providers, managed login branding, UI
// customization, risk and log delivery configuration, tags,
// user settings; plus the small user and group operations around them.

func (e *Emulator) registerStoredOps() {
	for name, fn := range map[string]handlerFunc{
		"UpdateGroup":                          typed((*Emulator).opUpdateGroup),
		"ListUsersInGroup":                     typed((*Emulator).opListUsersInGroup),
		"AdminDeleteUserAttributes":            typed((*Emulator).opAdminDeleteUserAttributes),
		"AddCustomAttributes":                  typed((*Emulator).opAddCustomAttributes),
		"TagResource":                          typed((*Emulator).opTagResource),
		"UntagResource":                        typed((*Emulator).opUntagResource),
		"ListTagsForResource":                  typed((*Emulator).opListTagsForResource),
		"GetSigningCertificate":                typed((*Emulator).opGetSigningCertificate),
		"SetUserSettings":                      typed((*Emulator).opSetUserSettings),
		"AdminSetUserSettings":                 typed((*Emulator).opAdminSetUserSettings),
		"GetUICustomization":                   typed((*Emulator).opGetUICustomization),
		"SetUICustomization":                   typed((*Emulator).opSetUICustomization),
		"CreateUserPoolDomain":                 typed((*Emulator).opCreateUserPoolDomain),
		"DescribeUserPoolDomain":               typed((*Emulator).opDescribeUserPoolDomain),
		"UpdateUserPoolDomain":                 typed((*Emulator).opUpdateUserPoolDomain),
		"DeleteUserPoolDomain":                 typed((*Emulator).opDeleteUserPoolDomain),
		"CreateResourceServer":                 typed((*Emulator).opCreateResourceServer),
		"DescribeResourceServer":               typed((*Emulator).opDescribeResourceServer),
		"UpdateResourceServer":                 typed((*Emulator).opUpdateResourceServer),
		"DeleteResourceServer":                 typed((*Emulator).opDeleteResourceServer),
		"ListResourceServers":                  typed((*Emulator).opListResourceServers),
		"CreateIdentityProvider":               typed((*Emulator).opCreateIdentityProvider),
		"DescribeIdentityProvider":             typed((*Emulator).opDescribeIdentityProvider),
		"UpdateIdentityProvider":               typed((*Emulator).opUpdateIdentityProvider),
		"DeleteIdentityProvider":               typed((*Emulator).opDeleteIdentityProvider),
		"ListIdentityProviders":                typed((*Emulator).opListIdentityProviders),
		"GetIdentityProviderByIdentifier":      typed((*Emulator).opGetIdentityProviderByIdentifier),
		"CreateManagedLoginBranding":           typed((*Emulator).opCreateManagedLoginBranding),
		"DescribeManagedLoginBranding":         typed((*Emulator).opDescribeManagedLoginBranding),
		"DescribeManagedLoginBrandingByClient": typed((*Emulator).opDescribeManagedLoginBrandingByClient),
		"UpdateManagedLoginBranding":           typed((*Emulator).opUpdateManagedLoginBranding),
		"DeleteManagedLoginBranding":           typed((*Emulator).opDeleteManagedLoginBranding),
		"DescribeRiskConfiguration":            typed((*Emulator).opDescribeRiskConfiguration),
		"SetRiskConfiguration":                 typed((*Emulator).opSetRiskConfiguration),
		"GetLogDeliveryConfiguration":          typed((*Emulator).opGetLogDeliveryConfiguration),
		"SetLogDeliveryConfiguration":          typed((*Emulator).opSetLogDeliveryConfiguration),
		"AdminListUserAuthEvents":              typed((*Emulator).opAdminListUserAuthEvents),
		"AdminUpdateAuthEventFeedback":         typed((*Emulator).opAdminUpdateAuthEventFeedback),
		"UpdateAuthEventFeedback":              typed((*Emulator).opUpdateAuthEventFeedback),
		"GetUserAuthFactors":                   typed((*Emulator).opGetUserAuthFactors),
		"AdminLinkProviderForUser":             typed((*Emulator).opAdminLinkProviderForUser),
		"AdminDisableProviderForUser":          typed((*Emulator).opAdminDisableProviderForUser),
	} {
		e.register(idpService+name, fn)
	}
}

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

// ---- groups and users ----

func (e *Emulator) opUpdateGroup(c *call, in *groupInput) (any, error) {
	p, g, err := e.poolGroup(in.UserPoolID, in.GroupName)
	if err != nil {
		return nil, err
	}
	f := reqFields(c.body)
	if _, ok := f["Description"]; ok {
		g.Description = in.Description
	}
	if _, ok := f["Precedence"]; ok {
		g.Precedence = in.Precedence
	}
	if _, ok := f["RoleArn"]; ok {
		g.RoleArn = in.RoleArn
	}
	g.Modified = c.now
	e.dirty = true
	return map[string]any{"Group": e.groupType(p, g)}, nil
}

type listUsersInGroupInput struct {
	UserPoolID string `json:"UserPoolId"`
	GroupName  string `json:"GroupName"`
	pageInput
}

func (e *Emulator) opListUsersInGroup(c *call, in *listUsersInGroupInput) (any, error) {
	p, g, err := e.poolGroup(in.UserPoolID, in.GroupName)
	if err != nil {
		return nil, err
	}
	member := func(u *user) bool { return contains(u.Groups, g.Name) }
	return listPage(p.Users, member, in.NextToken, in.Limit, "Users", "NextToken", func(_ string, u *user) map[string]any {
		return e.userType(u)
	}), nil
}

type deleteAttributesInput struct {
	adminUserInput
	UserAttributeNames []string `json:"UserAttributeNames"`
}

func deleteAttributes(p *userPool, u *user, names []string, now time.Time) error {
	if len(names) == 0 {
		return errInvalidParameter("1 validation error detected: Value null at 'userAttributeNames' failed to satisfy constraint: Member must not be null")
	}
	if len(names) > 100 {
		return errInvalidParameter("Too many attributes.")
	}
	if err := checkDeletable(p, names); err != nil {
		return err
	}
	for _, n := range names {
		delete(u.Attributes, n)
		if verifiable(n) {
			delete(u.Attributes, n+"_verified")
			delete(u.AttrCodes, n)
			delete(u.PendingAttrs, n)
		}
	}
	u.Modified = now
	return nil
}

func (e *Emulator) opAdminDeleteUserAttributes(c *call, in *deleteAttributesInput) (any, error) {
	p, u, err := e.poolUser(in.adminUserInput)
	if err != nil {
		return nil, err
	}
	if err := deleteAttributes(p, u, in.UserAttributeNames, c.now); err != nil {
		return nil, err
	}
	e.dirty = true
	return nil, nil
}

type addCustomAttributesInput struct {
	UserPoolID       string            `json:"UserPoolId"`
	CustomAttributes []json.RawMessage `json:"CustomAttributes"`
}

var customAttrName = regexp.MustCompile(`^[\p{L}\p{M}\p{S}\p{N}\p{P}]{1,20}$`)

// opAddCustomAttributes adds custom: attributes to the pool's schema, as Cognito
// names them; an existing name is refused.
func (e *Emulator) opAddCustomAttributes(c *call, in *addCustomAttributesInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	if len(in.CustomAttributes) == 0 || len(in.CustomAttributes) > 25 {
		return nil, errInvalidParameter("1 validation error detected: Value at 'customAttributes' failed to satisfy constraint: Member must have length between 1 and 25")
	}
	have := map[string]bool{}
	for _, raw := range p.Schema {
		var a struct{ Name string }
		_ = json.Unmarshal(raw, &a)
		have[a.Name] = true
	}
	var add []json.RawMessage
	for _, raw := range in.CustomAttributes {
		a := map[string]any{}
		if json.Unmarshal(raw, &a) != nil {
			return nil, errInvalidParameter("Invalid custom attribute.")
		}
		name, _ := a["Name"].(string)
		if !customAttrName.MatchString(name) {
			return nil, errInvalidParameter("1 validation error detected: Value '%s' at 'customAttributes.member.name' failed to satisfy constraint: Member must have length less than or equal to 20", clip(name))
		}
		full := "custom:" + strings.TrimPrefix(name, "custom:")
		if have[full] {
			return nil, errInvalidParameter("Existing attribute already has name %s.", clip(full))
		}
		have[full] = true
		a["Name"] = full
		if _, ok := a["AttributeDataType"]; !ok {
			a["AttributeDataType"] = "String"
		}
		b, _ := json.Marshal(a)
		add = append(add, b)
	}
	p.Schema = append(p.Schema, add...)
	p.Modified = c.now
	e.dirty = true
	return nil, nil
}

// ---- tags ----

type tagInput struct {
	ResourceArn string            `json:"ResourceArn"`
	Tags        map[string]string `json:"Tags"`
	TagKeys     []string          `json:"TagKeys"`
}

// poolByARN finds the pool an ARN names (arn:aws:cognito-idp:REGION:ACCOUNT:userpool/ID).
func (e *Emulator) poolByARN(arn string) (*userPool, error) {
	_, id, ok := strings.Cut(arn, ":userpool/")
	if !ok || !strings.HasPrefix(arn, "arn:") {
		return nil, errInvalidParameter("Invalid ARN: %s", clip(arn))
	}
	p := e.st.Pools[id]
	if p == nil {
		return nil, errResourceNotFound("User pool %s does not exist.", clip(id))
	}
	return p, nil
}

func (e *Emulator) opTagResource(c *call, in *tagInput) (any, error) {
	p, err := e.poolByARN(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	if p.Tags == nil {
		p.Tags = map[string]string{}
	}
	for k, v := range in.Tags {
		if k == "" || len(k) > 128 || len(v) > 256 {
			return nil, errInvalidParameter("Tag keys must be 1 to 128 characters and values at most 256.")
		}
		p.Tags[k] = v
	}
	if len(p.Tags) > 50 {
		return nil, errInvalidParameter("A user pool can have at most 50 tags.")
	}
	e.dirty = true
	return nil, nil
}

func (e *Emulator) opUntagResource(c *call, in *tagInput) (any, error) {
	p, err := e.poolByARN(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	for _, k := range in.TagKeys {
		delete(p.Tags, k)
	}
	e.dirty = true
	return nil, nil
}

func (e *Emulator) opListTagsForResource(c *call, in *tagInput) (any, error) {
	p, err := e.poolByARN(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	tags := map[string]string{}
	for k, v := range p.Tags {
		tags[k] = v
	}
	return map[string]any{"Tags": tags}, nil
}

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

// ---- user settings (the legacy MFAOptions) ----

type userSettingsInput struct {
	adminUserInput
	AccessToken string            `json:"AccessToken"`
	MFAOptions  []json.RawMessage `json:"MFAOptions"`
}

func setMFAOptions(u *user, opts []json.RawMessage) error {
	if opts == nil {
		return errInvalidParameter("1 validation error detected: Value null at 'mFAOptions' failed to satisfy constraint: Member must not be null")
	}
	u.MFAOptions = opts
	return nil
}

func (e *Emulator) opSetUserSettings(c *call, in *userSettingsInput) (any, error) {
	_, u, _, err := e.authenticate(in.AccessToken, c.now)
	if err != nil {
		return nil, err
	}
	if err := setMFAOptions(u, in.MFAOptions); err != nil {
		return nil, err
	}
	e.dirty = true
	return nil, nil
}

func (e *Emulator) opAdminSetUserSettings(c *call, in *userSettingsInput) (any, error) {
	_, u, err := e.poolUser(in.adminUserInput)
	if err != nil {
		return nil, err
	}
	if err := setMFAOptions(u, in.MFAOptions); err != nil {
		return nil, err
	}
	e.dirty = true
	return nil, nil
}

// ---- UI customization ----

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

// ---- domains ----

type domainInput struct {
	Domain                   string          `json:"Domain"`
	UserPoolID               string          `json:"UserPoolId"`
	CustomDomainConfig       json.RawMessage `json:"CustomDomainConfig"`
	ManagedLoginVersion      *int            `json:"ManagedLoginVersion"`
	CustomDomainCertificates json.RawMessage `json:"-"`
}

var domainPrefix = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?$`)

// domainOwner finds the pool holding a domain.
func (e *Emulator) domainOwner(domain string) *userPool {
	for _, p := range e.st.Pools {
		if _, ok := p.stored("domain")[domain]; ok {
			return p
		}
	}
	return nil
}

func (e *Emulator) opCreateUserPoolDomain(c *call, in *domainInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	custom := len(in.CustomDomainConfig) > 0 && string(in.CustomDomainConfig) != "null"
	if !custom && !domainPrefix.MatchString(in.Domain) {
		return nil, errInvalidParameter("1 validation error detected: Value '%s' at 'domain' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-z0-9](?:[a-z0-9\\-]{0,61}[a-z0-9])?$", clip(in.Domain))
	}
	if custom && (in.Domain == "" || len(in.Domain) > 253) {
		return nil, errInvalidParameter("Invalid custom domain.")
	}
	if e.domainOwner(in.Domain) != nil {
		return nil, errInvalidParameter("Domain already associated with another user pool.")
	}
	for range p.stored("domain") {
		return nil, errInvalidParameter("User pool already has a domain configured.")
	}
	version := 1
	if in.ManagedLoginVersion != nil {
		version = *in.ManagedLoginVersion
	}
	rec := map[string]any{"Domain": in.Domain, "UserPoolId": p.ID, "Status": "ACTIVE", "Version": "1", "ManagedLoginVersion": version,
		"AWSAccountId": e.accountID(), "S3Bucket": "aws-cognito-prod-" + poolRegion(p.ID) + "-assets"}
	out := map[string]any{"ManagedLoginVersion": version}
	if custom {
		rec["CustomDomainConfig"] = in.CustomDomainConfig
		rec["CloudFrontDistribution"] = e.randomAlnum(14, true) + ".cloudfront.net"
		out["CloudFrontDomain"] = rec["CloudFrontDistribution"]
	} else {
		rec["CloudFrontDistribution"] = in.Domain + ".auth." + poolRegion(p.ID) + ".amazoncognito.com"
	}
	if err := e.putStored(p, "domain", in.Domain, rec); err != nil {
		return nil, err
	}
	return out, nil
}

func (e *Emulator) opDescribeUserPoolDomain(c *call, in *domainInput) (any, error) {
	p := e.domainOwner(in.Domain)
	if p == nil {
		// Cognito answers an unknown domain with an empty description.
		return map[string]any{"DomainDescription": map[string]any{}}, nil
	}
	var rec map[string]any
	_ = json.Unmarshal(p.stored("domain")[in.Domain], &rec)
	return map[string]any{"DomainDescription": rec}, nil
}

func (e *Emulator) ownedDomain(in *domainInput) (*userPool, map[string]any, error) {
	return e.storedRecord(in.UserPoolID, "domain", in.Domain, errInvalidParameter("No such domain or user pool exists."))
}

func (e *Emulator) opUpdateUserPoolDomain(c *call, in *domainInput) (any, error) {
	p, rec, err := e.ownedDomain(in)
	if err != nil {
		return nil, err
	}
	if len(in.CustomDomainConfig) > 0 && string(in.CustomDomainConfig) != "null" {
		rec["CustomDomainConfig"] = in.CustomDomainConfig
	}
	if in.ManagedLoginVersion != nil {
		rec["ManagedLoginVersion"] = *in.ManagedLoginVersion
	}
	if err := e.putStored(p, "domain", in.Domain, rec); err != nil {
		return nil, err
	}
	return map[string]any{"ManagedLoginVersion": rec["ManagedLoginVersion"], "CloudFrontDomain": rec["CloudFrontDistribution"]}, nil
}

func (e *Emulator) opDeleteUserPoolDomain(c *call, in *domainInput) (any, error) {
	p, _, err := e.ownedDomain(in)
	if err != nil {
		return nil, err
	}
	delete(p.stored("domain"), in.Domain)
	e.dirty = true
	return nil, nil
}

// ---- resource servers ----

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

// ---- identity providers ----

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

// ---- managed login branding ----

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

// ---- risk and log delivery configuration ----

type riskInput struct {
	UserPoolID string `json:"UserPoolId"`
	ClientID   string `json:"ClientId"`
}

func (e *Emulator) opDescribeRiskConfiguration(c *call, in *riskInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	rec := map[string]any{"UserPoolId": p.ID}
	if in.ClientID != "" {
		rec["ClientId"] = in.ClientID
	}
	if raw, ok := p.stored("risk")[in.ClientID]; ok {
		_ = json.Unmarshal(raw, &rec)
	}
	return map[string]any{"RiskConfiguration": rec}, nil
}

func (e *Emulator) opSetRiskConfiguration(c *call, in *riskInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	if in.ClientID != "" {
		if _, err := p.client(in.ClientID); err != nil {
			return nil, err
		}
	}
	rec := reqFields(c.body)
	rec["LastModifiedDate"] = epoch(c.now)
	if err := e.putStored(p, "risk", in.ClientID, rec); err != nil {
		return nil, err
	}
	return map[string]any{"RiskConfiguration": rec}, nil
}

func (e *Emulator) opGetLogDeliveryConfiguration(c *call, in *poolIDInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	rec := map[string]any{"UserPoolId": p.ID, "LogConfigurations": []any{}}
	if raw, ok := p.stored("logDelivery")[""]; ok {
		_ = json.Unmarshal(raw, &rec)
	}
	return map[string]any{"LogDeliveryConfiguration": rec}, nil
}

func (e *Emulator) opSetLogDeliveryConfiguration(c *call, in *poolIDInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	rec := reqFields(c.body)
	if _, ok := rec["LogConfigurations"].([]any); !ok {
		return nil, errInvalidParameter("1 validation error detected: Value null at 'logConfigurations' failed to satisfy constraint: Member must not be null")
	}
	if err := e.putStored(p, "logDelivery", "", rec); err != nil {
		return nil, err
	}
	return map[string]any{"LogDeliveryConfiguration": rec}, nil
}

// User import jobs are in importjobs.go.

// ---- auth events (advanced security is not emulated: there are none) ----

type authEventsInput struct {
	adminUserInput
	MaxResults int `json:"MaxResults"`
}

func (e *Emulator) opAdminListUserAuthEvents(c *call, in *authEventsInput) (any, error) {
	if _, _, err := e.poolUser(in.adminUserInput); err != nil {
		return nil, err
	}
	return map[string]any{"AuthEvents": []any{}}, nil
}

type authEventFeedbackInput struct {
	adminUserInput
	EventID       string `json:"EventId"`
	FeedbackToken string `json:"FeedbackToken"`
	FeedbackValue string `json:"FeedbackValue"`
}

func checkFeedbackValue(v string) error {
	if v != "Valid" && v != "Invalid" {
		return errInvalidParameter("1 validation error detected: Value '%s' at 'feedbackValue' failed to satisfy constraint: Member must satisfy enum value set: [Valid, Invalid]", clip(v))
	}
	return nil
}

// The emulator records no auth events (no advanced security), so feedback on
// one always names an event that does not exist.
func (e *Emulator) opAdminUpdateAuthEventFeedback(c *call, in *authEventFeedbackInput) (any, error) {
	if _, _, err := e.poolUser(in.adminUserInput); err != nil {
		return nil, err
	}
	if err := checkFeedbackValue(in.FeedbackValue); err != nil {
		return nil, err
	}
	return nil, errResourceNotFound("Auth event %s does not exist.", clip(in.EventID))
}

func (e *Emulator) opUpdateAuthEventFeedback(c *call, in *authEventFeedbackInput) (any, error) {
	if _, _, err := e.poolUser(in.adminUserInput); err != nil {
		return nil, err
	}
	if err := checkFeedbackValue(in.FeedbackValue); err != nil {
		return nil, err
	}
	return nil, errResourceNotFound("Auth event %s does not exist.", clip(in.EventID))
}

// opGetUserAuthFactors tells the signed-in user's MFA settings and sign-in
// factors: those USER_AUTH offers the user (userauth.go; WEB_AUTHN with a passkey).
func (e *Emulator) opGetUserAuthFactors(c *call, in *accessTokenInput) (any, error) {
	p, u, _, err := e.authenticate(in.AccessToken, c.now)
	if err != nil {
		return nil, err
	}
	settings := append([]string{}, mfaFactors(p, u)...)
	out := map[string]any{"Username": u.Username, "UserMFASettingList": settings, "ConfiguredUserAuthFactors": userAuthFactors(p, u)}
	if u.MFA.Preferred != "" {
		out["PreferredMfaSetting"] = u.MFA.Preferred
	}
	return out, nil
}
