package keyring

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	gokeyring "github.com/zalando/go-keyring"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/store"
	"github.com/cogauth/cogauth/store/internal/lockfile"
	"github.com/cogauth/cogauth/store/internal/migrate"
)

// Backend is the part of an OS keyring the Store uses. The methods of
// github.com/zalando/go-keyring's package-level functions have this shape; tests
// substitute go-keyring's MockInit or a size-limited fake.
type Backend interface {
	Get(service, user string) (string, error)
	Set(service, user, password string) error
	Delete(service, user string) error
}

// OS is the system keyring through zalando/go-keyring: Secret Service on
// Linux, the Keychain on macOS, the Credential Manager on Windows.
type OS struct{}

// Get implements Backend.
func (OS) Get(service, user string) (string, error) { return gokeyring.Get(service, user) }

// Set implements Backend.
func (OS) Set(service, user, password string) error {
	return gokeyring.Set(service, user, password)
}

// Delete implements Backend.
func (OS) Delete(service, user string) error { return gokeyring.Delete(service, user) }

// DefaultService is the service name cogauth's entries are filed under.
const DefaultService = "cogauth"

// DefaultChunk is the longest value written to one keyring entry. Windows'
// Credential Manager refuses passwords over 2560 bytes and the macOS Keychain tool
// about 3000 bytes for service, account and password together; a session with an id
// token full of groups and custom attributes is longer than both, so values are
// split across entries of at most this size (plus a short header).
const DefaultChunk = 2000

// keyringFormat prefixes every head entry; an entry with another prefix is refused
// rather than guessed at. A record with an expiry is written as
// keyringExpiringFormat, whose head names it; one without keeps release 2's format,
// which release 2 still reads.
const (
	keyringFormat         = "cogauth-kr/1"
	keyringExpiringFormat = "cogauth-kr/2"
)

// Options configure a Store.
type Options struct {
	// Service is the keyring service name (DefaultService if empty). Distinct
	// names keep stores apart, e.g. in tests.
	Service string
	// LockDir holds the lock files that make Put and Delete compare-and-swap across
	// processes (a keyring has no transactions) and that Lock takes. Required.
	LockDir string
	// Backend is the keyring (OS if nil).
	Backend Backend
	// Chunk is the longest value per entry (DefaultChunk if zero).
	Chunk int
	// Clock tells when records expire (the system clock if nil).
	Clock clock.Clock
}

// Store is a store.Store and store.Locker in the OS keyring. A record is one head
// entry, named after its key, holding the version, the number of chunks and the first chunk of the
// base64-encoded data; further chunks live in entries named "<key>#<version>#<n>".
// Naming chunks by version means a write never touches the chunks of the session it
// replaces: a crash half-way leaves the old session whole, and a reader can never
// stitch two writes together.
//
// Versions are random 64-bit numbers: the keyring keeps no counter that survives a
// delete, and a random version is never reused in practice (2⁻⁶⁴ per write).
type Store struct {
	service string
	backend Backend
	lockDir string
	chunk   int
	clock   clock.Clock
	mu      sync.Mutex // serializes this process's writers before they take the flock
}

// New returns a keyring store. It does not touch the keyring; use Probe to learn
// whether one answers.
func New(opts Options) (*Store, error) {
	if opts.LockDir == "" {
		return nil, errors.New("store: keyring needs a lock directory")
	}
	if err := os.MkdirAll(opts.LockDir, 0o700); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	k := &Store{service: opts.Service, backend: opts.Backend, lockDir: opts.LockDir, chunk: opts.Chunk, clock: opts.Clock}
	if k.clock == nil {
		k.clock = clock.System{}
	}
	if k.service == "" {
		k.service = DefaultService
	}
	if k.backend == nil {
		k.backend = OS{}
	}
	if k.chunk <= 0 {
		k.chunk = DefaultChunk
	}
	return k, nil
}

