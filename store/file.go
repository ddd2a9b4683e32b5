package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/store/internal/lockfile"
	"github.com/cogauth/cogauth/store/internal/migrate"
)

// fileFormat names the layout of a session file; a file with another format is
// refused rather than guessed at, but for the formats of earlier releases, which
// migrate.File converts (the next write rewrites the file in fileFormat).
const fileFormat = "cogauth-sessions/3"

// File is a Store kept in one JSON file shared by every process that opens it. Writes
// go to a temporary file in the same directory that is fsynced and renamed over the
// old one, so a reader sees the old or the new file, never half of one. The file is
// 0600 and a directory it creates is 0700. Writers and refresh holders serialize
// through flock(2) lock files next to it, across processes. A writer killed between
// creating its temporary file and the rename leaves that file behind, tokens and
// all; the next writer removes it under the lock, and so does opening the store
// when no writer is at work.
type File struct {
	path string
	opts FileOptions
	mu   sync.Mutex // serializes this process's writers before they take the flock
}

// FileOptions configure a file store (OpenFile).
type FileOptions struct {
	// SetAsideCorrupt makes a file that cannot be read as a session file (garbage,
	// truncated, empty, another format) no longer fail every call with ErrCorrupt:
	// under the writers' lock it is renamed next to itself as
	// "<file>.corrupt-<UTC time>" (mode 0600, kept for inspection), the store goes
	// on as if empty, and Warn is told which file went where and why. The sessions
	// in it are lost to the store (their users sign in again); without the option
	// they are lost to every command until somebody repairs the file.
	SetAsideCorrupt bool
	// Warn receives one line for each file set aside and, at open, one for a file
	// or directory that others may read or write (naming the chmod that fixes
	// it). Nil discards them.
	Warn io.Writer
	// Clock tells when records expire and stamps the name of a file set aside
	// (clock.System if nil).
	Clock clock.Clock
}

// NewFile returns a file store at path with the default options: see OpenFile.
func NewFile(path string) (*File, error) { return OpenFile(path, FileOptions{}) }

// OpenFile returns a file store at path, creating its directory (0700) if needed.
// The file itself is created on first write. Opening removes the temporary files of
// dead writers when no writer is at work, and warns (opts.Warn) when the file or
// its directory is open to others.
func OpenFile(path string, opts FileOptions) (*File, error) {
	if path == "" {
		return nil, errors.New("store: empty file path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if opts.Clock == nil {
		opts.Clock = clock.System{}
	}
	f := &File{path: abs, opts: opts}
	f.warnLoosePermissions()
	// Clear what writers killed mid-write left, if no writer is at work now (one
	// that is clears it itself); opening never waits.
	if unlock, ok, _ := lockfile.TryLock(f.lockPath()); ok {
		f.removeStaleTemps()
		unlock()
	}
	return f, nil
}

// warnLoosePermissions tells opts.Warn when the file or its directory is open to
// group or others: the file holds refresh tokens.
func (f *File) warnLoosePermissions() {
	if f.opts.Warn == nil {
		return
	}
	dir := filepath.Dir(f.path)
	if st, err := os.Stat(dir); err == nil && st.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(f.opts.Warn, "warning: the session directory %s is open to other users (mode %04o); run: chmod 700 %s\n", dir, st.Mode().Perm(), shellQuote(dir))
	}
	if st, err := os.Stat(f.path); err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(f.opts.Warn, "warning: the session file %s is open to other users (mode %04o); run: chmod 600 %s\n", f.path, st.Mode().Perm(), shellQuote(f.path))
	}
}

// shellQuote quotes s for a shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+=@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// lockPath is the writers' lock file.
func (f *File) lockPath() string { return f.path + ".lock" }

// tempPattern names write's temporary files (os.CreateTemp's pattern).
func (f *File) tempPattern() string { return "." + filepath.Base(f.path) + ".tmp-*" }

