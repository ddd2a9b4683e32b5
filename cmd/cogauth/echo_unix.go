//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package main

import "golang.org/x/sys/unix"

// echoOff turns the terminal's echo off before a secret's prompt is printed, so
// that nothing typed ahead of the read shows on the screen: term.ReadPassword
// turns echo off only once it starts reading, after the prompt is out. The
// caller puts the terminal's state back when the read is over.
func echoOff(fd int) error {
	t, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	if err != nil {
		return err
	}
	t.Lflag &^= unix.ECHO
	return unix.IoctlSetTermios(fd, ioctlSetTermios, t)
}
