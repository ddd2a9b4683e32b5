package emulator

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cogauth/cogauth/clock"
)

// Target prefixes of the two JSON 1.1 services one listener serves.
const (
	idpService      = "AWSCognitoIdentityProviderService."
	identityService = "AWSCognitoIdentityService."
	jsonContentType = "application/x-amz-json-1.1"
	maxBodyBytes    = 1 << 20
)

// Options configures an Emulator. The zero value is usable: region us-east-1, the
// system clock, crypto/rand, Cognito's issuer URLs.
type Options struct {
	// Region is the region of pools created by requests that name none in their
	// SigV4 credential scope (and of seeded pools without an ID). Issuers, ARNs
	// and device keys follow each pool's own ID.
	Region string
	// Clock is the time source underneath the emulator's own settable clock
	// (SetTime/Advance move an offset over it). Default: the system clock.
	Clock clock.Clock
	// Rand is the randomness for keys, IDs, SRP and codes. Default crypto/rand.
	Rand io.Reader
	// Seed creates pools, clients, users, groups and identity pools at start.
	Seed *Seed
	// StateFile, when set, is loaded at start if it exists and rewritten atomically
	// after every request that changed state (and on Server.Close).
	StateFile string
	// IssuerBaseURL replaces "https://cognito-idp.{region}.amazonaws.com" (the
	// region being that of the pool ID) in token issuers, so that OIDC discovery
	// from the issuer reaches the emulator. NewServer sets it to the server's own
	// URL when SelfIssuer is true.
	IssuerBaseURL string
	SelfIssuer    bool
	// AllowShortLifetimes lets clients ask for token lifetimes below Cognito's
	// minimums (5 minutes for access/id tokens, 1 hour for refresh tokens), for demos.
	AllowShortLifetimes bool
	// AccountID is the AWS account in ARNs; default "000000000000".
	AccountID string
	// AccessKeys (access key ID -> secret access key), when not empty, turn on
	// SigV4 verification of the operations Cognito signs (sigv4.go); a seed's
	// accessKeys are added. Without keys any signature, or none, is accepted.
	AccessKeys map[string]string
	// StrictRegion refuses calls naming a pool of another region than the one the
	// request is signed for (Options.Region for unsigned ones), as Cognito's
	// regional endpoints do.
	StrictRegion bool
	// Logger receives one line per request (operation, status); never tokens.
	Logger *slog.Logger

	// Lambda triggers (lambda.go, triggers*.go): a pool's LambdaConfig names the
	// functions; the seed's lambdaFunctions (SetLambdaRoute) map an ARN to its own
	// Invoke API endpoint, else Lambda runs them in process, else LambdaEndpoint
	// (an AWS Lambda Invoke API: sam local start-lambda, LocalStack) serves them.
	LambdaEndpoint string
	Lambda         LambdaFunc
	// LambdaTimeout bounds each invocation; default DefaultLambdaTimeout (5 s, as
	// Cognito).
	LambdaTimeout time.Duration
}

// Fault is what InjectFault does to requests of one operation, OAuth endpoint or
// trigger (faults.go).
type Fault struct {
	Latency time.Duration // added before the request is handled (after it, with After; real time)
	ErrName string        // answer with this exception instead of handling the call (of its answer, with After)
	Message string        // message for ErrName; a default when empty
	Status  int           // HTTP status for ErrName; 400 when zero
	Rate    float64       // fraction of requests affected, 0 < Rate <= 1; 0 means all
	Drop    bool          // close the connection without answering
	// After runs the operation first, keeping what it changed (a refresh token
	// rotated, a user signed up), and then delays, drops or replaces its answer.
	After bool
	// Cut runs the operation (as After) and sends only the first half of its
	// answer, with the whole answer's Content-Length, before closing the
	// connection.
	Cut bool
}

// handlerFunc serves one operation: it decodes body itself and returns the response
// value (marshalled as JSON) or an error (*Error for a Cognito exception). It runs
// with e.mu held, so handlers read and write state freely.
type handlerFunc func(e *Emulator, c *call) (any, error)

