//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package main

// echoOff does nothing here: term.ReadPassword turns echo off when it reads.
func echoOff(int) error { return nil }
