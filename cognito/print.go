package cognito

import (
	"fmt"

	"github.com/cogauth/cogauth/internal/redact"
)

// Format prints a summary of the client (pool, app client, region) for every
// verb. It keeps no secret out (the client secret is boxed; the reflection test
// over every exported type passes without Format), but a Client is shared and
// remembers what the service supports: printed by reflection, that state would
// be read while another goroutine writes it (a data race).
func (c *Client) Format(f fmt.State, verb rune) {
	if c == nil {
		redact.Format(f, verb, "cognito.Client(nil)")
		return
	}
	redact.Format(f, verb, "cognito.Client{pool="+c.opts.UserPoolID+" client="+c.opts.ClientID+" region="+c.opts.Region+"}")
}
