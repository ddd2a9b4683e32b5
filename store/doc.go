// Package store keeps sessions between calls: an interface with versioned,
// compare-and-swap writes, and memory, file and OS-keyring implementations.
package store
