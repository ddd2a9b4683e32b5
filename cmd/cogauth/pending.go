package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/internal/config"
	"github.com/cogauth/cogauth/jwt"
	"github.com/cogauth/cogauth/store"
)

// Pending steps. A command that sends a code (or shows a TOTP secret) and has no
// terminal to read the answer from keeps the step in the profile's store, says
// what was sent and the exact command that finishes it, and exits 0; the same
// command with --code (COGAUTH_CODE, or --code - for standard input) finishes it.
// One pending step per command and profile: a newer one replaces it. A sign-in's
// step lives as long as Cognito's session (3 minutes); a code's as long as the
// code. A wrong code keeps the step; an expired one is removed and says so.

// The commands that keep pending steps (pendingStep.Command).
const (
	pendLogin        = "login"
	pendMFASetup     = "mfa setup totp"
	pendReset        = "password reset"
	pendVerify       = "attributes verify"
	pendConfirm      = "confirm"
	challengeSession = 3 * time.Minute // Cognito's AuthSessionValidity default
	resetCodeLife    = time.Hour       // ForgotPassword's code
	confirmCodeLife  = 24 * time.Hour  // SignUp's and attribute verification's codes
	maxPendingRecord = 64 << 10
	// pendingForgetAfter is how long past its expiry a step stays in the store,
	// to be reported as expired.
	pendingForgetAfter = 24 * time.Hour
)

// pendingStep is what the profile's store keeps between the two commands.
type pendingStep struct {
	Command string `json:"command"`
	// Step is Cognito's name for it: a challenge (EMAIL_OTP, SMS_MFA,
	// SOFTWARE_TOKEN_MFA, NEW_PASSWORD_REQUIRED, CUSTOM_CHALLENGE, MFA_SETUP,
	// SMS_OTP) or FORGOT_PASSWORD, VERIFY_ATTRIBUTE, CONFIRM_SIGN_UP,
	// SOFTWARE_TOKEN_SETUP.
	Step        string    `json:"step"`
	Username    string    `json:"username,omitempty"`
	Destination string    `json:"destination,omitempty"` // masked, as the service gave it
	Medium      string    `json:"medium,omitempty"`
	Attribute   string    `json:"attribute,omitempty"`
	Created     time.Time `json:"created"`
	ExpiresAt   time.Time `json:"expiresAt"`
	// The sign-in's challenge (login), or SignUp's session (confirm): the
	// service's opaque handle, kept like the tokens, never printed.
	Challenge *pendingChallenge `json:"challenge,omitempty"`
	Session   string            `json:"session,omitempty"`
	// Login's settings for the rest of the sign-in.
	RememberDevice bool   `json:"rememberDevice,omitempty"`
	DeviceName     string `json:"deviceName,omitempty"`
	// Custom: the challenge's public parameters (the question), shown again.
	Question map[string]string `json:"question,omitempty"`
	// again: the step is shown again and nothing was sent now (not kept).
	again bool
}

type pendingChallenge struct {
	Name       string            `json:"name"`
	Username   string            `json:"username"`
	Parameters map[string]string `json:"parameters,omitempty"`
	Session    string            `json:"session"`
	Login      string            `json:"login,omitempty"`
}

func keepChallenge(ch *cognito.Challenge) *pendingChallenge {
	return &pendingChallenge{Name: ch.Name, Username: ch.Username, Parameters: ch.Parameters, Session: ch.Session.Reveal(), Login: ch.Login()}
}

func (pc *pendingChallenge) challenge() *cognito.Challenge {
	return cognito.ResumeChallenge(pc.Name, pc.Username, pc.Parameters, jwt.Secret(pc.Session), pc.Login)
}

// pendingKey is where the profile keeps the pending step of slot (a command, or
// "attributes verify email"): a profile record whose name (with ':') no profile
// can have.
func pendingKey(c *config.Config, slot string) store.Key {
	return store.Join(profileRecord, c.UserPoolID, c.ClientID, "pending:"+strings.ReplaceAll(slot, " ", "-"))
}

// pendings reads and writes the pending steps of one profile.
type pendings struct {
	s   store.Store
	cfg *config.Config
	now func() time.Time
}

func (a *app) pendings(ctx context.Context, c *config.Config) (*pendings, error) {
	if err := c.Require("user-pool-id", "client-id"); err != nil {
		return nil, err
	}
	s, err := a.profileStore(ctx, c)
	if err != nil {
		return nil, err
	}
	return &pendings{s: s, cfg: c, now: a.Clock.Now}, nil
}

