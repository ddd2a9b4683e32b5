package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/jwt"
)

type decodeOptions struct {
	IO     IOStreams
	Clock  clock.Clock
	Token  string // "" or "-": read from In
	Output string // text or json
}

func newDecodeCmd(a *app) *cobra.Command {
	o := &decodeOptions{}
	cmd := &cobra.Command{
		Use:   "decode [TOKEN|-]",
		Short: "Show a JWT's header and claims (without verifying it)",
		Long: `Decode any JWT, signed in or not, and print its header and payload as JSON. In text
mode the times are also given in words. The token is read from standard input when
it is "-" or absent, so it need not appear in the process list:

  cogauth token | cogauth decode`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.IO, o.Clock = a.IO, a.Clock
			if len(args) == 1 {
				o.Token = args[0]
			}
			return runDecode(o)
		},
	}
	addOutputFlag(cmd, &o.Output)
	return cmd
}

// readToken reads one token from r: surrounding white space and a "Bearer " prefix
// (as copied from a header) are dropped.
func readToken(r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, jwt.MaxTokenSize+1024))
	if err != nil {
		return "", fmt.Errorf("reading the token: %w", err)
	}
	return cleanToken(string(b)), nil
}

// tokenArg is the token a command was given: its argument, or standard input when
// the argument is empty or "-" (so that a token need not appear in the process
// list). No token at all is a usage error.
func tokenArg(arg string, stdin io.Reader) (string, error) {
	raw := cleanToken(arg)
	if arg == "" || arg == "-" {
		var err error
		if raw, err = readToken(stdin); err != nil {
			return "", err
		}
	}
	if raw == "" {
		return "", usagef("no token: pass it as an argument or on standard input")
	}
	return raw, nil
}

func cleanToken(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 7 && strings.EqualFold(s[:7], "bearer ") {
		s = strings.TrimSpace(s[7:])
	}
	return s
}

// decodedJSON is decode's JSON output. The signature is left out: with it, the
// output would be the token itself.
type decodedJSON struct {
	Header  jwt.Header     `json:"header"`
	Payload map[string]any `json:"payload"`
}

func runDecode(o *decodeOptions) error {
	if err := checkTextOrJSON(o.Output); err != nil {
		return err
	}
	raw, err := tokenArg(o.Token, o.IO.In)
	if err != nil {
		return err
	}
	t, err := jwt.Decode(raw)
	if err != nil {
		return err
	}
	out := decodedJSON{Header: t.Header(), Payload: t.Claims().Raw()}
	if o.Output == "json" {
		return writeJSON(o.IO.Out, headerJSON(out))
	}
	hb, _ := json.MarshalIndent(headerJSON(out)["header"], "", "  ")
	pb, err := json.MarshalIndent(out.Payload, "", "  ")
	if err != nil {
		return err
	}
	now := o.Clock.Now()
	c := t.Claims()
	var b strings.Builder
	fmt.Fprintf(&b, "Header:\n%s\nPayload:\n%s\n", hb, pb)
	fmt.Fprintf(&b, "Not verified: decode reads a token, it does not check its signature.\n")
	if c.TokenUse != "" {
		fmt.Fprintf(&b, "Token use:  %s\n", c.TokenUse)
	}
	if !c.Iat.IsZero() {
		fmt.Fprintf(&b, "Issued:     %s (%s)\n", c.Iat.UTC().Format("2006-01-02T15:04:05Z07:00"), inWords(c.Iat, now))
	}
	if !c.AuthTime.IsZero() {
		fmt.Fprintf(&b, "Signed in:  %s (%s)\n", c.AuthTime.UTC().Format("2006-01-02T15:04:05Z07:00"), inWords(c.AuthTime, now))
	}
	if !c.Nbf.IsZero() && c.Nbf.After(now) {
		fmt.Fprintf(&b, "Not before: %s (%s)\n", c.Nbf.UTC().Format("2006-01-02T15:04:05Z07:00"), inWords(c.Nbf, now))
	}
	fmt.Fprintf(&b, "Expires:    %s\n", expiryLine(c.Exp, now))
	_, err = io.WriteString(o.IO.Out, b.String())
	return err
}

// headerJSON renders the header with lower-case JOSE names and without empty
// fields, as the token carries them.
func headerJSON(d decodedJSON) map[string]any {
	h := map[string]any{}
	for k, v := range map[string]string{"alg": d.Header.Alg, "typ": d.Header.Typ, "kid": d.Header.Kid} {
		if v != "" {
			h[k] = v
		}
	}
	return map[string]any{"header": h, "payload": d.Payload}
}
