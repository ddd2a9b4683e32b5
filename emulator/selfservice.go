package emulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"time"
)

// Message is a code the emulator "sent" by SMS or e-mail. Tests read them with
// Messages or LastCode (or GET /_emulator/codes) instead of a phone or a mailbox.
type Message struct {
	PoolID      string    `json:"poolId"`
	Username    string    `json:"username"`
	Kind        string    `json:"kind"`   // SIGN_UP, FORGOT_PASSWORD, ADMIN_CREATE_USER, SMS_MFA, EMAIL_OTP, VERIFY_ATTRIBUTE
	Medium      string    `json:"medium"` // EMAIL or SMS
	Destination string    `json:"destination"`
	Code        string    `json:"code"` // for ADMIN_CREATE_USER, the temporary password
	Time        time.Time `json:"time"`
	// Subject (e-mail only) and Body are the message as sent: Cognito's default
	// text, or the CustomMessage trigger's, with the code and username put in.
	Subject string `json:"subject,omitempty"`
	Body    string `json:"body"`
}

// maxMessages bounds the outbox of a long-running emulator.
const maxMessages = 1000

// send records a message to u; medium "" picks e-mail when the user has an address,
// else SMS. The text is the CustomMessage trigger's when the pool has one, which is
// invoked with e.mu released (see invoke). It returns Cognito's CodeDeliveryDetails.
func (e *Emulator) send(c *call, p *userPool, u *user, kind, code, medium string) (map[string]string, error) {
	if medium == "" {
		medium = "EMAIL"
		if u.Attributes["email"] == "" && u.Attributes["phone_number"] != "" {
			medium = "SMS"
		}
	}
	attr := "email"
	if medium == "SMS" {
		attr = "phone_number"
	}
	return e.sendTo(c, p, u, kind, code, medium, u.Attributes[attr])
}

// sendTo is send to a given address: a pending e-mail or phone number
// (UserAttributeUpdateSettings) gets its code before it is the user's.
func (e *Emulator) sendTo(c *call, p *userPool, u *user, kind, code, medium, dest string) (map[string]string, error) {
	attr := "email"
	if medium == "SMS" {
		attr = "phone_number"
	}
	subject, body, err := e.renderMessage(c, p, u, kind, code, medium)
	if err != nil {
		return nil, err
	}
	if len(e.messages) >= maxMessages {
		e.messages = append(e.messages[:0], e.messages[len(e.messages)-maxMessages/2:]...)
	}
	e.messages = append(e.messages, Message{
		PoolID: p.ID, Username: u.Username, Kind: kind, Medium: medium, Destination: dest, Code: code, Time: c.now,
		Subject: subject, Body: body,
	})
	return map[string]string{"Destination": maskDestination(dest, medium), "DeliveryMedium": medium, "AttributeName": attr}, nil
}

// maskDestination hides an address the way Cognito does ("a***@e***", "+*******1234").
func maskDestination(dest, medium string) string {
	if dest == "" {
		return ""
	}
	if medium == "SMS" {
		if len(dest) <= 4 {
			return dest
		}
		out := []byte(dest)
		for i := 1; i < len(out)-4; i++ {
			out[i] = '*'
		}
		return string(out)
	}
	at := -1
	for i := range dest {
		if dest[i] == '@' {
			at = i
		}
	}
	if at <= 0 || at == len(dest)-1 {
		return "***"
	}
	return dest[:1] + "***@" + dest[at+1:at+2] + "***"
}

// Messages returns the codes sent to a user of a pool (all users when username is
// ""), oldest first.
func (e *Emulator) Messages(poolID, username string) []Message {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Message
	for _, m := range e.messages {
		if (poolID == "" || m.PoolID == poolID) && (username == "" || e.sameUser(m, username)) {
			out = append(out, m)
		}
	}
	return out
}

// sameUser tells whether a message went to the user known to callers as name, which
// may be the username, an alias or the sub.
func (e *Emulator) sameUser(m Message, name string) bool {
	if m.Username == name {
		return true
	}
	p := e.st.Pools[m.PoolID]
	if p == nil {
		return false
	}
	u := p.findUser(name)
	return u != nil && u.Username == m.Username
}

