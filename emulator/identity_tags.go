package emulator

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Identity-pool tags (TagResource, UntagResource, ListTagsForResource of the
// identity service) and the principal-tag attribute maps.

type identityTagInput struct {
	ResourceArn string            `json:"ResourceArn"`
	Tags        map[string]string `json:"Tags"`
	TagKeys     []string          `json:"TagKeys"`
}

func (e *Emulator) identityPoolByARN(arn string) (*identityPool, error) {
	_, id, ok := strings.Cut(arn, ":identitypool/")
	if !ok || !strings.HasPrefix(arn, "arn:") {
		return nil, newErr("InvalidParameterException", "Invalid ARN: %s", clip(arn))
	}
	return e.idp().pool(id)
}

func (e *Emulator) opTagIdentityPool(c *call, in *identityTagInput) (any, error) {
	ip, err := e.identityPoolByARN(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	if ip.Tags == nil {
		ip.Tags = map[string]string{}
	}
	for k, v := range in.Tags {
		if k == "" || len(k) > 128 || len(v) > 256 {
			return nil, newErr("InvalidParameterException", "Tag keys must be 1 to 128 characters and values at most 256.")
		}
		ip.Tags[k] = v
	}
	if len(ip.Tags) > 50 {
		return nil, newErr("InvalidParameterException", "An identity pool can have at most 50 tags.")
	}
	e.dirty = true
	return nil, nil
}

func (e *Emulator) opUntagIdentityPool(c *call, in *identityTagInput) (any, error) {
	ip, err := e.identityPoolByARN(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	for _, k := range in.TagKeys {
		delete(ip.Tags, k)
	}
	e.dirty = true
	return nil, nil
}

func (e *Emulator) opListIdentityPoolTags(c *call, in *identityTagInput) (any, error) {
	ip, err := e.identityPoolByARN(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	tags := map[string]string{}
	for k, v := range ip.Tags {
		tags[k] = v
	}
	return map[string]any{"Tags": tags}, nil
}

type principalTagInput struct {
	IdentityPoolID       string            `json:"IdentityPoolId"`
	IdentityProviderName string            `json:"IdentityProviderName"`
	UseDefaults          *bool             `json:"UseDefaults"`
	PrincipalTags        map[string]string `json:"PrincipalTags"`
}

// principalTagDefaults are the tags Cognito maps from a user pool token when a
// provider uses the defaults.
var principalTagDefaults = map[string]string{"client": "aud", "username": "sub"}

func (e *Emulator) opSetPrincipalTagAttributeMap(c *call, in *principalTagInput) (any, error) {
	ip, err := e.idp().pool(in.IdentityPoolID)
	if err != nil {
		return nil, err
	}
	if err := checkTagProvider(ip, in.IdentityProviderName); err != nil {
		return nil, err
	}
	if len(in.PrincipalTags) > 50 {
		return nil, constraintErr(fmt.Sprintf("%d tags", len(in.PrincipalTags)), "principalTags", "Member must have length less than or equal to 50")
	}
	for _, k := range sortedKeys(in.PrincipalTags) {
		if v := in.PrincipalTags[k]; k == "" || utf8.RuneCountInString(k) > 128 || v == "" || utf8.RuneCountInString(v) > 256 {
			return nil, constraintErr(k, "principalTags", "Map keys must have length between 1 and 128 and values between 1 and 256")
		}
	}
	if ip.PrincipalTags == nil {
		ip.PrincipalTags = map[string]principalTagMap{}
	}
	m := principalTagMap{UseDefaults: in.UseDefaults != nil && *in.UseDefaults, Tags: in.PrincipalTags}
	if !m.UseDefaults && len(m.Tags) == 0 {
		// Neither defaults nor tags: attributes for access control are off.
		delete(ip.PrincipalTags, canonicalProvider(in.IdentityProviderName))
	} else {
		ip.PrincipalTags[canonicalProvider(in.IdentityProviderName)] = m
	}
	e.dirty = true
	return m.answer(ip.ID, in.IdentityProviderName), nil
}

// checkTagProvider: an attribute map is for one of the pool's providers (a
// user pool, a social or OIDC/SAML provider it names).
func checkTagProvider(ip *identityPool, name string) error {
	if name == "" {
		return newErr("ValidationException", "1 validation error detected: Value null at 'identityProviderName' failed to satisfy constraint: Member must not be null")
	}
	if len(name) > 128 {
		return constraintErr(name, "identityProviderName", "Member must have length less than or equal to 128")
	}
	want := canonicalProvider(name)
	for _, cp := range ip.Providers {
		if cp.ProviderName == want {
			return nil
		}
	}
	if _, ok := ip.SupportedLogins[name]; ok || slices.Contains(ip.OpenIDProviderARNs, name) || slices.Contains(ip.SAMLProviderARNs, name) {
		return nil
	}
	return errInvalidParameter("%s is not a configured provider of identity pool %s.", headerSafe(name), ip.ID)
}

func (e *Emulator) opGetPrincipalTagAttributeMap(c *call, in *principalTagInput) (any, error) {
	ip, err := e.idp().pool(in.IdentityPoolID)
	if err != nil {
		return nil, err
	}
	if err := checkTagProvider(ip, in.IdentityProviderName); err != nil {
		return nil, err
	}
	// A provider without a map has attributes for access control off: no
	// defaults, no tags (sessions then need no sts:TagSession).
	m := ip.PrincipalTags[canonicalProvider(in.IdentityProviderName)]
	return m.answer(ip.ID, in.IdentityProviderName), nil
}

// principalTagMap is one provider's attributes-for-access-control mapping.
type principalTagMap struct {
	UseDefaults bool              `json:"useDefaults"`
	Tags        map[string]string `json:"tags,omitempty"`
}

func (m principalTagMap) answer(pool, provider string) map[string]any {
	tags := m.Tags
	if m.UseDefaults {
		tags = principalTagDefaults
	}
	if tags == nil {
		tags = map[string]string{}
	}
	return map[string]any{"IdentityPoolId": pool, "IdentityProviderName": provider, "UseDefaults": m.UseDefaults, "PrincipalTags": tags}
}
