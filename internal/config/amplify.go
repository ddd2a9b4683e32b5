package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// maxAmplifySize bounds the Amplify file read; real ones are a few KiB.
const maxAmplifySize = 1 << 20

// amplifyDoc covers the three shapes Amplify writes: Gen 2's amplify_outputs.json
// ("auth" with snake_case keys), Gen 1's aws-exports ("aws_user_pools_id" at the
// top) and the v6 ResourcesConfig object ("Auth.Cognito" with camelCase keys).
//
// Each may name the hosted UI domain and scopes: Gen 2 as auth.oauth.domain and
// .scopes, Gen 1 as oauth.domain and .scope, v6 as
// Auth.Cognito.loginWith.oauth.domain and .scopes.
type amplifyDoc struct {
	Auth *struct {
		Region         string `json:"aws_region"`
		UserPoolID     string `json:"user_pool_id"`
		ClientID       string `json:"user_pool_client_id"`
		IdentityPoolID string `json:"identity_pool_id"`
		OAuth          *struct {
			Domain string   `json:"domain"`
			Scopes []string `json:"scopes"`
		} `json:"oauth"`
	} `json:"auth"`

	ProjectRegion  string `json:"aws_project_region"`
	CognitoRegion  string `json:"aws_cognito_region"`
	UserPoolID     string `json:"aws_user_pools_id"`
	ClientID       string `json:"aws_user_pools_web_client_id"`
	IdentityPoolID string `json:"aws_cognito_identity_pool_id"`
	OAuth          *struct {
		Domain string   `json:"domain"`
		Scope  []string `json:"scope"`
	} `json:"oauth"`

	V6 *struct {
		Cognito *struct {
			UserPoolID     string `json:"userPoolId"`
			ClientID       string `json:"userPoolClientId"`
			IdentityPoolID string `json:"identityPoolId"`
			LoginWith      *struct {
				OAuth *struct {
					Domain string   `json:"domain"`
					Scopes []string `json:"scopes"`
				} `json:"oauth"`
			} `json:"loginWith"`
		} `json:"Cognito"`
	} `json:"Auth"`
}

// ParseAmplify reads the Cognito settings from an Amplify configuration file. A file
// with none of them is an error, so a wrong file is noticed.
func ParseAmplify(b []byte) (Values, error) {
	if len(b) > maxAmplifySize {
		return Values{}, errors.New("amplify configuration is larger than 1 MiB")
	}
	var d amplifyDoc
	if err := json.Unmarshal(b, &d); err != nil {
		return Values{}, fmt.Errorf("amplify configuration: %w", err)
	}
	var v Values
	switch {
	case d.Auth != nil && d.Auth.UserPoolID != "":
		v = d.outputsValues()
	case d.UserPoolID != "" || d.IdentityPoolID != "":
		v = d.exportsValues()
	case d.V6 != nil && d.V6.Cognito != nil && (d.V6.Cognito.UserPoolID != "" || d.V6.Cognito.IdentityPoolID != ""):
		v = d.v6Values()
	default:
		return Values{}, errors.New("amplify configuration has no Cognito user pool or identity pool")
	}
	if v.Region == "" {
		v.Region = RegionOf(v.UserPoolID)
	}
	if v.Region == "" {
		v.Region = RegionOf(v.IdentityPoolID)
	}
	return v, nil
}

// outputsValues are the settings of an amplify_outputs.json (its auth section).
func (d *amplifyDoc) outputsValues() Values {
	v := Values{Region: d.Auth.Region, UserPoolID: d.Auth.UserPoolID, ClientID: d.Auth.ClientID, IdentityPoolID: d.Auth.IdentityPoolID}
	if o := d.Auth.OAuth; o != nil {
		v.Domain, v.Scopes = o.Domain, strings.Join(o.Scopes, ",")
	}
	return v
}

// exportsValues are the settings of an aws-exports.json (top-level aws_* keys).
func (d *amplifyDoc) exportsValues() Values {
	v := Values{Region: d.CognitoRegion, UserPoolID: d.UserPoolID, ClientID: d.ClientID, IdentityPoolID: d.IdentityPoolID}
	if v.Region == "" {
		v.Region = d.ProjectRegion
	}
	if o := d.OAuth; o != nil {
		v.Domain, v.Scopes = o.Domain, strings.Join(o.Scope, ",")
	}
	return v
}

// v6Values are the settings of an Amplify v6 configuration (Auth.Cognito).
func (d *amplifyDoc) v6Values() Values {
	c := d.V6.Cognito
	v := Values{UserPoolID: c.UserPoolID, ClientID: c.ClientID, IdentityPoolID: c.IdentityPoolID}
	if c.LoginWith != nil && c.LoginWith.OAuth != nil {
		v.Domain, v.Scopes = c.LoginWith.OAuth.Domain, strings.Join(c.LoginWith.OAuth.Scopes, ",")
	}
	return v
}
