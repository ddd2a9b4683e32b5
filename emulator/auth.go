package emulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/cogauth/cogauth/secret"
	"github.com/cogauth/cogauth/srp"
)

// challengeTTL is how long a challenge Session lives, as in Cognito.
const challengeTTL = 3 * time.Minute

// challengeSession is the server side of one challenge. It is single-use: answering
// marks it used, and a second answer is refused with Cognito's message.
type challengeSession struct {
	PoolID    string
	ClientID  string
	Username  string
	Challenge string
	Expires   time.Time
	Used      bool
	DeviceKey string // a device key offered for this sign-in
	// Device is true when the sign-in was verified with the device's SRP secret.
	Device bool

	srp         *srp.Server
	srpA        string
	secretBlock string
	code        string       // expected SMS or e-mail code
	failures    int          // wrong MFA codes answered so far
	simulated   bool         // an unknown user's PASSWORD_VERIFIER (simulatedSRP)
	custom      *customState // a CUSTOM_AUTH sign-in under way (customauth.go)
	userAuth    bool         // a USER_AUTH first-factor challenge (userauth.go)
}

// mfaAttempts is how many MFA codes one challenge session takes before it ends.
// Cognito lets a user retype a wrong code on the same session but documents no
// number; three is the emulator's choice (README).
const mfaAttempts = 3

type authResponse struct {
	ChallengeName        string            `json:"ChallengeName,omitempty"`
	ChallengeParameters  map[string]string `json:"ChallengeParameters"`
	Session              string            `json:"Session,omitempty"`
	AuthenticationResult *tokenSet         `json:"AuthenticationResult,omitempty"`
	AvailableChallenges  []string          `json:"AvailableChallenges,omitempty"` // USER_AUTH's SELECT_CHALLENGE
}

func (r *authResponse) signTokens() error {
	if r.AuthenticationResult == nil {
		return nil
	}
	return r.AuthenticationResult.sign()
}

// newSession stores a challenge session and returns its opaque handle.
func (e *Emulator) newSession(s *challengeSession, now time.Time) string {
	if len(e.sessions) > 512 {
		for k, old := range e.sessions {
			if now.After(old.Expires) {
				delete(e.sessions, k)
			}
		}
	}
	s.Expires = now.Add(challengeTTL)
	// Cognito's sessions are long opaque strings; clients pass them back verbatim.
	tok := base64.RawURLEncoding.EncodeToString(e.randomBytes(192))
	e.sessions[tok] = s
	return tok
}

// takeSession finds a session for answering challenge name and marks it used.
func (e *Emulator) takeSession(tok, name, clientID string, now time.Time) (*challengeSession, error) {
	s := e.sessions[tok]
	if tok == "" || s == nil {
		return nil, errNotAuthorized("Invalid session for the user.")
	}
	if s.Used {
		return nil, errInvalidSession(false)
	}
	if now.After(s.Expires) {
		delete(e.sessions, tok)
		return nil, errInvalidSession(true)
	}
	if s.ClientID != clientID || s.Challenge != name {
		return nil, errNotAuthorized("Invalid session for the user.")
	}
	s.Used = true
	return s, nil
}

type initiateAuthInput struct {
	AuthFlow       string            `json:"AuthFlow"`
	AuthParameters map[string]string `json:"AuthParameters"`
	ClientID       string            `json:"ClientId"`
	Session        string            `json:"Session"` // USER_AUTH after ConfirmSignUp
}