// typed adapts a handler that takes its request body decoded into T, so that
// handlers start with their own work rather than the decoding every one needs.
func typed[T any](fn func(e *Emulator, c *call, in *T) (any, error)) handlerFunc {
	return func(e *Emulator, c *call) (any, error) {
		in := new(T)
		if err := c.decode(in); err != nil {
			return nil, err
		}
		return fn(e, c, in)
	}
}

// call is one request as a handler sees it.
type call struct {
	ctx  context.Context
	op   string // the target without service prefix, e.g. "InitiateAuth"
	body []byte
	now  time.Time  // the emulator clock, read once per request
	in   *callInput // what trigger events take from the body, decoded on first use
	// region is the region of the request's SigV4 credential scope, "" for an
	// unsigned request.
	region string
}

// regionPattern is what a region in a credential scope must look like.
var regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)

// signedRegion returns the region of a SigV4 Authorization header's credential
// scope (Credential=AKID/DATE/REGION/SERVICE/aws4_request), "" when there is no
// well-formed one.
func signedRegion(r *http.Request) string {
	auth := r.Header.Get("Authorization")
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok || !strings.HasPrefix(auth, "AWS4-HMAC-SHA256") {
		return ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(strings.TrimSpace(cred), "/")
	if len(parts) != 5 || len(parts[2]) > 32 || !regionPattern.MatchString(parts[2]) {
		return ""
	}
	return parts[2]
}

func (e *Emulator) accountID() string {
	if e.opts.AccountID != "" {
		return e.opts.AccountID
	}
	return "000000000000"
}

// newRegion is the region of something a call creates.
func (e *Emulator) newRegion(c *call) string {
	if c != nil && c.region != "" {
		return c.region
	}
	return e.opts.Region
}

// decode unmarshals the body into v, answering like Cognito for bad JSON.
func (c *call) decode(v any) error {
	if len(bytes.TrimSpace(c.body)) == 0 {
		c.body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(c.body))
	if err := dec.Decode(v); err != nil {
		return newErr("SerializationException", "Could not parse request body into json: %s", describeJSONError(err))
	}
	return nil
}

// describeJSONError keeps decoder errors short and free of request content.
func describeJSONError(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at offset %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %q has the wrong type (%s)", clip(te.Field), clip(te.Value))
	}
	return "malformed JSON"
}

// Emulator is a Cognito-compatible server: user pools and identity pools in
// memory. It is an http.Handler.
type Emulator struct {
	opts   Options
	base   clock.Clock
	random io.Reader

	// ops maps a full X-Amz-Target to its handler: the table operations
	// (ops.go), shared by every emulator and never written.
	ops map[string]handlerFunc

	mu         sync.Mutex     // guards everything below, and all state reachable from st
	mux, admin *http.ServeMux // set in New (routes, adminMux)
	accessKeys map[string]string
	st         *state
	offset     time.Duration // emulator clock = base clock + offset
	faults     map[string]Fault
	counts     map[string]int
	sessions   map[string]*challengeSession // challenge sessions, never persisted
	uploads    map[string][]byte            // import jobs' CSV files, never persisted (importjobs.go)
	issued     issuedTokens                 // the claims of the last tokens signed (console_tokens.go)
	messages   []Message                    // codes "sent" by SMS or e-mail
	rng        *mrand.Rand                  // for fault rates only
	dirty      bool
	issuerBase string
	seeded     *SeedResult
	saveErr    error
	// lambdaRoutes maps a function ARN to its own Invoke API endpoint (seed
	// lambdaFunctions); invocations is the log of trigger calls (lambda.go).
	lambdaRoutes map[string]LambdaRoute
	invocations  []Invocation
	lambdaHTTP   *http.Client // never replaced; safe to use unlocked
	// standIn is the social providers' stand-in (social_standin.go), guarded
	// by its own mutex.
	standIn standInState
}