// LastCode returns the most recent code sent to the user.
func (e *Emulator) LastCode(poolID, username string) (string, bool) {
	msgs := e.Messages(poolID, username)
	if len(msgs) == 0 {
		return "", false
	}
	return msgs[len(msgs)-1].Code, true
}

// secretHash is Cognito's SECRET_HASH: base64(HMAC-SHA256(secret, username+clientID)).
func secretHash(secret, username, clientID string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(username + clientID))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// checkSecretHash enforces SECRET_HASH for clients with a secret; any of names (the
// name the caller used, the username, the sub) may be the one hashed.
func checkSecretHash(c *appClient, given string, names ...string) error {
	if c.Secret == "" {
		return nil
	}
	if given == "" {
		return errNotAuthorized("Client " + c.ID + " is configured with secret but SECRET_HASH was not received")
	}
	for _, s := range c.secrets() { // each of the client's secrets (clientsecrets.go)
		for _, n := range names {
			if n == "" {
				continue
			}
			want := secretHash(s.Value, n, c.ID)
			if subtle.ConstantTimeCompare([]byte(want), []byte(given)) == 1 {
				return nil
			}
		}
	}
	return errNotAuthorized("Unable to verify secret hash for client " + c.ID)
}

type clientCallInput struct {
	ClientID   string `json:"ClientId"`
	SecretHash string `json:"SecretHash"`
	Username   string `json:"Username"`
}

// callUser finds the pool and the user of a user-facing call that names a client
// and a user, and checks the call's SECRET_HASH.
func (e *Emulator) callUser(in *clientCallInput) (*userPool, *user, error) {
	p, cl, err := e.clientByID(in.ClientID)
	if err != nil {
		return nil, nil, err
	}
	u, err := clientUser(p, cl, in.Username, in.SecretHash)
	if err != nil {
		return nil, nil, err
	}
	return p, u, nil
}

// clientUser finds the user a call names for client cl, by username, alias or sub,
// and checks the SECRET_HASH, which may be computed over the name given or over
// the username.
func clientUser(p *userPool, cl *appClient, name, secretHash string) (*user, error) {
	u := p.findUser(name)
	if u == nil {
		return nil, userNotFound(cl)
	}
	if err := checkSecretHash(cl, secretHash, name, u.Username); err != nil {
		return nil, err
	}
	return u, nil
}

// clientByID finds an app client in any pool (user-facing calls name no pool).
func (e *Emulator) clientByID(id string) (*userPool, *appClient, error) {
	if id == "" {
		return nil, nil, errInvalidParameter("1 validation error detected: Value null at 'clientId' failed to satisfy constraint: Member must not be null")
	}
	for _, p := range e.st.Pools {
		if c := p.Clients[id]; c != nil {
			return p, c, nil
		}
	}
	return nil, nil, newErr("ResourceNotFoundException", "User pool client %s does not exist.", clip(id))
}

// userNotFound answers for a missing user the way the client's
// PreventUserExistenceErrors setting says.
func userNotFound(c *appClient) error {
	if c.PreventUserExistence == "ENABLED" {
		return errBadCredentials()
	}
	return errUserNotFound()
}

type signUpInput struct {
	clientCallInput
	Password       string      `json:"Password"`
	UserAttributes []attribute `json:"UserAttributes"`
}

