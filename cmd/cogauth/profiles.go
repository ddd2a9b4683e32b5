package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cogauth/cogauth/internal/config"
)

// profileNames returns the profiles in config.toml in name order, the one this
// invocation uses (--profile, COGAUTH_PROFILE, else the default) and the default
// (`profiles use`, else the only profile, else "default"). The current profile is in
// the list even when config.toml lacks it: flags, the environment or an Amplify file
// may configure it.
func (a *app) profileNames() (names []string, current, def string, err error) {
	home, err := a.home()
	if err != nil {
		return nil, "", "", err
	}
	f, err := config.LoadFile(config.ConfigPath(home))
	if err != nil {
		return nil, "", "", err
	}
	def = f.DefaultName()
	current = firstNonEmpty(a.flags.Profile, a.Getenv("COGAUTH_PROFILE"), def)
	for n := range f.Profiles {
		names = append(names, n)
	}
	if !slices.Contains(names, current) {
		names = append(names, current)
	}
	slices.Sort(names)
	return names, current, def, nil
}

// profileJSON is one profile as `profiles -o json` and `configure list -o json`
// print it. Nothing here needs the network: signedIn and username come from the
// local session store.
type profileJSON struct {
	Name    string `json:"name"`
	Current bool   `json:"current"`
	// Default: the profile commands use when neither --profile nor
	// COGAUTH_PROFILE names one.
	Default        bool   `json:"default"`
	UserPoolID     string `json:"userPoolId,omitempty"`
	ClientID       string `json:"clientId,omitempty"`
	IdentityPoolID string `json:"identityPoolId,omitempty"`
	Endpoint       string `json:"endpoint,omitempty"`
	Store          string `json:"store"`
	SignedIn       bool   `json:"signedIn"`
	Username       string `json:"username,omitempty"`
	// Error says why the profile could not be read (a bad setting, an unreadable
	// store); the other fields are then what could be.
	Error string `json:"error,omitempty"`
}

type profilesOptions struct {
	IO     IOStreams
	Output string
}

