package hostedui

import (
	"fmt"

	"github.com/cogauth/cogauth/internal/redact"
)

// Format prints a summary of the refresher (app client, default domain) for
// every verb. It keeps no secret out (the client secret is boxed; the
// reflection test over every exported type passes without Format), but a
// Refresher builds clients into a map under its lock: printed by reflection,
// the map would be read while another goroutine writes it (a data race, and a
// fatal error for a map).
func (r *Refresher) Format(f fmt.State, verb rune) {
	if r == nil {
		redact.Format(f, verb, "hostedui.Refresher(nil)")
		return
	}
	domain := ""
	switch {
	case r.opts != nil:
		domain = r.opts.Domain
	case r.client != nil:
		domain = r.client.opts.Domain
	}
	redact.Format(f, verb, "hostedui.Refresher{client="+r.ClientID()+" domain="+domain+"}")
}
