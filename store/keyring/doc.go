// Package keyring is a store.Store in the OS keyring (Secret Service on Linux, the
// Keychain on macOS, the Credential Manager on Windows, through zalando/go-keyring),
// split across entries where the backend limits their size, and OpenOrFile, which
// falls back to a store.File where no keyring answers, as the GitHub CLI does on
// headless machines. It is a package of its own so that programs that keep
// sessions elsewhere link neither dbus nor wincred.
package keyring
