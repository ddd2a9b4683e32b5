package main

import (
	"github.com/spf13/cobra"
)

type completionOptions struct {
	IO    IOStreams
	Shell string
	Root  *cobra.Command
}

func newCompletionCmd(a *app, root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print a shell completion script",
		Long: `Print a shell completion script. For example:

  source <(cogauth completion bash)
  cogauth completion zsh > "${fpath[1]}/_cogauth"
  cogauth completion fish > ~/.config/fish/completions/cogauth.fish`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCompletion(&completionOptions{IO: a.IO, Shell: args[0], Root: root})
		},
	}
}

func runCompletion(o *completionOptions) error {
	switch o.Shell {
	case "bash":
		return o.Root.GenBashCompletionV2(o.IO.Out, true)
	case "zsh":
		return o.Root.GenZshCompletion(o.IO.Out)
	case "fish":
		return o.Root.GenFishCompletion(o.IO.Out, true)
	case "powershell":
		return o.Root.GenPowerShellCompletionWithDesc(o.IO.Out)
	}
	return usagef("unknown shell %q: use bash, zsh, fish or powershell", o.Shell)
}