func (e *Emulator) opInitiateAuth(c *call, in *initiateAuthInput) (any, error) {
	p, cl, err := e.clientByID(in.ClientID)
	if err != nil {
		return nil, err
	}
	ap := in.AuthParameters
	switch in.AuthFlow {
	case "USER_PASSWORD_AUTH":
		if !cl.allows("ALLOW_USER_PASSWORD_AUTH") {
			return nil, errInvalidParameter("USER_PASSWORD_AUTH flow not enabled for this client")
		}
		return e.passwordAuth(c, p, cl, ap)
	case "USER_SRP_AUTH":
		if !cl.allows("ALLOW_USER_SRP_AUTH") {
			return nil, errInvalidParameter("USER_SRP_AUTH is not enabled for the client.")
		}
		return e.srpAuth(c, p, cl, ap)
	case "REFRESH_TOKEN_AUTH", "REFRESH_TOKEN":
		if !cl.allows("ALLOW_REFRESH_TOKEN_AUTH") {
			return nil, errInvalidParameter("Refresh Token auth flow is not enabled for this client.")
		}
		if cl.Rotation {
			// With rotation on, Cognito refreshes only through GetTokensFromRefreshToken.
			return nil, errNotAuthorized("Refresh token rotation is enabled for this client; use GetTokensFromRefreshToken.")
		}
		if ap["REFRESH_TOKEN"] == "" {
			return nil, errInvalidParameter("Missing required parameter REFRESH_TOKEN")
		}
		ts, err := e.refresh(c, p, cl, ap["REFRESH_TOKEN"], ap["DEVICE_KEY"], func(u *user) error {
			return checkSecretHash(cl, ap["SECRET_HASH"], u.Username, u.Sub)
		}, false)
		if err != nil {
			return nil, err
		}
		return &authResponse{ChallengeParameters: map[string]string{}, AuthenticationResult: ts}, nil
	case "":
		return nil, errInvalidParameter("1 validation error detected: Value null at 'authFlow' failed to satisfy constraint: Member must not be null")
	case "CUSTOM_AUTH":
		return e.customAuth(c, p, cl, ap)
	case "USER_AUTH":
		return e.userAuth(c, p, cl, ap, in.Session)
	case "ADMIN_NO_SRP_AUTH", "ADMIN_USER_PASSWORD_AUTH":
		return nil, errInvalidParameter("The emulator does not support the %s flow with InitiateAuth.", in.AuthFlow)
	}
	return nil, errInvalidParameter("1 validation error detected: Value '%s' at 'authFlow' failed to satisfy constraint: Member must satisfy enum value set: [USER_SRP_AUTH, REFRESH_TOKEN_AUTH, REFRESH_TOKEN, CUSTOM_AUTH, ADMIN_NO_SRP_AUTH, USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH, USER_AUTH]", clip(in.AuthFlow))
}

// signInUser finds the user of a sign-in attempt and checks SECRET_HASH.
func (e *Emulator) signInUser(p *userPool, cl *appClient, ap map[string]string) (*user, error) {
	name := ap["USERNAME"]
	if name == "" {
		return nil, errInvalidParameter("Missing required parameter USERNAME")
	}
	return clientUser(p, cl, name, ap["SECRET_HASH"])
}

// checkCanSignIn applies the account-state rules, after the password was proven so
// that states do not leak to someone without it.
func checkCanSignIn(u *user, now time.Time) error {
	switch {
	case !u.Enabled:
		return errNotAuthorized("User is disabled.")
	case u.Status == "UNCONFIRMED":
		return newErr("UserNotConfirmedException", "User is not confirmed.")
	case u.Status == "RESET_REQUIRED":
		return newErr("PasswordResetRequiredException", "Password reset required for the user")
	case u.Status == "FORCE_CHANGE_PASSWORD" && !u.TempExpires.IsZero() && now.After(u.TempExpires):
		return errNotAuthorized("Temporary password has expired and must be reset by an administrator.")
	}
	return nil
}

// checkResetRequired answers a RESET_REQUIRED user PasswordResetRequiredException
// whatever the password, before it is checked, as Cognito does (an imported user
// has no password; the import guide's users learn to reset from this answer).
func checkResetRequired(u *user) error {
	if u.Enabled && u.Status == "RESET_REQUIRED" {
		return newErr("PasswordResetRequiredException", "Password reset required for the user")
	}
	return nil
}

