package emulator

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// Developer-authenticated identities: a backend that authenticates users
// itself registers them under the identity pool's DeveloperProviderName with
// GetOpenIdTokenForDeveloperIdentity (SigV4-signed, an admin call) and hands
// the app the identity ID and an OpenID token; the app presents the token as
// the login "cognito-identity.amazonaws.com" to GetCredentialsForIdentity.
// LookupDeveloperIdentity, MergeDeveloperIdentities and
// UnlinkDeveloperIdentity manage the user identifiers. The tokens are signed
// with the emulator's OpenID key, served as a JWKS at /.well-known/jwks_uri (with
// /.well-known/openid-configuration), as cognito-identity.amazonaws.com serves
// Cognito's.

const (
	// openIDProvider is the logins-map key of Cognito identity's own OpenID
	// tokens.
	openIDProvider = "cognito-identity.amazonaws.com"
	// developerTokenLifetime is GetOpenIdTokenForDeveloperIdentity's default
	// TokenDuration (15 minutes); at most maxDeveloperTokenLifetime (a day).
	developerTokenLifetime    = 15 * time.Minute
	maxDeveloperTokenLifetime = 24 * time.Hour
	// maxLinkedLogins is how many logins (public and developer) one identity may
	// have after MergeDeveloperIdentities.
	maxLinkedLogins = 20
	// principalTagsClaim is where an OpenID token carries the principal tags
	// STS puts on the session.
	principalTagsClaim = "https://aws.amazon.com/tags"
)

// developerNamePattern is DeveloperProviderName's pattern in the service model.
var developerNamePattern = regexp.MustCompile(`^[\w._-]{1,128}$`)

// identityRoutes serves cognito-identity's OpenID documents at the root, as
// https://cognito-identity.amazonaws.com/.well-known/… does.
func (e *Emulator) identityRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /.well-known/jwks_uri", e.serveOpenIDJWKS)
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		base := "http://" + r.Host
		if e.issuerBase != "" {
			base = e.issuerBase
		}
		writeJSONStatus(w, http.StatusOK, map[string]any{
			"issuer":                                openIDIssuer,
			"jwks_uri":                              base + "/.well-known/jwks_uri",
			"response_types_supported":              []string{"code", "token", "id_token"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS512", "RS256"},
		})
	})
}