func (e *Emulator) opSignUp(c *call, in *signUpInput) (any, error) {
	p, cl, err := e.clientByID(in.ClientID)
	if err != nil {
		return nil, err
	}
	if err := checkSecretHash(cl, in.SecretHash, in.Username); err != nil {
		return nil, err
	}
	passwordless := in.Password == "" && passwordlessSignUp(p, cl, in.UserAttributes)
	if !passwordless {
		if err := checkPassword(p, in.Password); err != nil {
			return nil, err
		}
	}
	u, err := e.newUser(p, in.Username, in.UserAttributes, c.now)
	if err != nil {
		if ae, ok := err.(*Error); ok && ae.Name == "UsernameExistsException" {
			// SignUp words it differently from AdminCreateUser.
			return nil, newErr("UsernameExistsException", "User already exists")
		}
		return nil, err
	}
	u.Status = "UNCONFIRMED"
	if !passwordless {
		if err := e.setPassword(p, u, in.Password); err != nil {
			return nil, err
		}
	}
	// PreSignUp may refuse the user (who is then removed) or confirm it.
	u, confirmed, err := e.signUpTrigger(c, p, u, "SignUp", in.UserAttributes)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"UserConfirmed": confirmed, "UserSub": u.Sub}
	if confirmed {
		// Confirmed at once (PreSignUp): the Session signs in with USER_AUTH.
		out["Session"] = e.autoSignInSession(c, p, cl, u)
		return out, nil
	}
	out["Session"] = e.newSession(&challengeSession{PoolID: p.ID, ClientID: cl.ID, Username: u.Username, Challenge: "SIGN_UP"}, c.now)
	d, err := e.sendVerification(c, p, u, "SIGN_UP")
	if err != nil {
		return nil, err
	}
	if d != nil {
		out["CodeDeliveryDetails"] = d
	}
	return out, nil
}

// passwordlessSignUp reports whether a SignUp without a password may create a
// user who has none, as Cognito allows when passwordless sign-in is active in
// the pool and the client (USER_AUTH with EMAIL_OTP or SMS_OTP) and the user
// gives an address the pool verifies automatically for an allowed factor. Such a
// user signs in with one-time codes only.
func passwordlessSignUp(p *userPool, cl *appClient, attrs []attribute) bool {
	if !cl.allows("ALLOW_USER_AUTH") {
		return false
	}
	ff := p.firstFactors()
	for _, a := range attrs {
		if a.Value == "" {
			continue
		}
		switch a.Name {
		case "email":
			if contains(ff, "EMAIL_OTP") && contains(p.AutoVerifiedAttributes, "email") {
				return true
			}
		case "phone_number":
			if contains(ff, "SMS_OTP") && contains(p.AutoVerifiedAttributes, "phone_number") {
				return true
			}
		}
	}
	return false
}

// sendVerification sends a sign-up code when the pool verifies an address the user
// has; without AutoVerifiedAttributes Cognito sends nothing and an admin confirms.
func (e *Emulator) sendVerification(c *call, p *userPool, u *user, kind string) (map[string]string, error) {
	medium := ""
	switch {
	case contains(p.AutoVerifiedAttributes, "email") && u.Attributes["email"] != "":
		medium = "EMAIL"
	case contains(p.AutoVerifiedAttributes, "phone_number") && u.Attributes["phone_number"] != "":
		medium = "SMS"
	default:
		return nil, nil
	}
	code := e.randomDigits(6)
	u.SignUpCode = &pendingCode{Code: code, Expires: c.now.Add(24 * time.Hour)}
	e.dirty = true
	return e.send(c, p, u, kind, code, medium)
}

func checkCode(pc *pendingCode, given string, now time.Time) error {
	if pc == nil || subtle.ConstantTimeCompare([]byte(pc.Code), []byte(given)) != 1 {
		return errCodeMismatch()
	}
	if now.After(pc.Expires) {
		return newErr("ExpiredCodeException", "Invalid code provided, please request a code again.")
	}
	return nil
}

type confirmSignUpInput struct {
	clientCallInput
	ConfirmationCode string `json:"ConfirmationCode"`
	Session          string `json:"Session"` // SignUp's
}

