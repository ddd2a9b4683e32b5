//go:build !race

package websession

const raceEnabled = false