// account names key's head entry: migrate.Name, the name earlier releases gave
// the same record, so a keyring written by them needs no move. Keys hold no '#',
// which separates a head's name from its chunks'.
func account(key store.Key) string { return migrate.Name(string(key)) }

// legacyAccount is the head entry under which release 1 may have kept key's
// record, "" when it could not have (migrate.Release1KeyringAccount).
func legacyAccount(key store.Key) string { return migrate.Release1KeyringAccount(string(key)) }

func chunkAccount(head string, version uint64, n int) string {
	return head + "#" + strconv.FormatUint(version, 16) + "#" + strconv.Itoa(n)
}

// keyringHead is a parsed head entry.
type keyringHead struct {
	version uint64
	chunks  int
	expires time.Time // zero: none
	first   string
}

func parseKeyringHead(s string) (keyringHead, error) {
	// cogauth-kr/1:<version hex>:<chunks>:<base64>
	// cogauth-kr/2:<version hex>:<chunks>:<expiry, Unix ms hex>:<base64>
	var h keyringHead
	if rest, ok := strings.CutPrefix(s, keyringExpiringFormat+":"); ok {
		// <version>:<chunks>:<expiry>:<base64>: read the expiry and go on as
		// with release 2's format.
		parts := strings.SplitN(rest, ":", 4)
		if len(parts) != 4 {
			return keyringHead{}, fmt.Errorf("%w: keyring entry has an unknown format", store.ErrCorrupt)
		}
		ms, err := strconv.ParseInt(parts[2], 16, 64)
		if err != nil || ms <= 0 {
			return keyringHead{}, fmt.Errorf("%w: keyring entry has a bad expiry", store.ErrCorrupt)
		}
		h.expires = time.UnixMilli(ms)
		s = keyringFormat + ":" + parts[0] + ":" + parts[1] + ":" + parts[3]
	}
	parts := strings.SplitN(s, ":", 4)
	if len(parts) != 4 || parts[0] != keyringFormat {
		return keyringHead{}, fmt.Errorf("%w: keyring entry has an unknown format", store.ErrCorrupt)
	}
	v, err := strconv.ParseUint(parts[1], 16, 64)
	if err != nil || v == 0 || v == store.AnyVersion {
		return keyringHead{}, fmt.Errorf("%w: keyring entry has a bad version", store.ErrCorrupt)
	}
	n, err := strconv.Atoi(parts[2])
	if err != nil || n < 1 || n > maxKeyringChunks {
		return keyringHead{}, fmt.Errorf("%w: keyring entry has a bad chunk count", store.ErrCorrupt)
	}
	h.version, h.chunks, h.first = v, n, parts[3]
	return h, nil
}

// maxKeyringChunks bounds what a damaged head entry can make a reader fetch: 256
// chunks of 2000 bytes is far beyond any session.
const maxKeyringChunks = 256

// lock takes the writers' flock for key (one per key, so users do not wait on each
// other).
func (k *Store) lock(ctx context.Context, key store.Key, kind string) (func(), error) {
	id := migrate.LockID(k.service, string(key))
	sum := sha256.Sum256([]byte(id))
	return lockfile.Lock(ctx, filepath.Join(k.lockDir, hex.EncodeToString(sum[:16])+"."+kind+".lock"))
}

