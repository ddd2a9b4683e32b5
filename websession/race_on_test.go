//go:build race

package websession

const raceEnabled = true