func (e *Emulator) passwordAuth(c *call, p *userPool, cl *appClient, ap map[string]string) (any, error) {
	u, err := e.signInUser(p, cl, ap)
	if err != nil && ap["USERNAME"] != "" && p.findUser(ap["USERNAME"]) == nil && p.triggerARN(trigUserMigration) != "" {
		// Not in the pool: the UserMigration trigger may bring the user in.
		if err := checkSecretHash(cl, ap["SECRET_HASH"], ap["USERNAME"]); err != nil {
			return nil, err
		}
		u, err = e.migrateUser(c, p, cl, ap["USERNAME"], ap["PASSWORD"], "Authentication")
	}
	if err != nil {
		return nil, err
	}
	if u, err = e.preAuthenticationOf(c, p, u); err != nil {
		return nil, err
	}
	if err := checkResetRequired(u); err != nil {
		return nil, err
	}
	if !passwordMatches(p, u, ap["PASSWORD"]) {
		return nil, errBadCredentials()
	}
	if err := checkCanSignIn(u, c.now); err != nil {
		return nil, err
	}
	return e.afterPassword(c, p, cl, u, ap["DEVICE_KEY"], false)
}

func (e *Emulator) srpAuth(c *call, p *userPool, cl *appClient, ap map[string]string) (any, error) {
	if ap["SRP_A"] == "" {
		return nil, errInvalidParameter("Missing required parameter SRP_A")
	}
	u, err := e.signInUser(p, cl, ap)
	if err != nil {
		if name := ap["USERNAME"]; name != "" && cl.PreventUserExistence == "ENABLED" && p.findUser(name) == nil {
			return e.simulatedSRP(c, p, cl, ap)
		}
		return nil, err
	}
	if u, err = e.preAuthenticationOf(c, p, u); err != nil {
		return nil, err
	}
	if err := checkResetRequired(u); err != nil {
		return nil, err
	}
	if u.VerifierHex == "" {
		return nil, errBadCredentials()
	}
	r, _, err := e.srpChallenge(c, p, cl, u, ap["SRP_A"], ap["DEVICE_KEY"])
	return r, err
}

// srpChallenge starts the server half of SRP for u and returns the
// PASSWORD_VERIFIER challenge, and its session.
func (e *Emulator) srpChallenge(c *call, p *userPool, cl *appClient, u *user, srpA, deviceKey string) (*authResponse, *challengeSession, error) {
	srv, err := srp.NewServer(e.random, u.VerifierHex)
	if err != nil {
		return nil, nil, err
	}
	s := &challengeSession{
		PoolID: p.ID, ClientID: cl.ID, Username: u.Username, Challenge: "PASSWORD_VERIFIER",
		DeviceKey: deviceKey, srp: srv, srpA: srpA,
		// Cognito's SECRET_BLOCK is base64 of an encrypted blob; clients only sign
		// its decoded bytes, so random bytes of a similar size serve.
		secretBlock: base64.StdEncoding.EncodeToString(e.randomBytes(724)),
	}
	tok := e.newSession(s, c.now)
	// The secret block identifies the session too: some clients answer
	// PASSWORD_VERIFIER without passing Session back.
	e.sessions[s.secretBlock] = s
	return &authResponse{
		ChallengeName: "PASSWORD_VERIFIER",
		ChallengeParameters: map[string]string{
			"SALT":            u.SaltHex,
			"SECRET_BLOCK":    s.secretBlock,
			"SRP_B":           srv.SRPB(),
			"USERNAME":        u.Username,
			"USER_ID_FOR_SRP": u.Username,
		},
		Session: tok,
	}, s, nil
}

