package websession

// The user-to-sessions index, which SignOutUser reads: sharded in indexBuckets
// records, so that a user with one session (the usual case) costs the store an
// entry of about 90 bytes rather than a key of its own (about 450 bytes of
// Redis). A user's bucket is the first two bytes of keys.userTag(sub), the next
// sixteen tag the user's entries in it; bucket records are sealed with the
// index key and expire with the last absolute end of their entries. Users of a
// bucket update it with compare-and-swap (8 tries), so at 1M sessions about 15
// users share one.

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cogauth/cogauth/store"
)

const (
	indexBuckets = 1 << 16
	bucketFormat = 1
	tagLen       = 16
	// maxIndexEntries bounds one user's entries: the oldest sessions drop out
	// (they still end at their timeouts, but SignOutUser no longer reaches them).
	maxIndexEntries = 256
	// maxBucketEntries bounds a bucket (about 360 KB, under DynamoDB's item
	// limit): past it, the entries that end soonest drop out.
	maxBucketEntries = 4000
)

// indexEntry is one session of a user in the index.
type indexEntry struct {
	Name    string `json:"n"`           // the session's store name
	User    string `json:"u,omitempty"` // its Manager's username (release 2's index)
	Expires int64  `json:"e"`           // unix nanoseconds: its absolute timeout
	// OriginJTI and AccessLife are the session's (meta): what SignOutUser's
	// revocations name. Absent in indexes of release 2.
	OriginJTI  string `json:"o,omitempty"`
	AccessLife int64  `json:"t,omitempty"`
}

// bucketEntry is an entry with the tag of its user.
type bucketEntry struct {
	tag [tagLen]byte
	indexEntry
}

// indexKey names the bucket of a user's index.
func (w *Sessions) indexKey(sub string) recKey {
	t := w.keys.userTag(sub)
	return recKey{Namespace: indexNS, Pool: w.pool, Client: w.client, User: hex.EncodeToString(t[:2])}
}

func (w *Sessions) userTag(sub string) (tag [tagLen]byte) {
	t := w.keys.userTag(sub)
	copy(tag[:], t[2:])
	return tag
}

// legacyIndexKey is where release 2 kept a user's index.
func (w *Sessions) legacyIndexKey(sub string) recKey {
	return recKey{Namespace: legacyIndexNS, Pool: w.pool, Client: w.client, User: sub}
}

// readIndex returns a user's sessions, the bucket's version (0: none), and
// whether release 2's index of the user is still there (its entries are in the
// list).
func (w *Sessions) readIndex(ctx context.Context, sub string) (list []indexEntry, version uint64, legacy bool, err error) {
	all, version, err := w.readBucket(ctx, w.indexKey(sub))
	if err != nil {
		return nil, 0, false, err
	}
	tag := w.userTag(sub)
	for _, e := range all {
		if e.tag == tag {
			list = append(list, e.indexEntry)
		}
	}
	old, ov, err := w.readLegacyIndex(ctx, w.legacyIndexKey(sub))
	if err != nil {
		return nil, 0, false, err
	}
	for _, e := range old {
		if !slices.ContainsFunc(list, func(n indexEntry) bool { return n.Name == e.Name }) {
			list = append(list, e)
		}
	}
	return list, version, ov != 0, nil
}

// readBucket returns every entry of the bucket at k and its version.
func (w *Sessions) readBucket(ctx context.Context, k recKey) ([]bucketEntry, uint64, error) {
	e, err := w.store.Get(ctx, k.store())
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	plain, err := unseal(w.keys.index, e.Data, []byte(k.String()))
	var list []bucketEntry
	if err == nil {
		list, err = decodeBucket(plain)
	}
	if err != nil {
		// Start the bucket afresh rather than refuse every sign-in of its users.
		w.log.Warn("cogauth: unreadable web session index; starting it afresh", "error", err.Error())
		return nil, e.Version, nil
	}
	return list, e.Version, nil
}

// readLegacyIndex reads release 2's index of one user (sealed JSON).
func (w *Sessions) readLegacyIndex(ctx context.Context, k recKey) ([]indexEntry, uint64, error) {
	e, err := w.store.Get(ctx, k.store())
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	plain, err := unseal(w.keys.index, e.Data, []byte(k.String()))
	var list []indexEntry
	if err == nil {
		err = json.Unmarshal(plain, &list)
	}
	if err != nil {
		w.log.Warn("cogauth: unreadable web session index of release 2; dropping it", "error", err.Error())
		return nil, e.Version, nil
	}
	return slices.DeleteFunc(list, func(e indexEntry) bool { return !validName(e.Name) }), e.Version, nil
}

