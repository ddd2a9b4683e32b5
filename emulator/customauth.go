package emulator

// CUSTOM_AUTH: the pool's DefineAuthChallenge function decides each step from the
// session so far (the challenges answered and their results), CreateAuthChallenge
// makes each CUSTOM_CHALLENGE, VerifyAuthChallengeResponse judges each answer.
// With SRP_A and CHALLENGE_NAME=SRP_A in the AuthParameters (CUSTOM_WITH_SRP) the
// session starts with an SRP_A entry and Define may ask for PASSWORD_VERIFIER,
// answered with the user's SRP proof as in USER_SRP_AUTH.

// maxCustomRounds bounds the challenges of one sign-in. Cognito documents no
// number; a function that never decides would otherwise loop for ever.
const maxCustomRounds = 10

// challengeResult is one entry of the session array the custom-auth events carry.
type challengeResult struct {
	ChallengeName     string  `json:"challengeName"`
	ChallengeResult   bool    `json:"challengeResult"`
	ChallengeMetadata *string `json:"challengeMetadata"`
}

// customState is a custom sign-in under way, carried from challenge session to
// challenge session.
type customState struct {
	session      []challengeResult
	userNotFound bool   // PreventUserExistenceErrors: a user that does not exist
	username     string // as given, for a user that does not exist
	private      map[string]string
	metadata     *string
	srpA         string // CUSTOM_WITH_SRP
	deviceKey    string
}

type defineAuthRequest struct {
	UserAttributes map[string]string `json:"userAttributes"`
	Session        []challengeResult `json:"session"`
	ClientMetadata map[string]string `json:"clientMetadata"`
	UserNotFound   bool              `json:"userNotFound"`
}

type defineAuthResponse struct {
	ChallengeName      *string `json:"challengeName"`
	IssueTokens        *bool   `json:"issueTokens"`
	FailAuthentication *bool   `json:"failAuthentication"`
}

type createAuthRequest struct {
	UserAttributes map[string]string `json:"userAttributes"`
	ChallengeName  string            `json:"challengeName"`
	Session        []challengeResult `json:"session"`
	ClientMetadata map[string]string `json:"clientMetadata"`
	UserNotFound   bool              `json:"userNotFound"`
}

type createAuthResponse struct {
	PublicChallengeParameters  map[string]string `json:"publicChallengeParameters"`
	PrivateChallengeParameters map[string]string `json:"privateChallengeParameters"`
	ChallengeMetadata          *string           `json:"challengeMetadata"`
}

type verifyAuthRequest struct {
	UserAttributes             map[string]string `json:"userAttributes"`
	PrivateChallengeParameters map[string]string `json:"privateChallengeParameters"`
	ChallengeAnswer            string            `json:"challengeAnswer"`
	ClientMetadata             map[string]string `json:"clientMetadata"`
	UserNotFound               bool              `json:"userNotFound"`
}

type verifyAuthResponse struct {
	AnswerCorrect *bool `json:"answerCorrect"`
}

// customAuth serves InitiateAuth with AuthFlow CUSTOM_AUTH.
func (e *Emulator) customAuth(c *call, p *userPool, cl *appClient, ap map[string]string) (any, error) {
	if !cl.allows("ALLOW_CUSTOM_AUTH") {
		return nil, errInvalidParameter("CUSTOM_AUTH flow not enabled for this client")
	}
	if p.triggerARN(trigDefineAuth) == "" || p.triggerARN(trigCreateAuth) == "" || p.triggerARN(trigVerifyAuth) == "" {
		return nil, errInvalidParameter("Custom auth lambda trigger is not configured for the user pool.")
	}
	name := ap["USERNAME"]
	if name == "" {
		return nil, errInvalidParameter("Missing required parameter USERNAME")
	}
	st := &customState{deviceKey: ap["DEVICE_KEY"], session: []challengeResult{}}
	if ap["CHALLENGE_NAME"] == "SRP_A" {
		if ap["SRP_A"] == "" {
			return nil, errInvalidParameter("Missing required parameter SRP_A")
		}
		st.srpA = ap["SRP_A"]
		st.session = append(st.session, challengeResult{ChallengeName: "SRP_A", ChallengeResult: true})
	}
	u := p.findUser(name)
	if u == nil {
		if cl.PreventUserExistence != "ENABLED" {
			return nil, errUserNotFound()
		}
		if err := checkSecretHash(cl, ap["SECRET_HASH"], name); err != nil {
			return nil, err
		}
		// Cognito runs the functions for a user that does not exist, with
		// userNotFound, so that the answers do not tell who has an account.
		st.userNotFound, st.username = true, name
		return e.customNext(c, p, cl, nil, st)
	}
	if err := checkSecretHash(cl, ap["SECRET_HASH"], name, u.Username); err != nil {
		return nil, err
	}
	u, err := e.preAuthenticationOf(c, p, u)
	if err != nil {
		return nil, err
	}
	return e.customNext(c, p, cl, u, st)
}

