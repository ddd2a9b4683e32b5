// Package config resolves the CLI's settings: command-line flags first, then
// COGAUTH_* environment variables, then a named profile in
// $COGAUTH_HOME/config.toml, then an Amplify configuration file
// (amplify_outputs.json of Gen 2, or aws-exports style JSON). Each setting falls
// through on its own, so a profile can name the pool while a flag points at a local
// emulator.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Values is one layer of settings; an empty field means "not set here".
type Values struct {
	Region           string `toml:"region,omitempty"`
	UserPoolID       string `toml:"user_pool_id,omitempty"`
	ClientID         string `toml:"client_id,omitempty"`
	ClientSecret     string `toml:"client_secret,omitempty"`
	IdentityPoolID   string `toml:"identity_pool_id,omitempty"`
	Endpoint         string `toml:"endpoint,omitempty"`
	IdentityEndpoint string `toml:"identity_endpoint,omitempty"`
	// Domain is the user pool's hosted UI domain, as a URL
	// ("https://myapp.auth.us-east-1.amazoncognito.com", a custom domain, the
	// emulator's URL). A bare host name gets https://.
	Domain string `toml:"domain,omitempty"`
	// Scopes are the OAuth scopes `login --hosted-ui` asks for, separated by
	// commas or spaces; empty means all the app client allows.
	Scopes string `toml:"scopes,omitempty"`
	Store  string `toml:"store,omitempty"`
	// Timeout bounds each network step of a command (a Go duration: "30s",
	// "1m"); empty means DefaultTimeout.
	Timeout string `toml:"timeout,omitempty"`
	// RefreshOperation is how token refreshes go out: "auto" (the default),
	// "GetTokensFromRefreshToken" or "InitiateAuth" (REFRESH_TOKEN_AUTH, for
	// services such as moto that lack the former without saying so).
	RefreshOperation string `toml:"refresh_operation,omitempty"`
}

// Setting names one field of Values with its flag and environment variable, so that
// errors tell the user exactly what to set.
type Setting struct {
	Name string // words for messages, e.g. "user pool ID"
	Flag string // without dashes
	Env  string
	TOML string // key in a profile
	get  func(*Values) *string
}

// Settings lists every field of Values in display order.
func Settings() []Setting {
	return []Setting{
		{"region", "region", "COGAUTH_REGION", "region", func(v *Values) *string { return &v.Region }},
		{"user pool ID", "user-pool-id", "COGAUTH_USER_POOL_ID", "user_pool_id", func(v *Values) *string { return &v.UserPoolID }},
		{"app client ID", "client-id", "COGAUTH_CLIENT_ID", "client_id", func(v *Values) *string { return &v.ClientID }},
		{"app client secret", "client-secret", "COGAUTH_CLIENT_SECRET", "client_secret", func(v *Values) *string { return &v.ClientSecret }},
		{"identity pool ID", "identity-pool-id", "COGAUTH_IDENTITY_POOL_ID", "identity_pool_id", func(v *Values) *string { return &v.IdentityPoolID }},
		{"endpoint", "endpoint", "COGAUTH_ENDPOINT", "endpoint", func(v *Values) *string { return &v.Endpoint }},
		{"identity endpoint", "identity-endpoint", "COGAUTH_IDENTITY_ENDPOINT", "identity_endpoint", func(v *Values) *string { return &v.IdentityEndpoint }},
		{"hosted UI domain", "domain", "COGAUTH_DOMAIN", "domain", func(v *Values) *string { return &v.Domain }},
		{"OAuth scopes", "scopes", "COGAUTH_SCOPES", "scopes", func(v *Values) *string { return &v.Scopes }},
		{"session store", "store", "COGAUTH_STORE", "store", func(v *Values) *string { return &v.Store }},
		{"request timeout", "timeout", "COGAUTH_TIMEOUT", "timeout", func(v *Values) *string { return &v.Timeout }},
		{"refresh operation", "refresh-operation", "COGAUTH_REFRESH_OPERATION", "refresh_operation", func(v *Values) *string { return &v.RefreshOperation }},
	}
}

// Field returns a pointer to the field s names in v.
func (s Setting) Field(v *Values) *string { return s.get(v) }

// Source says where a resolved value came from.
type Source string

// The layers, highest precedence first.
const (
	FromFlag    Source = "flag"
	FromEnv     Source = "env"
	FromProfile Source = "profile"
	FromAmplify Source = "amplify"
	FromDefault Source = "default"
)

