package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"
)

// shutdownGrace bounds how long a serving command (emulator, proxy) waits for
// requests in flight once told to stop: long enough for ordinary calls, short
// enough that Ctrl-C feels immediate.
const shutdownGrace = 5 * time.Second

// checkLoopback refuses addresses that are not loopback unless allowed: the emulator
// hands out tokens to anyone and has a clock anyone on loopback can move, and the
// proxy lets anyone who reaches it act as the signed-in user. what names the
// server in the refusal.
func checkLoopback(addr string, allow bool, what string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("--listen %q: %v", addr, err)
	}
	if allow {
		return nil
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return usagef("--listen %q is not a loopback address; add --allow-remote to expose the %s", addr, what)
	}
	return nil
}

// serveUntilDone blocks while a server runs: until ctx ends (Ctrl-C, SIGTERM; see
// signalContext), then it calls shutdown with shutdownGrace to finish, or until
// failed (nil for none) reports that serving stopped on its own, returning that.
func serveUntilDone(ctx context.Context, failed <-chan error, shutdown func(context.Context) error) error {
	select {
	case err := <-failed:
		return err
	case <-ctx.Done():
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	return shutdown(stopCtx)
}

// listenError says that listening on addr failed, why, and which flag chooses
// another address: "cannot listen on 127.0.0.1:9229: address in use — choose
// another with --listen". Errors that are not the listen's come back as they are.
func listenError(addr, flag string, err error) error {
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "listen" {
		return err
	}
	why := op.Err.Error()
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		why = "address in use"
	case errors.Is(err, syscall.EACCES):
		why = "permission denied (ports below 1024 need privileges)"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		why = "no such address on this machine"
	}
	return &humanized{msg: fmt.Sprintf("cannot listen on %s: %s — choose another with %s", addr, why, flag), err: err}
}
