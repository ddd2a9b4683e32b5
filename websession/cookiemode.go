package websession

// Cookie-only mode (Config.CookieKeys, no Store): the browser keeps the session.
//
// The records a server store would hold for a session (the web record and the
// Manager's records, the session in session's binary layout) are framed as they
// are, sealed with AES-GCM under the first of Config.CookieKeys (any of them
// opens), and split into chunks
// "<name>.0", "<name>.1", … Each chunk's value starts with a header: the
// format ('1'), the chunk count (one digit) and the chunk set's 8-character
// tag, so that chunks of two writes never combine; the tag is also the seal's
// additional data. Per replica, a session lives in the ordinary cache with a
// memory store of its own, so the existing Manager (and its one refresh per
// session) serves it; a change of its records is written back as Set-Cookie of
// every chunk (leftover higher chunks cleared).

import (
	"bytes"
	"context"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cogauth/cogauth/internal/errkind"
	"github.com/cogauth/cogauth/secret"
	"github.com/cogauth/cogauth/store"
)

const (
	chunkFormat = '1'
	maxChunks   = 9
	chunkTagLen = 8
	chunkHdrLen = 2 + chunkTagLen
	chunkData   = 3800 // base64 characters per chunk: with name and attributes under 4096 bytes
	payloadFmt  = 2
	// packedPayloadFmt is release 2's payload, its records packed JSON.
	packedPayloadFmt = 1
	maxRecords       = 4
)

// ErrCookieRefused: the session cookies are tampered, truncated, of two
// different writes, sealed under a key no longer in Config.CookieKeys, or
// unreadable. The browser is treated as signed out and its cookies cleared.
var ErrCookieRefused = errkind.New("websession: session cookies refused (tampered, truncated, mixed chunk sets, or sealed under a key no longer configured)", false)