// New returns an emulator; it loads Options.StateFile when it exists and applies
// Options.Seed.
func New(opts Options) (*Emulator, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	var seed [32]byte
	if _, err := io.ReadFull(opts.Rand, seed[:]); err != nil {
		return nil, fmt.Errorf("emulator: reading randomness: %w", err)
	}
	e := &Emulator{
		opts:         opts,
		base:         opts.Clock,
		random:       opts.Rand,
		ops:          operations,
		st:           newState(),
		faults:       map[string]Fault{},
		counts:       map[string]int{},
		sessions:     map[string]*challengeSession{},
		lambdaRoutes: map[string]LambdaRoute{},
		lambdaHTTP:   newLambdaClient(),
		rng:          mrand.New(mrand.NewChaCha8(seed)),
		issuerBase:   strings.TrimRight(opts.IssuerBaseURL, "/"),
	}
	e.mux, e.admin = e.routes(), e.adminMux()
	if opts.StateFile != "" {
		if err := e.openStateFile(opts.StateFile); err != nil {
			return nil, err
		}
	}
	if err := e.applyOptionsSeed(); err != nil {
		return nil, err
	}
	return e, nil
}

// withDefaults fills the options New defaults (region us-east-1, the system
// clock, crypto/rand) and checks the Lambda endpoint.
func (opts Options) withDefaults() (Options, error) {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.Clock == nil {
		opts.Clock = clock.System{}
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if opts.LambdaEndpoint != "" {
		if err := checkEndpoint(opts.LambdaEndpoint); err != nil {
			return opts, err
		}
	}
	return opts, nil
}

// openStateFile loads the state file at path when it exists. A state file that
// cannot be written would fail only at shutdown, losing everything: a missing
// directory is refused at start.
func (e *Emulator) openStateFile(path string) error {
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("emulator: state file %s: directory %s does not exist", path, dir)
	}
	return e.loadStateFile(path)
}

// applyOptionsSeed takes the access keys of Options and of its seed, and
// applies Options.Seed.
func (e *Emulator) applyOptionsSeed() error {
	e.accessKeys = map[string]string{}
	for id, secret := range e.opts.AccessKeys {
		e.accessKeys[id] = secret
	}
	if e.opts.Seed == nil {
		return nil
	}
	for _, k := range e.opts.Seed.AccessKeys {
		if k.AccessKeyID == "" || k.SecretAccessKey == "" {
			return fmt.Errorf("emulator: seed: an access key needs accessKeyId and secretAccessKey")
		}
		e.accessKeys[k.AccessKeyID] = k.SecretAccessKey
	}
	res, err := e.ApplySeed(*e.opts.Seed)
	if err != nil {
		return err
	}
	e.seeded = res
	return nil
}

// Operations lists the X-Amz-Target of every operation the emulator serves.
func (e *Emulator) Operations() []string {
	out := make([]string, 0, len(e.ops))
	for t := range e.ops {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Seeded returns what Options.Seed created (nil without a seed).
func (e *Emulator) Seeded() *SeedResult { return e.seeded }

// Handler returns the emulator as an http.Handler.
func (e *Emulator) Handler() http.Handler { return e }

// now reads the emulator clock; callers may or may not hold e.mu.
func (e *Emulator) now() time.Time {
	e.mu.Lock()
	off := e.offset
	e.mu.Unlock()
	return e.base.Now().Add(off)
}

// Now tells the emulator's current time.
func (e *Emulator) Now() time.Time { return e.now() }

// Clock returns the emulator's settable clock as a clock.Clock.
func (e *Emulator) Clock() clock.Clock { return emuClock{e} }

type emuClock struct{ e *Emulator }

func (c emuClock) Now() time.Time { return c.e.now() }

// Advance moves the emulator clock forward by d (backward when negative).
func (e *Emulator) Advance(d time.Duration) {
	e.mu.Lock()
	e.offset += d
	e.mu.Unlock()
}

// SetTime moves the emulator clock to t; it keeps running from there at the pace of
// the underlying clock.
func (e *Emulator) SetTime(t time.Time) {
	e.mu.Lock()
	e.offset = t.Sub(e.base.Now())
	e.mu.Unlock()
}

// InjectFault makes requests of op (e.g. "InitiateAuth" or a full target, an OAuth
// endpoint such as "oauth2/token", or TriggerFault(trigger)) fail or slow down as
// f says, until ClearFaults. A zero Fault removes the fault.
func (e *Emulator) InjectFault(op string, f Fault) {
	op = faultKey(op)
	e.mu.Lock()
	defer e.mu.Unlock()
	if f == (Fault{}) {
		delete(e.faults, op)
		return
	}
	e.faults[op] = f
}

// maxFaults bounds the fault table the admin endpoint fills.
const maxFaults = 1024

// unknownOpCounter is the request counter of every target the emulator does not
// serve.
const unknownOpCounter = "(unknown)"

// injectFaultBounded is InjectFault that refuses a new operation name when
// maxFaults are set.
func (e *Emulator) injectFaultBounded(op string, f Fault) bool {
	op = faultKey(op)
	e.mu.Lock()
	_, exists := e.faults[op]
	full := len(e.faults) >= maxFaults
	e.mu.Unlock()
	if full && !exists && f != (Fault{}) {
		return false
	}
	e.InjectFault(op, f)
	return true
}

// ClearFaults removes every injected fault.
func (e *Emulator) ClearFaults() {
	e.mu.Lock()
	clear(e.faults)
	e.mu.Unlock()
}

// Requests tells how many requests of op (short or full name) have arrived,
// including those answered by an injected fault. Requests for operations the
// emulator does not serve are counted together under "(unknown)".
func (e *Emulator) Requests(op string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.counts[shortOp(op)]
}

// RequestCounts returns a copy of all per-operation counters.
func (e *Emulator) RequestCounts() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]int, len(e.counts))
	for k, v := range e.counts {
		out[k] = v
	}
	return out
}