// readHead returns the entry whose head entry is head; the caller holds the
// writers' lock, so the chunks cannot change underneath.
func (k *Store) readHead(key store.Key, head string) (store.Entry, error) {
	s, err := k.backend.Get(k.service, head)
	if errors.Is(err, gokeyring.ErrNotFound) {
		return store.Entry{}, fmt.Errorf("%w: %s", store.ErrNotFound, key)
	}
	if err != nil {
		return store.Entry{}, fmt.Errorf("store: keyring get %s: %w", key, err)
	}
	h, err := parseKeyringHead(s)
	if err != nil {
		return store.Entry{}, fmt.Errorf("%w (%s)", err, key)
	}
	if store.Expired(h.expires, k.clock.Now()) {
		return store.Entry{}, fmt.Errorf("%w: %s", errExpired, key)
	}
	var b strings.Builder
	b.WriteString(h.first)
	for i := 1; i < h.chunks; i++ {
		c, err := k.backend.Get(k.service, chunkAccount(head, h.version, i))
		if errors.Is(err, gokeyring.ErrNotFound) {
			return store.Entry{}, fmt.Errorf("%w: %s: keyring chunk %d missing", store.ErrCorrupt, key, i)
		}
		if err != nil {
			return store.Entry{}, fmt.Errorf("store: keyring get %s: %w", key, err)
		}
		b.WriteString(c)
	}
	data, err := base64.StdEncoding.Strict().DecodeString(b.String())
	if err != nil {
		return store.Entry{}, fmt.Errorf("%w: %s: keyring data is not base64", store.ErrCorrupt, key)
	}
	return store.Entry{Data: data, Version: h.version}, nil
}

// errExpired: the record's head is there but its expiry has passed. It reads as
// absent; writers remove it.
var errExpired = fmt.Errorf("%w (expired)", store.ErrNotFound)

// read returns the entry for key and the head entry it came from: today's, or
// legacyAccount's while the record has not been written since (the caller holds
// the writers' lock).
func (k *Store) read(key store.Key) (store.Entry, string, error) {
	head := account(key)
	e, err := k.readHead(key, head)
	if !errors.Is(err, store.ErrNotFound) || errors.Is(err, errExpired) {
		return e, head, err
	}
	if legacy := legacyAccount(key); legacy != "" {
		if e, lerr := k.readHead(key, legacy); !errors.Is(lerr, store.ErrNotFound) {
			return e, legacy, lerr
		}
	}
	return e, head, err
}

// Get implements Store.
func (k *Store) Get(ctx context.Context, key store.Key) (store.Entry, error) {
	if err := key.Validate(); err != nil {
		return store.Entry{}, err
	}
	// Readers lock too: a session spans several entries and a keyring cannot
	// write them at once.
	unlock, err := k.lock(ctx, key, "w")
	if err != nil {
		return store.Entry{}, err
	}
	defer unlock()
	e, _, err := k.read(key)
	return e, err
}

// splitChunks cuts enc into parts of at most chunk bytes.
func splitChunks(enc string, chunk int) []string {
	var parts []string
	for len(enc) > chunk {
		parts = append(parts, enc[:chunk])
		enc = enc[chunk:]
	}
	return append(parts, enc)
}

// headValue is the head entry of a record at version v in parts, expiring at
// expires (never, when zero).
func headValue(v uint64, parts []string, expires time.Time) string {
	if expires.IsZero() {
		return keyringFormat + ":" + strconv.FormatUint(v, 16) + ":" + strconv.Itoa(len(parts)) + ":" + parts[0]
	}
	ms := expires.UnixMilli()
	if expires.After(time.UnixMilli(ms)) {
		ms++ // never early
	}
	return keyringExpiringFormat + ":" + strconv.FormatUint(v, 16) + ":" + strconv.Itoa(len(parts)) + ":" + strconv.FormatInt(max(ms, 1), 16) + ":" + parts[0]
}

// current reads the record Put is to replace (found: it was there and read),
// with the head it is under, and checks it is at ifVersion.
func (k *Store) current(key store.Key, ifVersion uint64) (old store.Entry, oldHead string, found bool, err error) {
	old, oldHead, err = k.read(key)
	if errors.Is(err, errExpired) {
		// Gone already: clear it away and write as over nothing.
		if derr := k.deleteHead(oldHead); derr != nil {
			return old, oldHead, false, fmt.Errorf("store: keyring delete %s: %w", key, derr)
		}
	}
	found = err == nil
	switch {
	case errors.Is(err, store.ErrNotFound):
		old, err = store.Entry{}, nil
	case errors.Is(err, store.ErrCorrupt) && ifVersion == store.AnyVersion:
		// A corrupt entry may be overwritten unconditionally, never on a version guess.
		err = nil
	case err != nil:
		return old, oldHead, false, err
	}
	if ifVersion != store.AnyVersion && old.Version != ifVersion {
		return old, oldHead, false, conflict(key, old.Version, ifVersion)
	}
	return old, oldHead, found, nil
}

