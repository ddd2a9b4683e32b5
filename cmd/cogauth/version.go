package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// buildVersion is the module version and VCS revision the binary was built from.
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" {
		v += " " + rev + modified
	}
	return v
}

type versionOptions struct {
	IO      IOStreams
	Version string
	Output  string
}

func newVersionCmd(a *app) *cobra.Command {
	o := &versionOptions{}
	cmd := &cobra.Command{
		Use:   "version [-o text|json]",
		Short: "Print the version (also: cogauth --version)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.IO, o.Version = a.IO, a.Version
			return runVersion(o)
		},
	}
	addOutputFlag(cmd, &o.Output)
	return cmd
}

// versionLine is what `cogauth version` and `cogauth --version` print.
func versionLine(v string) string {
	if v == "" {
		v = "(devel)"
	}
	return fmt.Sprintf("cogauth %s %s %s/%s", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// versionJSON is `cogauth version -o json`.
type versionJSON struct {
	Version string `json:"version"`
	Go      string `json:"go"`
	OS      string `json:"os"`
	Arch    string `json:"arch"`
}

func runVersion(o *versionOptions) error {
	if err := checkTextOrJSON(o.Output); err != nil {
		return err
	}
	if o.Output == "json" {
		v := o.Version
		if v == "" {
			v = "(devel)"
		}
		return writeJSON(o.IO.Out, versionJSON{Version: v, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH})
	}
	_, err := fmt.Fprintln(o.IO.Out, versionLine(o.Version))
	return err
}