// simulatedSRP answers an unknown user's USER_SRP_AUTH on a client with
// PreventUserExistenceErrors ENABLED as Cognito does: a PASSWORD_VERIFIER
// challenge like a real one, with a salt that stays the same for the username,
// so that the answer only fails, as a wrong password would, at
// RespondToAuthChallenge.
func (e *Emulator) simulatedSRP(c *call, p *userPool, cl *appClient, ap map[string]string) (any, error) {
	name := ap["USERNAME"]
	if err := checkSecretHash(cl, ap["SECRET_HASH"], name); err != nil {
		return nil, err
	}
	if len(p.SimulatedSaltKey) == 0 {
		p.SimulatedSaltKey = e.randomBytes(32)
		e.dirty = true
	}
	m := hmac.New(sha256.New, p.SimulatedSaltKey)
	m.Write([]byte(p.userKey(name)))
	salt := m.Sum(nil)[:16]
	saltHex := hex.EncodeToString(salt)
	if salt[0]&0x80 != 0 {
		saltHex = "00" + saltHex // padded positive, as srp.NewVerifier writes real salts
	}
	v, err := srp.ComputeVerifier(srp.PoolName(p.ID), name, secret.String(e.randomB64(32)), saltHex)
	if err != nil {
		return nil, err
	}
	srv, err := srp.NewServer(e.random, v)
	if err != nil {
		return nil, err
	}
	s := &challengeSession{
		PoolID: p.ID, ClientID: cl.ID, Username: name, Challenge: "PASSWORD_VERIFIER", simulated: true,
		srp: srv, srpA: ap["SRP_A"], secretBlock: base64.StdEncoding.EncodeToString(e.randomBytes(724)),
	}
	tok := e.newSession(s, c.now)
	e.sessions[s.secretBlock] = s
	return &authResponse{
		ChallengeName: "PASSWORD_VERIFIER",
		ChallengeParameters: map[string]string{
			"SALT": saltHex, "SECRET_BLOCK": s.secretBlock, "SRP_B": srv.SRPB(),
			"USERNAME": name, "USER_ID_FOR_SRP": name,
		},
		Session: tok,
	}, nil
}

// afterPassword runs the steps after the password was proven: a forced password
// change, device authentication, MFA, then tokens.
func (e *Emulator) afterPassword(c *call, p *userPool, cl *appClient, u *user, deviceKey string, srpFlow bool) (any, error) {
	if u.Status == "FORCE_CHANGE_PASSWORD" {
		attrs := map[string]string{}
		for k, v := range u.Attributes {
			if k != "sub" && k != "email_verified" && k != "phone_number_verified" {
				attrs[k] = v
			}
		}
		ua, _ := json.Marshal(attrs)
		s := &challengeSession{PoolID: p.ID, ClientID: cl.ID, Username: u.Username, Challenge: "NEW_PASSWORD_REQUIRED", DeviceKey: deviceKey}
		return &authResponse{
			ChallengeName: "NEW_PASSWORD_REQUIRED",
			ChallengeParameters: map[string]string{
				"USER_ID_FOR_SRP":    u.Username,
				"requiredAttributes": "[]",
				"userAttributes":     string(ua),
			},
			Session: e.newSession(s, c.now),
		}, nil
	}
	return e.afterNewPassword(c, p, cl, u, deviceKey, srpFlow)
}

func (e *Emulator) afterNewPassword(c *call, p *userPool, cl *appClient, u *user, deviceKey string, srpFlow bool) (any, error) {
	if deviceKey != "" && srpFlow && p.Device != nil {
		if d := u.Devices[deviceKey]; d != nil && d.Confirmed && d.Remembered && d.VerifierHex != "" {
			s := &challengeSession{PoolID: p.ID, ClientID: cl.ID, Username: u.Username, Challenge: "DEVICE_SRP_AUTH", DeviceKey: deviceKey}
			return &authResponse{
				ChallengeName:       "DEVICE_SRP_AUTH",
				ChallengeParameters: map[string]string{"USERNAME": u.Username, "USER_ID_FOR_SRP": u.Username},
				Session:             e.newSession(s, c.now),
			}, nil
		}
	}
	if r, err := e.mfaStage(c, p, cl, u, deviceKey); r != nil || err != nil {
		return r, err
	}
	return e.finishAuth(c, p, cl, u, knownDevice(u, deviceKey), c.now)
}

// knownDevice returns key when it names one of u's devices: a sign-in that
// presents it (without proving it by device SRP, as a device that is not
// remembered cannot) stays on that device instead of getting new device metadata.
func knownDevice(u *user, key string) string {
	if key == "" || u.Devices[key] == nil {
		return ""
	}
	return key
}