// updateIndex applies f to a user's entries with compare-and-swap on their
// bucket, dropping entries past their absolute timeout. The bucket expires with
// the last absolute end of its entries and goes when it empties; release 2's
// index of the user, if any, is merged in and deleted.
func (w *Sessions) updateIndex(ctx context.Context, sub string, f func([]indexEntry) []indexEntry) error {
	k := w.indexKey(sub)
	tag := w.userTag(sub)
	for range 8 {
		all, v, err := w.readBucket(ctx, k)
		if err != nil {
			return err
		}
		old, ov, err := w.readLegacyIndex(ctx, w.legacyIndexKey(sub))
		if err != nil {
			return err
		}
		mine, others := splitBucket(all, old, tag, w.clk.Now().UnixNano())
		others = mergeBucket(others, f(mine), tag)
		err = w.writeBucket(ctx, k, v, others)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err == nil && ov != 0 {
			err = w.store.Delete(ctx, w.legacyIndexKey(sub).store(), store.AnyVersion)
		}
		return err
	}
	return fmt.Errorf("websession: the user's session index kept changing: %w", store.ErrConflict)
}

// splitBucket drops the entries of all that ended by now and splits the rest
// into the user's (tag's, with those of the legacy index old) and the others.
func splitBucket(all []bucketEntry, old []indexEntry, tag [tagLen]byte, now int64) (mine []indexEntry, others []bucketEntry) {
	others = all[:0:0]
	for _, e := range all {
		switch {
		case e.Expires <= now:
		case e.tag == tag:
			mine = append(mine, e.indexEntry)
		default:
			others = append(others, e)
		}
	}
	for _, e := range old {
		if e.Expires > now && !slices.ContainsFunc(mine, func(n indexEntry) bool { return n.Name == e.Name }) {
			mine = append(mine, e)
		}
	}
	return mine, others
}

// mergeBucket adds the user's entries (the latest maxIndexEntries) to others,
// keeping the maxBucketEntries that end last.
func mergeBucket(others []bucketEntry, mine []indexEntry, tag [tagLen]byte) []bucketEntry {
	if len(mine) > maxIndexEntries {
		mine = mine[len(mine)-maxIndexEntries:]
	}
	for _, e := range mine {
		others = append(others, bucketEntry{tag: tag, indexEntry: e})
	}
	if len(others) > maxBucketEntries {
		slices.SortFunc(others, func(a, b bucketEntry) int { return cmp.Compare(b.Expires, a.Expires) })
		others = others[:maxBucketEntries]
	}
	return others
}

// writeBucket writes list as the bucket k at version v (deletes it when empty).
func (w *Sessions) writeBucket(ctx context.Context, k recKey, v uint64, list []bucketEntry) error {
	if len(list) == 0 {
		return w.store.Delete(ctx, k.store(), v)
	}
	sealed, err := seal(w.keys.index, encodeBucket(list), []byte(k.String()))
	if err != nil {
		return err
	}
	_, err = w.store.Put(ctx, k.store(), sealed, v, bucketExpiry(list))
	return err
}

// bucketExpiry is the latest absolute end of the sessions in list.
func bucketExpiry(list []bucketEntry) time.Time {
	var last int64
	for _, e := range list {
		last = max(last, e.Expires)
	}
	return time.Unix(0, last)
}

// encodeBucket: format, count, and per entry the user tag, the name (32 bytes),
// the absolute end (varint, Unix ns), the access tokens' lifetime (uvarint, s)
// and the origin_jti (length and bytes).
func encodeBucket(list []bucketEntry) []byte {
	b := make([]byte, 0, 2+len(list)*(tagLen+32+10+3+37))
	b = append(b, bucketFormat)
	b = binary.AppendUvarint(b, uint64(len(list)))
	for _, e := range list {
		b = append(b, e.tag[:]...)
		n, _ := parseName(e.Name)
		b = append(b, n[:]...)
		b = binary.AppendVarint(b, e.Expires)
		b = binary.AppendUvarint(b, uint64(max(e.AccessLife, 0)))
		b = binary.AppendUvarint(b, uint64(len(e.OriginJTI)))
		b = append(b, e.OriginJTI...)
	}
	return b
}

var errBucket = errors.New("websession: malformed index bucket")

func decodeBucket(p []byte) ([]bucketEntry, error) {
	r := &reader{b: p}
	if r.byte() != bucketFormat {
		return nil, errBucket
	}
	n := r.uvarint()
	if r.err || n > maxBucketEntries {
		return nil, errBucket
	}
	list := make([]bucketEntry, 0, n)
	for range n {
		if len(r.b) < tagLen+32 {
			return nil, errBucket
		}
		var e bucketEntry
		copy(e.tag[:], r.b)
		var name sessionName
		copy(name[:], r.b[tagLen:])
		r.b = r.b[tagLen+32:]
		e.Name = name.String()
		var k int
		if e.Expires, k = binary.Varint(r.b); k <= 0 {
			return nil, errBucket
		}
		r.b = r.b[k:]
		life := r.uvarint()
		jti := r.bytes()
		if r.err || life > 1<<31 || len(jti) > 0 && !validOriginJTI(string(jti)) {
			return nil, errBucket
		}
		e.AccessLife, e.OriginJTI = int64(life), string(jti)
		list = append(list, e)
	}
	if len(r.b) != 0 {
		return nil, errBucket
	}
	return list, nil
}
