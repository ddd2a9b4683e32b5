package main

import (
	"io"

	qrcode "github.com/skip2/go-qrcode"
)

// showQR draws uri as a QR code for an authenticator app to scan, in half-block
// characters (two modules a character). Only at a terminal: on a pipe it would
// be noise, and the secret and URI printed with it are what a script keeps.
func showQR(w io.Writer, uri string) {
	q, err := qrcode.New(uri, qrcode.Medium)
	if err != nil {
		return // the secret and URI are printed all the same
	}
	_, _ = io.WriteString(w, q.ToSmallString(false))
}