// Put implements Store. A record still under release 1's name moves to today's.
func (k *Store) Put(ctx context.Context, key store.Key, data []byte, ifVersion uint64, expires time.Time) (uint64, error) {
	if err := key.Validate(); err != nil {
		return 0, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	unlock, err := k.lock(ctx, key, "w")
	if err != nil {
		return 0, err
	}
	defer unlock()

	old, oldHead, found, err := k.current(key, ifVersion)
	if err != nil {
		return 0, err
	}

	v, err := newKeyringVersion(old.Version)
	if err != nil {
		return 0, err
	}
	parts := splitChunks(base64.StdEncoding.EncodeToString(data), k.chunk)
	if len(parts) > maxKeyringChunks {
		return 0, fmt.Errorf("store: keyring: record of %d bytes is too large", len(data))
	}
	head := account(key)
	// Chunks first, head last: the head's write is the commit point.
	for i := 1; i < len(parts); i++ {
		if err := k.backend.Set(k.service, chunkAccount(head, v, i), parts[i]); err != nil {
			k.deleteChunks(head, v, i)
			return 0, fmt.Errorf("store: keyring set %s: %w", key, err)
		}
	}
	if err := k.backend.Set(k.service, head, headValue(v, parts, expires)); err != nil {
		k.deleteChunks(head, v, len(parts))
		return 0, fmt.Errorf("store: keyring set %s: %w", key, err)
	}
	// What the old record left is unreachable now; removing it is housekeeping,
	// so a failure is not the writer's problem.
	switch {
	case oldHead != head:
		k.deleteHead(oldHead)
	case found:
		k.deleteChunks(head, old.Version, k.chunksFor(len(old.Data)))
	}
	return v, nil
}

// deleteChunks removes chunks 1..n-1 of version v, ignoring failures.
func (k *Store) deleteChunks(head string, v uint64, n int) {
	for i := 1; i < n; i++ {
		_ = k.backend.Delete(k.service, chunkAccount(head, v, i))
	}
}

// deleteHead removes head and whatever of its chunks its head entry names.
func (k *Store) deleteHead(head string) error {
	s, err := k.backend.Get(k.service, head)
	if h, perr := parseKeyringHead(s); err == nil && perr == nil {
		k.deleteChunks(head, h.version, h.chunks)
	}
	if err := k.backend.Delete(k.service, head); err != nil && !errors.Is(err, gokeyring.ErrNotFound) {
		return err
	}
	return nil
}

// chunksFor is how many entries n bytes of data take.
func (k *Store) chunksFor(n int) int {
	enc := base64.StdEncoding.EncodedLen(n)
	c := (enc + k.chunk - 1) / k.chunk
	return max(c, 1)
}

// Delete implements Store.
func (k *Store) Delete(ctx context.Context, key store.Key, ifVersion uint64) error {
	if err := key.Validate(); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	unlock, err := k.lock(ctx, key, "w")
	if err != nil {
		return err
	}
	defer unlock()
	old, head, err := k.read(key)
	switch {
	case errors.Is(err, errExpired):
		if err := k.deleteHead(head); err != nil {
			return fmt.Errorf("store: keyring delete %s: %w", key, err)
		}
		return nil
	case errors.Is(err, store.ErrNotFound):
		return nil
	case errors.Is(err, store.ErrCorrupt) && ifVersion == store.AnyVersion:
		// Remove what can be found of a damaged record.
		if err := k.deleteHead(head); err != nil {
			return fmt.Errorf("store: keyring delete %s: %w", key, err)
		}
		return nil
	case err != nil:
		return err
	}
	if ifVersion != store.AnyVersion && old.Version != ifVersion {
		return conflict(key, old.Version, ifVersion)
	}
	// Head first: once it is gone the record is gone, whatever happens to the
	// chunks.
	if err := k.backend.Delete(k.service, head); err != nil && !errors.Is(err, gokeyring.ErrNotFound) {
		return fmt.Errorf("store: keyring delete %s: %w", key, err)
	}
	k.deleteChunks(head, old.Version, k.chunksFor(len(old.Data)))
	return nil
}

// Lock implements store.Locker with a lock file per key, separate from the writers' lock.
func (k *Store) Lock(ctx context.Context, key store.Key) (func(), error) {
	if err := key.Validate(); err != nil {
		return nil, err
	}
	return k.lock(ctx, key, "refresh")
}

// newKeyringVersion draws a random version that is neither 0, store.AnyVersion nor prev.
func newKeyringVersion(prev uint64) (uint64, error) {
	var b [8]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			return 0, fmt.Errorf("store: version: %w", err)
		}
		v := binary.BigEndian.Uint64(b[:])
		if v != 0 && v != store.AnyVersion && v != prev {
			return v, nil
		}
	}
}

