package emulator

import (
	"crypto/subtle"
)

// Choice-based sign-in (AuthFlow USER_AUTH): the pool's sign-in policy lists the
// first factors it allows (AllowedFirstAuthFactors: PASSWORD, EMAIL_OTP, SMS_OTP,
// WEB_AUTHN; PASSWORD always; WEB_AUTHN for users with a passkey of the pool's
// relying party, webauthn.go). A sign-in names a PREFERRED_CHALLENGE, or gets
// SELECT_CHALLENGE with the factors available to the user, answers it, then
// the chosen challenge. Passwordless first factors (one-time codes, passkeys)
// are not followed by MFA, as in Cognito; PASSWORD and PASSWORD_SRP are. A pool
// that requires MFA does not offer passkeys (see availableChallenges).

// firstFactors is the pool's AllowedFirstAuthFactors, ["PASSWORD"] by default.
func (p *userPool) firstFactors() []string {
	if len(p.FirstAuthFactors) == 0 {
		return []string{"PASSWORD"}
	}
	return p.FirstAuthFactors
}

var knownFirstFactors = map[string]bool{"PASSWORD": true, "EMAIL_OTP": true, "SMS_OTP": true, "WEB_AUTHN": true}

// checkFirstFactors validates a SignInPolicy's AllowedFirstAuthFactors.
func checkFirstFactors(ff []string) error {
	if len(ff) > 4 {
		return errInvalidParameter("AllowedFirstAuthFactors has too many members.")
	}
	for _, f := range ff {
		if !knownFirstFactors[f] {
			return errInvalidParameter("1 validation error detected: Value '[%s]' at 'policies.signInPolicy.allowedFirstAuthFactors' failed to satisfy constraint: Member must satisfy enum value set: [PASSWORD, EMAIL_OTP, SMS_OTP, WEB_AUTHN]", clip(f))
		}
	}
	if len(ff) > 0 && !contains(ff, "PASSWORD") {
		return errInvalidParameter("AllowedFirstAuthFactors must include PASSWORD.")
	}
	return nil
}

// availableChallenges lists the first-factor challenges u can answer in p, in
// the order Cognito lists them.
func availableChallenges(p *userPool, u *user) []string {
	ff := p.firstFactors()
	var out []string
	if contains(ff, "PASSWORD") && u.VerifierHex != "" {
		out = append(out, "PASSWORD", "PASSWORD_SRP")
	}
	if contains(ff, "EMAIL_OTP") && u.Attributes["email"] != "" && u.Attributes["email_verified"] == "true" {
		out = append(out, "EMAIL_OTP")
	}
	if contains(ff, "SMS_OTP") && u.Attributes["phone_number"] != "" && u.Attributes["phone_number_verified"] == "true" {
		out = append(out, "SMS_OTP")
	}
	// With MFA required Cognito offers passkey sign-in only when a passkey
	// counts as MFA (passkeys_mfa.go).
	if canWebAuthn(p, u) && (p.MFA != "ON" || passkeyCountsAsMFA(p, u)) {
		out = append(out, "WEB_AUTHN")
	}
	return out
}

