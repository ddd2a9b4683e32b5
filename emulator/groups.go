package emulator

import (
	"slices"
	"time"
)

// Groups: CreateGroup, GetGroup, UpdateGroup, DeleteGroup, ListGroups,
// ListUsersInGroup, and a user's groups (AdminAddUserToGroup,
// AdminRemoveUserFromGroup, AdminListGroupsForUser).

type groupInput struct {
	UserPoolID  string `json:"UserPoolId"`
	GroupName   string `json:"GroupName"`
	Description string `json:"Description"`
	Precedence  *int32 `json:"Precedence"`
	RoleArn     string `json:"RoleArn"`
}

func (e *Emulator) groupType(p *userPool, g *group) map[string]any {
	out := map[string]any{
		"GroupName": g.Name, "UserPoolId": p.ID,
		"CreationDate": epoch(g.Created), "LastModifiedDate": epoch(g.Modified),
	}
	if g.Description != "" {
		out["Description"] = g.Description
	}
	if g.Precedence != nil {
		out["Precedence"] = *g.Precedence
	}
	if g.RoleArn != "" {
		out["RoleArn"] = g.RoleArn
	}
	return out
}

func (e *Emulator) createGroup(p *userPool, in groupInput, now time.Time) (*group, error) {
	if in.GroupName == "" || len(in.GroupName) > 128 {
		return nil, errInvalidParameter("1 validation error detected: Value at 'groupName' failed to satisfy constraint: Member must have length between 1 and 128")
	}
	if p.Groups[in.GroupName] != nil {
		return nil, newErr("GroupExistsException", "A group with the name %s already exists.", clip(in.GroupName))
	}
	g := &group{Name: in.GroupName, Description: in.Description, Precedence: in.Precedence, RoleArn: in.RoleArn, Created: now, Modified: now}
	p.Groups[g.Name] = g
	e.dirty = true
	return g, nil
}

func (e *Emulator) opCreateGroup(c *call, in *groupInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	g, err := e.createGroup(p, *in, c.now)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Group": e.groupType(p, g)}, nil
}

func (e *Emulator) poolGroup(poolID, name string) (*userPool, *group, error) {
	p, err := e.pool(poolID)
	if err != nil {
		return nil, nil, err
	}
	g := p.Groups[name]
	if g == nil {
		return nil, nil, errResourceNotFound("Group not found.")
	}
	return p, g, nil
}

func (e *Emulator) opGetGroup(c *call, in *groupInput) (any, error) {
	p, g, err := e.poolGroup(in.UserPoolID, in.GroupName)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Group": e.groupType(p, g)}, nil
}

func (e *Emulator) opDeleteGroup(c *call, in *groupInput) (any, error) {
	p, g, err := e.poolGroup(in.UserPoolID, in.GroupName)
	if err != nil {
		return nil, err
	}
	delete(p.Groups, g.Name)
	for _, u := range p.Users {
		u.Groups = slices.DeleteFunc(u.Groups, func(n string) bool { return n == g.Name })
	}
	e.dirty = true
	return nil, nil
}

type listGroupsInput struct {
	UserPoolID string `json:"UserPoolId"`
	pageInput
}

func (e *Emulator) opListGroups(c *call, in *listGroupsInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	return listPage(p.Groups, nil, in.NextToken, in.Limit, "Groups", "NextToken", func(_ string, g *group) map[string]any {
		return e.groupType(p, g)
	}), nil
}

type userGroupInput struct {
	UserPoolID string `json:"UserPoolId"`
	Username   string `json:"Username"`
	GroupName  string `json:"GroupName"`
}

func (e *Emulator) userGroup(in userGroupInput) (*userPool, *user, *group, error) {
	p, g, err := e.poolGroup(in.UserPoolID, in.GroupName)
	if err != nil {
		return nil, nil, nil, err
	}
	u, err := p.userByName(in.Username)
	if err != nil {
		return nil, nil, nil, err
	}
	return p, u, g, nil
}

func (e *Emulator) opAdminAddUserToGroup(c *call, in *userGroupInput) (any, error) {
	_, u, g, err := e.userGroup(*in)
	if err != nil {
		return nil, err
	}
	if !contains(u.Groups, g.Name) {
		u.Groups = append(u.Groups, g.Name)
		e.dirty = true
	}
	return nil, nil
}

func (e *Emulator) opAdminRemoveUserFromGroup(c *call, in *userGroupInput) (any, error) {
	_, u, g, err := e.userGroup(*in)
	if err != nil {
		return nil, err
	}
	u.Groups = slices.DeleteFunc(u.Groups, func(n string) bool { return n == g.Name })
	e.dirty = true
	return nil, nil
}

type adminListGroupsForUserInput struct {
	adminUserInput
	pageInput
}

func (e *Emulator) opAdminListGroupsForUser(c *call, in *adminListGroupsForUserInput) (any, error) {
	p, u, err := e.poolUser(in.adminUserInput)
	if err != nil {
		return nil, err
	}
	names, next := page(append([]string(nil), u.Groups...), in.NextToken, in.Limit)
	list := make([]map[string]any, 0, len(names))
	for _, n := range names {
		if g := p.Groups[n]; g != nil {
			list = append(list, e.groupType(p, g))
		}
	}
	out := map[string]any{"Groups": list}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

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