// ProbeTimeout bounds how long Probe waits: on a desktop without an unlocked
// keyring, Secret Service can block on a prompt nobody will answer.
const ProbeTimeout = 3 * time.Second

// Probe reports whether backend answers: a lookup of an entry that does not
// exist must come back "not found" within ProbeTimeout (or ctx's deadline).
func Probe(ctx context.Context, backend Backend, service string) error {
	if backend == nil {
		backend = OS{}
	}
	if service == "" {
		service = DefaultService
	}
	ctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := backend.Get(service, "probe:cogauth")
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || errors.Is(err, gokeyring.ErrNotFound) {
			return nil
		}
		return fmt.Errorf("store: keyring unavailable: %w", err)
	case <-ctx.Done():
		return fmt.Errorf("store: keyring unavailable: %w", ctx.Err())
	}
}

// OrFileOptions configure OpenOrFile.
type OrFileOptions struct {
	Keyring Options
	// FilePath is the file store used where no keyring answers.
	FilePath string
	// Warn receives the one-time notice that sessions are kept in a plain file;
	// nil discards it.
	Warn io.Writer
	// File configures the file store (store.OpenFile) used where no keyring
	// answers; its Warn defaults to Warn.
	File store.FileOptions
}

// OpenOrFile returns a keyring store when the keyring answers, and otherwise
// the file store at opts.FilePath (0600 in a 0700 directory), as the GitHub CLI does
// on headless machines. The first time it falls back for a given file it writes a
// warning to opts.Warn and leaves a marker next to the file so that scripts calling
// it every minute do not repeat it.
func OpenOrFile(ctx context.Context, opts OrFileOptions) (store.Store, error) {
	if err := Probe(ctx, opts.Keyring.Backend, opts.Keyring.Service); err == nil {
		return New(opts.Keyring)
	}
	if opts.File.Warn == nil {
		opts.File.Warn = opts.Warn
	}
	f, err := store.OpenFile(opts.FilePath, opts.File)
	if err != nil {
		return nil, err
	}
	marker := f.Path() + ".warned"
	if _, err := os.Stat(marker); errors.Is(err, os.ErrNotExist) {
		if opts.Warn != nil {
			fmt.Fprintf(opts.Warn, "warning: no OS keyring answered; sessions are kept in %s (mode 0600)\n", f.Path())
		}
		if mf, err := os.OpenFile(marker, os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
			mf.Close()
		}
	}
	return f, nil
}

func conflict(k store.Key, have, want uint64) error {
	return fmt.Errorf("%w: %s is at version %d, writer expected %d", store.ErrConflict, k, have, want)
}