// finishAuth issues tokens. deviceKey is set when a known device authenticated; else
// a pool that tracks devices hands out a new device key.
func (e *Emulator) finishAuth(c *call, p *userPool, cl *appClient, u *user, deviceKey string, now time.Time) (*authResponse, error) {
	source := tokenSourceAuth
	switch {
	case deviceKey != "":
		source = tokenSourceDevice
	case c.op == "RespondToAuthChallenge" && c.input().ChallengeName == "NEW_PASSWORD_REQUIRED":
		source = tokenSourceNewPassword
	}
	if p.triggerARN(trigPostAuthentication) != "" {
		if err := e.postAuthentication(c, p, u, deviceKey == "" && p.Device != nil); err != nil {
			return nil, err
		}
		var err error
		if u, err = refind(p, u); err != nil {
			return nil, err
		}
	}
	var meta *newDeviceMetadata
	if deviceKey == "" && p.Device != nil {
		meta = e.newDevice(p, u, now)
		deviceKey = meta.DeviceKey
	}
	ts, err := e.startSession(p, cl, u, deviceKey, now)
	if err != nil {
		return nil, err
	}
	e.tokenTrigger(ts, c, p, cl, u, source)
	ts.NewDeviceMetadata = meta
	return &authResponse{ChallengeParameters: map[string]string{}, AuthenticationResult: ts}, nil
}

type respondToAuthChallengeInput struct {
	ChallengeName      string            `json:"ChallengeName"`
	ClientID           string            `json:"ClientId"`
	Session            string            `json:"Session"`
	ChallengeResponses map[string]string `json:"ChallengeResponses"`
}

func (e *Emulator) opRespondToAuthChallenge(c *call, in *respondToAuthChallengeInput) (any, error) {
	p, cl, err := e.clientByID(in.ClientID)
	if err != nil {
		return nil, err
	}
	cr := in.ChallengeResponses
	if cr == nil {
		cr = map[string]string{}
	}
	tok := in.Session
	if tok == "" && (in.ChallengeName == "PASSWORD_VERIFIER" || in.ChallengeName == "DEVICE_PASSWORD_VERIFIER") {
		tok = cr["PASSWORD_CLAIM_SECRET_BLOCK"]
	}
	if err := checkChallengeName(in.ChallengeName); err != nil {
		return nil, err
	}
	s, err := e.takeSession(tok, in.ChallengeName, cl.ID, c.now)
	if err != nil {
		return nil, err
	}
	if s.simulated {
		// An unknown user's simulated challenge (PreventUserExistenceErrors).
		return nil, errBadCredentials()
	}
	if in.ChallengeName == "CUSTOM_CHALLENGE" {
		// Its user may not exist (PreventUserExistenceErrors): customauth.go.
		return e.answerCustomChallenge(c, p, cl, s, cr)
	}
	u, err := challengeUser(p, cl, s, cr)
	if err != nil {
		return nil, err
	}
	// Amplify JS v6 sends DEVICE_KEY only in its challenge answers
	// (PASSWORD_VERIFIER, the MFA code), never in InitiateAuth; Cognito reads it
	// there too ("Include a DEVICE_KEY for device authentication").
	if k := cr["DEVICE_KEY"]; k != "" && in.ChallengeName != "DEVICE_SRP_AUTH" && in.ChallengeName != "DEVICE_PASSWORD_VERIFIER" {
		s.DeviceKey = k
	}
	if s.userAuth {
		return e.answerUserAuth(c, p, cl, u, s, in.ChallengeName, cr)
	}
	return e.answerChallenge(c, p, cl, u, s, in.ChallengeName, cr)
}

// checkChallengeName refuses a missing or unsupported challenge name.
func checkChallengeName(name string) error {
	switch name {
	case "PASSWORD_VERIFIER", "NEW_PASSWORD_REQUIRED", "SMS_MFA", "EMAIL_OTP", "SOFTWARE_TOKEN_MFA",
		"SELECT_MFA_TYPE", "MFA_SETUP", "DEVICE_SRP_AUTH", "DEVICE_PASSWORD_VERIFIER", "CUSTOM_CHALLENGE",
		"SELECT_CHALLENGE", "SMS_OTP", "WEB_AUTHN":
		return nil
	case "":
		return errInvalidParameter("1 validation error detected: Value null at 'challengeName' failed to satisfy constraint: Member must not be null")
	default:
		return errInvalidParameter("The emulator does not support the %s challenge.", clip(name))
	}
}