// ResetCounters sets every request counter to zero.
func (e *Emulator) ResetCounters() {
	e.mu.Lock()
	clear(e.counts)
	e.mu.Unlock()
}

func shortOp(op string) string {
	if i := strings.LastIndexByte(op, '.'); i >= 0 {
		return op[i+1:]
	}
	return op
}

// ServeHTTP routes JSON 1.1 calls on X-Amz-Target, the well-known JWKS and OpenID
// documents, and the loopback-only admin endpoint under /_emulator/.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Date", e.now().UTC().Format(http.TimeFormat))
	w.Header().Set("x-amzn-RequestId", e.uuid())
	if r.Body == nil {
		// Requests built for direct ServeHTTP calls may have no body at all.
		r.Body = http.NoBody
	}
	if strings.HasPrefix(r.URL.Path, adminPrefix) {
		// The admin paths have a mux of their own: a catch-all under /_emulator/
		// would overlap the /{poolId}/… patterns.
		e.admin.ServeHTTP(w, r)
		return
	}
	e.mux.ServeHTTP(w, r)
}

// routes builds the mux of everything but the admin endpoint: the well-known
// documents, the hosted UI and OAuth 2.0 endpoints at the root and under
// /{poolId}/ (oauth2.go), and, for any other path, the JSON 1.1 API (routed on
// X-Amz-Target by the ops table) for POST and UnknownOperationException else.
func (e *Emulator) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{pool}/.well-known/{doc}", e.serveWellKnown)
	e.identityRoutes(mux) // cognito-identity's /.well-known/ documents
	e.oauthRoutes(mux)
	e.importRoutes(mux) // importjobs.go: the import jobs' PreSignedUrl
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if isSTSRequest(r) {
			e.serveSTS(w, r) // sts.go
			return
		}
		if r.Method == http.MethodPost {
			e.serveAPI(w, r)
			return
		}
		e.unknownPath(w, r)
	})
	return mux
}

// unknownPath answers a request nothing routes, as AWS does.
func (e *Emulator) unknownPath(w http.ResponseWriter, r *http.Request) {
	writeError(w, newErr("UnknownOperationException", "Unknown operation: %s %s", r.Method, clip(r.URL.Path)))
}

