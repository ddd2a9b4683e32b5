package main

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/cogauth/cogauth/secret"
)

// options is the app's configuration: flags, each also read from a COGAUTH_*
// environment variable (a flag given on the command line wins).
type options struct {
	addr     string // where the app listens
	base     string // the app's public origin; http://ADDR by default
	redis    string // Redis address; memory when empty
	secret   string // hex, 32 bytes; random when empty (sessions end at restart)
	cookie   string // hex keys, comma-separated: cookie-only mode
	password string // alice's password in the embedded emulator; random when empty

	endpoint       string // user-pool endpoint; the embedded emulator when empty
	userPoolID     string
	clientID       string
	clientSecret   string
	domain         string // hosted UI; defaults to endpoint
	identityPoolID string
	issuer         string // default derived from endpoint

	idleTimeout     time.Duration
	absoluteTimeout time.Duration
	refreshWait     time.Duration

	out io.Writer
}

// flagEnv names every flag's environment variable: COGAUTH_ and the flag's
// name in upper case with "-" as "_".
func flagEnv(name string) string {
	return "COGAUTH_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// parseOptions reads args (without the program name), then the environment for
// every flag args did not set, then checks the result. Usage and errors go to
// stderr; a bad value is an error that names its flag and variable.
func parseOptions(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("webapp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "localhost:8080", "listen address")
	fs.StringVar(&o.base, "base", "", "public origin, the load balancer's with replicas (default http://ADDR)")
	fs.StringVar(&o.redis, "redis", "", "Redis address for sessions and sign-outs shared by replicas")
	fs.StringVar(&o.secret, "secret", "", "session secret, 64 hex digits, the same on every replica (default: random; required with -redis)")
	fs.StringVar(&o.cookie, "cookie-keys", "", "keep sessions in sealed cookies, no store: keys of 64 hex digits, comma-separated, the first sealing (with -redis, Redis carries only sign-outs)")
	fs.StringVar(&o.password, "password", "", "alice's password in the embedded emulator (default: random)")
	fs.StringVar(&o.endpoint, "endpoint", "", "user-pool endpoint URL, e.g. https://cognito-idp.eu-west-1.amazonaws.com or a `cogauth emulator` (default: an embedded emulator)")
	fs.StringVar(&o.userPoolID, "user-pool-id", "", "user pool ID (required with -endpoint)")
	fs.StringVar(&o.clientID, "client-id", "", "app client ID (required with -endpoint)")
	fs.StringVar(&o.clientSecret, "client-secret", "", "app client secret, if the client has one")
	fs.StringVar(&o.domain, "domain", "", "hosted UI (managed login) URL (default: -endpoint)")
	fs.StringVar(&o.identityPoolID, "identity-pool-id", "", "identity pool ID for the users' AWS credentials (optional)")
	fs.StringVar(&o.issuer, "issuer", "", "token issuer (default: Cognito's for an amazonaws.com endpoint, ENDPOINT/POOL otherwise, as `cogauth emulator --self-issuer` serves it)")
	fs.DurationVar(&o.idleTimeout, "idle-timeout", time.Hour, "end a session unused for this long")
	fs.DurationVar(&o.absoluteTimeout, "absolute-timeout", 24*time.Hour, "end a session this long after sign-in")
	fs.DurationVar(&o.refreshWait, "refresh-wait", 2*time.Second, "the longest a request waits for a token refresh")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if v := getenv(flagEnv(f.Name)); v != "" && !set[f.Name] {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %v", flagEnv(f.Name), v, err))
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return o, err
	}
	return o, o.check()
}

var poolIDRe = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d_[0-9A-Za-z]+$`)

// check refuses what would only fail later, naming the flag, and fills in
// what -endpoint implies.
func (o *options) check() error {
	errs := append(o.checkSessions(), o.checkURLs()...)
	if o.endpoint == "" {
		for _, f := range []struct{ name, v string }{{"user-pool-id", o.userPoolID}, {"client-id", o.clientID}, {"client-secret", o.clientSecret},
			{"domain", o.domain}, {"identity-pool-id", o.identityPoolID}, {"issuer", o.issuer}} {
			if f.v != "" {
				errs = append(errs, fmt.Errorf("-%s needs -endpoint (without it the app makes its own pool in an embedded emulator)", f.name))
			}
		}
		return errors.Join(errs...)
	}
	return errors.Join(append(errs, o.checkPool()...)...)
}

// checkSessions checks the timeouts and the keys.
func (o *options) checkSessions() (errs []error) {
	if o.idleTimeout <= 0 || o.absoluteTimeout <= 0 || o.refreshWait <= 0 {
		errs = append(errs, errors.New("-idle-timeout, -absolute-timeout and -refresh-wait must be positive"))
	}
	if o.idleTimeout > o.absoluteTimeout {
		errs = append(errs, fmt.Errorf("-idle-timeout %v is longer than -absolute-timeout %v: a session would never be idle for long enough to end", o.idleTimeout, o.absoluteTimeout))
	}
	if b, err := hex.DecodeString(o.secret); o.secret != "" && (err != nil || len(b) < 32) {
		errs = append(errs, errors.New("-secret must be at least 64 hex digits (32 random bytes)"))
	}
	if _, err := o.cookieKeys(); err != nil {
		errs = append(errs, err)
	}
	if o.redis != "" && o.secret == "" {
		errs = append(errs, errors.New("-redis needs -secret (COGAUTH_SECRET), the same on every replica: a random one per replica opens no other replica's sessions"))
	}
	return errs
}

func (o *options) checkURLs() (errs []error) {
	for _, u := range []struct{ name, v string }{{"base", o.base}, {"endpoint", o.endpoint}, {"domain", o.domain}, {"issuer", o.issuer}} {
		if u.v != "" {
			if err := checkURL(u.v); err != nil {
				errs = append(errs, fmt.Errorf("-%s %q: %v", u.name, u.v, err))
			}
		}
	}
	return errs
}

// checkPool checks an outside pool's flags and derives -domain and -issuer.
func (o *options) checkPool() (errs []error) {
	if o.password != "" {
		errs = append(errs, errors.New("-password is for the embedded emulator's user; with -endpoint, users sign in with their own"))
	}
	if o.userPoolID == "" {
		errs = append(errs, errors.New("-user-pool-id (COGAUTH_USER_POOL_ID) is required with -endpoint"))
	} else if !poolIDRe.MatchString(o.userPoolID) {
		errs = append(errs, fmt.Errorf("-user-pool-id %q is not a user pool ID (REGION_ID, e.g. us-east-1_AbC123)", o.userPoolID))
	}
	if o.clientID == "" {
		errs = append(errs, errors.New("-client-id (COGAUTH_CLIENT_ID) is required with -endpoint"))
	}
	if o.domain == "" {
		o.domain = o.endpoint
	}
	if o.issuer == "" && o.userPoolID != "" {
		o.issuer = deriveIssuer(o.endpoint, o.userPoolID)
	}
	return errs
}

func checkURL(v string) error {
	u, err := url.Parse(v)
	if err != nil {
		return errors.New("not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return errors.New("want an http or https URL with a host")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return errors.New("want no query or fragment")
	}
	return nil
}

// deriveIssuer gives the issuer of a pool's tokens: Cognito's own for an AWS
// endpoint (whatever endpoint serves the API, tokens name
// cognito-idp.REGION.amazonaws.com), the endpoint itself followed by the pool ID
// otherwise, as an emulator started with --self-issuer issues them.
func deriveIssuer(endpoint, poolID string) string {
	if u, err := url.Parse(endpoint); err == nil && strings.HasSuffix(u.Hostname(), ".amazonaws.com") {
		region, _, _ := strings.Cut(poolID, "_")
		return "https://cognito-idp." + region + ".amazonaws.com/" + poolID
	}
	return strings.TrimRight(endpoint, "/") + "/" + poolID
}

// identityEndpoint is where the identity pool is asked for credentials: the
// emulator serves both APIs at one URL; for AWS the SDK's regional default.
func (o *options) identityEndpoint() string {
	if u, err := url.Parse(o.endpoint); err == nil && strings.HasSuffix(u.Hostname(), ".amazonaws.com") {
		return ""
	}
	return o.endpoint
}

// cookieKeys decodes -cookie-keys.
func (o *options) cookieKeys() ([]secret.Bytes, error) {
	if o.cookie == "" {
		return nil, nil
	}
	var keys []secret.Bytes
	for _, k := range strings.Split(o.cookie, ",") {
		b, err := hex.DecodeString(strings.TrimSpace(k))
		if err != nil || len(b) < 32 {
			return nil, errors.New("-cookie-keys: each key must be at least 64 hex digits (32 random bytes)")
		}
		keys = append(keys, b)
	}
	return keys, nil
}