// challengeUser is the session's user, who must be the one the answer names
// and whose SECRET_HASH it carries.
func challengeUser(p *userPool, cl *appClient, s *challengeSession, cr map[string]string) (*user, error) {
	u := p.Users[p.userKey(s.Username)]
	if u == nil || s.PoolID != p.ID {
		return nil, errUserNotFound()
	}
	if name := cr["USERNAME"]; name != "" {
		if v := p.findUser(name); v == nil || v != u {
			return nil, errNotAuthorized("Invalid session for the user.")
		}
	}
	if err := checkSecretHash(cl, cr["SECRET_HASH"], cr["USERNAME"], u.Username); err != nil {
		return nil, err
	}
	return u, nil
}

// answerChallenge answers a challenge of the classic (not USER_AUTH) flows.
func (e *Emulator) answerChallenge(c *call, p *userPool, cl *appClient, u *user, s *challengeSession, name string, cr map[string]string) (any, error) {
	switch name {
	case "PASSWORD_VERIFIER":
		return e.answerPasswordVerifier(c, p, cl, u, s, cr)
	case "NEW_PASSWORD_REQUIRED":
		return e.answerNewPassword(c, p, cl, u, s, cr)
	case "SMS_MFA", "EMAIL_OTP", "SOFTWARE_TOKEN_MFA":
		if err := e.checkMFACode(c, u, s, name, cr); err != nil {
			// A mistyped code may be tried again on the same session, as Cognito
			// (and the Amplify clients that resubmit) allow, up to mfaAttempts.
			s.failures++
			s.Used = s.failures >= mfaAttempts
			return nil, err
		}
		return e.finishAuth(c, p, cl, u, knownDevice(u, s.DeviceKey), c.now)
	case "SELECT_MFA_TYPE":
		return e.answerSelectMFA(c, p, cl, u, s, cr["ANSWER"])
	case "MFA_SETUP":
		if !u.MFA.TOTPEnabled {
			return nil, errInvalidParameter("MFA setup is not complete: verify a software token first.")
		}
		return e.finishAuth(c, p, cl, u, knownDevice(u, s.DeviceKey), c.now)
	case "DEVICE_SRP_AUTH":
		return e.answerDeviceSRP(c, p, cl, u, s, cr)
	default: // DEVICE_PASSWORD_VERIFIER
		return e.answerDevicePasswordVerifier(c, p, cl, u, s, cr)
	}
}

func (e *Emulator) answerPasswordVerifier(c *call, p *userPool, cl *appClient, u *user, s *challengeSession, cr map[string]string) (any, error) {
	if err := verifySRP(s, srp.PoolName(p.ID), u.Username, cr); err != nil {
		return nil, err
	}
	if err := checkCanSignIn(u, c.now); err != nil {
		return nil, err
	}
	if s.custom != nil {
		return e.customAfterPassword(c, p, cl, u, s.custom)
	}
	return e.afterPassword(c, p, cl, u, s.DeviceKey, true)
}

func (e *Emulator) answerDevicePasswordVerifier(c *call, p *userPool, cl *appClient, u *user, s *challengeSession, cr map[string]string) (any, error) {
	d := u.Devices[s.DeviceKey]
	if d == nil {
		return nil, newErr("ResourceNotFoundException", "Device does not exist.")
	}
	if err := verifySRP(s, d.GroupKey, d.Key, cr); err != nil {
		return nil, err
	}
	if err := checkCanSignIn(u, c.now); err != nil {
		return nil, err
	}
	d.LastAuthTime = c.now
	e.dirty = true
	return e.finishAuth(c, p, cl, u, d.Key, c.now)
}

// verifySRP checks a PASSWORD_CLAIM_SIGNATURE against the session's SRP state.
func verifySRP(s *challengeSession, prefix, userID string, cr map[string]string) error {
	ts := cr["TIMESTAMP"]
	if _, err := srp.ParseTimestamp(ts); err != nil {
		// Cognito refuses a zero-padded day ("Jan 02") along with any other
		// malformed time.
		return errNotAuthorized("Incorrect username or password.")
	}
	if cr["PASSWORD_CLAIM_SECRET_BLOCK"] != s.secretBlock {
		return errNotAuthorized("Incorrect username or password.")
	}
	err := s.srp.Verify(s.srpA, srp.Claim{Prefix: prefix, UserID: userID, SecretBlock: secret.String(s.secretBlock), Timestamp: ts}, cr["PASSWORD_CLAIM_SIGNATURE"])
	if err != nil {
		if errors.Is(err, srp.ErrBadSignature) {
			return errBadCredentials()
		}
		// A malformed SRP_A or signature is a failed proof too; Cognito does not
		// tell the two apart either.
		return errBadCredentials()
	}
	return nil
}

