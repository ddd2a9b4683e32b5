package main

import (
	"encoding/json"
	"io"
)

// checkTextOrJSON refuses an --output other than text or json (exit code 2), before
// the command does any work.
func checkTextOrJSON(format string) error {
	if format != "text" && format != "json" {
		return usagef("unknown output format %q: use text or json", format)
	}
	return nil
}

// writeJSON writes v as every JSON-printing command does: two-space indent, one
// trailing newline, so scripts and people read the same output.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
