package session

import (
	"fmt"

	"github.com/cogauth/cogauth/internal/redact"
)

// Format prints a summary of the Manager (pool, app client, bound user) for
// every verb. It keeps no secret out — its fields' types do that, and the
// reflection test over every exported type passes without it — but a Manager is
// shared and changes under its goroutines: printed by reflection, its caches
// and counters would be read while they are written (a data race).
func (m *Manager) Format(f fmt.State, verb rune) {
	if m == nil {
		redact.Format(f, verb, "session.Manager(nil)")
		return
	}
	pool, client, user := "", "", ""
	if m.cfg.Cognito != nil {
		pool, client = m.cfg.Cognito.UserPoolID(), m.cfg.Cognito.ClientID()
	}
	if u := m.user.Load(); u != nil {
		user = *u
	}
	redact.Format(f, verb, "session.Manager{pool="+pool+" client="+client+" bound="+user+"}")
}