func (e *Emulator) answerNewPassword(c *call, p *userPool, cl *appClient, u *user, s *challengeSession, cr map[string]string) (any, error) {
	pw := cr["NEW_PASSWORD"]
	if pw == "" {
		return nil, errInvalidParameter("Missing required parameter NEW_PASSWORD")
	}
	if err := checkPassword(p, pw); err != nil {
		return nil, err
	}
	var attrs []attribute
	for k, v := range cr {
		if name, ok := strings.CutPrefix(k, "userAttributes."); ok {
			attrs = append(attrs, attribute{Name: name, Value: v})
		}
	}
	if err := checkAttributes(attrs); err != nil {
		return nil, err
	}
	if err := e.setPassword(p, u, pw); err != nil {
		return nil, err
	}
	u.applyAttributes(attrs)
	u.Status = "CONFIRMED"
	u.TempExpires = time.Time{}
	u.Modified = c.now
	e.dirty = true
	return e.afterNewPassword(c, p, cl, u, s.DeviceKey, false)
}

// ---- refresh ----

// refresh serves REFRESH_TOKEN_AUTH and GetTokensFromRefreshToken; auth checks the
// client's credentials once the user is known; rotate issues a new refresh token.
func (e *Emulator) refresh(c *call, p *userPool, cl *appClient, token, deviceKey string, auth func(*user) error, rotate bool) (*tokenSet, error) {
	rec, o, err := liveRefreshToken(c, p, cl, token)
	if err != nil {
		return nil, err
	}
	u := p.Users[p.userKey(rec.Username)]
	if u == nil {
		return nil, errNotAuthorized("Refresh Token has been revoked")
	}
	if err := auth(u); err != nil {
		return nil, err
	}
	if !u.Enabled {
		return nil, errNotAuthorized("User is disabled.")
	}
	if o.DeviceKey != "" {
		// A refresh token issued to a remembered device refreshes only with that
		// device's key: the pitfall clients that forget DEVICE_KEY run into.
		if d := u.Devices[o.DeviceKey]; d != nil && d.Confirmed && d.Remembered && deviceKey != o.DeviceKey {
			return nil, errNotAuthorized("Invalid Refresh Token")
		}
	}
	ts := &tokenSet{ExpiresIn: int64(cl.AccessValidity / time.Second), TokenType: "Bearer"}
	if err := e.mintTokens(ts, p, cl, u, rec.Origin, o, c.now); err != nil {
		return nil, err
	}
	e.tokenTrigger(ts, c, p, cl, u, tokenSourceRefresh)
	if rotate {
		ts.RefreshToken = e.rotateRefreshToken(c, p, cl, rec)
	}
	return ts, nil
}

// liveRefreshToken is the record of a refresh token of client cl and its
// sign-in, when the token may still refresh: not revoked, not expired, and not
// rotated longer ago than the client's grace period.
func liveRefreshToken(c *call, p *userPool, cl *appClient, token string) (*refreshToken, *origin, error) {
	rec := p.Refresh[hashToken(token)]
	if rec == nil || rec.ClientID != cl.ID {
		return nil, nil, errNotAuthorized("Invalid Refresh Token")
	}
	o := p.Origins[rec.Origin]
	if o == nil || o.Revoked {
		return nil, nil, errNotAuthorized("Refresh Token has been revoked")
	}
	if !c.now.Before(rec.Expires) {
		return nil, nil, errNotAuthorized("Refresh Token has expired")
	}
	// The grace period is [RotatedAt, RotatedAt+grace): with a grace of zero a
	// successful rotation "immediately invalidates the submitted refresh token"
	// (RefreshTokenRotationType), even within the same second.
	if !rec.RotatedAt.IsZero() && !c.now.Before(rec.RotatedAt.Add(cl.GracePeriod)) {
		return nil, nil, newErr("RefreshTokenReuseException", "Refresh token has already been used.")
	}
	return rec, o, nil
}

