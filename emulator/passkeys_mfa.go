package emulator

// Passkeys as MFA, as Cognito documents them:
//
//   - WebAuthnConfiguration.FactorConfiguration MULTI_FACTOR_WITH_USER_VERIFICATION:
//     "passkey authentication with user verification satisfies MFA requirements";
//     SINGLE_FACTOR (the default): a passkey is a single factor.
//   - a user's WebAuthnMfaSettings (SetUserMFAPreference, AdminSetUserMFAPreference):
//     "When activated, the user's passkey authentication requires user verification,
//     and passkey sign-in is available when MFA is required. The user must also
//     have at least one other MFA method such as SMS, TOTP, or email activated."
//
// So a pool whose MFA is ON offers WEB_AUTHN only when a passkey counts as MFA,
// and then (and whenever the user turned passkey MFA on) the assertion must carry
// the authenticator's user-verified flag.

// passkeyCountsAsMFA tells whether u's passkey sign-in satisfies MFA in p.
func passkeyCountsAsMFA(p *userPool, u *user) bool {
	return u.MFA.WebAuthnMFA || (p.WebAuthn != nil && p.WebAuthn.FactorConfiguration == "MULTI_FACTOR_WITH_USER_VERIFICATION")
}

// userHasMFA tells whether u has any MFA method turned on.
func userHasMFA(u *user) bool {
	return u.MFA.TOTPEnabled || u.MFA.SMSEnabled || u.MFA.EmailEnabled
}

// signInVerification is the userVerification a passkey sign-in of u asks for
// and enforces: "required" when the pool requires it, when the user turned
// passkey MFA on, or when the sign-in needs MFA and the passkey stands for it.
func signInVerification(p *userPool, u *user) string {
	mfaNeeded := p.MFA == "ON" || (p.MFA == "OPTIONAL" && userHasMFA(u))
	if p.userVerification() == "required" || u.MFA.WebAuthnMFA || (mfaNeeded && passkeyCountsAsMFA(p, u)) {
		return "required"
	}
	return p.userVerification()
}

// applyWebAuthnMFA applies WebAuthnMfaSettings to next (the user's MFA settings
// being changed); a left-out Enabled is false, as for the other methods.
func applyWebAuthnMFA(next *userMFA, s *mfaSetting) error {
	if s == nil {
		return nil
	}
	if s.PreferredMfa != nil && *s.PreferredMfa {
		return errInvalidParameter("WebAuthnMfaSettings has no PreferredMfa: passkey MFA applies only when a passkey is the first factor.")
	}
	on := s.Enabled != nil && *s.Enabled
	if on && !userHasMFA(&user{MFA: *next}) {
		return errInvalidParameter("Passkey MFA needs at least one other MFA method (SMS, TOTP or email) activated for the user.")
	}
	next.WebAuthnMFA = on
	return nil
}

// dropLoneWebAuthnMFA turns passkey MFA off once no other method is on, so that
// it never stands alone (the lockout Cognito's rule prevents).
func dropLoneWebAuthnMFA(next *userMFA) {
	if !userHasMFA(&user{MFA: *next}) {
		next.WebAuthnMFA = false
	}
}