func newProfilesCmd(a *app) *cobra.Command {
	o := &profilesOptions{}
	cmd := &cobra.Command{
		Use:   "profiles [-o text|json]",
		Short: "List the profiles and which are signed in",
		Long: `List the profiles of $COGAUTH_HOME/config.toml (and the one in use, marked *, even when
only flags or the environment configure it), with their pool and client and the user
each is signed in as. Nothing is sent over the network: see cogauth status for that.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.IO = a.IO
			return runProfiles(cmd.Context(), a, o)
		},
	}
	addOutputFlag(cmd, &o.Output)
	cmd.AddCommand(newProfilesUseCmd(a, nil))
	return cmd
}

type profilesUseOptions struct {
	IO     IOStreams
	Name   string
	Output string
	// Home is $COGAUTH_HOME.
	Home  func() (string, error)
	Quiet bool
}

// profilesUseJSON is what `profiles use -o json` prints.
type profilesUseJSON struct {
	Default string `json:"default"`
	Path    string `json:"path"`
}

// newProfilesUseCmd is `profiles use NAME` (gh auth switch): the profile commands
// use when neither --profile nor COGAUTH_PROFILE names one.
func newProfilesUseCmd(a *app, runF func(*profilesUseOptions) error) *cobra.Command {
	o := &profilesUseOptions{}
	cmd := &cobra.Command{
		Use:   "use NAME",
		Short: "Make NAME the default profile (--profile and COGAUTH_PROFILE still override it)",
		Long: `Record NAME as default_profile in $COGAUTH_HOME/config.toml: commands without
--profile or COGAUTH_PROFILE use it. Without a recorded default, a config.toml with a
single profile makes that one the default, else the profile named "default" is used.`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.completeProfiles,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.IO, o.Name, o.Home, o.Quiet = a.IO, args[0], a.home, a.flags.Quiet
			if runF != nil {
				return runF(o)
			}
			return profilesUseRun(o)
		},
	}
	addOutputFlag(cmd, &o.Output)
	return cmd
}

func profilesUseRun(o *profilesUseOptions) error {
	if err := checkTextOrJSON(o.Output); err != nil {
		return err
	}
	if err := config.ValidateProfileName(o.Name); err != nil {
		return err
	}
	home, err := o.Home()
	if err != nil {
		return err
	}
	path := config.ConfigPath(home)
	f, err := config.LoadFile(path)
	if err != nil {
		return err
	}
	if _, ok := f.Profiles[o.Name]; !ok {
		return &config.UsageError{Msg: fmt.Sprintf("no profile %q in %s (create it with: cogauth configure --profile %s)", o.Name, path, o.Name)}
	}
	f.Default = o.Name
	if err := f.Save(path); err != nil {
		return err
	}
	if o.Output == "json" {
		return writeJSON(o.IO.Out, profilesUseJSON{Default: o.Name, Path: path})
	}
	if !o.Quiet {
		fmt.Fprintf(o.IO.ErrOut, "Default profile is now %s (--profile and COGAUTH_PROFILE still choose another).\n", o.Name)
	}
	return nil
}

func runProfiles(ctx context.Context, a *app, o *profilesOptions) error {
	if err := checkTextOrJSON(o.Output); err != nil {
		return err
	}
	names, current, def, err := a.profileNames()
	if err != nil {
		return err
	}
	out := make([]profileJSON, 0, len(names))
	for _, n := range names {
		p := a.describeProfile(ctx, n, n == current)
		p.Default = n == def
		out = append(out, p)
	}
	if o.Output == "json" {
		return writeJSON(o.IO.Out, struct {
			Profiles []profileJSON `json:"profiles"`
		}{out})
	}
	var b strings.Builder
	for _, p := range out {
		mark := " "
		if p.Current {
			mark = "*"
		}
		state := "not signed in"
		switch {
		case p.Error != "":
			state = "error: " + p.Error
		case p.SignedIn:
			state = "signed in as " + p.Username
		case p.UserPoolID == "" || p.ClientID == "":
			state = "not configured"
		}
		if p.Default {
			state += " (default)"
		}
		pool := p.UserPoolID
		if pool == "" {
			pool = "-"
		}
		fmt.Fprintf(&b, "%s %-16s %-28s %s\n", mark, p.Name, pool, state)
	}
	_, err = fmt.Fprint(o.IO.Out, b.String())
	return err
}

// describeProfile reads what the profile is configured with and whom its session
// (in the local store) belongs to.
func (a *app) describeProfile(ctx context.Context, name string, current bool) profileJSON {
	p := profileJSON{Name: name, Current: current}
	c, err := a.configFor(name)
	if err != nil {
		p.Error = oneLine(err.Error())
		return p
	}
	p.UserPoolID, p.ClientID, p.IdentityPoolID, p.Endpoint, p.Store = c.UserPoolID, c.ClientID, c.IdentityPoolID, c.Endpoint, c.Store
	if c.UserPoolID == "" || c.ClientID == "" {
		return p
	}
	s, err := a.profileStore(ctx, c)
	if err != nil {
		p.Error = oneLine(err.Error())
		return p
	}
	user, err := profileUser(ctx, s, c)
	if err != nil {
		p.Error = oneLine(err.Error())
		return p
	}
	p.SignedIn, p.Username = user != "", user
	return p
}

// newConfigureListCmd is `configure list`: the profiles, as `profiles` shows them.
func newConfigureListCmd(a *app) *cobra.Command {
	o := &profilesOptions{}
	cmd := &cobra.Command{
		Use:   "list [-o text|json]",
		Short: "List the profiles (as cogauth profiles does)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.IO = a.IO
			return runProfiles(cmd.Context(), a, o)
		},
	}
	addOutputFlag(cmd, &o.Output)
	return cmd
}

// newConfigureDeleteCmd is `configure delete NAME`.
func newConfigureDeleteCmd(a *app) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:               "delete NAME",
		Short:             "Delete a profile from $COGAUTH_HOME/config.toml",
		Long:              "Delete a profile. A profile that is signed in is refused: run cogauth logout --profile NAME first, so that its session is revoked rather than left behind.",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.completeProfiles,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkTextOrJSON(output); err != nil {
				return err
			}
			return runConfigureDelete(cmd.Context(), a, args[0], output)
		},
	}
	addOutputFlag(cmd, &output)
	return cmd
}

func runConfigureDelete(ctx context.Context, a *app, name, output string) error {
	if err := config.ValidateProfileName(name); err != nil {
		return err
	}
	home, err := a.home()
	if err != nil {
		return err
	}
	path := config.ConfigPath(home)
	f, err := config.LoadFile(path)
	if err != nil {
		return err
	}
	if _, ok := f.Profiles[name]; !ok {
		return &config.UsageError{Msg: fmt.Sprintf("no profile %q in %s", name, path)}
	}
	if d := a.describeProfile(ctx, name, false); d.SignedIn {
		return fmt.Errorf("profile %q is signed in as %s: run cogauth logout --profile %s first", name, d.Username, name)
	}
	delete(f.Profiles, name)
	if f.Default == name {
		f.Default = ""
	}
	if err := f.Save(path); err != nil {
		return err
	}
	if output == "json" {
		return writeJSON(a.IO.Out, configureJSON{Profile: name, Path: path, Deleted: true})
	}
	a.notef("Profile %q deleted from %s\n", name, path)
	return nil
}

// completeProfiles completes profile names (for --profile and arguments that name
// one).
func (a *app) completeProfiles(_ *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
	names, _, _, err := a.profileNames()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
	}
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// notef writes an informational line on stderr, unless --quiet.
func (a *app) notef(format string, args ...any) {
	if a.flags.Quiet {
		return
	}
	fmt.Fprintf(a.IO.ErrOut, format, args...)
}