// rotateRefreshToken issues the refresh token that replaces rec (same sign-in,
// same expiry); rec stays usable for the client's grace period from its first
// rotation.
func (e *Emulator) rotateRefreshToken(c *call, p *userPool, cl *appClient, rec *refreshToken) string {
	if rec.RotatedAt.IsZero() {
		rec.RotatedAt = c.now
	}
	next := e.newRefreshToken()
	p.Refresh[hashToken(next)] = &refreshToken{Origin: rec.Origin, Username: rec.Username, ClientID: cl.ID, Expires: rec.Expires}
	e.dirty = true
	return next
}

// checkClientSecret is the ClientSecret check of GetTokensFromRefreshToken and
// RevokeToken, which send the secret itself rather than a hash.
func checkClientSecret(cl *appClient, given string) error {
	if cl.Secret == "" {
		return nil
	}
	if given == "" {
		return errNotAuthorized("Client " + cl.ID + " is configured with secret but ClientSecret was not received")
	}
	if !cl.secretMatches(given) {
		return errNotAuthorized("Unable to verify secret hash for client " + cl.ID)
	}
	return nil
}

type getTokensFromRefreshTokenInput struct {
	RefreshToken string `json:"RefreshToken"`
	ClientID     string `json:"ClientId"`
	ClientSecret string `json:"ClientSecret"`
	DeviceKey    string `json:"DeviceKey"`
}

func (e *Emulator) opGetTokensFromRefreshToken(c *call, in *getTokensFromRefreshTokenInput) (any, error) {
	p, cl, err := e.clientByID(in.ClientID)
	if err != nil {
		return nil, err
	}
	if err := checkClientSecret(cl, in.ClientSecret); err != nil {
		return nil, err
	}
	if !cl.allows("ALLOW_REFRESH_TOKEN_AUTH") {
		return nil, errInvalidParameter("Refresh Token auth flow is not enabled for this client.")
	}
	if in.RefreshToken == "" {
		return nil, errInvalidParameter("1 validation error detected: Value null at 'refreshToken' failed to satisfy constraint: Member must not be null")
	}
	ts, err := e.refresh(c, p, cl, in.RefreshToken, in.DeviceKey, func(*user) error { return nil }, cl.Rotation)
	if err != nil {
		return nil, err
	}
	return &refreshResponse{AuthenticationResult: ts}, nil
}

// refreshResponse is GetTokensFromRefreshToken's answer (no ChallengeParameters).
type refreshResponse struct {
	AuthenticationResult *tokenSet `json:"AuthenticationResult"`
}

func (r *refreshResponse) signTokens() error { return r.AuthenticationResult.sign() }

type revokeTokenInput struct {
	Token        string `json:"Token"`
	ClientID     string `json:"ClientId"`
	ClientSecret string `json:"ClientSecret"`
}

func (e *Emulator) opRevokeToken(c *call, in *revokeTokenInput) (any, error) {
	p, cl, err := e.clientByID(in.ClientID)
	if err != nil {
		return nil, err
	}
	if err := checkClientSecret(cl, in.ClientSecret); err != nil {
		return nil, err
	}
	if !cl.EnableTokenRevoction {
		return nil, newErr("UnsupportedOperationException", "Token revocation is not enabled for this client.")
	}
	if strings.Count(in.Token, ".") == 2 {
		return nil, newErr("UnsupportedTokenTypeException", "Only refresh tokens can be revoked.")
	}
	rec := p.Refresh[hashToken(in.Token)]
	if rec == nil {
		// RFC 7009: revoking an unknown token succeeds.
		return nil, nil
	}
	if rec.ClientID != cl.ID {
		return nil, newErr("UnauthorizedException", "The refresh token was not issued to this client.")
	}
	if o := p.Origins[rec.Origin]; o != nil && !o.Revoked {
		o.Revoked = true
		e.dirty = true
	}
	return nil, nil
}