// removeStaleTemps removes the temporary files of writers that died between
// creating one and renaming it over the file (kill -9, power loss): they hold
// tokens and would pile up. The caller holds the writers' lock, and every writer
// (of this release and the one before) creates its temporary file only while
// holding it, so any temporary file there is now is a dead writer's.
func (f *File) removeStaleTemps() {
	dir := filepath.Dir(f.path)
	prefix := strings.TrimSuffix(f.tempPattern(), "*")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		// Only regular files: whatever else carries the name is not ours.
		if e.Type().IsRegular() && strings.HasPrefix(e.Name(), prefix) {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// Path returns the file's absolute path.
func (f *File) Path() string { return f.path }

// fileDoc is the on-disk layout.
type fileDoc struct {
	Format string      `json:"format"`
	Seq    uint64      `json:"seq"` // last version handed out; versions are never reused
	Items  []fileEntry `json:"entries"`
}

type fileEntry struct {
	Key     Key    `json:"key"`
	Version uint64 `json:"version"`
	Data    []byte `json:"data"`
	// Expires is when the record ends, Unix milliseconds; absent: never.
	Expires int64 `json:"expires,omitempty"`
}

// sessions is the parsed file: a map for lookup plus the version sequence.
type sessions struct {
	seq     uint64
	entries map[Key]memEntry
}

// parseFile decodes a session file strictly. Any defect is an ErrCorrupt: a session
// file nobody can read must surface, not read as "no sessions".
func parseFile(b []byte) (*sessions, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, fmt.Errorf("%w: empty file", ErrCorrupt)
	}
	doc, err := decodeFile(b)
	if err != nil {
		return nil, err
	}
	s := &sessions{seq: doc.Seq, entries: make(map[Key]memEntry, len(doc.Items))}
	for i, it := range doc.Items {
		switch {
		case it.Key.Validate() != nil:
			return nil, fmt.Errorf("%w: entry %d has no valid key", ErrCorrupt, i)
		case it.Version == 0 || it.Version > doc.Seq:
			return nil, fmt.Errorf("%w: entry %d has version %d outside 1..%d", ErrCorrupt, i, it.Version, doc.Seq)
		case it.Expires < 0:
			return nil, fmt.Errorf("%w: entry %d has a negative expiry", ErrCorrupt, i)
		}
		if _, dup := s.entries[it.Key]; dup {
			return nil, fmt.Errorf("%w: entry %d repeats %s", ErrCorrupt, i, it.Key)
		}
		e := memEntry{Entry: Entry{Data: it.Data, Version: it.Version}}
		if it.Expires != 0 {
			e.expires = time.UnixMilli(it.Expires)
		}
		s.entries[it.Key] = e
	}
	return s, nil
}

// decodeFile decodes the document of a session file in fileFormat, or of an
// earlier release's format through migrate.File.
func decodeFile(b []byte) (*fileDoc, error) {
	var head struct {
		Format string `json:"format"`
	}
	// A file that does not even parse fails below, with the decoder's words.
	if json.NewDecoder(bytes.NewReader(b)).Decode(&head) == nil && migrate.IsOldFile(head.Format) {
		seq, old, err := migrate.File(b)
		if err != nil {
			return nil, fmt.Errorf("%w: %s file: %v", ErrCorrupt, head.Format, err)
		}
		doc := &fileDoc{Format: fileFormat, Seq: seq, Items: make([]fileEntry, len(old))}
		for i, e := range old {
			doc.Items[i] = fileEntry{Key: Key(e.Key), Version: e.Version, Data: e.Data, Expires: e.Expires}
		}
		return doc, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var doc fileDoc
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the JSON document", ErrCorrupt)
	}
	if doc.Format != fileFormat {
		return nil, fmt.Errorf("%w: format %q, want %q", ErrCorrupt, doc.Format, fileFormat)
	}
	return &doc, nil
}

// encode writes entries in a stable order so that equal contents give equal files.
func (s *sessions) encode() ([]byte, error) {
	doc := fileDoc{Format: fileFormat, Seq: s.seq, Items: make([]fileEntry, 0, len(s.entries))}
	for k, e := range s.entries {
		doc.Items = append(doc.Items, fileEntry{Key: k, Version: e.Version, Data: e.Data, Expires: unixMilli(e.expires)})
	}
	sort.Slice(doc.Items, func(i, j int) bool { return doc.Items[i].Key < doc.Items[j].Key })
	return json.MarshalIndent(doc, "", "  ")
}

// read loads the file; a missing file is an empty store.
func (f *File) read() (*sessions, error) {
	b, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return &sessions{entries: make(map[Key]memEntry)}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	s, err := parseFile(b)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", f.path, err)
	}
	return s, nil
}

// readLocked is read for a holder of the writers' lock: with SetAsideCorrupt, a
// corrupt file is set aside and reads as empty. Only under the lock: a writer may
// be renaming a good file over the bad one, and that one must not go aside.
func (f *File) readLocked() (*sessions, error) {
	s, err := f.read()
	if err == nil || !f.opts.SetAsideCorrupt || !errors.Is(err, ErrCorrupt) {
		return s, err
	}
	aside, rerr := f.setAside()
	if rerr != nil {
		return nil, fmt.Errorf("%w (and setting it aside failed: %v)", err, rerr)
	}
	if f.opts.Warn != nil {
		fmt.Fprintf(f.opts.Warn, "warning: the session file %s could not be read (%v); it was moved to %s and sessions start empty: sign in again\n", f.path, errors.Unwrap(err), aside)
	}
	return &sessions{entries: make(map[Key]memEntry)}, nil
}

// setAside renames the file to a name of its own next to it, 0600.
func (f *File) setAside() (string, error) {
	stamp := f.opts.Clock.Now().UTC().Format("20060102T150405Z")
	for i := 0; ; i++ {
		aside := f.path + ".corrupt-" + stamp
		if i > 0 {
			aside += fmt.Sprintf("-%d", i)
		}
		// Never over another file set aside.
		if _, err := os.Lstat(aside); !errors.Is(err, fs.ErrNotExist) {
			if err != nil || i >= 100 {
				return "", fmt.Errorf("store: cannot name a file to set %s aside", f.path)
			}
			continue
		}
		if err := os.Chmod(f.path, 0o600); err != nil {
			return "", err
		}
		if err := os.Rename(f.path, aside); err != nil {
			return "", err
		}
		return aside, nil
	}
}

