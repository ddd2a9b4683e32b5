package session_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/cogauth/cogauth/session"
)

// printing are the methods that only render a value (fmt, slog, encoding): they
// do not count towards a type's API.
var printing = map[string]bool{
	"String": true, "GoString": true, "Format": true, "LogValue": true,
	"MarshalJSON": true, "MarshalText": true, "MarshalBinary": true,
}

// api lists the exported methods of t other than printing.
func api(t reflect.Type) []string {
	var names []string
	for i := range t.NumMethod() {
		if n := t.Method(i).Name; !printing[n] {
			names = append(names, n)
		}
	}
	return names
}

// TestManagerIsTheTokenCache holds the Manager to the token cache: Fetch, token
// sources, sign-in and its next steps, import, sign-out, events, and the views
// (Account, MFA, Passkeys, Devices) over a signed-in session, at most 16
// exported methods besides printing. The views stay small too.
func TestManagerIsTheTokenCache(t *testing.T) {
	const maxMethods = 16
	got := api(reflect.TypeFor[*session.Manager]())
	t.Logf("Manager: %d methods besides printing: %v", len(got), got)
	if len(got) > maxMethods {
		t.Errorf("session.Manager has %d exported methods besides printing, want at most %d: %v", len(got), maxMethods, got)
	}
	for _, v := range []string{"Account", "MFA", "Passkeys", "Devices"} {
		if !slices.Contains(got, v) {
			t.Errorf("session.Manager has no %s view", v)
		}
	}
	for _, view := range []reflect.Type{
		reflect.TypeFor[session.Account](), reflect.TypeFor[session.MFA](),
		reflect.TypeFor[session.Passkeys](), reflect.TypeFor[session.Devices](),
	} {
		names := api(view)
		t.Logf("%s: %d methods: %v", view.Name(), len(names), names)
		if len(names) == 0 || len(names) > maxMethods {
			t.Errorf("session.%s has %d exported methods, want 1 to %d: %v", view.Name(), len(names), maxMethods, names)
		}
		if view.NumField() != 1 || view.Field(0).Type != reflect.TypeFor[*session.Manager]() {
			t.Errorf("session.%s holds more than its Manager: a view has no state of its own", view.Name())
		}
	}
}
