package emulator

// AdminLinkProviderForUser and AdminDisableProviderForUser: an identity of an
// external provider linked to an existing user, so that the provider's next
// sign-in signs in as that user (federation.go), and links and external users
// removed again.

import (
	"slices"
	"strings"
)

// maxLinkedIdentities is Cognito's limit of identities linked to one user.
const maxLinkedIdentities = 5

// socialProviders are the provider types whose SourceUser must be named by
// Cognito_Subject.
var socialProviders = []string{"Facebook", "Google", "LoginWithAmazon", "SignInWithApple"}

type providerUser struct {
	ProviderName           string `json:"ProviderName"`
	ProviderAttributeName  string `json:"ProviderAttributeName"`
	ProviderAttributeValue string `json:"ProviderAttributeValue"`
}

type linkProviderInput struct {
	UserPoolID      string       `json:"UserPoolId"`
	DestinationUser providerUser `json:"DestinationUser"`
	SourceUser      providerUser `json:"SourceUser"`
}

type disableProviderInput struct {
	UserPoolID string       `json:"UserPoolId"`
	User       providerUser `json:"User"`
}

// identityHolder finds the user holding a signed-in identity (provider, userID),
// with the identity's index: the provider's own external user or a user it was
// linked to.
func identityHolder(p *userPool, provider, userID string) (*user, int) {
	for _, u := range p.Users {
		for i, id := range u.Identities {
			if id.ProviderName == provider && id.UserID == userID && (id.LinkAttribute == "" || id.LinkAttribute == "Cognito_Subject") {
				return u, i
			}
		}
	}
	return nil, -1
}

func (e *Emulator) opAdminLinkProviderForUser(c *call, in *linkProviderInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	src, dst := in.SourceUser, in.DestinationUser
	if err := checkLinkInput(src, dst); err != nil {
		return nil, err
	}
	prov, err := linkSourceProvider(p, src)
	if err != nil {
		return nil, err
	}
	to, err := linkDestination(p, dst)
	if err != nil {
		return nil, err
	}
	// The source must not have signed up, nor be linked to another user.
	if src.ProviderAttributeName == "Cognito_Subject" {
		if done, err := checkLinkSourceFree(p, prov, src, to); done || err != nil {
			return nil, err
		}
	}
	return nil, e.addLink(c, to, prov, src)
}

// checkLinkInput checks that both users are named, the source not as a
// Cognito user.
func checkLinkInput(src, dst providerUser) error {
	switch {
	case strings.EqualFold(src.ProviderName, "Cognito"):
		return errInvalidParameter("Invalid SourceUser: Cognito users with a username/password may not be passed in as a SourceUser, only as a DestinationUser")
	case src.ProviderName == "" || src.ProviderAttributeName == "" || src.ProviderAttributeValue == "" || len(src.ProviderAttributeValue) > 2048:
		return errInvalidParameter("SourceUser needs ProviderName, ProviderAttributeName and ProviderAttributeValue.")
	case dst.ProviderName == "" || dst.ProviderAttributeValue == "":
		return errInvalidParameter("DestinationUser needs ProviderName and ProviderAttributeValue.")
	}
	return nil
}

// addLink links the source to user to, unless it is linked already, within
// maxLinkedIdentities.
func (e *Emulator) addLink(c *call, to *user, prov *oidcProvider, src providerUser) error {
	linked := 0
	for _, id := range to.Identities {
		if id.ProviderName == prov.Name && id.UserID == src.ProviderAttributeValue && id.LinkAttribute == src.ProviderAttributeName {
			return nil // the same link again
		}
		if !id.Primary {
			linked++
		}
	}
	if linked >= maxLinkedIdentities {
		return newErr("LimitExceededException", "A user can have at most %d linked identities.", maxLinkedIdentities)
	}
	to.Identities = append(to.Identities, fedIdentity{
		UserID: src.ProviderAttributeValue, ProviderName: prov.Name, ProviderType: prov.Type,
		DateCreated: c.now, LinkAttribute: src.ProviderAttributeName,
	})
	to.syncIdentities()
	to.Modified = c.now
	e.dirty = true
	return nil
}

// linkSourceProvider is the source user's provider, which must name it by
// Cognito_Subject (social providers) or by a mapped attribute.
func linkSourceProvider(p *userPool, src providerUser) (*oidcProvider, error) {
	prov := p.identityProvider(src.ProviderName)
	if prov == nil {
		return nil, errInvalidParameter("Invalid SourceUser: identity provider %s does not exist in the user pool.", clip(src.ProviderName))
	}
	if slices.Contains(socialProviders, prov.Type) && src.ProviderAttributeName != "Cognito_Subject" {
		return nil, errInvalidParameter("Invalid SourceUser: the ProviderAttributeName of a %s user must be Cognito_Subject.", prov.Type)
	}
	if src.ProviderAttributeName != "Cognito_Subject" {
		// Any other name is a user pool attribute the provider's claims map to.
		if _, mapped := prov.Mapping[src.ProviderAttributeName]; !mapped {
			return nil, errInvalidParameter("Invalid SourceUser: %s is not an attribute mapped from %s.", clip(src.ProviderAttributeName), prov.Name)
		}
	}
	return prov, nil
}

