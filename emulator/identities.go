package emulator

// The identities of an identity pool beyond sign-in: listing, deleting, and
// unlinking logins.

type listIdentitiesInput struct {
	IdentityPoolID string `json:"IdentityPoolId"`
	MaxResults     int    `json:"MaxResults"`
	NextToken      string `json:"NextToken"`
	HideDisabled   bool   `json:"HideDisabled"`
}

func (e *Emulator) opListIdentities(c *call, in *listIdentitiesInput) (any, error) {
	s := e.idp()
	ip, err := s.pool(in.IdentityPoolID)
	if err != nil {
		return nil, err
	}
	if in.MaxResults < 1 || in.MaxResults > 60 {
		return nil, newErr("InvalidParameterException", "1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 60", in.MaxResults)
	}
	mine := func(id *identity) bool { return id.Pool == ip.ID }
	out := listPage(s.Identities, mine, in.NextToken, in.MaxResults, "Identities", "NextToken", func(_ string, id *identity) map[string]any {
		return s.describeIdentity(id)
	})
	out["IdentityPoolId"] = ip.ID
	return out, nil
}

type deleteIdentitiesInput struct {
	IdentityIdsToDelete []string `json:"IdentityIdsToDelete"`
}

func (e *Emulator) opDeleteIdentities(c *call, in *deleteIdentitiesInput) (any, error) {
	if len(in.IdentityIdsToDelete) < 1 || len(in.IdentityIdsToDelete) > 60 {
		return nil, newErr("InvalidParameterException", "1 validation error detected: Value at 'identityIdsToDelete' failed to satisfy constraint: Member must have length between 1 and 60")
	}
	s := e.idp()
	unprocessed := []map[string]string{}
	for _, id := range in.IdentityIdsToDelete {
		ident := s.Identities[id]
		if ident == nil {
			unprocessed = append(unprocessed, map[string]string{"IdentityId": id, "ErrorCode": "InternalServerError"})
			continue
		}
		for provider, sub := range ident.Logins {
			delete(s.Links, linkKey(ident.Pool, provider, sub))
		}
		if ip := s.Pools[ident.Pool]; ip != nil {
			for _, u := range ident.Developer {
				delete(s.Links, devLinkKey(ip.ID, ip.DeveloperProviderName, u))
			}
		}
		delete(s.Identities, id)
		e.dirty = true
	}
	return map[string]any{"UnprocessedIdentityIds": unprocessed}, nil
}

type unlinkIdentityInput struct {
	IdentityID     string            `json:"IdentityId"`
	Logins         map[string]string `json:"Logins"`
	LoginsToRemove []string          `json:"LoginsToRemove"`
}

// opUnlinkIdentity removes logins from an identity; the caller proves it holds
// the identity with valid tokens of its logins, as Cognito requires.
func (e *Emulator) opUnlinkIdentity(c *call, in *unlinkIdentityInput) (any, error) {
	s := e.idp()
	ident := s.Identities[in.IdentityID]
	if ident == nil {
		return nil, newErr("ResourceNotFoundException", "Identity '%s' not found.", clip(in.IdentityID))
	}
	ip, err := s.pool(ident.Pool)
	if err != nil {
		return nil, err
	}
	proven, err := e.verifyLogins(ip, in.Logins, c.now)
	if err != nil {
		return nil, err
	}
	for _, l := range proven {
		if ident.Logins[l.provider] != l.sub {
			return nil, errNotAuthorized("Logins don't match the identity.")
		}
	}
	for _, name := range in.LoginsToRemove {
		p := canonicalProvider(name)
		if sub, ok := ident.Logins[p]; ok {
			delete(s.Links, linkKey(ident.Pool, p, sub))
			delete(ident.Logins, p)
		}
	}
	ident.markIfUnreachable()
	ident.Modified = c.now
	e.dirty = true
	return nil, nil
}