func (e *Emulator) serveOpenIDJWKS(w http.ResponseWriter, _ *http.Request) {
	e.mu.Lock()
	s := e.idp()
	key, err := e.openIDKey(s)
	kid := s.KeyID
	if err == nil {
		e.saveIfDirty()
	}
	e.mu.Unlock()
	if err != nil {
		writeError(w, newErr("InternalErrorException", "Internal error."))
		return
	}
	pub := key.PublicKey
	writeJSONStatus(w, http.StatusOK, map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid,
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

func devLinkKey(pool, developer, user string) string {
	// "developer/" keeps developer names apart from provider names, which
	// cannot hold a slash there.
	return linkKey(pool, "developer/"+developer, user)
}

// authenticated tells whether an identity has, or had, a login.
func (id *identity) authenticated() bool {
	return len(id.Logins) > 0 || len(id.Developer) > 0 || id.Inaccessible
}

func checkDeveloperUser(field, user string) error {
	if user == "" {
		return newErr("ValidationException", "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", field)
	}
	if utf8.RuneCountInString(user) > 1024 {
		return constraintErr(user, field, "Member must have length less than or equal to 1024")
	}
	return nil
}

func checkDeveloperName(field, name string) error {
	if !developerNamePattern.MatchString(name) {
		return constraintErr(name, field, "Member must satisfy regular expression pattern: [\\w._-]+")
	}
	return nil
}

// developerPool returns the pool and checks that it has a developer provider
// and that name (when given) is it.
func (s *idpState) developerPool(id, name string) (*identityPool, error) {
	ip, err := s.pool(id)
	if err != nil {
		return nil, err
	}
	if ip.DeveloperProviderName == "" {
		return nil, errInvalidParameter("Identity pool %s has no developer provider name.", clip(ip.ID))
	}
	if name != "" && name != ip.DeveloperProviderName {
		return nil, errInvalidParameter("Developer provider name %s does not match the identity pool's.", clip(name))
	}
	return ip, nil
}

func (s *idpState) developerOwner(ip *identityPool, user string) *identity {
	id, ok := s.Links[devLinkKey(ip.ID, ip.DeveloperProviderName, user)]
	if !ok {
		return nil
	}
	return s.Identities[id]
}

func (s *idpState) linkDeveloper(ip *identityPool, ident *identity, user string, now time.Time) {
	if !slices.Contains(ident.Developer, user) {
		ident.Developer = append(ident.Developer, user)
	}
	s.Links[devLinkKey(ip.ID, ip.DeveloperProviderName, user)] = ident.ID
	ident.Inaccessible = false
	ident.Modified = now
}

type developerTokenInput struct {
	IdentityPoolID string            `json:"IdentityPoolId"`
	IdentityID     string            `json:"IdentityId"`
	Logins         map[string]string `json:"Logins"`
	PrincipalTags  map[string]string `json:"PrincipalTags"`
	TokenDuration  *int64            `json:"TokenDuration"`
}

func (e *Emulator) opGetOpenIdTokenForDeveloperIdentity(c *call, in *developerTokenInput) (any, error) {
	s := e.idp()
	ip, err := s.pool(in.IdentityPoolID)
	if err != nil {
		return nil, err
	}
	life, err := checkDeveloperTokenInput(in)
	if err != nil {
		return nil, err
	}
	// The developer login is a user identifier, the others tokens checked as
	// GetId checks them.
	devUser, hasDev, public := splitDeveloperLogins(ip, in.Logins)
	if hasDev {
		if err := checkDeveloperUser("logins", devUser); err != nil {
			return nil, err
		}
	}
	logins, err := e.verifyLogins(ip, public, c.now)
	if err != nil {
		return nil, err
	}
	if err := noOpenIDLogin(logins); err != nil {
		return nil, err
	}
	if devUser == "" && len(logins) == 0 {
		return nil, errNotAuthorized("Invalid login token. Token is not from a supported provider of this identity pool.")
	}
	// The key first: making it can fail only with the random source, and then
	// nothing has been linked yet.
	key, err := e.openIDKey(s)
	if err != nil {
		return nil, err
	}
	ident, err := e.developerTokenIdentity(s, ip, in.IdentityID, devUser, logins, c.now)
	if err != nil {
		return nil, err
	}
	if n := ident.linkCountWith(devUser, logins); n > maxLinkedLogins {
		return nil, errInvalidParameter("The identity would have %d linked logins; at most %d are allowed.", n, maxLinkedLogins)
	}
	if devUser != "" {
		s.linkDeveloper(ip, ident, devUser, c.now)
	}
	if len(logins) > 0 {
		s.link(ident, logins, c.now)
		ident.Inaccessible = false
	}
	e.dirty = true
	claims := e.developerTokenClaims(ip, ident, devUser, logins, in.PrincipalTags, c.now, life)
	tok, err := signJWT(key, s.KeyID, claims)
	if err != nil {
		return nil, fmt.Errorf("signing OpenID token: %w", err)
	}
	return map[string]string{"IdentityId": ident.ID, "Token": tok}, nil
}

// checkDeveloperTokenInput validates GetOpenIdTokenForDeveloperIdentity's
// fields in the service's order and returns the token's lifetime.
func checkDeveloperTokenInput(in *developerTokenInput) (time.Duration, error) {
	if in.IdentityID != "" {
		if err := checkID("identityId", in.IdentityID); err != nil {
			return 0, err
		}
	}
	if in.Logins == nil {
		return 0, newErr("ValidationException", "1 validation error detected: Value null at 'logins' failed to satisfy constraint: Member must not be null")
	}
	life := developerTokenLifetime
	if in.TokenDuration != nil {
		d := *in.TokenDuration
		if d < 1 || d > int64(maxDeveloperTokenLifetime/time.Second) {
			return 0, constraintErr(strconv.FormatInt(d, 10), "tokenDuration", "Member must have value between 1 and 86400")
		}
		life = time.Duration(d) * time.Second
	}
	if err := checkPrincipalTags(in.PrincipalTags); err != nil {
		return 0, err
	}
	if len(in.Logins) > 10 {
		return 0, newErr("ValidationException", "1 validation error detected: Value at 'logins' failed to satisfy constraint: Member must have length less than or equal to 10")
	}
	return life, nil
}

// checkPrincipalTags bounds the principal tags' count and each key and value.
func checkPrincipalTags(tags map[string]string) error {
	if len(tags) > 50 {
		return constraintErr(fmt.Sprintf("%d tags", len(tags)), "principalTags", "Member must have length less than or equal to 50")
	}
	for _, k := range sortedKeys(tags) {
		if v := tags[k]; utf8.RuneCountInString(k) > 128 || k == "" || v == "" || utf8.RuneCountInString(v) > 256 {
			return constraintErr(k, "principalTags", "Map keys must have length between 1 and 128 and values between 1 and 256")
		}
	}
	return nil
}

// splitDeveloperLogins separates the pool's developer login (a user
// identifier) from the public providers' tokens.
func splitDeveloperLogins(ip *identityPool, in map[string]string) (devUser string, hasDev bool, public map[string]string) {
	public = map[string]string{}
	for k, v := range in {
		if ip.DeveloperProviderName != "" && k == ip.DeveloperProviderName {
			devUser, hasDev = v, true
			continue
		}
		public[k] = v
	}
	return devUser, hasDev, public
}

// developerTokenIdentity finds the identity the developer user and the
// logins stand for (the one named, when one is), or makes a new one.
func (e *Emulator) developerTokenIdentity(s *idpState, ip *identityPool, identityID, devUser string, logins []login, now time.Time) (*identity, error) {
	var devOwner *identity
	if devUser != "" {
		devOwner = s.developerOwner(ip, devUser)
	}
	pubOwner, err := s.linkedIdentity(ip.ID, logins)
	if err != nil {
		return nil, err
	}
	if identityID != "" {
		return namedDeveloperIdentity(s, ip, identityID, devOwner, pubOwner)
	}
	if devOwner != nil && pubOwner != nil && devOwner.ID != pubOwner.ID {
		return nil, newErr("ResourceConflictException", "Logins are linked to different identities.")
	}
	ident := devOwner
	if ident == nil {
		ident = pubOwner
	}
	if ident == nil {
		ident = e.newIdentity(s, ip, now)
	}
	return ident, nil
}

// namedDeveloperIdentity is the identity a request names, which the developer
// user and the logins must not already belong elsewhere.
func namedDeveloperIdentity(s *idpState, ip *identityPool, identityID string, devOwner, pubOwner *identity) (*identity, error) {
	ident := s.Identities[identityID]
	if ident == nil || ident.Pool != ip.ID {
		return nil, errResourceNotFound("Identity '%s' not found.", clip(identityID))
	}
	if devOwner != nil && devOwner.ID != ident.ID {
		return nil, newErr("DeveloperUserAlreadyRegisteredException", "This developer user identifier is already registered with Cognito.")
	}
	if pubOwner != nil && pubOwner.ID != ident.ID {
		return nil, newErr("ResourceConflictException", "Logins are linked to different identities.")
	}
	return ident, nil
}

// developerTokenClaims are the OpenID token's claims for a developer-
// authenticated identity.
func (e *Emulator) developerTokenClaims(ip *identityPool, ident *identity, devUser string, logins []login, principalTags map[string]string, now time.Time, life time.Duration) jwt.MapClaims {
	amr := []string{"authenticated"}
	if devUser != "" {
		amr = append(amr, ip.DeveloperProviderName, ip.DeveloperProviderName+":"+ip.ID+":"+devUser)
	}
	for _, l := range logins {
		amr = append(amr, l.provider, l.provider+":CognitoSignIn:"+l.sub)
	}
	claims := jwt.MapClaims{
		"iss": openIDIssuer,
		"sub": ident.ID,
		"aud": ip.ID,
		"amr": amr,
		"iat": now.Unix(),
		"exp": now.Add(life).Unix(),
		"https://cognito-identity.amazonaws.com/identity-pool-arn": e.identityPoolARN(ip),
	}
	if len(principalTags) > 0 {
		tags := map[string][]string{}
		for k, v := range principalTags {
			tags[k] = []string{v}
		}
		claims[principalTagsClaim] = map[string]any{"principal_tags": tags}
	}
	return claims
}

func (e *Emulator) identityPoolARN(ip *identityPool) string {
	return "arn:aws:cognito-identity:" + identityPoolRegion(ip.ID) + ":" + e.accountID() + ":identitypool/" + ip.ID
}

// noOpenIDLogin refuses Cognito identity's own token where a public
// provider's is expected (GetId, GetOpenIdTokenForDeveloperIdentity).
func noOpenIDLogin(logins []login) error {
	for _, l := range logins {
		if l.provider == openIDProvider {
			return errNotAuthorized("Invalid login token. Token is not from a supported provider of this identity pool.")
		}
	}
	return nil
}

// verifyOpenIDLogin checks a "cognito-identity.amazonaws.com" login: an OpenID
// token this emulator signed, for this identity pool, authenticated, unexpired.
// Its sub is the identity it stands for.
func (e *Emulator) verifyOpenIDLogin(ip *identityPool, token string, now time.Time) (login, error) {
	s := e.idp()
	bad := errNotAuthorized("Invalid login token. Not a valid OpenId Connect identity token.")
	if s.key == nil {
		return login{}, bad // no token was ever signed
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		if kid, _ := t.Header["kid"].(string); kid != s.KeyID {
			return nil, fmt.Errorf("unknown kid")
		}
		return &s.key.PublicKey, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation(), jwt.WithJSONNumber())
	if err != nil {
		return login{}, bad
	}
	if iss, _ := claims["iss"].(string); iss != openIDIssuer {
		return login{}, errNotAuthorized("Invalid login token. Issuer doesn't match providerName")
	}
	if aud, _ := claims["aud"].(string); aud != ip.ID {
		return login{}, errNotAuthorized("Invalid login token. Incorrect token audience.")
	}
	sub, _ := claims["sub"].(string)
	if sub == "" || !slices.Contains(claimStrings(claims["amr"]), "authenticated") {
		return login{}, bad
	}
	exp, err := claimInt(claims["exp"])
	if err != nil {
		return login{}, bad
	}
	if now.Unix() >= exp {
		return login{}, errNotAuthorized(fmt.Sprintf("Invalid login token. Token expired: %d >= %d", now.Unix(), exp))
	}
	return login{provider: openIDProvider, sub: sub, claims: claims, tags: openIDPrincipalTags(claims)}, nil
}

// openIDPrincipalTags are the principal tags an OpenID token carries (at most
// 50, each the first of its values), nil for none.
func openIDPrincipalTags(claims jwt.MapClaims) map[string]string {
	var tags map[string]string
	if t, ok := claims[principalTagsClaim].(map[string]any); ok {
		if pt, ok := t["principal_tags"].(map[string]any); ok {
			for k, v := range pt {
				if vals := claimStrings(v); len(vals) > 0 && len(tags) < 50 {
					if tags == nil {
						tags = map[string]string{}
					}
					tags[k] = clipTag(vals[0])
				}
			}
		}
	}
	return tags
}

func claimInt(v any) (int64, error) {
	switch n := v.(type) {
	case json.Number:
		return n.Int64()
	case float64:
		return int64(n), nil
	}
	return 0, fmt.Errorf("not a number")
}

type lookupDeveloperInput struct {
	IdentityPoolID          string `json:"IdentityPoolId"`
	IdentityID              string `json:"IdentityId"`
	DeveloperUserIdentifier string `json:"DeveloperUserIdentifier"`
	MaxResults              *int   `json:"MaxResults"`
	NextToken               string `json:"NextToken"`
}

func (e *Emulator) opLookupDeveloperIdentity(c *call, in *lookupDeveloperInput) (any, error) {
	s := e.idp()
	ip, err := s.developerPool(in.IdentityPoolID, "")
	if err != nil {
		return nil, err
	}
	max := 60
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 60 {
			return nil, constraintErr(strconv.Itoa(*in.MaxResults), "maxResults", "Member must have value between 1 and 60")
		}
		max = *in.MaxResults
	}
	if in.IdentityID == "" && in.DeveloperUserIdentifier == "" {
		return nil, errInvalidParameter("IdentityId or DeveloperUserIdentifier must be given.")
	}
	ident, err := s.lookedUpIdentity(ip, in.IdentityID, in.DeveloperUserIdentifier)
	if err != nil {
		return nil, err
	}
	start := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(in.NextToken)
		if err != nil || n < 0 || n > len(ident.Developer) {
			return nil, errInvalidParameter("Invalid NextToken.")
		}
		start = n
	}
	end := min(start+max, len(ident.Developer))
	out := map[string]any{"IdentityId": ident.ID, "DeveloperUserIdentifierList": append([]string{}, ident.Developer[start:end]...)}
	if end < len(ident.Developer) {
		out["NextToken"] = strconv.Itoa(end)
	}
	return out, nil
}