// linkDestination is the destination: a user of the pool (ProviderName
// Cognito) or a federated user by its provider's user ID.
func linkDestination(p *userPool, dst providerUser) (*user, error) {
	var to *user
	if strings.EqualFold(dst.ProviderName, "Cognito") {
		to = p.Users[p.userKey(dst.ProviderAttributeValue)]
	} else if p.identityProvider(dst.ProviderName) != nil {
		to, _ = identityHolder(p, dst.ProviderName, dst.ProviderAttributeValue)
	} else {
		return nil, errInvalidParameter("Invalid DestinationUser: identity provider %s does not exist in the user pool.", clip(dst.ProviderName))
	}
	if to == nil {
		return nil, errUserNotFound()
	}
	return to, nil
}

// checkLinkSourceFree refuses a source that signed up or is linked to another
// user; done tells that it is already linked to this one.
func checkLinkSourceFree(p *userPool, prov *oidcProvider, src providerUser, to *user) (done bool, err error) {
	if p.Users[p.userKey(prov.Name+"_"+src.ProviderAttributeValue)] != nil {
		return false, errInvalidParameter("Merging is not currently supported, provide a SourceUser that has not been signed up in order to link")
	}
	if holder, _ := identityHolder(p, prov.Name, src.ProviderAttributeValue); holder != nil {
		if holder == to {
			return true, nil // already linked to this user
		}
		return false, errInvalidParameter("Merging is not currently supported, provide a SourceUser that has not been linked in order to link")
	}
	return false, nil
}

func (e *Emulator) opAdminDisableProviderForUser(c *call, in *disableProviderInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	pu := in.User
	if pu.ProviderName == "" || pu.ProviderAttributeValue == "" {
		return nil, errInvalidParameter("User needs ProviderName and ProviderAttributeValue.")
	}
	if strings.EqualFold(pu.ProviderName, "Cognito") {
		return nil, e.disableLocalUser(c, p, pu)
	}
	prov := p.identityProvider(pu.ProviderName)
	if prov == nil {
		return nil, errInvalidParameter("Identity provider %s does not exist in the user pool.", clip(pu.ProviderName))
	}
	if slices.Contains(socialProviders, prov.Type) && pu.ProviderAttributeName != "Cognito_Subject" {
		return nil, errInvalidParameter("The ProviderAttributeName of a %s user must be Cognito_Subject.", prov.Type)
	}
	found := e.unlinkIdentity(c, p, prov, pu)
	// The provider's own external user goes: its next sign-in makes a new one.
	if pu.ProviderAttributeName == "Cognito_Subject" {
		if u := p.Users[p.userKey(prov.Name+"_"+pu.ProviderAttributeValue)]; u != nil && u.Status == "EXTERNAL_PROVIDER" {
			e.deleteUser(p, u)
			found = true
		}
	}
	if !found {
		return nil, errUserNotFound()
	}
	return nil, nil
}

// disableLocalUser disables a local user: they can no longer sign in with
// their password.
func (e *Emulator) disableLocalUser(c *call, p *userPool, pu providerUser) error {
	if pu.ProviderAttributeName != "Cognito_Subject" {
		return errInvalidParameter("The ProviderAttributeName of a Cognito user must be Cognito_Subject.")
	}
	u := p.Users[p.userKey(pu.ProviderAttributeValue)]
	if u == nil {
		return errUserNotFound()
	}
	u.SaltHex, u.VerifierHex = "", ""
	u.Modified = c.now
	e.dirty = true
	return nil
}

// unlinkIdentity removes the links to the provider's user pu and tells
// whether there was one. Links: a signed-in one by Cognito_Subject and the
// provider's subject, one not used yet by the names it was made with.
func (e *Emulator) unlinkIdentity(c *call, p *userPool, prov *oidcProvider, pu providerUser) bool {
	found := false
	for _, u := range p.Users {
		kept := u.Identities[:0:0]
		for _, id := range u.Identities {
			match := !id.Primary && id.ProviderName == prov.Name && id.UserID == pu.ProviderAttributeValue &&
				(id.LinkAttribute == pu.ProviderAttributeName || id.LinkAttribute == "" && pu.ProviderAttributeName == "Cognito_Subject")
			if match {
				found = true
				continue
			}
			kept = append(kept, id)
		}
		if len(kept) != len(u.Identities) {
			u.Identities = kept
			u.syncIdentities()
			u.Modified = c.now
			e.dirty = true
		}
	}
	return found
}