// Input is everything Resolve reads. Tests fill it in; the CLI takes it from the
// process.
type Input struct {
	Flags         Values // only the flags the user gave
	Profile       string // --profile, empty if not given
	AmplifyConfig string // --amplify-config, empty if not given
	Getenv        func(string) string
	WorkDir       string // where amplify_outputs.json is looked for
	UserHome      string // for the default $COGAUTH_HOME
}

// Config is the resolved configuration.
type Config struct {
	Values
	Profile string // the profile name in use (see File.DefaultName when none is chosen)
	// ProfileFound reports whether the profile exists in config.toml.
	ProfileFound bool
	Home         string // $COGAUTH_HOME
	// AmplifyFile is the Amplify configuration read, if any.
	AmplifyFile string
	// Sources maps a Setting's Flag name to where its value came from.
	Sources map[string]Source
}

// DefaultTimeout bounds a command's network step when no timeout is set.
const DefaultTimeout = 30 * time.Second

// MaxTimeout is the longest timeout accepted: a typo ("30m" for "30s") is fine,
// a number of hours is not a timeout.
const MaxTimeout = time.Hour

// DefaultProfile is the profile used when none is named.
const DefaultProfile = "default"

// Store kinds.
const (
	StoreKeyring = "keyring"
	StoreFile    = "file"
	StoreMemory  = "memory"
)

// AmplifyFileNames are looked for in the working directory, in this order, when no
// --amplify-config is given.
func AmplifyFileNames() []string {
	return []string{"amplify_outputs.json", "aws-exports.json", "amplifyconfiguration.json"}
}

