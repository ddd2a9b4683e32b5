package main

import (
	"encoding/json"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/cogauth/cogauth/session"
)

// checkTextOrJSON refuses an --output other than text or json (exit code 2), before
// the command does any work.
func checkTextOrJSON(format string) error {
	if format != "text" && format != "json" {
		return usagef("unknown output format %q: use text or json", format)
	}
	return nil
}

// addOutputFlag adds -o/--output text|json to cmd, with completion of the two
// values.
func addOutputFlag(cmd *cobra.Command, v *string) {
	cmd.Flags().StringVarP(v, "output", "o", "text", "output format: text or json")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
}

// signInJSON is what `login -o json` and `import -o json` print: the session now
// held, without any token.
type signInJSON struct {
	// Status is "done" (a step left for later prints pendingJSON instead).
	Status   string `json:"status"`
	Profile  string `json:"profile"`
	Username string `json:"username"`
	UserSub  string `json:"userSub"`
	// Source is "user-pool" or "hosted-ui", as in `session -o json`.
	Source               string    `json:"source"`
	AccessTokenExpiresAt time.Time `json:"accessTokenExpiresAt"`
}

func signInOut(profile string, s *session.Session) signInJSON {
	return signInJSON{Status: "done", Profile: profile, Username: s.Username, UserSub: s.UserSub, Source: string(s.Source),
		AccessTokenExpiresAt: s.Tokens.Access.ExpiresAt().UTC()}
}

// writeJSON writes v as every JSON-printing command does: two-space indent, one
// trailing newline, so scripts and people read the same output.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