// customNext asks DefineAuthChallenge what comes next and does it.
func (e *Emulator) customNext(c *call, p *userPool, cl *appClient, u *user, st *customState) (any, error) {
	if len(st.session) >= maxCustomRounds {
		return nil, errBadCredentials()
	}
	attrs := map[string]string{}
	username := st.username
	if u != nil {
		attrs, username = eventAttributes(u), u.Username
	}
	ev := e.newEvent(c, p, "DefineAuthChallenge_Authentication", strPtr(username),
		defineAuthRequest{UserAttributes: attrs, Session: st.session, ClientMetadata: c.clientMetadata(), UserNotFound: st.userNotFound},
		defineAuthResponse{})
	var def defineAuthResponse
	if _, err := e.runTrigger(c, p, trigDefineAuth, ev, &def); err != nil {
		return nil, err
	}
	if u != nil {
		var err error
		if u, err = refind(p, u); err != nil {
			return nil, err
		}
	}
	switch {
	case def.FailAuthentication != nil && *def.FailAuthentication:
		return nil, errBadCredentials()
	case def.IssueTokens != nil && *def.IssueTokens:
		return e.issueCustomTokens(c, p, cl, u)
	case def.ChallengeName == nil:
		return nil, e.invalidAnswer(p, trigDefineAuth, errLambdaUnrecognized, "neither issueTokens, failAuthentication nor challengeName")
	}
	switch *def.ChallengeName {
	case "CUSTOM_CHALLENGE":
		return e.createChallenge(c, p, cl, u, username, attrs, st)
	case "PASSWORD_VERIFIER":
		return e.customPasswordVerifier(c, p, cl, u, st)
	}
	return nil, e.invalidAnswer(p, trigDefineAuth, errLambdaUnrecognized, "challengeName "+clip(*def.ChallengeName)+" is not one a custom flow can ask for")
}

// issueCustomTokens ends a custom flow whose DefineAuthChallenge said
// issueTokens: a user that does not exist, or cannot sign in, gets none.
func (e *Emulator) issueCustomTokens(c *call, p *userPool, cl *appClient, u *user) (any, error) {
	if u == nil {
		return nil, errBadCredentials()
	}
	if err := checkCanSignIn(u, c.now); err != nil {
		return nil, err
	}
	return e.finishAuth(c, p, cl, u, "", c.now)
}

// customPasswordVerifier answers DefineAuthChallenge's PASSWORD_VERIFIER with
// the SRP challenge of a CUSTOM_WITH_SRP sign-in.
func (e *Emulator) customPasswordVerifier(c *call, p *userPool, cl *appClient, u *user, st *customState) (any, error) {
	if st.srpA == "" || u == nil || u.VerifierHex == "" {
		// Without SRP_A there is nothing to verify; for a user that does
		// not exist the proof can only fail.
		if u == nil || st.srpA != "" {
			return nil, errBadCredentials()
		}
		return nil, e.invalidAnswer(p, trigDefineAuth, errLambdaUnrecognized, "PASSWORD_VERIFIER needs CUSTOM_WITH_SRP (SRP_A and CHALLENGE_NAME=SRP_A)")
	}
	r, s, err := e.srpChallenge(c, p, cl, u, st.srpA, st.deviceKey)
	if err != nil {
		return nil, err
	}
	s.custom = st
	return r, nil
}

