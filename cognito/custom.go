package cognito

import "sort"

// CUSTOM_AUTH (FlowCustom): the pool's DefineAuthChallenge, CreateAuthChallenge
// and VerifyAuthChallengeResponse Lambda triggers pose the challenges. SignIn with
// FlowCustom and no password starts the custom flow at once; with a password it
// starts with an SRP exchange (CUSTOM_WITH_SRP: SRP_A and CHALLENGE_NAME=SRP_A),
// and a PASSWORD_VERIFIER the pool asks for is answered here, as in USER_SRP_AUTH.
// Every CUSTOM_CHALLENGE comes back as a Challenge; answer it with Respond and
// Answer.Code (sent as ANSWER) until tokens come back. A wrong answer either brings
// the next challenge or, when the pool's function says so, ErrNotAuthorized.

// CustomParameters returns what the pool's CreateAuthChallenge function made
// public for a CUSTOM_CHALLENGE (its publicChallengeParameters), without the
// USERNAME the service adds. Nil for other challenges.
func (ch *Challenge) CustomParameters() map[string]string {
	if ch == nil || ch.Name != ChallengeCustom {
		return nil
	}
	out := make(map[string]string, len(ch.Parameters))
	for k, v := range ch.Parameters {
		if k != "USERNAME" {
			out[k] = v
		}
	}
	return out
}

// CustomParameterNames returns the names of CustomParameters in order, for
// showing them to a user.
func (ch *Challenge) CustomParameterNames() []string {
	p := ch.CustomParameters()
	names := make([]string, 0, len(p))
	for k := range p {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