// lookedUpIdentity is the identity of ip that LookupDeveloperIdentity names by
// its ID, by a developer user identifier linked to it, or by both (which must
// then agree). At least one of them is not empty.
func (s *idpState) lookedUpIdentity(ip *identityPool, identityID, user string) (*identity, error) {
	var ident *identity
	if identityID != "" {
		if err := checkID("identityId", identityID); err != nil {
			return nil, err
		}
		ident = s.Identities[identityID]
		if ident == nil || ident.Pool != ip.ID {
			return nil, errResourceNotFound("Identity '%s' not found.", clip(identityID))
		}
	}
	if user == "" {
		return ident, nil
	}
	if err := checkDeveloperUser("developerUserIdentifier", user); err != nil {
		return nil, err
	}
	owner := s.developerOwner(ip, user)
	switch {
	case owner == nil:
		return nil, errResourceNotFound("Developer user identifier %s not found.", clip(user))
	case ident != nil && owner.ID != ident.ID:
		return nil, newErr("ResourceConflictException", "Developer user identifier %s is not linked to identity %s.", clip(user), identityID)
	}
	return owner, nil
}

type mergeDeveloperInput struct {
	SourceUserIdentifier      string `json:"SourceUserIdentifier"`
	DestinationUserIdentifier string `json:"DestinationUserIdentifier"`
	DeveloperProviderName     string `json:"DeveloperProviderName"`
	IdentityPoolID            string `json:"IdentityPoolId"`
}

