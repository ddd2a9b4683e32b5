package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cogauth/cogauth/clock"
	"github.com/cogauth/cogauth/cognito"
)

type passkeysOptions struct {
	IO     IOStreams
	Clock  clock.Clock
	Output string // list: text or json
	ID     string // delete: the credential
	Yes    bool   // delete: do not ask
	open   func(ctx context.Context) (*profileSession, error)
	ask    func(ctx context.Context, question string) (bool, error)
	call   func(ctx context.Context, fn func(context.Context) error) error // delete: one network step
}

func newPasskeysCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "passkeys list|delete",
		Short: "List or delete the signed-in user's passkeys",
		Long: `List the passkeys (WebAuthn credentials) registered for the signed-in user, or delete
one. A passkey is made by an authenticator (a phone, a security key, the browser's
password manager) talking to a web page of the relying party, whose origin must match
the user pool's relying party ID; a command line cannot do that ceremony, so there is
no "passkeys add": register passkeys from the app (Amplify's associateWebAuthnCredential,
or cogauth's session.Passkeys.Register behind a page of yours).`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			if args[0] == "add" {
				return usagef("a passkey cannot be added from a command line: the authenticator needs a web page of the relying party (see: cogauth passkeys --help)")
			}
			return usagef("unknown command %q for \"cogauth passkeys\": use list or delete", args[0])
		},
	}
	lo := &passkeysOptions{}
	list := &cobra.Command{
		Use:   "list [-o text|json]",
		Short: "List the user's passkeys, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			lo.IO, lo.Clock, lo.open = a.IO, a.Clock, a.open
			return runPasskeysList(cmd.Context(), lo)
		},
	}
	addOutputFlag(list, &lo.Output)
	do := &passkeysOptions{}
	del := &cobra.Command{
		Use:   "delete [--yes] [--] ID",
		Short: "Delete one of the user's passkeys by its ID (see: cogauth passkeys list); asks unless --yes",
		Long: `Delete one of the user's passkeys by its ID (see: cogauth passkeys list); asks unless --yes.
An ID may begin with "-" (IDs are base64url): put "--" before it, as in
cogauth passkeys delete --yes -- -Zk3…`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			do.IO, do.Clock, do.open, do.ID = a.IO, a.Clock, a.open, args[0]
			do.ask = func(ctx context.Context, q string) (bool, error) { return a.prompter(ctx).confirm(q, false) }
			do.call = a.call
			return runPasskeysDelete(cmd.Context(), do)
		},
	}
	del.Flags().BoolVar(&do.Yes, "yes", false, "do not ask")
	addOutputFlag(del, &do.Output)
	// delete may ask first: only its network call is bounded, never the prompt.
	cmd.AddCommand(bounded(list), del)
	return cmd
}

// passkeyJSON is one passkey as `passkeys list -o json` prints it.
type passkeyJSON struct {
	ID             string    `json:"id"`
	FriendlyName   string    `json:"friendlyName,omitempty"`
	RelyingPartyID string    `json:"relyingPartyId"`
	Attachment     string    `json:"attachment,omitempty"`
	Transports     []string  `json:"transports,omitempty"`
	CreatedAt      time.Time `json:"createdAt,omitzero"`
}

func passkeyOut(c cognito.WebAuthnCredential) passkeyJSON {
	return passkeyJSON{
		ID: c.ID, FriendlyName: c.FriendlyName, RelyingPartyID: c.RelyingPartyID,
		Attachment: c.Attachment, Transports: c.Transports, CreatedAt: c.CreatedAt.UTC(),
	}
}

func runPasskeysList(ctx context.Context, o *passkeysOptions) error {
	if err := checkTextOrJSON(o.Output); err != nil {
		return err
	}
	p, err := o.open(ctx)
	if err != nil {
		return err
	}
	defer p.Close()
	creds, err := p.mgr.Passkeys().List(ctx)
	if err != nil {
		return mapNotSignedIn(err)
	}
	out := make([]passkeyJSON, 0, len(creds))
	for _, c := range creds {
		out = append(out, passkeyOut(c))
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	if o.Output == "json" {
		return writeJSON(o.IO.Out, out)
	}
	if len(out) == 0 {
		fmt.Fprintln(o.IO.ErrOut, "No passkeys: none is registered for this user.")
		return nil
	}
	now := o.Clock.Now()
	tw := tabwriter.NewWriter(o.IO.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tRELYING PARTY\tATTACHMENT\tCREATED")
	for _, c := range out {
		created := "-"
		if !c.CreatedAt.IsZero() {
			created = inWords(c.CreatedAt, now)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", sanitize(c.ID), orDash(sanitize(c.FriendlyName)),
			sanitize(c.RelyingPartyID), orDash(sanitize(c.Attachment)), created)
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func runPasskeysDelete(ctx context.Context, o *passkeysOptions) error {
	if err := checkTextOrJSON(o.Output); err != nil {
		return err
	}
	if strings.TrimSpace(o.ID) == "" {
		return usagef("empty passkey ID (see: cogauth passkeys list)")
	}
	p, err := o.open(ctx)
	if err != nil {
		return err
	}
	defer p.Close()
	if !o.Yes {
		ok, err := o.ask(ctx, fmt.Sprintf("Delete passkey %s of user %s?", sanitize(o.ID), p.user))
		if err != nil {
			if errors.Is(err, errNoTerminal) {
				return usagef("deleting a passkey needs --yes when there is no terminal to ask on")
			}
			return err
		}
		if !ok {
			return usagef("not deleted")
		}
	}
	if err := o.call(ctx, func(ctx context.Context) error { return mapNotSignedIn(p.mgr.Passkeys().Delete(ctx, o.ID)) }); err != nil {
		return err
	}
	if o.Output == "json" {
		return writeJSON(o.IO.Out, struct {
			doneJSON
			ID      string `json:"id"`
			Deleted bool   `json:"deleted"`
		}{doneJSON{Status: "done", Profile: p.cfg.Profile, Username: p.user}, o.ID, true})
	}
	fmt.Fprintf(o.IO.ErrOut, "Deleted passkey %s.\n", sanitize(o.ID))
	return nil
}
