package emulator

import (
	"encoding/json"
	"regexp"
	"strings"
)

// A pool's schema as Cognito keeps it: every pool has the standard attributes;
// CreateUserPool's Schema may adjust a standard one (Required, Mutable,
// constraints) and declares custom ones by bare name, which Cognito stores as
// "custom:NAME" ("dev:custom:NAME" for a developer-only one). DescribeUserPool's
// SchemaAttributes lists the standard attributes followed by the custom ones.

// standardSchema is Cognito's definition of the standard attributes, in the
// order DescribeUserPool lists them.
var standardSchema = func() []map[string]any {
	str := func(name string, required, mutable bool, minLen, maxLen string) map[string]any {
		return map[string]any{"Name": name, "AttributeDataType": "String", "DeveloperOnlyAttribute": false,
			"Mutable": mutable, "Required": required,
			"StringAttributeConstraints": map[string]any{"MinLength": minLen, "MaxLength": maxLen}}
	}
	boolean := func(name string) map[string]any {
		return map[string]any{"Name": name, "AttributeDataType": "Boolean", "DeveloperOnlyAttribute": false,
			"Mutable": true, "Required": false}
	}
	out := []map[string]any{str("sub", true, false, "1", "2048")}
	for _, n := range []string{"name", "given_name", "family_name", "middle_name", "nickname",
		"preferred_username", "profile", "picture", "website", "email"} {
		out = append(out, str(n, false, true, "0", "2048"))
	}
	out = append(out, boolean("email_verified"), str("gender", false, true, "0", "2048"),
		str("birthdate", false, true, "10", "10"), str("zoneinfo", false, true, "0", "2048"),
		str("locale", false, true, "0", "2048"), str("phone_number", false, true, "0", "2048"),
		boolean("phone_number_verified"), str("address", false, true, "0", "2048"),
		map[string]any{"Name": "updated_at", "AttributeDataType": "Number", "DeveloperOnlyAttribute": false,
			"Mutable": true, "Required": false, "NumberAttributeConstraints": map[string]any{"MinValue": "0"}})
	return out
}()

var attributeDataTypes = []string{"String", "Number", "DateTime", "Boolean"}

// normalizeSchema checks CreateUserPool's Schema and names its custom attributes
// as Cognito does. A name already prefixed custom: is kept as given.
func normalizeSchema(in []json.RawMessage) ([]json.RawMessage, error) {
	if len(in) > 50 {
		return nil, errInvalidParameter("1 validation error detected: Value at 'schema' failed to satisfy constraint: Member must have length less than or equal to 50")
	}
	seen := map[string]bool{}
	out := make([]json.RawMessage, 0, len(in))
	for _, raw := range in {
		a := map[string]any{}
		if json.Unmarshal(raw, &a) != nil {
			return nil, errInvalidParameter("Invalid schema attribute.")
		}
		name, _ := a["Name"].(string)
		dt, _ := a["AttributeDataType"].(string)
		if dt != "" && !contains(attributeDataTypes, dt) {
			return nil, errInvalidParameter("1 validation error detected: Value '%s' at 'schema.member.attributeDataType' failed to satisfy constraint: Member must satisfy enum value set: [Boolean, Number, String, DateTime]", clip(dt))
		}
		dev, _ := a["DeveloperOnlyAttribute"].(bool)
		if name == "sub" || standardAttributes[name] {
			if dev || (dt != "" && dt != standardType(name)) {
				return nil, errInvalidParameter("You can not change AttributeDataType or set developerOnlyAttribute for standard schema attribute %s", name)
			}
		} else {
			var err error
			if name, err = normalizeCustomAttribute(a, name, dt, dev); err != nil {
				return nil, err
			}
		}
		if seen[name] {
			return nil, errInvalidParameter("Existing attribute already has name %s.", clip(name))
		}
		seen[name] = true
		b, _ := json.Marshal(a)
		out = append(out, b)
	}
	return out, nil
}

// normalizeCustomAttribute names the custom attribute a as Cognito does
// (custom:, dev:custom: for a developer-only one) and fills its defaults: a
// String, mutable. Required custom attributes are refused.
func normalizeCustomAttribute(a map[string]any, name, dt string, dev bool) (string, error) {
	bare := strings.TrimPrefix(name, "custom:")
	if !customAttrName.MatchString(bare) {
		return "", errInvalidParameter("1 validation error detected: Value '%s' at 'schema.member.name' failed to satisfy constraint: Member must have length between 1 and 20", clip(name))
	}
	if req, _ := a["Required"].(bool); req {
		return "", errInvalidParameter("Required custom attributes are not supported currently.")
	}
	name = "custom:" + bare
	if dev {
		name = "dev:" + name
	}
	if dt == "" {
		a["AttributeDataType"] = "String"
	}
	if _, ok := a["Mutable"]; !ok {
		a["Mutable"] = true
	}
	a["Name"] = name
	return name, nil
}

func standardType(name string) string {
	for _, s := range standardSchema {
		if s["Name"] == name {
			return s["AttributeDataType"].(string)
		}
	}
	return ""
}

// schemaAttributes is DescribeUserPool's SchemaAttributes: the standard
// attributes (with the pool's adjustments) and then the custom ones.
func schemaAttributes(schema []json.RawMessage) []any {
	given := map[string]map[string]any{}
	var custom []any
	for _, raw := range schema {
		a := map[string]any{}
		if json.Unmarshal(raw, &a) != nil {
			continue
		}
		name, _ := a["Name"].(string)
		if standardType(name) != "" {
			given[name] = a
			continue
		}
		if !strings.HasPrefix(name, "custom:") && !strings.HasPrefix(name, "dev:custom:") {
			// A state file written before custom names were prefixed.
			a["Name"] = "custom:" + name
		}
		if _, ok := a["DeveloperOnlyAttribute"]; !ok {
			a["DeveloperOnlyAttribute"] = false
		}
		if _, ok := a["Required"]; !ok {
			a["Required"] = false
		}
		if _, ok := a["StringAttributeConstraints"]; !ok && a["AttributeDataType"] == "String" {
			a["StringAttributeConstraints"] = map[string]any{}
		}
		custom = append(custom, a)
	}
	out := make([]any, 0, len(standardSchema)+len(custom))
	for _, s := range standardSchema {
		m := map[string]any{}
		for k, v := range s {
			m[k] = v
		}
		for k, v := range given[s["Name"].(string)] {
			if k != "Name" && k != "AttributeDataType" {
				m[k] = v
			}
		}
		out = append(out, m)
	}
	return append(out, custom...)
}

// customAttributeNames lists the pool's custom attributes, "custom:" names
// included, in schema order (developer-only ones left out).
func customAttributeNames(schema []json.RawMessage) []string {
	var out []string
	for _, raw := range schema {
		var a struct{ Name string }
		if json.Unmarshal(raw, &a) != nil {
			continue
		}
		switch {
		case strings.HasPrefix(a.Name, "custom:"):
			out = append(out, a.Name)
		case a.Name != "" && standardType(a.Name) == "" && !strings.HasPrefix(a.Name, "dev:"):
			out = append(out, "custom:"+a.Name)
		}
	}
	return out
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