// errPendingExpired: the pending step outlived Cognito's session or its code.
type errPendingExpired struct {
	p    *pendingStep
	next string
}

func (e *errPendingExpired) Error() string {
	return fmt.Sprintf("the pending %s step (%s) expired at %s: start again with %s", e.p.Command, stepWords(e.p.Step), e.p.ExpiresAt.UTC().Format(time.RFC3339), e.next)
}

// get returns slot's pending step, nil when there is none. An expired one is
// removed and reported as errPendingExpired, naming restart.
func (ps *pendings) get(ctx context.Context, slot, restart string) (*pendingStep, error) {
	e, err := ps.s.Get(ctx, pendingKey(ps.cfg, slot))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var p pendingStep
	if len(e.Data) > maxPendingRecord || json.Unmarshal(e.Data, &p) != nil || p.Command == "" {
		// Not a step this release can finish: drop it, as if none were kept.
		_ = ps.s.Delete(ctx, pendingKey(ps.cfg, slot), store.AnyVersion)
		return nil, nil
	}
	if !ps.now().Before(p.ExpiresAt) {
		_ = ps.s.Delete(ctx, pendingKey(ps.cfg, slot), store.AnyVersion)
		return nil, &errPendingExpired{p: &p, next: restart}
	}
	return &p, nil
}

// errMemoryKeepsNothing: --store memory ends with the command, so a step cannot
// wait there for the next one.
var errMemoryKeepsNothing = usagef("--store memory keeps nothing between commands, so the step cannot wait for a second one: finish on a terminal, give the answer up front, or use --store file")

// put keeps p in slot, replacing any older pending step there.
func (ps *pendings) put(ctx context.Context, slot string, p *pendingStep) error {
	if ps.cfg.Store == config.StoreMemory {
		return errMemoryKeepsNothing
	}
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	// The store forgets the step a day after it expired: until then a command
	// that finds it says it expired (not that nothing is pending).
	_, err = ps.s.Put(ctx, pendingKey(ps.cfg, slot), b, store.AnyVersion, p.ExpiresAt.Add(pendingForgetAfter))
	return err
}

