package jwt

import (
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// A small, strict JSON reader for the two objects of a JWT. It exists because the
// header and payload are read on every Decode, and going through encoding/json into
// a map (as general JWT libraries do) costs several times more than the typed claims
// we actually need. It accepts exactly RFC 8259 JSON encoded as UTF-8; anything it
// accepts, encoding/json accepts too (FuzzScannerAgreesWithEncodingJSON checks this).

// maxDepth bounds nesting in values we skip, so hostile input cannot make the
// reader recurse deeply.
const maxDepth = 32

var (
	errSyntax   = errors.New("invalid JSON")
	errNotObj   = errors.New("not a JSON object")
	errTooDeep  = errors.New("JSON nested too deeply")
	errBadUTF8  = errors.New("invalid UTF-8")
	errTrailing = errors.New("data after the JSON object")
)

type scanner struct {
	s string // the whole document; strings without escapes are returned as substrings
	i int
}

func (sc *scanner) ws() {
	for sc.i < len(sc.s) {
		switch sc.s[sc.i] {
		case ' ', '\t', '\n', '\r':
			sc.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (sc *scanner) peek() byte {
	sc.ws()
	if sc.i >= len(sc.s) {
		return 0
	}
	return sc.s[sc.i]
}

func (sc *scanner) expect(c byte) error {
	if sc.peek() != c {
		return errSyntax
	}
	sc.i++
	return nil
}

// object walks the members of an object, calling member for each key with the
// scanner positioned at the value; member must consume the value.
func (sc *scanner) object(member func(key string) error) error {
	if sc.peek() != '{' {
		return errNotObj
	}
	sc.i++
	if sc.peek() == '}' {
		sc.i++
		return nil
	}
	for {
		if sc.peek() != '"' {
			return errSyntax
		}
		key, err := sc.str()
		if err != nil {
			return err
		}
		if err := sc.expect(':'); err != nil {
			return err
		}
		sc.ws()
		if err := member(key); err != nil {
			return err
		}
		switch sc.peek() {
		case ',':
			sc.i++
		case '}':
			sc.i++
			return nil
		default:
			return errSyntax
		}
	}
}

// end checks that only whitespace follows.
func (sc *scanner) end() error {
	if sc.peek() != 0 || sc.i != len(sc.s) {
		return errTrailing
	}
	return nil
}

// str reads a string (the scanner is at its opening quote).
func (sc *scanner) str() (string, error) {
	if sc.i >= len(sc.s) || sc.s[sc.i] != '"' {
		return "", errSyntax
	}
	sc.i++
	start := sc.i
	for sc.i < len(sc.s) {
		c := sc.s[sc.i]
		switch {
		case c == '"':
			out := sc.s[start:sc.i]
			sc.i++
			return out, nil
		case c == '\\':
			return sc.strSlow(start)
		case c < 0x20:
			return "", errSyntax
		case c < utf8.RuneSelf:
			sc.i++
		default:
			r, n := utf8.DecodeRuneInString(sc.s[sc.i:])
			if r == utf8.RuneError && n <= 1 {
				return "", errBadUTF8
			}
			sc.i += n
		}
	}
	return "", errSyntax
}

// strSlow decodes a string with escapes; start is just after the opening quote.
func (sc *scanner) strSlow(start int) (string, error) {
	buf := make([]byte, 0, sc.i-start+16)
	buf = append(buf, sc.s[start:sc.i]...)
	for sc.i < len(sc.s) {
		c := sc.s[sc.i]
		switch {
		case c == '"':
			sc.i++
			return string(buf), nil
		case c == '\\':
			var err error
			if buf, err = sc.escape(buf); err != nil {
				return "", err
			}
		case c < 0x20:
			return "", errSyntax
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			sc.i++
		default:
			r, n := utf8.DecodeRuneInString(sc.s[sc.i:])
			if r == utf8.RuneError && n <= 1 {
				return "", errBadUTF8
			}
			buf = append(buf, sc.s[sc.i:sc.i+n]...)
			sc.i += n
		}
	}
	return "", errSyntax
}

// escapes maps the one-letter escapes to their bytes.
var escapes = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// escape appends what the escape at sc.i (a backslash) stands for to buf.
func (sc *scanner) escape(buf []byte) ([]byte, error) {
	if sc.i+1 >= len(sc.s) {
		return nil, errSyntax
	}
	e := sc.s[sc.i+1]
	sc.i += 2
	if b := escapes[e]; b != 0 {
		return append(buf, b), nil
	}
	if e != 'u' {
		return nil, errSyntax
	}
	r, ok := sc.hex4()
	if !ok {
		return nil, errSyntax
	}
	if utf16.IsSurrogate(r) {
		if r, ok = sc.lowSurrogate(r); !ok {
			return nil, errSyntax
		}
	}
	return utf8.AppendRune(buf, r), nil
}

// lowSurrogate completes the high surrogate hi with the \uXXXX after it: a
// valid pair becomes one rune; a lone half becomes U+FFFD (what follows is left
// to be read), as encoding/json does. ok is false for a \u without 4 hex digits.
func (sc *scanner) lowSurrogate(hi rune) (r rune, ok bool) {
	if sc.i+1 >= len(sc.s) || sc.s[sc.i] != '\\' || sc.s[sc.i+1] != 'u' {
		return utf8.RuneError, true
	}
	save := sc.i
	sc.i += 2
	lo, ok := sc.hex4()
	if !ok {
		return 0, false
	}
	if d := utf16.DecodeRune(hi, lo); d != utf8.RuneError {
		return d, true
	}
	sc.i = save
	return utf8.RuneError, true
}

func (sc *scanner) hex4() (rune, bool) {
	if sc.i+4 > len(sc.s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(sc.s[sc.i : sc.i+4]) {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	sc.i += 4
	return r, true
}

// number reads a JSON number and returns its text.
func (sc *scanner) number() (string, error) {
	s, start := sc.s, sc.i
	i := start
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		i = digits(s, i+1)
	default:
		return "", errSyntax
	}
	i, ok := fraction(s, i)
	if !ok {
		return "", errSyntax
	}
	if i, ok = exponent(s, i); !ok {
		return "", errSyntax
	}
	sc.i = i
	return s[start:i], nil
}

// digits is the index after the decimal digits of s from i.
func digits(s string, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// fraction reads a number's optional fraction at i: a '.' and at least one
// digit. It returns the index after it; ok is false for a '.' without digits.
func fraction(s string, i int) (int, bool) {
	if i >= len(s) || s[i] != '.' {
		return i, true
	}
	d := digits(s, i+1)
	return d, d > i+1
}

// exponent reads a number's optional exponent at i: 'e' or 'E', an optional
// sign, and at least one digit. It returns the index after it; ok is false for
// an exponent without digits.
func exponent(s string, i int) (int, bool) {
	if i >= len(s) || (s[i] != 'e' && s[i] != 'E') {
		return i, true
	}
	i++
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	d := digits(s, i)
	return d, d > i
}

// literal consumes true, false or null.
func (sc *scanner) literal(word string) bool {
	if len(sc.s)-sc.i >= len(word) && sc.s[sc.i:sc.i+len(word)] == word {
		sc.i += len(word)
		return true
	}
	return false
}

// skip consumes any value, checking its syntax.
func (sc *scanner) skip(depth int) error {
	if depth > maxDepth {
		return errTooDeep
	}
	switch sc.peek() {
	case '"':
		_, err := sc.str()
		return err
	case '{':
		return sc.object(func(string) error { return sc.skip(depth + 1) })
	case '[':
		return sc.array(func() error { return sc.skip(depth + 1) })
	case 't':
		if sc.literal("true") {
			return nil
		}
	case 'f':
		if sc.literal("false") {
			return nil
		}
	case 'n':
		if sc.literal("null") {
			return nil
		}
	default:
		_, err := sc.number()
		return err
	}
	return errSyntax
}

// array walks the elements of an array, calling elem with the scanner at each.
func (sc *scanner) array(elem func() error) error {
	if sc.peek() != '[' {
		return errSyntax
	}
	sc.i++
	if sc.peek() == ']' {
		sc.i++
		return nil
	}
	for {
		sc.ws()
		if err := elem(); err != nil {
			return err
		}
		switch sc.peek() {
		case ',':
			sc.i++
		case ']':
			sc.i++
			return nil
		default:
			return errSyntax
		}
	}
}

// valueKind names the JSON type at the scanner's position, for error messages.
func (sc *scanner) valueKind() string {
	switch sc.peek() {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	default:
		return "number"
	}
}

// rawValue consumes a value and returns its JSON text.
func (sc *scanner) rawValue() (string, error) {
	sc.ws()
	start := sc.i
	if err := sc.skip(0); err != nil {
		return "", err
	}
	return sc.s[start:sc.i], nil
}

// parseNumericDate turns a JSON number into seconds since the epoch, accepting
// fractions as RFC 7519 allows and refusing values no real token carries.
func parseNumericDate(text string) (sec int64, nsec int64, ok bool) {
	// Fast path: a plain non-negative integer, which is what every issuer sends.
	if len(text) > 0 && len(text) <= 12 {
		var n int64
		plain := true
		for i := 0; i < len(text); i++ {
			c := text[i]
			if c < '0' || c > '9' {
				plain = false
				break
			}
			n = n*10 + int64(c-'0')
		}
		if plain {
			return n, 0, n <= maxNumericDate
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || f < 0 || f > maxNumericDate || f != f {
		return 0, 0, false
	}
	sec = int64(f)
	return sec, int64((f - float64(sec)) * 1e9), true
}

// maxNumericDate is the last second of year 9999; later dates are not dates.
const maxNumericDate = 253402300799
