package websession

// A web session's records as parts of one store record (server store mode).
//
// The record lives at the web record's key ("ws/N" … User "web") and holds,
// sealed (bundleSealVersion, the version byte also in the additional data), a
// frame: format byte, the last part version handed out, and each part's name
// (the User its key had: "web", "session:<hash>", "current-user:<hash>"), its
// version and its data as the part's writer gave it (the Manager's session
// record in session's binary layout: websession knows none of its fields).
// Release 2 wrote frame format 1, whose parts were JSON packed field by field
// (unpackFields); it is still read, and the record's next write is format 2.
//
// Each part keeps a version of its own, so that the Manager's compare-and-swap
// on its session record is not disturbed by the web layer's idle extensions and
// the other way round: a write checks the part's version, then writes the
// whole record with compare-and-swap on the record's version, and retries from
// a fresh read when another part changed meanwhile. Every write gives the record
// the session's end (lifetime.end of the web part) as its expiry, so a record
// lives exactly as long as its session. A part's new version is one
// more than the larger of the record's version and the frame's last one, so no
// version repeats while the record exists; a new record starts from the clock
// in microseconds, as the stores' own versions do. Deleting a part keeps the
// record (with its counter); the record goes only with the session
// (deleteRecords).

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/cogauth/cogauth/store"
)

const (
	bundleSealVersion = 2
	bundleFormat      = 2
	// packedBundleFormat is release 2's frame, its parts packed JSON.
	packedBundleFormat = 1
	maxParts           = 64
	// bundleTries bounds the compare-and-swap retries of one write; beyond,
	// the write reports a conflict (its callers re-read and try again).
	bundleTries = 16
)

// bundle is the session's record as read at version pv (exists false: absent).
// It is never changed once made: a write makes a new one.
type bundle struct {
	exists bool
	pv     uint64
	seq    uint64
	parts  map[string]bundlePart
}

type bundlePart struct {
	ver  uint64
	data []byte
}

func (s *sealedStore) bundleKey(mk recKey) recKey {
	mk.User = metaUser
	return mk
}

func bundleAD(k recKey) []byte {
	return append([]byte{bundleSealVersion}, k.String()...)
}

func encodeBundle(seq uint64, parts map[string]bundlePart) []byte {
	var b bytes.Buffer
	b.WriteByte(bundleFormat)
	var tmp [binary.MaxVarintLen64]byte
	b.Write(tmp[:binary.PutUvarint(tmp[:], seq)])
	b.WriteByte(byte(len(parts)))
	for _, name := range sortedKeys(parts) {
		p := parts[name]
		putBytes(&b, []byte(name))
		b.Write(tmp[:binary.PutUvarint(tmp[:], p.ver)])
		putBytes(&b, p.data)
	}
	return b.Bytes()
}

func decodeBundle(p []byte) (seq uint64, parts map[string]bundlePart, err error) {
	r := &reader{b: p}
	format := r.byte()
	if format != bundleFormat && format != packedBundleFormat {
		return 0, nil, errUnseal
	}
	seq = r.uvarint()
	n := int(r.byte())
	if r.err || n > maxParts {
		return 0, nil, errUnseal
	}
	parts = make(map[string]bundlePart, n)
	for range n {
		name := string(r.bytes())
		ver := r.uvarint()
		var data []byte
		if format == packedBundleFormat {
			data = unpackPart(r)
		} else {
			data = bytes.Clone(r.bytes())
		}
		if r.err {
			return 0, nil, errUnseal
		}
		if _, dup := parts[name]; dup || !validPartName(name) || ver == 0 || ver > seq {
			return 0, nil, errUnseal
		}
		parts[name] = bundlePart{ver: ver, data: data}
	}
	if len(r.b) != 0 {
		return 0, nil, errUnseal
	}
	return seq, parts, nil
}

// validPartName: the web record, or a Manager record's "<kind>:<32 hex>".
func validPartName(u string) bool {
	if u == metaUser {
		return true
	}
	kind, h, ok := strings.Cut(u, ":")
	if !ok || len(h) != 32 || !validName(h+h) {
		return false
	}
	for _, k := range managerRecords {
		if kind == k {
			return true
		}
	}
	return kind == otherRecord
}