// drop removes slot's pending step; none is no error.
func (ps *pendings) drop(ctx context.Context, slot string) error {
	err := ps.s.Delete(ctx, pendingKey(ps.cfg, slot), store.AnyVersion)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// pendingJSON is what a command that leaves a step pending prints under -o json.
type pendingJSON struct {
	Status      string    `json:"status"` // "pending"
	Profile     string    `json:"profile"`
	Command     string    `json:"command"`
	Step        string    `json:"step"`
	Username    string    `json:"username,omitempty"`
	Destination string    `json:"destination,omitempty"`
	Medium      string    `json:"medium,omitempty"`
	Attribute   string    `json:"attribute,omitempty"`
	ExpiresAt   time.Time `json:"expiresAt"`
	Next        string    `json:"next"`
	// Question is a custom challenge's public parameters.
	Question map[string]string `json:"question,omitempty"`
	// Secret and URI: the TOTP secret mfa setup totp was asked to show.
	Secret string `json:"secret,omitempty"`
	URI    string `json:"otpauthUri,omitempty"`
}

// stepWords names a step for people.
func stepWords(step string) string {
	switch step {
	case cognito.ChallengeEmailOTP:
		return "a code sent by e-mail"
	case cognito.ChallengeSMSOTP, cognito.ChallengeSMSMFA:
		return "a code sent by SMS"
	case cognito.ChallengeSoftwareTokenMFA:
		return "a code from the authenticator app"
	case cognito.ChallengeNewPasswordRequired:
		return "a new password"
	case cognito.ChallengeCustom:
		return "the answer to the pool's custom challenge"
	case cognito.ChallengeMFASetup, "SOFTWARE_TOKEN_SETUP":
		return "the first code of the authenticator app"
	case "FORGOT_PASSWORD":
		return "the reset code and a new password"
	case "VERIFY_ATTRIBUTE":
		return "the verification code"
	case "CONFIRM_SIGN_UP":
		return "the confirmation code"
	}
	return step
}

// finishCommand is the exact command line that finishes p for profile.
func finishCommand(profile string, p *pendingStep) string {
	base := "cogauth " + p.Command + " --profile " + profile
	switch {
	case p.Step == cognito.ChallengeNewPasswordRequired:
		if p.Challenge != nil {
			for _, a := range p.Challenge.challenge().RequiredAttributes() {
				base += " --attribute " + a + "=VALUE"
			}
		}
		return "COGAUTH_NEW_PASSWORD=… " + base + " (or --new-password-stdin)"
	case p.Step == cognito.ChallengeCustom:
		return base + " --answer ANSWER"
	case p.Command == pendVerify:
		return "cogauth attributes verify " + p.Attribute + " --profile " + profile + " --code CODE"
	case p.Command == pendReset:
		return base + " --code CODE --new-password-stdin (or COGAUTH_NEW_PASSWORD)"
	}
	return base + " --code CODE"
}

// reportPending says what was sent and what finishes it: one paragraph on
// stderr, or the pendingJSON object on stdout.
func reportPending(io IOStreams, output, profile string, p *pendingStep, now time.Time, secret, uri string) error {
	next := finishCommand(profile, p)
	if output == "json" {
		return writeJSON(io.Out, pendingJSON{Status: "pending", Profile: profile, Command: p.Command, Step: p.Step, Username: p.Username,
			Destination: p.Destination, Medium: p.Medium, Attribute: p.Attribute, ExpiresAt: p.ExpiresAt.UTC(), Next: next,
			Question: p.Question, Secret: secret, URI: uri})
	}
	var b strings.Builder
	switch {
	case p.Destination != "" && p.again:
		fmt.Fprintf(&b, "Pending: %s sent to %s earlier (nothing was sent now; --resend sends a new one).\n", codeKind(p), p.Destination)
	case p.Destination != "":
		fmt.Fprintf(&b, "Sent %s to %s.\n", codeKind(p), p.Destination)
	case p.Step == cognito.ChallengeNewPasswordRequired:
		b.WriteString("The user pool requires a new password for " + p.Username + ".\n")
	case p.Step == cognito.ChallengeCustom:
		b.WriteString("The pool asks a custom challenge:\n")
		for _, k := range sortedKeys(p.Question) {
			fmt.Fprintf(&b, "  %s: %s\n", k, sanitize(p.Question[k]))
		}
	case p.Step == cognito.ChallengeSoftwareTokenMFA:
		b.WriteString("The user pool asks for the code of " + p.Username + "'s authenticator app.\n")
	}
	fmt.Fprintf(&b, "Finish with: %s\n", next)
	layout := "15:04:05 UTC"
	if p.ExpiresAt.Sub(now) > 12*time.Hour {
		layout = "2006-01-02 15:04 UTC"
	}
	fmt.Fprintf(&b, "(pending until %s, %s)\n", p.ExpiresAt.UTC().Format(layout), untilWords(p.ExpiresAt, now))
	_, err := fmt.Fprint(io.ErrOut, b.String())
	return err
}

func codeKind(p *pendingStep) string {
	m := strings.ToLower(p.Medium)
	switch {
	case m == "email" || p.Step == cognito.ChallengeEmailOTP:
		return "a code by e-mail"
	case m == "sms" || p.Step == cognito.ChallengeSMSOTP || p.Step == cognito.ChallengeSMSMFA:
		return "a code by SMS"
	}
	return "a code"
}

func untilWords(t, now time.Time) string {
	d := t.Sub(now).Round(time.Minute)
	switch {
	case d <= time.Minute:
		return "in a minute"
	case d < time.Hour:
		return fmt.Sprintf("in %d minutes", int(d.Minutes()))
	case d < 2*time.Hour:
		return "in an hour"
	}
	return fmt.Sprintf("in %d hours", int(d.Hours()))
}

// codeAnswer resolves --code: "-" reads it from the first line of in; "" takes
// COGAUTH_CODE.
func codeAnswer(flag string, getenv func(string) string, in io.Reader) (string, error) {
	if flag == "-" {
		s, err := readLine(in)
		if err != nil {
			return "", usagef("--code -: no code on standard input")
		}
		flag = s
	}
	if flag == "" {
		flag = getenv("COGAUTH_CODE")
	}
	return strings.TrimSpace(flag), nil
}

// wrongCodeKept says that the code was refused and the step is still pending.
func wrongCodeKept(err error, next string) error {
	if errors.Is(err, cognito.ErrCodeMismatch) || errors.Is(err, cognito.ErrEnableSoftwareTokenMFA) {
		return &humanized{msg: "that code is wrong; the step is still pending: check the code and run " + next, err: err}
	}
	return err
}

// stepExpired reports whether err is Cognito saying the sign-in's session ended
// ("Invalid session for the user, session is expired.") or the code expired.
func stepExpired(err error) bool {
	var ce *cognito.Error
	if !errors.As(err, &ce) {
		return false
	}
	if ce.Name == "ExpiredCodeException" {
		return true
	}
	return ce.Name == "NotAuthorizedException" && strings.Contains(strings.ToLower(ce.Message), "session")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
