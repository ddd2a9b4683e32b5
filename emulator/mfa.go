package emulator

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

const totpStep = 30 * time.Second

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// TOTP returns the RFC 6238 code (SHA-1, 6 digits, 30 s) of a base32 secret as
// AssociateSoftwareToken hands it out, at time t: what an authenticator app shows.
func TOTP(secret string, t time.Time) (string, error) {
	key, err := b32.DecodeString(strings.ToUpper(strings.TrimRight(secret, "=")))
	if err != nil {
		return "", fmt.Errorf("emulator: TOTP secret is not base32: %w", err)
	}
	return totpAt(key, t.Unix()/int64(totpStep/time.Second)), nil
}

func totpAt(key []byte, step int64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", v%1_000_000)
}

// checkTOTP accepts the code of the current step or one step either side (clock
// skew), and never a step at or before the last one accepted (replay).
func checkTOTP(secret, code string, now time.Time, last int64) (int64, bool) {
	key, err := b32.DecodeString(secret)
	if err != nil || len(code) != 6 {
		return 0, false
	}
	cur := now.Unix() / int64(totpStep/time.Second)
	for _, step := range []int64{cur, cur - 1, cur + 1} {
		if step <= last {
			continue
		}
		if subtle.ConstantTimeCompare([]byte(totpAt(key, step)), []byte(code)) == 1 {
			return step, true
		}
	}
	return 0, false
}

// mfaFactors lists the factors u can be challenged with in pool p.
func mfaFactors(p *userPool, u *user) []string {
	var out []string
	if p.SoftwareTokenMFA && u.MFA.TOTPEnabled && u.MFA.TOTPSecret != "" {
		out = append(out, "SOFTWARE_TOKEN_MFA")
	}
	if p.SMSMFA && u.Attributes["phone_number"] != "" && (u.MFA.SMSEnabled || (p.MFA == "ON" && !u.MFA.TOTPEnabled && !u.MFA.EmailEnabled)) {
		out = append(out, "SMS_MFA")
	}
	if p.EmailMFA && u.Attributes["email"] != "" && u.MFA.EmailEnabled {
		out = append(out, "EMAIL_OTP")
	}
	return out
}

// mfaStage returns the MFA challenge the sign-in needs, or nil when none.
func (e *Emulator) mfaStage(c *call, p *userPool, cl *appClient, u *user, deviceKey string) (*authResponse, error) {
	if p.MFA == "OFF" {
		return nil, nil
	}
	factors := mfaFactors(p, u)
	if len(factors) == 0 {
		if p.MFA != "ON" {
			return nil, nil
		}
		if !p.SoftwareTokenMFA {
			return nil, errNotAuthorized("User has no MFA factor configured and the pool requires MFA.")
		}
		s := &challengeSession{PoolID: p.ID, ClientID: cl.ID, Username: u.Username, Challenge: "MFA_SETUP", DeviceKey: deviceKey}
		return &authResponse{
			ChallengeName:       "MFA_SETUP",
			ChallengeParameters: map[string]string{"MFAS_CAN_SETUP": `["SOFTWARE_TOKEN_MFA"]`, "USER_ID_FOR_SRP": u.Username},
			Session:             e.newSession(s, c.now),
		}, nil
	}
	choice := ""
	switch {
	case len(factors) == 1:
		choice = factors[0]
	case contains(factors, u.MFA.Preferred):
		choice = u.MFA.Preferred
	default:
		list, _ := json.Marshal(factors)
		s := &challengeSession{PoolID: p.ID, ClientID: cl.ID, Username: u.Username, Challenge: "SELECT_MFA_TYPE", DeviceKey: deviceKey}
		return &authResponse{
			ChallengeName:       "SELECT_MFA_TYPE",
			ChallengeParameters: map[string]string{"MFAS_CAN_CHOOSE": string(list), "USER_ID_FOR_SRP": u.Username},
			Session:             e.newSession(s, c.now),
		}, nil
	}
	return e.mfaChallenge(c, p, cl, u, choice, deviceKey)
}

// mfaChallenge issues one MFA challenge, sending the code for SMS and e-mail.
func (e *Emulator) mfaChallenge(c *call, p *userPool, cl *appClient, u *user, name, deviceKey string) (*authResponse, error) {
	s := &challengeSession{PoolID: p.ID, ClientID: cl.ID, Username: u.Username, Challenge: name, DeviceKey: deviceKey}
	params := map[string]string{"USER_ID_FOR_SRP": u.Username}
	switch name {
	case "SMS_MFA", "EMAIL_OTP":
		medium := "SMS"
		if name == "EMAIL_OTP" {
			medium = "EMAIL"
		}
		s.code = e.randomDigits(6)
		d, err := e.send(c, p, u, name, s.code, medium)
		if err != nil {
			return nil, err
		}
		params["CODE_DELIVERY_DELIVERY_MEDIUM"] = d["DeliveryMedium"]
		params["CODE_DELIVERY_DESTINATION"] = d["Destination"]
	case "SOFTWARE_TOKEN_MFA":
		params["FRIENDLY_DEVICE_NAME"] = "TOTP device"
	}
	return &authResponse{ChallengeName: name, ChallengeParameters: params, Session: e.newSession(s, c.now)}, nil
}