// UsageError is a configuration the user must fix (exit code 2 in the CLI).
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Resolve layers flags over environment over profile over Amplify file.
func Resolve(in Input) (*Config, error) {
	getenv := in.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	c := &Config{Sources: map[string]Source{}}
	var err error
	if c.Home, err = homeOf(in, getenv); err != nil {
		return nil, err
	}
	prof, err := c.resolveProfile(in, getenv)
	if err != nil {
		return nil, err
	}
	amp, err := c.loadAmplify(in, getenv, prof.AmplifyConfig)
	if err != nil {
		return nil, err
	}
	c.layer(in, getenv, prof.Values, amp)
	c.settleDefaults(amp)
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// homeOf is COGAUTH_HOME, else $XDG_CONFIG_HOME/cogauth, else ~/.config/cogauth.
func homeOf(in Input, getenv func(string) string) (string, error) {
	if home := getenv("COGAUTH_HOME"); home != "" {
		return home, nil
	}
	base := getenv("XDG_CONFIG_HOME")
	if base == "" {
		if in.UserHome == "" {
			return "", errors.New("config: cannot find a home directory; set COGAUTH_HOME")
		}
		base = filepath.Join(in.UserHome, ".config")
	}
	return filepath.Join(base, "cogauth"), nil
}

// resolveProfile picks the profile (flag, environment, the file's default) and
// returns it from the configuration file.
func (c *Config) resolveProfile(in Input, getenv func(string) string) (Profile, error) {
	c.Profile = in.Profile
	explicitProfile := c.Profile != ""
	if c.Profile == "" {
		c.Profile = getenv("COGAUTH_PROFILE")
		explicitProfile = c.Profile != ""
	}
	f, err := LoadFile(ConfigPath(c.Home))
	if err != nil {
		return Profile{}, err
	}
	if c.Profile == "" {
		// The chosen default (profiles use), else the only profile, else "default".
		c.Profile = f.DefaultName()
	}
	if err := ValidateProfileName(c.Profile); err != nil {
		return Profile{}, err
	}
	prof, ok := f.Profiles[c.Profile]
	c.ProfileFound = ok
	if !ok && explicitProfile && c.Profile != DefaultProfile {
		return Profile{}, &UsageError{Msg: fmt.Sprintf("profile %q not found in %s (create it with: cogauth configure --profile %s)", c.Profile, ConfigPath(c.Home), c.Profile)}
	}
	return prof, nil
}

// loadAmplify reads the Amplify file named by flag, environment or profile, else
// the first file of AmplifyFileNames in the working directory that is one.
func (c *Config) loadAmplify(in Input, getenv func(string) string, profPath string) (Values, error) {
	var amp Values
	ampPath := in.AmplifyConfig
	if ampPath == "" {
		ampPath = getenv("COGAUTH_AMPLIFY_CONFIG")
	}
	if ampPath == "" {
		ampPath = profPath
	}
	if ampPath == "" {
		if in.WorkDir != "" {
			amp, c.AmplifyFile = findAmplify(in.WorkDir)
		}
		return amp, nil
	}
	if !filepath.IsAbs(ampPath) && in.WorkDir != "" {
		ampPath = filepath.Join(in.WorkDir, ampPath)
	}
	b, err := os.ReadFile(ampPath)
	if err != nil {
		return amp, fmt.Errorf("config: amplify configuration: %w", err)
	}
	if amp, err = ParseAmplify(b); err != nil {
		return amp, fmt.Errorf("config: %s: %w", ampPath, err)
	}
	c.AmplifyFile = ampPath
	return amp, nil
}

// findAmplify returns the first of AmplifyFileNames in dir that parses, and its path.
func findAmplify(dir string) (Values, string) {
	for _, name := range AmplifyFileNames() {
		p := filepath.Join(dir, name)
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// A file found by name only counts when it is one: a project's
		// unrelated JSON must not break every command.
		if v, err := ParseAmplify(b); err == nil {
			return v, p
		}
	}
	return Values{}, ""
}

// layer sets every setting from the first layer that has it: flag,
// environment, profile, Amplify file.
func (c *Config) layer(in Input, getenv func(string) string, prof, amp Values) {
	for _, s := range Settings() {
		layers := []struct {
			v   string
			src Source
		}{
			{*s.Field(&in.Flags), FromFlag},
			{getenv(s.Env), FromEnv},
			{*s.Field(&prof), FromProfile},
			{*s.Field(&amp), FromAmplify},
		}
		for _, l := range layers {
			if l.v != "" {
				*s.Field(&c.Values) = l.v
				c.Sources[s.Flag] = l.src
				break
			}
		}
	}
}

// settleDefaults derives the region, drops Amplify's domain and scopes when
// they belong to another pool or client, and defaults the store.
func (c *Config) settleDefaults(amp Values) {
	// A region not named by flag, environment or profile follows the user pool:
	// Amplify's region belongs to Amplify's pool, which a profile may have replaced.
	if src := c.Sources["region"]; src == "" || src == FromAmplify {
		if r := RegionOf(c.UserPoolID); r != "" {
			c.Region = r
			c.Sources["region"] = FromDefault
		}
	}
	// Amplify's hosted UI domain is its pool's, and its scopes its app client's.
	// With another pool or client named elsewhere they would send sign-ins and
	// refreshes to a domain that refuses this client's tokens.
	if c.Sources["domain"] == FromAmplify && c.UserPoolID != amp.UserPoolID {
		c.Domain = ""
		delete(c.Sources, "domain")
	}
	if c.Sources["scopes"] == FromAmplify && (c.UserPoolID != amp.UserPoolID || c.ClientID != amp.ClientID) {
		c.Scopes = ""
		delete(c.Sources, "scopes")
	}
	c.Domain = NormalizeDomain(c.Domain)
	if c.Store == "" {
		c.Store = StoreKeyring
		c.Sources["store"] = FromDefault
	}
}

// Validate checks the settings' forms (Resolve calls it; configure does before it
// writes a profile). An empty Store counts as the default keyring.
func (c *Config) Validate() error {
	switch c.Store {
	case "", StoreKeyring, StoreFile, StoreMemory:
	default:
		return &UsageError{Msg: fmt.Sprintf("unknown session store %q%s: use keyring, file or memory", c.Store, c.from("store"))}
	}
	if err := c.validateURLs(); err != nil {
		return err
	}
	if c.Timeout != "" {
		if _, err := ParseTimeout(c.Timeout); err != nil {
			return &UsageError{Msg: fmt.Sprintf("--timeout%s: %v", c.from("timeout"), err)}
		}
	}
	switch strings.ToLower(c.RefreshOperation) {
	case "", "auto", "gettokensfromrefreshtoken", "initiateauth", "refresh_token_auth":
	default:
		return &UsageError{Msg: fmt.Sprintf("unknown refresh operation %q: use auto, GetTokensFromRefreshToken or InitiateAuth", c.RefreshOperation)}
	}
	if c.UserPoolID != "" && RegionOf(c.UserPoolID) == "" {
		return &UsageError{Msg: fmt.Sprintf("user pool ID %q is not of the form REGION_ID", c.UserPoolID)}
	}
	return nil
}

// from is " (source)" for the setting flag, or "" when its source is unknown.
func (c *Config) from(flag string) string {
	if src := c.Sources[flag]; src != "" {
		return " (" + string(src) + ")"
	}
	return ""
}

// validateURLs checks the endpoint, identity endpoint and domain are http(s) URLs.
func (c *Config) validateURLs() error {
	for _, f := range []struct{ name, v string }{{"endpoint", c.Endpoint}, {"identity-endpoint", c.IdentityEndpoint}, {"domain", c.Domain}} {
		name, v := f.name, f.v
		if v == "" {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return &UsageError{Msg: fmt.Sprintf("--%s must be an http(s) URL, got %q", name, v)}
		}
	}
	return nil
}

// ParseTimeout reads a timeout setting: a Go duration ("30s", "1m30s") or a
// whole number of seconds, above zero and at most MaxTimeout.
func ParseTimeout(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	d, err := time.ParseDuration(s)
	if err != nil {
		n, nerr := strconv.ParseUint(s, 10, 32)
		if nerr != nil {
			return 0, fmt.Errorf("%q is not a duration (e.g. 30s, 2m)", s)
		}
		d = time.Duration(n) * time.Second
	}
	if d <= 0 || d > MaxTimeout {
		return 0, fmt.Errorf("%q is out of range: above 0 and at most %s", s, MaxTimeout)
	}
	return d, nil
}

// RequestTimeout is the resolved timeout (DefaultTimeout when none is set).
func (c *Config) RequestTimeout() time.Duration {
	if d, err := ParseTimeout(c.Timeout); err == nil {
		return d
	}
	return DefaultTimeout
}

// Require reports the first of the named settings (by flag name) that is empty, as a
// UsageError naming the flag, the environment variable and the other places it
// may come from.
func (c *Config) Require(flags ...string) error {
	for _, f := range flags {
		for _, s := range Settings() {
			if s.Flag != f || *s.Field(&c.Values) != "" {
				continue
			}
			return &UsageError{Msg: fmt.Sprintf("no %s: use --%s, set %s, or add it to profile %q (cogauth configure)", s.Name, s.Flag, s.Env, c.Profile)}
		}
	}
	return nil
}

// NormalizeDomain gives a hosted UI domain a scheme when it has none (Amplify
// writes bare host names: "myapp.auth.us-east-1.amazoncognito.com") and drops
// trailing slashes, so that the same domain is always spelt the same way.
func NormalizeDomain(d string) string {
	d = strings.TrimSpace(d)
	if d == "" {
		return ""
	}
	if !strings.Contains(d, "://") {
		d = "https://" + d
	}
	return strings.TrimRight(d, "/")
}

// ScopeList splits a Scopes setting ("openid,email" or "openid email").
func ScopeList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
}

