package migrate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// The session file formats of earlier releases: release 1 wrote format 1, whose
// entries were (pool, client, user) triples with the kind in conventions
// (Classify); release 2 wrote format 2, whose entries named a kind and a
// namespace besides.
const (
	release1Format = "cogauth-sessions/1"
	release2Format = "cogauth-sessions/2"
)

// FileEntry is one record of a session file as today's format holds it.
type FileEntry struct {
	Key     string
	Version uint64
	Data    []byte
	Expires int64 // Unix milliseconds; 0: never
}

// oldDoc is the document of formats 1 and 2.
type oldDoc struct {
	Format string     `json:"format"`
	Seq    uint64     `json:"seq"`
	Items  []oldEntry `json:"entries"`
}

type oldEntry struct {
	Kind      string `json:"kind,omitempty"` // format 2 only
	Namespace string `json:"namespace,omitempty"`
	Pool      string `json:"pool"`
	Client    string `json:"client"`
	User      string `json:"user"`
	Version   uint64 `json:"version"`
	Data      []byte `json:"data"`
	Expires   int64  `json:"expires,omitempty"` // format 2 of release 3's first builds
}

// IsOldFile reports whether format names a session file of release 1 or 2.
func IsOldFile(format string) bool { return format == release1Format || format == release2Format }

// File reads a session file of release 1 or 2 strictly and returns its version
// sequence and its records under today's keys. A defect is an error: the caller
// reports the file as corrupt.
func File(b []byte) (seq uint64, entries []FileEntry, err error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var doc oldDoc
	if err := dec.Decode(&doc); err != nil {
		return 0, nil, err
	}
	if dec.More() {
		return 0, nil, errors.New("data after the JSON document")
	}
	if !IsOldFile(doc.Format) {
		return 0, nil, fmt.Errorf("format %q is not of release 1 or 2", doc.Format)
	}
	entries = make([]FileEntry, 0, len(doc.Items))
	for i, it := range doc.Items {
		k, err := oldFileKey(doc.Format, &it)
		if err != nil {
			return 0, nil, fmt.Errorf("entry %d: %w", i, err)
		}
		entries = append(entries, FileEntry{Key: k, Version: it.Version, Data: it.Data, Expires: it.Expires})
	}
	return doc.Seq, entries, nil
}

// oldFileKey is today's key of an entry of a format 1 or 2 file.
func oldFileKey(format string, it *oldEntry) (string, error) {
	if format == release1Format {
		if it.Kind != "" || it.Namespace != "" || it.Expires != 0 {
			return "", fmt.Errorf("a kind or namespace (or expiry) in a %s file", release1Format)
		}
		if k, ok := Release1Key(it.Pool, it.Client, it.User); ok {
			return k, nil
		}
		return "", errors.New("not a well-formed record of release 1: no pool, client or user")
	}
	if Tag(it.Kind) == "" {
		return "", fmt.Errorf("unknown kind %q", it.Kind)
	}
	if k, ok := Key(it.Kind, it.Namespace, it.Pool, it.Client, it.User); ok {
		return k, nil
	}
	return "", fmt.Errorf("not a well-formed %s key of release 2 (no pool, client or user)", it.Kind)
}