// write replaces the file atomically: temp file, fsync, rename, fsync the directory.
func (f *File) write(s *sessions) error {
	b, err := s.encode()
	if err != nil {
		return fmt.Errorf("store: %s: %w", f.path, err)
	}
	dir := filepath.Dir(f.path)
	tmp, err := os.CreateTemp(dir, f.tempPattern())
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	// CreateTemp already makes the file 0600; Chmod guards against an odd umask-free
	// platform and documents the intent.
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if err := os.Rename(tmp.Name(), f.path); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	done = true
	// The rename is durable only once the directory entry is on disk.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// update runs fn on the current contents under the writers' lock and writes the
// result if fn reports a change.
func (f *File) update(ctx context.Context, fn func(*sessions) (changed bool, err error)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	unlock, err := lockfile.Lock(ctx, f.lockPath())
	if err != nil {
		return err
	}
	defer unlock()
	f.removeStaleTemps()
	s, err := f.readLocked()
	if err != nil {
		return err
	}
	changed, err := fn(s)
	if err != nil || !changed {
		return err
	}
	return f.write(s)
}

// Get implements Store. Readers take no lock: the rename makes every read whole.
// Only a reader that finds the file corrupt with SetAsideCorrupt set takes the
// writers' lock, to set it aside.
func (f *File) Get(ctx context.Context, k Key) (Entry, error) {
	if err := k.Validate(); err != nil {
		return Entry{}, err
	}
	s, err := f.read()
	if err != nil && f.opts.SetAsideCorrupt && errors.Is(err, ErrCorrupt) {
		err = f.update(ctx, func(locked *sessions) (bool, error) {
			s = locked
			return false, nil
		})
	}
	if err != nil {
		return Entry{}, err
	}
	e, ok := s.entries[k]
	if !ok || Expired(e.expires, f.opts.Clock.Now()) {
		return Entry{}, fmt.Errorf("%w: %s", ErrNotFound, k)
	}
	return e.Entry, nil
}

// unixMilli is t in Unix milliseconds rounded up (a record never ends early), 0
// for the zero time.
func unixMilli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	ms := t.UnixMilli()
	if t.Sub(time.UnixMilli(ms)) > 0 {
		ms++
	}
	return max(ms, 1)
}

// dropExpired removes the records that have ended by now; it reports whether it
// removed any.
func (s *sessions) dropExpired(now time.Time) bool {
	n := len(s.entries)
	for k, e := range s.entries {
		if Expired(e.expires, now) {
			delete(s.entries, k)
		}
	}
	return len(s.entries) != n
}

// Put implements Store.
func (f *File) Put(ctx context.Context, k Key, data []byte, ifVersion uint64, expires time.Time) (uint64, error) {
	if err := k.Validate(); err != nil {
		return 0, err
	}
	var v uint64
	err := f.update(ctx, func(s *sessions) (bool, error) {
		s.dropExpired(f.opts.Clock.Now())
		cur := s.entries[k].Version
		if ifVersion != AnyVersion && cur != ifVersion {
			return false, conflict(k, cur, ifVersion)
		}
		s.seq++
		v = s.seq
		e := memEntry{Entry: Entry{Data: append([]byte(nil), data...), Version: v}}
		if !expires.IsZero() {
			e.expires = time.UnixMilli(unixMilli(expires))
		}
		s.entries[k] = e
		return true, nil
	})
	return v, err
}

// Delete implements Store.
func (f *File) Delete(ctx context.Context, k Key, ifVersion uint64) error {
	if err := k.Validate(); err != nil {
		return err
	}
	return f.update(ctx, func(s *sessions) (bool, error) {
		dropped := s.dropExpired(f.opts.Clock.Now())
		e, ok := s.entries[k]
		if !ok {
			return dropped, nil
		}
		if ifVersion != AnyVersion && e.Version != ifVersion {
			return false, conflict(k, e.Version, ifVersion)
		}
		delete(s.entries, k)
		return true, nil
	})
}

// Lock implements Locker with one lock file per key under "<file>.locks/", so
// refreshes of different users never wait on each other. Lock files are left in
// place: removing one while another process waits on it would let two holders in.
func (f *File) Lock(ctx context.Context, k Key) (func(), error) {
	if err := k.Validate(); err != nil {
		return nil, err
	}
	dir := f.path + ".locks"
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return lockfile.Lock(ctx, filepath.Join(dir, lockName(k)+".lock"))
}

// lockName names k's lock file: a hash of migrate.LockID, the name earlier
// releases gave the same record's lock.
func lockName(k Key) string {
	sum := sha256.Sum256([]byte(migrate.LockID("", string(k))))
	return hex.EncodeToString(sum[:16])
}