// opMergeDeveloperIdentities moves the source user (and everything its
// identity has) into the destination user's identity; the source identity
// ends.
func (e *Emulator) opMergeDeveloperIdentities(c *call, in *mergeDeveloperInput) (any, error) {
	if err := checkDeveloperUser("sourceUserIdentifier", in.SourceUserIdentifier); err != nil {
		return nil, err
	}
	if err := checkDeveloperUser("destinationUserIdentifier", in.DestinationUserIdentifier); err != nil {
		return nil, err
	}
	if err := checkDeveloperName("developerProviderName", in.DeveloperProviderName); err != nil {
		return nil, err
	}
	s := e.idp()
	ip, err := s.developerPool(in.IdentityPoolID, in.DeveloperProviderName)
	if err != nil {
		return nil, err
	}
	dst := s.developerOwner(ip, in.DestinationUserIdentifier)
	if dst == nil {
		return nil, errResourceNotFound("Developer user identifier %s not found.", clip(in.DestinationUserIdentifier))
	}
	src := s.developerOwner(ip, in.SourceUserIdentifier)
	switch {
	case src == nil:
		if n := dst.linkCountWith(in.SourceUserIdentifier, nil); n > maxLinkedLogins {
			return nil, errInvalidParameter("The identities would have %d linked logins; at most %d are allowed.", n, maxLinkedLogins)
		}
		s.linkDeveloper(ip, dst, in.SourceUserIdentifier, c.now)
	case src.ID != dst.ID:
		for p, sub := range src.Logins {
			if have, ok := dst.Logins[p]; ok && have != sub {
				return nil, newErr("ResourceConflictException", "The identities are linked to different users of %s.", clip(p))
			}
		}
		if n := len(src.Logins) + len(src.Developer) + len(dst.Logins) + len(dst.Developer); n > maxLinkedLogins {
			return nil, errInvalidParameter("The identities would have %d linked logins; at most %d are allowed.", n, maxLinkedLogins)
		}
		var logins []login
		for p, sub := range src.Logins {
			logins = append(logins, login{provider: p, sub: sub})
		}
		s.link(dst, logins, c.now)
		for _, u := range src.Developer {
			s.linkDeveloper(ip, dst, u, c.now)
		}
		delete(s.Identities, src.ID)
	}
	e.dirty = true
	return map[string]string{"IdentityId": dst.ID}, nil
}