func (e *Emulator) checkMFACode(c *call, u *user, s *challengeSession, name string, cr map[string]string) error {
	switch name {
	case "SOFTWARE_TOKEN_MFA":
		step, ok := checkTOTP(u.MFA.TOTPSecret, cr["SOFTWARE_TOKEN_MFA_CODE"], c.now, u.MFA.LastTOTPStep)
		if !ok {
			return errMFACodeMismatch()
		}
		u.MFA.LastTOTPStep = step
		e.dirty = true
	case "SMS_MFA":
		if s.code == "" || subtle.ConstantTimeCompare([]byte(s.code), []byte(cr["SMS_MFA_CODE"])) != 1 {
			return errMFACodeMismatch()
		}
	case "EMAIL_OTP":
		if s.code == "" || subtle.ConstantTimeCompare([]byte(s.code), []byte(cr["EMAIL_OTP_CODE"])) != 1 {
			return errMFACodeMismatch()
		}
	}
	return nil
}

func (e *Emulator) answerSelectMFA(c *call, p *userPool, cl *appClient, u *user, s *challengeSession, answer string) (any, error) {
	if !contains(mfaFactors(p, u), answer) {
		return nil, errInvalidParameter("Invalid ANSWER: %s", clip(answer))
	}
	return e.mfaChallenge(c, p, cl, u, answer, s.DeviceKey)
}

// mfaSubject is who AssociateSoftwareToken / VerifySoftwareToken act for: the owner
// of an access token, or the user of an MFA_SETUP session.
func (e *Emulator) mfaSubject(c *call, accessToken, session string) (*userPool, *user, *challengeSession, error) {
	if accessToken != "" {
		p, u, _, err := e.authenticate(accessToken, c.now)
		return p, u, nil, err
	}
	s := e.sessions[session]
	if session == "" || s == nil || s.Challenge != "MFA_SETUP" {
		return nil, nil, nil, errNotAuthorized("Invalid session for the user.")
	}
	if s.Used {
		return nil, nil, nil, errInvalidSession(false)
	}
	if c.now.After(s.Expires) {
		return nil, nil, nil, errInvalidSession(true)
	}
	p := e.st.Pools[s.PoolID]
	if p == nil {
		return nil, nil, nil, errUserNotFound()
	}
	u := p.Users[p.userKey(s.Username)]
	if u == nil {
		return nil, nil, nil, errUserNotFound()
	}
	s.Used = true
	return p, u, s, nil
}

// nextSetupSession continues an MFA_SETUP flow with a fresh single-use session.
func (e *Emulator) nextSetupSession(c *call, s *challengeSession) string {
	if s == nil {
		return ""
	}
	next := *s
	next.Used = false
	return e.newSession(&next, c.now)
}

type associateSoftwareTokenInput struct {
	AccessToken string `json:"AccessToken"`
	Session     string `json:"Session"`
}

func (e *Emulator) opAssociateSoftwareToken(c *call, in *associateSoftwareTokenInput) (any, error) {
	p, u, s, err := e.mfaSubject(c, in.AccessToken, in.Session)
	if err != nil {
		return nil, err
	}
	if !p.SoftwareTokenMFA {
		return nil, newErr("SoftwareTokenMFANotFoundException", "Software token MFA is not enabled for the user pool.")
	}
	secret := b32.EncodeToString(e.randomBytes(20))
	u.MFA.PendingTOTPSecret = secret
	e.dirty = true
	out := map[string]any{"SecretCode": secret}
	if tok := e.nextSetupSession(c, s); tok != "" {
		out["Session"] = tok
	}
	return out, nil
}

type verifySoftwareTokenInput struct {
	AccessToken        string `json:"AccessToken"`
	Session            string `json:"Session"`
	UserCode           string `json:"UserCode"`
	FriendlyDeviceName string `json:"FriendlyDeviceName"`
}

func (e *Emulator) opVerifySoftwareToken(c *call, in *verifySoftwareTokenInput) (any, error) {
	_, u, s, err := e.mfaSubject(c, in.AccessToken, in.Session)
	if err != nil {
		return nil, err
	}
	if u.MFA.PendingTOTPSecret == "" {
		return nil, newErr("InvalidUserPoolConfigurationException", "Software token is not associated with the user; call AssociateSoftwareToken first.")
	}
	step, ok := checkTOTP(u.MFA.PendingTOTPSecret, in.UserCode, c.now, 0)
	if !ok {
		return nil, newErr("EnableSoftwareTokenMFAException", "Code mismatch and fail enable Software Token MFA")
	}
	u.MFA.TOTPSecret = u.MFA.PendingTOTPSecret
	u.MFA.PendingTOTPSecret = ""
	u.MFA.TOTPEnabled = true
	u.MFA.LastTOTPStep = step
	if u.MFA.Preferred == "" {
		u.MFA.Preferred = "SOFTWARE_TOKEN_MFA"
	}
	e.dirty = true
	out := map[string]any{"Status": "SUCCESS"}
	if tok := e.nextSetupSession(c, s); tok != "" {
		out["Session"] = tok
	}
	return out, nil
}