// cookieKeys are the AEADs of Config.CookieKeys: the first seals, all open.
func cookieAEADs(list []secret.Bytes) ([]cipher.AEAD, error) {
	var out []cipher.AEAD
	for i, k := range list {
		if len(k) < 32 {
			return nil, fmt.Errorf("websession: Config.CookieKeys[%d] must be at least 32 random bytes", i)
		}
		a, err := aeadFrom(k.Reveal(), "cogauth websession v1 cookie session")
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// cookieState is what a session's cookies carry.
type cookieState struct {
	id      sessionID
	gen     uint64            // bumped at every write-back; a higher one is newer
	records map[string][]byte // User of the record in the session namespace -> plain data
}

// cookieLive is the cookie-mode state of one cached session.
type cookieLive struct {
	mu     sync.Mutex
	id     sessionID
	gen    uint64
	writes int64    // the sealed store's write count at gen
	chunks []string // the cookie values of gen; nil until the state changes here
}

// --- binary packing ---

func putBytes(b *bytes.Buffer, p []byte) {
	var tmp [binary.MaxVarintLen64]byte
	b.Write(tmp[:binary.PutUvarint(tmp[:], uint64(len(p)))])
	b.Write(p)
}

type reader struct {
	b   []byte
	err bool
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.err || n > uint64(len(r.b)) {
		r.err = true
		return nil
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) byte() byte {
	if len(r.b) == 0 {
		r.err = true
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// unpackRecord reads a record of release 2's payload.
func unpackRecord(r *reader) []byte { return unpackFields(r, 1) }

func encodeState(s *cookieState) []byte {
	var b bytes.Buffer
	b.WriteByte(payloadFmt)
	b.Write(s.id[:])
	var tmp [binary.MaxVarintLen64]byte
	b.Write(tmp[:binary.PutUvarint(tmp[:], s.gen)])
	users := make([]string, 0, len(s.records))
	for u := range s.records {
		users = append(users, u)
	}
	sort.Strings(users)
	b.WriteByte(byte(len(users)))
	for _, u := range users {
		putBytes(&b, []byte(u))
		putBytes(&b, s.records[u])
	}
	return b.Bytes()
}

func decodeState(p []byte) (*cookieState, error) {
	r := &reader{b: p}
	format := r.byte()
	if format != payloadFmt && format != packedPayloadFmt || len(r.b) < idLen {
		return nil, ErrCookieRefused
	}
	s := &cookieState{records: map[string][]byte{}}
	copy(s.id[:], r.b[:idLen])
	r.b = r.b[idLen:]
	s.gen = r.uvarint()
	n := int(r.byte())
	if n > maxRecords {
		return nil, ErrCookieRefused
	}
	for range n {
		u := string(r.bytes())
		var d []byte
		if format == packedPayloadFmt {
			d = unpackRecord(r)
		} else {
			d = bytes.Clone(r.bytes())
		}
		if r.err {
			return nil, ErrCookieRefused
		}
		if _, dup := s.records[u]; dup || !validRecordUser(u) {
			return nil, ErrCookieRefused
		}
		s.records[u] = d
	}
	if r.err || len(r.b) != 0 || s.records[metaUser] == nil {
		return nil, ErrCookieRefused
	}
	return s, nil
}

// validRecordUser: the web record, or a Manager record's "<kind>:<32 hex>".
func validRecordUser(u string) bool {
	if u == metaUser {
		return true
	}
	kind, h, ok := strings.Cut(u, ":")
	return ok && len(h) == 32 && validName(h+h) && (kind == managerRecords["s"] || kind == managerRecords["u"])
}

// --- chunks ---

func (w *Sessions) chunkName(i int) string { return w.cookieName + "." + strconv.Itoa(i) }

// sealChunks seals s and splits it into cookie values.
func (w *Sessions) sealChunks(s *cookieState) ([]string, error) {
	var tagRaw [6]byte
	if _, err := rand.Read(tagRaw[:]); err != nil {
		return nil, fmt.Errorf("websession: reading randomness: %w", err)
	}
	tag := base64.RawURLEncoding.EncodeToString(tagRaw[:])
	sealed, err := seal(w.cookieAEADs[0], encodeState(s), []byte(w.cookieName+"/"+tag))
	if err != nil {
		return nil, err
	}
	data := b64(sealed)
	n := (len(data) + w.chunkSize - 1) / w.chunkSize
	if n > maxChunks {
		return nil, fmt.Errorf("websession: the session needs %d cookies, more than %d", n, maxChunks)
	}
	out := make([]string, n)
	for i := range out {
		part := data[i*w.chunkSize : min(len(data), (i+1)*w.chunkSize)]
		out[i] = string(rune(chunkFormat)) + strconv.Itoa(n) + tag + part
	}
	return out, nil
}

// openChunks reads the request's session cookies. (nil, nil): none.
func (w *Sessions) openChunks(r *http.Request) (*cookieState, error) {
	c0, err := r.Cookie(w.chunkName(0))
	if err != nil {
		return nil, nil
	}
	values := []string{c0.Value}
	if len(c0.Value) < chunkHdrLen || c0.Value[0] != chunkFormat || c0.Value[1] < '1' || c0.Value[1] > '0'+maxChunks {
		return nil, ErrCookieRefused
	}
	n := int(c0.Value[1] - '0')
	for i := 1; i < n; i++ {
		c, err := r.Cookie(w.chunkName(i))
		if err != nil {
			return nil, ErrCookieRefused // truncated
		}
		values = append(values, c.Value)
	}
	return w.openValues(values)
}

// openValues joins and opens chunk values (the decoder the fuzz target drives).
func (w *Sessions) openValues(values []string) (*cookieState, error) {
	if len(values) == 0 || len(values) > maxChunks {
		return nil, ErrCookieRefused
	}
	hdr := ""
	var data strings.Builder
	for _, v := range values {
		if len(v) < chunkHdrLen || len(v) > chunkHdrLen+w.chunkSize {
			return nil, ErrCookieRefused
		}
		if hdr == "" {
			hdr = v[:chunkHdrLen]
			if hdr[0] != chunkFormat || int(hdr[1]-'0') != len(values) {
				return nil, ErrCookieRefused
			}
		} else if v[:chunkHdrLen] != hdr {
			return nil, ErrCookieRefused // another write's chunk
		}
		data.WriteString(v[chunkHdrLen:])
	}
	if data.Len() > maxChunks*w.chunkSize {
		return nil, ErrCookieRefused
	}
	sealed, err := base64.RawURLEncoding.Strict().DecodeString(data.String())
	if err != nil {
		return nil, ErrCookieRefused
	}
	ad := []byte(w.cookieName + "/" + hdr[2:])
	for _, a := range w.cookieAEADs {
		if plain, err := unseal(a, sealed, ad); err == nil {
			return decodeState(plain)
		}
	}
	return nil, ErrCookieRefused
}

// writeChunks sets the session's cookies and clears higher chunks the request
// still has.
func (w *Sessions) writeChunks(rw http.ResponseWriter, r *http.Request, chunks []string) {
	for i, v := range chunks {
		http.SetCookie(rw, &http.Cookie{
			Name: w.chunkName(i), Value: v, Path: "/",
			MaxAge: int(w.cfg.Get().AbsoluteTimeout / time.Second), Secure: w.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
		})
	}
	w.clearChunks(rw, r, len(chunks))
}

// clearChunks clears chunks from..maxChunks-1 that the request has (chunk 0
// always, when from is 0).
func (w *Sessions) clearChunks(rw http.ResponseWriter, r *http.Request, from int) {
	for i := from; i < maxChunks; i++ {
		if i > 0 || r == nil {
			if r == nil {
				break
			}
			if _, err := r.Cookie(w.chunkName(i)); err != nil {
				continue
			}
		}
		http.SetCookie(rw, &http.Cookie{Name: w.chunkName(i), Value: "", Path: "/", MaxAge: -1, Secure: w.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	}
}

// --- sessions ---

// cookieRecordUsers are the records a cookie session carries besides the web
// record.
func cookieRecordUsers(user string) []string {
	return []string{metaUser, innerUser(managerRecords["s"], user), innerUser(managerRecords["u"], "")}
}

// lookupCookie returns the live session of the request's cookies.
func (w *Sessions) lookupCookie(ctx context.Context, s *cookieState) (*live, error) {
	key := w.keys.name(s.id)
	if w.revs.revokedName(key) {
		// Signed out on some replica: a copy of the cookies opens nothing.
		if l := w.cache.remove(key, nil); l != nil {
			l.mgr.Close()
		}
		return nil, ErrCookieRefused
	}
	if l := w.cache.get(key); l != nil {
		l.ck.mu.Lock()
		cachedCurrent := l.ck.gen >= s.gen
		l.ck.mu.Unlock()
		if cachedCurrent {
			w.tel.cacheResult(ctx, cacheHit)
			return l, nil
		}
		// Another replica wrote a newer state: take the browser's.
		w.drop(l)
	}
	aead, err := w.keys.sessionAEAD(s.id)
	if err != nil {
		return nil, err
	}
	name := key.String()
	st, mst := w.sealedIn(store.NewMemory(), name, aead)
	for u, data := range s.records {
		if _, err := st.put(ctx, recordKey("", st.ns, w.pool, w.client, u), data, 0); err != nil {
			return nil, err
		}
	}
	ms, err := w.readMeta(ctx, st)
	if err != nil {
		return nil, ErrCookieRefused
	}
	mgr, err := w.newManager(mst, ms.m.User)
	if err != nil {
		return nil, err
	}
	l := &live{key: key, name: name, st: st, mgr: mgr, ck: &cookieLive{id: s.id, gen: s.gen, writes: st.writes.Load()}}
	l.rec.Store(ms)
	w.tel.cacheResult(ctx, cacheMiss)
	got, evicted := w.cache.add(l)
	if got != l {
		mgr.Close()
	}
	for _, e := range evicted {
		e.mgr.Close()
	}
	return got, nil
}

// syncCookies writes l's state back to the browser when it changed since the
// cookies the request carried (gen reqGen).
func (w *Sessions) syncCookies(ctx context.Context, rw http.ResponseWriter, r *http.Request, l *live, reqGen uint64) error {
	ck := l.ck
	ck.mu.Lock()
	defer ck.mu.Unlock()
	if n := l.st.writes.Load(); n != ck.writes {
		s := &cookieState{id: ck.id, gen: ck.gen + 1, records: map[string][]byte{}}
		for _, u := range cookieRecordUsers(l.rec.Load().m.User) {
			e, err := l.st.get(ctx, recordKey("", l.st.ns, w.pool, w.client, u))
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			s.records[u] = e.Data
		}
		chunks, err := w.sealChunks(s)
		if err != nil {
			return err
		}
		ck.gen, ck.writes, ck.chunks = s.gen, n, chunks
	}
	if ck.chunks != nil && reqGen != ck.gen {
		w.writeChunks(rw, r, ck.chunks)
	}
	return nil
}