func (e *Emulator) serveAPI(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	op := shortOp(target)
	e.mu.Lock()
	fn, known := e.ops[target]
	switch {
	case known:
		e.counts[op]++
	case op != "":
		// Unknown targets share one counter: counting each name would let
		// callers grow the map without bound.
		e.counts[unknownOpCounter]++
	}
	fault, hit := e.hitFault(op)
	e.mu.Unlock()

	serve := func(w http.ResponseWriter) { e.serveOperation(w, r, target, op, fn, known) }
	if !hit {
		serve(w)
		return
	}
	serveWithFault(w, r, fault, func(w http.ResponseWriter, f Fault) {
		e.logRequest(op, f.faultStatus())
		writeError(w, &Error{Name: f.ErrName, Message: f.faultMessage(), Status: f.faultStatus()})
	}, serve)
}

// serveOperation runs one X-Amz-Target operation: the signature and region
// checks, the handler, its JSON answer.
func (e *Emulator) serveOperation(w http.ResponseWriter, r *http.Request, target, op string, fn handlerFunc, known bool) {
	if !known {
		e.logRequest(op, http.StatusBadRequest)
		writeError(w, newErr("UnknownOperationException", "Unknown operation %q.", clip(target)))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		writeError(w, newErr("SerializationException", "Request body could not be read."))
		return
	}
	region := signedRegion(r)
	ae := e.checkSignature(r, op, body)
	if ae == nil {
		ae = e.checkRegion(region, body)
	}
	if ae != nil {
		e.logRequest(op, ae.Status)
		writeError(w, ae)
		return
	}
	out, herr := e.handle(withBase(r.Context(), r), fn, op, body, region) // withBase: importjobs.go
	if ts, ok := out.(tokenSigner); ok && herr == nil {
		herr = ts.signTokens()
	}
	if herr != nil {
		var ae *Error
		if !errors.As(herr, &ae) {
			// An unexpected failure is logged without detail that could hold secrets
			// and answered as Cognito's internal error.
			e.logger().Error("emulator: handler failed", "op", clipLog(op), "err", clipLog(herr.Error()))
			ae = newErr("InternalErrorException", "Internal error.")
		}
		e.logRequest(op, ae.Status)
		writeError(w, ae)
		return
	}
	data, err := json.Marshal(out)
	if err != nil {
		writeError(w, newErr("InternalErrorException", "Internal error."))
		return
	}
	e.logRequest(op, http.StatusOK)
	w.Header().Set("Content-Type", jsonContentType)
	w.Header().Set("Content-Length", fmt.Sprint(len(data)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
}

// handle runs one handler under the lock and saves state when it changed.
func (e *Emulator) handle(ctx context.Context, fn handlerFunc, op string, body []byte, region string) (out any, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := &call{ctx: ctx, op: op, body: body, now: e.base.Now().Add(e.offset), region: region}
	out, err = fn(e, c)
	if err == nil && e.dirty {
		e.dirty = false
		if e.opts.StateFile != "" {
			if serr := e.saveLocked(e.opts.StateFile); serr != nil {
				e.saveErr = serr
				e.logger().Error("emulator: saving state failed", "err", serr.Error())
			}
		}
	}
	if out == nil && err == nil {
		out = struct{}{}
	}
	return out, err
}

func (e *Emulator) logger() *slog.Logger {
	if e.opts.Logger != nil {
		return e.opts.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (e *Emulator) logRequest(op string, status int) {
	if e.opts.Logger != nil {
		e.opts.Logger.Info("emulator request", "op", clipLog(op), "status", status)
	}
}

func writeError(w http.ResponseWriter, ae *Error) {
	// Handlers clip what they echo (clip); the bounds here are the backstop
	// that keeps any request value from reaching a header or body whole.
	name, msg := cutUTF8(ae.Name, maxEcho), cutUTF8(ae.Message, maxErrorMessage)
	body, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{name, msg})
	h := w.Header()
	h.Set("Content-Type", jsonContentType)
	h.Set("x-amzn-ErrorType", headerSafe(name)+":")
	h.Set("x-amzn-ErrorMessage", headerSafe(msg))
	h.Set("Content-Length", fmt.Sprint(len(body)))
	status := ae.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// headerSafe drops bytes that may not appear in a header value.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r > 0x7e {
			return -1
		}
		return r
	}, s)
}

// dropConnection closes the client's connection without a response, as a network
// failure would. Without a hijackable connection it aborts the handler, which
// net/http turns into a reset too.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}