// createChallenge runs CreateAuthChallenge and hands its public parameters out.
func (e *Emulator) createChallenge(c *call, p *userPool, cl *appClient, u *user, username string, attrs map[string]string, st *customState) (any, error) {
	ev := e.newEvent(c, p, "CreateAuthChallenge_Authentication", strPtr(username),
		createAuthRequest{UserAttributes: attrs, ChallengeName: "CUSTOM_CHALLENGE", Session: st.session, ClientMetadata: c.clientMetadata(), UserNotFound: st.userNotFound},
		createAuthResponse{})
	var cr createAuthResponse
	if _, err := e.runTrigger(c, p, trigCreateAuth, ev, &cr); err != nil {
		return nil, err
	}
	if u != nil {
		var err error
		if u, err = refind(p, u); err != nil {
			return nil, err
		}
		username = u.Username
	}
	st.private, st.metadata = cr.PrivateChallengeParameters, cr.ChallengeMetadata
	params := map[string]string{}
	for k, v := range cr.PublicChallengeParameters {
		params[k] = v
	}
	params["USERNAME"] = username
	s := &challengeSession{PoolID: p.ID, ClientID: cl.ID, Username: username, Challenge: "CUSTOM_CHALLENGE", DeviceKey: st.deviceKey, custom: st}
	return &authResponse{ChallengeName: "CUSTOM_CHALLENGE", ChallengeParameters: params, Session: e.newSession(s, c.now)}, nil
}

// answerCustomChallenge serves RespondToAuthChallenge CUSTOM_CHALLENGE: the
// answer goes to VerifyAuthChallengeResponse, its verdict into the session, and
// DefineAuthChallenge decides again.
func (e *Emulator) answerCustomChallenge(c *call, p *userPool, cl *appClient, s *challengeSession, cr map[string]string) (any, error) {
	st := s.custom
	if st == nil || s.PoolID != p.ID {
		return nil, errNotAuthorized("Invalid session for the user.")
	}
	u, err := customSessionUser(p, s, cr["USERNAME"])
	if err != nil {
		return nil, err
	}
	hashed := []string{cr["USERNAME"], s.Username}
	if err := checkSecretHash(cl, cr["SECRET_HASH"], hashed...); err != nil {
		return nil, err
	}
	answer, ok := cr["ANSWER"]
	if !ok {
		return nil, errInvalidParameter("Missing required parameter ANSWER")
	}
	attrs := map[string]string{}
	if u != nil {
		attrs = eventAttributes(u)
	}
	ev := e.newEvent(c, p, "VerifyAuthChallengeResponse_Authentication", strPtr(s.Username),
		verifyAuthRequest{UserAttributes: attrs, PrivateChallengeParameters: orEmpty(st.private), ChallengeAnswer: answer,
			ClientMetadata: c.clientMetadata(), UserNotFound: st.userNotFound},
		verifyAuthResponse{})
	var vr verifyAuthResponse
	ran, err := e.runTrigger(c, p, trigVerifyAuth, ev, &vr)
	if err != nil {
		return nil, err
	}
	if !ran {
		return nil, errInvalidParameter("Custom auth lambda trigger is not configured for the user pool.")
	}
	if vr.AnswerCorrect == nil {
		return nil, e.invalidAnswer(p, trigVerifyAuth, errLambdaUnrecognized, "answerCorrect missing")
	}
	st.session = append(st.session, challengeResult{ChallengeName: "CUSTOM_CHALLENGE", ChallengeResult: *vr.AnswerCorrect, ChallengeMetadata: st.metadata})
	st.private, st.metadata = nil, nil
	if u != nil {
		if u, err = refind(p, u); err != nil {
			return nil, err
		}
	}
	return e.customNext(c, p, cl, u, st)
}

// customSessionUser is the user a custom challenge session is for (nil when it
// runs for a user that does not exist); a USERNAME in the answer must name the
// same user.
func customSessionUser(p *userPool, s *challengeSession, name string) (*user, error) {
	st := s.custom
	var u *user
	if !st.userNotFound {
		if u = p.Users[p.userKey(s.Username)]; u == nil {
			return nil, errUserNotFound()
		}
	}
	if name != "" {
		if v := p.findUser(name); u != nil && v != u || u == nil && name != st.username {
			return nil, errNotAuthorized("Invalid session for the user.")
		}
	}
	return u, nil
}

// customAfterPassword continues a CUSTOM_WITH_SRP sign-in once the password proof
// checked out.
func (e *Emulator) customAfterPassword(c *call, p *userPool, cl *appClient, u *user, st *customState) (any, error) {
	st.session = append(st.session, challengeResult{ChallengeName: "PASSWORD_VERIFIER", ChallengeResult: true})
	return e.customNext(c, p, cl, u, st)
}