// RegionOf returns the region a user or identity pool ID starts with
// ("us-east-1_AbC" and "us-east-1:uuid" both give "us-east-1"), or "".
func RegionOf(id string) string {
	i := strings.IndexAny(id, "_:")
	if i <= 0 {
		return ""
	}
	r := id[:i]
	// Regions are lower-case letters, digits and dashes with at least two dashes
	// ("us-east-1", "ap-southeast-2", "us-gov-west-1").
	if strings.Count(r, "-") < 2 {
		return ""
	}
	for _, ch := range r {
		if !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-') {
			return ""
		}
	}
	return r
}

// ValidateProfileName refuses names that cannot be a TOML bare key or a file name
// part, so a profile name never smuggles a path.
func ValidateProfileName(name string) error {
	if name == "" || len(name) > 64 {
		return &UsageError{Msg: fmt.Sprintf("invalid profile name %q: 1 to 64 characters", name)}
	}
	for _, ch := range name {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_' || ch == '.') {
			return &UsageError{Msg: fmt.Sprintf("invalid profile name %q: use letters, digits, '-', '_' and '.'", name)}
		}
	}
	return nil
}

// ConfigPath is the config file under home.
func ConfigPath(home string) string { return filepath.Join(home, "config.toml") }

// SessionsPath is the file store used by --store file and the keyring fallback.
func SessionsPath(home string) string { return filepath.Join(home, "sessions", "sessions.json") }

// LocksDir holds the keyring store's lock files.
func LocksDir(home string) string { return filepath.Join(home, "locks") }