type unlinkDeveloperInput struct {
	IdentityID              string `json:"IdentityId"`
	IdentityPoolID          string `json:"IdentityPoolId"`
	DeveloperProviderName   string `json:"DeveloperProviderName"`
	DeveloperUserIdentifier string `json:"DeveloperUserIdentifier"`
}

func (e *Emulator) opUnlinkDeveloperIdentity(c *call, in *unlinkDeveloperInput) (any, error) {
	if err := checkID("identityId", in.IdentityID); err != nil {
		return nil, err
	}
	if err := checkDeveloperName("developerProviderName", in.DeveloperProviderName); err != nil {
		return nil, err
	}
	if err := checkDeveloperUser("developerUserIdentifier", in.DeveloperUserIdentifier); err != nil {
		return nil, err
	}
	s := e.idp()
	ip, err := s.developerPool(in.IdentityPoolID, in.DeveloperProviderName)
	if err != nil {
		return nil, err
	}
	ident := s.Identities[in.IdentityID]
	if ident == nil || ident.Pool != ip.ID {
		return nil, errResourceNotFound("Identity '%s' not found.", clip(in.IdentityID))
	}
	i := slices.Index(ident.Developer, in.DeveloperUserIdentifier)
	if i < 0 {
		return nil, errResourceNotFound("Developer user identifier %s is not linked to identity %s.", clip(in.DeveloperUserIdentifier), in.IdentityID)
	}
	ident.Developer = slices.Delete(ident.Developer, i, i+1)
	delete(s.Links, devLinkKey(ip.ID, ip.DeveloperProviderName, in.DeveloperUserIdentifier))
	ident.markIfUnreachable()
	ident.Modified = c.now
	e.dirty = true
	return nil, nil
}