func sortedKeys(m map[string]bundlePart) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// unpackPart reads a part of release 2's frame.
func unpackPart(r *reader) []byte { return unpackFields(r, 2) }

// unpackFields reads what packPart (tag 2) or packRecord (tag 1) wrote: tag 0
// and the data as it was, or the tag and a JSON object's fields, each a raw
// JSON value or a token's segments. It gives back the JSON object, or nil with
// r.err set when the bytes are not one.
func unpackFields(r *reader, tag byte) []byte {
	switch r.byte() {
	case 0:
		return bytes.Clone(r.bytes())
	case tag:
	default:
		r.err = true
		return nil
	}
	n := r.uvarint()
	if n > 64 {
		r.err = true
	}
	var out bytes.Buffer
	out.WriteByte('{')
	for i := uint64(0); i < n && !r.err; i++ {
		k := r.bytes()
		kind := r.byte()
		if r.err {
			break
		}
		kj, _ := json.Marshal(string(k))
		if i > 0 {
			out.WriteByte(',')
		}
		out.Write(kj)
		out.WriteByte(':')
		switch kind {
		case 0:
			v := r.bytes()
			if !json.Valid(v) {
				r.err = true
			}
			out.Write(v)
		case 3, 5:
			for j := range int(kind) {
				if j == 0 {
					out.WriteByte('"')
				} else {
					out.WriteByte('.')
				}
				out.WriteString(base64.RawURLEncoding.EncodeToString(r.bytes()))
			}
			out.WriteByte('"')
		default:
			r.err = true
		}
	}
	out.WriteByte('}')
	if r.err || !json.Valid(out.Bytes()) {
		r.err = true
		return nil
	}
	return out.Bytes()
}

// readBundle reads the session's record from the store.
func (s *sealedStore) readBundle(ctx context.Context, bk recKey) (*bundle, error) {
	e, err := s.inner.Get(ctx, bk.store())
	if errors.Is(err, store.ErrNotFound) {
		b := &bundle{}
		s.remember(b)
		return b, nil
	}
	if err != nil {
		return nil, err
	}
	b := &bundle{exists: true, pv: e.Version}
	n := s.aead.NonceSize()
	sealed := e.Data
	if len(sealed) < 1+n+s.aead.Overhead() || sealed[0] != bundleSealVersion {
		return nil, fmt.Errorf("%w: %w", store.ErrCorrupt, errUnseal)
	}
	plain, err := s.aead.Open(nil, sealed[1:1+n], sealed[1+n:], bundleAD(bk))
	if err == nil {
		b.seq, b.parts, err = decodeBundle(plain)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", store.ErrCorrupt, errUnseal)
	}
	s.remember(b)
	return b, nil
}

func (s *sealedStore) remember(b *bundle) {
	s.mu.Lock()
	s.last = b
	s.mu.Unlock()
}