// userAuth serves InitiateAuth USER_AUTH. session is InitiateAuth's Session: the
// one ConfirmSignUp returned signs the user in at once.
func (e *Emulator) userAuth(c *call, p *userPool, cl *appClient, ap map[string]string, session string) (any, error) {
	if !cl.allows("ALLOW_USER_AUTH") {
		return nil, errInvalidParameter("USER_AUTH flow not enabled for this client")
	}
	u, err := e.signInUser(p, cl, ap)
	if err != nil {
		return nil, err
	}
	if session != "" {
		s, err := e.takeSession(session, "AUTO_SIGN_IN", cl.ID, c.now)
		if err != nil {
			return nil, err
		}
		if s.PoolID != p.ID || s.Username != u.Username {
			return nil, errNotAuthorized("Invalid session for the user.")
		}
		if err := checkCanSignIn(u, c.now); err != nil {
			return nil, err
		}
		return e.finishAuth(c, p, cl, u, knownDevice(u, ap["DEVICE_KEY"]), c.now)
	}
	if u, err = e.preAuthenticationOf(c, p, u); err != nil {
		return nil, err
	}
	avail := availableChallenges(p, u)
	if pref := ap["PREFERRED_CHALLENGE"]; pref != "" && contains(avail, pref) {
		return e.startFirstFactor(c, p, cl, u, pref, ap)
	}
	if len(avail) == 0 {
		return nil, errNotAuthorized("The user has no sign-in method this pool allows.")
	}
	s := &challengeSession{PoolID: p.ID, ClientID: cl.ID, Username: u.Username, Challenge: "SELECT_CHALLENGE", DeviceKey: ap["DEVICE_KEY"], userAuth: true}
	return &authResponse{
		ChallengeName:       "SELECT_CHALLENGE",
		ChallengeParameters: map[string]string{"USERNAME": u.Username},
		Session:             e.newSession(s, c.now),
		AvailableChallenges: avail,
	}, nil
}

// startFirstFactor begins the first-factor challenge name for u; params holds
// what that factor needs up front (PASSWORD, SRP_A).
func (e *Emulator) startFirstFactor(c *call, p *userPool, cl *appClient, u *user, name string, params map[string]string) (any, error) {
	switch name {
	case "PASSWORD":
		return e.firstFactorPassword(c, p, cl, u, params)
	case "PASSWORD_SRP":
		if params["SRP_A"] == "" {
			return nil, errInvalidParameter("Missing required parameter SRP_A")
		}
		if err := checkResetRequired(u); err != nil {
			return nil, err
		}
		r, _, err := e.srpChallenge(c, p, cl, u, params["SRP_A"], params["DEVICE_KEY"])
		return r, err
	case "EMAIL_OTP", "SMS_OTP":
		return e.firstFactorOTP(c, p, cl, u, name, params["DEVICE_KEY"])
	case "WEB_AUTHN":
		if err := checkCanSignIn(u, c.now); err != nil {
			return nil, err
		}
		return e.startWebAuthn(c, p, cl, u, params["DEVICE_KEY"])
	}
	return nil, errInvalidParameter("Invalid challenge: %s", clip(name))
}

// firstFactorPassword signs u in by the PASSWORD factor, the password given up
// front.
func (e *Emulator) firstFactorPassword(c *call, p *userPool, cl *appClient, u *user, params map[string]string) (any, error) {
	if params["PASSWORD"] == "" {
		return nil, errInvalidParameter("Missing required parameter PASSWORD")
	}
	if err := checkResetRequired(u); err != nil {
		return nil, err
	}
	if !passwordMatches(p, u, params["PASSWORD"]) {
		return nil, errBadCredentials()
	}
	if err := checkCanSignIn(u, c.now); err != nil {
		return nil, err
	}
	return e.afterPassword(c, p, cl, u, params["DEVICE_KEY"], false)
}

// firstFactorOTP sends u a one-time sign-in code (EMAIL_OTP: 8 digits by
// e-mail; SMS_OTP: 6 by SMS, as an SMS MFA code) and challenges for it.
func (e *Emulator) firstFactorOTP(c *call, p *userPool, cl *appClient, u *user, name, deviceKey string) (any, error) {
	if err := checkCanSignIn(u, c.now); err != nil {
		return nil, err
	}
	medium, kind := "EMAIL", "EMAIL_OTP"
	if name == "SMS_OTP" {
		medium, kind = "SMS", "SMS_MFA" // CustomMessage_Authentication, as an SMS MFA code
	}
	code := e.randomDigits(6)
	if name == "EMAIL_OTP" {
		code = e.randomDigits(8) // Cognito's e-mail sign-in codes have 8 digits
	}
	d, err := e.send(c, p, u, kind, code, medium)
	if err != nil {
		return nil, err
	}
	s := &challengeSession{PoolID: p.ID, ClientID: cl.ID, Username: u.Username, Challenge: name, DeviceKey: deviceKey, code: code, userAuth: true}
	return &authResponse{
		ChallengeName: name,
		ChallengeParameters: map[string]string{
			"USERNAME":                      u.Username,
			"CODE_DELIVERY_DELIVERY_MEDIUM": d["DeliveryMedium"],
			"CODE_DELIVERY_DESTINATION":     d["Destination"],
		},
		Session: e.newSession(s, c.now),
	}, nil
}

