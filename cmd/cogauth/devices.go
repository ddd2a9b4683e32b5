package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
	"github.com/spf13/cobra"

	"github.com/cogauth/cogauth/internal/clock"
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
		Use:   "devices list|forget",
		Short: "List or forget the signed-in user's remembered devices",
		Long: `List the devices the user pool tracks for the signed-in user, or forget one. A
remembered device lets its sign-ins skip MFA; forgetting it (a lost laptop) ends that.`,
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
	list.Flags().StringVarP(&lo.Output, "output", "o", "text", "output format: text or json")
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
	cmd.AddCommand(list, forget)
	return cmd
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

func deviceOut(d types.DeviceType, current string) deviceJSON {
	out := deviceJSON{Key: aws.ToString(d.DeviceKey), Attributes: map[string]string{}}
	out.Current = out.Key != "" && out.Key == current
	for _, a := range d.DeviceAttributes {
		out.Attributes[aws.ToString(a.Name)] = aws.ToString(a.Value)
	}
	out.Name = out.Attributes["device_name"]
	// Cognito names it "dev:device_remembered_status"; some documents drop the
	// prefix.
	rs := out.Attributes["dev:device_remembered_status"]
	if rs == "" {
		rs = out.Attributes["device_remembered_status"]
	}
	out.Remembered = rs == "remembered"
	for dst, src := range map[*time.Time]*time.Time{&out.Created: d.DeviceCreateDate, &out.LastModified: d.DeviceLastModifiedDate, &out.LastAuthenticated: d.DeviceLastAuthenticatedDate} {
		if src != nil {
			*dst = src.UTC()
		}
	}
	return out
}

// listDevices reads every page of ListDevices.
func listDevices(ctx context.Context, api *cip.Client, access string) ([]types.DeviceType, error) {
	var all []types.DeviceType
	var next *string
	for page := 0; ; page++ {
		// A service that keeps handing out pagination tokens must not keep us
		// here forever: 100 pages of 60 is far beyond any user's devices.
		if page == 100 {
			return nil, errors.New("ListDevices: too many pages")
		}
		out, err := api.ListDevices(ctx, &cip.ListDevicesInput{AccessToken: aws.String(access), Limit: aws.Int32(60), PaginationToken: next})
		if err != nil {
			return nil, apiError("ListDevices", err)
		}
		all = append(all, out.Devices...)
		if aws.ToString(out.PaginationToken) == "" {
			return all, nil
		}
		next = out.PaginationToken
	}
}

// apiError shortens an SDK error to the operation, Cognito's exception name and
// its message; the SDK's own text adds request IDs and HTTP details on one long
// line. Cognito's messages never contain the access token.
func apiError(op string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return fmt.Errorf("%s: %s: %s: %w", op, ae.ErrorCode(), ae.ErrorMessage(), errAPI)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// errAPI marks errors the service answered (apiError).
var errAPI = errors.New("refused by the service")

func runDevicesList(ctx context.Context, o *devicesOptions) error {
	if o.Output != "text" && o.Output != "json" {
		return usagef("unknown output format %q: use text or json", o.Output)
	}
	p, err := o.open(ctx)
	if err != nil {
		return err
	}
	defer p.Close()
	s, err := p.fetch(ctx, false)
	if err != nil {
		return err
	}
	devs, err := listDevices(ctx, p.cc.API(), s.Tokens.Access.Raw())
	if err != nil {
		return err
	}
	out := make([]deviceJSON, 0, len(devs))
	for _, d := range devs {
		out = append(out, deviceOut(d, s.Tokens.DeviceKey))
	}
	// Most recently used first: that is the one people look for.
	sort.SliceStable(out, func(i, j int) bool { return out[i].LastAuthenticated.After(out[j].LastAuthenticated) })
	if o.Output == "json" {
		enc := json.NewEncoder(o.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
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

func runDevicesForget(ctx context.Context, o *devicesOptions) error {
	p, err := o.open(ctx)
	if err != nil {
		return err
	}
	defer p.Close()
	s, err := p.fetch(ctx, false)
	if err != nil {
		return err
	}
	key := o.Key
	if key == "" {
		if key = s.Tokens.DeviceKey; key == "" {
			return usagef("this session has no device: give the DEVICE_KEY to forget (see: cogauth devices list)")
		}
	}
	in := &cip.ForgetDeviceInput{AccessToken: aws.String(s.Tokens.Access.Raw()), DeviceKey: aws.String(key)}
	if _, err := p.cc.API().ForgetDevice(ctx, in); err != nil {
		return apiError("ForgetDevice", err)
	}
	if key == s.Tokens.DeviceKey {
		fmt.Fprintf(o.IO.ErrOut, "Forgot device %s, this session's: the next sign-in here will ask for MFA again.\n", key)
		return nil
	}
	fmt.Fprintf(o.IO.ErrOut, "Forgot device %s.\n", key)
	return nil
}