func (e *Emulator) opConfirmSignUp(c *call, in *confirmSignUpInput) (any, error) {
	p, u, err := e.callUser(&in.clientCallInput)
	if err != nil {
		return nil, err
	}
	_, cl, _ := e.clientByID(in.ClientID)
	if in.Session != "" {
		// SignUp's Session: one of another user or client is refused; an
		// expired one is no reason to refuse a right code.
		if s := e.sessions[in.Session]; s != nil && (s.Challenge != "SIGN_UP" || s.PoolID != p.ID || s.ClientID != cl.ID || s.Username != u.Username) {
			return nil, errNotAuthorized("Invalid session for the user.")
		}
	}
	if u.Status != "UNCONFIRMED" {
		return nil, errNotAuthorized("User cannot be confirmed. Current status is " + u.Status)
	}
	if err := e.redeem(u.SignUpCode, in.ConfirmationCode, c.now); err != nil {
		return nil, err
	}
	u.Status = "CONFIRMED"
	u.SignUpCode = nil
	if msgs := e.messagesFor(p, u, "SIGN_UP"); len(msgs) > 0 {
		attr := "email"
		if msgs[len(msgs)-1].Medium == "SMS" {
			attr = "phone_number"
		}
		u.Attributes[attr+"_verified"] = "true"
	}
	u.Modified = c.now
	e.dirty = true
	if err := e.postConfirmation(c, p, u, "ConfirmSignUp"); err != nil {
		return nil, err
	}
	// The Session signs the user in with InitiateAuth USER_AUTH (Amplify's
	// autoSignIn); it is issued whatever the client's flows, as Cognito does.
	return map[string]any{"Session": e.autoSignInSession(c, p, cl, u)}, nil
}

func (e *Emulator) messagesFor(p *userPool, u *user, kind string) []Message {
	var out []Message
	for _, m := range e.messages {
		if m.PoolID == p.ID && m.Username == u.Username && m.Kind == kind {
			out = append(out, m)
		}
	}
	return out
}

func (e *Emulator) opResendConfirmationCode(c *call, in *clientCallInput) (any, error) {
	p, u, err := e.callUser(in)
	if err != nil {
		return nil, err
	}
	if u.Status != "UNCONFIRMED" {
		return nil, errInvalidParameter("User is already confirmed.")
	}
	d, err := e.sendVerification(c, p, u, "SIGN_UP")
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, errInvalidParameter("Auto verification not turned on.")
	}
	return map[string]any{"CodeDeliveryDetails": d}, nil
}

