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
	"github.com/cogauth/cogauth/session"
)

type devicesOptions struct {
	IO     IOStreams
	Clock  clock.Clock
	Output string // list: text or json
	Key    string // forget: the device; "" means this session's
	open   func(ctx context.Context) (*profileSession, error)
}

func newDevicesCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "devices list|forget|remember|unremember",
		Short: "List, forget or (un)remember the signed-in user's devices",
		Long: `List the devices the user pool tracks for the signed-in user, forget one, or change
whether one is remembered. A remembered device lets its sign-ins skip MFA; marking it
not remembered ends that but keeps it tracked; forgetting it (a lost laptop) removes it.`,
		Args: cobra.NoArgs,
	}
	lo := &devicesOptions{}
	list := &cobra.Command{
		Use:   "list [-o text|json]",
		Short: "List the user's devices; * marks this session's",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			lo.IO, lo.Clock, lo.open = a.IO, a.Clock, a.open
			return runDevicesList(cmd.Context(), lo)
		},
	}
	addOutputFlag(list, &lo.Output)
	fo := &devicesOptions{}
	forget := &cobra.Command{
		Use:   "forget [DEVICE_KEY]",
		Short: "Forget a device (this session's when no key is given)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fo.IO, fo.Clock, fo.open = a.IO, a.Clock, a.open
			if len(args) == 1 {
				fo.Key = args[0]
			}
			return runDevicesForget(cmd.Context(), fo)
		},
	}
	addOutputFlag(forget, &fo.Output)
	cmd.AddCommand(bounded(list), bounded(forget),
		newDeviceStatusCmd(a, "remember", cognito.DeviceRemembered,
			"Mark a device remembered, so its sign-ins skip MFA (this session's when no key is given)"),
		newDeviceStatusCmd(a, "unremember", cognito.DeviceNotRemembered,
			"Mark a device not remembered: its sign-ins ask for MFA again, but the pool still tracks it"),
	)
	return cmd
}

// newDeviceStatusCmd is `devices remember` or `devices unremember`.
func newDeviceStatusCmd(a *app, name string, status cognito.DeviceStatus, short string) *cobra.Command {
	o := &devicesOptions{}
	cmd := bounded(&cobra.Command{
		Use:   name + " [DEVICE_KEY]",
		Short: short,
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.IO, o.Clock, o.open = a.IO, a.Clock, a.open
			if len(args) == 1 {
				o.Key = args[0]
			}
			return runDevicesStatus(cmd.Context(), o, status)
		},
	})
	addOutputFlag(cmd, &o.Output)
	return cmd
}

// deviceChangeJSON is what `devices forget|remember|unremember -o json` print.
type deviceChangeJSON struct {
	Key string `json:"deviceKey"`
	// Current: the device is this session's.
	Current    bool  `json:"current"`
	Forgotten  bool  `json:"forgotten,omitempty"`
	Remembered *bool `json:"remembered,omitempty"`
}

// deviceJSON is one device as `devices list -o json` prints it.
type deviceJSON struct {
	Key               string            `json:"deviceKey"`
	Name              string            `json:"name,omitempty"`
	Remembered        bool              `json:"remembered"`
	Current           bool              `json:"current"`
	Created           time.Time         `json:"created,omitzero"`
	LastModified      time.Time         `json:"lastModified,omitzero"`
	LastAuthenticated time.Time         `json:"lastAuthenticated,omitzero"`
	Attributes        map[string]string `json:"attributes,omitempty"`
}

func deviceOut(d cognito.DeviceInfo, current string) deviceJSON {
	return deviceJSON{
		Key: d.Key, Name: d.Name, Remembered: d.Remembered, Current: d.Key != "" && d.Key == current,
		Created: d.Created.UTC(), LastModified: d.LastModified.UTC(), LastAuthenticated: d.LastAuthenticated.UTC(),
		Attributes: d.Attributes,
	}
}