// linkCountWith is how many logins the identity would have with a developer
// user and public logins added.
func (id *identity) linkCountWith(devUser string, logins []login) int {
	n := len(id.Logins) + len(id.Developer)
	if devUser != "" && !slices.Contains(id.Developer, devUser) {
		n++
	}
	for _, l := range logins {
		if _, have := id.Logins[l.provider]; !have && l.provider != openIDProvider {
			n++
		}
	}
	return n
}

// markIfUnreachable makes an identity whose last login went inaccessible, as
// Cognito does: no login can reach it, and it is no guest.
func (id *identity) markIfUnreachable() {
	if len(id.Logins) == 0 && len(id.Developer) == 0 {
		id.Inaccessible = true
	}
}

// developerLogins is the DescribeIdentity view of an identity's developer
// provider (the pool's name, once, when it has user identifiers).
func (s *idpState) developerLogins(ident *identity) []string {
	if len(ident.Developer) == 0 {
		return nil
	}
	if ip := s.Pools[ident.Pool]; ip != nil && ip.DeveloperProviderName != "" {
		return []string{ip.DeveloperProviderName}
	}
	return nil
}

// developerName is DeveloperProviderName as CreateIdentityPool and
// UpdateIdentityPool take it: checked, and fixed once set.
func developerName(old, name string) (string, error) {
	if name == "" {
		return old, nil
	}
	if err := checkDeveloperName("developerProviderName", name); err != nil {
		return "", err
	}
	if old != "" && old != name {
		return "", errInvalidParameter("The developer provider name of an identity pool cannot be changed once it is set.")
	}
	return name, nil
}