func (s *sealedStore) cached() *bundle {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// getPart reads the part mk names.
func (s *sealedStore) getPart(ctx context.Context, mk recKey) (store.Entry, error) {
	b, err := s.readBundle(ctx, s.bundleKey(mk))
	if err != nil {
		return store.Entry{}, err
	}
	p, ok := b.parts[mk.User]
	if !ok {
		return store.Entry{}, fmt.Errorf("%w: %s", store.ErrNotFound, mk)
	}
	return store.Entry{Data: bytes.Clone(p.data), Version: p.ver}, nil
}

// update writes (or, with del, deletes) the part mk names if its version is
// ifVersion (store.AnyVersion: whatever it is; 0: absent), and returns its new
// version.
func (s *sealedStore) update(ctx context.Context, mk recKey, data []byte, ifVersion uint64, del bool, expires time.Time) (uint64, error) {
	if err := mk.validate(); err != nil {
		return 0, err
	}
	bk := s.bundleKey(mk)
	name := mk.User
	b, fresh := s.cached(), false
	for range bundleTries {
		if b == nil {
			var err error
			if b, err = s.readBundle(ctx, bk); err != nil {
				return 0, err
			}
			fresh = true
		}
		p, present := b.parts[name]
		switch st, err := checkPart(mk, p, present, fresh, ifVersion, del); {
		case err != nil:
			return 0, err
		case st == updateDone:
			return 0, nil
		case st == updateRetry:
			b = nil
			continue
		}
		nb, ver, err := nextBundle(b, name, data, present, del)
		if err != nil {
			return 0, err
		}
		retry, err := s.putBundle(ctx, bk, b, nb, expires)
		if retry {
			b = nil
			continue
		}
		if err != nil {
			return 0, err
		}
		if del {
			return 0, nil
		}
		return ver, nil
	}
	return 0, fmt.Errorf("%w: %s kept changing", store.ErrConflict, mk)
}

// updateStep is what update does after checking the part against the bundle.
type updateStep int

const (
	updateWrite updateStep = iota // write the new bundle
	updateRetry                   // read the bundle again
	updateDone                    // nothing to do
)

// checkPart compares the part p (present or not) of a bundle (fresh: just read
// from the store) with what the writer expects.
func checkPart(mk recKey, p bundlePart, present, fresh bool, ifVersion uint64, del bool) (updateStep, error) {
	if del && !present {
		if fresh {
			return updateDone, nil
		}
		return updateRetry, nil
	}
	if ifVersion != store.AnyVersion && (present && p.ver != ifVersion || !present && ifVersion != 0) {
		if !fresh {
			// What this replica last saw may be old: look again.
			return updateRetry, nil
		}
		return updateWrite, fmt.Errorf("%w: %s is at version %d, writer expected %d", store.ErrConflict, mk, p.ver, ifVersion)
	}
	return updateWrite, nil
}

// nextBundle is b with the part name written (or deleted), and the part's new
// version.
func nextBundle(b *bundle, name string, data []byte, present, del bool) (*bundle, uint64, error) {
	nb := &bundle{exists: true, parts: maps.Clone(b.parts)}
	if nb.parts == nil {
		nb.parts = map[string]bundlePart{}
	}
	var ver uint64
	if b.exists {
		ver = max(b.pv, b.seq) + 1
	} else {
		ver = max(uint64(time.Now().UnixMicro()), b.seq+1)
	}
	nb.seq = ver
	if del {
		delete(nb.parts, name)
	} else {
		if len(nb.parts) >= maxParts && !present {
			return nil, 0, fmt.Errorf("websession: a session holds at most %d records", maxParts)
		}
		nb.parts[name] = bundlePart{ver: ver, data: bytes.Clone(data)}
	}
	return nb, ver, nil
}

// putBundle seals nb and writes it over b; retry is true when another write
// came first.
func (s *sealedStore) putBundle(ctx context.Context, bk recKey, b, nb *bundle, expires time.Time) (retry bool, err error) {
	sealed, err := seal2(s, bk, encodeBundle(nb.seq, nb.parts))
	if err != nil {
		return false, err
	}
	expect := b.pv
	if !b.exists {
		expect = 0
	}
	nv, err := s.inner.Put(ctx, bk.store(), sealed, expect, earliest(s.life.end(partMeta(nb.parts)), expires))
	if errors.Is(err, store.ErrConflict) {
		// Another write of this session (another part, or this one) came
		// first: start again from what the store holds now.
		return true, nil
	}
	if err != nil {
		return false, err
	}
	nb.pv = nv
	s.remember(nb)
	return false, nil
}

// partMeta is the web record among parts, nil when there is none (yet) or it
// does not read.
func partMeta(parts map[string]bundlePart) *meta {
	p, ok := parts[metaUser]
	if !ok {
		return nil
	}
	m, err := decodeMeta(p.data)
	if err != nil {
		return nil
	}
	return m
}

// seal2 seals a frame for the session's record at bk.
func seal2(s *sealedStore, bk recKey, plain []byte) ([]byte, error) {
	out, err := seal(s.aead, plain, bundleAD(bk))
	if err != nil {
		return nil, err
	}
	out[0] = bundleSealVersion
	return out, nil
}