type mfaSetting struct {
	Enabled      *bool `json:"Enabled"`
	PreferredMfa *bool `json:"PreferredMfa"`
}

type mfaPreferenceInput struct {
	SMSMfaSettings           *mfaSetting `json:"SMSMfaSettings"`
	SoftwareTokenMfaSettings *mfaSetting `json:"SoftwareTokenMfaSettings"`
	EmailMfaSettings         *mfaSetting `json:"EmailMfaSettings"`
	WebAuthnMfaSettings      *mfaSetting `json:"WebAuthnMfaSettings"` // passkeys_mfa.go
}

func (e *Emulator) applyMFAPreference(u *user, in mfaPreferenceInput) error {
	next := u.MFA
	apply := func(s *mfaSetting, name string, enabled *bool) {
		if s == nil {
			return
		}
		// A member left out is false, as in Cognito: the AWS SDKs leave out
		// a false bool (Go's SDK sends {} to disable a method).
		*enabled = s.Enabled != nil && *s.Enabled
		if !*enabled && next.Preferred == name {
			next.Preferred = ""
		}
		if s.PreferredMfa != nil && *s.PreferredMfa {
			next.Preferred = name
		} else if next.Preferred == name {
			next.Preferred = ""
		}
	}
	apply(in.SoftwareTokenMfaSettings, "SOFTWARE_TOKEN_MFA", &next.TOTPEnabled)
	apply(in.SMSMfaSettings, "SMS_MFA", &next.SMSEnabled)
	apply(in.EmailMfaSettings, "EMAIL_OTP", &next.EmailEnabled)
	if next.TOTPEnabled && next.TOTPSecret == "" {
		return errInvalidParameter("User has not verified software token mfa")
	}
	if next.SMSEnabled && u.Attributes["phone_number"] == "" {
		return errInvalidParameter("User does not have a phone number.")
	}
	if next.EmailEnabled && u.Attributes["email"] == "" {
		return errInvalidParameter("User does not have an email address.")
	}
	if err := applyWebAuthnMFA(&next, in.WebAuthnMfaSettings); err != nil { // passkeys_mfa.go
		return err
	}
	dropLoneWebAuthnMFA(&next)
	u.MFA = next
	e.dirty = true
	return nil
}

type setUserMFAPreferenceInput struct {
	AccessToken string `json:"AccessToken"`
	mfaPreferenceInput
}

func (e *Emulator) opSetUserMFAPreference(c *call, in *setUserMFAPreferenceInput) (any, error) {
	_, u, _, err := e.authenticate(in.AccessToken, c.now)
	if err != nil {
		return nil, err
	}
	return nil, e.applyMFAPreference(u, in.mfaPreferenceInput)
}

type adminSetUserMFAPreferenceInput struct {
	adminUserInput
	mfaPreferenceInput
}

func (e *Emulator) opAdminSetUserMFAPreference(c *call, in *adminSetUserMFAPreferenceInput) (any, error) {
	_, u, err := e.poolUser(in.adminUserInput)
	if err != nil {
		return nil, err
	}
	return nil, e.applyMFAPreference(u, in.mfaPreferenceInput)
}

// addMFASettings adds GetUser's / AdminGetUser's MFA fields.
func addMFASettings(out map[string]any, u *user) {
	var list []string
	if u.MFA.SMSEnabled {
		list = append(list, "SMS_MFA")
	}
	if u.MFA.TOTPEnabled {
		list = append(list, "SOFTWARE_TOKEN_MFA")
	}
	if u.MFA.EmailEnabled {
		list = append(list, "EMAIL_OTP")
	}
	if len(list) > 0 {
		out["UserMFASettingList"] = list
	}
	if u.MFA.Preferred != "" {
		out["PreferredMfaSetting"] = u.MFA.Preferred
	}
}

type userSettingsInput struct {
	adminUserInput
	AccessToken string            `json:"AccessToken"`
	MFAOptions  []json.RawMessage `json:"MFAOptions"`
}

func setMFAOptions(u *user, opts []json.RawMessage) error {
	if opts == nil {
		return errInvalidParameter("1 validation error detected: Value null at 'mFAOptions' failed to satisfy constraint: Member must not be null")
	}
	u.MFAOptions = opts
	return nil
}

func (e *Emulator) opSetUserSettings(c *call, in *userSettingsInput) (any, error) {
	_, u, _, err := e.authenticate(in.AccessToken, c.now)
	if err != nil {
		return nil, err
	}
	if err := setMFAOptions(u, in.MFAOptions); err != nil {
		return nil, err
	}
	e.dirty = true
	return nil, nil
}

func (e *Emulator) opAdminSetUserSettings(c *call, in *userSettingsInput) (any, error) {
	_, u, err := e.poolUser(in.adminUserInput)
	if err != nil {
		return nil, err
	}
	if err := setMFAOptions(u, in.MFAOptions); err != nil {
		return nil, err
	}
	e.dirty = true
	return nil, nil
}
