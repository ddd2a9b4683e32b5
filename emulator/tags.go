package emulator

import "strings"

// User pool tags: TagResource, UntagResource, ListTagsForResource (identity
// pool tags are identity_tags.go).

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