func runDevicesList(ctx context.Context, o *devicesOptions) error {
	if err := checkTextOrJSON(o.Output); err != nil {
		return err
	}
	p, err := o.open(ctx)
	if err != nil {
		return err
	}
	defer p.Close()
	current, err := p.deviceKey(ctx)
	if err != nil {
		return err
	}
	devs, err := p.mgr.Devices().List(ctx)
	if err != nil {
		return err
	}
	out := make([]deviceJSON, 0, len(devs))
	for _, d := range devs {
		out = append(out, deviceOut(d, current))
	}
	// Most recently used first: that is the one people look for.
	sort.SliceStable(out, func(i, j int) bool { return out[i].LastAuthenticated.After(out[j].LastAuthenticated) })
	if o.Output == "json" {
		return writeJSON(o.IO.Out, out)
	}
	if len(out) == 0 {
		fmt.Fprintln(o.IO.ErrOut, "No devices: the user pool tracks none for this user.")
		return nil
	}
	now := o.Clock.Now()
	tw := tabwriter.NewWriter(o.IO.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\tDEVICE KEY\tNAME\tREMEMBERED\tLAST SIGN-IN")
	for _, d := range out {
		mark := ""
		if d.Current {
			mark = "*"
		}
		last := "-"
		if !d.LastAuthenticated.IsZero() {
			last = inWords(d.LastAuthenticated, now)
		}
		name := d.Name
		if name == "" {
			name = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", mark, d.Key, sanitize(name), yesNo(d.Remembered), last)
	}
	return tw.Flush()
}

// sanitize keeps a device name (chosen by whoever signed in) from moving the
// terminal's cursor or breaking the table.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, s)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// deviceKey is the key of this machine's device for the profile's user: the one
// the session's tokens were issued to, else the one remembered here; "" for none.
func (p *profileSession) deviceKey(ctx context.Context) (string, error) {
	d, err := p.mgr.Devices().Remembered(ctx)
	switch {
	case errors.Is(err, session.ErrNoDevice):
		return "", nil
	case err != nil:
		return "", mapNotSignedIn(err)
	}
	return d.Key, nil
}

func runDevicesForget(ctx context.Context, o *devicesOptions) error {
	if err := checkTextOrJSON(o.Output); err != nil {
		return err
	}
	p, err := o.open(ctx)
	if err != nil {
		return err
	}
	defer p.Close()
	current, err := p.deviceKey(ctx)
	if err != nil {
		return err
	}
	// The manager also drops this machine's copy of its own device (key, group
	// key, password), so later sign-ins and refreshes stop presenting it.
	err = p.mgr.Devices().Forget(ctx, o.Key)
	if errors.Is(err, session.ErrNoDevice) {
		return usagef("this session has no device: give the DEVICE_KEY to forget (see: cogauth devices list)")
	}
	if err != nil {
		return err
	}
	if o.Output == "json" {
		key := firstNonEmpty(o.Key, current)
		return writeJSON(o.IO.Out, deviceChangeJSON{Key: key, Current: key == current, Forgotten: true})
	}
	if o.Key == "" || o.Key == current {
		fmt.Fprintf(o.IO.ErrOut, "Forgot device %s, this session's: the next sign-in here will ask for MFA again.\n", current)
		return nil
	}
	fmt.Fprintf(o.IO.ErrOut, "Forgot device %s.\n", o.Key)
	return nil
}

func runDevicesStatus(ctx context.Context, o *devicesOptions, status cognito.DeviceStatus) error {
	if err := checkTextOrJSON(o.Output); err != nil {
		return err
	}
	p, err := o.open(ctx)
	if err != nil {
		return err
	}
	defer p.Close()
	key := o.Key
	if key == "" {
		if key, err = p.deviceKey(ctx); err != nil {
			return err
		}
	}
	// With no key, the manager answers ErrNoDevice.
	err = p.mgr.Devices().UpdateStatus(ctx, key, status)
	if errors.Is(err, session.ErrNoDevice) {
		return usagef("this session has no device: give the DEVICE_KEY (see: cogauth devices list)")
	}
	if err != nil {
		return err
	}
	if o.Output == "json" {
		current, err := p.deviceKey(ctx)
		if err != nil {
			return err
		}
		remembered := status == cognito.DeviceRemembered
		return writeJSON(o.IO.Out, deviceChangeJSON{Key: key, Current: key == current, Remembered: &remembered})
	}
	if status == cognito.DeviceRemembered {
		fmt.Fprintf(o.IO.ErrOut, "Device %s is remembered: its sign-ins skip MFA.\n", key)
		return nil
	}
	fmt.Fprintf(o.IO.ErrOut, "Device %s is no longer remembered: its sign-ins ask for MFA again.\n", key)
	return nil
}
