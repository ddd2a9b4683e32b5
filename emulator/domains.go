package emulator

import (
	"encoding/json"
	"regexp"
)

// User pool domains (CreateUserPoolDomain and the rest): a prefix or custom
// domain per pool, stored (stored.go).

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
