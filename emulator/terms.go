package emulator

import (
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Terms documents (CreateTerms, DescribeTerms, ListTerms, UpdateTerms,
// DeleteTerms): per app client, one terms-of-use and one privacy-policy
// document, each a map of managed-login language to URL. Once a client has both,
// the hosted UI's sign-in page links them (termsLinks), in the page's language
// (the lang parameter) or cognito:default.

type termsDoc struct {
	TermsID          string            `json:"TermsId"`
	UserPoolID       string            `json:"UserPoolId"`
	ClientID         string            `json:"ClientId"`
	TermsName        string            `json:"TermsName"`
	TermsSource      string            `json:"TermsSource"`
	Enforcement      string            `json:"Enforcement"`
	Links            map[string]string `json:"Links"`
	CreationDate     float64           `json:"CreationDate"`
	LastModifiedDate float64           `json:"LastModifiedDate"`
}

var (
	termsIDPattern   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$`)
	termsLanguage    = regexp.MustCompile(`^cognito:(default|dutch|english|french|spanish|german|bahasa-indonesia|italian|japanese|korean|portuguese-brazil|chinese-(simplified|traditional))$`)
	termsLinkPattern = regexp.MustCompile(`^[\p{L}\p{M}\p{S}\p{N}\p{P}]+$`)
)

type termsInput struct {
	UserPoolID  string            `json:"UserPoolId"`
	ClientID    string            `json:"ClientId"`
	TermsID     string            `json:"TermsId"`
	TermsName   *string           `json:"TermsName"`
	TermsSource *string           `json:"TermsSource"`
	Enforcement *string           `json:"Enforcement"`
	Links       map[string]string `json:"Links"`
	MaxResults  int               `json:"MaxResults"`
	NextToken   string            `json:"NextToken"`
}

func termsConstraintErr(value, field, constraint string) error {
	return errInvalidParameter("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", clip(value), field, constraint)
}

// checkTermsFields validates the fields a request gives (Create must give all).
func checkTermsFields(in *termsInput, create bool) error {
	if create {
		for field, v := range map[string]*string{"termsName": in.TermsName, "termsSource": in.TermsSource, "enforcement": in.Enforcement} {
			if v == nil {
				return errInvalidParameter("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", field)
			}
		}
	}
	for _, f := range []struct {
		v                 *string
		field, constraint string
		allowed           []string
	}{
		{in.TermsName, "termsName", "Member must satisfy regular expression pattern: ^(terms-of-use|privacy-policy)$", []string{"terms-of-use", "privacy-policy"}},
		{in.TermsSource, "termsSource", "Member must satisfy enum value set: [LINK]", []string{"LINK"}},
		{in.Enforcement, "enforcement", "Member must satisfy enum value set: [NONE]", []string{"NONE"}},
	} {
		if f.v != nil && !slices.Contains(f.allowed, *f.v) {
			return termsConstraintErr(*f.v, f.field, f.constraint)
		}
	}
	if in.Links != nil || create {
		return checkTermsLinks(in.Links)
	}
	return nil
}

// checkTermsLinks validates a terms document's links: 1 to 13, each keyed by a
// Cognito language and at most 1024 characters.
func checkTermsLinks(links map[string]string) error {
	if len(links) < 1 || len(links) > 13 {
		return errInvalidParameter("1 validation error detected: Value at 'links' failed to satisfy constraint: Member must have length between 1 and 13")
	}
	for lang, link := range links {
		if !termsLanguage.MatchString(lang) {
			return termsConstraintErr(lang, "links", "Map keys must satisfy constraint: [Member must satisfy regular expression pattern: ^cognito:(default|dutch|english|french|spanish|german|bahasa-indonesia|italian|japanese|korean|portuguese-brazil|chinese-(simplified|traditional))$]")
		}
		if len(link) > 1024 || !termsLinkPattern.MatchString(link) {
			return termsConstraintErr(link, "links", "Map value must satisfy constraint: [Member must have length between 1 and 1024]")
		}
	}
	return nil
}

func (p *userPool) termsDocs() map[string]termsDoc {
	out := map[string]termsDoc{}
	for id, raw := range p.stored("terms") {
		var d termsDoc
		if json.Unmarshal(raw, &d) == nil {
			out[id] = d
		}
	}
	return out
}

// termsNamed finds the client's document of that name.
func (p *userPool) termsNamed(clientID, name string) (termsDoc, bool) {
	for _, d := range p.termsDocs() {
		if d.ClientID == clientID && d.TermsName == name {
			return d, true
		}
	}
	return termsDoc{}, false
}

func (e *Emulator) opCreateTerms(c *call, in *termsInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	if in.ClientID == "" {
		return nil, errInvalidParameter("1 validation error detected: Value null at 'clientId' failed to satisfy constraint: Member must not be null")
	}
	if _, err := p.client(in.ClientID); err != nil {
		return nil, err
	}
	if err := checkTermsFields(in, true); err != nil {
		return nil, err
	}
	if _, ok := p.termsNamed(in.ClientID, *in.TermsName); ok {
		return nil, newErr("TermsExistsException", "Terms with name %s already exist for app client %s.", *in.TermsName, in.ClientID)
	}
	d := termsDoc{TermsID: e.uuid(), UserPoolID: p.ID, ClientID: in.ClientID, TermsName: *in.TermsName,
		TermsSource: *in.TermsSource, Enforcement: *in.Enforcement, Links: in.Links,
		CreationDate: epoch(c.now), LastModifiedDate: epoch(c.now)}
	if err := e.putStored(p, "terms", d.TermsID, d); err != nil {
		return nil, err
	}
	return map[string]any{"Terms": d}, nil
}

func (e *Emulator) terms(in *termsInput) (*userPool, termsDoc, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, termsDoc{}, err
	}
	if !termsIDPattern.MatchString(in.TermsID) {
		return nil, termsDoc{}, termsConstraintErr(in.TermsID, "termsId", "Member must satisfy regular expression pattern: ^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[4][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$")
	}
	d, ok := p.termsDocs()[in.TermsID]
	if !ok {
		return nil, termsDoc{}, errResourceNotFound("Terms %s do not exist.", in.TermsID)
	}
	return p, d, nil
}

func (e *Emulator) opDescribeTerms(c *call, in *termsInput) (any, error) {
	_, d, err := e.terms(in)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Terms": d}, nil
}

// opUpdateTerms changes the fields it is given; the others stay.
func (e *Emulator) opUpdateTerms(c *call, in *termsInput) (any, error) {
	p, d, err := e.terms(in)
	if err != nil {
		return nil, err
	}
	if err := checkTermsFields(in, false); err != nil {
		return nil, err
	}
	if in.TermsName != nil && *in.TermsName != d.TermsName {
		if _, ok := p.termsNamed(d.ClientID, *in.TermsName); ok {
			return nil, newErr("TermsExistsException", "Terms with name %s already exist for app client %s.", *in.TermsName, d.ClientID)
		}
		d.TermsName = *in.TermsName
	}
	if in.TermsSource != nil {
		d.TermsSource = *in.TermsSource
	}
	if in.Enforcement != nil {
		d.Enforcement = *in.Enforcement
	}
	if in.Links != nil {
		d.Links = in.Links
	}
	d.LastModifiedDate = epoch(c.now)
	if err := e.putStored(p, "terms", d.TermsID, d); err != nil {
		return nil, err
	}
	return map[string]any{"Terms": d}, nil
}

func (e *Emulator) opDeleteTerms(c *call, in *termsInput) (any, error) {
	p, d, err := e.terms(in)
	if err != nil {
		return nil, err
	}
	delete(p.stored("terms"), d.TermsID)
	e.dirty = true
	return map[string]any{}, nil
}

func (e *Emulator) opListTerms(c *call, in *termsInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	if in.MaxResults != 0 && (in.MaxResults < 1 || in.MaxResults > 60) {
		return nil, errInvalidParameter("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 60", in.MaxResults)
	}
	return listPage(p.termsDocs(), nil, in.NextToken, in.MaxResults, "Terms", "NextToken", func(_ string, d termsDoc) map[string]any {
		return map[string]any{"TermsId": d.TermsID, "TermsName": d.TermsName, "Enforcement": d.Enforcement,
			"CreationDate": d.CreationDate, "LastModifiedDate": d.LastModifiedDate}
	}), nil
}

// managedLoginLanguages maps the lang parameter of managed login to the
// language keys of terms documents.
var managedLoginLanguages = map[string]string{
	"en": "english", "nl": "dutch", "fr": "french", "es": "spanish", "de": "german", "id": "bahasa-indonesia",
	"it": "italian", "ja": "japanese", "ko": "korean", "pt-BR": "portuguese-brazil",
	"zh-CN": "chinese-simplified", "zh-TW": "chinese-traditional",
}

// termsLink is one link the sign-in page shows.
type termsLink struct{ Name, ID, URL string }

// termsLinks are the client's terms documents for the page, in the language
// lang asks (cognito:default when the document has none for it); none until the
// client has both kinds, as Cognito shows them.
func (p *userPool) termsLinks(clientID, lang string) []termsLink {
	var out []termsLink
	for _, name := range []string{"terms-of-use", "privacy-policy"} {
		d, ok := p.termsNamed(clientID, name)
		if !ok {
			return nil
		}
		u := d.Links["cognito:"+managedLoginLanguages[lang]]
		if u == "" {
			u = d.Links["cognito:default"]
		}
		if u == "" { // no default: the first language, in a stable order
			langs := make([]string, 0, len(d.Links))
			for l := range d.Links {
				langs = append(langs, l)
			}
			sort.Strings(langs)
			u = d.Links[langs[0]]
		}
		if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
			continue // a link the page cannot follow safely (javascript:, data:)
		}
		label := map[string]string{"terms-of-use": "Terms of use", "privacy-policy": "Privacy policy"}[name]
		out = append(out, termsLink{Name: label, ID: name, URL: u})
	}
	return out
}