// answerUserAuth answers the challenges of a USER_AUTH sign-in: SELECT_CHALLENGE
// and the passwordless first factors.
func (e *Emulator) answerUserAuth(c *call, p *userPool, cl *appClient, u *user, s *challengeSession, name string, cr map[string]string) (any, error) {
	switch name {
	case "SELECT_CHALLENGE":
		answer := cr["ANSWER"]
		if answer == "" {
			return nil, errInvalidParameter("Missing required parameter ANSWER")
		}
		if !contains(availableChallenges(p, u), answer) {
			return nil, errInvalidParameter("The challenge %s is not available for the user.", clip(answer))
		}
		params := map[string]string{"PASSWORD": cr["PASSWORD"], "SRP_A": cr["SRP_A"], "DEVICE_KEY": s.DeviceKey}
		return e.startFirstFactor(c, p, cl, u, answer, params)
	case "EMAIL_OTP", "SMS_OTP":
		given := cr[name+"_CODE"]
		if s.code == "" || subtle.ConstantTimeCompare([]byte(s.code), []byte(given)) != 1 {
			// As with MFA codes: a few tries on the same session, then it ends.
			s.failures++
			s.Used = s.failures >= mfaAttempts
			return nil, errMFACodeMismatch()
		}
		return e.finishAuth(c, p, cl, u, knownDevice(u, s.DeviceKey), c.now)
	case "WEB_AUTHN":
		return e.answerWebAuthn(c, p, cl, u, s, cr)
	}
	return nil, errInvalidParameter("The emulator does not support the %s challenge.", clip(name))
}

// autoSignInSession is the Session ConfirmSignUp returns: InitiateAuth USER_AUTH
// with it (and the same client and user) signs the user in, once, within the
// challenge TTL.
func (e *Emulator) autoSignInSession(c *call, p *userPool, cl *appClient, u *user) string {
	return e.newSession(&challengeSession{PoolID: p.ID, ClientID: cl.ID, Username: u.Username, Challenge: "AUTO_SIGN_IN"}, c.now)
}

// userAuthFactors is GetUserAuthFactors' ConfiguredUserAuthFactors: the first
// factors of availableChallenges, PASSWORD once for both password challenges.
func userAuthFactors(p *userPool, u *user) []string {
	configured := []string{}
	for _, f := range availableChallenges(p, u) {
		if f != "PASSWORD_SRP" {
			configured = append(configured, f)
		}
	}
	return configured
}

// opGetUserAuthFactors tells the signed-in user's MFA settings and sign-in
// factors: those USER_AUTH offers the user (userauth.go; WEB_AUTHN with a passkey).
func (e *Emulator) opGetUserAuthFactors(c *call, in *accessTokenInput) (any, error) {
	p, u, _, err := e.authenticate(in.AccessToken, c.now)
	if err != nil {
		return nil, err
	}
	settings := append([]string{}, mfaFactors(p, u)...)
	out := map[string]any{"Username": u.Username, "UserMFASettingList": settings, "ConfiguredUserAuthFactors": userAuthFactors(p, u)}
	if u.MFA.Preferred != "" {
		out["PreferredMfaSetting"] = u.MFA.Preferred
	}
	return out, nil
}