func (e *Emulator) opForgotPassword(c *call, in *clientCallInput) (any, error) {
	p, cl, err := e.clientByID(in.ClientID)
	if err != nil {
		return nil, err
	}
	u := p.findUser(in.Username)
	if u == nil && in.Username != "" && p.triggerARN(trigUserMigration) != "" {
		if err := checkSecretHash(cl, in.SecretHash, in.Username); err != nil {
			return nil, err
		}
		var err error
		if u, err = e.migrateUser(c, p, cl, in.Username, "", "ForgotPassword"); err != nil {
			return nil, err
		}
	}
	if u == nil {
		if cl.PreventUserExistence == "ENABLED" {
			return map[string]any{"CodeDeliveryDetails": map[string]string{"Destination": "***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}}, nil
		}
		return nil, errUserNotFound()
	}
	if err := checkSecretHash(cl, in.SecretHash, in.Username, u.Username); err != nil {
		return nil, err
	}
	if !u.Enabled {
		return nil, errNotAuthorized("User is disabled.")
	}
	if u.Attributes["email_verified"] != "true" && u.Attributes["phone_number_verified"] != "true" {
		return nil, newErr("InvalidParameterException", "Cannot reset password for the user as there is no registered/verified email or phone_number")
	}
	code := e.randomDigits(6)
	u.ResetCode = &pendingCode{Code: code, Expires: c.now.Add(time.Hour)}
	medium := "EMAIL"
	if u.Attributes["email_verified"] != "true" {
		medium = "SMS"
	}
	e.dirty = true
	d, err := e.send(c, p, u, "FORGOT_PASSWORD", code, medium)
	if err != nil {
		return nil, err
	}
	return map[string]any{"CodeDeliveryDetails": d}, nil
}

type confirmForgotPasswordInput struct {
	clientCallInput
	ConfirmationCode string `json:"ConfirmationCode"`
	Password         string `json:"Password"`
}

func (e *Emulator) opConfirmForgotPassword(c *call, in *confirmForgotPasswordInput) (any, error) {
	p, u, err := e.callUser(&in.clientCallInput)
	if err != nil {
		return nil, err
	}
	if err := e.redeem(u.ResetCode, in.ConfirmationCode, c.now); err != nil {
		return nil, err
	}
	if err := checkPassword(p, in.Password); err != nil {
		return nil, err
	}
	if err := e.setPassword(p, u, in.Password); err != nil {
		return nil, err
	}
	u.ResetCode = nil
	if u.Status == "RESET_REQUIRED" || u.Status == "FORCE_CHANGE_PASSWORD" {
		u.Status = "CONFIRMED"
	}
	u.Modified = c.now
	return nil, e.postConfirmation(c, p, u, "ConfirmForgotPassword")
}

type accessTokenInput struct {
	AccessToken string `json:"AccessToken"`
}

type changePasswordInput struct {
	accessTokenInput
	PreviousPassword string `json:"PreviousPassword"`
	ProposedPassword string `json:"ProposedPassword"`
}

func (e *Emulator) opChangePassword(c *call, in *changePasswordInput) (any, error) {
	p, u, _, err := e.authenticate(in.AccessToken, c.now)
	if err != nil {
		return nil, err
	}
	if !passwordMatches(p, u, in.PreviousPassword) {
		return nil, errBadCredentials()
	}
	if err := checkPassword(p, in.ProposedPassword); err != nil {
		return nil, err
	}
	if err := e.setPassword(p, u, in.ProposedPassword); err != nil {
		return nil, err
	}
	u.Modified = c.now
	return nil, nil
}

func (e *Emulator) opGetUser(c *call, in *accessTokenInput) (any, error) {
	_, u, _, err := e.authenticate(in.AccessToken, c.now)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"Username": u.Username, "UserAttributes": u.attributeList()}
	addMFASettings(out, u)
	return out, nil
}

type updateUserAttributesInput struct {
	accessTokenInput
	UserAttributes []attribute `json:"UserAttributes"`
}

func (e *Emulator) opUpdateUserAttributes(c *call, in *updateUserAttributesInput) (any, error) {
	p, u, cl, err := e.authenticate(in.AccessToken, c.now)
	if err != nil {
		return nil, err
	}
	if err := checkAttributes(in.UserAttributes); err != nil {
		return nil, err
	}
	if err := checkSelfServiceWrite(p.Clients[cl.ClientID], in.UserAttributes); err != nil {
		return nil, err
	}
	apply, pending := holdPending(p, u, in.UserAttributes)
	u.applyAttributes(apply)
	u.Modified = c.now
	e.dirty = true
	var deliveries []map[string]string
	for _, a := range in.UserAttributes {
		if verifiable(a.Name) && (contains(pending, a.Name) || contains(p.AutoVerifiedAttributes, a.Name)) {
			d, err := e.sendAttributeCode(c, p, u, a.Name)
			if err != nil {
				return nil, err
			}
			deliveries = append(deliveries, d)
		}
	}
	out := map[string]any{}
	if len(deliveries) > 0 {
		out["CodeDeliveryDetailsList"] = deliveries
	}
	return out, nil
}

// checkSelfServiceWrite refuses what a user may not write with an access
// token: an attribute the client may not write, and the verified flags.
func checkSelfServiceWrite(client *appClient, attrs []attribute) error {
	if client != nil && len(client.WriteAttributes) > 0 {
		for _, a := range attrs {
			if !contains(client.WriteAttributes, a.Name) {
				return errNotAuthorized("A client attempted to write unauthorized attribute")
			}
		}
	}
	for _, a := range attrs {
		if a.Name == "email_verified" || a.Name == "phone_number_verified" {
			return errInvalidParameter("Cannot modify %s with an access token.", a.Name)
		}
	}
	return nil
}

func (e *Emulator) opDeleteUser(c *call, in *accessTokenInput) (any, error) {
	p, u, _, err := e.authenticate(in.AccessToken, c.now)
	if err != nil {
		return nil, err
	}
	e.deleteUser(p, u)
	return nil, nil
}

func (e *Emulator) opGlobalSignOut(c *call, in *accessTokenInput) (any, error) {
	p, u, _, err := e.authenticate(in.AccessToken, c.now)
	if err != nil {
		return nil, err
	}
	e.revokeUser(p, u.Username)
	return nil, nil
}
