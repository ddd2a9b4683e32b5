package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cogauth/cogauth/internal/config"
)

type configureOptions struct {
	IO      IOStreams
	Home    string
	Profile string
	// Given are the settings named on the command line; they are written as they
	// are. Any other setting is asked for when a terminal is present.
	Given   config.Values
	Amplify string
	Output  string
	prompt  *prompter
}

// configureJSON is what `configure -o json` and `configure delete -o json` print.
type configureJSON struct {
	Profile string `json:"profile"`
	Path    string `json:"path"`
	// Written: the profile was written (configure); Deleted: removed (delete).
	Written bool `json:"written,omitempty"`
	Deleted bool `json:"deleted,omitempty"`
}

func newConfigureCmd(a *app) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "configure [--profile NAME] [settings flags] | configure list | configure delete NAME",
		Short: "Write, list or delete profiles in $COGAUTH_HOME/config.toml",
		Long: `Write a profile: the settings given as flags (--user-pool-id, --client-id, …), and on a
terminal, prompts for the others with the current values as defaults. A profile is then
used with --profile NAME or COGAUTH_PROFILE=NAME, or by default: the one chosen with
'cogauth profiles use NAME', else the only profile, else "default". Without --profile,
configure writes the default profile.

  cogauth configure list           the profiles and who is signed in to each
  cogauth configure delete NAME    remove a profile (sign it out first)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkTextOrJSON(output); err != nil {
				return err
			}
			home, err := a.home()
			if err != nil {
				return err
			}
			profile := a.flags.Profile
			if profile == "" {
				profile = a.Getenv("COGAUTH_PROFILE")
			}
			if profile == "" {
				// The default profile: profiles use, else the only one, else "default".
				f, err := config.LoadFile(config.ConfigPath(home))
				if err != nil {
					return err
				}
				profile = f.DefaultName()
			}
			return runConfigure(&configureOptions{
				IO: a.IO, Home: home, Profile: profile, Given: a.flags.Values,
				Amplify: a.flags.AmplifyConfig, Output: output, prompt: a.prompter(cmd.Context()),
			})
		},
	}
	addOutputFlag(cmd, &output)
	cmd.AddCommand(newConfigureListCmd(a), newConfigureDeleteCmd(a))
	return cmd
}

// home is $COGAUTH_HOME without resolving a profile (configure may be creating it).
func (a *app) home() (string, error) {
	c, err := config.Resolve(config.Input{Getenv: a.Getenv, UserHome: a.UserHome})
	if err != nil {
		return "", err
	}
	return c.Home, nil
}

func runConfigure(o *configureOptions) error {
	if err := config.ValidateProfileName(o.Profile); err != nil {
		return err
	}
	path := config.ConfigPath(o.Home)
	f, err := config.LoadFile(path)
	if err != nil {
		return err
	}
	p := f.Profiles[o.Profile]
	if o.applyGiven(&p) == 0 {
		if err := o.ask(&p, path); err != nil {
			return err
		}
	}
	// Check the profile as Resolve would use it, before it is written.
	p.Domain = config.NormalizeDomain(p.Domain)
	c := &config.Config{Values: p.Values, Profile: o.Profile}
	if err := c.Validate(); err != nil {
		return err
	}
	f.Profiles[o.Profile] = p
	if err := f.Save(path); err != nil {
		return err
	}
	if o.Output == "json" {
		return writeJSON(o.IO.Out, configureJSON{Profile: o.Profile, Path: path, Written: true})
	}
	fmt.Fprintf(o.IO.ErrOut, "Profile %q written to %s\n", o.Profile, path)
	return nil
}

// applyGiven sets the settings given as flags (and --amplify-config) in p and
// counts them.
func (o *configureOptions) applyGiven(p *config.Profile) int {
	given := 0
	for _, s := range config.Settings() {
		if v := *s.Field(&o.Given); v != "" {
			*s.Field(&p.Values) = v
			given++
		}
	}
	if o.Amplify != "" {
		p.AmplifyConfig = o.Amplify
		given++
	}
	return given
}

// ask asks for every setting on the terminal, the current value kept on an
// empty answer; without a terminal, nothing given is a usage error.
func (o *configureOptions) ask(p *config.Profile, path string) error {
	if o.prompt == nil || !o.prompt.tty {
		return usagef("nothing to configure: give settings as flags (e.g. --user-pool-id, --client-id) or run on a terminal")
	}
	fmt.Fprintf(o.IO.ErrOut, "Configuring profile %q in %s (empty answer keeps the value shown).\n", o.Profile, path)
	for _, s := range config.Settings() {
		if s.Flag == "refresh-operation" {
			continue // rarely wanted (moto): a flag, not a question
		}
		v, err := o.askSetting(s, *s.Field(&p.Values))
		if err != nil {
			return err
		}
		*s.Field(&p.Values) = v
	}
	return nil
}

// askSetting asks for one setting; the client secret without echo, and
// without showing the current one.
func (o *configureOptions) askSetting(s config.Setting, cur string) (string, error) {
	if s.Flag != "client-secret" {
		return o.prompt.askDefault(s.Name, cur)
	}
	shown := ""
	if cur != "" {
		shown = " [keep current]"
	}
	v, err := o.prompt.secret(fmt.Sprintf("%s%s: ", s.Name, shown))
	if v == "" {
		v = cur
	}
	return v, err
}
